// One event through the policy, inside the caller's transaction:
//
//   lock the address's history -> decide -> store the event (with its decision) -> suppression, address state,
//   outbox
//
// Used for each recipient of a processed mail (process-mail.ts) and for deliveries reported by senders
// (record-delivery.ts).
import type { Transaction } from "kysely";
import type { AddressHasher } from "../core/address.js";
import type { Attributed } from "../core/attribute.js";
import {
  decide,
  EMPTY_HISTORY,
  type AddressState,
  type AddressHistory,
  type Decision,
} from "../core/policy.js";
import type { Policy } from "../core/policy-config.js";
import { rollupOfEvent, type RollupCollector, type RollupIncrement } from "../core/rollup.js";
import type { ProviderLookup } from "../monitor/provider-resolver.js";
import { tieEvents, type Tie } from "../monitor/tie.js";
import { addToRollups } from "../store/rollups.js";
import { lockHistory, saveAddressState } from "../store/address-state.js";
import { insertEvent, insertEventWithOutbox, type NewEvent } from "../store/events.js";
import type { OutboxEvent, OutboxType } from "../store/outbox.js";
import type { Database } from "../store/schema.js";
import { upsertSuppression, type SuppressionInput } from "../store/suppressions.js";

export interface BlockCount {
  tenant: string;
  stream: string;
  provider: string;
  reason: string;
}

export interface ApplyContext {
  policy: Policy;
  /** The keyed hash every table files addresses under. */
  hashAddress: AddressHasher;
  now: Date;
  classifierVersion: string | null;
  /** Suppressions (keyOf) whose creation must not be announced: re-processing re-derives them. */
  quietSuppressions?: ReadonlySet<string>;
  /** Events (keyOf -> class) already announced before re-processing: announced again only if the class changed. */
  announced?: ReadonlyMap<string, string>;
  /** Resolves the mailbox provider of domains the table does not know (MX hosts); absent: the table alone. */
  providers?: ProviderLookup;
  /** Where the rollup increments of the transaction's events go, written at its end; absent: written at once. */
  rollups?: RollupCollector;
}

export interface EventSpec {
  mailId: string | null;
  /** `mail`, `api`, ... */
  source?: string;
  kind: string;
  who: Attributed;
  occurredAt: Date;
  /** The returned original's Message-ID, which ties the event to its send (POST /v1/sends). */
  messageId?: string;
  /** The domain the mail was sent from (src/core/sending-domain.ts); null or absent when unknown. */
  sendingDomain?: string | null;
}

export interface Applied {
  /** Null when the mail already had an event for this address and stream (nothing else was done). */
  eventId: string | null;
  decision: Decision;
  /** keyOf of the suppression written, if any. */
  suppressed?: string;
  block?: BlockCount;
}

const BOUNCE_TYPES: Partial<Record<string, OutboxType>> = {
  hard: "bounce.hard",
  soft: "bounce.soft",
  block: "bounce.block",
  complaint: "complaint",
};

/** The identity of an address in a stream of a tenant, as a map key. */
export const keyOf = (tenant: string, stream: string, address: string) =>
  JSON.stringify([tenant, stream, address]);

/** How far back soft bounces are loaded for the policy: the longest soft window. */
export const lookbackDays = (p: Policy) =>
  Math.max(
    p.soft.default.windowDays,
    p.soft.permanentUndefined.windowDays,
    ...Object.values(p.soft.reasons).map((r) => r.windowDays),
  );

/** Whether an event's decision depends on the address's history (earlier soft bounces, deliveries). */
export const needsHistory = (cls: string) => cls === "soft" || cls === "delivered";

/** What an event will write, decided before anything is: pure. */
export interface EventPlan {
  addressHash: string;
  decision: Decision;
  event: NewEvent;
  /** The event's own announcement (bounce.*, complaint), if it gets one. */
  announcement?: OutboxEvent;
}

export function planEvent(ctx: ApplyContext, e: EventSpec, history: AddressHistory, tie?: Tie): EventPlan {
  const { who: a, occurredAt } = e;
  const r = a.recipient;
  const addressHash = ctx.hashAddress(a.address);
  const decision = decide(
    {
      class: r.class,
      reason: r.reason,
      stream: a.stream,
      verification: a.verification,
      recipientDomain: a.domain,
      provider: tie?.provider,
      feedbackType: r.feedbackType,
      permanent: r.permanent,
      occurredAt,
    },
    history,
    ctx.policy,
    ctx.now,
  );
  const stateBefore: AddressState = {
    softLevel: history.softLevel,
    softResetAt: history.softResetAt,
    nextRetryAt: history.nextRetryAt,
    lastDeliveryAt: history.lastDeliveryAt,
  };
  const event: NewEvent = {
    mailId: e.mailId,
    source: e.source,
    tenant: a.tenant,
    stream: a.stream,
    address: a.address,
    addressHash,
    addressOriginal: a.addressOriginal,
    recipientDomain: a.domain,
    kind: e.kind,
    reason: r.reason,
    class: r.class,
    permanent: r.permanent ?? null,
    status: r.status,
    smtpCode: r.smtpCode,
    action: r.action,
    diagnostic: r.diagnostic,
    remoteMta: r.remoteMta,
    reportingMta: r.reportingMta,
    feedbackType: r.feedbackType,
    parser: r.parser,
    rule: r.rule,
    verified: a.verification === "verified",
    verpKeyId: a.verpKeyId,
    classifierVersion: ctx.classifierVersion,
    decision: decisionJson(
      decision,
      a,
      decision.state ? stateBefore : undefined,
      r.feedbackType === "auth-failure" ? r.fields : undefined,
    ),
    occurredAt,
    provider: tie?.provider ?? null,
    campaign: tie?.campaign ?? null,
    sendingIp: tie?.sendingIp ?? null,
    sentAt: tie?.sentAt ?? null,
    // Its own (the returned mail's From, the log's sender, the ESP's source), else its send's.
    sendingDomain: e.sendingDomain ?? tie?.sendingDomain ?? null,
  };
  // The announcement of the event (its payload gets the event id).
  // An authentication failure report is no complaint of the recipient's: not announced as one.
  const type = r.feedbackType === "auth-failure" ? undefined : BOUNCE_TYPES[r.class];
  const alreadyAnnounced = ctx.announced?.get(keyOf(a.tenant, a.stream, a.address)) === r.class;
  const announcement: OutboxEvent | undefined =
    type && decision.rule !== "policy.unverified" && !alreadyAnnounced
      ? {
          tenant: a.tenant,
          type,
          payload: {
            mailId: e.mailId === null ? null : String(e.mailId),
            stream: a.stream,
            recipient: a.address,
            reason: r.reason,
            class: r.class,
            permanent: r.permanent ?? null,
            status: r.status ?? null,
            smtpCode: r.smtpCode ?? null,
            diagnostic: r.diagnostic ?? null,
            remoteMta: r.remoteMta ?? null,
            feedbackType: r.feedbackType ?? null,
            rule: r.rule,
            verified: a.verification === "verified",
            decision: {
              action: decision.action,
              rule: decision.rule,
              nextRetryAt: decision.nextRetryAt?.toISOString() ?? null,
              suppressedUntil: decision.suppression
                ? (decision.suppression.expiresAt?.toISOString() ?? null)
                : undefined,
            },
            occurredAt: occurredAt.toISOString(),
          },
        }
      : undefined;
  return { addressHash, decision, event, announcement };
}

/** The providers and sends of events (see monitor/tie.ts), looked up before they are planned. */
export function tiesOf(trx: Transaction<Database>, ctx: ApplyContext, specs: EventSpec[]): Promise<Tie[]> {
  return tieEvents(
    trx,
    ctx.providers,
    specs.map((e) => ({ tenant: e.who.tenant, domain: e.who.domain, messageId: e.messageId })),
  );
}

/** What a written event adds to the hourly rollups. */
export function rollupOfPlan(plan: EventPlan): RollupIncrement | undefined {
  const e = plan.event;
  return rollupOfEvent({
    tenant: e.tenant,
    stream: e.stream,
    class: e.class,
    provider: e.provider ?? "other",
    campaign: e.campaign ?? null,
    sendingIp: e.sendingIp ?? null,
    sentAt: e.sentAt ?? null,
    occurredAt: e.occurredAt,
    unverified: plan.decision.rule === "policy.unverified",
  });
}

/** Counts written events into the rollups: into the transaction's collector, or at once without one. */
export async function countInRollups(
  trx: Transaction<Database>,
  ctx: ApplyContext,
  plans: EventPlan[],
): Promise<void> {
  const incs = plans.map(rollupOfPlan);
  if (ctx.rollups) for (const inc of incs) ctx.rollups.add(inc);
  else
    await addToRollups(
      trx,
      incs.filter((i): i is RollupIncrement => !!i),
    );
}

/** The suppression a plan makes (when its decision suppresses), as upsertSuppression takes it. */
export function suppressionOf(
  ctx: ApplyContext,
  e: EventSpec,
  plan: EventPlan,
  eventId: string,
): SuppressionInput | undefined {
  const s = plan.decision.suppression;
  if (!s) return undefined;
  const a = e.who;
  return {
    tenant: a.tenant,
    stream: s.stream,
    address: a.address,
    addressHash: plan.addressHash,
    addressOriginal: a.addressOriginal,
    reason: a.recipient.reason,
    class: a.recipient.class,
    source: s.source,
    rule: `${plan.decision.rule} <- ${a.recipient.rule}`,
    eventIds: [eventId],
    expiresAt: s.expiresAt,
    actor: "rebound",
    at: ctx.now,
  };
}

/** The block to count (metrics, alerts), when the decision counts one. */
export function blockOf(e: EventSpec, d: Decision): BlockCount | undefined {
  if (!d.count) return undefined;
  return {
    tenant: e.who.tenant,
    stream: d.count.stream,
    provider: d.count.provider,
    reason: e.who.recipient.reason,
  };
}

export async function applyEvent(
  trx: Transaction<Database>,
  ctx: ApplyContext,
  e: EventSpec,
): Promise<Applied> {
  const a = e.who;
  const key = { tenant: a.tenant, stream: a.stream, addressHash: ctx.hashAddress(a.address) };
  const history = needsHistory(a.recipient.class)
    ? await lockHistory(trx, key, e.occurredAt, lookbackDays(ctx.policy))
    : EMPTY_HISTORY;
  const [tie] = await tiesOf(trx, ctx, [e]);
  const plan = planEvent(ctx, e, history, tie);
  const { decision, event, announcement } = plan;
  // Written with the event in one statement, unless a suppression comes first (suppression.added, then this).
  const eventId =
    announcement && !decision.suppression
      ? await insertEventWithOutbox(trx, event, announcement)
      : await insertEvent(trx, event);
  if (eventId === null) return { eventId, decision }; // the same address and stream twice in one mail: once is enough
  await countInRollups(trx, ctx, [plan]);

  const out: Applied = { eventId, decision, block: blockOf(e, decision) };
  if (decision.state) await saveAddressState(trx, key, decision.state, ctx.now);
  const suppression = suppressionOf(ctx, e, plan, eventId);
  if (suppression) {
    const k = keyOf(a.tenant, suppression.stream, a.address);
    await upsertSuppression(trx, suppression, {
      emit: !ctx.quietSuppressions?.has(k),
      then: announcement && {
        ...announcement,
        payload: { eventId: String(eventId), ...announcement.payload },
      },
    });
    out.suppressed = k;
  }
  return out;
}

function decisionJson(
  d: Decision,
  a: Attributed,
  stateBefore: AddressState | undefined,
  authentication?: Record<string, string>,
): Record<string, unknown> {
  return {
    action: d.action,
    ...(authentication ? { authentication } : {}),
    rule: d.rule,
    why: d.why,
    verification: a.verification,
    ...(d.suppression
      ? { suppression: { ...d.suppression, expiresAt: d.suppression.expiresAt?.toISOString() ?? null } }
      : {}),
    ...(d.nextRetryAt !== undefined ? { nextRetryAt: d.nextRetryAt?.toISOString() ?? null } : {}),
    ...(d.soft ? { soft: d.soft } : {}),
    ...(d.count ? { count: d.count } : {}),
    ...(d.state
      ? { state: stateJson(d.state), stateBefore: stateBefore ? stateJson(stateBefore) : null }
      : {}),
  };
}

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export const stateJson = (s: AddressState) => ({
  softLevel: s.softLevel,
  softResetAt: iso(s.softResetAt),
  nextRetryAt: iso(s.nextRetryAt),
  lastDeliveryAt: iso(s.lastDeliveryAt),
});

export const stateFromJson = (j: Record<string, unknown>): AddressState => ({
  softLevel: Number(j.softLevel ?? 0),
  softResetAt: j.softResetAt ? new Date(String(j.softResetAt)) : null,
  nextRetryAt: j.nextRetryAt ? new Date(String(j.nextRetryAt)) : null,
  lastDeliveryAt: j.lastDeliveryAt ? new Date(String(j.lastDeliveryAt)) : null,
});
