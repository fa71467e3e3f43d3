// "Use it now" (openapi.yaml's POST /jobs/{id}/finish): a running training job stops and what it has learned
// so far (its furthest checkpoint) becomes its style, as at the normal end. The route goes over client.ts's
// request function like the video routes; `finishOf` is what a job says about finishing early, for the client's
// mapping of a job to pass on.
import type { components } from "./schema";
import type { TrainingJob } from "./types";
import type { Call } from "./videos";

type Schemas = components["schemas"];

/** What a job says about finishing early. */
export interface JobFinish {
  /** Its owner asked to finish it early: it stays running until its style is exported. */
  finishRequested: boolean;
  /** Done after finishing early: the step its style was exported from. */
  finishedEarlyAtStep: number | null;
  /** While running: the step of its newest checkpoint; null before the first (nothing to use yet). */
  checkpointStep: number | null;
}

/** A job as the own-styles feature sees it: with what it says about finishing early, where that is known. */
export type OwnJob = TrainingJob & Partial<JobFinish>;

export interface JobsApi {
  /** Finishes a running job early: it answers finishing, or done already. Asking twice changes nothing. */
  finishJob(id: string, signal?: AbortSignal): Promise<OwnJob>;
}

export function finishOf(job: Schemas["Job"]): JobFinish {
  return {
    finishRequested: job.finish_requested,
    finishedEarlyAtStep: job.finished_early_at_step,
    checkpointStep: job.progress?.checkpoint_step ?? null,
  };
}

/** The route over client.ts's `call`; `jobFrom` is the client's own mapping of a job (its model URL and all). */
export function jobRoutes(call: Call, jobFrom: (job: Schemas["Job"]) => TrainingJob): JobsApi {
  return {
    async finishJob(id, signal) {
      const job = await call<Schemas["Job"]>(`/jobs/${encodeURIComponent(id)}/finish`, { method: "POST", signal, signedIn: true });
      return { ...jobFrom(job), ...finishOf(job) };
    },
  };
}
