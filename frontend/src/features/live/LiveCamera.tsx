import { useCallback, useEffect, useRef, useState } from "react";
import type { LiveCamera } from "./useLiveCamera";
import { Segmented } from "../../components/Segmented";
import { LIVE_SIZES } from "./autoSize";
import "./live.css";

export { LIVE_SIZES };
export type SizeChoice = "auto" | (typeof LIVE_SIZES)[number];
const SIZE_OPTIONS = [
  { value: "auto", label: "Auto" },
  ...LIVE_SIZES.map((size) => ({ value: String(size), label: `${size} px` })),
];

interface Shot {
  url: string;
  fileName: string;
  width: number;
  height: number;
}

/** The stage in live mode: the stylized camera, its frame rate, full screen, the camera switch, and the
 * snapshot's download, which stays after the camera stops (until a new snapshot, or leaving the mode). */
export function LiveStage({ camera }: { camera: LiveCamera }) {
  const [shot, saving, take] = useSnapshot(camera);
  const live = useRef<HTMLDivElement | null>(null);
  const [fullscreen, toggleFullscreen] = useFullscreen(live);
  const on = camera.state === "on";
  return (
    <div className="stage" data-testid="live-stage" data-camera={camera.state} data-mirrored={camera.mirrored}>
      <div className="live" ref={live}>
        <video ref={camera.videoRef} className="live__video" muted playsInline aria-hidden="true" />
        <canvas ref={camera.canvasRef} className="live__canvas" data-testid="live-canvas" aria-label={camera.mirrored ? "The camera, stylized, mirrored" : "The camera, stylized"} role="img" hidden={camera.state === "off"} />
        {camera.state === "off" && shot && <img className="live__shot" src={shot.url} alt="Your last snapshot" data-testid="snapshot-image" />}
        {camera.state === "off" && !shot && <p className="stage__lead">Start the camera to see it painted live, on this device.</p>}
        {camera.state === "starting" && <p className="stage__lead">Starting the camera…</p>}
        <p className="live__stats" aria-live="off" data-testid="live-fps">
          {on ? (camera.fps === null ? "Warming up…" : `${camera.fps.toFixed(1)} frames per second`) : ""}
        </p>
        <div className="live__actions">
          {on && (
            <button type="button" className="button button--secondary" onClick={take} disabled={saving}>
              {saving ? "Painting the snapshot…" : "Take a snapshot"}
            </button>
          )}
          {on && camera.cameras.length > 1 && (
            <button type="button" className="button button--secondary" onClick={() => void camera.switchCamera()}>
              Switch camera
            </button>
          )}
          {on && fullscreenAvailable() && (
            <button type="button" className="button button--secondary" aria-pressed={fullscreen} onClick={toggleFullscreen}>
              {fullscreen ? "Exit full screen" : "Full screen"}
            </button>
          )}
          {shot && (
            <a className="button button--primary" href={shot.url} download={shot.fileName} data-testid="snapshot-download">
              Download snapshot ({shot.width} × {shot.height})
            </a>
          )}
        </div>
      </div>
    </div>
  );
}

/** The latest snapshot; its object URL is let go when a new one replaces it or the stage goes. */
function useSnapshot(camera: LiveCamera): [Shot | null, boolean, () => Promise<void>] {
  const [shot, setShot] = useState<Shot | null>(null);
  const [saving, setSaving] = useState(false);
  const kept = useRef<Shot | null>(null);
  useEffect(() => () => void (kept.current && URL.revokeObjectURL(kept.current.url)), []);
  const take = async () => {
    setSaving(true);
    try {
      const next = await camera.snapshot();
      if (kept.current) URL.revokeObjectURL(kept.current.url);
      kept.current = next;
      setShot(next);
    } finally {
      setSaving(false);
    }
  };
  return [shot, saving, take];
}

function fullscreenAvailable(): boolean {
  return Boolean(document.fullscreenEnabled);
}

/** Whether `element` is full screen (Esc or the browser's own controls leave it too), and a toggle. */
function useFullscreen(element: React.RefObject<HTMLElement | null>): [boolean, () => void] {
  const [fullscreen, setFullscreen] = useState(false);
  useEffect(() => {
    const changed = () => setFullscreen(Boolean(element.current) && document.fullscreenElement === element.current);
    document.addEventListener("fullscreenchange", changed);
    return () => document.removeEventListener("fullscreenchange", changed);
  }, [element]);
  const toggle = useCallback(() => {
    if (document.fullscreenElement) void document.exitFullscreen().catch(() => undefined);
    else void element.current?.requestFullscreen().catch(() => undefined); // refused: the page stays as it is
  }, [element]);
  return [fullscreen, toggle];
}

export function LiveSizeField({ choice, size, onChoice }: { choice: SizeChoice; size: number; onChoice(choice: SizeChoice): void }) {
  return (
    <Segmented
      name="live-size"
      legend="Frame size"
      options={SIZE_OPTIONS}
      value={String(choice)}
      onChange={(value) => onChoice(value === "auto" ? "auto" : (Number(value) as SizeChoice))}
      hint={
        choice === "auto"
          ? `Auto: ${size} px now, as large as this device keeps smooth.`
          : "The longer side of each painted frame: smaller is smoother."
      }
    />
  );
}
