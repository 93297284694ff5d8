// /v1/session: the console signs in with an API key and gets a session cookie (src/api/session.ts); the key is
// sent once, in a JSON body, never in a URL. Signing in and out need the console's header (CSRF: a cross-site
// form can neither set it nor send JSON).
import type { FastifyInstance, FastifyRequest } from "fastify";
import { findKeyByTokenHash, hashToken, isTokenFormat, SCOPES } from "../../store/keys.js";
import { requireScope } from "../auth.js";
import type { ApiDeps } from "../deps.js";
import { ApiError } from "../errors.js";
import { RateLimiter } from "../ratelimit.js";
import { CONSOLE_HEADER, SESSION_SECONDS, sessionCookie, signSession } from "../session.js";

const sessionSchema = {
  type: "object",
  required: ["tenant", "scopes", "expiresAt"],
  additionalProperties: false,
  properties: {
    tenant: { type: "string" },
    scopes: { type: "array", items: { type: "string", enum: [...SCOPES] } },
    expiresAt: {
      type: ["string", "null"],
      format: "date-time",
      description: "When the session ends (null when asked with a bearer key rather than the cookie)",
    },
  },
} as const;

/**
 * Whether the browser reached us over TLS: this listener's own, or a proxy's that says so in X-Forwarded-Proto.
 * Trusting the header costs nothing: a client that lies about it only makes its own cookie stricter.
 */
function overTls(request: FastifyRequest): boolean {
  if (request.protocol === "https") return true;
  const forwarded = request.headers["x-forwarded-proto"];
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(",")[0]?.trim().toLowerCase();
  return first === "https";
}

function needConsoleHeader(request: FastifyRequest): void {
  if (!request.headers[CONSOLE_HEADER])
    throw new ApiError(
      400,
      "bad_request",
      `send the \`${CONSOLE_HEADER}: 1\` header (what the console sends)`,
    );
}

export default async function session(app: FastifyInstance, deps: ApiDeps): Promise<void> {
  const now = deps.now ?? (() => new Date());
  // Wrong keys count against the client IP as they do for bearer keys (REBOUND_API_AUTH_FAILURES_PER_MINUTE).
  const perMinute = deps.config.apiAuthFailuresPerMinute;
  const failures = new RateLimiter(100_000);

  app.post<{ Body: { key: string } }>(
    "/session",
    {
      config: { public: true },
      schema: {
        tags: ["console"],
        summary: "Sign in to the console: an API key in, a session cookie out",
        description: `The key is checked and a signed session cookie set (HttpOnly, SameSite=Strict, Secure over TLS,
${SESSION_SECONDS / 3600} hours). Needs the \`${CONSOLE_HEADER}\` header. Writes made with the cookie need it too.`,
        security: [],
        body: {
          type: "object",
          required: ["key"],
          additionalProperties: false,
          properties: {
            key: { type: "string", minLength: 1, maxLength: 200, description: "An API key token" },
          },
        },
        response: { 200: sessionSchema },
      },
    },
    async (request, reply) => {
      needConsoleHeader(request);
      const wait = perMinute > 0 ? failures.wait(request.ip, perMinute, Date.now()) : 0;
      if (wait > 0)
        throw new ApiError(
          429,
          "rate_limited",
          `too many failed sign-ins from this address; try again in ${wait} s`,
          { authFailuresPerMinute: perMinute },
          { "retry-after": String(wait) },
        );
      const token = request.body.key.trim();
      const key = isTokenFormat(token) ? await findKeyByTokenHash(deps.db, hashToken(token)) : undefined;
      if (!key) {
        if (perMinute > 0) failures.take(request.ip, perMinute, Date.now());
        throw new ApiError(401, "unauthorized", "the API key is unknown or revoked");
      }
      const exp = Math.floor(now().getTime() / 1000) + SESSION_SECONDS;
      reply.header(
        "set-cookie",
        sessionCookie(signSession(key.id, key.tokenHash, exp), SESSION_SECONDS, overTls(request)),
      );
      reply.header("cache-control", "no-store");
      return { tenant: key.tenant, scopes: key.scopes, expiresAt: new Date(exp * 1000).toISOString() };
    },
  );

  app.get(
    "/session",
    {
      preHandler: requireScope("read"),
      schema: {
        tags: ["console"],
        summary: "Who the session (or key) is: its tenant and scopes",
        response: { 200: sessionSchema },
      },
    },
    async (request, reply) => {
      reply.header("cache-control", "no-store");
      return {
        tenant: request.auth.tenant,
        scopes: request.auth.scopes,
        expiresAt: request.auth.sessionExpiresAt ?? null,
      };
    },
  );

  app.delete(
    "/session",
    {
      config: { public: true },
      schema: {
        tags: ["console"],
        summary: "Sign out of the console: the session cookie is removed",
        security: [],
        response: { 204: { type: "null", description: "Signed out" } },
      },
    },
    async (request, reply) => {
      needConsoleHeader(request);
      reply.header("set-cookie", sessionCookie("", 0, overTls(request)));
      return reply.code(204).send();
    },
  );
}
