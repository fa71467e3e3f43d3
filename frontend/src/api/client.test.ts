import { assertMatchesSchema } from "../test/contract";
import { createApi } from "./client";
import { ApiError } from "./errors";

type Call = { url: string; init: RequestInit };

/** A fetch that records each request and answers from a queue of responses. */
function fakeFetch(...responses: Response[]) {
  const calls: Call[] = [];
  const impl = async (input: RequestInfo | URL, init: RequestInit = {}) => {
    calls.push({ url: String(input), init });
    const next = responses.shift();
    if (!next) throw new Error("no more responses");
    return next;
  };
  return { calls, impl: impl as typeof fetch };
}

const style = { id: "starry_night", name: "The Starry Night", artist: "Vincent van Gogh", year: 1889, thumbnail: null };
const stylized = {
  image: btoa("JPEGBYTES"),
  format: "jpeg",
  mime_type: "image/jpeg",
  width: 640,
  height: 480,
  style: "starry_night",
  strength: 0.8,
  preserve_color: true,
  quality: 90,
  timings: { decode_ms: 3, inference_ms: 400, encode_ms: 5, total_ms: 412 },
};

const JOB_ID = "x6ipsoziz7rpfkqjb7d5mfm644";
const job = (fields: Record<string, unknown>) => ({
  id: JOB_ID, name: "My watercolour", state: "queued", created_at: "2026-12-01T10:00:00Z", started_at: null, finished_at: null,
  cancel_requested: false, finish_requested: false, finished_early_at_step: null, thumbnail: "data:image/jpeg;base64,AA==",
  style: null, model: null, error: null, ...fields,
});

describe("the API client", () => {
  it("lists styles, naming an unknown artist", async () => {
    const body = { styles: [style, { ...style, id: "anon", artist: null, year: "c. 1830", thumbnail: "data:image/jpeg;base64,AA==" }] };
    assertMatchesSchema("StyleList", body);
    const { calls, impl } = fakeFetch(Response.json(body));
    const styles = await createApi("https://api.example.com/prod/", impl).listStyles();
    expect(calls[0]!.url).toBe("https://api.example.com/prod/styles");
    expect(styles.map((s) => s.artist)).toEqual(["Vincent van Gogh", "Unknown artist"]);
    expect(styles[1]).toMatchObject({ year: "c. 1830", thumbnail: "data:image/jpeg;base64,AA==" });
  });

  it("follows gallery pages to the end", async () => {
    const item = (key: string) => ({
      key,
      name: key.split("/").pop()!,
      size: 1000,
      last_modified: "2026-01-01T00:00:00Z",
      content_type: "image/jpeg",
      url: `http://s3.local/${key}?sig=1`,
    });
    const pages = [
      { images: [item("gallery/a.jpg")], next_cursor: "c1" },
      { images: [item("gallery/b.jpg")], next_cursor: null },
    ];
    pages.forEach((page) => assertMatchesSchema("GalleryList", page));
    const { calls, impl } = fakeFetch(...pages.map((page) => Response.json(page)));
    const gallery = await createApi("/api", impl).listGallery();
    expect(gallery).toEqual([
      { key: "gallery/a.jpg", name: "a.jpg", thumbnail: "http://s3.local/gallery/a.jpg?sig=1" },
      { key: "gallery/b.jpg", name: "b.jpg", thumbnail: "http://s3.local/gallery/b.jpg?sig=1" },
    ]);
    expect(calls.map((call) => call.url)).toEqual(["/api/gallery?limit=50", "/api/gallery?limit=50&cursor=c1"]);
  });

  it("fetches a gallery image by key as a typed blob", async () => {
    const body = { key: "gallery/a.png", image: btoa("PNGDATA"), content_type: "image/png", size: 7 };
    assertMatchesSchema("GalleryImage", body);
    const { calls, impl } = fakeFetch(Response.json(body));
    const blob = await createApi("/api", impl).fetchGalleryImage("gallery/a.png");
    expect(blob.type).toBe("image/png");
    expect(await blob.text()).toBe("PNGDATA");
    expect(calls[0]!.init.method).toBe("POST");
    const sent = JSON.parse(String(calls[0]!.init.body));
    assertMatchesSchema("GalleryImageRequest", sent);
    expect(sent).toEqual({ key: "gallery/a.png" });
  });

  it("sends an upload as base64 in a request the contract accepts", async () => {
    assertMatchesSchema("StylizeResponse", stylized);
    const { calls, impl } = fakeFetch(Response.json(stylized));
    const photo = new Blob(["\xff\xd8 photo bytes"], { type: "image/jpeg" });
    const result = await createApi("/api", impl).stylize({
      styleId: "starry_night",
      strength: 0.8,
      keepColours: true,
      maxSize: 1024,
      photo: { kind: "upload", blob: photo },
    });
    const sent = JSON.parse(String(calls[0]!.init.body));
    assertMatchesSchema("StylizeRequest", sent);
    expect(sent).toMatchObject({ style: "starry_night", strength: 0.8, preserve_color: true, max_size: 1024 });
    expect(atob(sent.image)).toBe(await photo.text().then((text) => unescape(encodeURIComponent(text))));
    expect(sent.gallery_key).toBeUndefined();
    expect((calls[0]!.init.headers as Record<string, string>)["Content-Type"]).toBe("application/json");
    expect(result).toMatchObject({ width: 640, height: 480, elapsedMs: 412 });
    expect(result.blob.type).toBe("image/jpeg");
    expect(await result.blob.text()).toBe("JPEGBYTES");
  });

  it("names a gallery photo by key instead of uploading it", async () => {
    const { calls, impl } = fakeFetch(Response.json(stylized));
    await createApi("/api", impl).stylize({
      styleId: "starry_night",
      strength: 1,
      keepColours: false,
      maxSize: 1024,
      photo: { kind: "gallery", key: "gallery/a.jpg" },
    });
    const sent = JSON.parse(String(calls[0]!.init.body));
    assertMatchesSchema("StylizeRequest", sent);
    expect(sent.gallery_key).toBe("gallery/a.jpg");
    expect(sent.image).toBeUndefined();
  });

  it("starts a training job with the painting and its name, and maps the job", async () => {
    const queued = job({ state: "queued", progress: { step: 0, total_steps: 2000, losses: null, images_per_s: null, eta_s: null, elapsed_s: null, checkpoint_step: null }, preview: null });
    assertMatchesSchema("Job", queued);
    const { calls, impl } = fakeFetch(Response.json(queued, { status: 202 }));
    const painting = new Blob(["TIFF bytes"], { type: "image/tiff" });
    const started = await createApi("/api", impl).createStyle({ name: "My watercolour", painting });
    expect(calls[0]!.url).toBe("/api/styles");
    expect(calls[0]!.init.method).toBe("POST");
    const sent = JSON.parse(String(calls[0]!.init.body));
    assertMatchesSchema("CreateStyleRequest", sent);
    expect(sent).toEqual({ name: "My watercolour", image: btoa("TIFF bytes") });
    expect(started).toEqual({
      id: JOB_ID, name: "My watercolour", state: "queued", cancelRequested: false, thumbnail: "data:image/jpeg;base64,AA==",
      finishRequested: false, finishedEarlyAtStep: null, checkpointStep: null,
      style: null, model: null, error: null, progress: { step: 0, totalSteps: 2000, losses: null, etaS: null, elapsedS: null }, preview: null,
    });
  });

  it("lists, polls and cancels jobs, and deletes a style by its id", async () => {
    const running = job({
      state: "running", cancel_requested: true,
      progress: { step: 40, total_steps: 2000, losses: { total: 12.5, style: 3 }, images_per_s: 2.1, eta_s: 9400, elapsed_s: 80, checkpoint_step: 25 },
      preview: { step: 40, image: "data:image/jpeg;base64,BB==" },
    });
    const list = { jobs: [job({ state: "done", style: `user-${JOB_ID}` })] };
    [running].forEach((body) => assertMatchesSchema("Job", body));
    assertMatchesSchema("JobList", list);
    const { calls, impl } = fakeFetch(Response.json(list), Response.json(running), Response.json(running), new Response(null, { status: 204 }));
    const api = createApi("/api/", impl);
    expect(await api.listJobs()).toMatchObject([{ state: "done", style: `user-${JOB_ID}` }]);
    expect(await api.getJob(JOB_ID)).toMatchObject({
      cancelRequested: true, checkpointStep: 25, progress: { step: 40, totalSteps: 2000, losses: { total: 12.5, style: 3 }, etaS: 9400, elapsedS: 80 },
      preview: { step: 40, image: "data:image/jpeg;base64,BB==" },
    });
    await api.cancelJob(JOB_ID);
    await expect(api.deleteStyle(`user-${JOB_ID}`)).resolves.toBeUndefined();
    expect(calls.map((call) => `${call.init.method ?? "GET"} ${call.url}`)).toEqual([
      "GET /api/jobs", `GET /api/jobs/${JOB_ID}`, `DELETE /api/jobs/${JOB_ID}`, `DELETE /api/styles/user-${JOB_ID}`,
    ]);
  });

  it("gives a done job's model file its address under the API, for the device", async () => {
    const sha256 = "c".repeat(64);
    const model = {
      file: `user-${JOB_ID}.onnx`, bytes: 1800000, sha256, precision: "fp32", url: `/jobs/${JOB_ID}/model`,
      styles: ["great_wave", "udnie", `user-${JOB_ID}`],
    };
    const done = job({ state: "done", style: `user-${JOB_ID}`, model });
    assertMatchesSchema("Job", done);
    const older = job({ state: "done", style: `user-${JOB_ID}`, model: { ...model, styles: [] } });
    const { impl } = fakeFetch(Response.json({ jobs: [done] }), Response.json({ jobs: [older] }));
    const api = createApi("https://api.example.com/prod/", impl);
    const [mapped] = await api.listJobs();
    expect(mapped!.model).toEqual({
      variant: "fp32", file: `user-${JOB_ID}.onnx`, bytes: 1800000, sha256, url: `https://api.example.com/prod/jobs/${JOB_ID}/model`,
      styles: ["great_wave", "udnie", `user-${JOB_ID}`],
    });
    const [single] = await api.listJobs(); // a file of one style lists none
    expect(single!.model!.styles).toBeUndefined();
  });

  it("reports the jobs API's refusals by code", async () => {
    const body = { error: { code: "job_running", message: "Cancel it first." } };
    assertMatchesSchema("Error", body);
    const { impl } = fakeFetch(Response.json(body, { status: 409 }));
    await expect(createApi("/api", impl).deleteStyle(`user-${JOB_ID}`)).rejects.toMatchObject({ code: "job_running", status: 409 });
  });

  it("is checked by a contract checker that does catch a bad request", () => {
    const both = { style: "x", image: "AA==", gallery_key: "gallery/a.jpg" };
    expect(() => assertMatchesSchema("StylizeRequest", both)).toThrow(/StylizeRequest/);
    expect(() => assertMatchesSchema("StylizeRequest", { style: "x", image: "AA==", colour: true })).toThrow();
  });

  it("turns the API's error body into an ApiError with its code", async () => {
    const body = { error: { code: "unknown_style", message: "No style 'x'." } };
    assertMatchesSchema("Error", body);
    const { impl } = fakeFetch(Response.json(body, { status: 404 }));
    const error = await createApi("/api", impl).listStyles().catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: "unknown_style", status: 404, message: "No style 'x'." });
  });

  it.each([
    [401, '{"message":"Unauthorized"}', "unauthorized"],
    [413, '{"message":"Request Too Long"}', "payload_too_large"],
    [504, '{"message":"Endpoint request timed out"}', "gateway_timeout"],
    [429, '{"message":"Too Many Requests"}', "throttled"],
    [502, "<html>Bad gateway</html>", "internal_error"],
    [403, '{"message":"Forbidden"}', "unexpected_response"],
  ])("classifies a bare HTTP %i from in front of the API", async (status, text, code) => {
    const { impl } = fakeFetch(new Response(text, { status }));
    await expect(createApi("/api", impl).listStyles()).rejects.toMatchObject({ code, status });
  });

  it("reports an unreachable server, and lets an abort through as an abort", async () => {
    const offline = (async () => Promise.reject(new TypeError("Failed to fetch"))) as typeof fetch;
    await expect(createApi("/api", offline).listStyles()).rejects.toMatchObject({ code: "network_error" });

    const controller = new AbortController();
    const hanging = ((_: unknown, init: RequestInit) =>
      new Promise((_resolve, reject) =>
        init.signal?.addEventListener("abort", () => reject(new DOMException("aborted", "AbortError"))),
      )) as typeof fetch;
    const pending = createApi("/api", hanging).listStyles(controller.signal);
    controller.abort();
    await expect(pending).rejects.toMatchObject({ name: "AbortError" });
  });

  it("refuses a 200 that is not JSON", async () => {
    const { impl } = fakeFetch(new Response("<!doctype html>", { status: 200 }));
    await expect(createApi("/api", impl).listStyles()).rejects.toMatchObject({ code: "unexpected_response" });
  });
});
