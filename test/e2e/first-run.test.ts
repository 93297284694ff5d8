// The embedded default's first start, through real parts: the keys it makes (shown once, kept in 0600 files),
// the CLI working beside the running server (separate processes borrowing the embedded database), and a bounce
// signed with the development VERP key that ends as a suppression visible through the API.
import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBanner } from "../../src/cli/start.js";
import { loadConfig, type Config } from "../../src/config.js";
import { createLogger } from "../../src/log.js";
import { startApp, type App } from "../../src/main.js";
import { listKeys } from "../../src/store/keys.js";
import { SmtpClient } from "../helpers/smtp.js";
import { until } from "./until.js";

const run = promisify(execFile);
const cliPath = fileURLToPath(new URL("../helpers/rebound-cli.ts", import.meta.url));
const bounce = readFileSync(new URL("../../examples/bounce.eml", import.meta.url), "utf8");

const dataDir = mkdtempSync(join(tmpdir(), "rebound-first-run-"));
let app: App | undefined;
let config: Config;

/** The CLI in a process of its own, on the same data folder as the running server. */
async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  return run(process.execPath, ["--import", "tsx", cliPath, ...args], {
    env: { PATH: process.env.PATH, REBOUND_DATA_DIR: dataDir, REBOUND_LOG_LEVEL: "silent" },
    timeout: 60_000,
  });
}

function mode(file: string): string {
  return (statSync(file).mode & 0o777).toString(8);
}

beforeAll(async () => {
  config = loadConfig({ dataDir, httpPort: 0, smtpPort: 0, logLevel: "silent" }, {});
  app = await startApp(config, undefined, { logger: createLogger("silent") });
}, 60_000);

afterAll(async () => {
  await app?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("the embedded default's first start", () => {
  it("makes an admin key, shown once and kept in a 0600 file, which the API accepts", async () => {
    const key = app!.firstRun.adminKey!;
    expect(key.tenant).toBe("default");
    expect(key.file).toBe(join(dataDir, "admin-key"));
    expect(readFileSync(key.file!, "utf8").trim()).toBe(key.token);
    expect(mode(key.file!)).toBe("600");
    const keys = await listKeys(app!.db, { includeRevoked: true });
    expect(keys.map((k) => [k.tenant, k.name, [...k.scopes].sort()])).toEqual([
      ["default", "bootstrap", ["admin", "read", "write"]],
    ]);
    const res = await fetch(`http://127.0.0.1:${app!.httpPort}/v1/suppressions/someone@example.com`, {
      headers: { authorization: `Bearer ${key.token}` },
    });
    expect(res.status).toBe(200);
  });

  it("makes a development VERP key in the data folder (0600) and uses it", () => {
    const verp = app!.firstRun.verpKey!;
    expect(verp.id).toBe("dev");
    expect(readFileSync(join(dataDir, "verp-keys"), "utf8").trim()).toBe(`dev:${verp.secret}`);
    expect(mode(join(dataDir, "verp-keys"))).toBe("600");
    expect(app!.verpKeySource).toBe("file");
    expect(app!.config.verpKeys).toEqual([{ id: "dev", secret: verp.secret }]);
  });

  it("prints where it listens, both keys, and the next steps with the key's file", () => {
    const banner = startBanner(app!);
    expect(banner).toContain(`SMTP  127.0.0.1:${app!.smtpPort}, for localhost`);
    expect(banner).toContain(`http://127.0.0.1:${app!.httpPort}/docs`);
    expect(banner).toContain(app!.firstRun.adminKey!.token);
    expect(banner).toContain(`dev:${app!.firstRun.verpKey!.secret}`);
    expect(banner).toContain("REBOUND_VERP_KEYS=$(npx rebound verp keygen)");
    expect(banner).toContain(`TOKEN=$(cat ${join(dataDir, "admin-key")})`);
    expect(banner).toContain(
      `curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:${app!.httpPort}/v1/suppressions/jane@example.org`,
    );
    expect(banner).toContain("npx rebound verp encode --recipient jane@example.org --stream marketing");
    expect(banner).not.toContain("WARNING");
  });
});

describe("the CLI beside the running embedded server", () => {
  it("creates, lists and revokes keys through the running server's database", async () => {
    const created = JSON.parse(
      (await cli("keys", "create", "--tenant", "acme", "--scopes", "read", "--format", "json")).stdout,
    ) as { id: string; token: string };
    const ok = await fetch(`http://127.0.0.1:${app!.httpPort}/v1/suppressions/x@example.com`, {
      headers: { authorization: `Bearer ${created.token}` },
    });
    expect(ok.status).toBe(200);
    const listed = JSON.parse((await cli("keys", "list", "--format", "json")).stdout) as { id: string }[];
    expect(listed.map((k) => k.id)).toContain(created.id);
    expect((await cli("keys", "revoke", created.id)).stdout).toBe(`revoked ${created.id}\n`);
    expect((await listKeys(app!.db, { tenant: "acme" })).length).toBe(0);
  }, 120_000);

  it("signs a return path with the development key; a bounce sent to it suppresses, seen by API and CLI", async () => {
    const rp = (
      await cli("verp", "encode", "--recipient", "jane@example.org", "--stream", "marketing")
    ).stdout.trim();
    expect(rp).toMatch(/^r=jane=example\.org=marketing=dev[a-z2-7]{8}@localhost$/);

    const { client } = await SmtpClient.connect(app!.smtpPort!);
    expect((await client.command("EHLO mta.example.org")).code).toBe(250);
    expect((await client.command("MAIL FROM:<>")).code).toBe(250);
    expect((await client.command(`RCPT TO:<${rp}>`)).code).toBe(250);
    expect((await client.command("DATA")).code).toBe(354);
    expect((await client.command(`${bounce.replace(/\r?\n/g, "\r\n")}\r\n.`)).code).toBe(250);
    await client.command("QUIT");

    const token = app!.firstRun.adminKey!.token;
    const body = await until(async () => {
      const res = await fetch(
        `http://127.0.0.1:${app!.httpPort}/v1/suppressions/jane@example.org?stream=marketing`,
        { headers: { authorization: `Bearer ${token}` } },
      );
      const b = (await res.json()) as { suppressed: boolean; reason: string };
      return b.suppressed && b.reason ? b : undefined;
    });
    expect(body.reason).toBe("userunknown");

    const listed = (await cli("suppressions", "list", "--format", "json")).stdout;
    expect(listed).toContain('"address":"jane@example.org"');
    const re = await cli("reprocess", "--all");
    expect(re.stdout).toMatch(/ processed kind=bounce events=1 suppressed=1\n$/);
  }, 120_000);
});

describe("the second start on the same data folder", () => {
  it("makes nothing new and keeps both keys", async () => {
    const first = app!.firstRun;
    await app!.close();
    app = await startApp(config, undefined, { logger: createLogger("silent") });
    expect(app.firstRun).toEqual({});
    expect(app.config.verpKeys).toEqual([{ id: "dev", secret: first.verpKey!.secret }]);
    const res = await fetch(`http://127.0.0.1:${app.httpPort}/v1/suppressions/jane@example.org`, {
      headers: { authorization: `Bearer ${first.adminKey!.token}` },
    });
    expect(((await res.json()) as { suppressed: boolean }).suppressed).toBe(true);
  }, 60_000);
});
