// The first thing a new user does: `rebound start` with nothing configured (the embedded database), open the
// printed console URL, sign in with the printed key.
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  launchChromium,
  requireBuiltConsole,
  startRebound,
  type LaunchedBrowser,
  type Rebound,
} from "./browser.js";

let rebound: Rebound;
let chromium: LaunchedBrowser;

beforeAll(async () => {
  requireBuiltConsole();
  // Both at once; each is closed in afterAll whichever of them started.
  const [server, browser] = await Promise.allSettled([
    startRebound({ REBOUND_DATA_DIR: ":memory:" }),
    launchChromium(),
  ]);
  if (server.status === "fulfilled") rebound = server.value;
  if (browser.status === "fulfilled") chromium = browser.value;
  if (server.status === "rejected") throw server.reason;
  if (browser.status === "rejected") throw browser.reason;
}, 120_000);
afterAll(async () => {
  await chromium?.close();
  await rebound?.stop();
});

it("prints the console's URL and serves it from the embedded default, where the printed key signs in", async () => {
  const url = /Console {2}(http:\/\/\S+\/console)/.exec(rebound.banner)?.[1];
  expect(url).toBe(`${rebound.http}/console`);
  const token = /API key \(admin, tenant "default"\): (rbk_\S+)/.exec(rebound.banner)?.[1];
  expect(token).toBeDefined();

  const home = (await (await fetch(`${rebound.http}/`)).json()) as { console: string };
  expect((await fetch(rebound.http + home.console)).status).toBe(200);

  const context = await chromium.browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(url!);
  await page.getByLabel("API key").fill(token!);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.waitForFunction(() => performance.getEntriesByName("rebound:overview-render").length > 0);
  expect(await page.locator("h1").textContent()).toBe("Overview");
  await context.close();
});
