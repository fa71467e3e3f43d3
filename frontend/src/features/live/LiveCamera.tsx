import { useState } from "react";
import type { LiveCamera } from "./useLiveCamera";
import { Segmented } from "../../components/Segmented";

export const LIVE_SIZES = [256, 384, 512] as const;
const SIZE_OPTIONS = LIVE_SIZES.map((size) => ({ value: String(size), label: `${size} px` }));

/** The stage in live mode: the stylized camera, its frame rate, and the snapshot's download. */
export function LiveStage({ camera }: { camera: LiveCamera }) {
  const [shot, setShot] = useState<{ url: string; fileName: string; width: number; height: number } | null>(null);
  const [saving, setSaving] = useState(false);
  const take = async () => {
    setSaving(true);
    try {
      const next = await camera.snapshot();
      setShot((old) => {
        if (old) URL.revokeObjectURL(old.url);
        return next;
      });
    } finally {
      setSaving(false);
    }
  };
  return (
    <div className="stage" data-testid="live-stage" data-camera={camera.state}>
      <div className="live">
        <video ref={camera.videoRef} className="live__video" muted playsInline aria-hidden="true" />
        <canvas ref={camera.canvasRef} className="live__canvas" data-testid="live-canvas" aria-label="The camera, stylized" role="img" hidden={camera.state === "off"} />
        {camera.state === "off" && <p className="stage__lead">Start the camera to see it painted live, on this device.</p>}
        {camera.state === "starting" && <p className="stage__lead">Starting the camera…</p>}
        <p className="live__stats" aria-live="off" data-testid="live-fps">
          {camera.state === "on" ? (camera.fps === null ? "Warming up…" : `${camera.fps.toFixed(1)} frames per second`) : ""}
        </p>
        {camera.state === "on" && (
          <div className="live__actions">
            <button type="button" className="button button--secondary" onClick={take} disabled={saving}>
              {saving ? "Painting the snapshot…" : "Take a snapshot"}
            </button>
            {shot && (
              <a className="button button--primary" href={shot.url} download={shot.fileName} data-testid="snapshot-download">
                Download snapshot ({shot.width} × {shot.height})
              </a>
            )}
          </div>
        )}
      </div>
    </div>
  );
}

export function LiveSizeField({ size, onSize }: { size: number; onSize(size: number): void }) {
  return (
    <Segmented
      name="live-size"
      legend="Frame size"
      options={SIZE_OPTIONS}
      value={String(size)}
      onChange={(value) => onSize(Number(value))}
      hint="The longer side of each painted frame: smaller is smoother."
    />
  );
}
