// API keys: a high-entropy token shown once, stored as its SHA-256. Each key is bound to one tenant.
import { hash, randomBytes } from "node:crypto";
import type { Kysely } from "kysely";
import type { Database } from "./schema.js";

export const SCOPES = ["read", "write", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export interface ApiKey {
  id: string;
  tenant: string;
  name: string | null;
  scopes: Scope[];
  rateLimitPerMinute: number | null;
  createdAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

/** What authentication needs: the key and the hash of its token (the secret behind cursor signatures). */
export interface ApiKeyWithHash extends ApiKey {
  tokenHash: string;
}

export interface CreateKeyInput {
  tenant: string;
  scopes: Scope[];
  name?: string;
  rateLimitPerMinute?: number | null;
}

const TOKEN_PREFIX = "rbk_";
/** What createKey makes: the prefix and 32 random bytes in base64url (43 characters). */
const TOKEN_FORMAT = /^rbk_[\w-]{43}$/;

/** Whether a token has the form of a key (one that does not is refused without a query). */
export function isTokenFormat(token: string): boolean {
  return TOKEN_FORMAT.test(token);
}

export function hashToken(token: string): string {
  return hash("sha256", token, "hex");
}

export function isScope(s: string): s is Scope {
  return (SCOPES as readonly string[]).includes(s);
}

function toKey(r: {
  id: string;
  tenant: string;
  name: string | null;
  scopes: string[];
  rate_limit_per_minute: number | null;
  created_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
  token_hash: string;
}): ApiKeyWithHash {
  return {
    id: r.id,
    tenant: r.tenant,
    name: r.name,
    scopes: r.scopes.filter(isScope),
    rateLimitPerMinute: r.rate_limit_per_minute,
    createdAt: r.created_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
    tokenHash: r.token_hash,
  };
}

function publicKey(k: ApiKeyWithHash): ApiKey {
  const { tokenHash: _h, ...rest } = k;
  return rest;
}

/** Create a key; the token is returned here and never again. */
export async function createKey(
  db: Kysely<Database>,
  input: CreateKeyInput,
): Promise<ApiKey & { token: string }> {
  if (!input.tenant) throw new Error("a key needs a tenant");
  if (input.scopes.length === 0) throw new Error("a key needs at least one scope");
  for (const s of input.scopes)
    if (!isScope(s)) throw new Error(`unknown scope: ${s} (known: ${SCOPES.join(", ")})`);
  const id = `key_${randomBytes(9).toString("base64url")}`;
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`;
  const row = await db
    .insertInto("api_keys")
    .values({
      id,
      tenant: input.tenant,
      name: input.name ?? null,
      token_hash: hashToken(token),
      scopes: [...new Set(input.scopes)],
      rate_limit_per_minute: input.rateLimitPerMinute ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return { ...publicKey(toKey(row)), token };
}

export async function listKeys(
  db: Kysely<Database>,
  opts: { tenant?: string; includeRevoked?: boolean } = {},
): Promise<ApiKey[]> {
  let q = db.selectFrom("api_keys").selectAll().orderBy("created_at").orderBy("id");
  if (opts.tenant) q = q.where("tenant", "=", opts.tenant);
  if (!opts.includeRevoked) q = q.where("revoked_at", "is", null);
  return (await q.execute()).map((r) => publicKey(toKey(r)));
}

/** Revoke a key; false when no such live key. */
export async function revokeKey(db: Kysely<Database>, id: string, at: Date = new Date()): Promise<boolean> {
  const res = await db
    .updateTable("api_keys")
    .set({ revoked_at: at })
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return Number(res.numUpdatedRows) > 0;
}

/** The live (unrevoked) key of a token, or undefined. */
export async function findKeyByToken(
  db: Kysely<Database>,
  token: string,
): Promise<ApiKeyWithHash | undefined> {
  return findKeyByTokenHash(db, hashToken(token));
}

export async function findKeyByTokenHash(
  db: Kysely<Database>,
  tokenHash: string,
): Promise<ApiKeyWithHash | undefined> {
  const row = await db
    .selectFrom("api_keys")
    .selectAll()
    .where("token_hash", "=", tokenHash)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return row ? toKey(row) : undefined;
}

/** Record that keys were used (batched by the caller). */
export async function touchKeys(db: Kysely<Database>, ids: string[], at: Date): Promise<void> {
  if (ids.length === 0) return;
  await db.updateTable("api_keys").set({ last_used_at: at }).where("id", "in", ids).execute();
}

/** The live (unrevoked) key with this id, or undefined: what a console session is checked against. */
export async function findKeyById(db: Kysely<Database>, id: string): Promise<ApiKeyWithHash | undefined> {
  const row = await db
    .selectFrom("api_keys")
    .selectAll()
    .where("id", "=", id)
    .where("revoked_at", "is", null)
    .executeTakeFirst();
  return row ? toKey(row) : undefined;
}
