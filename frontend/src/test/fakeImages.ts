// A stand-in for the browser's decoder and canvas (jsdom has neither). A "photo" is a blob whose text
// is "WIDTHxHEIGHT"; the fake JPEG encoder records what it was asked and makes bytes in proportion to
// pixels and quality, as a real encoder roughly does. The real backend runs in the e2e tests.
import type { DecodedImage, ImageBackend } from "../image/pipeline";

export function fakePhoto(width: number, height: number, name = "holiday.jpg", type = "image/jpeg"): File {
  return new File([`${width}x${height}`], name, { type });
}

export class FakeBackend implements ImageBackend {
  encodes: { width: number; height: number; quality: number }[] = [];
  closed = 0;
  constructor(private bytesPerPixelAtFullQuality = 0.25) {}

  async decode(file: Blob): Promise<DecodedImage> {
    const match = /^(\d+)x(\d+)$/.exec(await file.text());
    if (!match) throw new Error("not an image");
    return {
      width: Number(match[1]),
      height: Number(match[2]),
      source: {} as CanvasImageSource,
      close: () => void this.closed++,
    };
  }

  async encodeJpeg(_image: DecodedImage, width: number, height: number, quality: number): Promise<Blob> {
    this.encodes.push({ width, height, quality });
    const size = Math.round(width * height * this.bytesPerPixelAtFullQuality * quality);
    return new Blob([new Uint8Array(size)], { type: "image/jpeg" });
  }
}
