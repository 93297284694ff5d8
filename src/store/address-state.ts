// Per tenant, stream and address: the soft-bounce state the policy reads and writes (level, reset time, next
// retry, last delivery), plus the soft bounces since the reset, loaded as the policy's AddressHistory.
import type { Kysely } from "kysely";
import type { AddressHistory, AddressState } from "../core/policy.js";
import { softBounceTimesOf } from "./events.js";
import type { Database } from "./schema.js";

export interface AddressKey {
  tenant: string;
  stream: string;
  addressHash: string;
}

const toState = (r: {
  soft_level: number;
  soft_reset_at: Date | null;
  next_retry_at: Date | null;
  last_delivery_at: Date | null;
}): AddressState => ({
  softLevel: r.soft_level,
  softResetAt: r.soft_reset_at,
  nextRetryAt: r.next_retry_at,
  lastDeliveryAt: r.last_delivery_at,
});

/** The stored state, or null; `forUpdate` locks the row for the rest of the transaction. */
export async function getAddressState(
  db: Kysely<Database>,
  k: AddressKey,
  opts: { forUpdate?: boolean } = {},
): Promise<AddressState | null> {
  const q = db
    .selectFrom("address_state")
    .selectAll()
    .where("tenant", "=", k.tenant)
    .where("stream", "=", k.stream)
    .where("address_hash", "=", k.addressHash);
  const r = await (opts.forUpdate ? q.forUpdate() : q).executeTakeFirst();
  return r ? toState(r) : null;
}

/**
 * Lock the address's state row (creating it) for the rest of the transaction, so that concurrent mails of the
 * same address are decided one after the other, and load the history the policy needs: soft bounces since the
 * last reset, at most `lookbackDays` back.
 */
export async function lockHistory(
  db: Kysely<Database>,
  k: AddressKey,
  at: Date,
  lookbackDays: number,
): Promise<AddressHistory> {
  const lookback = new Date(at.getTime() - lookbackDays * 86_400_000);
  const [locked] = await lockHistories(db, [{ ...k, at, since: lookback }]);
  return historyAt(locked!, lookback);
}

/**
 * The history the policy reads for an event, from a locked history: the state, and the soft bounces after the
 * later of the last reset and `lookback` (the event's time less the policy's longest window), oldest first, at
 * most 1,000.
 */
export function historyAt(h: LockedHistory, lookback: Date): AddressHistory {
  const since = h.state.softResetAt && h.state.softResetAt > lookback ? h.state.softResetAt : lookback;
  const after = since.getTime();
  return { ...h.state, softBounces: h.softBounces.filter((t) => t.getTime() > after).slice(0, 1000) };
}

export async function saveAddressState(
  db: Kysely<Database>,
  k: AddressKey,
  s: AddressState,
  at: Date,
): Promise<void> {
  await saveAddressStates(db, [{ key: k, state: s, at }]);
}

/** The state of each address of a batch, and the soft bounces it may need (lockHistories). */
export interface LockedHistory {
  state: AddressState;
  /** Acted-on soft bounces after the key's `since`, oldest first. */
  softBounces: Date[];
}

/**
 * lockHistory for many addresses at once: their state rows locked (created when missing, `updated_at` the
 * given time), in the order given (callers sort them, so that two transactions lock in the same order), and
 * the soft bounces the policy acted on after each key's `since`. Keys must be distinct.
 */
export async function lockHistories(
  db: Kysely<Database>,
  keys: (AddressKey & { at: Date; since: Date })[],
): Promise<LockedHistory[]> {
  if (!keys.length) return [];
  const rows = await db
    .insertInto("address_state")
    .values(
      keys.map((k) => ({
        tenant: k.tenant,
        stream: k.stream,
        address_hash: k.addressHash,
        updated_at: k.at,
      })),
    )
    .onConflict((oc) =>
      oc
        .columns(["tenant", "stream", "address_hash"])
        .doUpdateSet((eb) => ({ soft_level: eb.ref("address_state.soft_level") })),
    )
    .returningAll()
    .execute();
  const id = (k: { tenant: string; stream: string; addressHash: string }) =>
    JSON.stringify([k.tenant, k.stream, k.addressHash]);
  const states = new Map(
    rows.map((r) => [id({ tenant: r.tenant, stream: r.stream, addressHash: r.address_hash }), toState(r)]),
  );
  const times = await softBounceTimesOf(db, keys);
  return keys.map((k) => ({ state: states.get(id(k))!, softBounces: times.get(id(k)) ?? [] }));
}

/** Save the states of many addresses (distinct keys), each with its time, in one statement. */
export async function saveAddressStates(
  db: Kysely<Database>,
  states: { key: AddressKey; state: AddressState; at: Date }[],
): Promise<void> {
  if (!states.length) return;
  await db
    .insertInto("address_state")
    .values(
      states.map(({ key: k, state: s, at }) => ({
        tenant: k.tenant,
        stream: k.stream,
        address_hash: k.addressHash,
        soft_level: s.softLevel,
        soft_reset_at: s.softResetAt,
        next_retry_at: s.nextRetryAt,
        last_delivery_at: s.lastDeliveryAt,
        updated_at: at,
      })),
    )
    .onConflict((oc) =>
      oc.columns(["tenant", "stream", "address_hash"]).doUpdateSet((eb) => ({
        soft_level: eb.ref("excluded.soft_level"),
        soft_reset_at: eb.ref("excluded.soft_reset_at"),
        next_retry_at: eb.ref("excluded.next_retry_at"),
        last_delivery_at: eb.ref("excluded.last_delivery_at"),
        updated_at: eb.ref("excluded.updated_at"),
      })),
    )
    .execute();
}
