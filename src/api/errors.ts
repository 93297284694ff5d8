// The one error shape of the API: `{ "error": { "code", "message", "details"? } }` for every 4xx and 5xx,
// fastify's own errors (malformed JSON, content type, body limit, validation) included.
import { STATUS_CODES } from "node:http";
import type { Socket } from "node:net";
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from "fastify";

export const ERROR_CODES = [
  "bad_request",
  "validation_failed",
  "malformed_json",
  "unsupported_media_type",
  "payload_too_large",
  "uri_too_long",
  "headers_too_large",
  "request_timeout",
  "invalid_address",
  "invalid_cursor",
  "unauthorized",
  "forbidden",
  "not_found",
  "method_not_allowed",
  "conflict",
  "rate_limited",
  "too_many_exports",
  "too_many_bulk_requests",
  "not_ready",
  "internal_error",
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

/** An error a handler throws on purpose; the error handler turns it into the shape above. */
export class ApiError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

export function errorBody(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

/** JSON schema of the error shape, registered once and referenced by every route as `Error#`. */
export const errorSchema = {
  $id: "Error",
  type: "object",
  description: "The one error shape of every 4xx and 5xx answer.",
  required: ["error"],
  properties: {
    error: {
      type: "object",
      required: ["code", "message"],
      properties: {
        code: { type: "string", enum: [...ERROR_CODES] },
        message: { type: "string" },
        details: {},
      },
    },
  },
} as const;

const FASTIFY_CODES: Record<string, ErrorCode> = {
  FST_ERR_CTP_INVALID_JSON_BODY: "malformed_json",
  FST_ERR_CTP_EMPTY_JSON_BODY: "malformed_json",
  FST_ERR_CTP_INVALID_MEDIA_TYPE: "unsupported_media_type",
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: "bad_request",
  FST_ERR_CTP_BODY_TOO_LARGE: "payload_too_large",
  FST_ERR_VALIDATION: "validation_failed",
};

function send(reply: FastifyReply, status: number, body: ErrorBody) {
  return reply.code(status).type("application/json; charset=utf-8").send(body);
}

declare module "fastify" {
  interface FastifyContextConfig {
    /** The content types a route's body may have, when not JSON (named in its 415 answers). */
    accepts?: readonly string[];
  }
}

/** What a route takes, for a 415 that says what to send instead. */
function acceptedTypes(request: FastifyRequest): string {
  const types = request.routeOptions.config?.accepts ?? ["application/json"];
  return types.length === 1 ? types[0]! : `${types.slice(0, -1).join(", ")} or ${types[types.length - 1]}`;
}

/** A validation failure as a line a person can act on: enums name their values. */
function explain(v: { keyword: string; message?: string; params: Record<string, unknown> }): {
  message: string;
  allowed?: unknown[];
} {
  if (v.keyword === "enum") {
    const allowed = (v.params.allowedValues as unknown[] | undefined) ?? [];
    return { message: `must be one of: ${allowed.map((a) => String(a)).join(", ")}`, allowed };
  }
  return { message: v.message ?? "is invalid" };
}

/**
 * Fastify's own errors raised before a route is found (a URL it cannot decode, a path parameter longer than
 * `maxParamLength`), in our shape: the `frameworkErrors` option of the Fastify factory.
 */
export function frameworkError(err: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (err.code === "FST_ERR_MAX_PARAM_LENGTH")
    void send(
      reply,
      414,
      errorBody("uri_too_long", "a path parameter is too long (an address is at most 254 characters)"),
    );
  else void send(reply, 400, errorBody("bad_request", `the URL cannot be decoded: ${err.message}`));
}

/**
 * A request Node's HTTP parser refuses before fastify sees it (headers or URL over Node's 16 KiB, a malformed
 * request line, a client too slow): the answer written on the socket, in our shape (fastify's
 * `clientErrorHandler` option).
 */
export function clientError(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const [status, body] =
    err.code === "ERR_HTTP_REQUEST_TIMEOUT"
      ? [408, errorBody("request_timeout", "the request took too long to arrive")]
      : err.code === "HPE_HEADER_OVERFLOW"
        ? [
            431,
            errorBody(
              "headers_too_large",
              "the request's headers (the URL included) are larger than 16 KiB: send long lists in a body",
            ),
          ]
        : [400, errorBody("bad_request", "the request is not valid HTTP")];
  const text = JSON.stringify(body);
  if (socket.writable)
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(text)}\r\n` +
        `Content-Type: application/json; charset=utf-8\r\nConnection: close\r\n\r\n${text}`,
    );
  socket.destroy(err);
}

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | ApiError | Error, request, reply) => {
    if (err instanceof ApiError) {
      if (err.headers) reply.headers(err.headers);
      return send(reply, err.statusCode, errorBody(err.code, err.message, err.details));
    }
    const fe = err as FastifyError;
    if (fe.validation) {
      const details = fe.validation.map((v) => {
        const { message, allowed } = explain(v);
        return {
          in: fe.validationContext ?? "body",
          path: v.instancePath || "/",
          message,
          ...(allowed ? { allowed } : {}),
          ...(v.keyword === "additionalProperties"
            ? { field: (v.params as { additionalProperty?: string }).additionalProperty }
            : {}),
        };
      });
      const first = details[0];
      const what = first
        ? `${first.in}${first.path === "/" ? "" : first.path}: ${first.message}${"field" in first ? ` (${first.field})` : ""}`
        : "invalid";
      return send(reply, 400, errorBody("validation_failed", `the request is invalid: ${what}`, details));
    }
    // A JSON syntax error from the parser.
    if (err instanceof SyntaxError && (fe.statusCode ?? 400) === 400) {
      return send(reply, 400, errorBody("malformed_json", `the body is not valid JSON: ${err.message}`));
    }
    const status = fe.statusCode && fe.statusCode >= 400 && fe.statusCode < 600 ? fe.statusCode : 500;
    if (status === 415 || fe.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      const given = request.headers["content-type"];
      reply.header("accept-post", request.routeOptions.config?.accepts?.join(", ") ?? "application/json");
      return send(
        reply,
        415,
        errorBody(
          "unsupported_media_type",
          `${given ? `the content type "${given}" is not accepted here` : "the body has no content type"}: send ${acceptedTypes(request)}`,
          { accepted: request.routeOptions.config?.accepts ?? ["application/json"] },
        ),
      );
    }
    if (status >= 500) {
      request.log.error({ err }, "request failed");
      return send(reply, status, errorBody("internal_error", "internal error"));
    }
    const code =
      (fe.code && FASTIFY_CODES[fe.code]) ||
      (status === 413
        ? "payload_too_large"
        : status === 415
          ? "unsupported_media_type"
          : status === 404
            ? "not_found"
            : status === 405
              ? "method_not_allowed"
              : "bad_request");
    return send(reply, status, errorBody(code, err.message));
  });
  app.setNotFoundHandler((request, reply) => {
    const path = request.url.split("?")[0]!;
    const allowed = app.allowedMethods(path);
    if (allowed.length) {
      reply.header("allow", allowed.join(", "));
      return send(
        reply,
        405,
        errorBody(
          "method_not_allowed",
          `${request.method} is not allowed on ${path}: use ${allowed.join(", ")}`,
          {
            allowed,
          },
        ),
      );
    }
    return send(reply, 404, errorBody("not_found", `no route ${request.method} ${path}`));
  });
}

/** A POST whose body is all optional may come without one: it reads as `{}` (a preValidation hook). */
export async function emptyBody(request: { body: unknown }): Promise<void> {
  if (request.body === undefined || request.body === null) request.body = {};
}
