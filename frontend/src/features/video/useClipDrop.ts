import { useEffect, useRef, useState } from "react";

// In the video mode a file dropped on the page is a clip. The photo mode listens for drops on the window too
// (a photo is taken in any mode): these listeners run first, in the capture phase, and keep the drop from it.
export function useClipDrop(onFile: (file: File) => void, enabled: boolean): boolean {
  const [dragging, setDragging] = useState(false);
  const depth = useRef(0); // dragenter/dragleave fire for every element crossed
  const onFileRef = useRef(onFile);
  onFileRef.current = onFile;

  useEffect(() => {
    if (!enabled) return;
    const carriesFiles = (event: DragEvent) => Array.from(event.dataTransfer?.types ?? []).includes("Files");
    const take = (event: DragEvent) => {
      if (!carriesFiles(event)) return false;
      event.stopPropagation();
      event.preventDefault(); // allows the drop, and keeps the browser from opening the file
      return true;
    };
    const handlers: Record<string, (event: DragEvent) => void> = {
      dragenter: (event) => {
        if (!take(event)) return;
        depth.current += 1;
        setDragging(true);
      },
      dragover: (event) => void (take(event) && event.dataTransfer && (event.dataTransfer.dropEffect = "copy")),
      dragleave: (event) => {
        if (!take(event)) return;
        depth.current = Math.max(0, depth.current - 1);
        if (depth.current === 0) setDragging(false);
      },
      drop: (event) => {
        if (!take(event)) return;
        depth.current = 0;
        setDragging(false);
        const file = event.dataTransfer?.files[0];
        if (file) onFileRef.current(file);
      },
    };
    const entries = Object.entries(handlers) as [string, EventListener][];
    entries.forEach(([name, handler]) => window.addEventListener(name, handler, { capture: true }));
    return () => {
      entries.forEach(([name, handler]) => window.removeEventListener(name, handler, { capture: true }));
      depth.current = 0;
      setDragging(false);
    };
  }, [enabled]);

  return dragging;
}
