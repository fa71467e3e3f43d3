import { act, renderHook } from "@testing-library/react";
import type { StylizeRequest, StylizeResult } from "../../api/types";
import { ApiError } from "../../api/errors";
import type { Photo } from "../../types";
import { abortError, deferred, stubApi } from "../../test/stubApi";
import { useStylizeJob, type StylizeInput } from "./useStylizeJob";
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
  strength: 0.5,
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
      result: { fileName: "beach-udnie-70-great_wave-30.jpg", styleName: "Udnie 70% + The Great Wave 30%" },
    });
  });

  it("sends the photo with the settings, is busy, then holds the result", async () => {
    const { api, calls } = pendingApi();
    const { result, onNotice } = renderJob(api);
    let running!: Promise<void>;
    act(() => void (running = result.current.stylize(INPUT)));
    expect(result.current.job).toMatchObject({ state: "busy", styleName: "Udnie" });
    expect(calls[0]!.request).toEqual({ styleId: "udnie", strength: 0.5, keepColours: true, maxSize: 1024, photo: { kind: "upload", blob } });
    await act(async () => {
      calls[0]!.answer.resolve({ blob: new Blob(["png"], { type: "image/png" }), width: 4, height: 3, elapsedMs: 12 });
      await running;
    });
    expect(result.current.job).toMatchObject({ state: "done", result: { fileName: "beach-udnie.png", artist: "Francis Picabia", elapsedMs: 12 } });
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
    act(() => void result.current.stylize({ ...INPUT, strength: 1 }));
    await act(() => first);
    expect(calls[0]!.signal?.aborted).toBe(true);
    expect(result.current.job.state).toBe("busy"); // the aborted first request left the state alone
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
  function fakeDevice(stylizePhoto: DeviceStylizer["stylizePhoto"]): DeviceStylizer {
    return {
      maxPixels: 4_194_304,
      state: READY,
      check: vi.fn(async () => READY),
      modelFor: () => ({ file: { url: "/models/udnie.onnx", sha256: "a".repeat(64) }, styleId: "udnie" }),
      stylizePhoto: vi.fn(stylizePhoto),
      stylizePixels: vi.fn(),
    };
  }
  const png = new Blob(["png"], { type: "image/png" });

  test("Auto runs on the device and never calls the server", async () => {
    const { api } = pendingApi();
    const device = fakeDevice(async () => ({ blob: png, width: 4, height: 3, elapsedMs: 80, backend: "wasm" }));
    const onNotice = vi.fn();
    const { result } = renderHook(() => useStylizeJob(api, onNotice, device));
    await act(() => result.current.stylize({ ...INPUT, where: "auto" }));
    expect(api.stylize).not.toHaveBeenCalled();
    expect(result.current.job).toMatchObject({ state: "done", result: { ranOn: "device", backend: "wasm", elapsedMs: 80, fileName: "beach-udnie.png" } });
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
    expect(calls[0]!.request).toMatchObject({ styleId: "udnie", strength: 0.5, keepColours: true });
    expect(onNotice).toHaveBeenLastCalledWith(expect.objectContaining({ code: "device_failed", message: expect.stringMatching(/does not match its model card/) }));
    await act(async () => {
      calls[0]!.answer.resolve({ blob: new Blob(["jpeg"], { type: "image/jpeg" }), width: 4, height: 3, elapsedMs: 300 });
      await running;
    });
    expect(result.current.job).toMatchObject({ state: "done", result: { ranOn: "server", elapsedMs: 300 } });
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
