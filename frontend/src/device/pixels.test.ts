import { cropGrid, finish, padSymmetric, poolStats, tiles, toPlanar, type Planar } from "./pixels";

// Two pixels: a network output (unclamped, with exact .5s) and the photo under it. The expected bytes are
// what stylecore gives for the same numbers (transfer_luminance, the strength blend, to_uint8).
const OUT: Planar = { data: new Float32Array([300.2, 10.4, -20.5, 200.6, 128.5, 90.5]), width: 2, height: 1 };
const PHOTO = { data: new Uint8ClampedArray([10, 20, 30, 255, 250, 128, 0, 77]), width: 2, height: 1 };

describe("the server's pixel maths", () => {
  test("full strength: clamped and rounded half to even, the photo's alpha kept", () => {
    expect([...finish(OUT, PHOTO, { strength: 1, keepColours: false }).data]).toEqual([255, 0, 128, 255, 10, 201, 90, 77]);
  });

  test("keep colours: the style's luminance with the photo's chroma", () => {
    expect([...finish(OUT, PHOTO, { strength: 1, keepColours: true }).data]).toEqual([84, 94, 104, 255, 231, 109, 0, 77]);
  });

  test("strength blends the clamped style over the photo; 0 is the photo itself", () => {
    expect([...finish(OUT, PHOTO, { strength: 0.3, keepColours: false }).data]).toEqual([84, 14, 60, 255, 178, 150, 27, 77]);
    expect([...finish(OUT, PHOTO, { strength: 0, keepColours: true }).data]).toEqual([...PHOTO.data]);
  });

  test("crops for the pooled statistics are cut as stylizer.crop_grid cuts them", () => {
    expect(cropGrid(2048, 2048, 1_100_000)).toEqual([[0, 1024, 2048], [0, 1024, 2048]]);
    expect(cropGrid(1080, 1920, 1_100_000)).toEqual([[0, 1080], [0, 960, 1920]]);
    expect(cropGrid(3000, 1000, 2_100_000)).toEqual([[0, 1500, 3000], [0, 1000]]);
  });

  test("tiles cover the image once, each with its margin of context inside the image", () => {
    const plan = tiles(1000, 700, 400, 64);
    const covered = new Uint8Array(1000 * 700);
    for (const t of plan) {
      expect([t.y0, t.x0]).toEqual([Math.max(0, t.top - 64), Math.max(0, t.left - 64)]);
      expect([t.y1, t.x1]).toEqual([Math.min(1000, t.bottom + 64), Math.min(700, t.right + 64)]);
      for (let y = t.top; y < t.bottom; y++) for (let x = t.left; x < t.right; x++) covered[y * 700 + x]! += 1;
    }
    expect(covered.every((count) => count === 1)).toBe(true);
    expect(() => tiles(100, 100, 30, 64)).toThrow(/multiples of 4/);
  });

  test("pooled statistics are those of the union of the crops", () => {
    // Crop A: values {0, 2} (mean 1, var 1) over 2 px; crop B: {4} (mean 4, var 0) over 1 px -> {0, 2, 4}.
    const pooled = poolStats([
      { stats: new Float32Array([1, 1]), area: 2 },
      { stats: new Float32Array([4, 0]), area: 1 },
    ]);
    expect(pooled[0]).toBeCloseTo(2);
    expect(pooled[1]).toBeCloseTo(8 / 3);
  });

  test("tiny images are mirrored out to 16 px as numpy.pad(mode='symmetric') does", () => {
    const tiny = toPlanar({ data: new Uint8ClampedArray([1, 0, 0, 255, 2, 0, 0, 255, 3, 0, 0, 255]), width: 3, height: 1 });
    const padded = padSymmetric(tiny);
    expect([padded.width, padded.height]).toEqual([16, 16]);
    expect([...padded.data.subarray(0, 16)]).toEqual([1, 2, 3, 3, 2, 1, 1, 2, 3, 3, 2, 1, 1, 2, 3, 3]);
  });
});
