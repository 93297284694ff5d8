import { expect, it } from "vitest";
import * as rebound from "../src/index.js";

it("exports the pure core as a library: classify, the vocabularies, addresses and VERP", () => {
  const report = rebound.classify("From: a@b.example\r\nSubject: hello\r\n\r\nhi\r\n");
  expect(report.kind).toBe("not_a_report");
  expect(rebound.REASONS).toContain("userunknown");
  expect(rebound.normalizeAddress(" <Jane@Example.COM> ")).toMatchObject({
    ok: true,
    address: "jane@example.com",
  });
  const keys = [{ id: "k1", secret: "0123456789abcdef0123" }];
  const rp = rebound.encodeVerp(
    { recipient: "jane@example.com", stream: "news" },
    keys,
    "bounces.example.net",
  );
  expect(rebound.decodeVerp(rp, keys)).toMatchObject({
    ok: true,
    recipient: "jane@example.com",
    stream: "news",
  });
});
