import type { CSSProperties } from "react";

/** Inline style for a box with an image's aspect ratio; the CSS fits it inside the stage with --ratio. */
export function boxStyle(width: number, height: number): CSSProperties {
  return { aspectRatio: `${width} / ${height}`, ["--ratio" as string]: width / height };
}
