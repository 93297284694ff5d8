// Console benchmark in headless Chromium (Debian's, through playwright-core): how long the overview takes to
// draw 90 days x 30 providers, and what the first page transfers.
//
//   render   the overview's own performance measure `rebound:overview-render` (from the stats answer received to
//            the four charts drawn), median of --runs, for 90 days of daily points and of hourly points (2,160
//            x 30 series a chart, beyond what GET /v1/stats answers at once, to show the headroom). The stats
//            answer is synthetic (page.route), so the figure is the browser's work alone.
//   transfer the first page (sign-in form and the console's code): bytes over the wire (gzip) per file and in all
//
//   node --import tsx bench/console.mjs [--runs 5] [--providers 30] [--days 90]
//   Needs `npm run build` first (dist/console) and /usr/bin/chromium.
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const args = process.argv.slice(2);
const arg = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const RUNS = Number(arg("runs", "5"));
const PROVIDERS = Number(arg("providers", "30"));
const DAYS = Number(arg("days", "90"));

const root = fileURLToPath(new URL("..", import.meta.url));
const child = spawn(
  process.execPath,
  ["--import", "tsx", "test/helpers/rebound-cli.ts", "start", "--role", "api"],
  {
    cwd: root,
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      PATH: process.env.PATH,
      REBOUND_DATA_DIR: ":memory:",
      REBOUND_HTTP_PORT: "0",
      REBOUND_LOG_LEVEL: "warn",
    },
  },
);
const banner = await new Promise((resolve, reject) => {
  let err = "";
  child.stderr.on("data", (d) => {
    err += d.toString();
    if (err.includes("Stop with Ctrl-C.")) resolve(err);
  });
  child.once("exit", (code) => reject(new Error(`rebound exited (${code}): ${err}`)));
});
const http = /HTTP {2}(http:\/\/\S+)/.exec(banner)[1];
const token = /API key \(admin, tenant "default"\): (rbk_\S+)/.exec(banner)[1];

/** A GET /v1/stats answer: `groups` providers, one point per bucket from `from` to `to`. */
function syntheticStats(url) {
  const q = new URL(url).searchParams;
  const granularity = q.get("granularity") ?? "hour";
  const step = granularity === "day" ? 86_400_000 : 3_600_000;
  const to = Math.ceil(Date.now() / step) * step;
  const from = to - DAYS * 86_400_000;
  const split = q.get("groupBy") === "provider";
  const groups = [];
  for (let g = 0; g < (split ? PROVIDERS : 1); g++) {
    const points = [];
    const fig = (i) => {
      const sent = 1000 + ((i * 37 + g * 101) % 900);
      const hard = (i + g) % 17;
      const complaint = (i * 3 + g) % 5;
      const block = (i + 2 * g) % 11;
      return {
        sent,
        delivered: sent - hard - block,
        hard,
        soft: 1,
        block,
        complaint,
        autoReply: 0,
        unverified: 0,
        hardRate: hard / sent,
        complaintRate: complaint / sent,
        complaintRateDelivered: complaint / (sent - hard - block),
        blockRate: block / sent,
      };
    };
    let i = 0;
    for (let t = from; t < to; t += step, i++) points.push({ at: new Date(t).toISOString(), ...fig(i) });
    groups.push({
      key: split ? { provider: `provider-${String(g + 1).padStart(2, "0")}` } : {},
      total: fig(0),
      previous: fig(1),
      points,
    });
  }
  return {
    from: new Date(from).toISOString(),
    to: new Date(to).toISOString(),
    granularity,
    groupBy: split ? ["provider"] : [],
    previousFrom: new Date(from - (to - from)).toISOString(),
    groups,
  };
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const profile = mkdtempSync(join(tmpdir(), "rebound-bench-chromium-"));
const browser = await chromium.launch({
  executablePath: "/usr/bin/chromium",
  headless: true,
  artifactsDir: profile,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
});
try {
  // The first page: what a browser that never came downloads before the sign-in form shows.
  const first = await browser.newContext();
  const fp = await first.newPage();
  const files = [];
  fp.on("response", async (res) => {
    const req = res.request();
    const sizes = await req.sizes();
    files.push({
      url: new URL(res.url()).pathname,
      bytes: sizes.responseBodySize + sizes.responseHeadersSize,
    });
  });
  await fp.goto(`${http}/console/`);
  await fp.getByLabel("API key").waitFor();
  await fp.waitForLoadState("networkidle");
  await first.close();
  console.log("first page (bytes over the wire, gzip, headers included):");
  for (const f of files) console.log(`  ${String(f.bytes).padStart(8)}  ${f.url}`);
  console.log(`  ${String(files.reduce((s, f) => s + f.bytes, 0)).padStart(8)}  in all`);

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  await page.route(/\/v1\/stats\?/, (route) =>
    route.fulfill({
      status: 200,
      contentType: "application/json",
      body: JSON.stringify(syntheticStats(route.request().url())),
    }),
  );
  await page.goto(`${http}/console/`);
  await page.getByLabel("API key").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForFunction(() => performance.getEntriesByName("rebound:overview-render").length > 0);
  await page.getByLabel("Period", { exact: true }).selectOption("90d");
  await page.getByLabel("One line per", { exact: true }).selectOption("provider");
  /** Choose `points` and wait until the overview is drawn with them; its render measure in ms. */
  const drawWith = async (points) => {
    if ((await page.getByLabel("Points", { exact: true }).inputValue()) === points) return null;
    const before = await page.evaluate(() => performance.getEntriesByName("rebound:overview-render").length);
    await page.getByLabel("Points", { exact: true }).selectOption(points);
    await page.waitForFunction(
      (n) => performance.getEntriesByName("rebound:overview-render").length > n,
      before,
      {
        timeout: 60_000,
      },
    );
    return page.evaluate(() => performance.getEntriesByName("rebound:overview-render").at(-1).duration);
  };
  for (const points of ["day", "hour"]) {
    const times = [];
    for (let r = 0; r < RUNS; r++) {
      await drawWith(points === "day" ? "hour" : "day");
      times.push(await drawWith(points));
    }
    const perChart = points === "day" ? DAYS : DAYS * 24;
    console.log(
      `overview, ${DAYS} days x ${PROVIDERS} providers, ${points === "day" ? "daily" : "hourly"} (${perChart} points x ${PROVIDERS} series x 4 charts): ` +
        `median ${median(times).toFixed(0)} ms, runs ${times.map((t) => t.toFixed(0)).join(" ")} ms`,
    );
  }
  await context.close();
} finally {
  await browser.close();
  rmSync(profile, { recursive: true, force: true });
  child.kill("SIGTERM");
}
