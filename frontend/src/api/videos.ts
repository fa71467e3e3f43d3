// The video routes (openapi.yaml's `video` tag) and the clip's upload. The clip never passes through the API,
// whose bodies stop at 6 MB: POST /videos answers with an S3 presigned POST, which the browser sends the file
// to itself, then asks POST /videos/{id}/start. The routes carry the signed-in user's token like the training
// routes (AWS), the limits too (every raw route of the stack is behind the sign-in authorizer, which also checks
// that the request came through the site); the upload is signed by its own fields.
import { ApiError, CLIENT_CODES } from "./errors";
import type { components } from "./schema";
import type { BlendPart } from "./types";

type Schemas = components["schemas"];

/** What a clip may be (GET /videos/limits), checked in the browser before anything is uploaded. */
export interface VideoLimits {
  maxBytes: number;
  maxDurationS: number;
  /** The result's longest side at most, in pixels. */
  maxSize: number;
  /** Frame rates above it are brought down to it. */
  maxFps: number;
  contentTypes: string[];
  /** With their dots, lower case: ".mp4". */
  extensions: string[];
}

export type VideoState = Schemas["Video"]["state"];
export type VideoContentType = Schemas["CreateVideoRequest"]["content_type"];

export interface VideoResult {
  /** To play it (a presigned GET, valid for an hour). */
  url: string;
  /** The same file, served as an attachment. */
  downloadUrl: string;
  bytes: number;
  durationS: number;
  frames: number;
  width: number;
  height: number;
  fps: number;
  hasAudio: boolean;
}

/** A video job as GET /videos/{id} tells it. */
export interface VideoJob {
  id: string;
  state: VideoState;
  framesDone: number;
  /** Null until started. */
  framesTotal: number | null;
  /** Null before the first frames. */
  secondsLeft: number | null;
  /** The newest stylized frame, a small JPEG data: URL. */
  preview: string | null;
  result: VideoResult | null;
  /** Why a failed job failed. */
  error: string | null;
}

/** Where the clip goes: S3's presigned POST. */
export interface VideoUpload {
  url: string;
  /** Sent before the file, in this order. */
  fields: [string, string][];
  maxBytes: number;
}

export interface NewVideo {
  styleId: string;
  /** Instead of styleId alone: a mix of styles of one network. */
  blend?: BlendPart[];
  strength: number;
  keepColours: boolean;
  /** The result's longest side, in pixels. */
  maxSize: number;
  file: { bytes: number; contentType: VideoContentType; name: string };
}

export interface VideoApi {
  limits(signal?: AbortSignal): Promise<VideoLimits>;
  create(video: NewVideo, signal?: AbortSignal): Promise<{ job: VideoJob; upload: VideoUpload }>;
  /** Sends the clip to the job's presigned POST; `onProgress` gets the share sent, 0..1. */
  upload(upload: VideoUpload, file: Blob, onProgress: (share: number) => void, signal?: AbortSignal): Promise<void>;
  start(id: string, signal?: AbortSignal): Promise<VideoJob>;
  get(id: string, signal?: AbortSignal): Promise<VideoJob>;
  /** Cancels an unfinished job (its files go), or deletes a finished one. */
  cancel(id: string, signal?: AbortSignal): Promise<void>;
}

/** client.ts's request function: JSON in and out, the API's errors as ApiError. */
export type Call = <T>(path: string, init?: RequestInit & { json?: unknown; empty?: boolean; signedIn?: boolean }) => Promise<T>;

export function videoRoutes(call: Call, send: typeof uploadClip = uploadClip): VideoApi {
  const path = (id: string) => `/videos/${encodeURIComponent(id)}`;
  return {
    async limits(signal) {
      return limitsFrom(await call<Schemas["VideoLimits"]>("/videos/limits", { signal, signedIn: true }));
    },
    async create(video, signal) {
      const body = await call<Schemas["Video"]>("/videos", { method: "POST", json: createRequest(video), signal, signedIn: true });
      if (!body.upload) throw new ApiError(CLIENT_CODES.unexpected, "The new video came without its upload.");
      const { url, fields, max_bytes } = body.upload;
      return { job: videoFrom(body), upload: { url, fields: Object.entries(fields), maxBytes: max_bytes } };
    },
    upload: (upload, file, onProgress, signal) => send(upload, file, onProgress, signal),
    async start(id, signal) {
      return videoFrom(await call<Schemas["Video"]>(`${path(id)}/start`, { method: "POST", signal, signedIn: true }));
    },
    async get(id, signal) {
      return videoFrom(await call<Schemas["Video"]>(path(id), { signal, signedIn: true }));
    },
    async cancel(id, signal) {
      await call<unknown>(path(id), { method: "DELETE", signal, empty: true, signedIn: true });
    },
  };
}

function createRequest({ styleId, blend, strength, keepColours, maxSize, file }: NewVideo): Schemas["CreateVideoRequest"] {
  return {
    ...(blend ? { blend: blend.map((part) => ({ style: part.styleId, weight: part.weight })) } : { style: styleId }),
    strength,
    preserve_color: keepColours,
    max_size: maxSize,
    bytes: file.bytes,
    content_type: file.contentType,
    filename: file.name.slice(0, 255),
  };
}

function limitsFrom(body: Schemas["VideoLimits"]): VideoLimits {
  return {
    maxBytes: body.max_bytes,
    maxDurationS: body.max_duration_s,
    maxSize: body.max_size,
    maxFps: body.max_fps,
    contentTypes: body.content_types,
    extensions: body.extensions.map((ext) => (ext.startsWith(".") ? ext : `.${ext}`).toLowerCase()),
  };
}

export function videoFrom(body: Schemas["Video"]): VideoJob {
  const { result } = body;
  return {
    id: body.id,
    state: body.state,
    framesDone: body.frames_done,
    framesTotal: body.frames_total,
    secondsLeft: body.seconds_left,
    preview: body.preview,
    result: result && {
      url: result.url,
      downloadUrl: result.download_url,
      bytes: result.bytes,
      durationS: result.duration_s,
      frames: result.frames,
      width: result.width,
      height: result.height,
      fps: result.fps,
      hasAudio: result.has_audio,
    },
    error: body.error,
  };
}

/** Something that sends a form like XMLHttpRequest (tests pass a fake). */
export type MakeXhr = () => Pick<XMLHttpRequest, "open" | "send" | "abort" | "upload" | "status" | "responseText" | "addEventListener">;

// S3's presigned POST: the policy's fields first, in their order, and the file last under `file` (S3 ignores
// whatever comes after it). XMLHttpRequest, not fetch, because fetch reports no upload progress.
export function uploadClip(
  upload: VideoUpload,
  file: Blob,
  onProgress: (share: number) => void,
  signal?: AbortSignal,
  makeXhr: MakeXhr = () => new XMLHttpRequest(),
): Promise<void> {
  const form = new FormData();
  for (const [name, value] of upload.fields) form.append(name, value);
  form.append("file", file);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new DOMException("aborted", "AbortError"));
    const xhr = makeXhr();
    xhr.upload.addEventListener("progress", (event) => event.lengthComputable && onProgress(event.loaded / event.total));
    xhr.addEventListener("load", () => {
      if (xhr.status < 200 || xhr.status >= 300) return reject(new ApiError("upload_failed", uploadRefusal(xhr.status, xhr.responseText), xhr.status));
      onProgress(1);
      resolve();
    });
    xhr.addEventListener("error", () => reject(new ApiError(CLIENT_CODES.network, "The clip's upload did not reach the storage.")));
    xhr.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError")));
    signal?.addEventListener("abort", () => xhr.abort());
    xhr.open("POST", upload.url);
    xhr.send(form);
  });
}

/** S3 answers a refused upload with XML: <Error><Code>EntityTooLarge</Code><Message>…</Message></Error>. */
function uploadRefusal(status: number, body: string): string {
  const tag = (name: string) => new RegExp(`<${name}>([^<]*)</${name}>`).exec(body)?.[1]?.trim();
  const said = [tag("Code"), tag("Message")].filter(Boolean).join(": ");
  return `The storage refused the clip (HTTP ${status}${said ? `, ${said}` : ""}).`;
}
