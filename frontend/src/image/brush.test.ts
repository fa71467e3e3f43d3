// The browser's brush against the server's: stylecore/brush.py's results on small arrays
// (src/test/make_brush_fixture.py writes the fixture), and the API's brush range as openapi.yaml has it.
import fixture from "../test/brush-fixture.json";
import { openapi } from "../test/contract";
import { BRUSH_RANGE, BRUSH_STOPS, DEFAULT_BRUSH, boxMean, guidedGain, luminance, paintingSize, upsamplePainting, workingSide } from "./brush";
import { resizePlane, resizeRgb, type Rgb8 } from "./resample";

function rgba(rgb: number[], width: number, height: number): Rgb8 {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) {
    data.set([rgb[3 * i]!, rgb[3 * i + 1]!, rgb[3 * i + 2]!, 255], 4 * i);
  }
  return { data, width, height };
}

function rgbOf({ data }: Rgb8): number[] {
  return [...data].filter((_, i) => i % 4 !== 3);
}

function maxDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
  return worst;
}

describe("the brush option", () => {
  it("has the range and default of openapi.yaml's StylizeRequest.brush", () => {
    const schema = openapi.components.schemas.StylizeRequest.properties.brush;
    expect(BRUSH_RANGE).toEqual([schema.minimum, schema.maximum]);
    expect(DEFAULT_BRUSH).toBe(schema.default);
    expect([BRUSH_STOPS[0], BRUSH_STOPS.at(-1)]).toEqual([...BRUSH_RANGE]);
    expect(BRUSH_STOPS).toContain(DEFAULT_BRUSH);
    expect([...BRUSH_STOPS].sort((a, b) => a - b)).toEqual([...BRUSH_STOPS]);
  });

  it("paints at the server's working size, never above the photo's own", () => {
    for (const [w, h, brush, pw, ph] of fixture.paintingSize) {
      expect(paintingSize(w!, h!, brush!)).toEqual({ width: pw, height: ph });
    }
    expect(workingSide(1)).toBe(1024);
    expect(workingSide(0.125)).toBe(8192);
  });
});

describe("Pillow's resampling, as the server's", () => {
  it.each(["lanczos", "lanczos_reduced"] as const)("%s: 8-bit RGB identical to the byte", (name) => {
    const c = fixture[name];
    const out = resizeRgb(rgba(c.photo, c.width, c.height), c.size[0]!, c.size[1]!, "lanczos", 3);
    expect([out.width, out.height]).toEqual(c.size);
    expect(rgbOf(out)).toEqual(c.out);
  });

  it.each(["bicubic", "bilinear"] as const)("%s on a float plane to 1e-3", (name) => {
    const c = fixture[name];
    const out = resizePlane(Float32Array.from(c.plane), c.width, c.height, c.size[0]!, c.size[1]!, name);
    expect(maxDifference(out, c.out)).toBeLessThan(1e-3);
  });
});

describe("the guided-filter upsampling (brush.upsample_painting)", () => {
  const c = fixture.upsample;
  const small = rgba(c.small, c.smallWidth, c.smallHeight);
  const painting = { data: Float32Array.from(c.painting), width: c.smallWidth, height: c.smallHeight };

  it("box means with shrinking windows at the borders", () => {
    expect(maxDifference(boxMean(luminance(small), c.smallWidth, c.smallHeight, 2), c.boxMean)).toBeLessThan(1e-3);
  });

  it("the gain of each channel on the photo's luminance", () => {
    expect(maxDifference(guidedGain(luminance(small), painting), c.gain)).toBeLessThan(1e-4);
  });

  it("the painting at full size, the photo's detail added back, to 1e-2 of a level", () => {
    const out = upsamplePainting(painting, small, rgba(c.photo, c.width, c.height));
    expect([out.width, out.height]).toEqual([c.width, c.height]);
    expect(maxDifference(out.data, c.out)).toBeLessThan(1e-2);
  });

  it("adds detail: it differs from plain bicubic where the photo has an edge", () => {
    const out = upsamplePainting(painting, small, rgba(c.photo, c.width, c.height));
    const plain = resizePlane(painting.data.subarray(0, c.smallWidth * c.smallHeight), c.smallWidth, c.smallHeight, c.width, c.height, "bicubic");
    expect(maxDifference(out.data.subarray(0, c.width * c.height), plain)).toBeGreaterThan(1);
  });
});
