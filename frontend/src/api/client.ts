// The typed client of the HTTP API. Wire types come from openapi.yaml (src/api/schema.d.ts is
// generated from it by `npm run gen:api`, which build and test run first), so a change to the
// contract that this client does not follow fails the type check.
import { DEFAULT_BRUSH } from "../image/brush";
import { base64ToBlob, blobToBase64 } from "../image/pipeline";
import { ApiError, CLIENT_CODES } from "./errors";
import { finishOf, jobRoutes, type JobsApi } from "./jobs";
import { modelFilesOf } from "./modelFiles";
import type { components } from "./schema";
import type { GalleryImage, NewStyle, Style, StylizeRequest, StylizeResult, TrainingJob } from "./types";
import { videoRoutes, type VideoApi } from "./videos";

type Schemas = components["schemas"];
export type ErrorCode = Schemas["Error"]["error"]["code"];

/** Most gallery pages the app will follow; the gallery is a handful of samples, not an archive. */
const MAX_GALLERY_PAGES = 4;

export interface Api {
  listStyles(signal?: AbortSignal): Promise<Style[]>;
  listGallery(signal?: AbortSignal): Promise<GalleryImage[]>;
  fetchGalleryImage(key: string, signal?: AbortSignal): Promise<Blob>;
  stylize(request: StylizeCall, signal?: AbortSignal): Promise<StylizeResult>;
  /** Your own style: the painting and its name start a training job (202). */
  createStyle(style: NewStyle, signal?: AbortSignal): Promise<TrainingJob>;
  /** Your jobs, oldest first, without progress; each done one's `style` is one of your styles. */
  listJobs(signal?: AbortSignal): Promise<TrainingJob[]>;
  getJob(id: string, signal?: AbortSignal): Promise<TrainingJob>;
  /** Cancels a queued or running job; a running one keeps running with cancelRequested until it stops. */
  cancelJob(id: string, signal?: AbortSignal): Promise<TrainingJob>;
  /** Deletes a finished style (its id, user-<job id>) or an ended job (its id), and all its job made. */
  deleteStyle(id: string, signal?: AbortSignal): Promise<void>;
  /** "Use it now" for a running training job; absent from the tests' fakes of the other routes. */
  jobs?: JobsApi;
  /** The video routes; absent from the tests' fakes of the other routes. */
  videos?: VideoApi;
}

/** A stylize request with the size of its strokes (the API's brush; its default where absent). */
export type StylizeCall = StylizeRequest & { brush?: number };

/** `signedFetch` sends the signed-in user's token (auth/signin's authorizedFetch), for the training routes;
 * without it they go like the public ones (a stack that signs nobody in). */

export function createApi(baseUrl: string, fetchImpl: typeof fetch = (...args) => fetch(...args), signedFetch: typeof fetch = fetchImpl): Api {
  const base = baseUrl.replace(/\/+$/, "");

  // Only the training routes take the user's token: the public ones need none.
  async function call<T>(path: string, init: RequestInit & { json?: unknown; empty?: boolean; signedIn?: boolean } = {}): Promise<T> {
    const { json, empty, signedIn, ...rest } = init;
    let response: Response;
    try {
      response = await (signedIn ? signedFetch : fetchImpl)(`${base}${path}`, {
        ...rest,
        headers: {
          ...(json !== undefined && { "Content-Type": "application/json" }),
          ...(rest.headers as Record<string, string> | undefined),
        },
        body: json === undefined ? rest.body : JSON.stringify(json),
      });
    } catch (error) {
      if (error instanceof DOMException && error.name === "AbortError") throw error;
      throw new ApiError(CLIENT_CODES.network, "The request did not reach the server.");
    }
    if (empty && response.status === 204) return undefined as T;
    const body: unknown = await response.json().catch(() => undefined);
    if (response.ok) {
      if (body === undefined) throw new ApiError(CLIENT_CODES.unexpected, "The server's answer was not JSON.", response.status);
      return body as T;
    }
    throw errorFrom(response.status, body, signedIn);
  }

  return {
    async listStyles(signal) {
      const body = await call<Schemas["StyleList"]>("/styles", { signal });
      return body.styles.map((style) => ({
        id: style.id,
        name: style.name,
        artist: style.artist ?? "Unknown artist",
        year: style.year,
        thumbnail: style.thumbnail,
        modelFiles: modelFilesOf(style),
        network: style.network,
        blendable: style.blendable,
      }));
    },

    async listGallery(signal) {
      const images: GalleryImage[] = [];
      let cursor: string | null = null;
      for (let page = 0; page < MAX_GALLERY_PAGES; page++) {
        const query = new URLSearchParams({ limit: "50" });
        if (cursor) query.set("cursor", cursor);
        const body: Schemas["GalleryList"] = await call<Schemas["GalleryList"]>(`/gallery?${query}`, { signal });
        images.push(...body.images.map((item) => ({ key: item.key, name: item.name, thumbnail: item.url })));
        cursor = body.next_cursor;
        if (!cursor) break;
      }
      return images;
    },

    async fetchGalleryImage(key, signal) {
      const request: Schemas["GalleryImageRequest"] = { key };
      const body = await call<Schemas["GalleryImage"]>("/gallery", { method: "POST", json: request, signal });
      return base64ToBlob(body.image, body.content_type);
    },

    async stylize({ styleId, blend, strength, keepColours, photo, maxSize, brush = DEFAULT_BRUSH }, signal) {
      const common = {
        ...(blend ? { blend: blend.map((part) => ({ style: part.styleId, weight: part.weight })) } : { style: styleId }),
        strength,
        preserve_color: keepColours,
        max_size: maxSize,
        format: "jpeg" as const,
        quality: 90,
        brush,
        protect_faces: false,
      };
      const request: Schemas["StylizeRequest"] =
        photo.kind === "gallery"
          ? { ...common, gallery_key: photo.key }
          : { ...common, image: await blobToBase64(photo.blob) };
      const body = await call<Schemas["StylizeResponse"]>("/stylize", { method: "POST", json: request, signal });
      return {
        blob: base64ToBlob(body.image, body.mime_type),
        width: body.width,
        height: body.height,
        elapsedMs: body.timings.total_ms,
      };
    },

    async createStyle({ name, painting }, signal) {
      const request: Schemas["CreateStyleRequest"] = { name, image: await blobToBase64(painting) };
      return jobFrom(await call<Schemas["Job"]>("/styles", { method: "POST", json: request, signal, signedIn: true }), base);
    },

    async listJobs(signal) {
      const body = await call<Schemas["JobList"]>("/jobs", { signal, signedIn: true });
      return body.jobs.map((job) => jobFrom(job, base));
    },

    async getJob(id, signal) {
      return jobFrom(await call<Schemas["Job"]>(`/jobs/${encodeURIComponent(id)}`, { signal, signedIn: true }), base);
    },

    async cancelJob(id, signal) {
      return jobFrom(await call<Schemas["Job"]>(`/jobs/${encodeURIComponent(id)}`, { method: "DELETE", signal, signedIn: true }), base);
    },

    async deleteStyle(id, signal) {
      await call<void>(`/styles/${encodeURIComponent(id)}`, { method: "DELETE", signal, empty: true, signedIn: true });
    },

    jobs: jobRoutes(call, (job) => jobFrom(job, base)),
    videos: videoRoutes(call),
  };
}

/** A job as the app sees it; `base` is the API's base URL, which the job's model path is under (a training
 * route: its download carries the user's token too). */
function jobFrom(job: Schemas["Job"], base: string): TrainingJob {
  const { progress, preview, model } = job;
  return {
    id: job.id,
    name: job.name,
    state: job.state,
    cancelRequested: job.cancel_requested,
    thumbnail: job.thumbnail,
    style: job.style,
    model: model && {
      variant: model.precision,
      file: model.file,
      bytes: model.bytes,
      sha256: model.sha256,
      url: `${base}${model.url}`,
      ...(model.styles.length > 0 && { styles: model.styles }),
    },
    error: job.error,
    ...finishOf(job),
    ...(progress && {
      progress: {
        step: progress.step,
        totalSteps: progress.total_steps,
        losses: progress.losses,
        etaS: progress.eta_s,
        elapsedS: progress.elapsed_s,
      },
    }),
    ...(preview !== undefined && { preview }),
  };
}

// The API's own errors carry {"error": {"code", "message"}}. Answers from in front of the function
// (API Gateway's 413/429/502/504, a proxy's HTML page) do not, so those are classified by status.
function errorFrom(status: number, body: unknown, signedIn = false): ApiError {
  const error = (body as Partial<Schemas["Error"]> | undefined)?.error;
  if (error && typeof error.code === "string" && typeof error.message === "string") {
    return new ApiError(error.code, error.message, status);
  }
  // 401: the training routes' authorizer, which answers before the function ({"message": "Unauthorized"}); 403
  // {"message": "Forbidden"} from it is a token it refused (expired, revoked): sign in again.
  const refused = signedIn && status === 403 && (body as { message?: unknown } | undefined)?.message === "Forbidden";
  const code =
    status === 401 || refused
      ? "unauthorized"
      : status === 413
        ? "payload_too_large"
        : status === 504
          ? CLIENT_CODES.timeout
          : status === 429
            ? CLIENT_CODES.throttled
            : status >= 500
              ? "internal_error"
              : CLIENT_CODES.unexpected;
  return new ApiError(code, `HTTP ${status}`, status);
}
