// A clip's length and size from its metadata, read by a <video> element that is never shown: what the browser
// knows before a byte is uploaded.

export interface ClipFacts {
  durationS: number;
  width: number;
  height: number;
}

/** How long the browser may take to read the metadata before the clip goes on without it. */
const PROBE_MS = 8000;

/** The clip's facts, or null where this browser cannot read them (a phone's HEVC MOV on a desktop browser, which
 * the server can still read): a clip is refused for its length only where its length is known. */
export function probeClip(url: string, timeoutMs = PROBE_MS): Promise<ClipFacts | null> {
  return new Promise((resolve) => {
    const video = document.createElement("video");
    const finish = (facts: ClipFacts | null) => {
      window.clearTimeout(timer);
      video.removeAttribute("src");
      video.load(); // lets go of the file
      resolve(facts);
    };
    const timer = window.setTimeout(() => finish(null), timeoutMs);
    video.preload = "metadata";
    video.muted = true;
    video.addEventListener("loadedmetadata", () => {
      const known = Number.isFinite(video.duration) && video.duration > 0;
      finish(known ? { durationS: video.duration, width: video.videoWidth, height: video.videoHeight } : null);
    });
    video.addEventListener("error", () => finish(null));
    video.src = url;
  });
}
