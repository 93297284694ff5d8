// The REBOUND_ALERTS file: rules over the shipped defaults, routes to teams, delivery settings. Pure: the file is
// read by src/alerts/file.ts. A mistake is refused with the path and line of the offending key, and the nearest
// known name when the key is misspelled.
import { z } from "zod";
import { jsonErrorOffset } from "./json-offset.js";
import { DEFAULT_RULES, type AlertRule } from "./rules.js";
import {
  CHANNELS,
  DEFAULT_NOTICES,
  METRICS,
  NOTICES,
  RULE_KINDS,
  SEVERITIES,
  type Channel,
  type Notice,
  type Severity,
} from "./types.js";

const levels = z
  .object({ warning: z.number().positive(), critical: z.number().positive(), pause: z.number().positive() })
  .partial()
  .strict();
const scopeValue = z.string().min(1).max(200);
const scope = z
  .object({
    stream: scopeValue,
    provider: scopeValue,
    campaign: scopeValue,
    sendingIp: scopeValue,
    sendingDomain: scopeValue,
  })
  .partial()
  .strict();
const name = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, "lower-case letters, digits, . _ - (at most 63)");

/** A rule in the file: every field over the default of the same id, or all of a new rule's fields. */
const ruleFields = z
  .object({
    kind: z.enum(RULE_KINDS),
    metric: z.enum(METRICS).nullable(),
    scope,
    windowMinutes: z.number().int().min(1).max(43_200),
    minVolume: z.number().int().min(0),
    levels,
    resolveBelow: z.number().min(0).nullable(),
    teams: z.array(name).max(20),
    description: z.string().max(500),
    source: z.string().max(500),
    example: z.string().max(500),
    baselineDays: z.number().int().min(1).max(90).nullable(),
    blocklists: z.array(z.string().min(2).max(100)).max(200).nullable(),
    statuses: z
      .array(z.string().regex(/^[245]\.\d{1,3}\.\d{1,3}$/, "an enhanced status code such as 5.7.26"))
      .nullable(),
    enabled: z.boolean(),
  })
  .partial()
  .strict();

const route = z
  .object({
    id: name,
    channel: z.enum(CHANNELS),
    /** The teams whose incidents this route hears. */
    teams: z.array(name).min(1),
    /** The severities it hears (default: all). */
    severities: z
      .array(z.enum(SEVERITIES))
      .min(1)
      .default([...SEVERITIES]),
    /** What it hears of an incident (default: opened, escalated, acknowledged, resolved; `updated` on request). */
    notices: z
      .array(z.enum(NOTICES))
      .min(1)
      .default([...DEFAULT_NOTICES]),
    /** Only these tenants' incidents (default: every tenant's). */
    tenants: z.array(z.string().min(1)).optional(),
    /** An escalation route: hears a critical (or pause) incident left unacknowledged this many minutes. */
    escalateAfterMinutes: z.number().int().min(1).optional(),
    /** webhook, slack, pagerduty: where to POST (pagerduty: default Events API v2). */
    url: z.url({ protocol: /^https?$/ }).optional(),
    /** webhook: the signing secret (Rebound-Signature, as tenants' webhooks). */
    secret: z.string().min(16).optional(),
    /** email: the recipients. */
    to: z.array(z.email()).min(1).optional(),
    /** pagerduty: the integration's routing key. */
    routingKey: z.string().min(1).optional(),
  })
  .strict()
  .superRefine((r, ctx) => {
    const need: Record<Channel, string[]> = {
      webhook: ["url", "secret"],
      slack: ["url"],
      email: ["to"],
      pagerduty: ["routingKey"],
    };
    for (const field of need[r.channel])
      if (r[field as keyof typeof r] === undefined)
        ctx.addIssue({ code: "custom", path: [field], message: `a ${r.channel} route needs "${field}"` });
  });

const fileSchema = z
  .object({
    /** Rules by id: fields over the default of that id, `false` to turn a default off, or a new rule. */
    rules: z.record(name, z.union([z.literal(false), ruleFields])).default({}),
    routes: z.array(route).default([]),
    /**
     * Deprecated: the SMTP relay e-mail routes go through is REBOUND_MAIL_RELAY_URL (and REBOUND_MAIL_FROM), the
     * one relay of everything Rebound mails. Still read for one release when those are unset.
     */
    email: z
      .object({ smtpUrl: z.url({ protocol: /^smtps?$/ }), from: z.email() })
      .strict()
      .optional(),
    /** How often the worker evaluates the rules. */
    evaluateEverySeconds: z.number().int().min(5).max(3600).default(60),
    /** Whether a stream paused by a rule resumes when its incident resolves (by the rule or by hand). */
    resumeOnResolve: z.boolean().default(true),
    delivery: z
      .object({
        maxAttempts: z.number().int().min(1).max(50).default(8),
        backoffSeconds: z.number().int().min(1).max(3600).default(30),
        timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type RouteConfig = z.infer<typeof route>;

/** The SMTP relay of everything Rebound mails (REBOUND_MAIL_RELAY_URL, REBOUND_MAIL_FROM). */
export interface MailRelay {
  smtpUrl: string;
  from: string;
}

export interface AlertsConfig {
  rules: AlertRule[];
  routes: RouteConfig[];
  /** The relay e-mail routes go through: the configuration's, else the file's deprecated `email`. */
  email: MailRelay | undefined;
  /** What to warn of at start (the deprecated `email` of the file). */
  warnings: string[];
  evaluateEverySeconds: number;
  resumeOnResolve: boolean;
  delivery: { maxAttempts: number; backoffSeconds: number; timeoutMs: number };
}

export class AlertsConfigError extends Error {}

export const DEFAULT_ALERTS: AlertsConfig = buildConfig(fileSchema.parse({}));

/**
 * The alerts file's text (JSON) to its configuration; AlertsConfigError naming line, path and fix. `relay`: the
 * configuration's SMTP relay (REBOUND_MAIL_RELAY_URL), which e-mail routes go through.
 */
export function parseAlertsConfig(text: string, source: string, relay?: MailRelay): AlertsConfig {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    const msg = (err as Error).message;
    const at = jsonErrorOffset(text);
    const where = at >= 0 ? ` (line ${lineOf(text, at)})` : "";
    throw new AlertsConfigError(`${source} is not valid JSON${where}: ${msg}`);
  }
  const parsed = fileSchema.safeParse(json);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => describeIssue(i, text));
    throw new AlertsConfigError(`invalid ${source}:\n  ${lines.join("\n  ")}`);
  }
  const config = withRelay(buildConfig(parsed.data), relay, source);
  const problems = checkRules(config, parsed.data.rules);
  if (problems.length) throw new AlertsConfigError(`invalid ${source}:\n  ${problems.join("\n  ")}`);
  return config;
}

/**
 * The relay e-mail routes use: the configuration's; else the file's `email`, deprecated (a warning). Both: the
 * configuration's wins.
 */
export function withRelay(c: AlertsConfig, relay: MailRelay | undefined, source: string): AlertsConfig {
  const warnings = [...c.warnings];
  if (c.email)
    warnings.push(
      relay
        ? `${source}: "email" is deprecated and ignored: REBOUND_MAIL_RELAY_URL is set and wins; remove it`
        : `${source}: "email" is deprecated: set REBOUND_MAIL_RELAY_URL and REBOUND_MAIL_FROM instead (the one relay of everything Rebound mails); it is read for one more release`,
    );
  return { ...c, email: relay ?? c.email, warnings };
}

function buildConfig(f: z.infer<typeof fileSchema>): AlertsConfig {
  const rules: AlertRule[] = [];
  for (const d of DEFAULT_RULES) {
    const o = f.rules[d.id];
    if (o === false || o?.enabled === false) continue;
    rules.push(o ? merge(d, o) : d);
  }
  for (const [id, o] of Object.entries(f.rules)) {
    if (o === false || o.enabled === false || DEFAULT_RULES.some((d) => d.id === id)) continue;
    rules.push(
      merge(
        {
          id,
          kind: o.kind ?? "rate",
          metric: null,
          scope: {},
          windowMinutes: 60,
          minVolume: 0,
          levels: {},
          resolveBelow: null,
          teams: [],
          description: "",
          source: "",
          example: "",
          baselineDays: null,
          blocklists: null,
          statuses: null,
        },
        o,
      ),
    );
  }
  return {
    rules,
    routes: f.routes,
    email: f.email,
    warnings: [],
    evaluateEverySeconds: f.evaluateEverySeconds,
    resumeOnResolve: f.resumeOnResolve,
    delivery: f.delivery,
  };
}

function merge(d: AlertRule, o: z.infer<typeof ruleFields>): AlertRule {
  const { enabled: _enabled, ...fields } = o;
  return {
    ...d,
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    levels: o.levels ? { ...o.levels } : d.levels,
    scope: o.scope ? { ...o.scope } : d.scope,
  } as AlertRule;
}

/** What the schema cannot say of a whole rule: a new rule's required fields, levels that make sense. */
function checkRules(c: AlertsConfig, given: Record<string, unknown>): string[] {
  const out: string[] = [];
  for (const r of c.rules) {
    const at = `rules.${r.id}`;
    const isNew = !DEFAULT_RULES.some((d) => d.id === r.id);
    if (isNew && !(given[r.id] as { kind?: unknown }).kind) {
      const near = closest(
        r.id,
        DEFAULT_RULES.map((d) => d.id),
      );
      out.push(`${at}.kind: a new rule needs a kind${near ? ` (did you mean the default "${near}"?)` : ""}`);
      continue;
    }
    if ((r.kind === "rate" || r.kind === "spike") && r.metric === null)
      out.push(`${at}.metric: a ${r.kind} rule needs a metric (${METRICS.join(", ")})`);
    if (r.kind === "spike" && r.baselineDays === null) out.push(`${at}.baselineDays: a spike rule needs one`);
    if ((r.kind === "rate" || r.kind === "spike") && r.scope.sendingDomain !== undefined)
      out.push(
        `${at}.scope.sendingDomain: a ${r.kind} rule reads the rollups, which have no sending domain ` +
          "(blocklist and authentication rules can scope by it)",
      );
    if (r.kind === "dmarc") {
      for (const f of ["stream", "provider", "campaign"] as const)
        if (r.scope[f] !== undefined)
          out.push(
            `${at}.scope.${f}: a dmarc rule reads the receivers' aggregate reports, which name no ${f} ` +
              "(it can scope by sendingDomain and sendingIp)",
          );
      if (Object.values(r.levels).some((v) => v > 1))
        out.push(`${at}.levels: a dmarc rule's levels are fractions of the messages reported (0.1 = 10%)`);
    }
    if (r.kind === "blocklist" && !r.blocklists?.length)
      out.push(`${at}.blocklists: a blocklist rule needs names`);
    if (Object.keys(r.levels).length === 0)
      out.push(`${at}.levels: at least one of ${SEVERITIES.join(", ")}`);
    const ordered = SEVERITIES.map((s) => r.levels[s]).filter((v): v is number => v !== undefined);
    if (ordered.some((v, i) => i > 0 && v < ordered[i - 1]!))
      out.push(`${at}.levels: warning <= critical <= pause`);
    if (r.resolveBelow !== null && ordered.length && r.resolveBelow > ordered[0]!)
      out.push(`${at}.resolveBelow: above its lowest level (${ordered[0]}): it would never stay open`);
    if (r.teams.length === 0) out.push(`${at}.teams: name at least one team (routes choose by team)`);
  }
  for (const r of c.routes) {
    if (r.channel === "email" && !c.email)
      out.push(
        `routes.${r.id}: an email route needs an SMTP relay: set REBOUND_MAIL_RELAY_URL (and REBOUND_MAIL_FROM)`,
      );
  }
  const ids = c.routes.map((r) => r.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup) out.push(`routes: the id "${dup}" is used twice`);
  return out;
}

type Issue = z.core.$ZodIssue;

function describeIssue(i: Issue, text: string): string {
  const path = i.path.map(String);
  if (i.code === "unrecognized_keys") {
    return i.keys
      .map((k) => {
        const at = [...path, k].join(".");
        const near = closest(k, knownKeys(path));
        return `${at}${lineHint(text, k)}: no such field${near ? ` (did you mean ${near}?)` : ""}`;
      })
      .join("\n  ");
  }
  const last = path[path.length - 1];
  const hint = last !== undefined && !/^\d+$/.test(last) ? lineHint(text, last) : "";
  return `${path.join(".") || "(root)"}${hint}: ${i.message}`;
}

/** The names allowed where an unknown key was found. */
function knownKeys(path: string[]): string[] {
  if (path.length === 0) return Object.keys(fileSchema.shape);
  if (path[0] === "rules" && path.length === 2) return Object.keys(ruleFields.shape);
  if (path[0] === "rules" && path[2] === "levels") return [...SEVERITIES];
  if (path[0] === "rules" && path[2] === "scope")
    return ["stream", "provider", "campaign", "sendingIp", "sendingDomain"];
  if (path[0] === "routes")
    return [
      "id",
      "channel",
      "teams",
      "severities",
      "notices",
      "tenants",
      "escalateAfterMinutes",
      "url",
      "secret",
      "to",
      "routingKey",
    ];
  if (path[0] === "email") return ["smtpUrl", "from"];
  if (path[0] === "delivery") return ["maxAttempts", "backoffSeconds", "timeoutMs"];
  return [];
}

/** " (line N)" of the first `"key"` in the text, or "". */
function lineHint(text: string, key: string): string {
  const at = text.indexOf(JSON.stringify(key));
  return at < 0 ? "" : ` (line ${lineOf(text, at)})`;
}

function lineOf(text: string, pos: number): number {
  let n = 1;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) n++;
  return n;
}

function closest(word: string, names: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Infinity;
  for (const n of names) {
    const d = editDistance(word.toLowerCase(), n.toLowerCase());
    if (d < bestD) [best, bestD] = [n, d];
  }
  return bestD <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  if (a.length > 100 || b.length > 100) return Infinity;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

export type { Notice, Severity };
