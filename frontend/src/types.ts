// The app's own state, shared by its hooks and components. The API's data is in api/types.ts.
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
}

/** The stylize request's life: nothing asked yet, waiting for the server, or a result to show. */
export type Job =
  | { state: "idle" }
  | { state: "busy"; styleName: string; startedAt: number }
  | { state: "done"; result: StylizedResult };
