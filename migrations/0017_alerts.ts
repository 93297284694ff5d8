import { sql, type Kysely } from "kysely";

// Alerting (docs/monitoring.md):
// - incidents: what a rule found, per tenant, rule and scope; at most one active (open or acknowledged) per
//   tenant x rule x scope (a partial unique index), resolved by the rule (hysteresis) or by hand.
// - incident_history: what happened to each incident (opened, updated, escalated, acknowledged, resolved,
//   notified, notify_failed), in order.
// - stream_pauses: a stream paused (for one provider or all) by a rule's pause level or by hand; at most one in
//   force per tenant x stream x provider ('' = every provider).
// - alert_deliveries: each notification of a route (channel), retried with back-off, then dead.
// - rollups (tenant, stream): the streams a tenant has figures for (GET /v1/streams), found by a loose index
//   scan. Only new rollup rows touch it (counter updates change no indexed column and stay HOT).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    create table incidents (
      id bigserial primary key,
      tenant text not null,
      rule_id text not null,
      kind text not null,
      scope_key text not null,
      stream text,
      provider text,
      campaign text,
      sending_ip text,
      sending_domain text,
      severity text not null,
      status text not null default 'open',
      metric text,
      value double precision,
      threshold double precision,
      teams text[] not null default '{}',
      summary text not null,
      evidence jsonb not null default '{}'::jsonb,
      opened_at timestamptz not null,
      updated_at timestamptz not null,
      acknowledged_at timestamptz,
      acknowledged_by text,
      resolved_at timestamptz,
      resolved_by text
    )`.execute(db);
  await sql`create unique index incidents_active_uq on incidents (tenant, rule_id, scope_key)
              where status <> 'resolved'`.execute(db);
  await sql`create index incidents_tenant_opened_idx on incidents (tenant, opened_at desc, id desc)`.execute(
    db,
  );
  await sql`
    create table incident_history (
      id bigserial primary key,
      incident_id bigint not null references incidents (id) on delete cascade,
      at timestamptz not null,
      type text not null,
      severity text,
      route text,
      channel text,
      note text,
      by text
    )`.execute(db);
  await sql`create index incident_history_incident_idx on incident_history (incident_id, id)`.execute(db);
  await sql`
    create table stream_pauses (
      id bigserial primary key,
      tenant text not null,
      stream text not null,
      provider text not null default '',
      since timestamptz not null,
      reason text not null,
      incident_id bigint references incidents (id) on delete set null,
      by text not null,
      note text,
      resumed_at timestamptz,
      resumed_by text
    )`.execute(db);
  await sql`create unique index stream_pauses_active_uq on stream_pauses (tenant, stream, provider)
              where resumed_at is null`.execute(db);
  await sql`
    create table alert_deliveries (
      id bigserial primary key,
      tenant text not null,
      incident_id bigint not null references incidents (id) on delete cascade,
      route_id text not null,
      channel text not null,
      notice text not null,
      step text not null default '',
      payload jsonb not null,
      status text not null default 'pending',
      attempts integer not null default 0,
      last_error text,
      next_attempt_at timestamptz,
      created_at timestamptz not null,
      delivered_at timestamptz,
      unique (incident_id, route_id, notice, step)
    )`.execute(db);
  await sql`create index rollups_tenant_stream_idx on rollups (tenant, stream)`.execute(db);
  await sql`create index alert_deliveries_due_idx on alert_deliveries (next_attempt_at)
              where status in ('pending', 'failed')`.execute(db);
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
