// Messages between the page and the inference worker (engine.worker.ts). Buffers travel as transferables.

export type Backend = "webgpu" | "wasm";

export interface InitRequest {
  type: "init";
  backend: Backend;
  threads: number;
  /** The onnxruntime-web WebAssembly binary for that backend, fetched (and cached) by the page. */
  wasmBinary: ArrayBuffer;
}

export interface LoadRequest {
  type: "load";
  key: string;
  model: ArrayBuffer;
}

export interface RunRequest {
  type: "run";
  key: string;
  /** Planar RGB float32 (1, 3, height, width), 0..255. */
  input: Float32Array;
  width: number;
  height: number;
  /** Every instance norm's (2, C) statistics to use instead of the image's own (tiles). */
  normStats?: Float32Array;
  wantStats?: boolean;
  /** A multi-style file's mix of its styles ([S], convex). */
  styleWeights?: Float32Array;
}

export type WorkerRequest = (InitRequest | LoadRequest | RunRequest) & { id: number };

export interface SessionInfo {
  inputs: string[];
  outputs: string[];
  /** A multi-style file's styles, in the order of its style_weights input (its metadata). */
  styles?: string[];
}

export interface RunResult {
  output: Float32Array;
  stats?: Float32Array;
}

export type WorkerReply =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: string };

// The model-file contract (stylecore/modelfiles.py).
export const INPUT = "input";
export const OUTPUT = "output";
export const NORM_STATS_OUTPUT = "norm_stats";
export const NORM_STATS_OVERRIDE_INPUT = "norm_stats_override";
export const NORM_STATS_MIX_INPUT = "norm_stats_mix";
export const STYLE_WEIGHTS_INPUT = "style_weights";
export const STYLES_METADATA_KEY = "styles";
