// The app's view of the API's data. client.ts maps the wire format of openapi.yaml onto these.

export interface Style {
  id: string;
  name: string;
  artist: string;
  year: number | string | null;
  /** A data: URL (or any image URL), or null when the server has none. */
  thumbnail: string | null;
  /** The style's model files (from its model card), for stylizing on the device. */
  modelFiles?: ModelFile[];
  /** The network file that serves it: styles of one multi-style network can be blended. */
  network?: string;
  blendable?: boolean;
  /** One of this user's own styles (a finished training job): its job's id, for deleting it. */
  ownJobId?: string;
  /** One of this user's own styles: the other styles its file holds (the bundled styles it was trained from),
   * which it blends with. */
  blendsWith?: string[];
}

/** One of a style's model files (from its model card's `model` and `variants`, or a finished training job's):
 * what the device downloads and checks to stylize by itself. */
export interface ModelFile {
  /** "fp32" for the main model, else the variant's name (int8, fp16). */
  variant: string;
  file: string;
  bytes: number | null;
  sha256: string;
  /** A multi-style file's styles, in the order of its style_weights input. */
  styles?: string[];
  /** Where the file is when not under the site's models: the API's training route that serves a user's own
   * style (GET /jobs/{id}/model), which wants the signed-in user's token like the other training routes. */
  url?: string;
}

/** One style's share of a blend (weights are normalised by the server). */
export interface BlendPart {
  styleId: string;
  weight: number;
}

export interface GalleryImage {
  key: string;
  /** A human label, from the key's file name. */
  name: string;
  thumbnail: string | null;
}

export interface StylizeRequest {
  styleId: string;
  /** Instead of styleId alone: a mix of 2 to 4 styles of one network. */
  blend?: BlendPart[];
  /** 0 (the photo) .. 1 (full style). */
  strength: number;
  keepColours: boolean;
  /** Longest side of the result, in pixels. */
  maxSize: number;
  /** The prepared JPEG (upload), or a gallery key the server fetches itself. */
  photo: { kind: "upload"; blob: Blob } | { kind: "gallery"; key: string };
}

export interface StylizeResult {
  blob: Blob;
  width: number;
  height: number;
  /** Server-side inference time, when the API reports it. */
  elapsedMs: number | null;
}

/** A training job's state: queued -> running -> done, or failed or cancelled. */
export type TrainingState = "queued" | "running" | "done" | "failed" | "cancelled";

export interface TrainingProgress {
  step: number;
  totalSteps: number;
  /** The last logged step's losses by name (content, style, tv unweighted; total weighted), or null. */
  losses: Record<string, number> | null;
  /** Seconds left at the recent speed; null while waiting. */
  etaS: number | null;
  elapsedS: number | null;
}

/** A job that learns a user's own style from a painting (POST /styles, GET /jobs/{id}). */
export interface TrainingJob {
  id: string;
  name: string;
  state: TrainingState;
  /** A running job asked to stop: it keeps `running` until it has. */
  cancelRequested: boolean;
  /** The painting, a small JPEG (data: URL), or null. */
  thumbnail: string | null;
  /** When done: the style's id for stylizing (user-<job id>). */
  style: string | null;
  /** When done: the style's ONNX file (from the API), for stylizing on the device. */
  model: ModelFile | null;
  /** Why a failed job failed. */
  error: string | null;
  /** Only from GET /jobs/{id}, POST /styles and DELETE /jobs/{id}. */
  progress?: TrainingProgress;
  /** The newest preview: a fixed photo next to its stylization, as a data: URL. */
  preview?: { step: number; image: string } | null;
}

export interface NewStyle {
  name: string;
  /** The painting's file, sent as it is (any format the API decodes). */
  painting: Blob;
}
