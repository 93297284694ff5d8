// Feed a real bounce through the worker for an address, with a return path minted over the API (POST /v1/verp).
import { testHash } from "../helpers/db.js";
import { randomUUID } from "node:crypto";
import { expect } from "vitest";
import { loadConfig, type Config } from "../../src/config.js";
import { DEFAULT_POLICY } from "../../src/core/policy-config.js";
import { createLogger } from "../../src/log.js";
import type { Db } from "../../src/store/db.js";
import { insertMail } from "../../src/store/mails.js";
import { processMail } from "../../src/worker/process-mail.js";
import { fixture, sha256, type Fixture } from "../worker/mail-fixtures.js";
import type { Client } from "./helpers.js";
import { testClassifier } from "../helpers/classifier.js";

/** Configuration overrides in their environment form (loadConfig parses them). */
export const VERP_ENV = {
  verpKeys: "k1:an-api-test-verp-secret-0123",
  domains: "bounces.example.net,fbl.example.net",
};
export const verpConfig: Config = loadConfig(VERP_ENV, {});
/** For startTestApi, which takes Partial<Config> but parses like loadConfig. */
export const verpOverrides = VERP_ENV as unknown as Partial<Config>;

export async function bounceThroughWorker(
  db: Db,
  c: Client,
  what: Fixture,
  recipient: string,
  stream: string,
  now: Date = new Date(),
): Promise<string> {
  const res = await c.send("POST", "/v1/verp", { recipient, stream });
  expect(res.status).toBe(200);
  const { returnPath } = await res.json();
  const id = randomUUID();
  const raw = fixture(what, { recipient, returnPath });
  await insertMail(db, {
    id,
    mailFrom: "",
    rcptTo: [returnPath],
    raw,
    sha256: sha256(raw),
    receivedAt: now,
  });
  const out = await processMail(
    {
      db,
      config: verpConfig,
      policy: DEFAULT_POLICY,
      hashAddress: testHash,
      logger: createLogger("silent"),
      now: () => now,
      classifier: testClassifier(),
    },
    id,
  );
  expect(out.status).toBe("processed");
  return id;
}
