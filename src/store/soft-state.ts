// Which addresses hold soft-bounce state that a delivery would reset: the Postfix log's deliveries (most of its
// lines) go through the policy only for those (src/integrations/postfix/log-ingest.ts).
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

/**
 * Of `keys`, those whose address_state row holds soft-bounce state: an escalation level or a retry time. Every
 * soft bounce the policy acts on leaves one or the other, and only a delivery clears both, so an address without
 * either has no soft bounce counting since its last reset (or has no row at all). One statement, by the primary
 * key (a probe per key, whatever the table's statistics say). Keys and results are softStateKey's.
 */
export async function withSoftState(db: Kysely<Database>, keys: string[]): Promise<Set<string>> {
  if (!keys.length) return new Set();
  const parts = [...new Set(keys)].map((k) => k.split("\0"));
  const { rows } = await sql<{ tenant: string; stream: string; address_hash: string }>`
    select s.tenant, s.stream, s.address_hash
      from unnest(${parts.map((p) => p[0])}::text[], ${parts.map((p) => p[1])}::text[],
                  ${parts.map((p) => p[2])}::text[]) as k(tenant, stream, address_hash)
      cross join lateral (
        select s.tenant, s.stream, s.address_hash from address_state s
         where s.tenant = k.tenant and s.stream = k.stream and s.address_hash = k.address_hash
           and (s.soft_level > 0 or s.next_retry_at is not null)
        offset 0) s`.execute(db);
  return new Set(rows.map((r) => softStateKey(r.tenant, r.stream, r.address_hash)));
}

/** An address of a stream of a tenant as one string (PostgreSQL's text holds no NUL: the parts stay apart). */
export const softStateKey = (tenant: string, stream: string, addressHash: string) =>
  `${tenant}\0${stream}\0${addressHash}`;
