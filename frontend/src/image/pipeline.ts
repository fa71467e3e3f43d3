// The in-browser image pipeline: decode with the EXIF orientation applied, downscale so the longest
// side is at most `maxSide` and the pixels within what the server stylizes in one request, flatten
// transparency and re-encode as JPEG, stepping the quality down until the bytes fit the API's budget.
// Phones produce 12-megapixel, 4 MB photos; what we send is at most a 2048-pixel, 2.1-megapixel JPEG
// (typically 0.4-1 MB), the largest result the server gives, so that nothing sent is thrown away.

export const DEFAULT_MAX_SIDE = 2048;
/** The server holds a result to this many pixels (openapi.yaml, StylizeRequest.max_size). */
export const SERVER_MAX_PIXELS = 2_100_000;
export const DEFAULT_MAX_BYTES = 4 * 1024 * 1024;
const QUALITY_LADDER = [0.92, 0.85, 0.75, 0.6, 0.45];

export interface PreparedImage {
  blob: Blob;
  width: number;
  height: number;
  /** Size after applying the EXIF orientation, before downscaling. */
  originalWidth: number;
  originalHeight: number;
  originalBytes: number;
  quality: number;
}

export interface DecodedImage {
  width: number;
  height: number;
  source: CanvasImageSource;
  close(): void;
}

/** What the pipeline needs from the platform; the browser one is below, tests pass their own. */
export interface ImageBackend {
  decode(file: Blob): Promise<DecodedImage>;
  encodeJpeg(image: DecodedImage, width: number, height: number, quality: number): Promise<Blob>;
}

export class ImageReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ImageReadError";
  }
}

/** The size that fits within `maxSide` on its longest edge and within `maxPixels`, keeping the aspect ratio;
 * never upscales (the server's stylecore.imaging.fit_size, so both sides agree on the size). */
export function fitWithin(width: number, height: number, maxSide: number, maxPixels = Infinity): { width: number; height: number } {
  const scale = Math.min(1, maxSide / Math.max(width, height), Math.sqrt(maxPixels / (width * height)));
  return {
    width: Math.max(1, Math.round(width * scale)),
    height: Math.max(1, Math.round(height * scale)),
  };
}

// Browsers decode formats beyond this list (HEIC on Safari, for one), so an unknown image type is
// still tried; only files that clearly are not images are refused before decoding.
export function looksLikeImage(file: Blob): boolean {
  return file.type === "" || file.type.startsWith("image/");
}

export async function prepareImage(
  file: Blob,
  options: { maxSide?: number; maxPixels?: number; maxBytes?: number; backend?: ImageBackend } = {},
): Promise<PreparedImage> {
  const { maxSide = DEFAULT_MAX_SIDE, maxPixels = SERVER_MAX_PIXELS, maxBytes = DEFAULT_MAX_BYTES, backend = browserBackend } = options;
  if (file.size === 0) throw new ImageReadError(`${nameOf(file)} is empty (0 bytes): there is no photo in it. Try the file again, or another one.`);
  if (!looksLikeImage(file)) throw new ImageReadError(notAnImageMessage(file));
  let decoded: DecodedImage;
  try {
    decoded = await backend.decode(file);
  } catch {
    throw new ImageReadError(notAnImageMessage(file));
  }
  try {
    if (decoded.width < 1 || decoded.height < 1) throw new ImageReadError("This image has no pixels.");
    const size = fitWithin(decoded.width, decoded.height, maxSide, maxPixels);
    for (const quality of QUALITY_LADDER) {
      const blob = await backend.encodeJpeg(decoded, size.width, size.height, quality);
      if (blob.size <= maxBytes) {
        return {
          blob,
          ...size,
          originalWidth: decoded.width,
          originalHeight: decoded.height,
          originalBytes: file.size,
          quality,
        };
      }
    }
    throw new ImageReadError("This photo is still too large after compression; try a smaller maximum size.");
  } finally {
    decoded.close();
  }
}

function nameOf(file: Blob): string {
  const fileName = file instanceof File ? file.name : "";
  return fileName ? `“${fileName}”` : "This file";
}

function notAnImageMessage(file: Blob): string {
  const fileName = file instanceof File ? file.name : "";
  const name = nameOf(file);
  if (/^image\/hei[cf]$/.test(file.type) || /\.hei[cf]$/i.test(fileName)) {
    return `${name} is a HEIC photo, which this browser cannot open. Share it as JPEG (or use Safari) and try again.`;
  }
  return `${name} isn’t an image this browser can read. Try a JPEG, PNG or WebP photo.`;
}

/** Base64 (no data: prefix) of a blob, as the API's JSON bodies carry images. */
export async function blobToBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = "";
  const chunk = 0x8000; // String.fromCharCode takes arguments on the stack: go in chunks
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

export function base64ToBlob(base64: string, type: string): Blob {
  const binary = atob(base64);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new Blob([bytes], { type });
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} kB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

export const browserBackend: ImageBackend = {
  async decode(file) {
    if (typeof createImageBitmap !== "function") return decodeWithImageElement(file);
    // "from-image" applies the EXIF orientation, so a portrait phone photo stays upright.
    const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" });
    return { width: bitmap.width, height: bitmap.height, source: bitmap, close: () => bitmap.close() };
  },
  async encodeJpeg(image, width, height, quality) {
    const canvas = document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    const context = canvas.getContext("2d");
    if (!context) throw new ImageReadError("This browser cannot draw images (no 2D canvas).");
    // JPEG has no alpha: flatten transparent PNGs onto white rather than the canvas's black.
    context.fillStyle = "#fff";
    context.fillRect(0, 0, width, height);
    context.imageSmoothingEnabled = true;
    context.imageSmoothingQuality = "high";
    context.drawImage(image.source, 0, 0, width, height);
    return new Promise((resolve, reject) =>
      canvas.toBlob(
        (blob) => (blob ? resolve(blob) : reject(new ImageReadError("This browser could not encode the image."))),
        "image/jpeg",
        quality,
      ),
    );
  },
};

// Browsers without createImageBitmap: an <img> applies the EXIF orientation too (CSS image-orientation
// defaults to from-image), and drawImage draws it that way.
async function decodeWithImageElement(file: Blob): Promise<DecodedImage> {
  const url = URL.createObjectURL(file);
  const image = new Image();
  image.src = url;
  try {
    await image.decode();
  } catch (error) {
    URL.revokeObjectURL(url);
    throw error;
  }
  return {
    width: image.naturalWidth,
    height: image.naturalHeight,
    source: image,
    close: () => URL.revokeObjectURL(url),
  };
}
