import { FakeXhr, LIMITS, RESULT, UPLOAD, VIDEO_ID, video } from "../features/video/fakeVideoServer";
import { assertMatchesSchema } from "../test/contract";
import { createApi } from "./client";
import { uploadClip, type VideoUpload } from "./videos";

const upload: VideoUpload = { url: UPLOAD.url, fields: Object.entries(UPLOAD.fields), maxBytes: UPLOAD.max_bytes };
const clip = new File(["mp4 bytes"], "beach.mp4", { type: "video/mp4" });

function send(xhr: FakeXhr, signal?: AbortSignal) {
  const shares: number[] = [];
  const done = uploadClip(upload, clip, (share) => shares.push(share), signal, () => xhr as unknown as XMLHttpRequest);
  return { done, shares };
}

describe("the video routes", () => {
  it("sends the options as the contract says, the signed-in user's token with every route, the limits too", async () => {
    [video({ upload: UPLOAD }), video({ state: "queued" }), video({ state: "done", result: RESULT })].forEach((body) => assertMatchesSchema("Video", body));
    assertMatchesSchema("VideoLimits", LIMITS);
    const answers = [Response.json(LIMITS), Response.json(video({ upload: UPLOAD }), { status: 201 }),
      Response.json(video({ state: "queued" }), { status: 202 }), Response.json(video({ state: "done", result: RESULT })), new Response(null, { status: 204 })];
    const plain = vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => answers.shift()!);
    const signed = vi.fn(async (_url: RequestInfo | URL, _init?: RequestInit) => answers.shift()!);
    const { videos } = createApi("/api", plain as typeof fetch, signed as typeof fetch);
    expect(await videos!.limits()).toEqual({
      maxBytes: 200_000_000, maxDurationS: 60, maxSize: 1280, maxFps: 30, contentTypes: LIMITS.content_types, extensions: [".mov", ".mp4", ".webm"],
    });
    const blend = [{ styleId: "udnie", weight: 0.7 }, { styleId: "great_wave", weight: 0.3 }];
    const created = await videos!.create({ styleId: "udnie", blend, strength: 0.8, keepColours: true, maxSize: 720, file: { bytes: 9, contentType: "video/mp4", name: "beach.mp4" } });
    expect(created.upload).toEqual(upload);
    expect(await videos!.start(VIDEO_ID)).toMatchObject({ id: VIDEO_ID, state: "queued", framesTotal: null });
    expect((await videos!.get(VIDEO_ID)).result).toEqual({
      url: RESULT.url, downloadUrl: RESULT.download_url, bytes: 4_200_000, durationS: 12, frames: 288, width: 640, height: 360, fps: 24, hasAudio: true,
    });
    await videos!.cancel(VIDEO_ID);

    expect(plain.mock.calls).toEqual([]);
    const calls = signed.mock.calls;
    expect(calls.map(([url, init]) => `${init?.method ?? "GET"} ${url}`)).toEqual([
      "GET /api/videos/limits", "POST /api/videos", `POST /api/videos/${VIDEO_ID}/start`, `GET /api/videos/${VIDEO_ID}`, `DELETE /api/videos/${VIDEO_ID}`,
    ]);
    const request = JSON.parse(String(calls[1]![1]?.body));
    assertMatchesSchema("CreateVideoRequest", request);
    expect(request).toEqual({
      blend: [{ style: "udnie", weight: 0.7 }, { style: "great_wave", weight: 0.3 }], strength: 0.8, preserve_color: true, max_size: 720,
      bytes: 9, content_type: "video/mp4", filename: "beach.mp4",
    });
  });

  it("uploads the presigned POST's fields first, in order, then the file last as `file`, with its progress", async () => {
    const xhr = new FakeXhr();
    const { done, shares } = send(xhr);
    expect(xhr.opened).toEqual(["POST", UPLOAD.url]);
    expect(xhr.entries()).toEqual([...Object.entries(UPLOAD.fields), ["file", "file:beach.mp4"]]);
    xhr.progress(3, 9);
    xhr.respond(204);
    await done;
    expect(shares).toEqual([1 / 3, 1]);
  });

  it("reports the storage's refusal with what its XML says", async () => {
    const xhr = new FakeXhr();
    const { done } = send(xhr);
    xhr.respond(400, "<?xml version='1.0'?><Error><Code>EntityTooLarge</Code><Message>Your proposed upload exceeds the maximum allowed size</Message></Error>");
    await expect(done).rejects.toMatchObject({
      code: "upload_failed", status: 400,
      message: "The storage refused the clip (HTTP 400, EntityTooLarge: Your proposed upload exceeds the maximum allowed size).",
    });
  });

  it("aborts the upload when asked", async () => {
    const xhr = new FakeXhr();
    const controller = new AbortController();
    const { done } = send(xhr, controller.signal);
    controller.abort();
    await expect(done).rejects.toMatchObject({ name: "AbortError" });
    expect(xhr.aborted).toBe(true);
  });
});
