import { act, renderHook, waitFor } from "@testing-library/react";
import { ApiError } from "../../api/errors";
import type { TrainingJob } from "../../api/types";
import { deferred, stubApi } from "../../test/stubApi";
import { deviceModelFor } from "../../device/models";
import { styleOf, useOwnStyles } from "./useOwnStyles";

const POLL = { pollMs: 5 };

function trainingJob(id: string, fields: Partial<TrainingJob> = {}): TrainingJob {
  return { id, name: `Style ${id}`, state: "queued", cancelRequested: false, thumbnail: null, style: null, model: null, error: null, ...fields };
}

const running = (id: string, step: number, total: number) =>
  trainingJob(id, {
    state: "running",
    progress: { step, totalSteps: 20, losses: { total, style: total / 2 }, etaS: 30, elapsedS: step },
    preview: { step, image: `data:image/jpeg;base64,step${step}` },
  });

describe("useOwnStyles", () => {
  it("lists your styles, polls a running job until it is done, and draws its losses", async () => {
    const first = deferred<TrainingJob>(); // the first poll waits until the test has looked at the start
    const answers = [first.promise, running("b", 5, 100), running("b", 10, 60), trainingJob("b", { state: "done", style: "user-b" })];
    const getJob = vi.fn(async (_id: string) => answers.shift() ?? trainingJob("b", { state: "done", style: "user-b" }));
    const api = stubApi({
      listJobs: vi.fn(async () => [trainingJob("a", { state: "done", style: "user-a", thumbnail: "data:image/jpeg;base64,AA==" }), trainingJob("b")]),
      getJob,
    });
    const onNotice = vi.fn();
    const { result } = renderHook(() => useOwnStyles(api, { onNotice, ...POLL }));
    expect(result.current.training.state).toBe("checking");
    await waitFor(() => expect(result.current.training.state).toBe("on"));
    expect(result.current.styles).toEqual([
      { id: "user-a", name: "Style a", artist: "Your style", year: null, thumbnail: "data:image/jpeg;base64,AA==", blendable: false, blendsWith: [], ownJobId: "a" },
    ]);
    await waitFor(() => expect(getJob).toHaveBeenCalledTimes(1));
    first.resolve(running("b", 5, 100));

    await waitFor(() => expect(result.current.jobs[1]?.state).toBe("done"));
    expect(getJob.mock.calls.every(([id]) => id === "b")).toBe(true);
    expect(result.current.losses.b).toEqual([{ step: 5, total: 100 }, { step: 10, total: 60 }]); // one point per step
    expect(result.current.styles.map((s) => s.id)).toEqual(["user-a", "user-b"]);
    const calls = getJob.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(getJob).toHaveBeenCalledTimes(calls); // nothing left to poll
    expect(onNotice).not.toHaveBeenCalled();
  });

  it("starts a job and polls it; a refusal becomes a notice", async () => {
    const createStyle = vi
      .fn()
      .mockRejectedValueOnce(new ApiError("too_many_jobs", "You have 2 jobs queued or running.", 429))
      .mockResolvedValueOnce(trainingJob("c"));
    const getJob = vi.fn(async () => running("c", 2, 50));
    const api = stubApi({ listJobs: vi.fn(async () => []), createStyle, getJob });
    const onNotice = vi.fn();
    const { result, unmount } = renderHook(() => useOwnStyles(api, { onNotice, ...POLL }));
    await waitFor(() => expect(result.current.training.state).toBe("on"));
    const painting = new Blob(["png"], { type: "image/png" });

    let job: TrainingJob | null = null;
    await act(async () => void (job = await result.current.start({ name: "Mine", painting })));
    expect(job).toBeNull();
    expect(onNotice).toHaveBeenLastCalledWith(expect.objectContaining({ code: "too_many_jobs", title: "You have too many styles in training" }));
    expect(result.current.jobs).toEqual([]);

    await act(async () => void (job = await result.current.start({ name: "Mine", painting })));
    expect(createStyle).toHaveBeenLastCalledWith({ name: "Mine", painting }, expect.any(AbortSignal));
    expect(job).toMatchObject({ id: "c", state: "queued" });
    await waitFor(() => expect(result.current.jobs[0]?.preview?.step).toBe(2));
    unmount();
    const calls = getJob.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(getJob).toHaveBeenCalledTimes(calls); // polling stops with the app
  });

  it("cancels: the job keeps running with cancel requested until it has stopped", async () => {
    const states = [{ ...running("d", 3, 9), cancelRequested: true }, trainingJob("d", { state: "cancelled" })];
    const getJob = vi.fn(async () => states.shift() ?? trainingJob("d", { state: "cancelled" }));
    const cancelJob = vi.fn(async () => ({ ...running("d", 3, 9), cancelRequested: true }));
    const api = stubApi({ listJobs: vi.fn(async () => [running("d", 3, 9)]), getJob, cancelJob });
    const { result } = renderHook(() => useOwnStyles(api, { onNotice: vi.fn(), pollMs: 30 }));
    await waitFor(() => expect(result.current.jobs).toHaveLength(1));
    await act(() => result.current.cancel(result.current.jobs[0]!));
    expect(cancelJob).toHaveBeenCalledWith("d", expect.any(AbortSignal));
    expect(result.current.jobs[0]).toMatchObject({ state: "running", cancelRequested: true });
    await waitFor(() => expect(result.current.jobs[0]?.state).toBe("cancelled"));
  });

  it("finishes a job early: it shows finishing until done, even where the polls do not say", async () => {
    const states = [running("g", 4, 9), trainingJob("g", { state: "done", style: "user-g" })];
    const getJob = vi.fn(async () => states.shift() ?? trainingJob("g", { state: "done", style: "user-g" }));
    const finishJob = vi
      .fn()
      .mockRejectedValueOnce(new ApiError("no_checkpoint_yet", "Not yet.", 409))
      .mockResolvedValueOnce({ ...running("g", 4, 9), finishRequested: true, finishedEarlyAtStep: null, checkpointStep: 3 });
    const api = { ...stubApi({ listJobs: vi.fn(async () => [running("g", 4, 9)]), getJob }), jobs: { finishJob } };
    const onNotice = vi.fn();
    const { result } = renderHook(() => useOwnStyles(api, { onNotice, pollMs: 30 }));
    await waitFor(() => expect(result.current.jobs).toHaveLength(1));
    await act(() => result.current.finish!(result.current.jobs[0]!));
    expect(onNotice).toHaveBeenLastCalledWith(expect.objectContaining({ code: "no_checkpoint_yet", title: "Nothing learned to use yet" }));
    expect(result.current.jobs[0]?.finishRequested).toBeUndefined();

    await act(() => result.current.finish!(result.current.jobs[0]!));
    expect(finishJob).toHaveBeenLastCalledWith("g", expect.any(AbortSignal));
    expect(result.current.jobs[0]).toMatchObject({ state: "running", finishRequested: true });
    await waitFor(() => expect(getJob).toHaveBeenCalled());
    expect(result.current.jobs[0]?.finishRequested).toBe(true); // a poll that does not say keeps it
    await waitFor(() => expect(result.current.jobs[0]?.state).toBe("done"));
    expect(result.current.styles.map((s) => s.id)).toEqual(["user-g"]);
  });

  it("has no finish where the API client has no such route", async () => {
    const { result } = renderHook(() => useOwnStyles(stubApi({ listJobs: vi.fn(async () => []) }), { onNotice: vi.fn() }));
    await waitFor(() => expect(result.current.training.state).toBe("on"));
    expect(result.current.finish).toBeNull();
  });

  it("deletes a style by its style id; a refusal leaves it listed and says why", async () => {
    const deleteStyle = vi
      .fn()
      .mockRejectedValueOnce(new ApiError("job_running", "Cancel it first.", 409))
      .mockResolvedValueOnce(undefined)
      .mockResolvedValueOnce(undefined);
    const api = stubApi({
      listJobs: vi.fn(async () => [trainingJob("e", { state: "done", style: "user-e" }), trainingJob("f", { state: "failed", error: "out of memory" })]),
      deleteStyle,
    });
    const onNotice = vi.fn();
    const { result } = renderHook(() => useOwnStyles(api, { onNotice, ...POLL }));
    await waitFor(() => expect(result.current.jobs).toHaveLength(2));
    const [done, failed] = result.current.jobs;

    let gone: boolean | undefined;
    await act(async () => void (gone = await result.current.remove(done!)));
    expect(gone).toBe(false);
    expect(onNotice).toHaveBeenLastCalledWith(expect.objectContaining({ code: "job_running" }));
    expect(result.current.jobs).toHaveLength(2);

    await act(async () => void (gone = await result.current.remove(done!)));
    await act(async () => void (await result.current.remove(failed!)));
    expect(deleteStyle.mock.calls.map(([id]) => id)).toEqual(["user-e", "user-e", "f"]); // a failed job goes by its id
    expect(gone).toBe(true);
    expect(result.current.jobs).toEqual([]);
    expect(result.current.styles).toEqual([]);
  });

  it("is off where the stack has no training routes, and says why", async () => {
    const api = stubApi({ listJobs: vi.fn(async () => Promise.reject(new ApiError("unauthorized", "Sign in first.", 401))) });
    const { result } = renderHook(() => useOwnStyles(api, { onNotice: vi.fn(), ...POLL }));
    await waitFor(() => expect(result.current.training).toMatchObject({ state: "off", reason: { code: "unauthorized", title: "Please sign in" } }));
  });

  it("keeps polling through a dropped connection, and drops a job the server no longer knows", async () => {
    const getJob = vi
      .fn()
      .mockRejectedValueOnce(new ApiError("network_error", "down"))
      .mockResolvedValueOnce(running("g", 4, 10))
      .mockRejectedValue(new ApiError("unknown_job", "No job.", 404));
    const api = stubApi({ listJobs: vi.fn(async () => [running("g", 2, 20)]), getJob });
    const { result } = renderHook(() => useOwnStyles(api, { onNotice: vi.fn(), pollMs: 150 }));
    await waitFor(() => expect(result.current.pollError?.code).toBe("network_error"));
    await waitFor(() => expect(result.current.jobs[0]?.progress?.step).toBe(4));
    expect(result.current.pollError).toBeNull();
    await waitFor(() => expect(result.current.jobs).toEqual([]));
  });
});

describe("styleOf", () => {
  it("gives a finished style its model file, so that it can run on the device", () => {
    const model = { variant: "fp32", file: "user-a.onnx", bytes: 10, sha256: "d".repeat(64), url: "/api/jobs/a/model" };
    const style = styleOf(trainingJob("a", { state: "done", style: "user-a", model }));
    expect(style.modelFiles).toEqual([model]);
    const device = deviceModelFor(style, "int8", "/models");
    expect(device?.file.url).toBe(new URL("/api/jobs/a/model", location.href).href); // not under /models
    expect(device).toMatchObject({ styleId: "user-a", file: { sha256: "d".repeat(64), bytes: 10 } });
    expect(styleOf(trainingJob("b", { state: "done", style: "user-b" })).modelFiles).toBeUndefined();
    expect(style.blendable).toBe(false); // a file of one style
  });

  it("blends a finished style with the bundled styles its file holds", () => {
    const model = {
      variant: "fp32", file: "user-a.onnx", bytes: 10, sha256: "d".repeat(64), url: "/api/jobs/a/model",
      styles: ["great_wave", "udnie", "user-a"],
    };
    const style = styleOf(trainingJob("a", { state: "done", style: "user-a", model }));
    expect(style).toMatchObject({ blendable: true, blendsWith: ["great_wave", "udnie"] });
    expect(deviceModelFor(style, "fp32", "/models")?.styles).toEqual(["great_wave", "udnie", "user-a"]);
  });
});
