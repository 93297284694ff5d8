// Requests generated from the OpenAPI document: values that follow each operation's schemas, and hostile
// mutations of them (NUL and control characters, huge strings, wrong types, unknown fields, long path parameters,
// wrong content types, malformed JSON, unknown methods, no key). Pure: fast-check arbitraries, no I/O.
import fc from "fast-check";

export type Schema = Record<string, unknown>;

export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema> };
}

export interface Operation {
  parameters?: { in: string; name: string; required?: boolean; schema?: Schema }[];
  requestBody?: { content?: Record<string, { schema?: Schema }> };
  responses?: Record<string, { content?: Record<string, { schema?: Schema }> }>;
}

export interface FuzzRequest {
  /** The operation's method and path template, to find its answers in the document. */
  op: { method: string; path: string };
  method: string;
  /** The URL path and query, encoded. */
  url: string;
  headers: Record<string, string>;
  body?: string;
  /** What was done to it, for the report of a failure. */
  mutation: string;
}

const HOSTILE_STRINGS = [
  "a\u0000b",
  "\u0000",
  "x\u0001y@example.com",
  "a%00b@example.com",
  "tab\there",
  "line\nbreak@example.com",
  "\u007f",
  "\u0085next-line",
  "\u001b[31mred",
  "\ud800",
  "\udfff@example.com",
  "😀@example.com",
  "",
  " ",
  "a".repeat(5_000),
  "b".repeat(70_000),
  `${"c".repeat(300)}@example.com`,
  "<script>alert(1)</script>",
  "' or 1=1 --",
  "${jndi:ldap://x}",
  "../../etc/passwd",
  "*",
  "0",
  "-1",
  "1e309",
  "true",
  "null",
  "9999-12-31T23:59:60Z",
  "0000-00-00T00:00:00Z",
  "2026-02-30T00:00:00Z",
];
const HOSTILE_VALUES: unknown[] = [
  null,
  0,
  0.0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53,
  true,
  false,
  [],
  [null],
  {},
  { a: 1 },
  "a@b.c",
  [["nested"]],
];

const hostileString = fc.oneof(
  fc.constantFrom(...HOSTILE_STRINGS),
  fc
    .tuple(fc.string({ maxLength: 8 }), fc.integer({ min: 0, max: 0x9f }), fc.string({ maxLength: 8 }))
    .map(([a, c, b]) => `${a}${String.fromCharCode(c)}${b}`),
  fc.string({ unit: "binary", maxLength: 30 }),
);
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.constantFrom(...HOSTILE_VALUES),
  fc.jsonValue({ maxDepth: 3 }),
);

/** A value that follows a JSON schema (OpenAPI 3.0 flavour), bounded in size. */
export function valueOf(schema: Schema | undefined, doc: OpenApiDoc, depth = 0): fc.Arbitrary<unknown> {
  if (!schema) return fc.jsonValue({ maxDepth: 2 });
  if (typeof schema.$ref === "string") {
    const name = schema.$ref.split("/").pop()!;
    return valueOf(doc.components?.schemas?.[name], doc, depth);
  }
  if (Array.isArray(schema.enum)) return fc.constantFrom(...(schema.enum as unknown[]));
  if (Array.isArray(schema.anyOf) || Array.isArray(schema.oneOf))
    return fc.oneof(...((schema.anyOf ?? schema.oneOf) as Schema[]).map((s) => valueOf(s, doc, depth)));
  const types = Array.isArray(schema.type) ? (schema.type as string[]) : [schema.type as string | undefined];
  const arbs = types.map((t) => ofType(t, schema, doc, depth));
  if (schema.nullable === true) arbs.push(fc.constant(null));
  return arbs.length === 1 ? arbs[0]! : fc.oneof(...arbs);
}

function ofType(type: string | undefined, s: Schema, doc: OpenApiDoc, depth: number): fc.Arbitrary<unknown> {
  switch (type) {
    case "null":
      return fc.constant(null);
    case "boolean":
      return fc.boolean();
    case "integer":
      return fc.integer({
        min: typeof s.minimum === "number" ? s.minimum : -1_000_000,
        max: typeof s.maximum === "number" ? s.maximum : 1_000_000,
      });
    case "number":
      return fc.double({ noNaN: true, noDefaultInfinity: true });
    case "string":
      return stringOf(s);
    case "array": {
      const max = Math.min(typeof s.maxItems === "number" ? s.maxItems : 5, 5);
      const min = Math.min(typeof s.minItems === "number" ? s.minItems : 0, max);
      return fc.array(valueOf(s.items as Schema | undefined, doc, depth + 1), {
        minLength: min,
        maxLength: max,
      });
    }
    case "object": {
      const props = (s.properties ?? {}) as Record<string, Schema>;
      if (depth > 3 || Object.keys(props).length === 0) return fc.constant({});
      const required = (s.required ?? []) as string[];
      const shape: Record<string, fc.Arbitrary<unknown>> = {};
      for (const [k, v] of Object.entries(props)) shape[k] = valueOf(v, doc, depth + 1);
      return fc.record(shape, { requiredKeys: required.filter((k) => k in props) });
    }
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function stringOf(s: Schema): fc.Arbitrary<string> {
  const maxLength = Math.min(typeof s.maxLength === "number" ? s.maxLength : 40, 60);
  const minLength = Math.min(typeof s.minLength === "number" ? s.minLength : 0, maxLength);
  if (s.format === "date-time")
    return fc
      .date({
        min: new Date("1970-01-01T00:00:00Z"),
        max: new Date("2100-01-01T00:00:00Z"),
        noInvalidDate: true,
      })
      .map((d) => d.toISOString());
  // A pattern's own lengths (`{64}`) stand unless the schema bounds them: the default cap of 40 above would
  // filter out every string a longer pattern makes, and the generator would never return.
  if (typeof s.pattern === "string") {
    const max = typeof s.maxLength === "number" ? s.maxLength : Infinity;
    const min = typeof s.minLength === "number" ? s.minLength : 0;
    return fc.stringMatching(new RegExp(s.pattern)).filter((v) => v.length >= min && v.length <= max);
  }
  return fc.oneof(
    fc.string({ minLength, maxLength }),
    fc.emailAddress().filter((e) => e.length >= minLength && e.length <= maxLength),
    fc.constantFrom("marketing", "default", "*", "jane@example.org", "https://hooks.example.com/x"),
  );
}

type Parts = {
  path: Record<string, unknown>;
  query: Record<string, unknown>;
  body: unknown;
};

/** The requests of one operation: valid ones and mutated ones. */
export function requestsOf(
  doc: OpenApiDoc,
  method: string,
  path: string,
  op: Operation,
  token: string,
): fc.Arbitrary<FuzzRequest> {
  const params = op.parameters ?? [];
  const pathParams = params.filter((p) => p.in === "path");
  const queryParams = params.filter((p) => p.in === "query");
  const content = op.requestBody?.content ?? {};
  const jsonSchema = content["application/json"]?.schema;
  const bulk = "text/csv" in content || "application/x-ndjson" in content;

  const pathArb = fc.record(Object.fromEntries(pathParams.map((p) => [p.name, valueOf(p.schema, doc)])));
  const queryArb = fc.record(Object.fromEntries(queryParams.map((p) => [p.name, valueOf(p.schema, doc)])), {
    requiredKeys: queryParams.filter((p) => p.required).map((p) => p.name),
  });
  const bodyArb: fc.Arbitrary<unknown> = jsonSchema
    ? valueOf(jsonSchema, doc)
    : bulk
      ? bulkBody
      : fc.constant(undefined);
  const valid = fc.record({ path: pathArb, query: queryArb, body: bodyArb });

  type Mutator = fc.Arbitrary<(p: Parts) => { parts: Parts; note: string; extra?: Partial<FuzzRequest> }>;
  const mutators: Mutator[] = [fc.constant((p: Parts) => ({ parts: p, note: "valid" }))];
  for (const p of pathParams) {
    mutators.push(
      hostileString.map((v) => (x: Parts) => ({
        parts: { ...x, path: { ...x.path, [p.name]: v } },
        note: `path ${p.name} hostile`,
      })),
      fc.integer({ min: 90, max: 3_000 }).map((n) => (x: Parts) => ({
        parts: { ...x, path: { ...x.path, [p.name]: `${"l".repeat(n)}@example.com` } },
        note: `path ${p.name} of ${n + 12} characters`,
      })),
    );
  }
  for (const q of queryParams)
    mutators.push(
      hostileValue.map((v) => (x: Parts) => ({
        parts: { ...x, query: { ...x.query, [q.name]: v } },
        note: `query ${q.name} hostile`,
      })),
    );
  mutators.push(
    fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), hostileString).map(([k, v]) => (x: Parts) => ({
      parts: { ...x, query: { ...x.query, [k]: v } },
      note: `unknown query parameter ${k}`,
    })),
    fc.constant((x: Parts) => ({ parts: x, note: "no key", extra: { headers: {} } })),
    fc
      .constantFrom("PATCH", "PUT", "DELETE", "POST", "OPTIONS")
      .filter((m) => m !== method.toUpperCase())
      .map((m) => (x: Parts) => ({ parts: x, note: `method ${m}`, extra: { method: m } })),
  );
  if (jsonSchema) {
    mutators.push(
      hostileValue.map((v) => (x: Parts) => ({ parts: { ...x, body: v }, note: "whole body hostile" })),
      fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), hostileValue).map(([k, v]) => (x: Parts) => ({
        parts: { ...x, body: withField(x.body, k, v) },
        note: "field hostile",
      })),
      ...Object.keys((jsonSchema.properties ?? {}) as object).map((k) =>
        hostileValue.map((v) => (x: Parts) => ({
          parts: { ...x, body: withField(x.body, k, v) },
          note: `body ${k} hostile`,
        })),
      ),
      fc
        .constantFrom('{"a":', "{", "[1,]", "nul", '{"a":"\\u0000"}', "\u0000", "")
        .map((text) => (x: Parts) => ({
          parts: x,
          note: `malformed JSON ${JSON.stringify(text)}`,
          extra: { body: text },
        })),
      fc
        .constantFrom("text/plain", "application/x-www-form-urlencoded", "application/xml", "text/csv", "")
        .map((type) => (x: Parts) => ({
          parts: x,
          note: `content type ${JSON.stringify(type)}`,
          extra: { headers: { authorization: `Bearer ${token}`, "content-type": type } },
        })),
    );
  }
  if (bulk) {
    mutators.push(
      fc.constantFrom("application/json", "text/plain", "").map((type) => (x: Parts) => ({
        parts: x,
        note: `bulk content type ${JSON.stringify(type)}`,
        extra: { headers: { authorization: `Bearer ${token}`, "content-type": type } },
      })),
    );
  }

  return fc.tuple(valid, fc.oneof(...mutators)).map(([parts, mutate]) => {
    const m = mutate(parts);
    const bulkType = bulk ? (typeof m.parts.body === "object" ? "" : bulkTypeOf(m.parts.body)) : "";
    const body =
      m.extra?.body ??
      (m.parts.body === undefined
        ? undefined
        : bulk && typeof m.parts.body === "string"
          ? m.parts.body
          : JSON.stringify(m.parts.body));
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers["content-type"] = bulk && bulkType ? bulkType : "application/json";
    return {
      op: { method, path },
      method: (m.extra?.method ?? method).toUpperCase(),
      url: urlOf(path, m.parts.path, m.parts.query),
      headers: m.extra?.headers ?? headers,
      body: m.extra?.method === "OPTIONS" ? undefined : body,
      mutation: m.note,
    };
  });
}

/** CSV and NDJSON lists with good and bad records (NUL, control characters, unreadable lines). */
const bulkLine = fc.oneof(
  fc.emailAddress(),
  hostileString,
  fc.constantFrom("jane@example.org", "not-an-address", "a\u0000b@example.com"),
);
const bulkBody: fc.Arbitrary<string> = fc.oneof(
  fc.array(bulkLine, { maxLength: 8 }).map((ls) => `email,note\n${ls.map((l) => `${l},x`).join("\n")}\n`),
  fc
    .array(
      fc.oneof(
        bulkLine.map((l) => JSON.stringify({ email: l })),
        hostileString,
      ),
      { maxLength: 8 },
    )
    .map((ls) => `${ls.join("\n")}\n`),
);

function bulkTypeOf(body: unknown): string {
  return typeof body === "string" && body.startsWith("email,") ? "text/csv" : "application/x-ndjson";
}

function withField(body: unknown, k: string, v: unknown): unknown {
  return body !== null && typeof body === "object" && !Array.isArray(body) ? { ...body, [k]: v } : { [k]: v };
}

/** Percent-encode as a client would; a lone surrogate (which encodeURIComponent refuses) as invalid UTF-8. */
function encode(v: unknown): string {
  const s = typeof v === "string" ? v : JSON.stringify(v);
  try {
    return encodeURIComponent(s);
  } catch {
    return "%ED%A0%80";
  }
}

function urlOf(path: string, params: Record<string, unknown>, query: Record<string, unknown>): string {
  const p = path.replace(/\{([^}]+)\}/g, (_, name: string) => encode(params[name] ?? "x"));
  const q = Object.entries(query)
    .filter(([, v]) => v !== undefined)
    .flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x] as const) : [[k, v] as const]))
    .map(([k, v]) => `${encode(k)}=${encode(v)}`)
    .join("&");
  return q ? `${p}?${q}` : p;
}
