// Strength in the browser: a result at a strength under 100% is the photo and the full-strength result
// mixed pixel by pixel, `strength * stylized + (1 - strength) * photo`, exactly what the server computes
// (stylecore.pipeline.stylize_pixels, on the clamped output, rounded half to even by the clamped array).
// So the app stylizes once at full strength and the strength slider never waits for the server or the
// device: the screen shows the mix with CSS opacity (the same sum, composited by the browser), and the
// download is this mix of the two images' pixels at the result's size.

/** The mix of two RGBA images of one size; alpha is the stylized image's (the photo's, as the server keeps). */
export function mixPixels(photo: Uint8ClampedArray, stylized: Uint8ClampedArray, strength: number): Uint8ClampedArray<ArrayBuffer> {
  if (photo.length !== stylized.length) throw new Error("the photo and the result differ in size");
  const out = new Uint8ClampedArray(stylized.length);
  const keep = 1 - strength;
  for (let i = 0; i < out.length; i += 4) {
    out[i] = strength * stylized[i]! + keep * photo[i]!;
    out[i + 1] = strength * stylized[i + 1]! + keep * photo[i + 1]!;
    out[i + 2] = strength * stylized[i + 2]! + keep * photo[i + 2]!;
    out[i + 3] = stylized[i + 3]!;
  }
  return out;
}

export interface MixRequest {
  /** The photo as the server or the device read it (the prepared JPEG, or the original for full size). */
  photo: Blob;
  /** The full-strength result. */
  stylized: Blob;
  width: number;
  height: number;
  strength: number;
}

/** Makes the download of a result at a strength; tests pass a fake (jsdom has no canvas). */
export type Mixer = (request: MixRequest) => Promise<Blob>;

/** The browser's mixer: both images decoded at the result's size, mixed, encoded as the result was. */
export const browserMixer: Mixer = async ({ photo, stylized, width, height, strength }) => {
  const [photoPixels, stylizedPixels] = await Promise.all([pixelsOf(photo, width, height), pixelsOf(stylized, width, height)]);
  const canvas = document.createElement("canvas");
  canvas.width = width;
  canvas.height = height;
  const context = canvas.getContext("2d");
  if (!context) throw new Error("this browser cannot draw images (no 2D canvas)");
  context.putImageData(new ImageData(mixPixels(photoPixels, stylizedPixels, strength), width, height), 0, 0);
  const type = stylized.type === "image/png" ? "image/png" : "image/jpeg";
  return new Promise((resolve, reject) =>
    canvas.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("could not encode the result"))), type, 0.9),
  );
};

async function pixelsOf(blob: Blob, width: number, height: number): Promise<Uint8ClampedArray> {
  // The prepared photo is already upright ("none"), as the device and the server read it.
  const bitmap = await createImageBitmap(blob, { imageOrientation: "none", premultiplyAlpha: "none", colorSpaceConversion: "none" });
  try {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d", { willReadFrequently: true });
    if (!context) throw new Error("this browser cannot draw images (no 2D canvas)");
    context.imageSmoothingQuality = "high";
    context.drawImage(bitmap, 0, 0, width, height);
    return context.getImageData(0, 0, width, height).data;
  } finally {
    bitmap.close();
  }
}
