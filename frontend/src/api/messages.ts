// What the person sees for each error: a short title and a sentence that says what to do next.
// Every code of openapi.yaml's Error schema has an entry (the Record type makes a new code in the
// contract a compile error here), plus the client's own codes for failures around the API.
import type { ErrorCode } from "./client";
import { ApiError, CLIENT_CODES } from "./errors";

export interface Notice {
  title: string;
  message: string;
  code?: string;
  /** The server's own sentence, for codes where it names what exactly was wrong. */
  detail?: string;
}

// For these the server's message is specific ("strength must be between 0 and 1") and worth showing.
// So is a refused clip's ("the clip is 75 s long; at most 60 s").
const SHOW_SERVER_MESSAGE = new Set(["invalid_parameter", "invalid_request", "invalid_json", "method_not_allowed", "unexpected_response",
  "invalid_video", "video_too_large", "video_too_long", "video_not_uploaded", "video_started"]);

type ClientCode = (typeof CLIENT_CODES)[keyof typeof CLIENT_CODES];

const MESSAGES: Record<ErrorCode | ClientCode, Omit<Notice, "code">> = {
  invalid_image: {
    title: "That file isn’t a photo we can read",
    message: "It may be damaged or in a format the server does not support. Try a JPEG, PNG or WebP.",
  },
  invalid_base64: {
    title: "The photo got garbled on the way",
    message: "The server could not read the upload. Try choosing the photo again.",
  },
  payload_too_large: {
    title: "That photo is too large to send",
    message: "Try a smaller photo; the app already shrinks photos, so this one is unusually big.",
  },
  image_too_large: {
    title: "That image has too many pixels",
    message: "The server refuses images this large to stay fast and safe. Try a smaller photo.",
  },
  response_too_large: {
    title: "The result is too large to send back",
    message: "Try again with a smaller photo.",
  },
  invalid_blend: {
    title: "That blend can’t be made",
    message: "Pick two different styles and give at least one of them some weight.",
  },
  blend_across_networks: {
    title: "Those two styles can’t be blended",
    message: "Only styles of one network mix. Pick the second style from the list offered.",
  },
  unknown_style: {
    title: "That style is no longer available",
    message: "The list of styles has changed. Reload the page and pick another style.",
  },
  not_found: {
    title: "That sample photo is gone",
    message: "It was removed from the gallery. Reload the page to see the current samples.",
  },
  invalid_key: {
    title: "That sample photo can’t be used",
    message: "Its name is not one the gallery accepts. Pick another sample.",
  },
  gallery_unavailable: {
    title: "The sample gallery is unavailable",
    message: "Upload a photo of your own instead, or try again in a moment.",
  },
  invalid_parameter: {
    title: "The server refused a setting",
    message: "Reload the page and try again; if it persists, this site’s configuration needs a look.",
  },
  invalid_request: {
    title: "The request was not understood",
    message: "This page and the server disagree. Reload the page and try again.",
  },
  invalid_json: {
    title: "The request was not understood",
    message: "This page and the server disagree. Reload the page and try again.",
  },
  method_not_allowed: {
    title: "The request was not understood",
    message: "This page and the server disagree. Reload the page and try again.",
  },
  unknown_job: {
    title: "That training job is not there",
    message: "It may have expired or been deleted. Start a new one from “Add your own style”.",
  },
  job_not_running: {
    title: "That training job has already stopped",
    message: "It finished, failed or was cancelled before this request arrived.",
  },
  job_running: {
    title: "That style is still training",
    message: "Cancel its job first, or wait until it is done.",
  },
  style_not_ready: {
    title: "That style is not ready yet",
    message: "Its training job has not finished, so there is no model to run. Wait until it is done.",
  },
  too_many_jobs: {
    title: "You have too many styles in training",
    message: "Wait for one to finish, or cancel or delete one, then try again.",
  },
  job_stopping: {
    title: "That training job is still stopping",
    message: "Its last files are being written. Try again in a minute.",
  },
  no_checkpoint_yet: {
    title: "Nothing learned to use yet",
    message: "The style has not saved its first checkpoint. Try “Use it now” again in a few minutes.",
  },
  training_unavailable: {
    title: "Training your own style is not available right now",
    message: "This server does not run training jobs, or its training service is busy. Try again later.",
  },
  training_busy: {
    title: "The site is training as many styles as it can",
    message: "Nothing was kept. Try again in a while.",
  },
  training_not_started: {
    title: "The training service did not start your job",
    message: "This is the site's set-up, not your painting. Nothing was kept, and your quota is as it was.",
  },
  unknown_video: {
    title: "That video is not there",
    message: "It may have expired (results are kept for a day) or been deleted. Start again with your clip.",
  },
  invalid_video: {
    title: "That clip can’t be read",
    message: "It may be damaged, cut short, or have no picture. Try an MP4, MOV or WebM straight from your phone.",
  },
  video_not_uploaded: {
    title: "The clip did not arrive",
    message: "The upload did not finish. Start again with your clip.",
  },
  video_started: {
    title: "That video was started already",
    message: "It is running, or it has ended. Start again for another clip.",
  },
  video_too_large: {
    title: "That clip is too large",
    message: "Trim it or save it at a lower quality, then try again.",
  },
  video_too_long: {
    title: "That clip is too long",
    message: "Trim it to the length shown under the clip picker, then try again.",
  },
  too_many_videos: {
    title: "You have as many videos in progress as you may",
    message: "Wait for one to finish, or cancel one, then try again.",
  },
  video_minutes: {
    title: "Today’s minutes of video are used up",
    message: "They renew at midnight UTC. Shorter clips use fewer of them.",
  },
  video_unavailable: {
    title: "Videos can’t be stylized right now",
    message: "This site’s video service cannot be reached. Nothing was kept; try again later.",
  },
  unauthorized: {
    title: "Please sign in",
    message: "Training your own style needs an account on this site.",
  },
  forbidden_origin: {
    title: "This page may not use the local server",
    message: "The local stack answers only its own web app. Open it at the address `make dev` printed.",
  },
  forbidden_host: {
    title: "This address may not use the local server",
    message: "The local stack answers only on this machine's own names. Open it at the address `make dev` printed.",
  },
  internal_error: {
    title: "Something went wrong on our side",
    message: "The server hit an unexpected problem. Try again in a moment.",
  },
  network_error: {
    title: "Can’t reach the server",
    message: "Check your connection and try again.",
  },
  gateway_timeout: {
    title: "The server took too long",
    message: "It may have been starting up. Try again: the next request is usually quick.",
  },
  rate_limited: {
    title: "Too many requests from your network",
    message: "This site limits how often one address may ask. Wait a few minutes, then try again.",
  },
  throttled: {
    title: "The server is busy",
    message: "Too many requests right now. Wait a few seconds and try again.",
  },
  unexpected_response: {
    title: "The server sent an unexpected answer",
    message: "Check that this site’s config.json points at the API, then reload.",
  },
};

export function describeError(error: unknown): Notice {
  if (error instanceof ApiError) {
    const known = MESSAGES[error.code as keyof typeof MESSAGES];
    if (known) {
      const detail = SHOW_SERVER_MESSAGE.has(error.code) ? error.message : undefined;
      return { ...known, code: error.code, ...(detail ? { detail } : {}) };
    }
    return { title: "Something went wrong", message: error.message, code: error.code };
  }
  return { ...MESSAGES.internal_error, code: "internal_error" };
}
