import { useCallback, useEffect, useRef, useState } from "react";
import type { Style } from "../../api/types";
import type { DeviceStylizer } from "../../device/runner";
import { canvas2d, encodePng } from "../../device/runner";
import { fitWithin } from "../../image/pipeline";
import type { FrameRate } from "./autoSize";
import { drawFrame, facesUser, nextCamera, videoInputs } from "./cameras";

export interface LiveSettings {
  style: Style | null;
  /** The longer side of the stylized frames, in pixels. */
  size: number;
  strength: number;
  keepColours: boolean;
}

export type LiveState = "off" | "starting" | "on";

export interface LiveCamera {
  state: LiveState;
  /** Stylized frames per second, over the last second or two. */
  fps: number | null;
  /** The same rate with the frame size it was measured at (the auto size steps on it). */
  rate: FrameRate | null;
  /** A selfie view: the frames (and snapshots) are mirrored, as the user sees themselves in a mirror. */
  mirrored: boolean;
  /** The video inputs, where the browser lists them; a switch is offered where there are several. */
  cameras: MediaDeviceInfo[];
  switchCamera(): Promise<void>;
  error: string | null;
  videoRef: React.RefObject<HTMLVideoElement | null>;
  canvasRef: React.RefObject<HTMLCanvasElement | null>;
  start(deviceId?: string): Promise<void>;
  stop(): void;
  /** The current camera frame at its full resolution, stylized: a PNG to download. */
  snapshot(): Promise<{ url: string; fileName: string; width: number; height: number }>;
}

// The camera stylized frame after frame on the device. One frame is in the network at a time: when it is
// done, the newest camera frame is taken, so the frames that came meanwhile are dropped, never queued.
export function useLiveCamera(device: DeviceStylizer | undefined, settings: LiveSettings): LiveCamera {
  const [state, setState] = useState<LiveState>("off");
  const [rate, setRate] = useState<FrameRate | null>(null);
  const [mirrored, setMirrored] = useState(true);
  const [cameras, setCameras] = useState<MediaDeviceInfo[]>([]);
  const [error, setError] = useState<string | null>(null);
  const videoRef = useRef<HTMLVideoElement | null>(null);
  const canvasRef = useRef<HTMLCanvasElement | null>(null);
  const stream = useRef<MediaStream | null>(null);
  const mirror = useRef(true); // the loop's copy of `mirrored`
  const deviceId = useRef<string | undefined>(undefined);
  const session = useRef(0); // each start gets a number; a loop stops when it is no longer the current one
  const latest = useRef(settings);
  latest.current = settings;

  const stop = useCallback(() => {
    session.current++;
    stream.current?.getTracks().forEach((track) => track.stop());
    stream.current = null;
    if (videoRef.current) videoRef.current.srcObject = null;
    setState("off");
    setRate(null);
  }, []);

  useEffect(() => stop, [stop]); // the page going away releases the camera (leaving the mode does: useLiveMode)

  const loop = useCallback(
    async (mine: number) => {
      const meter = frameMeter();
      const grab = canvas2d(1, 1);
      while (session.current === mine) {
        const video = videoRef.current;
        const { style, size, strength, keepColours } = latest.current;
        if (!device || !style || !video || video.readyState < 2 || !video.videoWidth) {
          await nextFrame();
          continue;
        }
        const { width, height } = fitWithin(video.videoWidth, video.videoHeight, size);
        grab.canvas.width = width;
        grab.canvas.height = height;
        drawFrame(grab, video, width, height, mirror.current);
        const frame = grab.getImageData(0, 0, width, height);
        let out;
        try {
          out = await device.stylizePixels({ data: frame.data, width, height }, style, { strength, keepColours });
        } catch (problem) {
          if (session.current !== mine) return;
          setError(`This device could not stylize the camera (${problem instanceof Error ? problem.message : problem}).`);
          stop();
          return;
        }
        if (session.current !== mine) return;
        const canvas = canvasRef.current;
        if (canvas) {
          canvas.width = width;
          canvas.height = height;
          canvas.getContext("2d")?.putImageData(new ImageData(out.data as Uint8ClampedArray<ArrayBuffer>, width, height), 0, 0);
        }
        const measured = meter(size);
        if (measured) setRate(measured);
        await nextFrame();
      }
    },
    [device, stop],
  );

  const start = useCallback(
    async (camera?: string) => {
      setError(null);
      if (!device) return setError("Live mode stylizes on this device, and this app was started without it.");
      if (!navigator.mediaDevices?.getUserMedia) return setError("This browser gives no camera to this page (it needs https).");
      const mine = ++session.current;
      setState("starting");
      try {
        const ready = await device.check();
        if (ready.state !== "ready") throw new Error(`this browser cannot stylize by itself (${ready.state === "unavailable" ? ready.reason : "not ready"})`);
        const media = await navigator.mediaDevices.getUserMedia({ video: videoConstraints(camera), audio: false });
        if (session.current !== mine) return media.getTracks().forEach((track) => track.stop());
        stream.current = media;
        const track = media.getVideoTracks()[0];
        mirror.current = facesUser(track);
        setMirrored(mirror.current);
        deviceId.current = track?.getSettings?.().deviceId ?? camera;
        const video = videoRef.current!;
        video.srcObject = media;
        await video.play();
        setState("on");
        void loop(mine);
        const listed = await videoInputs(); // labelled now that a camera was allowed
        if (session.current === mine) setCameras(listed);
      } catch (problem) {
        if (session.current !== mine) return;
        stop();
        setError(cameraMessage(problem));
      }
    },
    [device, loop, stop],
  );

  const switchCamera = useCallback(async () => {
    const next = nextCamera(cameras, deviceId.current);
    if (!next) return;
    stop();
    await start(next.deviceId);
  }, [cameras, start, stop]);

  const snapshot = useCallback(async () => {
    const video = videoRef.current;
    const { style, strength, keepColours } = latest.current;
    if (!device || !style || !video?.videoWidth) throw new Error("the camera is not running");
    const width = video.videoWidth;
    const height = video.videoHeight;
    const grab = canvas2d(width, height);
    drawFrame(grab, video, width, height, mirror.current); // the snapshot is what the user saw
    const frame = grab.getImageData(0, 0, width, height);
    const out = await device.stylizePixels({ data: frame.data, width, height }, style, { strength, keepColours });
    const blob = await encodePng(out);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
    return { url: URL.createObjectURL(blob), fileName: `camera-${stamp}-${style.id}.png`, width, height };
  }, [device]);

  const fps = rate?.fps ?? null;
  return { state, fps, rate, mirrored, cameras, switchCamera, error, videoRef, canvasRef, start, stop, snapshot };
}

/** The front camera unless one is named; the largest frames up to 720p (snapshots are at the camera's size). */
function videoConstraints(camera: string | undefined): MediaTrackConstraints {
  const size = { width: { ideal: 1280 }, height: { ideal: 720 } };
  return camera ? { deviceId: { exact: camera }, ...size } : { facingMode: { ideal: "user" }, ...size };
}

/** Frames per second over the last 2 s of frames, measured afresh when the frame size changes (the auto size
 * must judge a size by its own frames). Call it once per painted frame with the size it was painted at. */
export function frameMeter(now: () => number = () => performance.now()): (size: number) => FrameRate | null {
  const done: number[] = [];
  let measuring = 0;
  return (size) => {
    if (size !== measuring) {
      done.length = 0;
      measuring = size;
    }
    const at = now();
    done.push(at);
    while (done.length > 1 && at - done[0]! > 2000) done.shift();
    if (done.length < 2) return null;
    const spanMs = at - done[0]!;
    return { fps: ((done.length - 1) * 1000) / spanMs, size, spanMs };
  };
}

function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => resolve()));
}

function cameraMessage(problem: unknown): string {
  const name = problem instanceof DOMException ? problem.name : "";
  if (name === "NotAllowedError") return "The camera was not allowed. Allow it in the browser’s site settings and try again.";
  if (name === "NotFoundError" || name === "OverconstrainedError") return "No camera was found on this device.";
  if (name === "NotReadableError") return "The camera is in use by another app. Close it and try again.";
  return `The camera could not start (${problem instanceof Error ? problem.message : String(problem)}).`;
}
