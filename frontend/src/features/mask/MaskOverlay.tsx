import { useCallback, useEffect, useRef } from "react";
import type { CSSProperties } from "react";
import type { Dirty } from "./maskPlane";
import type { MaskEditor, MaskPoint } from "./useMask";

// The style's side of the mask, drawn as this translucent tint over the picture while the mask is edited.
const TINT = [255, 61, 127] as const;
const TINT_ALPHA = 0.55;

// The mask over the picture while it is edited: pointer events, so a mouse, a pen (with its pressure) and a
// finger all paint; on a touch screen painting does not scroll the page (touch-action: none, in styles.css).
export function MaskOverlay({ editor, style }: { editor: MaskEditor; style?: CSSProperties }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const pixels = useRef<ImageData | null>(null);
  const { width, height, plane } = editor;

  const draw = useCallback(
    (dirty?: Dirty) => {
      const context = canvas.current?.getContext("2d");
      if (!context) return;
      if (pixels.current?.width !== width || pixels.current.height !== height) pixels.current = context.createImageData(width, height);
      const image = pixels.current;
      const mask = editor.current();
      const area = dirty ?? { x: 0, y: 0, width, height };
      for (let y = area.y; y < area.y + area.height; y++) {
        for (let x = area.x; x < area.x + area.width; x++) {
          const i = y * width + x;
          image.data.set([TINT[0], TINT[1], TINT[2], TINT_ALPHA * (mask ? mask.data[i]! : 255)], 4 * i);
        }
      }
      context.putImageData(image, 0, 0, area.x, area.y, area.width, area.height);
    },
    [editor, width, height],
  );

  useEffect(() => draw(), [draw, plane]);

  // From the page's pixels to the mask's (the canvas is shown at the picture's size on screen).
  const pointOf = (target: HTMLCanvasElement, event: PointerEvent): MaskPoint => {
    const box = target.getBoundingClientRect();
    return {
      x: ((event.clientX - box.left) / box.width) * width,
      y: ((event.clientY - box.top) / box.height) * height,
      pressure: event.pointerType === "pen" ? event.pressure : 0,
    };
  };

  return (
    <canvas
      ref={canvas}
      className="mask-canvas"
      width={width}
      height={height}
      style={style}
      data-testid="mask-canvas"
      role="img"
      aria-label="The mask: tinted where the style goes. Paint on it with a mouse, a pen or a finger."
      onPointerDown={(event) => {
        if (event.button !== 0) return;
        event.currentTarget.setPointerCapture?.(event.pointerId);
        event.preventDefault();
        draw(editor.startStroke(pointOf(event.currentTarget, event.nativeEvent)));
      }}
      onPointerMove={(event) => {
        if (!event.currentTarget.hasPointerCapture?.(event.pointerId)) return;
        // A pen or a fast mouse sends more points than events: each one makes the stroke smoother.
        const coalesced = event.nativeEvent.getCoalescedEvents?.() ?? [];
        for (const point of coalesced.length ? coalesced : [event.nativeEvent]) {
          const dirty = editor.continueStroke(pointOf(event.currentTarget, point));
          if (dirty) draw(dirty);
        }
      }}
      onPointerUp={() => editor.endStroke()}
      onPointerCancel={() => editor.endStroke()}
      onLostPointerCapture={() => editor.endStroke()}
    />
  );
}
