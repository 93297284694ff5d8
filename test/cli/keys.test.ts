import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { findKeyByToken } from "../../src/store/keys.js";
import { createTestDb, TEST_DATABASE_URL, type TestDb } from "../helpers/db.js";
import { cli } from "./run-cli.js";

let t: TestDb;

beforeAll(async () => {
  t = await createTestDb();
  process.env.DATABASE_URL = TEST_DATABASE_URL;
  process.env.REBOUND_DATABASE_SCHEMA = t.schema;
  process.env.REBOUND_LOG_LEVEL = "silent";
});
afterAll(async () => t?.drop());

describe("rebound keys", () => {
  it("creates a key bound to a tenant and prints its token once as JSON; list never shows tokens; revoke ends it", async () => {
    const made = await cli(
      "keys",
      "create",
      "--tenant",
      "acme",
      "--scopes",
      "read,write",
      "--name",
      "mailer",
      "--format",
      "json",
    );
    expect(made.code).toBe(0);
    const key = JSON.parse(made.stdout);
    expect(key).toMatchObject({
      id: expect.stringMatching(/^key_/),
      token: expect.stringMatching(/^rbk_/),
      tenant: "acme",
      scopes: ["read", "write"],
      name: "mailer",
    });
    expect((await findKeyByToken(t.db, key.token))?.tenant).toBe("acme");
    const stored = await t.db
      .selectFrom("api_keys")
      .select("token_hash")
      .where("id", "=", key.id)
      .executeTakeFirstOrThrow();
    expect(stored.token_hash).not.toContain(key.token);

    const listed = await cli("keys", "list", "--format", "json");
    expect(JSON.parse(listed.stdout).map((k: { id: string }) => k.id)).toEqual([key.id]);
    expect(listed.stdout).not.toContain(key.token);

    expect((await cli("keys", "revoke", key.id)).code).toBe(0);
    expect(await findKeyByToken(t.db, key.token)).toBeUndefined();
    expect((await cli("keys", "revoke", key.id)).code).toBe(1);
    expect(JSON.parse((await cli("keys", "list", "--format", "json")).stdout)).toEqual([]);
  });

  it("refuses unknown scopes", async () => {
    const res = await cli("keys", "create", "--tenant", "acme", "--scopes", "read,root");
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("--scopes");
  });
});
