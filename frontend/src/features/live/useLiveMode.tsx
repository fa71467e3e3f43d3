// The live mode: the camera stylized frame after frame on this device, with snapshots at full resolution.
import { useEffect, useState } from "react";
import type { ModeProps, ModeView } from "../../components/ModeLayout";
import { AUTO_START, nextAutoSize } from "./autoSize";
import { LiveSizeField, LiveStage, type SizeChoice } from "./LiveCamera";
import { useLiveCamera } from "./useLiveCamera";

export function useLiveMode({ active, device, catalog: { style }, strength, keepColours }: ModeProps): ModeView {
  const [choice, setChoice] = useState<SizeChoice>("auto");
  const [auto, setAuto] = useState(AUTO_START);
  const size = choice === "auto" ? auto.size : choice; // the user's own choice wins over the measured one
  const camera = useLiveCamera(device, { style, size, strength, keepColours });
  const on = camera.state !== "off";
  const { stop, rate } = camera;

  // Another mode shown: the camera is released, as when the page goes.
  useEffect(() => {
    if (!active) stop();
  }, [active, stop]);

  // Auto: each measured rate may step the size up or down (the same state when it stays: no re-render).
  useEffect(() => {
    if (choice === "auto") setAuto((current) => nextAutoSize(current, rate));
  }, [choice, rate]);

  return {
    alert: camera.error && (
      <div className="notice" role="alert" data-testid="camera-error">
        <div className="notice__body">
          <p className="notice__title">The live camera stopped</p>
          <p className="notice__message">{camera.error}</p>
        </div>
      </div>
    ),
    stage: <LiveStage camera={camera} />,
    setting: <LiveSizeField choice={choice} size={size} onChoice={setChoice} />,
    action: {
      label: on ? "Stop camera" : "Start camera",
      hint: on ? `Live, ${style?.name ?? ""} at ${size} px, on this device` : style ? "Your camera stays on this device." : "Pick a style.",
      disabled: !on && !style,
    },
    submit: () => void (on ? camera.stop() : camera.start()),
  };
}
