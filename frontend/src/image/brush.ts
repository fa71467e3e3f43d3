// Brush size in the browser: the API's brush option (its range and default, mirrored from openapi.yaml and
// stylecore/options.py, which a test holds them to) and the server's way of painting with it
// (stylecore/brush.py), so that the device paints the strokes the server paints. A photo is painted with its
// long side at BRUSH_WORKING_SIDE / brush pixels, then brought to full size: bicubic, plus the photo's fine
// detail that the downscale removed, times the local gain of a guided filter (how strongly the painting follows
// the photo's luminance there; He et al., Guided Image Filtering). brush.py explains the method.
import { fitWithin } from "./pipeline";
import { resizePlane, resizeRgb, type Rgb8 } from "./resample";

/** The API's brush: 0.125 (the finest: painted at full size) .. 4 (the broadest), 1 by default. */
export const BRUSH_RANGE = [0.125, 4] as const;
export const DEFAULT_BRUSH = 1;
/** The brush sizes the app offers, finest to broadest (a slider's stops: equal steps look equal on its scale). */
export const BRUSH_STOPS = [0.125, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4] as const;
/** The long side, in pixels, that brush 1 paints at. */
export const BRUSH_WORKING_SIDE = 1024;

// stylecore/brush.py's constants: a 5x5 window at the painting's size, a regulariser in luminance levels
// squared (flat patches get no gain, so noise and JPEG blocks are not amplified), and the gain's bound.
export const GUIDE_RADIUS = 2;
export const GUIDE_EPSILON = 100;
export const GAIN_LIMIT = 2;
const LUMA = [0.299, 0.587, 0.114] as const;

/** The long side a photo is painted at with this brush (options.working_side; Python's round, half to even). */
export function workingSide(brush: number): number {
  return Math.max(1, roundHalfEven(BRUSH_WORKING_SIDE / brush));
}

/** The size a photo of this size is painted at: its own where that is within the working side. */
export function paintingSize(width: number, height: number, brush: number): { width: number; height: number } {
  return fitWithin(width, height, workingSide(brush));
}

/** The photo scaled to the painting size as the server scales it (Lanczos, reducing gap 3). */
export function shrinkPhoto(photo: Rgb8, width: number, height: number): Rgb8 {
  return resizeRgb(photo, width, height, "lanczos", 3);
}

/** A planar painting: 3 planes of height x width, float (the network's output, unclamped). */
export interface PlanarImage {
  data: Float32Array;
  width: number;
  height: number;
}

/** The mean over a (2r+1)^2 window around every pixel, the window shrinking at the borders (brush.box_mean). */
export function boxMean(plane: Float32Array, width: number, height: number, radius: number): Float32Array {
  const rows = new Float64Array(width * height);
  const sums = new Float64Array(Math.max(width, height) + 1);
  for (let y = 0; y < height; y++) {
    meanAlong(plane, y * width, 1, width, radius, sums, rows);
  }
  const out = new Float32Array(width * height);
  for (let x = 0; x < width; x++) meanAlong(rows, x, width, height, radius, sums, out);
  return out;
}

function meanAlong(values: ArrayLike<number>, start: number, stride: number, length: number, radius: number,
  sums: Float64Array, out: { [i: number]: number }) {
  sums[0] = 0;
  for (let i = 0; i < length; i++) sums[i + 1] = sums[i]! + values[start + i * stride]!;
  for (let i = 0; i < length; i++) {
    const high = Math.min(i + radius + 1, length);
    const low = Math.max(i - radius, 0);
    out[start + i * stride] = (sums[high]! - sums[low]!) / (high - low);
  }
}

/** Luminance (BT.601) of RGBA pixels, in float32 as brush.py computes it. */
export function luminance({ data, width, height }: Rgb8): Float32Array {
  const out = new Float32Array(width * height);
  for (let i = 0; i < out.length; i++) {
    out[i] = Math.fround(LUMA[0] * data[4 * i]!) + Math.fround(LUMA[1] * data[4 * i + 1]!) + Math.fround(LUMA[2] * data[4 * i + 2]!);
  }
  return out;
}

/** The guided filter's gain of each painting channel on the guide, smoothed as the filter's output uses it
 * (brush.guided_gain): 3 planes. */
export function guidedGain(guide: Float32Array, painting: PlanarImage): Float32Array {
  const { width, height } = painting;
  const plane = width * height;
  const mean = boxMean(guide, width, height, GUIDE_RADIUS);
  const squares = boxMean(guide.map((g) => g * g), width, height, GUIDE_RADIUS);
  const gains = new Float32Array(3 * plane);
  const gain = new Float32Array(plane);
  for (let c = 0; c < 3; c++) {
    const values = painting.data.subarray(c * plane, (c + 1) * plane);
    const meanValues = boxMean(values, width, height, GUIDE_RADIUS);
    const products = boxMean(guide.map((g, i) => g * values[i]!), width, height, GUIDE_RADIUS);
    for (let i = 0; i < plane; i++) {
      const variance = Math.fround(squares[i]! - Math.fround(mean[i]! * mean[i]!));
      const covariance = Math.fround(products[i]! - Math.fround(mean[i]! * meanValues[i]!));
      const a = Math.fround(covariance / Math.fround(variance + GUIDE_EPSILON));
      gain[i] = a < -GAIN_LIMIT ? -GAIN_LIMIT : a > GAIN_LIMIT ? GAIN_LIMIT : a;
    }
    gains.set(boxMean(gain, width, height, GUIDE_RADIUS), c * plane);
  }
  return gains;
}

/** A painting of `smallPhoto` brought to the size of `photo`: bicubic, plus the photo's lost detail times the
 * local guided gain (brush.upsample_painting). */
export function upsamplePainting(painting: PlanarImage, smallPhoto: Rgb8, photo: Rgb8): PlanarImage {
  const { width, height } = photo;
  const { width: w, height: h } = painting;
  const guide = luminance(smallPhoto);
  const gains = guidedGain(guide, painting);
  const detail = luminance(photo);
  const blurred = resizePlane(guide, w, h, width, height, "bicubic");
  for (let i = 0; i < detail.length; i++) detail[i] = detail[i]! - blurred[i]!;
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let c = 0; c < 3; c++) {
    const base = resizePlane(painting.data.subarray(c * w * h, (c + 1) * w * h), w, h, width, height, "bicubic");
    const gain = resizePlane(gains.subarray(c * w * h, (c + 1) * w * h), w, h, width, height, "bilinear");
    for (let i = 0; i < plane; i++) out[c * plane + i] = base[i]! + Math.fround(gain[i]! * detail[i]!);
  }
  return { data: out, width, height };
}

/** Python's round(): half to even. */
export function roundHalfEven(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}
