import { useCallback, useEffect, useMemo, useRef, useState } from "react";
import type { Api } from "../../api/client";
import { ApiError, isAbort } from "../../api/errors";
import type { JobFinish, JobsApi, OwnJob } from "../../api/jobs";
import { describeError, type Notice } from "../../api/messages";
import type { NewStyle, Style, TrainingJob } from "../../api/types";

/** How often a queued or running job is asked for its progress (docs/api.md: "every few seconds"). */
export const POLL_MS = 2000;

/** The API takes bodies up to 6,000,000 bytes: a painting's base64 (4/3 of it) and its name must fit. */
export const MAX_PAINTING_BYTES = 4_400_000;

/** A point of a job's loss curve, one per step the job reported. */
export interface LossPoint {
  step: number;
  total: number;
}

/**
 * Whether this stack trains users' styles: `checking` until GET /jobs answers, `off` where the routes
 * are not there (an AWS stack with TrainingEnabled false) or not reachable, with the reason.
 */
export type Training = { state: "checking" } | { state: "on" } | { state: "off"; reason: Notice };

export interface OwnStyles {
  training: Training;
  /** Your jobs, oldest first, each as the latest poll knows it. */
  jobs: OwnJob[];
  /** The done jobs as styles for the picker, marked as yours, with their model file for the device; not
   * blendable (each is a network of its own). */
  styles: Style[];
  /** Each watched job's total loss by step, for its curve. */
  losses: Record<string, LossPoint[]>;
  /** A job is being created (the painting is uploading). */
  starting: boolean;
  /** The last poll failed (e.g. the connection dropped); polling carries on. */
  pollError: Notice | null;
  /** Starts a job; resolves to it, or to null when the API refused (the notice says why). */
  start(style: NewStyle): Promise<TrainingJob | null>;
  /** Cancels a job: what it has learned is discarded. */
  cancel(job: TrainingJob): Promise<void>;
  /** "Use it now": a running job stops and what it has learned so far becomes its style; null where the API
   * client has no such route. */
  finish: ((job: TrainingJob) => Promise<void>) | null;
  /** Deletes a finished style, or removes an ended job from the list. */
  remove(job: TrainingJob): Promise<boolean>;
}

interface Options {
  onNotice(notice: Notice | null): void;
  pollMs?: number;
}

export const isActive = (job: TrainingJob) => job.state === "queued" || job.state === "running";

// The person's own styles: their training jobs (GET /jobs at start), each queued or running one polled
// (GET /jobs/{id}) until it ends, and the finished ones as styles for the picker.
export function useOwnStyles(api: Api & { jobs?: JobsApi }, { onNotice, pollMs = POLL_MS }: Options): OwnStyles {
  const [training, setTraining] = useState<Training>({ state: "checking" });
  const [jobs, setJobs] = useState<OwnJob[]>([]);
  const [losses, setLosses] = useState<Record<string, LossPoint[]>>({});
  const [starting, setStarting] = useState(false);
  const [pollError, setPollError] = useState<Notice | null>(null);
  const alive = useRef(new AbortController());

  useEffect(() => {
    const controller = new AbortController();
    alive.current = controller;
    api.listJobs(controller.signal).then(
      (list) => {
        setJobs(list);
        setTraining({ state: "on" });
      },
      (error) => {
        if (!isAbort(error)) setTraining({ state: "off", reason: describeError(error) });
      },
    );
    return () => controller.abort();
  }, [api]);

  /** Puts the API's latest view of a job in the list (and its losses on its curve). */
  const update = useCallback((job: OwnJob) => {
    // A view that says nothing of finishing early keeps what the last one said (a finish that was asked for).
    const merged = (known: OwnJob) => ({ ...finishFields(known), ...job });
    setJobs((list) => (list.some((j) => j.id === job.id) ? list.map((j) => (j.id === job.id ? merged(j) : j)) : [...list, job]));
    const total = job.progress?.losses?.total;
    const step = job.progress?.step;
    if (total === undefined || step === undefined || !Number.isFinite(total)) return;
    setLosses((all) => {
      const curve = all[job.id] ?? [];
      if (curve.length && curve[curve.length - 1]!.step >= step) return all;
      return { ...all, [job.id]: [...curve, { step, total }] };
    });
  }, []);

  const drop = useCallback((id: string) => setJobs((list) => list.filter((j) => j.id !== id)), []);

  // One poll at a time, every pollMs, while any job is queued or running. The key changes only when the
  // set of active jobs does, so a progress update does not restart the timer.
  const activeKey = jobs.filter(isActive).map((j) => j.id).join(",");
  useEffect(() => {
    if (!activeKey) return;
    const ids = activeKey.split(",");
    const controller = new AbortController();
    let timer: number | undefined;
    const poll = async () => {
      try {
        for (const id of ids) {
          try {
            update(await api.getJob(id, controller.signal));
          } catch (error) {
            if (!(error instanceof ApiError && error.code === "unknown_job")) throw error;
            drop(id); // deleted elsewhere, or expired
          }
        }
        setPollError(null);
      } catch (error) {
        if (isAbort(error)) return;
        setPollError(describeError(error));
      }
      if (!controller.signal.aborted) timer = window.setTimeout(poll, pollMs);
    };
    timer = window.setTimeout(poll, pollMs);
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [activeKey, api, pollMs, update, drop]);

  const start = useCallback(
    async (style: NewStyle) => {
      onNotice(null);
      setStarting(true);
      try {
        const job = await api.createStyle(style, alive.current.signal);
        update(job);
        return job;
      } catch (error) {
        if (!isAbort(error)) onNotice(describeError(error));
        return null;
      } finally {
        setStarting(false);
      }
    },
    [api, onNotice, update],
  );

  const cancel = useCallback(
    async (job: TrainingJob) => {
      onNotice(null);
      try {
        update(await api.cancelJob(job.id, alive.current.signal));
      } catch (error) {
        if (isAbort(error)) return;
        onNotice(describeError(error));
        // It ended before the cancel arrived: show how it ended.
        if (error instanceof ApiError && error.code === "job_not_running") update(await api.getJob(job.id).catch(() => job));
      }
    },
    [api, onNotice, update],
  );

  const jobsApi = api.jobs;
  const finishJob = useCallback(
    async (job: TrainingJob) => {
      if (!jobsApi) return;
      onNotice(null);
      try {
        update(await jobsApi.finishJob(job.id, alive.current.signal));
      } catch (error) {
        if (isAbort(error)) return;
        onNotice(describeError(error));
        // It ended (or is being cancelled) before the request arrived: show where it is now.
        if (error instanceof ApiError && (error.code === "job_not_running" || error.code === "job_stopping")) {
          update(await api.getJob(job.id).catch(() => job));
        }
      }
    },
    [api, jobsApi, onNotice, update],
  );

  const remove = useCallback(
    async (job: TrainingJob) => {
      onNotice(null);
      try {
        await api.deleteStyle(job.style ?? job.id, alive.current.signal);
      } catch (error) {
        if (isAbort(error)) return false;
        if (!(error instanceof ApiError && error.code === "unknown_job")) {
          onNotice(describeError(error));
          return false;
        }
      }
      drop(job.id);
      return true;
    },
    [api, onNotice, drop],
  );

  const styles = useMemo(() => jobs.filter((j) => j.state === "done" && j.style).map(styleOf), [jobs]);

  return { training, jobs, styles, losses, starting, pollError, start, cancel, finish: jobsApi ? finishJob : null, remove };
}

/** The fields of a job about finishing early that it has (a view from before the API said them has none). */
function finishFields(job: OwnJob): Partial<JobFinish> {
  const { finishRequested, finishedEarlyAtStep, checkpointStep } = job;
  return Object.fromEntries(Object.entries({ finishRequested, finishedEarlyAtStep, checkpointStep }).filter(([, value]) => value !== undefined));
}

/** A finished job as a style of the picker: yours, on the server or (from its model file) on the device. Its
 * file holds the bundled styles it was trained from too: it blends with those (a file of one style, with none). */
export function styleOf(job: TrainingJob): Style {
  const blendsWith = (job.model?.styles ?? []).filter((id) => id !== job.style);
  return {
    id: job.style!,
    name: job.name,
    artist: "Your style",
    year: null,
    thumbnail: job.thumbnail,
    ...(job.model && { modelFiles: [job.model] }),
    blendable: blendsWith.length > 0,
    blendsWith,
    ownJobId: job.id,
  };
}
