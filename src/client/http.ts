// One HTTP exchange with the API: the URL from a path template and query, a timeout per attempt, the caller's
// AbortSignal, retries of 429 and 503 after their Retry-After, and error answers turned into ReboundError.
// Nothing here knows a route.
import { errorFromAnswer, ReboundError } from "./errors.js";

export interface RetryInfo {
  /** The attempt that failed (1: the first). */
  attempt: number;
  status: number;
  /** How long the client waits before the next attempt. */
  delayMs: number;
  request: string;
}

export interface TransportOptions {
  baseUrl: string;
  token: string;
  timeoutMs: number;
  maxRetries: number;
  maxRetryDelayMs: number;
  fetch: typeof fetch;
  userAgent: string;
  onRetry?: (info: RetryInfo) => void;
}

export interface Exchange {
  method: string;
  path: string;
  pathParams?: Record<string, string | number>;
  query?: Record<string, unknown>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
  timeoutMs?: number;
  headers?: Record<string, string>;
}

/** An answer that succeeded; `done()` ends its timeout once the body has been read (or abandoned). */
export interface Answer {
  response: Response;
  done(): void;
}

const RETRIED = new Set([429, 503]);
/** Without Retry-After: 0.5 s, 1 s, 2 s, ... */
const BACKOFF_MS = 500;

/** `/v1/suppressions/{address}` with `{address}` filled in, percent-encoded. */
export function fillPath(template: string, params: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w{1,64})\}/g, (_, name: string) => {
    const v = params[name];
    if (v === undefined) throw new TypeError(`${template}: the path parameter "${name}" is missing`);
    return encodeURIComponent(String(v));
  });
}

function queryString(query: Record<string, unknown> = {}): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) {
    if (v === undefined || v === null) continue;
    q.append(k, v instanceof Date ? v.toISOString() : String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

/** Seconds of a Retry-After header: a number of seconds or an HTTP date. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === "") return undefined;
  const v = value.trim();
  if (/^\d{1,10}$/.test(v)) return Number(v);
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, Math.ceil((t - now) / 1000));
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

/** A signal for one attempt: the caller's, or the timeout's. */
function attemptSignal(outer: AbortSignal | undefined, timeoutMs: number) {
  const ctl = new AbortController();
  let timedOut = false;
  const onAbort = () => ctl.abort(outer?.reason);
  outer?.addEventListener("abort", onAbort, { once: true });
  const timer =
    timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          ctl.abort(new ReboundError(0, "timeout", `no answer within ${timeoutMs} ms`));
        }, timeoutMs)
      : undefined;
  return {
    signal: ctl.signal,
    timedOut: () => timedOut,
    done() {
      clearTimeout(timer);
      outer?.removeEventListener("abort", onAbort);
    },
  };
}

function encodeBody(body: unknown, contentType: string | undefined) {
  if (body === undefined) return { body: undefined, type: undefined };
  if (contentType && contentType !== "application/json") {
    if (typeof body === "string" || body instanceof Uint8Array || body instanceof Blob)
      return { body: body as string | Uint8Array | Blob, type: contentType };
    throw new TypeError(`a ${contentType} body must be a string, a Uint8Array or a Blob`);
  }
  return { body: JSON.stringify(body), type: "application/json" };
}

export class Transport {
  private readonly base: string;

  constructor(private readonly o: TransportOptions) {
    let base = o.baseUrl;
    while (base.endsWith("/")) base = base.slice(0, -1);
    this.base = base;
  }

  /** Sends the exchange, retrying 429 and 503; resolves with a 2xx answer, rejects with a ReboundError. */
  async send(x: Exchange): Promise<Answer> {
    const path = fillPath(x.path, x.pathParams);
    const request = `${x.method.toUpperCase()} ${path}`;
    const url = this.base + path + queryString(x.query);
    const { body, type } = encodeBody(x.body, x.contentType);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.o.token}`,
      "user-agent": this.o.userAgent,
      ...(type ? { "content-type": type } : {}),
      ...x.headers,
    };
    const timeoutMs = x.timeoutMs ?? this.o.timeoutMs;
    for (let attempt = 1; ; attempt++) {
      const a = attemptSignal(x.signal, timeoutMs);
      let response: Response;
      try {
        response = await this.o.fetch(url, {
          method: x.method.toUpperCase(),
          headers,
          body,
          signal: a.signal,
        });
      } catch (err) {
        a.done();
        throw this.failure(err, x.signal, a.timedOut(), request, timeoutMs);
      }
      if (response.ok) return { response, done: a.done };
      const retryAfter = parseRetryAfter(response.headers.get("retry-after"));
      const delayMs = retryAfter !== undefined ? retryAfter * 1000 : BACKOFF_MS * 2 ** (attempt - 1);
      if (RETRIED.has(response.status) && attempt <= this.o.maxRetries && delayMs <= this.o.maxRetryDelayMs) {
        await response.body?.cancel().catch(() => undefined);
        a.done();
        this.o.onRetry?.({ attempt, status: response.status, delayMs, request });
        await sleep(delayMs, x.signal);
        continue;
      }
      let answer: unknown;
      try {
        answer = (response.headers.get("content-type") ?? "").includes("json")
          ? await response.json()
          : undefined;
      } catch (err) {
        throw this.failure(err, x.signal, a.timedOut(), request, timeoutMs);
      } finally {
        a.done();
      }
      throw errorFromAnswer(response.status, answer, retryAfter, request);
    }
  }

  /** The error of an exchange that got no (complete) answer. */
  private failure(
    err: unknown,
    signal: AbortSignal | undefined,
    timedOut: boolean,
    request: string,
    timeoutMs: number,
  ) {
    if (signal?.aborted) return signal.reason as unknown;
    if (timedOut)
      return new ReboundError(
        0,
        "timeout",
        `${request}: no answer within ${timeoutMs} ms`,
        undefined,
        undefined,
        request,
      );
    if (err instanceof ReboundError) return err;
    const message = err instanceof Error ? err.message : String(err);
    return new ReboundError(0, "network_error", `${request}: ${message}`, undefined, undefined, request, {
      cause: err,
    });
  }
}
