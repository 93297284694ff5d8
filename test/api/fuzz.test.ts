// The API under a fuzzer: requests generated from /v1/openapi.json (valid ones and hostile mutations), sent over
// HTTP to a real server on PostgreSQL with an admin key. Every answer must be a 2xx or a 4xx, valid against the
// schema the document declares for its status, and every error in the one error shape.
// Seeded and bounded (FUZZ_SEED, FUZZ_REQUESTS to run more locally).
import { rmSync } from "node:fs";
import { Ajv, type ValidateFunction } from "ajv";
import addFormatsModule from "ajv-formats";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestDb, type TestDb } from "../helpers/db.js";
import { espSettingsFile, sendgridSigner, snsSigner } from "../helpers/esp.js";
import { verpOverrides } from "./bounce-helper.js";
import { type FuzzRequest, type OpenApiDoc, requestsOf, type Schema } from "./fuzz/requests.js";
import { client, startTestApi, type Client, type TestApi } from "./helpers.js";

const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 1_500);
const SEED = Number(process.env.FUZZ_SEED ?? 20261207);
const CONCURRENCY = 4;

// ajv-formats is CommonJS: its default export is the plugin under ESM interop.
const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

let t: TestDb;
let api: TestApi;
let admin: Client;
let doc: OpenApiDoc;
let espDir: string | undefined;

beforeAll(async () => {
  t = await createTestDb();
  // ESP endpoints configured, so that the ingest routes are fuzzed past "not configured".
  const esp = espSettingsFile(
    {
      ses: [{ topicArns: ["arn:aws:sns:eu-west-1:123456789012:fuzz"], certificateFile: "$DIR/sns.pem" }],
      sendgrid: [{ publicKey: sendgridSigner().publicKey }],
      mailgun: [{ signingKey: "fuzz-signing-key" }],
      postmark: [{ user: "postmark", password: "fuzz-password-123" }],
    },
    { "sns.pem": snsSigner().certificatePem },
  );
  espDir = esp.dir;
  api = await startTestApi(t.db, {
    ...verpOverrides,
    apiBodyLimitBytes: 64 * 1024,
    espConfigPath: esp.path,
  } as typeof verpOverrides);
  admin = await client(t.db, api, "acme", ["read", "write", "admin"], 0);
  doc = (await (await fetch(`${api.url}/v1/openapi.json`)).json()) as OpenApiDoc;
});

afterAll(async () => {
  await api?.close();
  await t?.drop();
  if (espDir) rmSync(espDir, { recursive: true, force: true });
});

/** Validators of the document's answers, compiled once per schema. */
function validators(d: OpenApiDoc) {
  const ajv = new Ajv({ strict: false, allErrors: true, validateFormats: true });
  addFormats(ajv);
  const cache = new Map<Schema, ValidateFunction>();
  const compile = (s: Schema) => {
    let v = cache.get(s);
    if (!v) {
      // Local references (#/components/schemas/X) resolve against the document's components.
      v = ajv.compile({ ...s, components: d.components });
      cache.set(s, v);
    }
    return v;
  };
  const errorSchema = d.components!.schemas!.Error!;
  return { compile, error: compile(errorSchema) };
}

interface Failure {
  request: string;
  status: number;
  why: string;
  body: string;
}

async function check(
  req: FuzzRequest,
  v: ReturnType<typeof validators>,
): Promise<{ status: number; failure?: Failure }> {
  const res = await fetch(api.url + req.url, {
    method: req.method,
    headers: req.headers,
    body: req.body,
    redirect: "manual",
  });
  const text = await res.text();
  const fail = (why: string) => ({
    status: res.status,
    failure: {
      request: `${req.method} ${req.url.slice(0, 200)} [${req.mutation}] ${req.body?.slice(0, 200) ?? ""}`,
      status: res.status,
      why,
      body: text.slice(0, 300),
    },
  });
  if (res.status >= 500) return fail("a 5xx answer");
  const type = (res.headers.get("content-type") ?? "").split(";")[0]!.trim();
  const json = type === "application/json";
  let body: unknown;
  if (json && text !== "") {
    try {
      body = JSON.parse(text);
    } catch {
      return fail("a JSON answer that does not parse");
    }
  }
  if (res.status >= 400) {
    if (!json || !v.error(body))
      return fail(`an error not in the one shape: ${JSON.stringify(v.error.errors)}`);
    if (res.status === 405 && !res.headers.get("allow")) return fail("a 405 without Allow");
  }
  // The operation's declared answer for this status (a 405 is the path's answer for another method).
  const op = doc.paths[req.op.path]?.[req.op.method];
  const responses = op?.responses ?? {};
  const declared =
    responses[String(res.status)] ?? responses[`${String(res.status)[0]}XX`] ?? responses.default;
  if (!declared) return fail(`status ${res.status} is not declared by ${req.op.method} ${req.op.path}`);
  const content = declared.content ?? {};
  if (json && text !== "") {
    const schema = content["application/json"]?.schema;
    if (!schema)
      return fail(`a JSON answer where ${Object.keys(content).join(", ") || "no body"} is declared`);
    const validate = v.compile(schema);
    if (!validate(body))
      return fail(`the answer does not match its schema: ${JSON.stringify(validate.errors)}`);
  } else if (text !== "" && !(type in content)) {
    return fail(`a ${type} answer where ${Object.keys(content).join(", ") || "no body"} is declared`);
  }
  return { status: res.status };
}

describe("the API under a fuzzer", () => {
  it(
    `answers ${REQUESTS} generated and mutated requests with 2xx or 4xx, each valid against its schema, errors in one shape`,
    async () => {
      const v = validators(doc);
      const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
        Object.entries(methods)
          .filter(([m]) => ["get", "post", "put", "delete", "patch"].includes(m))
          .map(([method, op]) => requestsOf(doc, method, path, op, admin.token)),
      );
      expect(ops.length).toBeGreaterThan(15);
      const requests = fc.sample(fc.oneof(...ops), { seed: SEED, numRuns: REQUESTS });
      const failures: Failure[] = [];
      const statuses = new Map<number, number>();
      let next = 0;
      const lane = async () => {
        while (next < requests.length) {
          const r = requests[next++]!;
          const out = await check(r, v);
          statuses.set(out.status, (statuses.get(out.status) ?? 0) + 1);
          if (out.failure && failures.length < 20) failures.push(out.failure);
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, lane));
      const summary = [...statuses].sort(([a], [b]) => a - b);
      console.log(`fuzz: ${REQUESTS} requests, seed ${SEED}, statuses ${JSON.stringify(summary)}`);
      expect(failures, `seed ${SEED}`).toEqual([]);
      // Both kinds of answer are reached: the generator is not refused wholesale.
      expect(summary.some(([s]) => s < 300)).toBe(true);
      expect(summary.some(([s]) => s >= 400)).toBe(true);
    },
    Math.max(120_000, REQUESTS * 25),
  );
});
