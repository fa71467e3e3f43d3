import { mixPixels } from "./mix";
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
