// Bearer-token authentication, scopes and per-key rate limits. Keys are looked up by the SHA-256 of the
// token and kept in memory for at most one second, so a revoked key stops working within a second.
//
// Guessing is bounded: a token that does not have the form of a key is refused without a query, the cache of
// keys is bounded (least recently used out), and a client IP that fails authentication more than
// `authFailuresPerMinute` times in a minute gets 429 for any token it has not been admitted with lately.
//
// The hooks take callbacks rather than returning promises: a request whose key is in memory (nearly all)
// goes through authentication, the rate limit and the scope check without a promise or a hash.
import type { FastifyInstance, FastifyReply, FastifyRequest, preHandlerHookHandler } from "fastify";
import type { Kysely } from "kysely";
import {
  findKeyById,
  findKeyByTokenHash,
  hashToken,
  isTokenFormat,
  touchKeys,
  type ApiKeyWithHash,
  type Scope,
} from "../store/keys.js";
import type { Database } from "../store/schema.js";
import { ApiError } from "./errors.js";
import { RateLimiter } from "./ratelimit.js";
import { CONSOLE_HEADER, cookieValue, parseSession, SESSION_COOKIE, verifySession } from "./session.js";

export interface AuthContext {
  keyId: string;
  tenant: string;
  scopes: Scope[];
  /** SHA-256 of the key's token: a per-key secret, used to sign pagination cursors. */
  secret: string;
  /** When the console session the request came with ends (absent: a bearer key). */
  sessionExpiresAt?: string;
}

declare module "fastify" {
  interface FastifyRequest {
    auth: AuthContext;
  }
  interface FastifyContextConfig {
    /** The route needs no key (signing in to the console); it must check what it needs itself. */
    public?: boolean;
  }
}

export interface AuthOptions {
  db: Kysely<Database>;
  defaultRateLimitPerMinute: number;
  now: () => Date;
  /** How long a key (or its absence) is remembered. */
  cacheMs?: number;
  /** How often `last_used_at` is written. */
  touchEveryMs?: number;
  /** Failed authentications per client IP and minute before 429 (0: no limit). */
  authFailuresPerMinute: number;
  /** Most tokens remembered (default 10,000). */
  maxCached?: number;
}

interface Cached {
  key: ApiKeyWithHash | undefined;
  until: number;
  /** From then on, the first request starts reading the key again (and goes on with this entry). */
  refreshAt: number;
  /** What `request.auth` is set to (shared by the requests of the key: nobody changes it). */
  auth: AuthContext | undefined;
}

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const MAX_CACHED = 10_000;
/** The cache key of a session cookie: this, then the cookie's value (never the form of a token). */
const SESSION_ENTRY = "session:";
/** Client IPs whose failures are counted at once (the least recently failing are forgotten beyond). */
const MAX_FAILING_IPS = 100_000;

/** Install authentication on a scope: every route in it needs a valid key. */
export function installAuth(app: FastifyInstance, opts: AuthOptions): void {
  const cacheMs = opts.cacheMs ?? 1_000;
  const maxCached = opts.maxCached ?? MAX_CACHED;
  // Insertion order is recency: a hit moves its entry to the end (unless it is there already, the usual case
  // of one busy key), so the first entries are the least recently used, evicted first.
  const cache = new Map<string, Cached>();
  let newest: string | undefined;
  const failures = new RateLimiter(MAX_FAILING_IPS);
  const inflight = new Map<string, Promise<Cached>>();
  const limiter = new RateLimiter();
  const used = new Set<string>();

  const timer = setInterval(() => {
    if (used.size === 0) return;
    const ids = [...used];
    used.clear();
    touchKeys(opts.db, ids, opts.now()).catch((err) => app.log.warn({ err }, "could not record key use"));
  }, opts.touchEveryMs ?? 10_000);
  timer.unref();
  app.addHook("onClose", async () => clearInterval(timer));

  // Remembered by the token itself (not its hash) so that a hit costs no SHA-256; the token is in the
  // request anyway, and entries live at most `cacheMs`. A key in use is read again from half its time on,
  // in the background, so that its requests never wait for that query.
  function remembered(token: string, now: number): Cached | undefined {
    const hit = cache.get(token);
    if (!hit || hit.until <= now) return undefined;
    if (token !== newest) {
      cache.delete(token);
      cache.set(token, hit);
      newest = token;
    }
    if (now >= hit.refreshAt && !inflight.has(token))
      load(token).catch((err: unknown) => app.log.warn({ err }, "could not read an API key"));
    return hit;
  }

  /** A token, or a session cookie (its cache entry is `session:` and the cookie's value). */
  function load(token: string): Promise<Cached> {
    let p = inflight.get(token);
    if (!p) {
      p = (token.startsWith(SESSION_ENTRY) ? readSession(token) : read(token)).finally(() =>
        inflight.delete(token),
      );
      inflight.set(token, p);
    }
    return p;
  }

  async function read(token: string): Promise<Cached> {
    return remember(token, await findKeyByTokenHash(opts.db, hashToken(token)), Infinity);
  }

  /** A session cookie: the key it names, if the signature is that key's and the session has not ended. */
  async function readSession(entryKey: string): Promise<Cached> {
    const s = parseSession(entryKey.slice(SESSION_ENTRY.length));
    const key = s && (await findKeyById(opts.db, s.keyId));
    const valid = s && key && verifySession(s, key.tokenHash, Math.floor(opts.now().getTime() / 1000));
    return remember(entryKey, valid ? key : undefined, s ? s.exp * 1000 : Infinity, true);
  }

  function remember(token: string, key: ApiKeyWithHash | undefined, endsAt: number, session = false): Cached {
    const now = Date.now();
    const entry: Cached = {
      key,
      until: Math.min(now + cacheMs, endsAt),
      refreshAt: now + cacheMs / 2,
      auth: key && {
        keyId: key.id,
        tenant: key.tenant,
        scopes: key.scopes,
        secret: key.tokenHash,
        ...(session ? { sessionExpiresAt: new Date(endsAt).toISOString() } : {}),
      },
    };
    cache.delete(token);
    while (cache.size >= maxCached) cache.delete(cache.keys().next().value!);
    cache.set(token, entry);
    newest = token;
    return entry;
  }

  /** A 401 for a token that is not a key; counted against the client IP. */
  function refuse(request: FastifyRequest, reply: FastifyReply, now: number, message: string): ApiError {
    if (opts.authFailuresPerMinute > 0) failures.take(request.ip, opts.authFailuresPerMinute, now);
    reply.header("www-authenticate", 'Bearer realm="rebound", error="invalid_token"');
    return new ApiError(401, "unauthorized", message);
  }

  /** The 429 of a client IP past its failures, or undefined when it may try. */
  function blocked(request: FastifyRequest, now: number): ApiError | undefined {
    if (opts.authFailuresPerMinute <= 0) return undefined;
    const wait = failures.wait(request.ip, opts.authFailuresPerMinute, now);
    if (wait === 0) return undefined;
    return new ApiError(
      429,
      "rate_limited",
      `too many failed authentications from this address; try again in ${wait} s`,
      { authFailuresPerMinute: opts.authFailuresPerMinute },
      { "retry-after": String(wait) },
    );
  }

  /** Let the request through (`request.auth` set) or throw the 401 or 429 to answer. */
  function admit(entry: Cached, request: FastifyRequest, reply: FastifyReply, now: number): void {
    const key = entry.key;
    if (!key)
      throw refuse(
        request,
        reply,
        now,
        request.headers.authorization
          ? "the API key is unknown or revoked"
          : "the console session has ended or its key was revoked: sign in again",
      );
    const limit = key.rateLimitPerMinute ?? opts.defaultRateLimitPerMinute;
    if (limit > 0) {
      const d = limiter.take(key.id, limit, now);
      reply.header("x-ratelimit-limit", String(d.limit));
      reply.header("x-ratelimit-remaining", String(d.remaining));
      if (!d.allowed) {
        throw new ApiError(
          429,
          "rate_limited",
          `rate limit of ${limit} requests per minute exceeded`,
          { limitPerMinute: limit },
          { "retry-after": String(d.retryAfterSeconds) },
        );
      }
    }
    used.add(key.id);
    request.auth = entry.auth!;
  }

  app.decorateRequest("auth", null as unknown as AuthContext);
  app.addHook("onRequest", (request, reply, done) => {
    if (request.routeOptions.config?.public) {
      done();
      return;
    }
    const header = request.headers.authorization;
    const m = header ? BEARER.exec(header) : null;
    let token: string;
    // A bearer token never takes the session path, whatever it looks like.
    if (m) token = m[1]!.startsWith(SESSION_ENTRY) ? "" : m[1]!;
    else {
      const session = cookieValue(request.headers.cookie, SESSION_COOKIE);
      if (session === undefined) {
        reply.header("www-authenticate", 'Bearer realm="rebound"');
        done(new ApiError(401, "unauthorized", "an API key is required: send `Authorization: Bearer TOKEN`"));
        return;
      }
      // A write made with the cookie alone must say it comes from the console: a cross-site form cannot add a
      // header (SameSite=Strict already keeps the cookie off cross-site requests; this is the second lock).
      if (request.method !== "GET" && request.method !== "HEAD" && !request.headers[CONSOLE_HEADER]) {
        done(
          new ApiError(
            403,
            "forbidden",
            `a change made with the console's session needs the \`${CONSOLE_HEADER}\` header`,
          ),
        );
        return;
      }
      token = SESSION_ENTRY + session;
    }
    const now = Date.now();
    const hit = remembered(token, now);
    if (!hit?.key) {
      // Not a key admitted lately: a client IP past its failures waits, and a token without the form of a
      // key is refused without a query.
      const no = blocked(request, now);
      if (no) {
        done(no);
        return;
      }
      if (
        token.startsWith(SESSION_ENTRY)
          ? !parseSession(token.slice(SESSION_ENTRY.length))
          : !isTokenFormat(token)
      ) {
        done(refuse(request, reply, now, "the API key is unknown or revoked"));
        return;
      }
    }
    if (hit) {
      try {
        admit(hit, request, reply, now);
      } catch (err) {
        done(err as ApiError);
        return;
      }
      done();
      return;
    }
    load(token)
      .then((entry) => admit(entry, request, reply, Date.now()))
      .then(() => done(), done);
  });
}

/** A preHandler that refuses keys without the scope. `admin` implies `write`, `write` implies `read`. */
export function requireScope(scope: Scope): preHandlerHookHandler {
  const accepted: Scope[] =
    scope === "read" ? ["read", "write", "admin"] : scope === "write" ? ["write", "admin"] : ["admin"];
  return (request, _reply, done) => {
    if (!request.auth) done(new ApiError(401, "unauthorized", "an API key is required"));
    else if (!request.auth.scopes.some((s) => accepted.includes(s)))
      done(new ApiError(403, "forbidden", `this API key lacks the \`${scope}\` scope`));
    else done();
  };
}
