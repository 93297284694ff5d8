// The API's one error shape (`{ "error": { "code", "message", "details"? } }`) as a typed error, plus the two
// failures that happen before an answer (a timeout, a network error).
import type { components } from "./schema.js";

/** The API's error codes (docs/api.md, "Errors"): the closed vocabulary of the OpenAPI document. */
export type ApiErrorCode = components["schemas"]["Error"]["error"]["code"];
/** Failures of the client itself: no answer in time, no answer at all, an answer not in the API's shape. */
export const CLIENT_ERROR_CODES = ["timeout", "network_error", "unexpected_answer"] as const;
export type ClientErrorCode = (typeof CLIENT_ERROR_CODES)[number];
export type ReboundErrorCode = ApiErrorCode | ClientErrorCode;

export class ReboundError extends Error {
  override readonly name = "ReboundError";
  constructor(
    /** The HTTP status; 0 when no answer came (timeout, network error). */
    readonly status: number,
    readonly code: ReboundErrorCode,
    message: string,
    /** The answer's `error.details` (validation errors name `in`, `path`, `allowed`). */
    readonly details?: unknown,
    /** Seconds the server asked to wait (`Retry-After` of a 429 or 503). */
    readonly retryAfter?: number,
    /** What was asked: `GET /v1/suppressions/...`. */
    readonly request?: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** `error.code` of a JSON error answer, when the body has the API's shape. */
export function errorFromAnswer(
  status: number,
  body: unknown,
  retryAfter: number | undefined,
  request: string,
): ReboundError {
  const e = (body as { error?: { code?: unknown; message?: unknown; details?: unknown } } | null)?.error;
  if (e && typeof e.code === "string" && typeof e.message === "string")
    return new ReboundError(status, e.code as ApiErrorCode, e.message, e.details, retryAfter, request);
  return new ReboundError(
    status,
    status >= 500 ? "internal_error" : "unexpected_answer",
    `${request}: HTTP ${status} without the API's error shape`,
    undefined,
    retryAfter,
    request,
  );
}
