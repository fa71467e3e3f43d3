// The mask as the app paints it: one byte a pixel (255: the style, 0: the photo or the other side), at the
// photo's size held within MASK_MAX_SIDE (soft edges need no more; the mix resamples it to the result's size).
// A soft round brush: full inside half its radius, then a smooth fall to nothing at its edge, so strokes have
// soft edges; stamps take the larger value (painting) or the smaller (erasing), so overlapping stamps along a
// stroke do not build up into hard rims.
import { fitWithin } from "../../image/pipeline";
import type { MaskPlane } from "../../image/mix";

export const MASK_MAX_SIDE = 1024;
/** Where the brush is full; beyond, it falls smoothly to 0 at its radius. */
const HARD_CORE = 0.5;

export type MaskTool = "paint" | "erase";

/** The part of the mask a stamp or stroke changed (for redrawing only that). */
export interface Dirty {
  x: number;
  y: number;
  width: number;
  height: number;
}

export function maskSize(photoWidth: number, photoHeight: number): { width: number; height: number } {
  return fitWithin(photoWidth, photoHeight, MASK_MAX_SIDE);
}

export function filledPlane(width: number, height: number, value: number): MaskPlane {
  return { data: new Uint8Array(width * height).fill(value), width, height };
}

export function invertPlane(plane: MaskPlane): MaskPlane {
  return { ...plane, data: plane.data.map((v) => 255 - v) };
}

/** How much of the brush covers a pixel at `distance` from its centre: 1 in the core, 0 at the radius. */
export function coverage(distance: number, radius: number): number {
  if (distance >= radius) return 0;
  const core = radius * HARD_CORE;
  if (distance <= core) return 1;
  const t = (distance - core) / (radius - core);
  return 1 - t * t * (3 - 2 * t);
}

/** One stamp of the brush at (cx, cy) in mask pixels, in place. */
export function stamp(plane: MaskPlane, cx: number, cy: number, radius: number, tool: MaskTool): Dirty {
  const x0 = Math.max(0, Math.floor(cx - radius));
  const y0 = Math.max(0, Math.floor(cy - radius));
  const x1 = Math.min(plane.width, Math.ceil(cx + radius + 1));
  const y1 = Math.min(plane.height, Math.ceil(cy + radius + 1));
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const cover = coverage(Math.hypot(x + 0.5 - cx, y + 0.5 - cy), radius);
      if (cover === 0) continue;
      const i = y * plane.width + x;
      const value = Math.round(255 * cover);
      plane.data[i] = tool === "paint" ? Math.max(plane.data[i]!, value) : Math.min(plane.data[i]!, 255 - value);
    }
  }
  return { x: x0, y: y0, width: Math.max(0, x1 - x0), height: Math.max(0, y1 - y0) };
}

/** Stamps from `from` to `to`, close enough (a quarter radius apart) that the stroke is smooth. */
export function strokeSegment(plane: MaskPlane, from: { x: number; y: number }, to: { x: number; y: number }, radius: number, tool: MaskTool): Dirty {
  const steps = Math.max(1, Math.ceil(Math.hypot(to.x - from.x, to.y - from.y) / Math.max(0.5, radius / 4)));
  let dirty: Dirty | null = null;
  for (let s = 1; s <= steps; s++) {
    const t = s / steps;
    dirty = union(dirty, stamp(plane, from.x + (to.x - from.x) * t, from.y + (to.y - from.y) * t, radius, tool));
  }
  return dirty!;
}

function union(a: Dirty | null, b: Dirty): Dirty {
  if (!a) return b;
  const x = Math.min(a.x, b.x);
  const y = Math.min(a.y, b.y);
  return { x, y, width: Math.max(a.x + a.width, b.x + b.width) - x, height: Math.max(a.y + a.height, b.y + b.height) - y };
}
