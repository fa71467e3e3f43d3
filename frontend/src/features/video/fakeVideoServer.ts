// For the video tests: the video routes answered by a script, and an XMLHttpRequest that records the form it is
// sent and answers when the test says, both behind the real client code (api/videos.ts). Every answer is checked
// against openapi.yaml by the checker the test passes (test/contract.ts, which reads files: tests only).
import { ApiError } from "../../api/errors";
import type { components } from "../../api/schema";
import { uploadClip, videoRoutes, type Call, type VideoApi } from "../../api/videos";

/** test/contract.ts's assertMatchesSchema. */
export type SchemaCheck = (schema: string, value: unknown) => void;

type Wire = components["schemas"]["Video"];

export const VIDEO_ID = "abcdefghijklmnopqrstuvwxyz";
export const LIMITS = {
  max_bytes: 200_000_000, max_duration_s: 60, max_size: 1280, max_fps: 30,
  content_types: ["video/mp4", "video/quicktime", "video/webm"], extensions: [".mov", ".mp4", ".webm"],
};
export const UPLOAD = {
  url: "http://s3.local/videos-bucket",
  fields: { key: `uploads/${VIDEO_ID}/clip.mp4`, "Content-Type": "video/mp4", policy: "eyJwb2xpY3kiOjF9", "x-amz-signature": "f00d" },
  max_bytes: 200_000_000,
  expires_at: "2026-12-01T11:00:00Z",
};
export const RESULT = {
  url: "http://s3.local/videos-bucket/results/clip.mp4?sig=1", download_url: "http://s3.local/videos-bucket/results/clip.mp4?sig=2&attachment",
  bytes: 4_200_000, duration_s: 12, frames: 288, width: 640, height: 360, fps: 24, has_audio: true,
};

/** A video as the API sends it. */
export function video(fields: Partial<Wire> = {}): Wire {
  return {
    id: VIDEO_ID, state: "uploading", created_at: "2026-12-01T10:00:00Z", started_at: null, finished_at: null,
    options: {}, source: null, frames_done: 0, frames_total: null, seconds_left: null, preview: null, result: null, error: null,
    ...fields,
  };
}

export const running = (done: number, left: number | null) =>
  video({ state: "running", frames_done: done, frames_total: 288, seconds_left: left, preview: "data:image/jpeg;base64,AA==" });

type Answer = () => unknown;

/** The routes' answers by "METHOD /path" (the id as :id); a route without one fails the test. Answers given as a
 * list are used in turn, the last one again. */
export function fakeVideoServer(check: SchemaCheck, answers: Record<string, Answer | Answer[]>) {
  const requests: { route: string; json: unknown; signedIn: boolean }[] = [];
  const xhrs: FakeXhr[] = [];
  const call: Call = async <T>(path: string, init: Parameters<Call>[1] = {}) => {
    const route = `${init.method ?? "GET"} ${path.replace(VIDEO_ID, ":id")}`;
    requests.push({ route, json: init.json, signedIn: init.signedIn === true });
    const script = answers[route];
    if (!script) throw new Error(`this test does not expect ${route}`);
    const answer = Array.isArray(script) ? (script.length > 1 ? script.shift()! : script[0]!) : script;
    try {
      const body = answer();
      if (body !== undefined) check(route.endsWith("/limits") ? "VideoLimits" : "Video", body);
      return body as T;
    } catch (error) {
      if (error instanceof ApiError) check("Error", { error: { code: error.code, message: error.message } });
      throw error;
    }
  };
  const send: typeof uploadClip = (upload, file, onProgress, signal) =>
    uploadClip(upload, file, onProgress, signal, () => {
      const xhr = new FakeXhr();
      xhrs.push(xhr);
      return xhr as unknown as XMLHttpRequest;
    });
  const api: VideoApi = videoRoutes(call, send);
  return { api, requests, xhrs, routes: () => requests.map((r) => r.route) };
}

export const refuse = (code: string, message: string, status: number) => () => {
  throw new ApiError(code, message, status);
};

export class FakeXhr {
  readonly upload = new EventTarget();
  private readonly events = new EventTarget();
  status = 0;
  responseText = "";
  opened: [string, string] | null = null;
  sent: FormData | null = null;
  aborted = false;

  addEventListener(name: string, listener: EventListener) {
    this.events.addEventListener(name, listener);
  }
  open(method: string, url: string) {
    this.opened = [method, url];
  }
  send(body: FormData) {
    this.sent = body;
  }
  abort() {
    this.aborted = true;
    this.events.dispatchEvent(new Event("abort"));
  }
  /** The form's entries in order: names, and the file's name where the value is a file. */
  entries(): [string, string][] {
    return [...this.sent!.entries()].map(([name, value]) => [name, typeof value === "string" ? value : `file:${value.name}`]);
  }
  progress(loaded: number, total: number) {
    this.upload.dispatchEvent(Object.assign(new Event("progress"), { loaded, total, lengthComputable: true }));
  }
  respond(status: number, body = "") {
    this.status = status;
    this.responseText = body;
    this.events.dispatchEvent(new Event("load"));
  }
}
