// What every request goes through before a handler sees it, so that every answer is a 2xx or a 4xx by
// construction: control characters refused in the URL and in JSON bodies (PostgreSQL refuses NUL in text: a 500
// otherwise), query strings parsed into their declared types without ajv's coercion (bodies are never coerced),
// and unknown methods on known paths answered 405 with `Allow`.
import type { FastifyInstance, preValidationHookHandler, RouteOptions } from "fastify";
import { ApiError } from "./errors.js";

/** A percent-encoded C0 control, DEL or C1 control (UTF-8 `C2 80`-`C2 9F`) in a URL. */
const ENCODED_CONTROL = /%(?:[01][0-9a-f]|7f|c2%[89][0-9a-f])/i;
/** Control characters refused in any string of a JSON body (tab, line feed and carriage return are text). */
export const BODY_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]/;

/** The one message of a string refused for a control character. */
export function controlMessage(where: string): string {
  return `${where} has a control character (NUL, U+0001-U+001F but tab and line breaks, DEL or U+0080-U+009F), which Rebound never stores`;
}

interface KnownRoute {
  pattern: RegExp;
  methods: Set<string>;
}

type QueryType = "integer" | "number" | "boolean";
const INTEGER_TEXT = /^-?[0-9]{1,16}$/;
const NUMBER_TEXT = /^-?[0-9]{1,16}(?:\.[0-9]{1,16})?$/;

/** Install the checks. Call before any route is registered (the routes are learnt as they are added). */
export function installEdge(app: FastifyInstance): void {
  const routes = new Map<string, KnownRoute>();

  app.addHook("onRoute", (route: RouteOptions) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    let known = routes.get(route.url);
    if (!known) {
      known = { pattern: patternOf(route.url), methods: new Set() };
      routes.set(route.url, known);
    }
    for (const m of methods) known.methods.add(m);
    if (known.methods.has("GET")) known.methods.add("HEAD");
    // Every documented operation declares its error answers: the one shape, whatever the status.
    if (route.schema && !route.schema.hide) {
      const response = (route.schema.response ?? {}) as Record<string, unknown>;
      route.schema.response = { "4xx": { $ref: "Error#" }, "5xx": { $ref: "Error#" }, ...response };
    }
    // Typed query parameters and bodies are checked by a hook of the route's own: a lookup (a GET with text
    // parameters only) goes through no hook at all.
    const types = queryTypesOf(route.schema?.querystring);
    const body = methods.some((m) => m !== "GET" && m !== "HEAD");
    if (types.size === 0 && !body) return;
    const hook: preValidationHookHandler = (request, _reply, done) => {
      try {
        if (types.size) typeQuery(request.query as Record<string, unknown>, types);
        if (body) checkBody(request.body);
        done();
      } catch (err) {
        done(err as Error);
      }
    };
    const existing = route.preValidation;
    route.preValidation = existing ? [...(Array.isArray(existing) ? existing : [existing]), hook] : hook;
  });

  // The URL: a percent-encoded control character anywhere (path or query) is refused before anything else.
  app.addHook("onRequest", (request, _reply, done) => {
    if (request.url.includes("%") && ENCODED_CONTROL.test(request.url))
      done(new ApiError(400, "bad_request", controlMessage("the URL")));
    else done();
  });

  app.decorate("allowedMethods", (path: string): string[] => {
    const allowed = new Set<string>();
    for (const r of routes.values()) if (r.pattern.test(path)) for (const m of r.methods) allowed.add(m);
    return [...allowed].sort();
  });
}

declare module "fastify" {
  interface FastifyInstance {
    /** The methods some route answers on this path (empty: no route has it). */
    allowedMethods(path: string): string[];
  }
}

/** `/v1/webhooks/:id/deliveries` as an anchored expression; `*` (static files) matches the rest. */
function patternOf(url: string): RegExp {
  const parts = url.split("/").map((seg) => {
    if (seg.startsWith(":")) return "[^/]+";
    if (seg === "*") return ".*";
    return seg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  });
  return new RegExp(`^${parts.join("/")}$`);
}

/** The query parameters a schema declares integer, number or boolean. */
function queryTypesOf(schema: unknown): Map<string, QueryType> {
  const types = new Map<string, QueryType>();
  const props = (schema as { properties?: Record<string, { type?: unknown }> } | undefined)?.properties ?? {};
  for (const [name, p] of Object.entries(props))
    if (p.type === "integer" || p.type === "number" || p.type === "boolean") types.set(name, p.type);
  return types;
}

/**
 * Query values arrive as text: those declared integer, number or boolean are turned into their type here when
 * they are written plainly (`10`, `true`), and left as text otherwise, for the validation to refuse. A repeated
 * parameter (an array) is left for the validation too.
 */
function typeQuery(q: Record<string, unknown>, types: Map<string, QueryType>): void {
  for (const [name, type] of types) {
    const v = q[name];
    if (typeof v !== "string") continue;
    if (type === "boolean") {
      if (v === "true" || v === "false") q[name] = v === "true";
    } else if ((type === "integer" ? INTEGER_TEXT : NUMBER_TEXT).test(v)) q[name] = Number(v);
  }
}

function checkBody(body: unknown): void {
  if (body === null || typeof body !== "object" || isStream(body)) {
    if (typeof body === "string" && BODY_CONTROL.test(body)) throw refused("/");
    return;
  }
  const path = controlIn(body);
  if (path !== undefined) throw refused(path);
}

/**
 * Where a parsed JSON value has a control character in a string or a key (its JSON pointer), if anywhere.
 * Iterative: a deeply nested value costs no stack.
 */
export function controlIn(value: unknown): string | undefined {
  const stack: { v: unknown; path: string }[] = [{ v: value, path: "" }];
  while (stack.length) {
    const { v, path } = stack.pop()!;
    if (typeof v === "string") {
      if (BODY_CONTROL.test(v)) return path || "/";
    } else if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) stack.push({ v: v[i], path: `${path}/${i}` });
    } else if (v !== null && typeof v === "object") {
      for (const [k, x] of Object.entries(v)) {
        if (BODY_CONTROL.test(k)) return path || "/";
        stack.push({ v: x, path: `${path}/${k}` });
      }
    }
  }
  return undefined;
}

function isStream(v: object): boolean {
  return typeof (v as { pipe?: unknown }).pipe === "function";
}

function refused(path: string): ApiError {
  return new ApiError(400, "validation_failed", `the request is invalid: ${controlMessage(`body${path}`)}`, [
    { in: "body", path, message: controlMessage("the string") },
  ]);
}

/** The longest path parameter fastify routes: an address of 254 characters with every octet percent-encoded. */
export const MAX_PARAM_LENGTH = 1_024;
