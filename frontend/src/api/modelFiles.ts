// A /styles entry's model files, from the wire (its model card's `model` and `variants`, each with file,
// bytes and sha256): only well-formed ones, so that the device never asks for a file the card does not pin.
import type { ModelFile } from "./types";

const FILE_NAME = /^[a-z0-9][a-z0-9_-]{0,63}(\.[a-z0-9_]{1,16})?\.onnx$/;

function modelFile(variant: string, raw: unknown): ModelFile | null {
  if (typeof raw !== "object" || raw === null) return null;
  const item = raw as Record<string, unknown>;
  if (typeof item.file !== "string" || !FILE_NAME.test(item.file)) return null;
  if (typeof item.sha256 !== "string" || !/^[0-9a-f]{64}$/.test(item.sha256)) return null;
  const styles = Array.isArray(item.styles) && item.styles.every((s) => typeof s === "string") ? (item.styles as string[]) : undefined;
  return { variant, file: item.file, bytes: typeof item.bytes === "number" ? item.bytes : null, sha256: item.sha256, styles };
}

/** The model files a /styles entry names: its main model, then its variants. */
export function modelFilesOf(entry: Record<string, unknown>): ModelFile[] {
  const files: ModelFile[] = [];
  const main = modelFile(typeof (entry.model as Record<string, unknown>)?.precision === "string"
    ? String((entry.model as Record<string, unknown>).precision) : "fp32", entry.model);
  if (main) files.push(main);
  if (typeof entry.variants === "object" && entry.variants !== null) {
    for (const [name, raw] of Object.entries(entry.variants)) {
      const file = modelFile(name, raw);
      if (file && file.file !== main?.file) files.push(file);
    }
  }
  return files;
}
