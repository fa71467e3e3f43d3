import { coverage, filledPlane, invertPlane, maskSize, stamp, strokeSegment } from "./maskPlane";

describe("the mask's brush", () => {
  it("is full in its core and falls smoothly to nothing at its radius", () => {
    expect(coverage(0, 10)).toBe(1);
    expect(coverage(5, 10)).toBe(1);
    expect(coverage(7.5, 10)).toBeCloseTo(0.5, 5);
    expect(coverage(10, 10)).toBe(0);
    expect(coverage(9, 10)).toBeGreaterThan(0);
  });

  it("paints the style where it goes, with a soft edge, and leaves the rest", () => {
    const plane = filledPlane(40, 20, 0);
    stamp(plane, 10, 10, 6, "paint");
    const at = (x: number, y: number) => plane.data[y * 40 + x]!;
    expect(at(10, 10)).toBe(255);
    expect(at(15, 10)).toBeGreaterThan(0);
    expect(at(15, 10)).toBeLessThan(255);
    expect(at(30, 10)).toBe(0);
  });

  it("erases back to the photo, and a stroke covers the way between its points", () => {
    const plane = filledPlane(40, 20, 255);
    const dirty = strokeSegment(plane, { x: 5, y: 10 }, { x: 35, y: 10 }, 3, "erase");
    for (let x = 5; x <= 35; x++) expect(plane.data[10 * 40 + x]).toBe(0);
    expect(plane.data[0]).toBe(255);
    expect(dirty.x).toBeLessThanOrEqual(5);
    expect(dirty.x + dirty.width).toBeGreaterThanOrEqual(38);
  });

  it("inverts, and is held to 1024 px on its long side", () => {
    expect([...invertPlane({ data: Uint8Array.from([0, 100, 255]), width: 3, height: 1 }).data]).toEqual([255, 155, 0]);
    expect(maskSize(2048, 1536)).toEqual({ width: 1024, height: 768 });
    expect(maskSize(640, 480)).toEqual({ width: 640, height: 480 });
  });
});
