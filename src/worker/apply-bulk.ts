// The events of a batch applied in a few statements instead of a few per event, with the results (event ids,
// suppressions, log lines, announcements and their order) that applyEvent would give them one after the other:
//
// - applyInBulk: the events that need no history (hard, block, complaint, auto-reply, undetermined): every event
//   in one INSERT, the suppressions they make in one more, their log lines and announcements in a third.
// - applyWithHistories: soft bounces and deliveries, whose decision reads the address's history. The histories
//   of all their addresses are locked and read in two statements; then the events are decided in order, each on
//   the history the ones before it left (as applyEvent would find it after their writes), and written as above,
//   with the addresses' final states in one more statement.
import type { Transaction } from "kysely";
import { EMPTY_HISTORY, type AddressState } from "../core/policy.js";
import { historyAt, lockHistories, saveAddressStates, type AddressKey } from "../store/address-state.js";
import { insertEvents } from "../store/events.js";
import type { OutboxEvent } from "../store/outbox.js";
import type { Database } from "../store/schema.js";
import {
  deferred,
  insertSuppressionRows,
  noteCreated,
  upsertSuppression,
  writeDeferred,
  type SuppressionInput,
} from "../store/suppressions.js";
import {
  blockOf,
  countInRollups,
  keyOf,
  tiesOf,
  lookbackDays,
  needsHistory,
  planEvent,
  suppressionOf,
  type Applied,
  type ApplyContext,
  type EventPlan,
  type EventSpec,
} from "./apply-event.js";

export interface BulkItem {
  ctx: ApplyContext;
  spec: EventSpec;
}

/** Nothing re-processed to keep quiet (re-processing goes through applyEvent). */
const plain = (ctx: ApplyContext) => !ctx.quietSuppressions?.size && !ctx.announced?.size;

/** Whether an event can go through applyInBulk. */
export const bulkable = ({ ctx, spec }: BulkItem) => !needsHistory(spec.who.recipient.class) && plain(ctx);

/** Whether an event can go through applyWithHistories. */
export const bulkableWithHistory = ({ ctx, spec }: BulkItem) =>
  needsHistory(spec.who.recipient.class) && plain(ctx);

export async function applyInBulk(trx: Transaction<Database>, items: BulkItem[]): Promise<Applied[]> {
  if (!items.length) return [];
  const ties = await tiesOf(
    trx,
    items[0]!.ctx,
    items.map((i) => i.spec),
  );
  return writePlans(
    trx,
    items,
    items.map(({ ctx, spec }, i) => planEvent(ctx, spec, EMPTY_HISTORY, ties[i])),
  );
}

/** The identity an event is unique by: its mail, address and stream. */
export const eventIdentity = (spec: EventSpec) =>
  JSON.stringify([spec.mailId, spec.who.address, spec.who.stream]);

/**
 * Soft bounces and deliveries (items in key order, as applyEvent's callers give them). `written`: the identities
 * (eventIdentity) of events this transaction has already written, which these cannot be written again.
 */
export async function applyWithHistories(
  trx: Transaction<Database>,
  items: BulkItem[],
  written: ReadonlySet<string> = new Set(),
): Promise<Applied[]> {
  if (!items.length) return [];
  const DAY = 86_400_000;
  // The addresses, in the items' order; each locked from its first event's time, read back as far as the
  // earliest of its events looks.
  const addresses = new Map<string, AddressKey & { at: Date; since: Date }>();
  const addressOf = items.map(({ ctx, spec }) => {
    const a = spec.who;
    const id = keyOf(a.tenant, a.stream, a.address);
    const since = new Date(spec.occurredAt.getTime() - lookbackDays(ctx.policy) * DAY);
    const known = addresses.get(id);
    if (!known)
      addresses.set(id, {
        tenant: a.tenant,
        stream: a.stream,
        addressHash: ctx.hashAddress(a.address),
        at: spec.occurredAt,
        since,
      });
    else if (since < known.since) known.since = since;
    return id;
  });
  const ties = await tiesOf(
    trx,
    items[0]!.ctx,
    items.map((i) => i.spec),
  );
  const locked = await lockHistories(trx, [...addresses.values()]);
  const live = new Map([...addresses.keys()].map((id, i) => [id, locked[i]!]));

  // Decide in order. An event that repeats one of its mail (same address and stream) is not written, so it
  // changes no history (writePlans holds the database to that prediction).
  const seen = new Set<string>(written);
  const repeats: boolean[] = [];
  const changed = new Map<string, { key: AddressKey; state: AddressState; at: Date }>();
  const plans = items.map(({ ctx, spec }, i) => {
    const h = live.get(addressOf[i]!)!;
    const lookback = new Date(spec.occurredAt.getTime() - lookbackDays(ctx.policy) * DAY);
    const plan = planEvent(ctx, spec, historyAt(h, lookback), ties[i]);
    // Events of no mail (a log's, an API's) are unique by nothing: each is written.
    const once = spec.mailId === null ? undefined : eventIdentity(spec);
    const repeat = once !== undefined && seen.has(once);
    repeats.push(repeat);
    if (repeat) return plan;
    if (once !== undefined) seen.add(once);
    if (plan.decision.state) {
      h.state = plan.decision.state;
      changed.set(addressOf[i]!, { key: addresses.get(addressOf[i]!)!, state: h.state, at: ctx.now });
    }
    if (spec.who.recipient.class === "soft" && ["retry", "suppress"].includes(plan.decision.action)) {
      const at = spec.occurredAt.getTime();
      const j = h.softBounces.findIndex((t) => t.getTime() > at);
      h.softBounces.splice(j < 0 ? h.softBounces.length : j, 0, spec.occurredAt);
    }
    return plan;
  });
  const applied = await writePlans(trx, items, plans, repeats);
  await saveAddressStates(trx, [...changed.values()]);
  return applied;
}

/**
 * Write planned events: the events in one INSERT, the suppressions they make (new ones in one statement, those
 * that exist merged one by one), then their log lines and announcements in the events' order, in one statement.
 * `repeats`, when given, says which events must come back unwritten (a repeat within their mail); any other
 * surprise throws, and the caller's batch goes again mail by mail.
 */
async function writePlans(
  trx: Transaction<Database>,
  items: BulkItem[],
  plans: EventPlan[],
  repeats?: boolean[],
): Promise<Applied[]> {
  const eventIds = await insertEvents(
    trx,
    plans.map((p) => p.event),
  );
  if (repeats && eventIds.some((id, i) => (id === null) !== repeats[i]))
    throw new Error("events written differ from the plan: the batch goes again mail by mail");
  const written = plans.filter((_, i) => eventIds[i] !== null && eventIds[i] !== undefined);
  if (items.length) await countInRollups(trx, items[0]!.ctx, written);
  const applied: Applied[] = plans.map((p, i) => ({
    eventId: eventIds[i]!,
    decision: p.decision,
    block: eventIds[i] === null ? undefined : blockOf(items[i]!.spec, p.decision),
  }));

  const suppress = new Map<number, { input: SuppressionInput; then?: OutboxEvent }>();
  const announcements = plans.map((p, i) => {
    const eventId = eventIds[i];
    if (eventId === null || eventId === undefined) return undefined; // the same address and stream twice in one mail
    const input = suppressionOf(items[i]!.ctx, items[i]!.spec, p, eventId);
    const announcement = p.announcement && {
      ...p.announcement,
      payload: { eventId: String(eventId), ...p.announcement.payload },
    };
    if (input) suppress.set(i, { input, then: announcement });
    return announcement;
  });
  const made = await insertSuppressionRows(
    trx,
    [...suppress.values()].map((s) => s.input),
  );
  const madeOf = new Map([...suppress.keys()].map((i, j) => [i, made[j]!]));

  const out = deferred();
  for (const [i, announcement] of announcements.entries()) {
    const s = suppress.get(i);
    if (!s) {
      if (announcement) out.announce.push(announcement);
      continue;
    }
    const id = madeOf.get(i);
    if (id) noteCreated(out, id, s.input, s.then);
    else await upsertSuppression(trx, s.input, { then: s.then, defer: out });
    applied[i]!.suppressed = keyOf(s.input.tenant, s.input.stream, s.input.address);
  }
  await writeDeferred(trx, out);
  return applied;
}
