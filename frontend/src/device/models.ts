// Which model file the browser runs for a style (from the files its entry in GET /styles names), and where
// the site serves model files.
import type { Style } from "../api/types";
import type { DeviceModel } from "./stylize";

/** The variant for moving pictures (the live camera), as the server's (stylecore.modelfiles.STEADY_VARIANT): the
 * same styles from a network trained to hold still when the scene moves. Photos keep the served variant. */
export const STEADY_VARIANT = "steady";

/** The file of the first of `variants` the style has, else its main model; null where it names none. */
export function deviceModelFor(style: Style, variants: string | readonly string[], modelsBaseUrl: string): DeviceModel | null {
  const files = style.modelFiles ?? [];
  const wanted = typeof variants === "string" ? [variants] : variants;
  const chosen = wanted.map((variant) => files.find((f) => f.variant === variant)).find(Boolean) ?? files[0];
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
