// Pillow's resampling (Image.resize: its separable convolution, filters and fixed-point 8-bit arithmetic, and
// the box reduction it does first for a large reduction with reducing_gap), written again for the browser so
// that the device brings a painting to full size exactly as the server does (stylecore.brush). A canvas's
// drawImage cannot: it resamples 8-bit pixels only, with a filter each browser picks.

export type Filter = "bilinear" | "bicubic" | "lanczos";

const FILTERS: Record<Filter, { support: number; weight(x: number): number }> = {
  bilinear: { support: 1, weight: (x) => Math.max(0, 1 - Math.abs(x)) },
  bicubic: { support: 2, weight: bicubic },
  lanczos: { support: 3, weight: (x) => (x >= -3 && x < 3 ? sinc(x) * sinc(x / 3) : 0) },
};

function bicubic(value: number): number {
  const a = -0.5; // Pillow's (and Keys') bicubic
  const x = Math.abs(value);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = x * Math.PI;
  return Math.sin(px) / px;
}

/** Each output pixel's first input pixel, count, and weights (Pillow's precompute_coeffs). */
interface Coefficients {
  first: Int32Array;
  count: Int32Array;
  weights: Float64Array;
  span: number;
}

function coefficients(inSize: number, in0: number, in1: number, outSize: number, filter: Filter): Coefficients {
  const { support: base, weight } = FILTERS[filter];
  const scale = (in1 - in0) / outSize;
  const filterScale = Math.max(1, scale); // reductions widen the filter: antialiasing
  const support = base * filterScale;
  const span = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float64Array(outSize * span);
  for (let out = 0; out < outSize; out++) {
    const center = in0 + (out + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    let total = 0;
    for (let x = 0; x < hi - lo; x++) {
      const w = weight((x + lo - center + 0.5) / filterScale);
      weights[out * span + x] = w;
      total += w;
    }
    if (total !== 0) for (let x = 0; x < hi - lo; x++) weights[out * span + x]! /= total;
    first[out] = lo;
    count[out] = hi - lo;
  }
  return { first, count, weights, span };
}

/** One float plane (row-major) resized like Pillow's mode "F" (double weights, float32 storage). */
export function resizePlane(plane: Float32Array, width: number, height: number, outWidth: number, outHeight: number, filter: Filter): Float32Array {
  if (width === outWidth && height === outHeight) return plane.slice();
  const across = coefficients(width, 0, width, outWidth, filter);
  const down = coefficients(height, 0, height, outHeight, filter);
  const rowsFrom = down.first[0]!;
  const rowsTo = down.first[outHeight - 1]! + down.count[outHeight - 1]!;
  // The horizontal pass first, over the rows the vertical one reads (Pillow's order).
  let source = plane;
  let sourceRow0 = 0;
  if (outWidth !== width) {
    const rows = rowsTo - rowsFrom;
    const temp = new Float32Array(outWidth * rows);
    for (let y = 0; y < rows; y++) {
      const row = (y + rowsFrom) * width;
      for (let x = 0; x < outWidth; x++) {
        const lo = across.first[x]!;
        const k = x * across.span;
        let sum = 0;
        for (let i = 0; i < across.count[x]!; i++) sum += plane[row + lo + i]! * across.weights[k + i]!;
        temp[y * outWidth + x] = sum;
      }
    }
    source = temp;
    sourceRow0 = rowsFrom;
  }
  if (outHeight === height) return source === plane ? plane.slice() : source;
  const out = new Float32Array(outWidth * outHeight);
  for (let y = 0; y < outHeight; y++) {
    const lo = down.first[y]! - sourceRow0;
    const k = y * down.span;
    for (let x = 0; x < outWidth; x++) {
      let sum = 0;
      for (let i = 0; i < down.count[y]!; i++) sum += source[(lo + i) * outWidth + x]! * down.weights[k + i]!;
      out[y * outWidth + x] = sum;
    }
  }
  return out;
}

/** Pillow's fixed-point precision for 8-bit images: weights are integers of 22 fractional bits. */
const PRECISION_BITS = 22;
const ONE = 2 ** PRECISION_BITS;

function fixedPoint(weights: Float64Array): Float64Array {
  return weights.map((w) => Math.trunc(w < 0 ? w * ONE - 0.5 : w * ONE + 0.5));
}

function clip8(sum: number): number {
  const value = Math.floor(sum / ONE);
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** An RGBA image (alpha ignored, set opaque), as Pillow resizes mode "RGB". */
export interface Rgb8 {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** RGB resized like Pillow's Image.resize(size, filter, reducing_gap): a box reduction by whole factors first
 * where the reduction is over reducingGap times, then the filter over what is left, rounding to 8 bits after
 * each pass as Pillow does. */
export function resizeRgb(image: Rgb8, outWidth: number, outHeight: number, filter: Filter, reducingGap?: number): Rgb8 {
  if (image.width === outWidth && image.height === outHeight) return { ...image, data: image.data.slice() };
  let source = image;
  let box = [0, 0, image.width, image.height];
  if (reducingGap) {
    const fx = Math.trunc(image.width / outWidth / reducingGap) || 1;
    const fy = Math.trunc(image.height / outHeight / reducingGap) || 1;
    if (fx > 1 || fy > 1) {
      source = reduceRgb(image, fx, fy);
      box = [0, 0, Math.fround(image.width / fx), Math.fround(image.height / fy)];
    }
  }
  return resampleRgb(source, box, outWidth, outHeight, filter);
}

// The two passes (here and in resizePlane) are written out: one pass function for both directions and both
// layouts gave the same bytes, 2x slower for RGB in V8 (an 800x600 photo to 2400x1800, lanczos).
function resampleRgb(image: Rgb8, box: number[], outWidth: number, outHeight: number, filter: Filter): Rgb8 {
  const { width, height, data } = image;
  const needAcross = outWidth !== width || box[0] !== 0 || box[2] !== outWidth;
  const needDown = outHeight !== height || box[1] !== 0 || box[3] !== outHeight;
  const across = coefficients(width, box[0]!, box[2]!, outWidth, filter);
  const down = coefficients(height, box[1]!, box[3]!, outHeight, filter);
  const acrossK = fixedPoint(across.weights);
  const downK = fixedPoint(down.weights);
  let rowsFrom = down.first[0]!;
  const rowsTo = down.first[outHeight - 1]! + down.count[outHeight - 1]!;
  let source = data;
  let sourceWidth = width;
  if (needAcross) {
    const rows = rowsTo - rowsFrom;
    const temp = new Uint8ClampedArray(outWidth * rows * 4);
    for (let y = 0; y < rows; y++) {
      const row = (y + rowsFrom) * width;
      for (let x = 0; x < outWidth; x++) {
        const lo = across.first[x]!;
        const k = x * across.span;
        let r = ONE / 2, g = ONE / 2, b = ONE / 2;
        for (let i = 0; i < across.count[x]!; i++) {
          const p = (row + lo + i) * 4;
          const w = acrossK[k + i]!;
          r += data[p]! * w;
          g += data[p + 1]! * w;
          b += data[p + 2]! * w;
        }
        const o = (y * outWidth + x) * 4;
        temp[o] = clip8(r);
        temp[o + 1] = clip8(g);
        temp[o + 2] = clip8(b);
        temp[o + 3] = 255;
      }
    }
    source = temp;
    sourceWidth = outWidth;
  } else {
    rowsFrom = 0;
  }
  if (!needDown) return { data: source === data ? data.slice() : source, width: outWidth, height: outHeight };
  const out = new Uint8ClampedArray(outWidth * outHeight * 4);
  for (let y = 0; y < outHeight; y++) {
    const lo = down.first[y]! - rowsFrom;
    const k = y * down.span;
    for (let x = 0; x < outWidth; x++) {
      let r = ONE / 2, g = ONE / 2, b = ONE / 2;
      for (let i = 0; i < down.count[y]!; i++) {
        const p = ((lo + i) * sourceWidth + x) * 4;
        const w = downK[k + i]!;
        r += source[p]! * w;
        g += source[p + 1]! * w;
        b += source[p + 2]! * w;
      }
      const o = (y * outWidth + x) * 4;
      out[o] = clip8(r);
      out[o + 1] = clip8(g);
      out[o + 2] = clip8(b);
      out[o + 3] = 255;
    }
  }
  return { data: out, width: outWidth, height: outHeight };
}

/** Pillow's Image.reduce: the mean of each fx x fy block (the last ones partial), rounded as its integer maths. */
export function reduceRgb(image: Rgb8, fx: number, fy: number): Rgb8 {
  const { width, height, data } = image;
  const outWidth = Math.ceil(width / fx);
  const outHeight = Math.ceil(height / fy);
  const out = new Uint8ClampedArray(outWidth * outHeight * 4);
  for (let oy = 0; oy < outHeight; oy++) {
    const y0 = oy * fy;
    const y1 = Math.min(height, y0 + fy);
    for (let ox = 0; ox < outWidth; ox++) {
      const x0 = ox * fx;
      const x1 = Math.min(width, x0 + fx);
      const count = (y1 - y0) * (x1 - x0);
      const multiplier = Math.trunc(Math.fround(4294967296 / Math.fround(256 * count)));
      const amend = Math.trunc(count / 2);
      let r = amend, g = amend, b = amend;
      for (let y = y0; y < y1; y++) {
        for (let x = x0; x < x1; x++) {
          const p = (y * width + x) * 4;
          r += data[p]!;
          g += data[p + 1]!;
          b += data[p + 2]!;
        }
      }
      const o = (oy * outWidth + ox) * 4;
      out[o] = Math.floor((r * multiplier) / 2 ** 24);
      out[o + 1] = Math.floor((g * multiplier) / 2 ** 24);
      out[o + 2] = Math.floor((b * multiplier) / 2 ** 24);
      out[o + 3] = 255;
    }
  }
  return { data: out, width: outWidth, height: outHeight };
}
