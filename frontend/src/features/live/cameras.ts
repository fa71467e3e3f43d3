// Which camera, and whether it shows the user: a selfie view is mirrored, as a mirror and every camera app are.

/** Whether a camera faces the user: what its track says, else its label; a laptop's webcam says neither. */
export function facesUser(track: MediaStreamTrack | undefined): boolean {
  const facing = track?.getSettings?.().facingMode;
  if (facing) return facing === "user";
  return !/back|rear|environment/i.test(track?.label ?? "");
}

/** The video inputs this page may use (their labels only once a camera was allowed). */
export async function videoInputs(): Promise<MediaDeviceInfo[]> {
  if (!navigator.mediaDevices?.enumerateDevices) return [];
  try {
    return (await navigator.mediaDevices.enumerateDevices()).filter((device) => device.kind === "videoinput" && device.deviceId);
  } catch {
    return [];
  }
}

/** The camera after `currentId` in the list, round; the first where the current one is not listed. */
export function nextCamera(cameras: MediaDeviceInfo[], currentId: string | undefined): MediaDeviceInfo | undefined {
  const at = cameras.findIndex((camera) => camera.deviceId === currentId);
  return cameras[(at + 1) % cameras.length];
}

/** Draws the video into `context` at width x height, mirrored for a selfie view: what is painted, shown and
 * saved is then what the user sees, not the camera's own orientation. */
export function drawFrame(context: CanvasRenderingContext2D, video: HTMLVideoElement, width: number, height: number, mirrored: boolean) {
  context.setTransform(mirrored ? -1 : 1, 0, 0, 1, mirrored ? width : 0, 0);
  context.drawImage(video, 0, 0, width, height);
  context.setTransform(1, 0, 0, 1, 0, 0);
}
