import { act, renderHook } from "@testing-library/react";
import type { StylizeRequest, StylizeResult } from "../../api/types";
import { ApiError } from "../../api/errors";
import type { Photo } from "../../types";
import { abortError, deferred, stubApi } from "../../test/stubApi";
import { downloadName, keyOf, slug, useStylizeJob, type StylizeInput } from "./useStylizeJob";
import type { DeviceStylizer } from "../../device/runner";

const blob = new Blob(["jpeg"], { type: "image/jpeg" });
const PHOTO: Photo = {
  name: "beach",
  label: "beach.jpg",
  previewUrl: "blob:photo",
  width: 4,
  height: 3,
  source: {
    kind: "upload",
    prepared: { blob, width: 4, height: 3, originalWidth: 4, originalHeight: 3, originalBytes: 4, quality: 0.92 },
  },
};
const INPUT: StylizeInput = {
  photo: PHOTO,
  style: { id: "udnie", name: "Udnie", artist: "Francis Picabia", year: 1913, thumbnail: null },
  keepColours: true,
  maxSize: 1024,
};

// Each call waits until the test settles it; an abort rejects it, as fetch does.
function pendingApi() {
  const calls: { request: StylizeRequest; signal?: AbortSignal; answer: ReturnType<typeof deferred<StylizeResult>> }[] = [];
  const api = stubApi({
    stylize: vi.fn((request: StylizeRequest, signal?: AbortSignal) => {
      const answer = deferred<StylizeResult>();
      signal?.addEventListener("abort", () => answer.reject(abortError()));
      calls.push({ request, signal, answer });
      return answer.promise;
    }),
  });
  return { api, calls };
}

function renderJob(api = pendingApi().api) {
  const onNotice = vi.fn();
  return { ...renderHook(() => useStylizeJob(api, onNotice)), onNotice };
}

describe("useStylizeJob", () => {
  it("sends a blend of two styles and labels and names the result with both", async () => {
    const { api, calls } = pendingApi();
    const { result } = renderJob(api);
    const wave = { id: "great_wave", name: "The Great Wave", artist: "Hokusai", year: 1831, thumbnail: null };
    let running!: Promise<void>;
    act(() => void (running = result.current.stylize({ ...INPUT, blend: { second: wave, share: 0.7 } })));
    expect(result.current.job).toMatchObject({ state: "busy", styleName: "Udnie 70% + The Great Wave 30%" });
    expect(calls[0]!.request.blend).toEqual([
      { styleId: "udnie", weight: 0.7 },
      { styleId: "great_wave", weight: expect.closeTo(0.3, 6) },
    ]);
    await act(async () => {
      calls[0]!.answer.resolve({ blob: new Blob(["jpeg"], { type: "image/jpeg" }), width: 4, height: 3, elapsedMs: 9 });
      await running;
    });
    expect(result.current.job).toMatchObject({
      state: "done",
      result: { fileName: "beach-udnie-70-the-great-wave-30-own-colours.jpg", styleName: "Udnie 70% + The Great Wave 30%" },
    });
  });

  it("sends the photo at full strength (the strength is mixed in the browser), is busy, then holds the result", async () => {
    const { api, calls } = pendingApi();
    const { result, onNotice } = renderJob(api);
    let running!: Promise<void>;
    act(() => void (running = result.current.stylize(INPUT)));
    expect(result.current.job).toMatchObject({ state: "busy", styleName: "Udnie" });
    expect(calls[0]!.request).toEqual({ styleId: "udnie", strength: 1, keepColours: true, maxSize: 1024, brush: 1, photo: { kind: "upload", blob } });
    await act(async () => {
      calls[0]!.answer.resolve({ blob: new Blob(["png"], { type: "image/png" }), width: 4, height: 3, elapsedMs: 12 });
      await running;
    });
    expect(result.current.job).toMatchObject({
      state: "done",
      result: { fileName: "beach-udnie-own-colours.png", artist: "Francis Picabia", elapsedMs: 12, key: keyOf(INPUT), photoBlob: blob, keepColours: true },
    });
    expect(onNotice).toHaveBeenCalledWith(null);
  });

  it("goes back to idle without a message when cancelled", async () => {
    const { result, onNotice } = renderJob();
    let running!: Promise<void>;
    act(() => void (running = result.current.stylize(INPUT)));
    await act(async () => {
      result.current.cancel();
      await running;
    });
    expect(result.current.job).toEqual({ state: "idle" });
    expect(onNotice).toHaveBeenCalledTimes(1); // only the clearing at the start
  });

  it("lets a newer request supersede the running one", async () => {
    const { api, calls } = pendingApi();
    const { result } = renderJob(api);
    let first!: Promise<void>;
    act(() => void (first = result.current.stylize(INPUT)));
    act(() => void result.current.stylize({ ...INPUT, keepColours: false }));
    await act(() => first);
    expect(calls[0]!.signal?.aborted).toBe(true);
    expect(result.current.job).toMatchObject({ state: "busy", key: keyOf({ ...INPUT, keepColours: false }) }); // the aborted first left it alone
  });

  it("keeps the previous result on screen while the next one is painted, and goes back to it on a cancel", async () => {
    const { api, calls } = pendingApi();
    const { result } = renderJob(api);
    let first!: Promise<void>;
    act(() => void (first = result.current.stylize(INPUT)));
    await act(async () => {
      calls[0]!.answer.resolve({ blob: new Blob(["jpeg"], { type: "image/jpeg" }), width: 4, height: 3, elapsedMs: 5 });
      await first;
    });
    const udnie = result.current.job.state === "done" ? result.current.job.result : null;
    const wave = { id: "great_wave", name: "The Great Wave", artist: "Hokusai", year: 1831, thumbnail: null };
    let second!: Promise<void>;
    act(() => void (second = result.current.stylize({ ...INPUT, style: wave })));
    expect(result.current.job).toMatchObject({ state: "busy", styleName: "The Great Wave", previous: udnie, key: keyOf({ ...INPUT, style: wave }) });
    await act(async () => {
      result.current.cancel();
      await second;
    });
    expect(calls[1]!.signal?.aborted).toBe(true);
    expect(result.current.job).toEqual({ state: "done", result: udnie });
    expect(result.current.job.state === "done" && result.current.job.result.key).toBe(keyOf(INPUT)); // Udnie's, not the Wave's
  });

  it("reports a failure and goes back to idle", async () => {
    const api = stubApi({ stylize: vi.fn(() => Promise.reject(new ApiError("internal_error", "boom", 500))) });
    const { result, onNotice } = renderJob(api);
    await act(() => result.current.stylize(INPUT));
    expect(result.current.job).toEqual({ state: "idle" });
    expect(onNotice).toHaveBeenLastCalledWith(expect.objectContaining({ code: "internal_error" }));
  });
});

describe("useStylizeJob on the device", () => {
  const READY = { state: "ready", backend: "wasm", threads: 2 } as const;
  function fakeDevice(stylizePhoto: DeviceStylizer["stylizePhoto"], fast = true): DeviceStylizer {
    return {
      maxPixels: 4_194_304,
      fullSizeMaxPixels: 24_000_000,
      state: READY,
      knownFast: vi.fn(async () => fast),
      check: vi.fn(async () => READY),
      modelFor: () => ({ file: { url: "/models/udnie.onnx", sha256: "a".repeat(64) }, styleId: "udnie" }),
      stylizePhoto: vi.fn(stylizePhoto),
      stylizePixels: vi.fn(),
    };
  }
  const png = new Blob(["png"], { type: "image/png" });

  test("Auto runs on a device known to be fast and never calls the server", async () => {
    const { api } = pendingApi();
    const device = fakeDevice(async () => ({ blob: png, width: 4, height: 3, elapsedMs: 80, backend: "wasm" }));
    const onNotice = vi.fn();
    const { result } = renderHook(() => useStylizeJob(api, onNotice, device));
    await act(() => result.current.stylize({ ...INPUT, where: "auto" }));
    expect(api.stylize).not.toHaveBeenCalled();
    expect(device.stylizePhoto).toHaveBeenCalledWith(expect.objectContaining({ strength: 1, keepColours: true }), expect.anything());
    expect(result.current.job).toMatchObject({ state: "done", result: { ranOn: "device", backend: "wasm", elapsedMs: 80, fileName: "beach-udnie-own-colours.png" } });
  });

  test("Auto on a device not known to be fast goes to the server without starting the device (no runtime download)", async () => {
    const { api, calls } = pendingApi();
    const device = fakeDevice(async () => ({ blob: png, width: 4, height: 3, elapsedMs: 80, backend: "wasm" }), false);
    const { result } = renderHook(() => useStylizeJob(api, vi.fn(), device));
    let running!: Promise<void>;
    act(() => void (running = result.current.stylize({ ...INPUT, where: "auto" })));
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(device.check).not.toHaveBeenCalled();
    expect(device.stylizePhoto).not.toHaveBeenCalled();
    await act(async () => {
      calls[0]!.answer.resolve({ blob: new Blob(["jpeg"], { type: "image/jpeg" }), width: 4, height: 3, elapsedMs: 30 });
      await running;
    });
    expect(result.current.job).toMatchObject({ state: "done", result: { ranOn: "server" } });
  });

  test("On this device runs there even where the device is not known to be fast (the privacy choice)", async () => {
    const { api } = pendingApi();
    const device = fakeDevice(async () => ({ blob: png, width: 4, height: 3, elapsedMs: 900, backend: "wasm" }), false);
    const { result } = renderHook(() => useStylizeJob(api, vi.fn(), device));
    await act(() => result.current.stylize({ ...INPUT, where: "device" }));
    expect(api.stylize).not.toHaveBeenCalled();
    expect(result.current.job).toMatchObject({ state: "done", result: { ranOn: "device" } });
  });

  test("full size runs on the device with the original photo, and is named so", async () => {
    const { api } = pendingApi();
    const original = new Blob(["original"], { type: "image/jpeg" });
    const device = fakeDevice(async () => ({ blob: png, width: 4000, height: 3000, elapsedMs: 30_000, backend: "wasm" }), false);
    const { result } = renderHook(() => useStylizeJob(api, vi.fn(), device));
    await act(() => result.current.stylize({ ...INPUT, photo: { ...PHOTO, original }, where: "auto", fullSize: true }));
    expect(device.stylizePhoto).toHaveBeenCalledWith(expect.objectContaining({ fullSize: true }), expect.anything());
    expect(result.current.job).toMatchObject({
      state: "done",
      result: { ranOn: "device", width: 4000, height: 3000, fullSize: true, photoBlob: original, fileName: "beach-udnie-own-colours-full-size.png" },
    });
  });

  test("a failure on the device falls back to the server with a short note, never a blank result", async () => {
    const { api, calls } = pendingApi();
    const device = fakeDevice(async () => {
      throw new Error("udnie.onnx does not match its model card");
    });
    const onNotice = vi.fn();
    const { result } = renderHook(() => useStylizeJob(api, onNotice, device));
    let running!: Promise<void>;
    act(() => void (running = result.current.stylize({ ...INPUT, where: "device" })));
    await vi.waitFor(() => expect(calls).toHaveLength(1));
    expect(calls[0]!.request).toMatchObject({ styleId: "udnie", strength: 1, keepColours: true });
    expect(onNotice).toHaveBeenLastCalledWith(expect.objectContaining({ code: "device_failed", message: expect.stringMatching(/does not match its model card/) }));
    await act(async () => {
      calls[0]!.answer.resolve({ blob: new Blob(["jpeg"], { type: "image/jpeg" }), width: 4, height: 3, elapsedMs: 300 });
      await running;
    });
    expect(result.current.job).toMatchObject({ state: "done", result: { ranOn: "server", elapsedMs: 300 } });
  });

  test("a cancel during a device run that cannot be interrupted frees the screen at once and drops its result", async () => {
    const { api } = pendingApi();
    // Like an ONNX run: it ignores the signal and finishes later.
    const finish = deferred<Awaited<ReturnType<DeviceStylizer["stylizePhoto"]>>>();
    const device = fakeDevice(() => finish.promise);
    const onNotice = vi.fn();
    const { result } = renderHook(() => useStylizeJob(api, onNotice, device));
    let running!: Promise<void>;
    act(() => void (running = result.current.stylize({ ...INPUT, where: "device" })));
    await vi.waitFor(() => expect(device.stylizePhoto).toHaveBeenCalled());
    expect(result.current.job).toMatchObject({ state: "busy", runOn: "device" });
    act(() => result.current.cancel());
    expect(result.current.job).toEqual({ state: "idle" }); // at once, before the run ends
    await act(async () => {
      await running;
      finish.resolve({ blob: png, width: 4, height: 3, elapsedMs: 3000, backend: "wasm" });
      await Promise.resolve();
    });
    expect(result.current.job).toEqual({ state: "idle" }); // its late result is thrown away
    expect(api.stylize).not.toHaveBeenCalled();
    expect(onNotice).not.toHaveBeenCalledWith(expect.objectContaining({ code: "device_failed" }));
  });

  test("a cancel during the device run stays cancelled (no server request)", async () => {
    const { api } = pendingApi();
    const device = fakeDevice((_job, { signal }) => new Promise((_, reject) => signal?.addEventListener("abort", () => reject(abortError()))));
    const onNotice = vi.fn();
    const { result } = renderHook(() => useStylizeJob(api, onNotice, device));
    let running!: Promise<void>;
    act(() => void (running = result.current.stylize({ ...INPUT, where: "device" })));
    await vi.waitFor(() => expect(device.stylizePhoto).toHaveBeenCalled());
    await act(async () => {
      result.current.cancel();
      await running;
    });
    expect(api.stylize).not.toHaveBeenCalled();
    expect(result.current.job).toEqual({ state: "idle" });
  });
});

describe("download names", () => {
  const base = { photoName: "beach", styleName: "The Starry Night", strength: 1, keepColours: false, fullSize: false, type: "image/jpeg" };

  test("carry the style's name, never an id, and set every variant apart", () => {
    expect(downloadName(base)).toBe("beach-the-starry-night.jpg");
    expect(downloadName({ ...base, styleName: "Blue period" })).toBe("beach-blue-period.jpg"); // one of your own, not user-oxin…
    const variants = [
      downloadName(base),
      downloadName({ ...base, strength: 0.7 }),
      downloadName({ ...base, strength: 0.7, keepColours: true }),
      downloadName({ ...base, keepColours: true }),
      downloadName({ ...base, fullSize: true }),
      downloadName({ ...base, type: "image/png" }),
    ];
    expect(new Set(variants).size).toBe(variants.length);
    expect(variants[2]).toBe("beach-the-starry-night-70pct-own-colours.jpg");
  });

  test("slugs keep letters of any script and drop accents", () => {
    expect(slug("Impression, soleil levant")).toBe("impression-soleil-levant");
    expect(slug("Café 70% + Nuit 30%")).toBe("cafe-70-nuit-30");
    expect(slug("富士山")).toBe("富士山");
  });
});
