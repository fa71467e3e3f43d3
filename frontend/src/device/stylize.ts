// A photo's pixels through the transformer network on the device: the style's model file (checked and
// cached), then the whole image in one run, or in tiles that share the whole image's instance-norm
// statistics where it has more pixels than one run should take (stylecore's Stylizer, on the device).
import { fetchCached, type FetchOptions, type FileRef } from "./cache";
import type { Engine } from "./engine";
import { crop, finish, padSymmetric, paste, poolStats, cropGrid, tiles, toPlanar, type Finish, type Planar, type Rgba } from "./pixels";
import { paintingSize, shrinkPhoto, upsamplePainting } from "../image/brush";
import { NORM_STATS_OVERRIDE_INPUT, STYLE_WEIGHTS_INPUT, type SessionInfo } from "./protocol";

/** Where a style's network lives, and which of its styles to use where one file serves several. */
export interface DeviceModel {
  file: FileRef & { sha256: string };
  /** The file's styles in the order of its style_weights input, when it serves several. */
  styles?: string[];
  styleId: string;
  /** A blend of the file's styles (weights summing to 1) instead of styleId alone. */
  mix?: { styleId: string; weight: number }[];
}

// One run at most this many pixels (1024 x 1024 fits); larger images go through tiles (docs/benchmarks.md).
export const DEVICE_WHOLE_PIXELS = 1_100_000;
// The largest image the device takes at all, in tiles (the app's largest side is 2048).
export const DEVICE_MAX_PIXELS = 2048 * 2048;
// The largest photo the full-size option stylizes at its own size, in tiles (a 24-megapixel camera's).
export const DEVICE_FULL_SIZE_MAX_PIXELS = 24_000_000;
export const TILE_MARGIN = 64; // wider than the network's receptive-field radius (54 px), as on the server

const loaded = new WeakMap<Engine, Map<string, Promise<SessionInfo>>>();

/** Downloads (or reads from the cache) and loads the model file once per engine. */
export function ensureModel(engine: Engine, model: DeviceModel, options: FetchOptions = {}): Promise<SessionInfo> {
  let sessions = loaded.get(engine);
  if (!sessions) loaded.set(engine, (sessions = new Map()));
  const key = model.file.sha256;
  let session = sessions.get(key);
  if (!session) {
    session = fetchCached(model.file, options).then(({ bytes }) => engine.load(key, bytes));
    sessions.set(key, session);
    session.catch(() => sessions.delete(key)); // a failed download may be tried again
  }
  return session;
}

/** A multi-style file's weights: one-hot for the style, or the blend's mix; undefined for a one-style file. */
export function styleWeightsFor(info: SessionInfo, model: DeviceModel): Float32Array | undefined {
  if (!info.inputs.includes(STYLE_WEIGHTS_INPUT)) {
    if (model.mix) throw new Error("this model file serves one style: it cannot blend");
    return undefined;
  }
  const order = info.styles ?? model.styles ?? [];
  const weights = new Float32Array(order.length);
  for (const { styleId, weight } of model.mix ?? [{ styleId: model.styleId, weight: 1 }]) {
    const index = order.indexOf(styleId);
    if (index < 0) throw new Error(`the model file serves several styles but does not list “${styleId}”`);
    weights[index] = weight;
  }
  return weights;
}

export interface StylizeOnDevice extends Finish {
  engine: Engine;
  model: DeviceModel;
  photo: Rgba;
  wholePixels?: number;
  fetchOptions?: FetchOptions;
  /** The size of the strokes relative to the picture (image/brush.ts, the API's brush); none: painted at the
   * photo's own size (camera frames, as the server paints video frames). */
  brush?: number;
}

export async function stylizeOnDevice({ engine, model, photo, wholePixels = DEVICE_WHOLE_PIXELS, fetchOptions, brush, ...how }: StylizeOnDevice): Promise<Rgba> {
  const info = await ensureModel(engine, model, fetchOptions);
  if (how.strength === 0) return finish(toPlanar(photo), photo, how); // the photo itself, as on the server
  const run = networkRunner(engine, model, info);
  const stylize = (image: Planar) => image.width * image.height > wholePixels && info.inputs.includes(NORM_STATS_OVERRIDE_INPUT)
    ? runTiled(run, image, wholePixels, fetchOptions?.signal)
    : runWhole(run, image);
  return finish(await paintWithBrush(stylize, photo, brush), photo, how);
}

/** The photo painted at its brush's working size and brought back to its own size (stylecore.brush.paint). */
async function paintWithBrush(stylize: (image: Planar) => Promise<Planar>, photo: Rgba, brush?: number): Promise<Planar> {
  const size = brush === undefined ? photo : paintingSize(photo.width, photo.height, brush);
  if (size.width === photo.width && size.height === photo.height) return stylize(toPlanar(photo));
  const small = shrinkPhoto(photo, size.width, size.height);
  return upsamplePainting(await stylize(toPlanar(small)), small, photo);
}

type Run = (image: Planar, options?: { normStats?: Float32Array; wantStats?: boolean }) => Promise<{ output: Planar; stats?: Float32Array }>;

function networkRunner(engine: Engine, model: DeviceModel, info: SessionInfo): Run {
  const styleWeights = styleWeightsFor(info, model);
  return async (image, { normStats, wantStats } = {}) => {
    const { output, stats } = await engine.run({
      key: model.file.sha256,
      input: image.data.slice(), // the worker takes the buffer; callers keep theirs
      width: image.width,
      height: image.height,
      normStats,
      wantStats,
      styleWeights: styleWeights?.slice(),
    });
    return { output: { data: output, width: image.width, height: image.height }, stats };
  };
}

/** One run; images under 16 px a side are mirrored out first, then cropped back (stylize_whole). */
async function runWhole(run: Run, image: Planar, normStats?: Float32Array): Promise<Planar> {
  const padded = padSymmetric(image);
  const { output } = await run(padded, { normStats });
  return padded === image ? output : crop(output, 0, image.height, 0, image.width);
}

// A cancel stops between two runs of the network (one run cannot be interrupted), so the worker is free
// again within a tile's time rather than the whole photo's.
async function runTiled(run: Run, image: Planar, wholePixels: number, signal?: AbortSignal): Promise<Planar> {
  const [rows, cols] = cropGrid(image.height, image.width, wholePixels);
  const parts: { stats: Float32Array; area: number }[] = [];
  for (let r = 0; r + 1 < rows.length; r++) {
    for (let c = 0; c + 1 < cols.length; c++) {
      signal?.throwIfAborted();
      const part = crop(image, rows[r]!, rows[r + 1]!, cols[c]!, cols[c + 1]!);
      const { stats } = await run(part, { wantStats: true });
      parts.push({ stats: stats!, area: part.width * part.height });
    }
  }
  const normStats = poolStats(parts);
  const tileSize = Math.max(4, Math.floor((Math.sqrt(wholePixels) - 2 * TILE_MARGIN) / 4) * 4);
  const out: Planar = { data: new Float32Array(image.data.length), width: image.width, height: image.height };
  for (const t of tiles(image.height, image.width, tileSize, TILE_MARGIN)) {
    signal?.throwIfAborted();
    const styled = await runWhole(run, crop(image, t.y0, t.y1, t.x0, t.x1), normStats);
    paste(out, styled, t.top, t.left, t.top - t.y0, t.left - t.x0, t.bottom - t.top, t.right - t.left);
  }
  return out;
}
