import { CACHE_NAME, fetchCached, forgetSignedInFiles, IntegrityError, sha256Hex, type Progress } from "./cache";

// Cache Storage as the browser keeps it, in memory: responses by URL.
function memoryCaches() {
  const stores = new Map<string, Map<string, Response>>();
  const open = async (name: string) => {
    const store = stores.get(name) ?? new Map<string, Response>();
    stores.set(name, store);
    return {
      match: async (key: string) => store.get(key)?.clone(),
      put: async (key: string, response: Response) => void store.set(key, response),
      delete: async (key: string | Request) => store.delete(typeof key === "string" ? key : key.url),
      keys: async () => [...store.keys()].map((url) => new Request(url)),
    } as unknown as Cache;
  };
  return { caches: { open } as unknown as CacheStorage, stores };
}

const MODEL = new TextEncoder().encode("an onnx model, honestly");

async function serving(bytes: Uint8Array) {
  return vi.fn(async () => new Response(bytes.slice(), { headers: { "Content-Length": String(bytes.length) } }));
}

describe("fetchCached", () => {
  test("downloads with progress, checks the sha256, and a second call reads Cache Storage only", async () => {
    const sha256 = await sha256Hex(MODEL.slice().buffer);
    const { caches, stores } = memoryCaches();
    const fetchImpl = await serving(MODEL);
    const progress: Progress[] = [];
    const first = await fetchCached({ url: "http://site/models/a.onnx", sha256 }, { fetchImpl, cacheStorage: caches, onProgress: (p) => progress.push(p) });
    expect(first.fromCache).toBe(false);
    expect(Array.from(new Uint8Array(first.bytes))).toEqual(Array.from(MODEL));
    expect(progress.at(-1)).toEqual({ loaded: MODEL.length, total: MODEL.length });
    expect([...stores.get(CACHE_NAME)!.keys()]).toEqual([`http://site/models/a.onnx?sha256=${sha256}`]);

    const second = await fetchCached({ url: "http://site/models/a.onnx", sha256 }, { fetchImpl, cacheStorage: caches });
    expect(second.fromCache).toBe(true);
    expect(Array.from(new Uint8Array(second.bytes))).toEqual(Array.from(MODEL));
    expect(fetchImpl).toHaveBeenCalledTimes(1);
  });

  test("refuses a file that does not match its model card, and keeps nothing", async () => {
    const { caches, stores } = memoryCaches();
    const fetchImpl = await serving(new TextEncoder().encode("tampered"));
    await expect(
      fetchCached({ url: "http://site/models/a.onnx", sha256: "0".repeat(64) }, { fetchImpl, cacheStorage: caches }),
    ).rejects.toBeInstanceOf(IntegrityError);
    expect(stores.get(CACHE_NAME)?.size ?? 0).toBe(0);
  });

  test("a damaged cached copy is downloaded again; a new version replaces the old entry", async () => {
    const sha256 = await sha256Hex(MODEL.slice().buffer);
    const { caches, stores } = memoryCaches();
    const store = await caches.open(CACHE_NAME);
    await store.put(`http://site/models/a.onnx?sha256=${sha256}`, new Response("bit rot"));
    await store.put(`http://site/models/a.onnx?sha256=${"1".repeat(64)}`, new Response("last month's model"));
    const fetchImpl = await serving(MODEL);
    const result = await fetchCached({ url: "http://site/models/a.onnx", sha256 }, { fetchImpl, cacheStorage: caches });
    expect(result.fromCache).toBe(false);
    expect(fetchImpl).toHaveBeenCalledTimes(1);
    expect([...stores.get(CACHE_NAME)!.keys()]).toEqual([`http://site/models/a.onnx?sha256=${sha256}`]);
  });

  test("an HTTP error is a download error, and works without Cache Storage", async () => {
    const fetchImpl = vi.fn(async () => new Response("nope", { status: 404 }));
    await expect(fetchCached({ url: "http://site/models/x.onnx" }, { fetchImpl, cacheStorage: undefined })).rejects.toThrow(/HTTP 404/);
  });
});

describe("forgetSignedInFiles", () => {
  test("forgets the signed-in user's own model files at sign-out, and keeps the public ones", async () => {
    const sha256 = await sha256Hex(MODEL.slice().buffer);
    const { caches, stores } = memoryCaches();
    const fetchImpl = await serving(MODEL);
    await fetchCached({ url: "http://site/models/bundled.onnx", sha256 }, { fetchImpl, cacheStorage: caches });
    await fetchCached({ url: "http://site/api/jobs/abc/model", sha256, signedIn: true }, { fetchImpl, signedFetch: fetchImpl, cacheStorage: caches });
    await fetchCached({ url: "http://site/other/own.onnx", sha256, signedIn: true }, { fetchImpl, signedFetch: fetchImpl, cacheStorage: caches });
    // one kept by an older version of the app, before signed-in files were marked
    await (await caches.open(CACHE_NAME)).put(`http://site/api/jobs/old/model?sha256=${sha256}`, new Response("old"));
    expect(stores.get(CACHE_NAME)!.size).toBe(4);

    await forgetSignedInFiles(caches);
    expect([...stores.get(CACHE_NAME)!.keys()]).toEqual([`http://site/models/bundled.onnx?sha256=${sha256}`]);
  });

  test("does nothing where there is no Cache Storage", async () => {
    await expect(forgetSignedInFiles(undefined)).resolves.toBeUndefined();
  });
});
