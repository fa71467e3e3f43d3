// What a clip may be, said and checked in the browser before anything is uploaded: its type, its size and
// (from its metadata, see probeClip.ts) its length, against GET /videos/limits.
import type { VideoContentType, VideoLimits } from "../../api/videos";
import type { ClipFacts } from "./probeClip";

/** A clip the limits allow, ready to send: its file, a local URL to play it, and what its metadata said. */
export interface Clip {
  file: File;
  url: string;
  contentType: VideoContentType;
  /** Null where this browser cannot read the clip's metadata (the server still checks it). */
  facts: ClipFacts | null;
}

const NAMES: Record<VideoContentType, string> = { "video/mp4": "MP4", "video/quicktime": "MOV", "video/webm": "WebM" };
const BY_EXTENSION: Record<string, VideoContentType> = { ".mp4": "video/mp4", ".mov": "video/quicktime", ".webm": "video/webm" };

/** The file's content type as the API takes it: its own, or (where a browser gives none) its extension's. */
export function contentTypeOf(file: File, limits: VideoLimits): VideoContentType | null {
  const extension = /\.[^.]+$/.exec(file.name)?.[0]?.toLowerCase() ?? "";
  const type = (file.type || BY_EXTENSION[extension] || "") as VideoContentType;
  const allowed = limits.contentTypes.includes(type) && type in NAMES;
  return allowed && (file.type !== "" || limits.extensions.includes(extension)) ? type : null;
}

/** Why the limits refuse a file before its metadata is read (its type, its size), or null. */
export function refuseFile(file: File, limits: VideoLimits): string | null {
  if (!contentTypeOf(file, limits)) return `“${file.name}” is not a video this site takes: choose ${kindsOf(limits)}.`;
  if (file.size > limits.maxBytes) return `“${file.name}” is ${formatMegabytes(file.size)}; a clip can be up to ${formatMegabytes(limits.maxBytes)}.`;
  return null;
}

/** Why the limits refuse a clip of this length, or null. */
export function refuseDuration(file: File, facts: ClipFacts | null, limits: VideoLimits): string | null {
  if (!facts || facts.durationS <= limits.maxDurationS) return null;
  return `“${file.name}” is ${formatDuration(facts.durationS)} long; a clip can be up to ${formatDuration(limits.maxDurationS)}.`;
}

/** The file input's accept: the types, and the extensions (some phones hand over a clip without a type). */
export function acceptOf(limits: VideoLimits | null): string | undefined {
  return limits ? [...limits.contentTypes, ...limits.extensions].join(",") : undefined;
}

/** The picker's hint: every limit, before the person chooses. */
export function limitsHint(limits: VideoLimits): string {
  return (
    `${kindsOf(limits)}, up to ${formatMegabytes(limits.maxBytes)} and ${formatDuration(limits.maxDurationS)}. ` +
    `The result is at most ${limits.maxSize} px on its longer side, at up to ${limits.maxFps} frames a second.`
  );
}

function kindsOf(limits: VideoLimits): string {
  const names = limits.contentTypes.map((type) => NAMES[type as VideoContentType]).filter(Boolean);
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}` : (names[0] ?? "a video");
}

/** "45 s", "60 s", "1 min 30 s". */
export function formatDuration(seconds: number): string {
  const whole = Math.round(seconds);
  if (whole <= 60) return `${Math.max(whole, seconds > 0 ? 1 : 0)} s`;
  const rest = whole % 60;
  return `${Math.floor(whole / 60)} min${rest ? ` ${rest} s` : ""}`;
}

/** Decimal megabytes, as the API counts them: "200 MB", "4.2 MB"; a small file in kB. */
export function formatMegabytes(bytes: number): string {
  if (bytes < 1e6) return `${Math.max(1, Math.round(bytes / 1e3))} kB`;
  const mb = bytes / 1e6;
  return `${(mb >= 100 ? mb.toFixed(0) : mb.toFixed(1)).replace(/\.0$/, "")} MB`;
}
