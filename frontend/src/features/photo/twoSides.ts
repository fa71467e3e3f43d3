// A second style on the mask's other side: two full-strength results shown as one. What the stage shows is
// named for what it holds, each result by its own name, so that it is never labelled with a style it was not
// painted in, and is the current one only when both results answer the current settings.
import type { PhotoJob, PhotoResult } from "./useStylizeJob";

/** The two results as one on the stage: both names, and a key of both keys. */
export function bothSides(style: PhotoResult, other: PhotoResult | null): PhotoResult {
  if (!other) return { ...style, key: `${style.key}|` };
  return { ...style, key: `${style.key}|${other.key}`, styleName: `${style.styleName} / ${other.styleName}` };
}

/** What the current settings ask of the stage: the style's key, and the other side's when it has a style. */
export function wantedBoth(styleKey: string | null, otherKey: string | null): string | null {
  return styleKey === null ? null : `${styleKey}|${otherKey ?? ""}`;
}

/** The result the other side shows now: the current one, or the previous one while the next is painted. */
export function shownOf(job: PhotoJob): PhotoResult | null {
  return job.state === "done" ? job.result : job.state === "busy" ? job.previous : null;
}

/** The stage's job for both: the style's run while it runs, else the other side's, each over what is shown. */
export function stageJob(styleJob: PhotoJob, otherJob: PhotoJob | null): PhotoJob {
  const other = otherJob ? shownOf(otherJob) : null;
  const shown = shownOf(styleJob);
  const both = shown && bothSides(shown, other);
  if (styleJob.state === "busy") return { ...styleJob, previous: both };
  if (otherJob?.state === "busy") return { ...otherJob, previous: both };
  return both ? { state: "done", result: both } : styleJob;
}
