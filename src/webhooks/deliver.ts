// One try of one webhook delivery: claim it, POST the signed body with a timeout, record the outcome. A 2xx is
// success; anything else (status, timeout, refused connection) schedules the next try with exponential back-off,
// and the delivery is `dead` after `maxAttempts` tries.
import type { Logger } from "../log.js";
import type { Db } from "../store/db.js";
import {
  claimDelivery,
  recordAttempt,
  type AttemptOutcome,
  type ClaimedDelivery,
} from "../store/webhooks.js";
import { SIGNATURE_HEADER, signatureHeader } from "./sign.js";

export interface DeliveryOptions {
  /** Time allowed for the endpoint to answer (headers and body). */
  timeoutMs: number;
  /** Tries before a delivery is dead. */
  maxAttempts: number;
  /** Wait after the first failed try; doubles after each further one. */
  backoffBaseMs: number;
  /** The longest wait between two tries. */
  backoffMaxMs: number;
}

/** 10 tries over about 4 hours: 30 s, 1, 2, 4, 8, 16, 32, 64, 128 min. */
export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  timeoutMs: 10_000,
  maxAttempts: 10,
  backoffBaseMs: 30_000,
  backoffMaxMs: 6 * 60 * 60_000,
};

export type FetchFn = typeof fetch;

export interface DeliverDeps {
  db: Db;
  logger: Logger;
  now: () => Date;
  fetch: FetchFn;
}

/** The wait after failed try number `attempt` (1-based). */
export function backoffMs(
  attempt: number,
  opts: Pick<DeliveryOptions, "backoffBaseMs" | "backoffMaxMs">,
): number {
  return Math.min(opts.backoffMaxMs, opts.backoffBaseMs * 2 ** Math.max(0, attempt - 1));
}

/** The JSON body an endpoint receives. `id` is stable across tries and endpoints: receivers dedupe on it. */
export function deliveryBody(
  d: Pick<ClaimedDelivery, "outboxId" | "eventType" | "tenant" | "payload" | "createdAt">,
): string {
  return JSON.stringify({
    id: `evt_${d.outboxId}`,
    type: d.eventType,
    tenant: d.tenant,
    created_at: d.createdAt.toISOString(),
    data: d.payload,
  });
}

const USER_AGENT = "Rebound-Webhooks/0.1";

/**
 * Try delivery `id` once if it is due. Returns the outcome, or undefined when there was nothing to do (not due,
 * finished, or being tried by another worker).
 */
export async function deliverOnce(
  deps: DeliverDeps,
  id: string,
  opts: DeliveryOptions = DEFAULT_DELIVERY_OPTIONS,
  /** Take it even if it is due only this much later (a delayed job may fire a little early). */
  earlyMs = 0,
): Promise<(AttemptOutcome & { attempt: number }) | undefined> {
  const start = deps.now();
  // The lease outlasts the request, so a crashed worker's delivery is retried by someone else later.
  const claimed = await claimDelivery(
    deps.db,
    id,
    new Date(start.getTime() + earlyMs),
    new Date(start.getTime() + opts.timeoutMs + 60_000),
  );
  if (!claimed) return undefined;
  const result = await post(deps.fetch, claimed, opts.timeoutMs, Math.floor(start.getTime() / 1000));
  const at = deps.now();
  let outcome: AttemptOutcome;
  if (result.ok) outcome = { status: "delivered", statusCode: result.statusCode, at };
  else if (claimed.attempt >= opts.maxAttempts)
    outcome = { status: "dead", statusCode: result.statusCode, error: result.error };
  else
    outcome = {
      status: "failed",
      statusCode: result.statusCode,
      error: result.error,
      nextAttemptAt: new Date(at.getTime() + backoffMs(claimed.attempt, opts)),
    };
  const recorded = await recordAttempt(deps.db, claimed.id, claimed.attempt, outcome);
  const log = {
    deliveryId: claimed.id,
    webhookId: claimed.webhookId,
    tenant: claimed.tenant,
    event: claimed.eventType,
    attempt: claimed.attempt,
    status: outcome.status,
    statusCode: outcome.statusCode,
  };
  if (!recorded) deps.logger.warn(log, "webhook delivery outcome not recorded: tried again meanwhile");
  else if (outcome.status === "dead")
    deps.logger.warn({ ...log, error: outcome.error }, "webhook delivery dead after its last try");
  else if (outcome.status === "failed")
    deps.logger.info(
      { ...log, error: outcome.error, nextAttemptAt: outcome.nextAttemptAt },
      "webhook delivery failed",
    );
  else deps.logger.info(log, "webhook delivered");
  return recorded ? { ...outcome, attempt: claimed.attempt } : undefined;
}

type PostResult = { ok: true; statusCode: number } | { ok: false; statusCode: number | null; error: string };

async function post(
  fetchFn: FetchFn,
  d: ClaimedDelivery,
  timeoutMs: number,
  timestamp: number,
): Promise<PostResult> {
  const body = deliveryBody(d);
  try {
    const res = await fetchFn(d.url, {
      method: "POST",
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
      headers: {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        [SIGNATURE_HEADER]: signatureHeader(d.secret, timestamp, body),
        "Rebound-Event": d.eventType,
        "Rebound-Delivery": d.id,
        "Rebound-Attempt": String(d.attempt),
      },
    });
    // Read (a little of) the answer within the timeout so the connection is freed; keep some for the log.
    const text = (await res.text()).slice(0, 300);
    if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status };
    const what = res.status >= 300 && res.status < 400 ? "redirect not followed" : "non-2xx answer";
    return {
      ok: false,
      statusCode: res.status,
      error: `HTTP ${res.status} (${what})${text ? `: ${oneLine(text)}` : ""}`,
    };
  } catch (err) {
    return { ok: false, statusCode: null, error: describeError(err, timeoutMs) };
  }
}

function describeError(err: unknown, timeoutMs: number): string {
  if (err instanceof Error) {
    if (err.name === "TimeoutError" || err.name === "AbortError") return `no answer within ${timeoutMs} ms`;
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) {
      const code = (cause as Error & { code?: unknown }).code;
      return `${err.message}: ${typeof code === "string" ? code : cause.message}`;
    }
    return err.message;
  }
  return String(err);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim().slice(0, 200);
}
