// The processing of one inbound mail, in one transaction:
//
//   load -> duplicate? -> classify -> attribute (VERP) -> per recipient: history -> decide -> event ->
//   suppression / address state / outbox -> mark processed
//
// Idempotent: a mail already processed is left alone (unless re-processing is asked for), events are unique per
// mail, address and stream, and a mail whose bytes equal an already processed one's is marked `duplicate` and
// changes nothing. Transient errors throw (the queue retries); markFailed() keeps a mail that could not be
// processed, with its error, for `rebound reprocess --failed`.
//
// Re-processing (after the rules improve) replaces the mail's events and re-derives their effects: the mail's
// event ids (and their count) leave the suppressions they were part of; a suppression left with no events (one
// the mail alone caused, from a bounce, complaint or soft escalation) is made again by the new derivation (the
// same row: id and first_seen kept; reason, rule and expiry the new ones) or else removed (logged with actor
// `reprocess`, announced); manual and imported suppressions are never removed; the soft-bounce state a mail's
// events set is restored to what it was before them when nothing changed it since. Webhooks: only real changes
// are announced (bounce events again only when their class changed).
import { sql, type Kysely, type Transaction } from "kysely";
import { attribute, type Attributed, type Attribution } from "../core/attribute.js";
import { classify, CLASSIFIER_VERSION } from "../core/classify.js";
import type { Policy } from "../core/policy-config.js";
import type { Report } from "../core/report.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { getAddressState, saveAddressState } from "../store/address-state.js";
import { deleteMailEvents, type EventRow } from "../store/events.js";
import { setMailStatus } from "../store/mails.js";
import type { Database } from "../store/schema.js";
import { removeSuppression } from "../store/suppressions.js";
import {
  applyEvent,
  keyOf,
  stateFromJson,
  stateJson,
  type ApplyContext,
  type BlockCount,
} from "./apply-event.js";

export type { BlockCount };

export interface ProcessDeps {
  db: Kysely<Database>;
  config: Pick<Config, "verpKeys" | "defaultTenant" | "defaultStream" | "caseSensitiveLocalPart">;
  policy: Policy;
  logger: Logger;
  now: () => Date;
}

export interface ProcessOptions {
  /** Re-derive a mail already processed (or failed) from its raw bytes: `rebound reprocess`. */
  reprocess?: boolean;
}

export type ProcessOutcome =
  | {
      status: "processed";
      mailId: string;
      kind: Report["kind"];
      tenant: string;
      events: number;
      suppressed: number;
      /** Recipients the policy only recorded because they were not verified. */
      unverified: number;
      /** Blocks to count per stream and provider (metrics, alerts). */
      blocks: BlockCount[];
      /** The class and reason of each event recorded (metrics). */
      eventClasses: { class: string; reason: string }[];
      skipped: number;
      reprocessed: boolean;
    }
  | { status: "duplicate"; mailId: string; duplicateOf: string }
  | { status: "already_processed"; mailId: string }
  | { status: "missing"; mailId: string }
  | { status: "purged"; mailId: string };

export async function processMail(
  deps: ProcessDeps,
  mailId: string,
  opts: ProcessOptions = {},
): Promise<ProcessOutcome> {
  const { db, logger } = deps;
  const log = logger.child({ mailId });
  const now = deps.now();
  let verp: Attribution["verp"] | undefined;

  const outcome = await db.transaction().execute(async (trx) => {
    // The mail, locked: one worker at a time processes it. The same statement takes the lock that serialises
    // the mails of one digest (duplicate deliveries), so the twin lookup below, a later statement, sees every
    // mail of that digest processed before (one round trip less than a separate lock statement).
    const mail = await trx
      .selectFrom("inbound_mails")
      .selectAll()
      .select(sql<string>`pg_advisory_xact_lock(hashtext(sha256))::text`.as("digest_lock"))
      .where("id", "=", mailId)
      .forUpdate()
      .executeTakeFirst();
    if (!mail) return { status: "missing", mailId } as const;
    if (!opts.reprocess && (mail.status === "processed" || mail.status === "duplicate"))
      return { status: "already_processed", mailId } as const;
    if (!mail.raw) {
      if (mail.status !== "processed" && mail.status !== "duplicate")
        await setMailStatus(trx, mailId, "failed", { error: "raw mail purged before processing" });
      return { status: "purged", mailId } as const;
    }

    // Duplicate delivery: the same bytes as a mail already processed (serialised per digest: locked above).
    const twin = await trx
      .selectFrom("inbound_mails")
      .select("id")
      .where("sha256", "=", mail.sha256)
      .where("id", "!=", mailId)
      .where("status", "=", "processed")
      .orderBy("received_at")
      .limit(1)
      .executeTakeFirst();
    if (twin && mail.status !== "processed") {
      await setMailStatus(trx, mailId, "duplicate", { duplicateOf: twin.id, error: null, at: now });
      return { status: "duplicate", mailId, duplicateOf: twin.id } as const;
    }

    // PGlite returns bytea as a Uint8Array, pg as a Buffer.
    const report = classify(Buffer.isBuffer(mail.raw) ? mail.raw : Buffer.from(mail.raw));
    const attribution = attribute(report, mail.rcpt_to, deps.config.verpKeys, {
      tenant: deps.config.defaultTenant,
      stream: deps.config.defaultStream,
      caseSensitiveLocalPart: deps.config.caseSensitiveLocalPart,
    });
    verp = attribution.verp;

    const retracted = opts.reprocess
      ? await retract(trx, mailId, now)
      : { keys: new Set<string>(), classes: new Map<string, string>() };
    const ctx: ApplyContext = {
      policy: deps.policy,
      now,
      classifierVersion: CLASSIFIER_VERSION,
      quietSuppressions: retracted.keys,
      announced: retracted.classes,
    };
    const result = await derive(trx, ctx, mail.id, report, attribution.recipients, mail.received_at);
    // A suppression the old derivation alone caused and the new one does not make again: removed (and announced).
    for (const k of retracted.keys) {
      if (result.suppressedKeys.has(k)) continue;
      const [tenant, stream, address] = JSON.parse(k) as [string, string, string];
      await removeSuppression(trx, {
        tenant,
        stream,
        address,
        actor: "reprocess",
        note: `mail ${mailId} re-processed`,
        at: now,
      });
    }
    const tenant = attribution.recipients[0]?.tenant ?? deps.config.defaultTenant;
    await setMailStatus(trx, mailId, "processed", {
      kind: report.kind,
      tenant,
      classifierVersion: CLASSIFIER_VERSION,
      error: null,
      at: now,
    });
    return {
      status: "processed",
      mailId,
      kind: report.kind,
      tenant,
      events: result.events,
      suppressed: result.suppressedKeys.size,
      unverified: result.unverified,
      blocks: result.blocks,
      eventClasses: result.eventClasses,
      skipped: attribution.skipped.length,
      reprocessed: !!opts.reprocess,
    } as const;
  });

  if (outcome.status === "processed") {
    log.info(
      {
        kind: outcome.kind,
        tenant: outcome.tenant,
        events: outcome.events,
        suppressed: outcome.suppressed,
        unverified: outcome.unverified,
        blocks: outcome.blocks.length,
        skipped: outcome.skipped,
        verp,
        reprocessed: outcome.reprocessed,
        classifierVersion: CLASSIFIER_VERSION,
      },
      "mail processed",
    );
  } else {
    log[outcome.status === "missing" || outcome.status === "purged" ? "warn" : "info"](
      { status: outcome.status, ...("duplicateOf" in outcome ? { duplicateOf: outcome.duplicateOf } : {}) },
      `mail ${outcome.status}`,
    );
  }
  return outcome;
}

interface Derived {
  events: number;
  unverified: number;
  blocks: BlockCount[];
  eventClasses: { class: string; reason: string }[];
  suppressedKeys: Set<string>;
}

/** Each attributed recipient through the policy (apply-event.ts). */
async function derive(
  trx: Transaction<Database>,
  ctx: ApplyContext,
  mailId: string,
  report: Report,
  recipients: Attributed[],
  occurredAt: Date,
): Promise<Derived> {
  const out: Derived = { events: 0, unverified: 0, blocks: [], eventClasses: [], suppressedKeys: new Set() };
  // In key order, so that two mails naming the same addresses lock their rows in the same order (no deadlock).
  const ordered = [...recipients].sort((a, b) =>
    keyOf(a.tenant, a.stream, a.address).localeCompare(keyOf(b.tenant, b.stream, b.address)),
  );
  for (const who of ordered) {
    const applied = await applyEvent(trx, ctx, { mailId, kind: report.kind, who, occurredAt });
    if (applied.eventId === null) continue;
    out.events++;
    out.eventClasses.push({ class: who.recipient.class, reason: who.recipient.reason });
    if (applied.decision.rule === "policy.unverified") out.unverified++;
    if (applied.suppressed) out.suppressedKeys.add(applied.suppressed);
    if (applied.block) out.blocks.push(applied.block);
  }
  return out;
}

/**
 * Undo what a mail's events did, before re-deriving them: delete the events, take their ids out of the
 * suppressions (returning the orphans: suppressions left with no event), restore the soft-bounce state.
 */
async function retract(
  trx: Transaction<Database>,
  mailId: string,
  now: Date,
): Promise<{ keys: Set<string>; classes: Map<string, string> }> {
  const old: EventRow[] = await deleteMailEvents(trx, mailId);
  const keys = new Set<string>();
  const classes = new Map<string, string>();
  if (!old.length) return { keys, classes };
  const ids = old.map((e) => e.id);
  for (const e of old) classes.set(keyOf(e.tenant, e.stream, e.address), e.class);
  // Take the mail's event ids (and their count) out of the suppressions; a bounce, complaint or soft-escalation
  // suppression left with none is an orphan: kept (its id and first_seen) for the new derivation to re-make,
  // removed by the caller if it does not.
  const touched = await trx
    .updateTable("suppressions")
    .set({
      event_ids: sql<string[]>`array(select unnest(event_ids) except select unnest(${ids}::bigint[]))`,
      count: sql<number>`greatest(count - cardinality(array(select unnest(event_ids) intersect select unnest(${ids}::bigint[]))), 0)`,
    })
    .where("tenant", "in", [...new Set(old.map((e) => e.tenant))])
    .where("address_hash", "in", [...new Set(old.map((e) => e.address_hash))])
    .where(sql<boolean>`event_ids && ${ids}::bigint[]`)
    .returning(["tenant", "stream", "address", "event_ids", "source"])
    .execute();
  for (const s of touched) {
    if (s.event_ids.length || !s.address || !["bounce", "complaint", "soft_escalation"].includes(s.source))
      continue;
    keys.add(keyOf(s.tenant, s.stream, s.address));
  }
  for (const e of old) {
    const d = e.decision as {
      state?: Record<string, unknown>;
      stateBefore?: Record<string, unknown> | null;
    } | null;
    if (!d?.state || d.stateBefore === undefined) continue;
    const key = { tenant: e.tenant, stream: e.stream, addressHash: e.address_hash };
    const current = await getAddressState(trx, key, { forUpdate: true });
    if (current && JSON.stringify(stateJson(current)) === JSON.stringify(stateJson(stateFromJson(d.state)))) {
      await saveAddressState(
        trx,
        key,
        d.stateBefore
          ? stateFromJson(d.stateBefore)
          : { softLevel: 0, softResetAt: null, nextRetryAt: null, lastDeliveryAt: null },
        now,
      );
    }
  }
  return { keys, classes };
}

/** After the last try: keep the mail with its error, re-processable (`rebound reprocess --failed`). */
export async function markFailed(
  deps: Pick<ProcessDeps, "db" | "logger">,
  mailId: string,
  err: unknown,
): Promise<void> {
  const message = err instanceof Error ? err.message : String(err);
  await setMailStatus(deps.db, mailId, "failed", { error: message.slice(0, 2000) });
  deps.logger.error({ mailId, err: message }, "mail failed: kept for `rebound reprocess --failed`");
}
