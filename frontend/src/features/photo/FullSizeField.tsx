import type { DeviceStylizer } from "../../device/runner";
import { estimateMs, readSpeed } from "../../device/speed";
import type { Where } from "../../device/where";
import type { Photo } from "../../types";

export interface FullSizeOffer {
  /** Shown at all: a device path, and a photo larger than the result the server gives. */
  shown: boolean;
  /** Can be chosen now (not with "On the server", not over the device's limit). */
  available: boolean;
  width: number;
  height: number;
  /** What it will take, said before it starts. */
  hint: string;
}

const HIDDEN: FullSizeOffer = { shown: false, available: false, width: 0, height: 0, hint: "" };

/** The photo at its own size, on this device in tiles, with the time it will take from the last measured run. */
export function fullSizeOffer(photo: Photo | null, device: DeviceStylizer | undefined, where: Where): FullSizeOffer {
  if (!photo?.original || !device || device.state.state === "unavailable") return HIDDEN;
  const { originalWidth: width, originalHeight: height, width: sentWidth, height: sentHeight } = photo.source.prepared;
  const pixels = width * height;
  if (pixels <= sentWidth * sentHeight) return HIDDEN;
  const limit = device.fullSizeMaxPixels ?? device.maxPixels;
  if (pixels > limit) {
    return { shown: true, available: false, width, height, hint: `Larger than the ${Math.round(limit / 1e6)} megapixels this device takes.` };
  }
  if (where === "server") {
    return { shown: true, available: false, width, height, hint: "Full size runs on this device: choose Auto or On this device." };
  }
  const measured = device.msPerMp?.() ?? readSpeed()?.msPerMp ?? null;
  const { ms } = estimateMs(pixels, measured === null ? null : { msPerMp: measured, backend: "wasm" });
  const basis = measured === null ? "a first estimate; this device has not been timed yet" : `at ${(measured / 1000).toFixed(1)} s a megapixel, as measured here`;
  const download = device.state.state === "unknown" ? " The first time, it downloads the 14 MB runtime first." : "";
  return {
    shown: true,
    available: true,
    width,
    height,
    hint: `On this device, in tiles: about ${formatDuration(ms)} (${basis}). Nothing is sent.${download}`,
  };
}

export function formatDuration(ms: number): string {
  const seconds = Math.max(1, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds} s`;
  return `${Math.round(seconds / 60)} min`;
}

export function FullSizeField({ offer, checked, onChange }: { offer: FullSizeOffer; checked: boolean; onChange(value: boolean): void }) {
  if (!offer.shown) return null;
  return (
    <label className="switch full-size">
      <input
        type="checkbox"
        role="switch"
        checked={checked}
        disabled={!offer.available}
        aria-describedby="full-size-hint"
        onChange={(event) => onChange(event.target.checked)}
      />
      <span className="switch__track" aria-hidden="true">
        <span className="switch__thumb" />
      </span>
      <span className="switch__text">
        Full size ({offer.width} × {offer.height})
        <span className="field__hint" id="full-size-hint" data-testid="full-size-hint">
          {offer.hint}
        </span>
      </span>
    </label>
  );
}
