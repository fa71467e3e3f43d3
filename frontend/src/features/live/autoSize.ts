// The live frame size chosen from the measured frame rate, where the user has not chosen one: start small,
// step up while the frames keep coming faster than UP_FPS, step down when they come slower than DOWN_FPS.
export const LIVE_SIZES = [256, 384, 512] as const;
export const UP_FPS = 12;
export const DOWN_FPS = 6;
/** A rate counts once it was measured over this long at the current size (the camera's window is 2 s). */
export const MEASURED_MS = 1500;

/** The frame rate the camera measured, at the size it measured it, over how long. */
export interface FrameRate {
  fps: number;
  size: number;
  spanMs: number;
}

export interface AutoSize {
  size: number;
  /** The largest size auto may go back up to: the size below one that was too slow, so it never see-saws. */
  ceiling: number;
}

export const AUTO_START: AutoSize = { size: LIVE_SIZES[0], ceiling: LIVE_SIZES[2] };

/** The next auto size, or `current` itself (the same object) when it stays. */
export function nextAutoSize(current: AutoSize, rate: FrameRate | null): AutoSize {
  if (!rate || rate.size !== current.size || rate.spanMs < MEASURED_MS) return current;
  const at = LIVE_SIZES.indexOf(current.size as (typeof LIVE_SIZES)[number]);
  const up = LIVE_SIZES[at + 1];
  const down = LIVE_SIZES[at - 1];
  if (rate.fps > UP_FPS && up !== undefined && up <= current.ceiling) return { ...current, size: up };
  if (rate.fps < DOWN_FPS && down !== undefined) return { size: down, ceiling: down };
  return current;
}
