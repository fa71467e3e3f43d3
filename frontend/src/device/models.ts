// Which model file the browser runs for a style, from its entry in GET /styles (the model card's
// `model` and `variants`, each with file, bytes and sha256), and where the site serves model files.
import type { Style } from "../api/types";
import type { DeviceModel } from "./stylize";

export interface ModelFile {
  /** "fp32" for the main model, else the variant's name (int8, fp16). */
  variant: string;
  file: string;
  bytes: number | null;
  sha256: string;
  /** A multi-style file's styles, in the order of its style_weights input. */
  styles?: string[];
  /** Where the file is when not under the site's models (a user's own style: GET /jobs/{id}/model). */
  url?: string;
  /** The Authorization header its download needs (a user's own style, on a stack that signs users in). */
  authorization?: () => Promise<string | null>;
}

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

/** The file of `variant` where the style has it, else its main model; null where it names none. */
export function deviceModelFor(style: Style, variant: string, modelsBaseUrl: string): DeviceModel | null {
  const files = style.modelFiles ?? [];
  const chosen = files.find((f) => f.variant === variant) ?? files[0];
  if (!chosen) return null;
  const base = new URL(modelsBaseUrl.replace(/\/*$/, "/"), globalThis.location?.href ?? "http://localhost/");
  return {
    file: {
      url: new URL(chosen.url ?? chosen.file, base).href,
      sha256: chosen.sha256,
      bytes: chosen.bytes ?? undefined,
      ...(chosen.authorization && { authorization: chosen.authorization }),
    },
    styles: chosen.styles,
    styleId: style.id,
  };
}
