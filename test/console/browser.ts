// Debian's Chromium driven by playwright-core (no browser download), headless, with a throw-away profile; and
// a running `rebound start` (the CLI from the sources) whose banner tells its ports.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type Locator, type Page } from "playwright-core";
import { until } from "../helpers/until.js";
import { consoleDir } from "../../src/api/console.js";

export const CHROMIUM = "/usr/bin/chromium";

export interface LaunchedBrowser {
  browser: Browser;
  close(): Promise<void>;
}

export async function launchChromium(): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), "rebound-chromium-"));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
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
    // playwright-core gives each launch a fresh --user-data-dir of its own (it refuses one in args) in this
    // directory, removed on close.
    artifactsDir: profile,
  });
  return {
    browser,
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** The console must be built (`npm run build`, which CI's `npm ci` runs through `prepare`). */
export function requireBuiltConsole(): void {
  if (!existsSync(join(consoleDir(), "index.html")))
    throw new Error(`the console is not built in ${consoleDir()}: run \`npm run build\` first`);
}

export interface Rebound {
  child: ChildProcess;
  http: string;
  smtpPort: number;
  banner: string;
  stop(): Promise<void>;
}

const cli = fileURLToPath(new URL("../helpers/rebound-cli.ts", import.meta.url));
const HTTP_LINE = /HTTP {2}(http:\/\/127\.0\.0\.1:\d+)/;
const SMTP_LINE = /SMTP {2}127\.0\.0\.1:(\d+)/;

/** `rebound start` (every role) with `env`, once its banner is printed. */
export async function startRebound(env: Record<string, string>): Promise<Rebound> {
  const child = spawn(process.execPath, ["--import", "tsx", cli, "start"], {
    cwd: fileURLToPath(new URL("../..", import.meta.url)),
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      PATH: process.env.PATH,
      REBOUND_HTTP_HOST: "127.0.0.1",
      REBOUND_HTTP_PORT: "0",
      REBOUND_SMTP_HOST: "127.0.0.1",
      REBOUND_SMTP_PORT: "0",
      REBOUND_LOG_LEVEL: "warn",
      ...env,
    },
  });
  const banner = await new Promise<string>((resolve, reject) => {
    let err = "";
    child.stderr!.on("data", (d: Buffer) => {
      err += d.toString();
      if (err.includes("Stop with Ctrl-C.")) resolve(err);
    });
    child.once("exit", (code) => reject(new Error(`rebound exited (${code}): ${err.slice(-2000)}`)));
  });
  const http = HTTP_LINE.exec(banner)?.[1];
  const smtp = SMTP_LINE.exec(banner)?.[1];
  if (!http || !smtp) throw new Error(`no ports in the banner:\n${banner}`);
  return {
    child,
    http,
    smtpPort: Number(smtp),
    banner,
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
}

const require = createRequire(import.meta.url);

let axeSource: string | undefined;

/** axe-core's violations rated serious or critical on the page as it is now. */
export async function seriousViolations(
  page: Page,
): Promise<{ id: string; impact: string; targets: string[] }[]> {
  axeSource ??= await readFile(require.resolve("axe-core/axe.min.js"), "utf8");
  const source = axeSource;
  // Evaluated through the DevTools protocol (not a <script>): the console's CSP stays as it is.
  await page.evaluate(source);
  const result = await page.evaluate(async () => {
    const axe = (
      globalThis as unknown as {
        axe: {
          run(
            o: unknown,
          ): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }>;
        };
      }
    ).axe;
    return axe.run({
      runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] },
    });
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({ id: v.id, impact: v.impact, targets: v.nodes.map((n) => n.target.join(" ")) }));
}

/** Whether a canvas has any drawn (non-transparent) pixel. */
export async function canvasDrawn(page: Page, selector: string): Promise<boolean> {
  return page.$eval(selector, (c) => {
    const canvas = c as unknown as {
      width: number;
      height: number;
      getContext(kind: "2d"): {
        getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray };
      };
    };
    const data = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i]! > 0) return true;
    return false;
  });
}

// What playwright-core lacks beside Playwright Test's `expect`: waiting until a locator shows what it should.
// A deadline passed throws with what was seen instead.

async function settle(
  what: string,
  read: () => Promise<unknown>,
  ok: (v: unknown) => boolean,
): Promise<void> {
  let last: unknown;
  try {
    await until(
      async () => {
        last = await read();
        return ok(last);
      },
      { ms: 15_000, everyMs: 50, what },
    );
  } catch {
    throw new Error(`${what}; last seen: ${JSON.stringify(last)}`);
  }
}

export async function hasText(loc: Locator, text: string, exact = false): Promise<void> {
  await settle(
    `${loc} to ${exact ? "have" : "contain"} the text ${JSON.stringify(text)}`,
    async () => ((await loc.count()) ? ((await loc.first().textContent()) ?? "").trim() : null),
    (v) => typeof v === "string" && (exact ? v === text : v.includes(text)),
  );
}

export async function hasAttr(loc: Locator, name: string, value: string): Promise<void> {
  await settle(
    `${loc} to have ${name}=${JSON.stringify(value)}`,
    async () => ((await loc.count()) ? loc.first().getAttribute(name) : null),
    (v) => v === value,
  );
}

export async function hasCount(loc: Locator, n: number): Promise<void> {
  await settle(
    `${loc} to match ${n} elements`,
    () => loc.count(),
    (v) => v === n,
  );
}
