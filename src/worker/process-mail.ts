// The processing of inbound mails, a batch of them in one transaction (processMails; processMail is a batch of one):
//
//   classify (in the classifier's threads, before the transaction) -> lock the mails -> duplicates? -> attribute
//   (VERP) -> per recipient, in key order across the batch: history -> decide -> event -> suppression / address
//   state / outbox -> DMARC / TLS reports and authentication failures (record-reports.ts) -> mark processed
//   (apply-bulk.ts does the last steps for a whole batch in a few statements; apply-event.ts, for one event)
//
// Idempotent: a mail already processed is left alone (unless re-processing is asked for), events are unique per
// mail, address and stream, and a mail whose bytes equal an already processed one's is marked `duplicate` and
// changes nothing. Transient errors throw (the queue retries); markFailed() keeps a mail that could not be
// processed, with its error, for `rebound reprocess --failed`. A mail whose classification passes its deadline
// (ClassifyTimeout) is not an error to retry: it is kept as `failed` with reason `classify_timeout` at once (the
// same bytes would time out again), re-processable after a fix or with a longer deadline.
//
// Re-processing (after the rules improve) replaces the mail's events and re-derives their effects: the mail's
// event ids (and their count) leave the suppressions they were part of; a suppression left with no events (one
// the mail alone caused, from a bounce, complaint or soft escalation) is made again by the new derivation (the
// same row: id and first_seen kept; reason, rule and expiry the new ones) or else removed (logged with actor
// `reprocess`, announced); manual and imported suppressions are never removed; the soft-bounce state a mail's
// events set is restored to what it was before them when nothing changed it since. Webhooks: only real changes
// are announced (bounce events again only when their class changed).
import { sendingDomainOf } from "../core/sending-domain.js";
import type { Kysely, Transaction } from "kysely";
import type { AddressHasher } from "../core/address.js";
import { attribute, type Attributed, type Attribution } from "../core/attribute.js";
import { CLASSIFIER_VERSION } from "../core/classify.js";
import type { Policy } from "../core/policy-config.js";
import type { Report } from "../core/report.js";
import { RollupCollector, rollupOfEvent, type RollupIncrement } from "../core/rollup.js";
import type { ProviderLookup } from "../monitor/provider-resolver.js";
import { addToRollups } from "../store/rollups.js";
import type { Config } from "../config.js";
import type { Logger } from "../log.js";
import { getAddressState, saveAddressState } from "../store/address-state.js";
import { deleteMailEvents, type EventRow } from "../store/events.js";
import { lockMails, mailsToClassify, type LockedMail } from "../store/mail-locks.js";
import { markClassifyFailed, markProcessed, processedTwins, setMailStatus } from "../store/mails.js";
import { detachEvents } from "../store/retraction.js";
import type { Database } from "../store/schema.js";
import { fromEvents, removeSuppression } from "../store/suppressions.js";
import {
  applyInBulk,
  applyWithHistories,
  bulkable,
  bulkableWithHistory,
  eventIdentity,
} from "./apply-bulk.js";
import {
  applyEvent,
  keyOf,
  type Applied,
  stateFromJson,
  stateJson,
  type ApplyContext,
  type BlockCount,
} from "./apply-event.js";
import { ClassifyTimeout, type ClassifyPool } from "./classify-pool.js";
import { recordReports } from "./record-reports.js";

export type { BlockCount };

export interface ProcessDeps {
  db: Kysely<Database>;
  config: Pick<
    Config,
    "verpKeys" | "verpMaxAgeDays" | "defaultTenant" | "defaultStream" | "caseSensitiveLocalPart"
  > &
    Partial<Pick<Config, "domainTenants">>;
  policy: Policy;
  /** The keyed hash every table files addresses under. */
  hashAddress: AddressHasher;
  logger: Logger;
  now: () => Date;
  /** Resolves the mailbox provider of domains the table does not know; absent: the table alone. */
  providers?: ProviderLookup;
  /** Where mails are classified: the classifier's threads (createClassifyPool), with their deadline. */
  classifier: Pick<ClassifyPool, "classify">;
  /** Told what a batch added to the rollups, once it is committed (metrics). */
  counted?: (increments: RollupIncrement[]) => void;
}

/** Why a mail was kept as `failed` without a retry (stored as its error's first word). */
export const FAILURE_REASONS = ["classify_timeout"] as const;
export type FailureReason = (typeof FAILURE_REASONS)[number];

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
  /** Kept as failed, not retried (the same bytes would fail the same way): `rebound reprocess` after a fix. */
  | { status: "failed"; mailId: string; reason: FailureReason; error: string }
  | { status: "already_processed"; mailId: string }
  | { status: "missing"; mailId: string }
  | { status: "purged"; mailId: string };

export async function processMail(
  deps: ProcessDeps,
  mailId: string,
  opts: ProcessOptions = {},
): Promise<ProcessOutcome> {
  const [outcome] = await processMails(deps, [mailId], opts);
  return outcome!;
}

/** A mail of a batch on its way through: its row, its report and whom it speaks of. */
interface Work {
  mail: LockedMail;
  report: Report;
  attribution: Attribution;
  ctx: ApplyContext;
  /** Reprocessing: the suppressions the mail's old events alone caused. */
  retracted: Set<string>;
  derived: Derived;
  /** The domain the mail was sent from, for its events (src/core/sending-domain.ts). */
  sendingDomain: string | null;
}

/**
 * Several mails in one transaction: the worker's group commit (one BEGIN, one lock statement, one twin lookup,
 * one status update and one WAL flush for the whole batch, instead of one of each per mail). Each mail's outcome
 * is the one processMail would give it alone. Throws when anything fails, having committed nothing: the caller
 * then processes the mails one by one, so that a bad mail fails alone. The mails are classified first, in the
 * classifier's threads, and only then is the transaction opened: no lock is held while a mail is classified.
 */
export async function processMails(
  deps: ProcessDeps,
  mailIds: string[],
  opts: ProcessOptions = {},
): Promise<ProcessOutcome[]> {
  const now = deps.now();
  const ids = [...new Set(mailIds)];
  const verps = new Map<string, Attribution["verp"]>();
  const rollups = new RollupCollector();
  let counted: RollupIncrement[] = [];

  const reports = await classifyAll(deps, ids, opts);

  const outcomes = await deps.db.transaction().execute(async (trx) => {
    const results = new Map<string, ProcessOutcome>();
    const rows = await lockMails(trx, ids);
    const twins = await processedTwins(
      trx,
      [...rows.values()].map((m) => m.sha256),
    );
    const duplicates: { id: string; of: string }[] = [];
    const work: Work[] = [];
    /** The digests of the mails this batch processes, so that a second copy within it is a duplicate too. */
    const inBatch = new Map<string, string>();

    for (const id of ids) {
      const mail = rows.get(id);
      const early = mail ? earlyExit(mail, opts) : ({ status: "missing", mailId: id } as const);
      if (early) {
        results.set(id, early);
        if (early.status === "purged" && mail!.status !== "processed" && mail!.status !== "duplicate")
          await setMailStatus(trx, id, "failed", { error: "raw mail purged before processing" });
        continue;
      }
      // Duplicate delivery: the same bytes as a mail already processed (serialised per digest: locked above).
      const twin = twins.get(mail!.sha256)?.find((t) => t !== id) ?? inBatch.get(mail!.sha256);
      if (twin && mail!.status !== "processed") {
        duplicates.push({ id, of: twin });
        results.set(id, { status: "duplicate", mailId: id, duplicateOf: twin });
        continue;
      }
      const report = reports.get(id);
      if (report instanceof ClassifyTimeout) {
        await markClassifyFailed(trx, id, report.message);
        results.set(id, { status: "failed", mailId: id, reason: report.code, error: report.message });
        continue;
      }
      // Read before the lock as already finished, found unfinished under it: never so far (a mail is not
      // un-processed); a retry reads it again.
      if (!report) throw new Error(`mail ${id} changed while it was classified; try again`);
      if (!inBatch.has(mail!.sha256)) inBatch.set(mail!.sha256, id);
      work.push(await prepare(trx, deps, mail!, report, now, opts, rollups));
    }

    for (const w of work) verps.set(w.mail.id, w.attribution.verp);
    await deriveAll(trx, work);
    await recordReports(
      trx,
      work.map((w) => ({
        mailId: w.mail.id,
        tenant: tenantOf(w, deps),
        receivedAt: w.mail.received_at,
        report: w.report,
      })),
      { reprocess: !!opts.reprocess, logger: deps.logger, domainTenants: deps.config.domainTenants },
    );
    for (const w of work) {
      await removeOrphans(trx, w, now);
      results.set(w.mail.id, processedOutcome(w, deps, opts));
    }
    await markProcessed(
      trx,
      work.map((w) => ({ id: w.mail.id, kind: w.report.kind, tenant: tenantOf(w, deps) })),
      CLASSIFIER_VERSION,
      now,
    );
    for (const d of duplicates)
      await setMailStatus(trx, d.id, "duplicate", { duplicateOf: d.of, error: null, at: now });
    // Last, so that the rollup rows (which every worker's batches update) stay locked the least time.
    counted = rollups.take();
    await addToRollups(trx, counted);
    return ids.map((id) => results.get(id)!);
  });
  deps.counted?.(counted);

  for (const outcome of outcomes) logOutcome(deps.logger, outcome, verps.get(outcome.mailId));
  const byId = new Map(outcomes.map((o) => [o.mailId, o]));
  return mailIds.map((id) => byId.get(id)!);
}

/**
 * The batch's mails classified in the classifier's threads, all at once: a Report, or the ClassifyTimeout of a
 * mail past its deadline. Any other error of the classifier throws (the batch fails; its mails go one by one).
 */
async function classifyAll(
  deps: ProcessDeps,
  ids: string[],
  opts: ProcessOptions,
): Promise<Map<string, Report | ClassifyTimeout>> {
  const mails = await mailsToClassify(deps.db, ids, opts);
  const settled = await Promise.allSettled(mails.map((m) => deps.classifier.classify(m.raw!)));
  const out = new Map<string, Report | ClassifyTimeout>();
  settled.forEach((s, i) => {
    if (s.status === "fulfilled") out.set(mails[i]!.id, s.value);
    else if (s.reason instanceof ClassifyTimeout) out.set(mails[i]!.id, s.reason);
    else throw s.reason;
  });
  return out;
}

/** A mail that needs no processing: already done (unless re-processing), or its bytes are gone. */
function earlyExit(mail: LockedMail, opts: ProcessOptions): ProcessOutcome | undefined {
  if (!opts.reprocess && (mail.status === "processed" || mail.status === "duplicate"))
    return { status: "already_processed", mailId: mail.id };
  if (mail.purged) return { status: "purged", mailId: mail.id };
  return undefined;
}

/** Attribute a classified mail (pure), and when re-processing, undo what its old events did. */
async function prepare(
  trx: Transaction<Database>,
  deps: ProcessDeps,
  mail: LockedMail,
  report: Report,
  now: Date,
  opts: ProcessOptions,
  rollups: RollupCollector,
): Promise<Work> {
  const attribution = attribute(report, mail.rcpt_to, deps.config.verpKeys, {
    tenant: deps.config.defaultTenant,
    stream: deps.config.defaultStream,
    caseSensitiveLocalPart: deps.config.caseSensitiveLocalPart,
    // The age of a return path is taken at the mail's arrival, so a reprocess later judges it the same way.
    verpMaxAgeDays: deps.config.verpMaxAgeDays,
    now: mail.received_at,
  });
  const retracted = opts.reprocess
    ? await retract(trx, mail.id, now, rollups)
    : { keys: new Set<string>(), classes: new Map<string, string>() };
  const ctx: ApplyContext = {
    policy: deps.policy,
    hashAddress: deps.hashAddress,
    now,
    classifierVersion: CLASSIFIER_VERSION,
    quietSuppressions: retracted.keys,
    announced: retracted.classes,
    providers: deps.providers,
    rollups,
  };
  const derived: Derived = {
    events: 0,
    unverified: 0,
    blocks: [],
    eventClasses: [],
    suppressedKeys: new Set(),
  };
  const sendingDomain = sendingDomainOf(report, mail.rcpt_to);
  return { mail, report, attribution, ctx, retracted: retracted.keys, derived, sendingDomain };
}

/** A suppression the old derivation alone caused and the new one does not make again: removed (and announced). */
async function removeOrphans(trx: Transaction<Database>, w: Work, now: Date): Promise<void> {
  for (const k of w.retracted) {
    if (w.derived.suppressedKeys.has(k)) continue;
    const [tenant, stream, address] = JSON.parse(k) as [string, string, string];
    await removeSuppression(trx, {
      tenant,
      stream,
      address,
      addressHash: w.ctx.hashAddress(address),
      actor: "reprocess",
      note: `mail ${w.mail.id} re-processed`,
      at: now,
    });
  }
}

const tenantOf = (w: Work, deps: ProcessDeps) =>
  w.attribution.recipients[0]?.tenant ?? deps.config.defaultTenant;

function processedOutcome(w: Work, deps: ProcessDeps, opts: ProcessOptions): ProcessOutcome {
  return {
    status: "processed",
    mailId: w.mail.id,
    kind: w.report.kind,
    tenant: tenantOf(w, deps),
    events: w.derived.events,
    suppressed: w.derived.suppressedKeys.size,
    unverified: w.derived.unverified,
    blocks: w.derived.blocks,
    eventClasses: w.derived.eventClasses,
    skipped: w.attribution.skipped.length,
    reprocessed: !!opts.reprocess,
  };
}

function logOutcome(logger: Logger, outcome: ProcessOutcome, verp: Attribution["verp"] | undefined): void {
  if (outcome.status === "failed") {
    logger.error(
      { mailId: outcome.mailId, reason: outcome.reason, err: outcome.error },
      "mail failed: kept for `rebound reprocess --failed`",
    );
    return;
  }
  const level = outcome.status === "missing" || outcome.status === "purged" ? "warn" : "info";
  // A line per mail: when its level is off, not even its child logger is made.
  if (!logger.isLevelEnabled(level)) return;
  const log = logger.child({ mailId: outcome.mailId });
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
    log[level](
      { status: outcome.status, ...("duplicateOf" in outcome ? { duplicateOf: outcome.duplicateOf } : {}) },
      `mail ${outcome.status}`,
    );
  }
}

interface Derived {
  events: number;
  unverified: number;
  blocks: BlockCount[];
  eventClasses: { class: string; reason: string }[];
  suppressedKeys: Set<string>;
}

/**
 * Each attributed recipient of every mail through the policy (apply-event.ts), in key order across the batch, so
 * that two transactions naming the same addresses lock their rows in the same order (no deadlock); the events of
 * one address keep the order of their mails.
 */
async function deriveAll(trx: Transaction<Database>, work: Work[]): Promise<void> {
  const items = work.flatMap((w) =>
    w.attribution.recipients.map((who) => ({
      w,
      ctx: w.ctx,
      spec: {
        mailId: w.mail.id,
        kind: w.report.kind,
        who,
        occurredAt: w.mail.received_at,
        messageId: w.report.original.messageId,
        sendingDomain: w.sendingDomain,
      },
      key: keyOf(who.tenant, who.stream, who.address),
    })),
  );
  items.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  // Events without history in a few statements for the whole batch, then those with history (soft bounces,
  // deliveries) in a few more; what re-processing derives, one by one. A lone event with history goes one by
  // one too: applyEvent writes it in fewer statements than the bulk path.
  const bulk = items.filter(bulkable);
  const results = await applyInBulk(trx, bulk);
  bulk.forEach((item, i) => record(item.w.derived, item.spec.who, results[i]!));
  const withHistory = items.filter(bulkableWithHistory);
  const inBulk = withHistory.length > 1 ? new Set(withHistory) : new Set<(typeof items)[number]>();
  const written = new Set(
    bulk.filter((_, i) => results[i]!.eventId !== null).map((b) => eventIdentity(b.spec)),
  );
  const decided = await applyWithHistories(trx, [...inBulk], written);
  [...inBulk].forEach((item, i) => record(item.w.derived, item.spec.who, decided[i]!));
  for (const item of items) {
    if (bulkable(item) || inBulk.has(item)) continue;
    record(item.w.derived, item.spec.who, await applyEvent(trx, item.ctx, item.spec));
  }
}

function record(out: Derived, who: Attributed, applied: Applied): void {
  if (applied.eventId === null) return;
  out.events++;
  out.eventClasses.push({ class: who.recipient.class, reason: who.recipient.reason });
  if (applied.decision.rule === "policy.unverified") out.unverified++;
  if (applied.suppressed) out.suppressedKeys.add(applied.suppressed);
  if (applied.block) out.blocks.push(applied.block);
}

/**
 * Undo what a mail's events did, before re-deriving them: delete the events, take their ids out of the
 * suppressions (returning the orphans: suppressions left with no event), restore the soft-bounce state.
 */
async function retract(
  trx: Transaction<Database>,
  mailId: string,
  now: Date,
  rollups: RollupCollector,
): Promise<{ keys: Set<string>; classes: Map<string, string> }> {
  const old: EventRow[] = await deleteMailEvents(trx, mailId);
  // What the old events added to the rollups is taken out (events from before the rollups have no provider).
  for (const e of old) {
    if (e.provider === null) continue;
    const inc = rollupOfEvent({
      tenant: e.tenant,
      stream: e.stream,
      class: e.class,
      provider: e.provider,
      campaign: e.campaign,
      sendingIp: e.sending_ip,
      sentAt: e.sent_at,
      occurredAt: e.occurred_at,
      unverified: (e.decision as { rule?: string } | null)?.rule === "policy.unverified",
    });
    if (inc)
      rollups.add({
        ...inc,
        counts: Object.fromEntries(Object.entries(inc.counts).map(([k, v]) => [k, -v])),
      });
  }
  const keys = new Set<string>();
  const classes = new Map<string, string>();
  if (!old.length) return { keys, classes };
  for (const e of old) classes.set(keyOf(e.tenant, e.stream, e.address), e.class);
  // Take the mail's event ids (and their count) out of the suppressions; a bounce, complaint or soft-escalation
  // suppression left with none is an orphan: kept (its id and first_seen) for the new derivation to re-make,
  // removed by the caller if it does not.
  const touched = await detachEvents(trx, old);
  for (const s of touched) {
    if (s.eventIds.length || !s.address || !fromEvents(s.source)) continue;
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
