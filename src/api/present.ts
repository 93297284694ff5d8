// How a suppression looks in API answers, and the JSON schemas that describe it.
import { CLASSES, REASONS } from "../core/vocabulary.js";
import type { SuppressionRow } from "../store/lookups.js";
import { SUPPRESSION_SOURCES } from "../store/suppressions.js";
import { everyField } from "./json-schema.js";

export interface SuppressionView {
  id: string;
  address: string | null;
  addressHash: string;
  stream: string;
  reason: string;
  class: string;
  source: string;
  rule: string | null;
  since: Date;
  lastSeen: Date;
  expiresAt: Date | null;
  count: number;
  eventIds: string[];
  note: string | null;
  createdBy: string | null;
}

export function present(r: SuppressionRow): SuppressionView {
  return {
    id: String(r.id),
    address: r.address,
    addressHash: r.address_hash,
    stream: r.stream,
    reason: r.reason,
    class: r.class,
    source: r.source,
    rule: r.rule,
    since: r.first_seen,
    lastSeen: r.last_seen,
    expiresAt: r.expires_at,
    count: r.count,
    eventIds: r.event_ids.map(String),
    note: r.note,
    createdBy: r.created_by,
  };
}

/** The suppressions of an address that apply to a stream (its own and `*`), or to any stream when none is given. */
export function applying(rows: SuppressionRow[] | undefined, stream: string | undefined): SuppressionRow[] {
  if (!rows) return [];
  return stream === undefined ? rows : rows.filter((r) => r.stream === stream || r.stream === "*");
}

/** The one that governs: a permanent one before a temporary one, then the one that lasts longest. */
export function governing(rows: SuppressionRow[]): SuppressionRow | undefined {
  let best: SuppressionRow | undefined;
  for (const r of rows) {
    if (!best) best = r;
    else if (best.expires_at !== null && (r.expires_at === null || r.expires_at > best.expires_at)) best = r;
  }
  return best;
}

const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, "null"], ...extra });

export const suppressionSchema = everyField({
  $id: "Suppression",
  type: "object",
  properties: {
    id: { type: "string" },
    address: nullable("string", { description: "Null for an erased address (the hash stays)" }),
    addressHash: {
      type: "string",
      description: "The keyed hash of the normalised address (HMAC-SHA256 hex with the server's address key)",
    },
    stream: { type: "string", description: "A stream name, or `*` for every stream" },
    reason: { type: "string", enum: [...REASONS] },
    class: { type: "string", enum: [...CLASSES] },
    source: { type: "string", enum: [...SUPPRESSION_SOURCES] },
    rule: nullable("string", { description: "The policy rule that suppressed" }),
    since: { type: "string", format: "date-time" },
    lastSeen: { type: "string", format: "date-time" },
    expiresAt: nullable("string", { format: "date-time", description: "Expiry; null: permanent" }),
    count: { type: "integer" },
    eventIds: { type: "array", items: { type: "string" } },
    note: nullable("string"),
    createdBy: nullable("string", { description: "The API key (or operator) that added it by hand" }),
  },
} as const);
