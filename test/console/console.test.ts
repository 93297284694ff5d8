// The web console in a real browser (Debian's Chromium through playwright-core) against a real `rebound start`
// on PostgreSQL, seeded through SMTP (bounces, a complaint) and the API (sends, a webhook). Screenshots of each
// page go to a temporary folder, or to docs/console/ (checked in, shown by the README) when the run is asked to
// refresh them: `REBOUND_CONSOLE_SHOTS=docs/console npx vitest run test/console`. A test run leaves the tree clean.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { sql } from "kysely";
import type { BrowserContext, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PROVIDERS } from "../../src/core/provider.js";
import { openDb, type DbHandle } from "../../src/store/db.js";
import { createKey } from "../../src/store/keys.js";
import { BOUNCE_DOMAIN, e2eMail, verp, VERP_KEYS_ENV } from "../e2e/fixtures.js";
import { TEST_DATABASE_URL, uniqueSchema } from "../helpers/db.js";
import { sendOne } from "../helpers/smtp.js";
import { until } from "../helpers/until.js";
import {
  canvasDrawn,
  hasAttr,
  hasCount,
  hasText,
  launchChromium,
  requireBuiltConsole,
  seriousViolations,
  startRebound,
  type LaunchedBrowser,
  type Rebound,
} from "./browser.js";

let alertsDir: string | undefined;
const SHOTS = process.env.REBOUND_CONSOLE_SHOTS
  ? fileURLToPath(new URL(`../../${process.env.REBOUND_CONSOLE_SHOTS}/`, import.meta.url))
  : join(tmpdir(), "rebound-console-shots");
const schema = uniqueSchema("console");
const TENANT = "acme";
const BOUNCED = "jane.doe@gmail.com";
const COMPLAINED = "joe.bloggs@outlook.com";

let rebound: Rebound;
let handle: DbHandle;
let chromium: LaunchedBrowser;
let adminToken: string;
let readToken: string;

/** The `maxLength` that the API's OpenAPI document declares for the `note` of `method path`'s JSON body. */
async function declaredNoteLimit(path: string, method = "post"): Promise<string> {
  const doc = await (await apiCall("GET", "/v1/openapi.json")).json();
  return String(
    doc.paths[path][method].requestBody.content["application/json"].schema.properties.note.maxLength,
  );
}

async function apiCall(method: string, path: string, body?: unknown): Promise<Response> {
  return fetch(rebound.http + path, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { "content-type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function seed(): Promise<void> {
  // Sends: counts per provider and hour over the last two days, and the messages that will bounce.
  const now = Date.now();
  const sends: unknown[] = [];
  const providers = { google: 900, microsoft: 600, yahoo: 250, apple: 120 } as const;
  for (let h = 1; h <= 48; h++)
    for (const [provider, base] of Object.entries(providers))
      sends.push({
        stream: "marketing",
        provider,
        hour: new Date(now - h * 3_600_000).toISOString(),
        count: base + ((h * 37) % 90),
      });
  const ids = { bounce: "console1bounce", complaint: "console1complaint" };
  sends.push(
    {
      recipient: BOUNCED,
      stream: "marketing",
      messageId: `<order-${ids.bounce}@sender.example>`,
      sentAt: new Date(now - 600_000).toISOString(),
    },
    {
      recipient: COMPLAINED,
      stream: "marketing",
      messageId: `<deal-${ids.complaint}@sender.example>`,
      sentAt: new Date(now - 600_000).toISOString(),
    },
  );
  const res = await apiCall("POST", "/v1/sends?batchId=console-seed", { sends });
  expect(res.status).toBe(200);
  expect(((await res.json()) as { errors: unknown[] }).errors).toEqual([]);

  // A bounce and a complaint through SMTP, to signed return paths.
  const bounce = e2eMail("dsn-exim-user-unknown", {
    recipient: BOUNCED,
    returnPath: verp(BOUNCED, "marketing", TENANT),
    id: ids.bounce,
  });
  expect(
    (await sendOne(rebound.smtpPort, { from: "", to: [verp(BOUNCED, "marketing", TENANT)], data: bounce }))
      .code,
  ).toBe(250);
  const complaint = e2eMail("arf-abuse", {
    recipient: COMPLAINED,
    returnPath: verp(COMPLAINED, "marketing", TENANT),
    rcpt: `fbl@${BOUNCE_DOMAIN}`,
    id: ids.complaint,
  });
  expect(
    (
      await sendOne(rebound.smtpPort, {
        from: "",
        to: [verp(COMPLAINED, "marketing", TENANT)],
        data: complaint,
      })
    ).code,
  ).toBe(250);
  await until(
    async () => {
      const r = await apiCall("GET", `/v1/suppressions/${encodeURIComponent(BOUNCED)}`);
      return r.ok && ((await r.json()) as { suppressed: boolean }).suppressed;
    },
    { ms: 60_000, what: "the bounce to suppress its recipient" },
  );
  const hook = await apiCall("POST", "/v1/webhooks", {
    url: "https://hooks.example.net/rebound",
    description: "the CRM",
  });
  expect(hook.status).toBe(201);
}

beforeAll(async () => {
  requireBuiltConsole();
  mkdirSync(SHOTS, { recursive: true });
  // The seed's one complaint opens an incident at once: the complaint-rate rule without its minimum volume,
  // evaluated every 5 seconds (the shipped rule wants 1,000 sends in its window).
  alertsDir = mkdtempSync(join(tmpdir(), "rebound-console-alerts-"));
  const alerts = join(alertsDir, "alerts.json");
  writeFileSync(
    alerts,
    JSON.stringify({
      rules: {
        "complaint-rate": {
          minVolume: 1,
          levels: { warning: 0.00001, critical: 0.003 },
          resolveBelow: 0.000001,
        },
      },
      evaluateEverySeconds: 5,
    }),
  );
  // The browser starts while the server starts and is seeded.
  const browser = launchChromium();
  try {
    rebound = await startRebound({
      DATABASE_URL: TEST_DATABASE_URL,
      REBOUND_DATABASE_SCHEMA: schema,
      REBOUND_DOMAINS: BOUNCE_DOMAIN,
      REBOUND_VERP_KEYS: VERP_KEYS_ENV,
      REBOUND_DATA_DIR: "/nonexistent/never-written",
      REBOUND_ALERTS: alerts,
    });
    handle = await openDb({ databaseUrl: TEST_DATABASE_URL, schema });
    adminToken = (await createKey(handle.db, { tenant: TENANT, scopes: ["admin"], name: "console test" }))
      .token;
    readToken = (await createKey(handle.db, { tenant: TENANT, scopes: ["read"], name: "console read" }))
      .token;
    await seed();
  } finally {
    chromium = await browser;
  }
}, 180_000);

afterAll(async () => {
  if (alertsDir) rmSync(alertsDir, { recursive: true, force: true });
  await chromium?.close();
  await rebound?.stop();
  if (handle) {
    await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(handle.db);
    await handle.close();
  }
});

/** A fresh browser context (no cookies), signed in with `token` through the sign-in form. */
async function signedIn(
  token: string,
  width = 1280,
): Promise<{ context: BrowserContext; page: Page; cspErrors: string[] }> {
  const context = await chromium.browser.newContext({
    viewport: { width, height: 900 },
    acceptDownloads: true,
  });
  const page = await context.newPage();
  const cspErrors: string[] = [];
  page.on("console", (m) => {
    if (m.text().includes("Content Security Policy")) cspErrors.push(m.text());
  });
  await page.goto(`${rebound.http}/console/`);
  await page.getByLabel("API key").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("navigation", { name: "Console" }).waitFor();
  return { context, page, cspErrors };
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

async function expectAccessible(page: Page): Promise<void> {
  expect(await seriousViolations(page)).toEqual([]);
}

describe("the console", () => {
  it("serves its page with a strict Content-Security-Policy and its hashed files for a year", async () => {
    const page = await fetch(`${rebound.http}/console/`);
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(page.headers.get("cache-control")).toBe("no-cache");
    const html = await page.text();
    const script = /src="(\/console\/assets\/[^"]{1,80}\.js)"/.exec(html)![1]!;
    const js = await fetch(rebound.http + script, { headers: { "accept-encoding": "gzip" } });
    expect(js.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(js.headers.get("content-security-policy")).toBe(csp);
    // The first page's JavaScript stays under 300 KB gzipped (issue 13).
    expect(js.headers.get("content-encoding")).toBe("gzip");
    const gzipped = Number(js.headers.get("content-length") ?? NaN);
    expect(gzipped).toBeGreaterThan(1000);
    expect(gzipped).toBeLessThan(300 * 1024);
  });

  it("signs in with a key into an HttpOnly, SameSite=Strict cookie, never a token in the URL, and out again", async () => {
    const { context, page } = await signedIn(adminToken);
    const cookies = await context.cookies();
    const session = cookies.find((c) => c.name === "rebound_session")!;
    expect(session.httpOnly).toBe(true);
    expect(session.sameSite).toBe("Strict");
    expect(session.value).not.toContain(adminToken);
    expect(page.url()).not.toContain(adminToken);
    expect(await page.evaluate("document.cookie")).not.toContain("rebound_session");
    await page.getByRole("button", { name: "Sign out" }).click();
    await page.getByLabel("API key").waitFor();
    expect((await context.cookies()).some((c) => c.name === "rebound_session")).toBe(false);
    expect(await page.evaluate("fetch('/v1/session').then((r) => r.status)")).toBe(401);
    await context.close();
  });

  it("draws the overview's charts (non-empty canvases) with the threshold lines, at 1280 px and at 390 px", async () => {
    for (const width of [1280, 390]) {
      const { context, page, cspErrors } = await signedIn(adminToken, width);
      await page.waitForFunction(() => performance.getEntriesByName("rebound:overview-render").length > 0);
      for (const id of ["sent", "hardRate", "complaintRate", "blockRate"])
        expect(await canvasDrawn(page, `[data-chart="${id}"] canvas`), id).toBe(true);
      // Complaint and hard-bounce rates carry their warning and critical lines (the rules in effect, or the
      // shipped defaults where this server has no GET /v1/alerts/rules), named in the legend.
      for (const id of ["complaintRate", "hardRate"]) {
        const chart = page.locator(`[data-chart="${id}"]`);
        expect(Number(await chart.getAttribute("data-thresholds"))).toBeGreaterThanOrEqual(2);
        await hasText(chart.locator(".u-legend"), "warning");
        await hasText(chart.locator(".u-legend"), "critical");
      }
      await hasText(page.locator('[data-chart="complaintRate"] [data-threshold="warning"]'), "%");
      await shot(page, width === 1280 ? "overview" : "overview-390");
      if (width === 1280) await expectAccessible(page);
      expect(cspErrors).toEqual([]);
      await context.close();
    }
  });

  it("lists providers with their change and sparkline, and opens one to its reasons", async () => {
    const { context, page } = await signedIn(adminToken);
    await page.getByRole("link", { name: "Providers" }).click();
    const google = page.locator('tr[data-provider="google"]');
    await google.waitFor();
    await hasCount(google.locator("svg.spark path"), 1);
    await hasCount(page.locator('tr[data-provider="microsoft"]'), 1);
    await shot(page, "providers");
    await expectAccessible(page);
    await google.getByRole("link", { name: "google" }).click();
    await hasText(page.getByRole("heading", { level: 1 }), "google", true);
    await hasText(page.locator("dl.figures"), "Sent");
    // Its reasons and rules: from GET /v1/events?provider= (the monitoring release), or, on a server without that
    // filter, from the latest events' recipient domains.
    await hasText(page.locator('table:has(th:text("Reason"))'), "userunknown");
    await hasText(page.locator(".samples"), "No such user here");
    await shot(page, "provider");
    await expectAccessible(page);
    await context.close();
  });

  it("finds an address: its state per stream, its events, and the raw bounce with the decisive line", async () => {
    const { context, page } = await signedIn(adminToken);
    await page.getByRole("link", { name: "Suppressions" }).click();
    await page.getByLabel("Address").fill(BOUNCED);
    await page.getByRole("button", { name: "Search" }).click();
    await hasAttr(page.locator("[data-suppressed]"), "data-suppressed", "true");
    await hasText(page.locator('tr[data-stream="marketing"]'), "userunknown");
    await page.getByRole("button", { name: "Show the raw bounce" }).first().click();
    const decisive = page.locator("mark.decisive");
    await hasText(decisive, "Diagnostic-Code: smtp; 550 5.1.1");
    await hasText(page.locator("pre.raw"), "X-Failed-Recipients");
    await shot(page, "suppressions");
    await expectAccessible(page);
    await context.close();
  });

  it("finds an address by its keyed hash (as an erased one is known), with its streams", async () => {
    const lookup = (await (
      await apiCall("GET", `/v1/suppressions/${encodeURIComponent(BOUNCED)}`)
    ).json()) as {
      suppressions: { addressHash: string }[];
    };
    const hash = lookup.suppressions[0]!.addressHash;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    const { context, page } = await signedIn(adminToken);
    await page.getByRole("link", { name: "Suppressions" }).click();
    await page.getByLabel("Address or its hash").fill(hash);
    await page.getByRole("button", { name: "Search" }).click();
    await hasText(page.locator(`table[data-hash="${hash}"] tr[data-stream="marketing"]`), "userunknown");
    await expectAccessible(page);
    await context.close();
  });

  it("removes a suppression with a note and restores it (write scope)", async () => {
    const { context, page } = await signedIn(adminToken);
    await page.goto(`${rebound.http}/console/suppressions?address=${encodeURIComponent(BOUNCED)}`);
    const row = page.locator('tr[data-stream="marketing"]');
    await row.getByRole("button", { name: "Remove" }).waitFor();
    // The note field takes as much as the API does (the one limit, src/api/limits.ts).
    expect(await page.locator("#supp-note").getAttribute("maxlength")).toBe(
      await declaredNoteLimit("/v1/suppressions/{address}", "put"),
    );
    await page.getByLabel("Note for a removal or restoration").fill("asked by support, ticket 42");
    await row.getByRole("button", { name: "Remove" }).click();
    await hasAttr(page.locator("[data-suppressed]"), "data-suppressed", "false");
    const lookup = (await (
      await apiCall("GET", `/v1/suppressions/${encodeURIComponent(BOUNCED)}`)
    ).json()) as {
      suppressed: boolean;
    };
    expect(lookup.suppressed).toBe(false);
    await row.getByRole("button", { name: "Restore" }).click();
    await hasAttr(page.locator("[data-suppressed]"), "data-suppressed", "true");
    await context.close();
  });

  it("with a read key shows no write action, and the API refuses the write even with the console's header", async () => {
    const { context, page } = await signedIn(readToken);
    await hasText(page.locator("[data-scopes]"), "read only", true);
    await page.goto(`${rebound.http}/console/suppressions?address=${encodeURIComponent(BOUNCED)}`);
    await hasCount(page.locator('tr[data-stream="marketing"]'), 1);
    await hasCount(page.getByRole("button", { name: "Remove" }), 0);
    const status = await page.evaluate(async (address) => {
      const r = await fetch(`/v1/suppressions/${encodeURIComponent(address)}`, {
        method: "DELETE",
        headers: { "x-rebound-console": "1" },
      });
      return r.status;
    }, BOUNCED);
    expect(status).toBe(403);
    await context.close();
  });

  it("refuses a write made with the session cookie but without the console's header (CSRF)", async () => {
    const { context, page } = await signedIn(adminToken);
    const status = await page.evaluate(async (address) => {
      const r = await fetch(`/v1/suppressions/${encodeURIComponent(address)}`, { method: "DELETE" });
      return r.status;
    }, BOUNCED);
    expect(status).toBe(403);
    const still = (await (
      await apiCall("GET", `/v1/suppressions/${encodeURIComponent(BOUNCED)}`)
    ).json()) as {
      suppressed: boolean;
    };
    expect(still.suppressed).toBe(true);
    await context.close();
  });

  it("cleans a CSV with a progress bar and downloads the cleaned list", async () => {
    const { context, page } = await signedIn(adminToken);
    await page.getByRole("link", { name: "List cleaning" }).click();
    const csv = `email,name\n${BOUNCED},Jane\nkeep.me@example.org,Keep\n${COMPLAINED},Joe\n`;
    await page
      .getByLabel("CSV file")
      .setInputFiles({ name: "march.csv", mimeType: "text/csv", buffer: Buffer.from(csv) });
    // The progress bar shows while the list goes up and comes back (noticed however short that is).
    await page.evaluate(`{
      window.sawProgress = false;
      new MutationObserver(() => { if (document.querySelector("progress")) window.sawProgress = true; })
        .observe(document.body, { subtree: true, childList: true });
    }`);
    await page.getByRole("button", { name: "Clean" }).click();
    await hasText(page.locator("[data-rows-out]"), "1", true);
    expect(await page.evaluate("window.sawProgress")).toBe(true);
    await shot(page, "clean");
    await expectAccessible(page);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Download march-cleaned.csv" }).click(),
    ]);
    const text = readFileSync((await download.path())!, "utf8");
    expect(text).toContain("keep.me@example.org");
    expect(text).not.toContain(BOUNCED);
    expect(text).not.toContain(COMPLAINED);
    await context.close();
  });

  it("filters events by class and exports what is shown", async () => {
    const { context, page } = await signedIn(adminToken);
    await page.getByRole("link", { name: "Events" }).click();
    await page.getByLabel("Class").selectOption("hard");
    await page.getByRole("button", { name: "Show" }).click();
    await hasCount(page.locator("tr[data-event]"), 1);
    await hasText(page.locator("tr[data-event]"), BOUNCED);
    await shot(page, "events");
    await expectAccessible(page);
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("button", { name: "Export CSV" }).click(),
    ]);
    const lines = readFileSync((await download.path())!, "utf8")
      .trim()
      .split("\r\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toContain(BOUNCED);
    await context.close();
  });

  it("keeps the newest filters' events when the answer to the first, unfiltered list comes last", async () => {
    const { context, page } = await signedIn(adminToken);
    // The unfiltered list's request is held in the browser until the filtered one has been answered and shown.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const unfiltered = (u: URL) => u.pathname === "/v1/events" && !u.searchParams.has("class");
    await page.route(unfiltered, async (route) => {
      await held;
      await route.continue().catch(() => undefined); // aborted by the page meanwhile: nothing to continue
    });
    const firstDone = new Promise<void>((resolve) => {
      const done = (r: { url(): string }) => unfiltered(new URL(r.url())) && resolve();
      page.on("requestfinished", done);
      page.on("requestfailed", done);
    });
    await page.getByRole("link", { name: "Events" }).click();
    await page.getByLabel("Class").selectOption("hard");
    await page.getByRole("button", { name: "Show" }).click();
    await hasCount(page.locator("tr[data-event]"), 1);
    release();
    await firstDone;
    await page.evaluate("new Promise((r) => setTimeout(r, 50))"); // a turn for the page to apply what came
    expect(await page.locator("tr[data-event]").count()).toBe(1);
    await hasText(page.locator("tr[data-event]"), BOUNCED);
    await context.close();
  });

  it("shows the webhook endpoints and their delivery log", async () => {
    const { context, page } = await signedIn(adminToken);
    await page.getByRole("link", { name: "Webhooks" }).click();
    await hasText(page.locator("[data-webhook]"), "https://hooks.example.net/rebound");
    await page.getByRole("button", { name: "Show the delivery log" }).click();
    await page
      .locator('[data-webhook] table, [data-webhook] p:text("Nothing delivered yet.")')
      .first()
      .waitFor();
    await shot(page, "webhooks");
    await expectAccessible(page);
    await context.close();
  });

  it("is usable with the keyboard alone: sign in, reach a page from the navigation, search an address", async () => {
    const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${rebound.http}/console/`);
    await page.getByLabel("API key").waitFor();
    await page.keyboard.press("Tab");
    expect(await page.evaluate("document.activeElement.id")).toBe("signin-key");
    await page.keyboard.type(adminToken);
    await page.keyboard.press("Enter");
    await page.getByRole("navigation", { name: "Console" }).waitFor();
    // Tab from the top of the page to the navigation's "Suppressions" link, then Enter.
    await page.evaluate("document.activeElement.blur()");
    let focused = "";
    for (let i = 0; i < 12 && focused !== "Suppressions"; i++) {
      await page.keyboard.press("Tab");
      focused = String(await page.evaluate("document.activeElement.textContent"));
    }
    expect(focused).toBe("Suppressions");
    await page.keyboard.press("Enter");
    await page.getByLabel("Address").waitFor();
    await page.getByLabel("Address").focus();
    await page.keyboard.type(BOUNCED);
    await page.keyboard.press("Enter");
    await hasAttr(page.locator("[data-suppressed]"), "data-suppressed", "true");
    await context.close();
  });

  it("fits a 390 px phone on every page: no sideways scrolling of the page, and no serious axe violation", async () => {
    const { context, page } = await signedIn(adminToken, 390);
    for (const path of [
      "/",
      "/providers",
      "/providers/google",
      "/incidents",
      "/events",
      "/streams",
      "/clean",
      "/webhooks",
    ]) {
      await page.goto(`${rebound.http}/console${path}`);
      await page.locator("main h1").waitFor();
      await page.waitForLoadState("networkidle");
      const overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth",
      );
      expect(overflow, path).toBe(0);
      expect(await seriousViolations(page), path).toEqual([]);
    }
    await page.goto(`${rebound.http}/console/suppressions?address=${encodeURIComponent(BOUNCED)}`);
    await page.getByRole("button", { name: "Show the raw bounce" }).first().click();
    await page.locator("mark.decisive").waitFor();
    expect(
      await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth"),
    ).toBe(0);
    await shot(page, "suppressions-390");
    await context.close();
  });

  it("acknowledges an incident", async () => {
    // The seed's complaint opens one on the alert loop's next round (the alerts file of beforeAll).
    const open = await until(
      async () => {
        const r = await apiCall("GET", "/v1/incidents?status=open");
        const list = ((await r.json()) as { incidents: { id: string; status: string }[] }).incidents;
        return list.length > 0 ? list : undefined;
      },
      { ms: 60_000, what: "an open incident from the seed" },
    );
    const { context, page } = await signedIn(adminToken);
    await page.getByRole("link", { name: "Incidents" }).click();
    const row = page.locator(`tr[data-incident="${open[0]!.id}"]`);
    await row.waitFor();
    // The provider filter is a choice from the provider list (as on Streams and Events), and it filters: the
    // seed's incident is per stream, no provider's.
    const providerFilter = page.getByLabel("Provider");
    expect(
      await providerFilter
        .locator("option")
        .evaluateAll((os) => os.map((o) => (o as unknown as { value: string }).value)),
    ).toEqual(["", ...PROVIDERS]);
    await providerFilter.selectOption("yahoo");
    await page.getByText("No incident matches.").waitFor();
    await providerFilter.selectOption("");
    await row.waitFor();
    await shot(page, "incidents");
    await expectAccessible(page);
    await row.getByRole("link").click();
    expect(await page.locator("#inc-note").getAttribute("maxlength")).toBe(
      await declaredNoteLimit("/v1/incidents/{id}/acknowledge"),
    );
    await page.getByLabel("Note").fill("looking into it");
    await page.getByRole("button", { name: "Acknowledge" }).click();
    await hasText(page.locator("[data-status]"), "acknowledged", true);
    await hasCount(page.locator('[data-history="acknowledged"]'), 1);
    await shot(page, "incident");
    await expectAccessible(page);
    await context.close();
  });

  it("pauses and resumes a stream", async () => {
    const { context, page } = await signedIn(adminToken);
    await page.getByRole("link", { name: "Streams" }).click();
    const row = page.locator('tr[data-stream="marketing"]');
    await hasAttr(row, "data-paused", "false");
    for (const action of ["pause", "resume"])
      expect(await page.locator("#st-note").getAttribute("maxlength"), action).toBe(
        await declaredNoteLimit(`/v1/streams/{stream}/${action}`),
      );
    await row.getByRole("button", { name: "Pause marketing" }).click();
    await hasAttr(row, "data-paused", "true");
    await shot(page, "streams");
    await row.getByRole("button", { name: "Resume marketing" }).click();
    await hasAttr(row, "data-paused", "false");
    await expectAccessible(page);
    await context.close();
  });
});
