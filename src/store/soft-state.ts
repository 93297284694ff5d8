// Which addresses hold soft-bounce state that a delivery would reset: the Postfix log's deliveries (most of its
// lines) go through the policy only for those (src/integrations/postfix/log-ingest.ts).
import { sql, type Kysely } from "kysely";
import type { Database } from "./schema.js";

/** Address hashes of one tenant's stream. */
export interface StreamAddresses {
  tenant: string;
  stream: string;
  /** Keyed address hashes (repeats allowed). */
  hashes: string[];
}

/**
 * Of each stream's `hashes`, those whose address_state row holds soft-bounce state: an escalation level or a retry
 * time. Every soft bounce the policy acts on leaves one or the other, and only a delivery clears both, so an
 * address without either has no soft bounce counting since its last reset (or has no row at all). One statement,
 * by the primary key (a probe per hash, whatever the table's statistics say); each stream's hashes go as one JSON
 * text (cheaper to send than a text array's elements). Returns one set per stream, in the streams' order.
 */
export async function withSoftState(
  db: Kysely<Database>,
  streams: readonly StreamAddresses[],
): Promise<Set<string>[]> {
  const out = streams.map(() => new Set<string>());
  /** The streams asked about (those with hashes), by their place in `streams`. */
  const asked: number[] = [];
  streams.forEach((s, i) => s.hashes.length && asked.push(i));
  if (!asked.length) return out;
  const of = asked.map((i) => streams[i]!);
  const { rows } = await sql<{ g: string; address_hash: string }>`
    select t.g, s.address_hash
      from unnest(${of.map((s) => s.tenant)}::text[], ${of.map((s) => s.stream)}::text[],
                  ${of.map((s) => JSON.stringify(s.hashes))}::text[]) with ordinality as t(tenant, stream, list, g)
      cross join lateral json_array_elements_text(t.list::json) as k(address_hash)
      cross join lateral (
        select s.address_hash from address_state s
         where s.tenant = t.tenant and s.stream = t.stream and s.address_hash = k.address_hash
           and (s.soft_level > 0 or s.next_retry_at is not null)
        offset 0) s`.execute(db);
  for (const r of rows) out[asked[Number(r.g) - 1]!]!.add(r.address_hash);
  return out;
}
