// The inference worker: onnxruntime-web off the page's thread, so the page stays responsive while a photo
// or a camera frame is stylized. One onnxruntime build per backend (WebGPU, or WebAssembly with SIMD and,
// where the page is cross-origin isolated, threads), loaded on init; sessions are kept by key.
/// <reference lib="webworker" />
import type * as Ort from "onnxruntime-web";
import {
  INPUT,
  NORM_STATS_MIX_INPUT,
  NORM_STATS_OUTPUT,
  NORM_STATS_OVERRIDE_INPUT,
  OUTPUT,
  STYLE_WEIGHTS_INPUT,
  STYLES_METADATA_KEY,
  type InitRequest,
  type RunRequest,
  type WorkerReply,
  type WorkerRequest,
} from "./protocol";
import { exposeInputs, metadataOf } from "./onnxInputs";

type OrtModule = typeof Ort;
let ort: OrtModule | null = null;
let providers: string[] = ["wasm"];
const sessions = new Map<string, { session: Ort.InferenceSession; statsChannels: number; styles?: string[] }>();
const MAX_SESSIONS = 2; // a style's session holds its weights and buffers: keep the last two styles only

async function init({ backend, threads, wasmBinary }: InitRequest) {
  ort = backend === "webgpu" ? await import("onnxruntime-web/webgpu") : await import("onnxruntime-web/wasm");
  ort.env.wasm.wasmBinary = wasmBinary;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.simd = true;
  ort.env.logLevel = "error";
  providers = backend === "webgpu" ? ["webgpu", "wasm"] : ["wasm"];
  return { backend, threads };
}

async function load(key: string, model: ArrayBuffer) {
  if (!ort) throw new Error("the engine is not initialised");
  let entry = sessions.get(key);
  if (!entry) {
    // Inputs with a default (an initializer of the same name) are not inputs to onnxruntime-web: it neither
    // lists nor takes them. Without the style weights among them, every style of a multi-style file ran as its
    // first (the default) and blends could not run at all.
    const exposed = exposeInputs(new Uint8Array(model), [NORM_STATS_OVERRIDE_INPUT, NORM_STATS_MIX_INPUT, STYLE_WEIGHTS_INPUT]);
    const session = await ort.InferenceSession.create(exposed.model, {
      executionProviders: providers,
      graphOptimizationLevel: "all",
    });
    entry = { session, statsChannels: exposed.dims.get(NORM_STATS_OVERRIDE_INPUT)?.[1] ?? 0, styles: stylesOf(new Uint8Array(model)) };
    sessions.set(key, entry);
    for (const [oldKey, old] of sessions) {
      if (sessions.size <= MAX_SESSIONS) break;
      sessions.delete(oldKey);
      void old.session.release();
    }
  }
  return { inputs: [...entry.session.inputNames], outputs: [...entry.session.outputNames], styles: entry.styles };
}

async function run({ key, input, width, height, normStats, wantStats, styleWeights }: RunRequest) {
  const entry = sessions.get(key);
  if (!ort || !entry) throw new Error("the style is not loaded");
  const { session, statsChannels } = entry;
  const feeds: Record<string, Ort.Tensor> = { [INPUT]: new ort.Tensor("float32", input, [1, 3, height, width]) };
  if (normStats) {
    feeds[NORM_STATS_OVERRIDE_INPUT] = new ort.Tensor("float32", normStats, [2, normStats.length / 2]);
    feeds[NORM_STATS_MIX_INPUT] = new ort.Tensor("float32", new Float32Array([1]), []);
  } else if (session.inputNames.includes(NORM_STATS_MIX_INPUT)) {
    // onnxruntime-web asks for every graph input; the server leaves these to their defaults (mix 0).
    const channels = statsChannels;
    feeds[NORM_STATS_OVERRIDE_INPUT] = new ort.Tensor("float32", new Float32Array(2 * channels), [2, channels]);
    feeds[NORM_STATS_MIX_INPUT] = new ort.Tensor("float32", new Float32Array([0]), []);
  }
  if (styleWeights) feeds[STYLE_WEIGHTS_INPUT] = new ort.Tensor("float32", styleWeights, [styleWeights.length]);
  const fetches = wantStats ? [OUTPUT, NORM_STATS_OUTPUT] : [OUTPUT];
  const results = await session.run(feeds, fetches);
  const output = (await results[OUTPUT]!.getData()) as Float32Array;
  const stats = wantStats ? ((await results[NORM_STATS_OUTPUT]!.getData()) as Float32Array) : undefined;
  for (const tensor of Object.values(results)) tensor.dispose();
  return { output, stats };
}

// A multi-style file lists its styles, in the order of style_weights, as JSON under the metadata key `styles`.
function stylesOf(model: Uint8Array): string[] | undefined {
  try {
    const styles: unknown = JSON.parse(metadataOf(model).get(STYLES_METADATA_KEY) ?? "null");
    return Array.isArray(styles) && styles.every((s) => typeof s === "string") ? styles : undefined;
  } catch {
    return undefined;
  }
}

self.onmessage = async (event: MessageEvent<WorkerRequest>) => {
  const request = event.data;
  let reply: WorkerReply;
  const transfer: Transferable[] = [];
  try {
    let value: unknown;
    if (request.type === "init") value = await init(request);
    else if (request.type === "load") value = await load(request.key, request.model);
    else {
      const result = await run(request);
      transfer.push(result.output.buffer as ArrayBuffer);
      if (result.stats) transfer.push(result.stats.buffer as ArrayBuffer);
      value = result;
    }
    reply = { id: request.id, ok: true, value };
  } catch (error) {
    reply = { id: request.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
  (self as unknown as DedicatedWorkerGlobalScope).postMessage(reply, transfer);
};
