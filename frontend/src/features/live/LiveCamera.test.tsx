import { act, fireEvent, render, screen, waitFor } from "@testing-library/react";
import type { Style } from "../../api/types";
import type { ModeProps } from "../../components/ModeLayout";
import type { DeviceStylizer } from "../../device/runner";
import { AUTO_START, DOWN_FPS, nextAutoSize, UP_FPS } from "./autoSize";
import { facesUser, nextCamera } from "./cameras";
import { frameMeter } from "./useLiveCamera";
import { useLiveMode } from "./useLiveMode";

// Fakes for what jsdom lacks: a camera (tracks with their settings, a device list), a 2D canvas that records
// how frames are drawn, a video element with a size, and a device that "stylizes" by returning the pixels.
const STYLE: Style = { id: "great_wave", name: "The Great Wave", artist: "Hokusai", year: 1831, thumbnail: null };
const FRONT = { deviceId: "front", label: "Front Camera", facingMode: "user" };
const BACK = { deviceId: "back", label: "Back Camera", facingMode: "environment" };
let drawn: { transform: number[]; width: number; height: number }[];
let cameras: (typeof FRONT)[];
let streams: { camera: typeof FRONT; stopped: boolean }[];
let getUserMedia: ReturnType<typeof vi.fn>;

function fakeTrack(camera: typeof FRONT, record: { stopped: boolean }) {
  return { label: camera.label, kind: "video", getSettings: () => ({ facingMode: camera.facingMode, deviceId: camera.deviceId }), stop: () => void (record.stopped = true) };
}

function fakeContext(canvas: HTMLCanvasElement) {
  let transform = [1, 0, 0, 1, 0, 0];
  return {
    canvas,
    setTransform: (...values: number[]) => void (transform = values),
    drawImage: (_source: unknown, _x: number, _y: number, width: number, height: number) => void drawn.push({ transform, width, height }),
    getImageData: (_x: number, _y: number, width: number, height: number) => ({ data: new Uint8ClampedArray(width * height * 4), width, height }),
    putImageData: () => undefined,
  };
}

beforeEach(() => {
  drawn = [];
  streams = [];
  cameras = [FRONT, BACK];
  getUserMedia = vi.fn(async (constraints: MediaStreamConstraints) => {
    const video = constraints.video as MediaTrackConstraints;
    const wanted = (video.deviceId as { exact?: string } | undefined)?.exact;
    const camera = cameras.find((c) => c.deviceId === wanted) ?? cameras[0]!;
    const record = { camera, stopped: false };
    streams.push(record);
    const track = fakeTrack(camera, record);
    return { getTracks: () => [track], getVideoTracks: () => [track] };
  });
  const enumerateDevices = vi.fn(async () => cameras.map((c) => ({ kind: "videoinput", deviceId: c.deviceId, label: c.label })));
  Object.defineProperty(navigator, "mediaDevices", { configurable: true, value: { getUserMedia, enumerateDevices } });
  vi.spyOn(HTMLCanvasElement.prototype, "getContext").mockImplementation(function (this: HTMLCanvasElement) {
    return fakeContext(this) as unknown as CanvasRenderingContext2D;
  } as never);
  HTMLCanvasElement.prototype.toBlob = function (callback: BlobCallback) {
    callback(new Blob(["png"], { type: "image/png" }));
  };
  vi.stubGlobal("ImageData", class { constructor(public data: Uint8ClampedArray, public width: number, public height: number) {} });
  vi.spyOn(HTMLMediaElement.prototype, "play").mockResolvedValue(undefined);
  Object.defineProperty(HTMLVideoElement.prototype, "videoWidth", { configurable: true, get: () => 1280 });
  Object.defineProperty(HTMLVideoElement.prototype, "videoHeight", { configurable: true, get: () => 720 });
  Object.defineProperty(HTMLMediaElement.prototype, "readyState", { configurable: true, get: () => 4 });
  Object.defineProperty(HTMLMediaElement.prototype, "srcObject", { configurable: true, writable: true, value: null });
});

afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

function fakeDevice() {
  return {
    maxPixels: 4_194_304,
    state: { state: "ready", backend: "wasm", threads: 2 },
    check: vi.fn(async () => ({ state: "ready", backend: "wasm", threads: 2 })),
    stylizePixels: vi.fn(async (pixels: { data: Uint8ClampedArray; width: number; height: number }) => pixels),
  } as unknown as DeviceStylizer;
}

function LiveHarness({ device }: { device: DeviceStylizer }) {
  const view = useLiveMode({ active: true, device, catalog: { style: STYLE }, strength: 1, keepColours: false } as unknown as ModeProps);
  return (
    <div>
      {view.stage}
      {view.setting}
      <button type="button" onClick={view.submit}>{view.action.label}</button>
    </div>
  );
}

async function startCamera() {
  const device = fakeDevice();
  render(<LiveHarness device={device} />);
  fireEvent.click(screen.getByRole("button", { name: "Start camera" }));
  await screen.findByRole("button", { name: "Take a snapshot" });
  await waitFor(() => expect(drawn.length).toBeGreaterThan(0));
  return device;
}

describe("the live camera", () => {
  it("mirrors the front camera: the painted frames and the snapshot alike", async () => {
    await startCamera();
    expect(screen.getByTestId("live-stage")).toHaveAttribute("data-mirrored", "true");
    const frame = drawn.at(-1)!;
    expect(frame.transform).toEqual([-1, 0, 0, 1, frame.width, 0]); // flipped about the frame's width
    expect(Math.max(frame.width, frame.height)).toBe(256);
    fireEvent.click(screen.getByRole("button", { name: "Take a snapshot" }));
    await screen.findByTestId("snapshot-download");
    const shot = drawn.find((d) => d.width === 1280)!;
    expect(shot.transform).toEqual([-1, 0, 0, 1, 1280, 0]);
  });

  it("does not mirror a camera that faces away, nor one whose label says it is at the back", () => {
    const track = (facingMode: string | undefined, label = "") => ({ label, getSettings: () => ({ facingMode }) }) as unknown as MediaStreamTrack;
    expect(facesUser(track("user"))).toBe(true);
    expect(facesUser(track("environment"))).toBe(false);
    expect(facesUser(track(undefined, "FaceTime HD Camera"))).toBe(true); // a laptop's webcam
    expect(facesUser(track(undefined, "camera2 0, facing back"))).toBe(false);
  });

  it("switches between the cameras the browser lists, mirroring only the front one", async () => {
    await startCamera();
    fireEvent.click(await screen.findByRole("button", { name: "Switch camera" }));
    await waitFor(() => expect(screen.getByTestId("live-stage")).toHaveAttribute("data-mirrored", "false"));
    expect(getUserMedia).toHaveBeenLastCalledWith({ video: expect.objectContaining({ deviceId: { exact: "back" } }), audio: false });
    expect(streams[0]!.stopped).toBe(true); // the front camera released before the back one starts
    drawn = [];
    await waitFor(() => expect(drawn.length).toBeGreaterThan(0));
    expect(drawn.at(-1)!.transform).toEqual([1, 0, 0, 1, 0, 0]);
    expect(nextCamera([FRONT, BACK] as unknown as MediaDeviceInfo[], "back")?.deviceId).toBe("front");
  });

  it("offers no switch where there is one camera", async () => {
    cameras = [FRONT];
    await startCamera();
    await waitFor(() => expect(navigator.mediaDevices.enumerateDevices).toHaveBeenCalled());
    expect(screen.queryByRole("button", { name: "Switch camera" })).not.toBeInTheDocument();
  });

  it("goes full screen and back", async () => {
    Object.defineProperty(document, "fullscreenEnabled", { configurable: true, value: true });
    let current: Element | null = null;
    Object.defineProperty(document, "fullscreenElement", { configurable: true, get: () => current });
    const request = vi.fn(async function (this: Element) {
      current = this;
      document.dispatchEvent(new Event("fullscreenchange"));
    });
    HTMLElement.prototype.requestFullscreen = request as never;
    document.exitFullscreen = vi.fn(async () => {
      current = null;
      document.dispatchEvent(new Event("fullscreenchange"));
    });
    await startCamera();
    fireEvent.click(screen.getByRole("button", { name: "Full screen" }));
    const exit = await screen.findByRole("button", { name: "Exit full screen" });
    expect(request.mock.contexts[0]).toBe(screen.getByTestId("live-canvas").parentElement); // the frames with the actions
    fireEvent.click(exit);
    expect(await screen.findByRole("button", { name: "Full screen" })).toHaveAttribute("aria-pressed", "false");
    delete (document as { fullscreenEnabled?: boolean }).fullscreenEnabled;
  });

  it("keeps the snapshot and its download after Stop, until a new snapshot replaces it", async () => {
    const revoked = vi.spyOn(URL, "revokeObjectURL");
    await startCamera();
    fireEvent.click(screen.getByRole("button", { name: "Take a snapshot" }));
    const first = (await screen.findByTestId("snapshot-download")).getAttribute("href");
    fireEvent.click(screen.getByRole("button", { name: "Stop camera" }));
    await waitFor(() => expect(screen.getByTestId("live-stage")).toHaveAttribute("data-camera", "off"));
    expect(screen.getByTestId("snapshot-download")).toHaveAttribute("href", first);
    expect(screen.getByTestId("snapshot-download")).toHaveTextContent("Download snapshot (1280 × 720)");
    expect(screen.getByAltText("Your last snapshot")).toHaveAttribute("src", first);
    expect(revoked).not.toHaveBeenCalled();

    fireEvent.click(screen.getByRole("button", { name: "Start camera" }));
    fireEvent.click(await screen.findByRole("button", { name: "Take a snapshot" }));
    await waitFor(() => expect(screen.getByTestId("snapshot-download").getAttribute("href")).not.toBe(first));
    expect(revoked).toHaveBeenCalledWith(first);
  });
});

describe("the live frame size", () => {
  const rate = (fps: number, size = 256, spanMs = 2000) => ({ fps, size, spanMs });

  it("starts at 256 and steps up while the frames stay fast, down when they are slow, without see-sawing", () => {
    expect(AUTO_START.size).toBe(256);
    const up = nextAutoSize(AUTO_START, rate(UP_FPS + 3));
    expect(up.size).toBe(384);
    expect(nextAutoSize(up, rate(8, 384))).toBe(up); // between the thresholds: stays
    const top = nextAutoSize(up, rate(13, 384));
    expect(top.size).toBe(512);
    const down = nextAutoSize(top, rate(DOWN_FPS - 2, 512));
    expect(down).toEqual({ size: 384, ceiling: 384 });
    expect(nextAutoSize(down, rate(20, 384))).toBe(down); // never back up to the size that was too slow
    expect(nextAutoSize(nextAutoSize(down, rate(3, 384)), rate(3, 256)).size).toBe(256);
  });

  it("judges a size only by a full measurement of its own frames", () => {
    expect(nextAutoSize(AUTO_START, null)).toBe(AUTO_START);
    expect(nextAutoSize(AUTO_START, rate(30, 384))).toBe(AUTO_START); // measured before the last change
    expect(nextAutoSize(AUTO_START, rate(30, 256, 500))).toBe(AUTO_START); // not long enough yet
    let now = 0;
    const meter = frameMeter(() => now);
    for (; now <= 2000; now += 50) meter(256);
    expect(meter(256)).toEqual({ fps: 20, size: 256, spanMs: 2000 });
    expect(meter(384)).toBeNull(); // a new size starts a new measurement
  });

  /** Time passing on the fake clock, with React's renders and effects between the frames. */
  async function run(ms: number) {
    for (let t = 0; t < ms; t += 100) await act(() => vi.advanceTimersByTimeAsync(100));
  }

  it("paints larger frames on a fast device, and the user's choice wins", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "requestAnimationFrame", "performance", "Date"] });
    const device = fakeDevice();
    render(<LiveHarness device={device} />);
    fireEvent.click(screen.getByRole("button", { name: "Start camera" }));
    const canvas = screen.getByTestId("live-canvas") as HTMLCanvasElement;
    await run(2500); // 60 frames a second: over the threshold at 256
    expect(canvas.width).toBe(384);
    expect(screen.getByText(/Auto: 384 px now/)).toBeInTheDocument();
    fireEvent.click(screen.getByRole("radio", { name: "256 px" }));
    await run(5000);
    expect(canvas.width).toBe(256);
    fireEvent.click(screen.getByRole("radio", { name: "Auto" }));
    await run(2500);
    expect(canvas.width).toBe(512);
  });
});
