import { describe, expect, it } from "vitest";
import type { ModelFile, Style } from "../api/types";
import { STEADY_VARIANT, deviceModelFor } from "./models";

const file = (variant: string): ModelFile => ({
  variant, file: variant === "fp32" ? "bundled.onnx" : `bundled.${variant}.onnx`, bytes: 1, sha256: variant[0]!.repeat(64),
});
const style = (...variants: string[]): Style => ({
  id: "great_wave", name: "The Great Wave", artist: "Hokusai", year: 1831, thumbnail: null, modelFiles: variants.map(file),
});
const chosen = (s: Style, variants: string | string[]) => deviceModelFor(s, variants, "/models")?.file.url;

describe("deviceModelFor", () => {
  it("takes the first variant asked for that the style has, else its main model", () => {
    const all = style("fp32", "halfres", STEADY_VARIANT);
    expect(chosen(all, "halfres")).toMatch(/\/models\/bundled\.halfres\.onnx$/);
    expect(chosen(all, [STEADY_VARIANT, "halfres"])).toMatch(/\/models\/bundled\.steady\.onnx$/);
    // A network without a steady file (a user's own style, say): the file photos use.
    expect(chosen(style("fp32", "halfres"), [STEADY_VARIANT, "halfres"])).toMatch(/\/models\/bundled\.halfres\.onnx$/);
    expect(chosen(style("fp32"), [STEADY_VARIANT, "halfres"])).toMatch(/\/models\/bundled\.onnx$/);
    expect(deviceModelFor(style(), "halfres", "/models")).toBeNull();
  });
});
