// The app's view of the API's data. client.ts maps the wire format of openapi.yaml onto these.
import type { ModelFile } from "../device/models";

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
