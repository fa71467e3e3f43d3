// The mask of the photo on screen: painted with a soft round brush or erased, inverted, cleared. It stays with
// its photo and goes with it (a new photo starts with none). None means the style everywhere; the first
// stroke starts from the photo everywhere (painting) or from the style everywhere (erasing).
import { useCallback, useEffect, useRef, useState } from "react";
import type { MaskPlane } from "../../image/mix";
import type { Photo } from "../../types";
import { filledPlane, invertPlane, maskSize, stamp, strokeSegment, type Dirty, type MaskTool } from "./maskPlane";

/** The brush's diameter as a share of the photo's long side: its range and default. */
export const MASK_BRUSH_RANGE = [0.01, 0.25] as const;
export const DEFAULT_MASK_BRUSH = 0.06;

export interface MaskPoint {
  x: number;
  y: number;
  /** A pen's pressure, 0..1; 0.5 for a mouse or a finger (Pointer Events' default). */
  pressure: number;
}

export interface MaskEditor {
  /** The mask to mix with, or null: the style everywhere. A new object after every change. */
  plane: MaskPlane | null;
  /** The mask's size: the photo's, held within 1024 px. */
  width: number;
  height: number;
  editing: boolean;
  setEditing(editing: boolean): void;
  tool: MaskTool;
  setTool(tool: MaskTool): void;
  brushSize: number;
  setBrushSize(size: number): void;
  /** The mask being painted (changed in place during a stroke), for drawing it. */
  current(): MaskPlane | null;
  startStroke(point: MaskPoint): Dirty;
  continueStroke(point: MaskPoint): Dirty | null;
  endStroke(): void;
  invert(): void;
  clear(): void;
}

export function useMask(photo: Photo | null): MaskEditor {
  const { width, height } = photo ? maskSize(photo.width, photo.height) : { width: 1, height: 1 };
  const [plane, setPlane] = useState<MaskPlane | null>(null);
  const [editing, setEditing] = useState(false);
  const [tool, setTool] = useState<MaskTool>("paint");
  const [brushSize, setBrushSize] = useState(DEFAULT_MASK_BRUSH);
  const working = useRef<MaskPlane | null>(null);
  const last = useRef<MaskPoint | null>(null);

  // A new photo starts with no mask (the style everywhere) and out of the editor.
  const photoKey = photo?.previewUrl ?? null;
  useEffect(() => {
    working.current = null;
    last.current = null;
    setPlane(null);
    setEditing(false);
  }, [photoKey]);

  const radius = useCallback(
    ({ pressure }: MaskPoint) => (brushSize * Math.max(width, height)) / 2 * (pressure > 0 ? 0.5 + pressure : 1),
    [brushSize, width, height],
  );

  const startStroke = useCallback(
    (point: MaskPoint) => {
      working.current ??= plane ? { ...plane, data: plane.data.slice() } : filledPlane(width, height, tool === "paint" ? 0 : 255);
      last.current = point;
      return stamp(working.current, point.x, point.y, radius(point), tool);
    },
    [plane, width, height, tool, radius],
  );

  const continueStroke = useCallback(
    (point: MaskPoint) => {
      if (!working.current || !last.current) return null;
      const dirty = strokeSegment(working.current, last.current, point, radius(point), tool);
      last.current = point;
      return dirty;
    },
    [tool, radius],
  );

  // The mix follows a finished stroke, not every move: a copy is committed, the working plane goes on.
  const endStroke = useCallback(() => {
    if (!working.current || !last.current) return;
    last.current = null;
    setPlane({ ...working.current, data: working.current.data.slice() });
  }, []);

  const invert = useCallback(() => {
    const next = invertPlane(working.current ?? filledPlane(width, height, 255));
    working.current = { ...next, data: next.data.slice() };
    setPlane(next);
  }, [width, height]);

  const clear = useCallback(() => {
    working.current = null;
    setPlane(null);
  }, []);

  return {
    plane, width, height, editing, setEditing, tool, setTool, brushSize, setBrushSize,
    current: () => working.current ?? plane,
    startStroke, continueStroke, endStroke, invert, clear,
  };
}
