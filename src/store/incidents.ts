// Incidents and their history (migration 0017): opened, updated, escalated and resolved by the evaluation loop
// (src/alerts/engine.ts), acknowledged and resolved by hand through the API and the CLI. Read by the API, the
// CLI and the reports (`listIncidents`).
import { sql, type Selectable } from "kysely";
import type { Evaluation, Finding } from "../core/alerts/evaluate.js";
import type { HistoryType, IncidentStatus, Severity } from "../core/alerts/types.js";
import type { Provider } from "../core/provider.js";
import type { Db } from "./db.js";
import type { IncidentHistoryTable, IncidentsTable } from "./schema.js";

export type IncidentRow = Selectable<IncidentsTable>;
export type HistoryRow = Selectable<IncidentHistoryTable>;

/** The status filter of the list: a status, or `active` (open or acknowledged). */
export type StatusFilter = IncidentStatus | "active";

export interface IncidentFilter {
  tenant: string;
  status?: StatusFilter;
  severity?: Severity;
  ruleId?: string;
  stream?: string;
  provider?: Provider;
  sendingIp?: string;
  sendingDomain?: string;
}

function filtered(db: Db, f: IncidentFilter) {
  let q = db.selectFrom("incidents").selectAll().where("tenant", "=", f.tenant);
  if (f.status === "active") q = q.where("status", "<>", "resolved");
  else if (f.status) q = q.where("status", "=", f.status);
  if (f.severity) q = q.where("severity", "=", f.severity);
  if (f.ruleId) q = q.where("rule_id", "=", f.ruleId);
  if (f.stream) q = q.where("stream", "=", f.stream);
  if (f.provider) q = q.where("provider", "=", f.provider);
  if (f.sendingIp) q = q.where("sending_ip", "=", f.sendingIp);
  if (f.sendingDomain) q = q.where("sending_domain", "=", f.sendingDomain.toLowerCase());
  return q;
}

/** A page of incidents, newest first (ids grow with opening); `afterId`: the last id of the page before. */
export async function incidentsPage(
  db: Db,
  f: IncidentFilter,
  page: { limit: number; afterId?: string },
): Promise<IncidentRow[]> {
  let q = filtered(db, f);
  if (page.afterId !== undefined) q = q.where("id", "<", page.afterId);
  return q.orderBy("id", "desc").limit(page.limit).execute();
}

/**
 * The tenant's incidents that were in force at some time in [from, to): opened before `to` and not resolved
 * before `from`, oldest first. For the reports.
 */
export async function listIncidents(
  db: Db,
  o: { tenantId: string; from: Date; to: Date },
): Promise<IncidentRow[]> {
  return db
    .selectFrom("incidents")
    .selectAll()
    .where("tenant", "=", o.tenantId)
    .where("opened_at", "<", o.to)
    .where((eb) => eb.or([eb("resolved_at", "is", null), eb("resolved_at", ">=", o.from)]))
    .orderBy("opened_at")
    .orderBy("id")
    .execute();
}

export async function getIncident(db: Db, tenant: string, id: string): Promise<IncidentRow | undefined> {
  if (!/^\d{1,18}$/.test(id)) return undefined;
  return db
    .selectFrom("incidents")
    .selectAll()
    .where("tenant", "=", tenant)
    .where("id", "=", id)
    .executeTakeFirst();
}

export async function incidentHistory(db: Db, incidentId: string): Promise<HistoryRow[]> {
  return db
    .selectFrom("incident_history")
    .selectAll()
    .where("incident_id", "=", incidentId)
    .orderBy("id")
    .execute();
}

export interface HistoryEntry {
  type: HistoryType;
  at: Date;
  severity?: string | null;
  route?: string | null;
  channel?: string | null;
  note?: string | null;
  by?: string | null;
  /** The figure at that moment. */
  value?: number | null;
}

export async function addHistory(db: Db, incidentId: string, h: HistoryEntry): Promise<void> {
  await db
    .insertInto("incident_history")
    .values({
      incident_id: incidentId,
      at: h.at,
      type: h.type,
      severity: h.severity ?? null,
      route: h.route ?? null,
      channel: h.channel ?? null,
      note: h.note ?? null,
      by: h.by ?? null,
      value: h.value ?? null,
    })
    .execute();
}

/** The tenant's incidents in force (open or acknowledged). */
export async function activeIncidents(db: Db, tenant: string): Promise<IncidentRow[]> {
  return filtered(db, { tenant, status: "active" }).orderBy("id").execute();
}

/** Rule x scope keys the tenant resolved by hand since `since` (the rule does not reopen them at once). */
export async function resolvedByHandSince(
  db: Db,
  tenant: string,
  since: Date,
): Promise<{ ruleId: string; scopeKey: string; resolvedAt: Date }[]> {
  const rows = await db
    .selectFrom("incidents")
    .select(["rule_id", "scope_key", "resolved_at"])
    .where("tenant", "=", tenant)
    .where("resolved_by", "=", "hand")
    .where("resolved_at", ">=", since)
    .execute();
  return rows.map((r) => ({
    ruleId: r.rule_id,
    scopeKey: r.scope_key,
    resolvedAt: new Date(r.resolved_at!),
  }));
}

/** What applying an evaluation changed: for notifications, webhooks and pauses. */
export interface IncidentChange {
  notice: "opened" | "escalated" | "updated" | "resolved";
  incident: IncidentRow;
}

/**
 * Apply an evaluation in the caller's transaction: open (one active per rule x scope: a concurrent opening of
 * the same one is a no-op), update (the figures, the severity up or down), resolve by the rule. History rows for
 * each opening, escalation, de-escalation, material move of the figure (`updated`, at most MAX_UPDATES) and
 * resolution; the figures of other rounds are refreshed in place.
 */
export async function applyEvaluation(
  db: Db,
  tenant: string,
  ev: Evaluation,
  now: Date,
): Promise<IncidentChange[]> {
  const changes: IncidentChange[] = [];
  for (const f of ev.open) {
    const row = await sql<IncidentRow>`
      insert into incidents (tenant, rule_id, kind, scope_key, stream, provider, campaign, sending_ip,
                             sending_domain, severity, status, metric, value, threshold, teams, summary, evidence,
                             opened_at, updated_at, noted_value, critical_since)
      values (${tenant}, ${f.ruleId}, ${f.kind}, ${f.scopeKey}, ${f.scope.stream}, ${f.scope.provider},
              ${f.scope.campaign}, ${f.scope.sendingIp}, ${f.scope.sendingDomain}, ${f.severity}, 'open',
              ${f.metric}, ${f.value}, ${f.threshold}, ${f.teams}::text[], ${f.summary},
              ${JSON.stringify(f.evidence)}::jsonb, ${now}, ${now}, ${f.value},
              ${f.severity === "warning" ? null : now})
      on conflict (tenant, rule_id, scope_key) where status <> 'resolved' do nothing
      returning *`.execute(db);
    const inc = row.rows[0];
    if (!inc) continue;
    await addHistory(db, String(inc.id), {
      type: "opened",
      at: now,
      severity: f.severity,
      by: "rule",
      value: f.value,
    });
    changes.push({ notice: "opened", incident: inc });
  }
  for (const u of ev.update) {
    const noted = u.change !== null;
    const inc = await db
      .updateTable("incidents")
      .set({
        ...figures(u, now),
        ...(noted ? { noted_value: u.value } : {}),
        ...(u.change === "updated" ? { noted_updates: sql<number>`noted_updates + 1` } : {}),
        // Critical since it crossed up from a warning; a warning again: not critical (escalation delays restart).
        ...(u.severity === "warning"
          ? { critical_since: null }
          : u.from === "warning"
            ? { critical_since: now }
            : {}),
      })
      .where("id", "=", u.incidentId)
      .where("tenant", "=", tenant)
      .where("status", "<>", "resolved")
      .returningAll()
      .executeTakeFirst();
    if (!inc || !u.change) continue;
    const entry = { at: now, severity: u.severity, by: "rule", value: u.value };
    if (u.change === "escalated") {
      await addHistory(db, u.incidentId, { ...entry, type: "escalated", note: u.summary });
      changes.push({ notice: "escalated", incident: inc });
    } else if (u.change === "deescalated") {
      await addHistory(db, u.incidentId, {
        ...entry,
        type: "updated",
        note: `severity ${u.from} -> ${u.severity}: ${u.summary}`.slice(0, 2000),
      });
      changes.push({ notice: "updated", incident: inc });
    } else {
      await addHistory(db, u.incidentId, { ...entry, type: "updated", note: u.summary.slice(0, 2000) });
      changes.push({ notice: "updated", incident: inc });
    }
  }
  for (const r of ev.resolve) {
    const inc = await db
      .updateTable("incidents")
      .set({ status: "resolved", resolved_at: now, resolved_by: "rule", updated_at: now, summary: r.summary })
      .where("id", "=", r.incidentId)
      .where("tenant", "=", tenant)
      .where("status", "<>", "resolved")
      .returningAll()
      .executeTakeFirst();
    if (!inc) continue;
    await addHistory(db, r.incidentId, { type: "resolved", at: now, by: "rule", note: r.summary });
    changes.push({ notice: "resolved", incident: inc });
  }
  return changes;
}

function figures(f: Finding, now: Date) {
  return {
    severity: f.severity,
    value: f.value,
    threshold: f.threshold,
    summary: f.summary,
    evidence: JSON.stringify(f.evidence),
    updated_at: now,
  };
}

/** Acknowledge an active incident by hand; undefined when there is no such incident in force. */
export async function acknowledgeIncident(
  db: Db,
  a: { tenant: string; id: string; by: string; note: string | null; now: Date },
): Promise<IncidentRow | undefined> {
  if (!/^\d{1,18}$/.test(a.id)) return undefined;
  const inc = await db
    .updateTable("incidents")
    .set({ status: "acknowledged", acknowledged_at: a.now, acknowledged_by: a.by, updated_at: a.now })
    .where("id", "=", a.id)
    .where("tenant", "=", a.tenant)
    .where("status", "=", "open")
    .returningAll()
    .executeTakeFirst();
  if (inc) await addHistory(db, a.id, { type: "acknowledged", at: a.now, by: a.by, note: a.note });
  return inc;
}

/** Resolve an active incident by hand; undefined when there is no such incident in force. */
export async function resolveIncidentByHand(
  db: Db,
  a: { tenant: string; id: string; by: string; note: string | null; now: Date },
): Promise<IncidentRow | undefined> {
  if (!/^\d{1,18}$/.test(a.id)) return undefined;
  const inc = await db
    .updateTable("incidents")
    .set({ status: "resolved", resolved_at: a.now, resolved_by: "hand", updated_at: a.now })
    .where("id", "=", a.id)
    .where("tenant", "=", a.tenant)
    .where("status", "<>", "resolved")
    .returningAll()
    .executeTakeFirst();
  if (inc) await addHistory(db, a.id, { type: "resolved", at: a.now, by: a.by, note: a.note });
  return inc;
}

/**
 * Incidents critical (or pause) since before `criticalBefore` and left open (not acknowledged): candidates for an
 * escalation route.
 */
export async function unacknowledgedSince(db: Db, criticalBefore: Date): Promise<IncidentRow[]> {
  return db
    .selectFrom("incidents")
    .selectAll()
    .where("status", "=", "open")
    .where("severity", "in", ["critical", "pause"])
    .where("critical_since", "<=", criticalBefore)
    .orderBy("id")
    .limit(1000)
    .execute();
}

/** Take the tenant's evaluation lock for the transaction; false when another process holds it. */
export async function tryEvaluationLock(db: Db, tenant: string): Promise<boolean> {
  const r = await sql<{ ok: boolean }>`
    select pg_try_advisory_xact_lock(hashtext('rebound.alerts'), hashtext(${tenant})) as ok`.execute(db);
  return r.rows[0]?.ok === true;
}

/**
 * Resolved incidents resolved before `before`, with their history and notifications (on delete cascade), in
 * batches of rows locked with SKIP LOCKED (several processes share the work). Incidents in force (open or
 * acknowledged) are never deleted, however old. Returns how many incidents went.
 */
export async function purgeIncidents(db: Db, before: Date): Promise<number> {
  const BATCH = 1_000;
  let total = 0;
  for (;;) {
    const r = await sql<{ n: string }>`
      with gone as (
        delete from incidents where id in (
          select id from incidents where status = 'resolved' and resolved_at < ${before}
           limit ${BATCH} for update skip locked)
        returning 1)
      select count(*)::text as n from gone`.execute(db);
    const n = Number(r.rows[0]?.n ?? 0);
    total += n;
    if (n < BATCH) return total;
  }
}
