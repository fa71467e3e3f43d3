// Which model file the browser runs for a style (from the files its entry in GET /styles names), and where
// the site serves model files.
import type { Style } from "../api/types";
import type { DeviceModel } from "./stylize";

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
      // A file with its own address is the API's training route (a user's own style): it wants the token.
      ...(chosen.url && { signedIn: true }),
    },
    styles: chosen.styles,
    styleId: style.id,
  };
}
