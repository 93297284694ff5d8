// One try of one webhook delivery: claim it, POST the signed body with a timeout, record the outcome. A 2xx is
// success; anything else (status, timeout, refused connection) schedules the next try with exponential back-off,
// and the delivery is `dead` after `maxAttempts` tries. A destination the egress policy refuses (egress.ts) is a
// failed try like the others: the tenant sees why in its delivery log.
import type { Logger } from "../log.js";
import type { Db } from "../store/db.js";
import {
  claimDelivery,
  recordAttempt,
  type AttemptOutcome,
  type ClaimedDelivery,
} from "../store/webhooks.js";
import { AnswerTimeoutError, type WebhookClient } from "./http-post.js";
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

export interface DeliverDeps {
  db: Db;
  logger: Logger;
  now: () => Date;
  /** Sends only where the egress policy allows. */
  client: WebhookClient;
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
    createdAt: d.createdAt.toISOString(),
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
  const result = await post(deps.client, claimed, opts.timeoutMs, Math.floor(start.getTime() / 1000));
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
  client: WebhookClient,
  d: ClaimedDelivery,
  timeoutMs: number,
  timestamp: number,
): Promise<PostResult> {
  const body = deliveryBody(d);
  try {
    const res = await client.post(
      new URL(d.url),
      {
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
        "user-agent": USER_AGENT,
        [SIGNATURE_HEADER]: signatureHeader(d.secret, timestamp, body),
        "Rebound-Event": d.eventType,
        "Rebound-Delivery": d.id,
        "Rebound-Attempt": String(d.attempt),
      },
      body,
      timeoutMs,
    );
    const text = res.text.slice(0, 300);
    if (res.status >= 200 && res.status < 300) return { ok: true, statusCode: res.status };
    const what = res.status >= 300 && res.status < 400 ? "redirect not followed" : "non-2xx answer";
    return {
      ok: false,
      statusCode: res.status,
      error: `HTTP ${res.status} (${what})${text ? `: ${oneLine(text)}` : ""}`,
    };
  } catch (err) {
    return { ok: false, statusCode: null, error: describeError(err) };
  }
}

function describeError(err: unknown): string {
  // Several addresses tried (IPv6 and IPv4, say), each failed: name them all.
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(describeError).join("; ");
  if (err instanceof AnswerTimeoutError) return err.message;
  if (err instanceof Error) {
    const code = (err as Error & { code?: unknown }).code;
    return err.message || (typeof code === "string" ? code : err.name);
  }
  return String(err);
}

function oneLine(s: string): string {
  return s.replace(/\s+/g, " ").trim().slice(0, 200);
}
