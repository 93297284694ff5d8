import { sql, type Kysely } from "kysely";

// The sending domain of sends, and the retention of stream pauses (docs/monitoring.md):
// - sends.sending_domain: the domain a message was sent from, as its record gave it (`sendingDomain`, or the
//   domain of `from`); null when not given. An event tied to the send and showing no sending domain of its own
//   takes it. A nullable column without a default: no rewrite of the table.
// - stream_pauses_resumed_idx: the retention pass finds pauses resumed past REBOUND_INCIDENT_RETENTION_DAYS.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table sends add column sending_domain text`.execute(db);
  await sql`create index stream_pauses_resumed_idx on stream_pauses (resumed_at) where resumed_at is not null`.execute(
    db,
  );
}

export async function down(): Promise<void> {
  throw new Error("migrations are forward-only");
}
