// Files the device path needs (model files, the onnxruntime-web WebAssembly binary), downloaded once with
// progress, checked against their sha256 where the model card gives one, and kept in Cache Storage so that
// a second visit, or an offline one, downloads nothing.

export const CACHE_NAME = "fast-neural-style-files-v1";
const SIGNED_IN_HEADER = "X-Signed-In-File";
// A user's own model file as the jobs API serves it (GET /jobs/{id}/model): kept before files were marked.
const OWN_MODEL_PATH = /\/jobs\/[^/]+\/model$/;

export interface FileRef {
  url: string;
  /** Lower-case hex, from the model card; the download is refused unless it matches. */
  sha256?: string;
  /** Expected size, for progress when the server sends no Content-Length. */
  bytes?: number;
  /** Served by the API's training routes (a user's own model file): downloaded with `signedFetch`. */
  signedIn?: boolean;
}

export interface Progress {
  loaded: number;
  total: number | null;
}

export interface FetchOptions {
  fetchImpl?: typeof fetch;
  /** The fetch that sends the signed-in user's token, for a file that is `signedIn`; `fetchImpl` where none. */
  signedFetch?: typeof fetch;
  /** The browser's Cache Storage; undefined where there is none (an insecure origin): then nothing is kept. */
  cacheStorage?: CacheStorage;
  onProgress?(progress: Progress): void;
  signal?: AbortSignal;
}

export interface Fetched {
  bytes: ArrayBuffer;
  fromCache: boolean;
}

export class IntegrityError extends Error {
  name = "IntegrityError";
}

export class DownloadError extends Error {
  name = "DownloadError";
}

export async function sha256Hex(data: ArrayBuffer): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(data)));
  return Array.from(digest, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** The cache key: the file's URL, with its sha256 so that a new version of a file is a new entry. */
export function cacheKey(ref: FileRef): string {
  const url = new URL(ref.url, globalThis.location?.href ?? "http://localhost/");
  if (ref.sha256) url.searchParams.set("sha256", ref.sha256);
  return url.href;
}

function defaultCaches(): CacheStorage | undefined {
  return typeof caches === "undefined" ? undefined : caches;
}

/** The file's bytes: from Cache Storage when a checked copy is there, else downloaded, checked and stored. */
export async function fetchCached(ref: FileRef, options: FetchOptions = {}): Promise<Fetched> {
  const { fetchImpl = (...args) => fetch(...args), signedFetch, cacheStorage = defaultCaches(), onProgress, signal } = options;
  const key = cacheKey(ref);
  const cache = cacheStorage ? await cacheStorage.open(CACHE_NAME).catch(() => undefined) : undefined;
  const hit = await cache?.match(key);
  if (hit) {
    const bytes = await hit.arrayBuffer();
    if (!ref.sha256 || (await sha256Hex(bytes)) === ref.sha256) {
      onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength });
      return { bytes, fromCache: true };
    }
    await cache?.delete(key); // damaged in storage: fetch it again
  }

  let response: Response;
  try {
    response = await (ref.signedIn && signedFetch ? signedFetch : fetchImpl)(ref.url, { signal });
  } catch (error) {
    if (error instanceof DOMException && error.name === "AbortError") throw error;
    throw new DownloadError(`could not download ${fileName(ref.url)}`);
  }
  if (!response.ok) throw new DownloadError(`${fileName(ref.url)} answered HTTP ${response.status}`);
  const header = Number(response.headers.get("Content-Length"));
  const total = header > 0 ? header : (ref.bytes ?? null);
  const bytes = await readWithProgress(response, total, onProgress);
  if (ref.sha256) {
    const actual = await sha256Hex(bytes);
    if (actual !== ref.sha256) {
      throw new IntegrityError(`${fileName(ref.url)} does not match its model card (sha256 ${actual.slice(0, 12)}…)`);
    }
  }
  if (cache) {
    const headers: Record<string, string> = { "Content-Type": "application/octet-stream" };
    if (ref.signedIn) headers[SIGNED_IN_HEADER] = "1"; // a user's own file: forgotten at sign-out
    await cache
      .put(key, new Response(bytes, { headers }))
      .catch(() => undefined); // storage full or refused: the file still works this time
    await forgetOtherVersions(cache, key);
  }
  return { bytes, fromCache: false };
}

async function readWithProgress(response: Response, total: number | null, onProgress?: (p: Progress) => void) {
  if (!response.body) {
    const bytes = await response.arrayBuffer();
    onProgress?.({ loaded: bytes.byteLength, total: bytes.byteLength });
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  onProgress?.({ loaded, total });
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress?.({ loaded, total });
  }
  const bytes = new Uint8Array(loaded);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes.buffer;
}

// A model updated on the server (a new sha256) would otherwise leave its old copy in storage for ever.
async function forgetOtherVersions(cache: Cache, key: string) {
  const path = new URL(key).pathname;
  for (const request of await cache.keys()) {
    if (request.url !== key && new URL(request.url).pathname === path) await cache.delete(request);
  }
}

function fileName(url: string): string {
  return url.split("?")[0]!.split("/").pop() || url;
}

/** Forgets every signed-in user's file kept on this device (their own styles' model files): at sign-out, so
 * that the next person at this browser finds none of them. The public files (bundled models) stay. */
export async function forgetSignedInFiles(cacheStorage: CacheStorage | undefined = defaultCaches()): Promise<void> {
  const cache = cacheStorage ? await cacheStorage.open(CACHE_NAME).catch(() => undefined) : undefined;
  if (!cache) return;
  for (const request of await cache.keys()) {
    const kept = await cache.match(request.url);
    if (kept?.headers.get(SIGNED_IN_HEADER) === "1" || OWN_MODEL_PATH.test(new URL(request.url).pathname)) {
      await cache.delete(request);
    }
  }
}
