// The events of a batch that need no history (hard, block, complaint, auto-reply, undetermined: every class
// but soft and delivered), applied in a few statements instead of a few per event: every event in one INSERT,
// the suppressions they make in one more, and their log lines and announcements in a third, in the events'
// order. A suppression that already exists is merged by upsertSuppression, as applyEvent would. Each event's
// result, and the outbox's order, are the ones applyEvent would give them one after the other.
import type { Transaction } from "kysely";
import { EMPTY_HISTORY } from "../core/policy.js";
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
  keyOf,
  needsHistory,
  planEvent,
  suppressionOf,
  type Applied,
  type ApplyContext,
  type EventSpec,
} from "./apply-event.js";

export interface BulkItem {
  ctx: ApplyContext;
  spec: EventSpec;
}

/** Whether an event can go through the bulk path: no history to read, nothing re-processed to keep quiet. */
export const bulkable = ({ ctx, spec }: BulkItem) =>
  !needsHistory(spec.who.recipient.class) && !ctx.quietSuppressions?.size && !ctx.announced?.size;

export async function applyInBulk(trx: Transaction<Database>, items: BulkItem[]): Promise<Applied[]> {
  const plans = items.map(({ ctx, spec }) => planEvent(ctx, spec, EMPTY_HISTORY));
  const eventIds = await insertEvents(
    trx,
    plans.map((p) => p.event),
  );
  const applied: Applied[] = plans.map((p, i) => ({
    eventId: eventIds[i]!,
    decision: p.decision,
    block: eventIds[i] === null ? undefined : blockOf(items[i]!.spec, p.decision),
  }));

  // The suppressions: the new ones in one statement, those that exist merged one by one.
  const suppress = new Map<number, { input: SuppressionInput; then?: OutboxEvent }>();
  const announcements = plans.map((p, i) => {
    const eventId = eventIds[i];
    if (eventId === null || eventId === undefined) return undefined; // the same address and stream twice in one mail
    const input = suppressionOf(items[i]!.ctx, items[i]!.spec, p, eventId);
    const announcement = p.announcement && {
      ...p.announcement,
      payload: { eventId, ...p.announcement.payload },
    };
    if (input) suppress.set(i, { input, then: announcement });
    return announcement;
  });
  const made = await insertSuppressionRows(
    trx,
    [...suppress.values()].map((s) => s.input),
  );
  const madeOf = new Map([...suppress.keys()].map((i, j) => [i, made[j]!]));

  // Log lines and announcements in the events' order, all written in one statement.
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
