// Console sessions over HTTP on a real PostgreSQL: a key in, a signed HttpOnly SameSite=Strict cookie out; the
// cookie authenticates like the key (its scopes, its tenant); writes need the console's header; an altered,
// expired or revoked session is refused.
import { describe, expect, it } from "vitest";
import { parseSession, signSession } from "../../src/api/session.js";
import { createKey, findKeyById, revokeKey } from "../../src/store/keys.js";
import { until } from "../helpers/until.js";
import { apiPerFile, startTestApi } from "./helpers.js";

const file = apiPerFile();

const CONSOLE = { "x-rebound-console": "1" };

async function signIn(token: string, headers: Record<string, string> = CONSOLE): Promise<Response> {
  return fetch(`${file.api.url}/v1/session`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ key: token }),
  });
}

/** The `name=value` of the Set-Cookie of a sign-in. */
function cookieOf(res: Response): string {
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

describe("console sessions", () => {
  it("turns a key into an HttpOnly, SameSite=Strict session cookie that names the key but holds no token", async () => {
    const key = await createKey(file.db.db, { tenant: "t1", scopes: ["read"] });
    const res = await signIn(key.token);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { tenant: string; scopes: string[]; expiresAt: string };
    expect(body.tenant).toBe("t1");
    expect(body.scopes).toEqual(["read"]);
    const setCookie = res.headers.get("set-cookie")!;
    expect(setCookie).toMatch(/^rebound_session=key_/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Strict");
    expect(setCookie).toContain("Path=/");
    expect(setCookie).not.toContain("Secure"); // plain HTTP here; Secure over TLS
    expect(setCookie).not.toContain(key.token);
    const me = await fetch(`${file.api.url}/v1/session`, { headers: { cookie: cookieOf(res) } });
    expect(me.status).toBe(200);
    expect(await me.json()).toEqual({ tenant: "t1", scopes: ["read"], expiresAt: body.expiresAt });
  });

  it("marks the cookie Secure behind a TLS proxy (X-Forwarded-Proto: https)", async () => {
    const key = await createKey(file.db.db, { tenant: "t1", scopes: ["read"] });
    const res = await signIn(key.token, { ...CONSOLE, "x-forwarded-proto": "https" });
    expect(res.status).toBe(200);
    expect(res.headers.get("set-cookie")).toMatch(/; Secure$/);
  });

  it("refuses an unknown key, and a sign-in without the console's header", async () => {
    const key = await createKey(file.db.db, { tenant: "t1", scopes: ["read"] });
    expect((await signIn(`rbk_${"B".repeat(43)}`)).status).toBe(401);
    expect((await signIn("not a key")).status).toBe(401);
    const bare = await signIn(key.token, {});
    expect(bare.status).toBe(400);
    expect(bare.headers.get("set-cookie")).toBeNull();
  });

  it("authenticates as the key: its tenant's data, its scopes", async () => {
    const writer = await createKey(file.db.db, { tenant: "t2", scopes: ["write"] });
    const reader = await createKey(file.db.db, { tenant: "t2", scopes: ["read"] });
    const w = cookieOf(await signIn(writer.token));
    const r = await signIn(reader.token).then(cookieOf);
    const put = (cookie: string) =>
      fetch(`${file.api.url}/v1/suppressions/sess@example.org`, {
        method: "PUT",
        headers: { cookie, "content-type": "application/json", ...CONSOLE },
        body: "{}",
      });
    expect((await put(r)).status).toBe(403);
    expect((await put(w)).status).toBe(201);
    const seen = await fetch(`${file.api.url}/v1/suppressions/sess@example.org`, { headers: { cookie: r } });
    expect(((await seen.json()) as { suppressed: boolean }).suppressed).toBe(true);
  });

  it("refuses a write made with the cookie but without the console's header (CSRF), and lets reads through", async () => {
    const key = await createKey(file.db.db, { tenant: "t3", scopes: ["write"] });
    const cookie = cookieOf(await signIn(key.token));
    const res = await fetch(`${file.api.url}/v1/suppressions/csrf@example.org`, {
      method: "PUT",
      headers: { cookie, "content-type": "application/json" },
      body: "{}",
    });
    expect(res.status).toBe(403);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain(
      "x-rebound-console",
    );
    const read = await fetch(`${file.api.url}/v1/suppressions/csrf@example.org`, { headers: { cookie } });
    expect(((await read.json()) as { suppressed: boolean }).suppressed).toBe(false);
  });

  it("refuses an altered, an expired and a forged session, and ends sessions when the key is revoked", async () => {
    const key = await createKey(file.db.db, { tenant: "t4", scopes: ["read"] });
    const cookie = cookieOf(await signIn(key.token));
    const get = (c: string) => fetch(`${file.api.url}/v1/session`, { headers: { cookie: c } });
    const value = cookie.slice("rebound_session=".length);
    const s = parseSession(value)!;
    // Another expiry with the old signature.
    expect((await get(`rebound_session=${s.keyId}.${s.exp + 3600}.${s.sig}`)).status).toBe(401);
    // Signed with the right secret but already over.
    const hash = (await findKeyById(file.db.db, key.id))!.tokenHash;
    const past = Math.floor(Date.now() / 1000) - 10;
    expect((await get(`rebound_session=${signSession(key.id, hash, past)}`)).status).toBe(401);
    // Signed with a secret that is not the key's.
    const future = Math.floor(Date.now() / 1000) + 3600;
    expect((await get(`rebound_session=${signSession(key.id, "0".repeat(64), future)}`)).status).toBe(401);
    expect((await get("rebound_session=garbage")).status).toBe(401);
    // The cookie's value is no bearer token, however it is written.
    const asBearer = await fetch(`${file.api.url}/v1/session`, {
      headers: { authorization: `Bearer session:${value}` },
    });
    expect(asBearer.status).toBe(401);
    expect((await get(cookie)).status).toBe(200);
    await revokeKey(file.db.db, key.id);
    // Keys are remembered for a second at most.
    await until(async () => (await get(cookie)).status === 401, { what: "the revoked key's session to end" });
  });

  it("answers 429 to a client IP past its failed sign-ins a minute", async () => {
    const limited = await startTestApi(file.db.db, { apiAuthFailuresPerMinute: 3 });
    try {
      const attempt = () =>
        fetch(`${limited.url}/v1/session`, {
          method: "POST",
          headers: { "content-type": "application/json", ...CONSOLE },
          body: JSON.stringify({ key: `rbk_${"C".repeat(43)}` }),
        });
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await attempt()).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
    } finally {
      await limited.close();
    }
  });

  it("signs out by removing the cookie", async () => {
    const res = await fetch(`${file.api.url}/v1/session`, { method: "DELETE", headers: CONSOLE });
    expect(res.status).toBe(204);
    expect(res.headers.get("set-cookie")).toMatch(
      /^rebound_session=; Path=\/; Max-Age=0; HttpOnly; SameSite=Strict/,
    );
  });
});
