import { maskAtSize, mixPixels } from "./mix";
import { fitWithin, prepareImage } from "./pipeline";
import { FakeBackend } from "../test/fakeImages";

describe("mixPixels", () => {
  it("is strength * stylized + (1 - strength) * photo, rounded half to even and clamped, the result's alpha kept", () => {
    const photo = new Uint8ClampedArray([0, 100, 255, 255, 10, 20, 30, 255]);
    const stylized = new Uint8ClampedArray([255, 200, 0, 128, 11, 20, 30, 255]);
    expect([...mixPixels(photo, stylized, 0.5)]).toEqual([128, 150, 128, 128, 10, 20, 30, 255]); // 127.5 -> 128, 10.5 -> 10
    expect([...mixPixels(photo, stylized, 1)]).toEqual([...stylized]);
    expect([...mixPixels(photo, stylized, 0).subarray(0, 3)]).toEqual([0, 100, 255]);
    expect([...mixPixels(photo, stylized, 0.7).subarray(0, 3)]).toEqual([178, 170, 77]); // 0.7 * 255 is 178.49999999999997 in floating point, 76.5 rounds to even
  });

  it("refuses images of different sizes", () => {
    expect(() => mixPixels(new Uint8ClampedArray(8), new Uint8ClampedArray(4), 0.5)).toThrow(/differ in size/);
  });
});

describe("the mask, mixed in the browser", () => {
  // Two pixels: the photo (10, 20, 30) and the style (210, 120, 230); a second style (50, 60, 70).
  const photo = new Uint8ClampedArray([10, 20, 30, 255, 10, 20, 30, 255]);
  const style = new Uint8ClampedArray([210, 120, 230, 255, 210, 120, 230, 255]);
  const other = new Uint8ClampedArray([50, 60, 70, 255, 50, 60, 70, 255]);
  const rgb = (pixels: Uint8ClampedArray, at: number) => [...pixels.subarray(4 * at, 4 * at + 3)];

  it("black is the photo, white the full style, gray between, times the strength", () => {
    const mixed = mixPixels(photo, style, 1, { mask: Float32Array.from([0, 1]) });
    expect(rgb(mixed, 0)).toEqual([10, 20, 30]);
    expect(rgb(mixed, 1)).toEqual([210, 120, 230]);
    expect(rgb(mixPixels(photo, style, 1, { mask: Float32Array.from([0.5, 0.5]) }), 0)).toEqual([110, 70, 130]);
    expect(rgb(mixPixels(photo, style, 0.5, { mask: Float32Array.from([1, 0]) }), 0)).toEqual([110, 70, 130]);
    expect(rgb(mixPixels(photo, style, 0.5, { mask: Float32Array.from([1, 0]) }), 1)).toEqual([10, 20, 30]);
  });

  it("with a second style, each style on its side, and the strength mixing that blend with the photo", () => {
    const mask = Float32Array.from([1, 0]);
    const both = mixPixels(photo, style, 1, { mask, otherSide: other });
    expect(rgb(both, 0)).toEqual([210, 120, 230]);
    expect(rgb(both, 1)).toEqual([50, 60, 70]);
    expect(rgb(mixPixels(photo, style, 1, { mask: Float32Array.from([0.5, 0.25]), otherSide: other }), 1)).toEqual([90, 75, 110]);
    expect(rgb(mixPixels(photo, style, 0.5, { mask, otherSide: other }), 1)).toEqual([30, 40, 50]);
  });

  it("refuses a mask of another size than the images", () => {
    expect(() => mixPixels(photo, style, 1, { mask: Float32Array.from([1]) })).toThrow(/differ in size/);
  });

  it("is resampled smoothly to the result's size", () => {
    // A 2x1 mask, black then white, stretched to 8x2: a ramp, not a step; the ends kept.
    const weights = maskAtSize({ data: Uint8Array.from([0, 255]), width: 2, height: 1 }, 8, 2);
    const row = [...weights.subarray(0, 8)];
    expect(row[0]).toBe(0);
    expect(row[7]).toBe(1);
    for (let x = 1; x < 8; x++) expect(row[x]!).toBeGreaterThanOrEqual(row[x - 1]!);
    expect(row.filter((w) => w > 0 && w < 1).length).toBeGreaterThanOrEqual(3);
    expect([...weights.subarray(8)]).toEqual(row);
    // Reduced, it averages: a fine checkerboard becomes an even gray.
    const checks = Uint8Array.from({ length: 64 }, (_, i) => ((i % 8) + Math.floor(i / 8)) % 2 ? 255 : 0);
    const gray = maskAtSize({ data: checks, width: 8, height: 8 }, 2, 2);
    for (const w of gray) expect(w).toBeCloseTo(0.5, 1);
  });
});

describe("the prepared photo's size", () => {
  it("is held to the server's 2.1 megapixels as well as the longest side, as the server's fit_size", () => {
    expect(fitWithin(2000, 1500, 2048, 2_100_000)).toEqual({ width: 1673, height: 1255 });
    expect(fitWithin(4000, 3000, 2048, 2_100_000)).toEqual({ width: 1673, height: 1255 });
    expect(fitWithin(1920, 1080, 2048, 2_100_000)).toEqual({ width: 1920, height: 1080 });
    expect(fitWithin(3000, 3000, 2048, 2_100_000)).toEqual({ width: 1449, height: 1449 });
  });

  it("defaults to 2048 px and the server's cap", async () => {
    const prepared = await prepareImage(new Blob(["2048x1024"], { type: "image/jpeg" }), { backend: new FakeBackend() });
    expect(prepared).toMatchObject({ width: 2048, height: 1024 });
    const big = await prepareImage(new Blob(["2000x1500"], { type: "image/jpeg" }), { backend: new FakeBackend() });
    expect(big).toMatchObject({ width: 1673, height: 1255, originalWidth: 2000, originalHeight: 1500 });
  });

  it("says an empty file is empty", async () => {
    await expect(prepareImage(new File([], "x.jpg", { type: "image/jpeg" }), { backend: new FakeBackend() })).rejects.toThrow("“x.jpg” is empty (0 bytes)");
  });
});
