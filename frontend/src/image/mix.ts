// Strength and the mask in the browser: a result at a strength under 100%, or with a mask, is the photo and the
// full-strength result mixed pixel by pixel, `w * stylized + (1 - w) * photo` with w = strength * mask, exactly
// what the server computes (stylecore.pipeline.stylize_pixels, on the clamped output, rounded half to even by
// the clamped array). So the app stylizes once at full strength and neither the strength slider nor a mask
// change waits for the server or the device. With a second style on the mask's other side, that side is the
// second style's full-strength result instead of the photo, and the strength mixes the two styles' blend with
// the photo. Without a mask the screen shows the mix with CSS opacity (the same sum); otherwise it shows this mix.
import { resizePlane } from "./resample";

/** Where the style goes, one byte a pixel (255: the style, 0: the photo or the other side), at any size. */
export interface MaskPlane {
  data: Uint8Array;
  width: number;
  height: number;
}

/** The mask as weights 0..1 at the result's size: smoothly resampled (bilinear, antialiased when reduced). */
export function maskAtSize(mask: MaskPlane, width: number, height: number): Float32Array {
  const weights = Float32Array.from(mask.data, (value) => value / 255);
  const sized = resizePlane(weights, mask.width, mask.height, width, height, "bilinear");
  for (let i = 0; i < sized.length; i++) sized[i] = Math.min(1, Math.max(0, sized[i]!));
  return sized;
}

/** What goes into a mix besides the two images: the mask's weights at their size, and the other side's pixels. */
export interface MixWith {
  /** Per pixel 0..1 (maskAtSize), multiplied with the strength; none: the strength everywhere. */
  mask?: Float32Array | null;
  /** The second style's full-strength pixels for the mask's black side, instead of the photo. */
  otherSide?: Uint8ClampedArray | null;
}

/** The mix of RGBA images of one size; alpha is the stylized image's (the photo's, as the server keeps). */
export function mixPixels(photo: Uint8ClampedArray, stylized: Uint8ClampedArray, strength: number, { mask, otherSide }: MixWith = {}): Uint8ClampedArray<ArrayBuffer> {
  if (photo.length !== stylized.length || (otherSide && otherSide.length !== stylized.length) || (mask && mask.length * 4 !== stylized.length)) {
    throw new Error("the photo, the results and the mask differ in size");
  }
  const out = new Uint8ClampedArray(stylized.length);
  for (let i = 0, p = 0; i < out.length; i += 4, p++) {
    const m = mask ? mask[p]! : 1;
    for (let c = i; c < i + 3; c++) {
      if (otherSide) {
        const styles = m * stylized[c]! + (1 - m) * otherSide[c]!;
        out[c] = strength * styles + (1 - strength) * photo[c]!;
      } else {
        const w = strength * m;
        out[c] = w * stylized[c]! + (1 - w) * photo[c]!;
      }
    }
    out[i + 3] = stylized[i + 3]!;
  }
  return out;
}

export interface MixRequest {
  /** The photo as the server or the device read it (the prepared JPEG, or the original for full size). */
  photo: Blob;
  /** The full-strength result. */
  stylized: Blob;
  width: number;
  height: number;
  strength: number;
  /** Where the style goes; none: everywhere. */
  mask?: MaskPlane | null;
  /** The second style's full-strength result, on the mask's black side instead of the photo. */
  otherSide?: Blob | null;
}

/** Makes the mix of a result (the download, and the screen where there is a mask); tests pass a fake (jsdom has
 * no canvas). */
export type Mixer = (request: MixRequest) => Promise<Blob>;

/** The browser's mixer: the images decoded at the result's size (kept, so that the next mask or strength mixes
 * at once), mixed, encoded as the result was. */
export const browserMixer: Mixer = async ({ photo, stylized, width, height, strength, mask, otherSide }) => {
  const [photoPixels, stylizedPixels, otherPixels] = await Promise.all([
    pixelsOf(photo, width, height),
    pixelsOf(stylized, width, height),
    otherSide ? pixelsOf(otherSide, width, height) : null,
  ]);
  const weights = mask ? weightsOf(mask, width, height) : null;
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  if (!context) throw new Error("this browser cannot draw images (no 2D canvas)");
  const mixed = mixPixels(photoPixels, stylizedPixels, strength, { mask: weights, otherSide: otherPixels });
  context.putImageData(new ImageData(mixed, width, height), 0, 0);
  const type = stylized.type === "image/png" ? "image/png" : "image/jpeg";
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("could not encode the result"))), type, 0.9),
  );
};

// Decoded images and resampled masks, kept while their blob or mask lives (a mask edit is a new mask object).
const decoded = new WeakMap<Blob, Map<string, Promise<Uint8ClampedArray>>>();
const resampled = new WeakMap<MaskPlane, Map<string, Float32Array>>();

function weightsOf(mask: MaskPlane, width: number, height: number): Float32Array {
  const sizes = resampled.get(mask) ?? new Map<string, Float32Array>();
  resampled.set(mask, sizes);
  const size = `${width}x${height}`;
  const found = sizes.get(size) ?? maskAtSize(mask, width, height);
  sizes.set(size, found);
  return found;
}

function pixelsOf(blob: Blob, width: number, height: number): Promise<Uint8ClampedArray> {
  const sizes = decoded.get(blob) ?? new Map<string, Promise<Uint8ClampedArray>>();
  decoded.set(blob, sizes);
  const size = `${width}x${height}`;
  let pixels = sizes.get(size);
  if (!pixels) {
    pixels = decode(blob, width, height);
    sizes.set(size, pixels);
    pixels.catch(() => sizes.delete(size));
  }
  return pixels;
}

async function decode(blob: Blob, width: number, height: number): Promise<Uint8ClampedArray> {
  // The prepared photo is already upright ("none"), as the device and the server read it.
  const bitmap = await createImageBitmap(blob, { imageOrientation: "none", premultiplyAlpha: "none", colorSpaceConversion: "none" });
  try {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (!context) throw new Error("this browser cannot draw images (no 2D canvas)");
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, width, height);
    return context.getImageData(0, 0, width, height).data;
  } finally {
    bitmap.close();
  }
}
