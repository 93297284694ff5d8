// Answers declare every field they always carry (docs/api.md, "Shapes"): for the routes below, each object in the
// declared 200 schema lists all its properties as `required`, and a real answer (with rows, so that the item
// schemas are exercised) is valid against that schema. A field a handler stops writing, or a schema that makes a
// field optional again (and so the generated client's type), fails here.
import { Ajv } from "ajv";
import addFormatsModule from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDmarcAggregate } from "../../src/core/dmarc.js";
import { parseTlsReport } from "../../src/core/tlsrpt.js";
import { saveAuthFailureReport } from "../../src/store/authentication.js";
import { saveDmarcReport } from "../../src/store/dmarc.js";
import { saveTlsReport } from "../../src/store/tls-reports.js";
import { googleXml, tlsReportJson } from "../helpers/aggregate-reports.js";
import { createTestDb, type TestDb } from "../helpers/db.js";
import type { Schema } from "./fuzz/requests.js";
import { client, enc, startTestApi, type Client, type TestApi } from "./helpers.js";

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
const AT = new Date("2026-12-02T09:00:00Z");
const PERIOD = "from=2026-12-01T00:00:00Z&to=2026-12-08T00:00:00Z";

let t: TestDb;
let api: TestApi;
let admin: Client;
let doc: {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: Schema }> }> }>
  >;
};

beforeAll(async () => {
  t = await createTestDb();
  api = await startTestApi(t.db);
  admin = await client(t.db, api, "acme", ["read", "write", "admin"], 0);
  doc = await (await fetch(`${api.url}/v1/openapi.json`)).json();
  await saveDmarcReport(t.db, {
    tenant: "acme",
    mailId: null,
    source: "dmarc.zip",
    receivedAt: AT,
    report: parseDmarcAggregate(googleXml()),
  });
  await saveTlsReport(t.db, {
    tenant: "acme",
    mailId: null,
    source: "tlsrpt.media-type",
    receivedAt: AT,
    report: parseTlsReport(tlsReportJson()),
  });
  await saveAuthFailureReport(t.db, {
    tenant: "acme",
    mailId: null,
    occurredAt: AT,
    domain: "shop.example.com",
    sourceIp: null,
    incidents: 1,
    reporter: "ruf@receiver.example",
    details: {},
    failure: "dkim",
  });
});
afterAll(async () => {
  await api?.close();
  await t?.drop();
});

/** Paths (JSON pointer-like) of object schemas that leave a property out of `required`. */
function optionalFields(s: Schema | undefined, at = ""): string[] {
  if (!s || typeof s !== "object") return [];
  const out: string[] = [];
  const o = s as Record<string, unknown>;
  if (o.properties && typeof o.properties === "object") {
    const required = new Set((o.required as string[] | undefined) ?? []);
    for (const [k, v] of Object.entries(o.properties as Record<string, Schema>)) {
      if (!required.has(k)) out.push(`${at}/${k}`);
      out.push(...optionalFields(v, `${at}/${k}`));
    }
  }
  if (o.items) out.push(...optionalFields(o.items as Schema, `${at}[]`));
  for (const k of ["anyOf", "oneOf"])
    if (Array.isArray(o[k]))
      (o[k] as Schema[]).forEach((b, i) => out.push(...optionalFields(b, `${at}|${i}`)));
  return out;
}

const cases: [string, string, () => Promise<Response>][] = [
  ["get", "/healthz", () => fetch(`${api.url}/healthz`)],
  ["get", "/readyz", () => fetch(`${api.url}/readyz`)],
  ["get", "/", () => fetch(`${api.url}/`)],
  [
    "delete",
    "/v1/suppressions/{address}",
    async () => {
      await admin.send("PUT", `/v1/suppressions/${enc("gone@example.com")}`, {});
      return admin.send("DELETE", `/v1/suppressions/${enc("gone@example.com")}?note=test`);
    },
  ],
  [
    "post",
    "/v1/suppressions/import",
    () =>
      admin.send("POST", "/v1/suppressions/import", "email\nkept@example.com\nnot-an-address\n", {
        "content-type": "text/csv",
      }),
  ],
  [
    "post",
    "/v1/deliveries",
    () =>
      admin.send("POST", "/v1/deliveries", {
        deliveries: [{ recipient: "ok@example.com", stream: "news" }, { recipient: "no at sign" }],
      }),
  ],
  [
    "delete",
    "/v1/addresses/{address}",
    () => admin.send("DELETE", `/v1/addresses/${enc("kept@example.com")}`),
  ],
  ["get", "/v1/dmarc", () => admin.get("/v1/dmarc")],
  ["get", "/v1/dmarc/aggregates", () => admin.get("/v1/dmarc/aggregates")],
  ["get", "/v1/dmarc/reports", () => admin.get("/v1/dmarc/reports")],
  ["get", "/v1/tls-reports", () => admin.get("/v1/tls-reports")],
  ["get", "/v1/authentication", () => admin.get(`/v1/authentication?${PERIOD}`)],
];

describe("answers that declare every field they carry", () => {
  it.each(cases)(
    "%s %s: every field of the 200 schema is required, and a real answer is valid against it",
    async (method, path, call) => {
      const schema = doc.paths[path]![method]!.responses["200"]!.content!["application/json"]!.schema;
      expect(optionalFields(schema)).toEqual([]);
      const res = await call();
      expect(res.status).toBe(200);
      const body = await res.json();
      const ajv = new Ajv({ strict: false, allErrors: true });
      addFormats(ajv);
      const validate = ajv.compile(schema);
      expect(validate(body), JSON.stringify(validate.errors)).toBe(true);
      // The lists hold rows, so that their items' schemas were checked too.
      for (const list of ["data", "results", "errors"])
        if (Array.isArray(body[list])) expect(body[list].length, list).toBeGreaterThan(0);
    },
  );

  it("deliveries: a recorded row and a refused row each carry their own fields (ok decides which)", async () => {
    const res = await admin.send("POST", "/v1/deliveries", {
      deliveries: [{ recipient: "two@example.com" }, { recipient: "two at example.com" }],
    });
    const body = await res.json();
    expect(body.results[0]).toEqual({
      index: 0,
      ok: true,
      recipient: "two@example.com",
      stream: expect.any(String),
      eventId: expect.any(String),
      action: expect.any(String),
    });
    expect(body.results[1]).toEqual({
      index: 1,
      ok: false,
      error: { code: "invalid_address", message: expect.any(String) },
    });
  });
});
