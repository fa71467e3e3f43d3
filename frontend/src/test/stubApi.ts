// An API whose every call fails the test unless the test gives it an implementation, and a promise
// the test settles by hand, for the hooks' unit tests.
import type { Api } from "../api/client";

export function stubApi(overrides: Partial<Api> = {}): Api {
  const unexpected = () => Promise.reject(new Error("this test does not expect that call"));
  return {
    listStyles: vi.fn(unexpected),
    listGallery: vi.fn(unexpected),
    fetchGalleryImage: vi.fn(unexpected),
    stylize: vi.fn(unexpected),
    createStyle: vi.fn(unexpected),
    listJobs: vi.fn(unexpected),
    getJob: vi.fn(unexpected),
    cancelJob: vi.fn(unexpected),
    deleteStyle: vi.fn(unexpected),
    ...overrides,
  };
}

export function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((yes, no) => {
    resolve = yes;
    reject = no;
  });
  return { promise, resolve, reject };
}

export const abortError = () => new DOMException("aborted", "AbortError");
