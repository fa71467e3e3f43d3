// The app's own state, shared by its hooks and components. The API's data is in api/types.ts.
import type { Progress } from "./device/cache";
import type { Style } from "./api/types";
import type { PreparedImage } from "./image/pipeline";

/** The photo on the stage: an upload or a gallery sample, already decoded and prepared for sending. */
export interface Photo {
  /** For the download's file name. */
  name: string;
  /** What the person knows it as: the file's name, or the sample's. */
  label: string;
  previewUrl: string;
  width: number;
  height: number;
  source: { kind: "upload"; prepared: PreparedImage } | { kind: "gallery"; key: string; prepared: PreparedImage };
  /** The file as it came (for its transparency, which the prepared JPEG flattens). */
  original?: Blob;
}

export interface StylizedResult {
  url: string;
  width: number;
  height: number;
  styleName: string;
  artist: string;
  fileName: string;
  bytes: number;
  elapsedMs: number | null;
  roundTripMs: number;
  /** Where it was stylized: on this device (with which onnxruntime-web backend) or on the server. */
  ranOn: "device" | "server";
  backend?: "webgpu" | "wasm";
}

/** Two styles of one network mixed: `share` of the first (the picked style), the rest of `second`. */
export interface Blend {
  second: Style;
  share: number;
}

/** The stylize request's life: nothing asked yet, waiting for the server, or a result to show. */
export type Job =
  | { state: "idle" }
  | { state: "busy"; styleName: string; startedAt: number; runOn?: "device" | "server"; download?: Progress }
  | { state: "done"; result: StylizedResult };
