// The page's side of the inference worker: which backend this browser gets, the onnxruntime-web binary
// for it (downloaded once with progress, then from Cache Storage), and request/reply over postMessage.
import wasmUrl from "onnxruntime-web/ort-wasm-simd-threaded.wasm?url";
import webgpuWasmUrl from "onnxruntime-web/ort-wasm-simd-threaded.asyncify.wasm?url";
import { fetchCached, type FetchOptions } from "./cache";
import type { Backend, RunRequest, RunResult, SessionInfo, WorkerReply, WorkerRequest } from "./protocol";

export interface Engine {
  readonly backend: Backend;
  readonly threads: number;
  load(key: string, model: ArrayBuffer): Promise<SessionInfo>;
  run(request: Omit<RunRequest, "type">): Promise<RunResult>;
  dispose(): void;
}

export interface EngineOptions extends FetchOptions {
  /** "auto": WebGPU where the browser offers an adapter, else WebAssembly. */
  backend?: Backend | "auto";
  threads?: number;
}

type DistributiveOmit<T, K extends keyof T> = T extends unknown ? Omit<T, K> : never;
type GpuNavigator = Navigator & { gpu?: { requestAdapter(): Promise<unknown> } };

export async function detectBackend(preference: Backend | "auto" = "auto"): Promise<Backend> {
  if (preference !== "auto") return preference;
  const gpu = (navigator as GpuNavigator).gpu;
  if (!gpu) return "wasm";
  try {
    return (await gpu.requestAdapter()) ? "webgpu" : "wasm";
  } catch {
    return "wasm";
  }
}

/** WebAssembly threads need a cross-origin isolated page (COOP/COEP); one thread otherwise. */
export function defaultThreads(): number {
  if (!globalThis.crossOriginIsolated) return 1;
  return Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1));
}

export async function startEngine(options: EngineOptions = {}): Promise<Engine> {
  if (typeof WebAssembly !== "object" || typeof Worker !== "function") {
    throw new Error("this browser has no WebAssembly or Web Workers");
  }
  const backend = await detectBackend(options.backend);
  const threads = options.threads ?? defaultThreads();
  const url = backend === "webgpu" ? webgpuWasmUrl : wasmUrl;
  const { bytes } = await fetchCached({ url }, options); // the name carries its content hash
  const worker = new Worker(new URL("./engine.worker.ts", import.meta.url), { type: "module" });
  const engine = new WorkerEngine(worker, backend, threads);
  try {
    await engine.call({ type: "init", backend, threads, wasmBinary: bytes }, [bytes]);
  } catch (error) {
    engine.dispose();
    throw error;
  }
  return engine;
}

class WorkerEngine implements Engine {
  private nextId = 1;
  private pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  constructor(
    private worker: Worker,
    readonly backend: Backend,
    readonly threads: number,
  ) {
    worker.onmessage = (event: MessageEvent<WorkerReply>) => {
      const reply = event.data;
      const waiter = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply.value);
      else waiter?.reject(new Error(reply.error));
    };
    worker.onerror = (event) => this.failAll(new Error(event.message || "the inference worker failed"));
  }

  call<T>(request: DistributiveOmit<WorkerRequest, "id">, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...request, id }, transfer);
    });
  }

  load(key: string, model: ArrayBuffer) {
    return this.call<SessionInfo>({ type: "load", key, model }, [model]);
  }

  // One run at a time in the worker: a run the page stopped waiting for (a cancel) still finishes there, and
  // the next one waits for it rather than running beside it on the same session.
  private lastRun: Promise<unknown> = Promise.resolve();

  run(request: Omit<RunRequest, "type">) {
    const next = this.lastRun.then(
      () => this.call<RunResult>({ type: "run", ...request }, [request.input.buffer as ArrayBuffer]),
    );
    this.lastRun = next.catch(() => undefined);
    return next;
  }

  dispose() {
    this.worker.terminate();
    this.failAll(new Error("the inference worker was stopped"));
  }

  private failAll(error: Error) {
    for (const waiter of this.pending.values()) waiter.reject(error);
    this.pending.clear();
  }
}
