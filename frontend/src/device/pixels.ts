// The server's image maths (stylecore: pipeline.stylize_pixels, imaging.transfer_luminance,
// stylizer's padding and tiling), written again for the browser so that a photo stylized on the device
// matches the server's result. Pixels are RGBA bytes as a canvas gives them; the network takes and returns
// planar RGB float32 0..255 (N, 3, H, W), its output unclamped.

/** An image as a canvas's ImageData holds it. */
export interface Rgba {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** Planar RGB float32, 3 x height x width: the network's input and output (batch of one). */
export interface Planar {
  data: Float32Array;
  width: number;
  height: number;
}

// As the server: smaller images are mirrored out to 16 px first (below that, instance norm is noise).
export const PAD_TO_SIDE = 16;

export function toPlanar({ data, width, height }: Rgba): Planar {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) {
    out[i] = data[4 * i]!;
    out[plane + i] = data[4 * i + 1]!;
    out[2 * plane + i] = data[4 * i + 2]!;
  }
  return { data: out, width, height };
}

/** A window of a planar image (rows y0..y1, columns x0..x1, ends excluded). */
export function crop(image: Planar, y0: number, y1: number, x0: number, x1: number): Planar {
  const width = x1 - x0;
  const height = y1 - y0;
  const out = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const from = c * image.width * image.height + (y0 + y) * image.width + x0;
      out.set(image.data.subarray(from, from + width), c * width * height + y * width);
    }
  }
  return { data: out, width, height };
}

/** numpy.pad(mode="symmetric") to at least PAD_TO_SIDE on each side, the original at the top left. */
export function padSymmetric(image: Planar, minSide = PAD_TO_SIDE): Planar {
  const width = Math.max(image.width, minSide);
  const height = Math.max(image.height, minSide);
  if (width === image.width && height === image.height) return image;
  const mirror = (i: number, size: number) => {
    const m = i % (2 * size);
    return m < size ? m : 2 * size - 1 - m;
  };
  const out = new Float32Array(3 * width * height);
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < height; y++) {
      const sy = mirror(y, image.height);
      for (let x = 0; x < width; x++) {
        out[c * width * height + y * width + x] =
          image.data[c * image.width * image.height + sy * image.width + mirror(x, image.width)]!;
      }
    }
  }
  return { data: out, width, height };
}

/** Copies `part`'s window (rows py0.., columns px0..) into `target` at (top, left). */
export function paste(target: Planar, part: Planar, top: number, left: number, py0: number, px0: number, rows: number, cols: number) {
  for (let c = 0; c < 3; c++) {
    for (let y = 0; y < rows; y++) {
      const from = c * part.width * part.height + (py0 + y) * part.width + px0;
      const to = c * target.width * target.height + (top + y) * target.width + left;
      target.data.set(part.data.subarray(from, from + cols), to);
    }
  }
}

export interface Finish {
  /** 0 (the photo) .. 1 (the full style). */
  strength: number;
  /** Keep the photo's colours: the style's luminance with the photo's chroma. */
  keepColours: boolean;
}

/**
 * The network's output made into the result, as stylecore.pipeline.stylize_pixels does: keep colours
 * (full-range BT.601 luminance transfer), then the strength blend over the clamped output, then round
 * half to even and clamp (a Uint8ClampedArray does both). The photo's alpha is kept.
 */
export function finish(stylized: Planar, photo: Rgba, { strength, keepColours }: Finish): Rgba {
  const { width, height } = photo;
  const plane = width * height;
  const out = new Uint8ClampedArray(4 * plane);
  const s = stylized.data;
  for (let i = 0; i < plane; i++) {
    const pr = photo.data[4 * i]!;
    const pg = photo.data[4 * i + 1]!;
    const pb = photo.data[4 * i + 2]!;
    out[4 * i + 3] = photo.data[4 * i + 3]!;
    if (strength === 0) {
      out[4 * i] = pr;
      out[4 * i + 1] = pg;
      out[4 * i + 2] = pb;
      continue;
    }
    let r = s[i]!;
    let g = s[plane + i]!;
    let b = s[2 * plane + i]!;
    if (keepColours) {
      const y = 0.299 * r + 0.587 * g + 0.114 * b;
      const cb = -0.168736 * pr - 0.331264 * pg + 0.5 * pb;
      const cr = 0.5 * pr - 0.418688 * pg - 0.081312 * pb;
      r = y + 1.402 * cr;
      g = y - 0.344136 * cb - 0.714136 * cr;
      b = y + 1.772 * cb;
    }
    if (strength < 1) {
      r = strength * clamp255(r) + (1 - strength) * pr;
      g = strength * clamp255(g) + (1 - strength) * pg;
      b = strength * clamp255(b) + (1 - strength) * pb;
    }
    out[4 * i] = r;
    out[4 * i + 1] = g;
    out[4 * i + 2] = b;
  }
  return { data: out, width, height };
}

function clamp255(value: number): number {
  return value < 0 ? 0 : value > 255 ? 255 : value;
}

/** Row and column edges of the fewest near-equal crops of at most maxPixels each (stylizer.crop_grid). */
export function cropGrid(height: number, width: number, maxPixels: number): [number[], number[]] {
  const count = Math.max(1, Math.ceil((height * width) / maxPixels));
  let rows = Math.max(1, pyRound(Math.sqrt((count * height) / width)));
  let cols = Math.max(1, Math.ceil(count / rows));
  while (Math.ceil(height / rows) * Math.ceil(width / cols) > maxPixels) {
    if (height / rows >= width / cols) rows += 1;
    else cols += 1;
  }
  const edges = (size: number, n: number) => Array.from({ length: n + 1 }, (_, i) => pyRound((i * size) / n));
  return [edges(height, rows), edges(width, cols)];
}

/** Python's round(): half to even. */
function pyRound(value: number): number {
  const floor = Math.floor(value);
  const diff = value - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

export interface Tile {
  /** The part of the result this tile gives. */
  top: number;
  left: number;
  bottom: number;
  right: number;
  /** What the network sees: the core with `margin` of context on each side, within the image. */
  y0: number;
  x0: number;
  y1: number;
  x1: number;
}

/** Overlapping tiles as stylizer.stylize_tiled cuts them (tile size and margin multiples of 4). */
export function tiles(height: number, width: number, tileSize: number, margin: number): Tile[] {
  if (tileSize % 4 || margin % 4) throw new Error("tile size and margin must be multiples of 4");
  const out: Tile[] = [];
  for (let top = 0; top < height; top += tileSize) {
    for (let left = 0; left < width; left += tileSize) {
      const bottom = Math.min(top + tileSize, height);
      const right = Math.min(left + tileSize, width);
      out.push({
        top, left, bottom, right,
        y0: Math.max(0, top - margin), x0: Math.max(0, left - margin),
        y1: Math.min(height, bottom + margin), x1: Math.min(width, right + margin),
      });
    }
  }
  return out;
}

/**
 * Instance-norm statistics of several crops pooled as if over one image: each crop's (2, C) [means;
 * variances] weighted by its area, through E[x] and E[x^2] (stylizer.global_norm_stats, "pooled").
 */
export function poolStats(parts: { stats: Float32Array; area: number }[]): Float32Array {
  const channels = parts[0]!.stats.length / 2;
  const sumMean = new Float64Array(channels);
  const sumSquare = new Float64Array(channels);
  let area = 0;
  for (const { stats, area: n } of parts) {
    for (let c = 0; c < channels; c++) {
      const mean = stats[c]!;
      sumMean[c]! += n * mean;
      sumSquare[c]! += n * (stats[channels + c]! + mean * mean);
    }
    area += n;
  }
  const out = new Float32Array(2 * channels);
  for (let c = 0; c < channels; c++) {
    const mean = sumMean[c]! / area;
    out[c] = mean;
    out[channels + c] = Math.max(sumSquare[c]! / area - mean * mean, 0);
  }
  return out;
}

/** PSNR in dB of two RGBA images of one size, over RGB (what the tests and benchmarks report). */
export function psnr(a: Uint8ClampedArray, b: Uint8ClampedArray): number {
  let sum = 0;
  let count = 0;
  for (let i = 0; i < a.length; i++) {
    if (i % 4 === 3) continue;
    const d = a[i]! - b[i]!;
    sum += d * d;
    count++;
  }
  return sum === 0 ? Infinity : 10 * Math.log10((255 * 255) / (sum / count));
}
