// Every failure the API client reports is an ApiError with a code: the API's own documented codes
// (from the {"error": {"code", "message"}} body), or one of ours for what happens before or around it.
export const CLIENT_CODES = {
  network: "network_error", // no answer at all: offline, DNS, CORS refusal
  timeout: "gateway_timeout", // API Gateway's 29 s integration limit
  throttled: "throttled", // API Gateway's 429
  unexpected: "unexpected_response", // an answer that is not the contract's
} as const;

export class ApiError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly status: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export function isAbort(error: unknown): boolean {
  return error instanceof DOMException && error.name === "AbortError";
}
