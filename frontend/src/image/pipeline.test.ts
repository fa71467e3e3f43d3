import { FakeBackend, fakePhoto } from "../test/fakeImages";
import { base64ToBlob, blobToBase64, fitWithin, formatBytes, ImageReadError, prepareImage } from "./pipeline";

describe("fitWithin", () => {
  it("scales the longer side down to the maximum, keeping the aspect ratio", () => {
    expect(fitWithin(4032, 3024, 1024)).toEqual({ width: 1024, height: 768 });
    expect(fitWithin(3024, 4032, 1024)).toEqual({ width: 768, height: 1024 });
    expect(fitWithin(5000, 100, 1000)).toEqual({ width: 1000, height: 20 });
  });

  it("never upscales and never returns a zero side", () => {
    expect(fitWithin(640, 480, 1024)).toEqual({ width: 640, height: 480 });
    expect(fitWithin(10000, 3, 1000)).toEqual({ width: 1000, height: 1 });
  });
});

describe("prepareImage", () => {
  it("downscales a large photo to the maximum side and reports what was sent", async () => {
    const backend = new FakeBackend();
    const file = fakePhoto(4000, 3000);
    const prepared = await prepareImage(file, { maxSide: 1024, backend });
    expect(prepared).toMatchObject({ width: 1024, height: 768, originalWidth: 4000, originalHeight: 3000 });
    expect(prepared.originalBytes).toBe(file.size);
    expect(prepared.blob.type).toBe("image/jpeg");
    expect(backend.encodes[0]).toEqual({ width: 1024, height: 768, quality: 0.92 });
    expect(backend.closed).toBe(1);
  });

  it("follows the configured maximum side", async () => {
    const prepared = await prepareImage(fakePhoto(3000, 4000), { maxSide: 512, backend: new FakeBackend() });
    expect([prepared.width, prepared.height]).toEqual([384, 512]);
  });

  it("lowers the JPEG quality until the bytes fit the budget", async () => {
    const backend = new FakeBackend(1);
    // 1000x1000 at 1 byte/pixel: 920 kB at 0.92, 750 kB at 0.75: only the latter fits 800 kB.
    const prepared = await prepareImage(fakePhoto(1000, 1000), { maxSide: 1000, maxBytes: 800_000, backend });
    expect(backend.encodes.map((encode) => encode.quality)).toEqual([0.92, 0.85, 0.75]);
    expect(prepared.quality).toBe(0.75);
    expect(prepared.blob.size).toBeLessThanOrEqual(800_000);
  });

  it("gives up with a clear error when nothing fits", async () => {
    const backend = new FakeBackend(1);
    await expect(prepareImage(fakePhoto(1000, 1000), { maxBytes: 10, backend })).rejects.toThrow(/too large/);
    expect(backend.closed).toBe(1);
  });

  it("refuses a file that is not an image without decoding it", async () => {
    const backend = new FakeBackend();
    const spy = vi.spyOn(backend, "decode");
    const notes = new File(["hello"], "notes.txt", { type: "text/plain" });
    const error = await prepareImage(notes, { backend }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImageReadError);
    expect((error as Error).message).toMatch(/“notes\.txt” isn’t an image/);
    expect(spy).not.toHaveBeenCalled();
  });

  it("says why a HEIC photo cannot be opened", async () => {
    const heic = new File(["ftypheic"], "IMG_0001.HEIC", { type: "" });
    await expect(prepareImage(heic, { backend: new FakeBackend() })).rejects.toThrow(/HEIC photo.*as JPEG/);
  });

  it("reports an image file the browser cannot decode as unreadable", async () => {
    const broken = new File(["\x89PNG garbage"], "broken.png", { type: "image/png" });
    await expect(prepareImage(broken, { backend: new FakeBackend() })).rejects.toThrow(ImageReadError);
  });
});

describe("base64", () => {
  it("round-trips every byte value through base64, beyond one chunk", async () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    const base64 = await blobToBase64(new Blob([bytes]));
    expect(base64.startsWith("AAcOFRwjKjE4P0ZN")).toBe(true);
    const back = new Uint8Array(await base64ToBlob(base64, "image/jpeg").arrayBuffer());
    expect(back).toEqual(bytes);
  });
});

it("formats byte counts for people", () => {
  expect(formatBytes(900)).toBe("900 B");
  expect(formatBytes(184_320)).toBe("180 kB");
  expect(formatBytes(3_250_000)).toBe("3.1 MB");
});
