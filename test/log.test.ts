// The logger censors tokens, secrets and raw mail by field name, wherever a log line carries them.
import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { CENSORED, createLogger } from "../src/log.js";

function capture() {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      lines.push(String(chunk));
      cb();
    },
  });
  return { logger: createLogger("info", sink), lines };
}

describe("log redaction", () => {
  it("writes no token, secret, authorization header or raw mail bytes, at any of three levels", () => {
    const { logger, lines } = capture();
    logger.info(
      {
        token: "rbk_topsecret1",
        secret: "whsec_topsecret2",
        raw: Buffer.from("Subject: private mail topsecret3"),
        req: { headers: { authorization: "Bearer rbk_topsecret4", host: "x" } },
        webhook: { id: "w1", secret: "topsecret5" },
        mail: { id: "m1", raw: "From: someone topsecret6" },
        config: {
          verpKeys: [{ id: "k1", secret: "topsecret7" }],
          databaseUrl: "postgres://u:topsecret8@h/db",
        },
      },
      "something happened",
    );
    logger.child({ role: "api" }).warn({ authorization: "Bearer topsecret9" }, "child");
    const text = lines.join("");
    expect(text).not.toContain("topsecret");
    const first = JSON.parse(lines[0]!);
    expect(first.token).toBe(CENSORED);
    expect(first.req.headers).toEqual({ authorization: CENSORED, host: "x" });
    expect(first.webhook).toEqual({ id: "w1", secret: CENSORED });
    expect(first.mail).toEqual({ id: "m1", raw: CENSORED });
    expect(JSON.parse(lines[1]!).authorization).toBe(CENSORED);
  });
});
