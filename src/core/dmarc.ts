// DMARC aggregate reports: the XML of RFC 7489 (appendix C) and of its successor, RFC 9990 (DMARCbis aggregate
// reporting: namespace urn:ietf:params:xml:ns:dmarc-2.0, `np`, `testing` and `discovery_method` in the policy,
// `generator` in the metadata, no `pct`), read into one shape. Pure and bounded: the XML's size, nesting and
// record count are capped before or while it is parsed, and a report missing what identifies it (organisation,
// report id, date range) is refused with the reason.
import { createRequire } from "node:module";
import { isIP } from "node:net";
import type { XMLParser } from "fast-xml-parser";

export const DMARC_SCHEMAS = ["rfc7489", "rfc9990"] as const;
export type DmarcSchema = (typeof DMARC_SCHEMAS)[number];

/** The DMARC-aligned result of a record (policy_evaluated dkim / spf). */
export const DMARC_RESULTS = ["pass", "fail"] as const;
export type DmarcResult = (typeof DMARC_RESULTS)[number];

export interface DmarcPolicy {
  domain: string;
  p: string | null;
  sp: string | null;
  /** RFC 9990: the policy for non-existent subdomains. */
  np: string | null;
  adkim: string | null;
  aspf: string | null;
  /** RFC 7489 only (RFC 9990 replaced it by `testing`). */
  pct: number | null;
  fo: string | null;
  /** RFC 9990: `y` when the policy was in test mode (t=y). */
  testing: string | null;
  /** RFC 9990: how the policy was found, `psl` or `treewalk`. */
  discoveryMethod: string | null;
}

export interface DmarcRecord {
  sourceIp: string;
  count: number;
  disposition: string | null;
  /** The DMARC-aligned DKIM result, null when the report does not say. */
  dkim: DmarcResult | null;
  spf: DmarcResult | null;
  reasons: { type: string; comment: string | null }[];
  headerFrom: string;
  envelopeFrom: string | null;
  envelopeTo: string | null;
  dkimResults: { domain: string; selector: string | null; result: string }[];
  spfResults: { domain: string; scope: string | null; result: string }[];
}

export interface DmarcAggregate {
  schema: DmarcSchema;
  orgName: string;
  email: string | null;
  reportId: string;
  /** The date range the report covers, ISO times. */
  begin: string;
  end: string;
  /** RFC 9990: the software that made the report. */
  generator: string | null;
  errors: string[];
  policy: DmarcPolicy;
  records: DmarcRecord[];
}

export interface DmarcLimits {
  /** Most characters of XML parsed. */
  maxXmlChars: number;
  /** Most records a report may have. */
  maxRecords: number;
  /** Deepest nesting of elements. */
  maxDepth: number;
}

export const DMARC_LIMITS: DmarcLimits = { maxXmlChars: 16 * 1024 * 1024, maxRecords: 100_000, maxDepth: 16 };

export class DmarcError extends Error {
  constructor(
    readonly code: "too_large" | "bad_report",
    message: string,
  ) {
    super(message);
    this.name = "DmarcError";
  }
}

/**
 * fast-xml-parser, loaded when the first report is parsed, from its CommonJS build (one bundled file): its ES
 * module build is some forty files that took 40 ms of CPU to load, in every thread that loads the classifier
 * (each of `rebound classify`'s), for the few mails that are DMARC reports. Same package, same version.
 */
let fxp: typeof import("fast-xml-parser") | undefined;
const loadCjs = createRequire(import.meta.url);

/**
 * The parser: attributes ignored (the namespace is read off the text), values kept as strings, and no entity
 * processing at all, so that a DOCTYPE's entities are never expanded; the five predefined entities and character
 * references are decoded in the values the report uses (str()). Lists are normalised by arr(), not by the parser
 * (its per-tag callback cost more than the parse).
 */
function parser(limits: DmarcLimits): XMLParser {
  fxp ??= loadCjs("fast-xml-parser") as typeof import("fast-xml-parser");
  return new fxp.XMLParser({
    ignoreAttributes: true,
    removeNSPrefix: true,
    parseTagValue: false,
    trimValues: true,
    processEntities: false,
    jPath: false,
    maxNestedTags: limits.maxDepth,
  });
}

type Node = Record<string, unknown>;

/** RFC 9990's namespace on the root element. */
const RFC9990_NAMESPACE = /<(?:[\w-]{1,20}:)?feedback\s[^>]{0,1000}urn:ietf:params:xml:ns:dmarc-2\.0/;

/** Is this text a DMARC aggregate report (a `feedback` root with report metadata), by a cheap look? */
export function looksLikeDmarcXml(text: string): boolean {
  const head = text.slice(0, 4096);
  return (
    /<(?:[\w-]{1,20}:)?feedback[\s>]/.test(head) &&
    /<(?:[\w-]{1,20}:)?report_metadata[\s>]/.test(text.slice(0, 65536))
  );
}

/** Parse a DMARC aggregate report's XML. Throws DmarcError with the reason. */
export function parseDmarcAggregate(xml: string, limits: DmarcLimits = DMARC_LIMITS): DmarcAggregate {
  if (xml.length > limits.maxXmlChars)
    throw new DmarcError(
      "too_large",
      `the report's XML has more than ${limits.maxXmlChars} characters: refused`,
    );
  let doc: Node;
  try {
    doc = parser(limits).parse(xml) as Node;
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (/nested tags/i.test(message))
      throw new DmarcError(
        "too_large",
        `the report's XML nests deeper than ${limits.maxDepth} elements: refused`,
      );
    throw new DmarcError("bad_report", `not well-formed XML: ${message}`);
  }
  const feedback = obj(doc["feedback"]);
  if (!feedback) throw new DmarcError("bad_report", "not a DMARC aggregate report: no <feedback> root");
  const meta = obj(feedback["report_metadata"]);
  if (!meta) throw new DmarcError("bad_report", "no <report_metadata>");
  const orgName = str(meta["org_name"]);
  const reportId = str(meta["report_id"]);
  const range = obj(meta["date_range"]);
  const begin = epoch(range?.["begin"]);
  const end = epoch(range?.["end"]);
  if (!orgName || !reportId)
    throw new DmarcError("bad_report", "no <org_name> or <report_id> in the report metadata");
  if (!begin || !end) throw new DmarcError("bad_report", "no valid <date_range> in the report metadata");
  const pp = obj(feedback["policy_published"]) ?? {};
  const records = arr(feedback["record"]);
  if (records.length > limits.maxRecords)
    throw new DmarcError(
      "too_large",
      `the report has ${records.length} records, more than ${limits.maxRecords}: refused`,
    );
  const schema: DmarcSchema =
    RFC9990_NAMESPACE.test(xml.slice(0, 4096)) ||
    pp["np"] !== undefined ||
    pp["testing"] !== undefined ||
    pp["discovery_method"] !== undefined ||
    meta["generator"] !== undefined
      ? "rfc9990"
      : "rfc7489";
  const pct = Number(str(pp["pct"]));
  return {
    schema,
    orgName: orgName.slice(0, 255),
    email: cut(str(meta["email"])),
    reportId: reportId.slice(0, 255),
    begin,
    end,
    generator: cut(str(meta["generator"])),
    errors: arr(meta["error"])
      .map(str)
      .filter((e): e is string => !!e)
      .slice(0, 20)
      .map((e) => cut(e, 1000)!),
    policy: {
      domain: lower(str(pp["domain"])) ?? "",
      p: lower(str(pp["p"])),
      sp: lower(str(pp["sp"])),
      np: lower(str(pp["np"])),
      adkim: lower(str(pp["adkim"])),
      aspf: lower(str(pp["aspf"])),
      pct: str(pp["pct"]) !== null && Number.isInteger(pct) ? pct : null,
      fo: cut(str(pp["fo"])),
      testing: lower(str(pp["testing"])),
      discoveryMethod: lower(str(pp["discovery_method"])),
    },
    records: records.map((r, i) => record(obj(r), i)),
  };
}

function record(r: Node | undefined, i: number): DmarcRecord {
  const row = obj(r?.["row"]);
  const ids = obj(r?.["identifiers"]);
  const auth = obj(r?.["auth_results"]);
  const pe = obj(row?.["policy_evaluated"]);
  const sourceIp = str(row?.["source_ip"])?.toLowerCase();
  if (!sourceIp || !isIP(sourceIp))
    throw new DmarcError("bad_report", `record ${i + 1}: no valid <source_ip>`);
  const count = Number(str(row?.["count"]));
  if (!Number.isSafeInteger(count) || count < 0)
    throw new DmarcError("bad_report", `record ${i + 1}: <count> is not a whole number`);
  return {
    sourceIp,
    count,
    disposition: lower(str(pe?.["disposition"])),
    dkim: result(pe?.["dkim"]),
    spf: result(pe?.["spf"]),
    reasons: arr(pe?.["reason"])
      .slice(0, 10)
      .map((x) => ({
        type: lower(str(obj(x)?.["type"])) ?? "other",
        comment: cut(str(obj(x)?.["comment"])),
      })),
    headerFrom: lower(str(ids?.["header_from"])) ?? "",
    envelopeFrom: lower(str(ids?.["envelope_from"])),
    envelopeTo: lower(str(ids?.["envelope_to"])),
    dkimResults: arr(auth?.["dkim"])
      .slice(0, 20)
      .map((x) => ({
        domain: lower(str(obj(x)?.["domain"])) ?? "",
        selector: cut(str(obj(x)?.["selector"])),
        result: lower(str(obj(x)?.["result"])) ?? "none",
      })),
    spfResults: arr(auth?.["spf"])
      .slice(0, 20)
      .map((x) => ({
        domain: lower(str(obj(x)?.["domain"])) ?? "",
        scope: lower(str(obj(x)?.["scope"])),
        result: lower(str(obj(x)?.["result"])) ?? "none",
      })),
  };
}

function obj(v: unknown): Node | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Node) : undefined;
}

function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : v === undefined || v === null || v === "" ? [] : [v];
}

function str(v: unknown): string | null {
  if (typeof v === "string") return decodeEntities(v.trim()) || null;
  if (typeof v === "number") return String(v);
  const text = obj(v)?.["#text"];
  return typeof text === "string" ? decodeEntities(text.trim()) || null : null;
}

const PREDEFINED: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };

/** XML's five predefined entities and character references; any other `&name;` is left as written. */
function decodeEntities(s: string): string {
  if (!s.includes("&")) return s;
  return s.replace(/&(#x[\da-f]{1,6}|#\d{1,7}|[a-z]{2,4});/gi, (all, ref: string) => {
    if (ref[0] !== "#") return PREDEFINED[ref] ?? all;
    const code = ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : Number(ref.slice(1));
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : all;
  });
}

function cut(v: string | null, max = 255): string | null {
  return v === null ? null : v.slice(0, max);
}

function lower(v: string | null): string | null {
  return v === null ? null : v.slice(0, 255).toLowerCase();
}

function result(v: unknown): DmarcResult | null {
  const s = lower(str(v));
  return s === "pass" || s === "fail" ? s : null;
}

/** Seconds since the epoch (as the format writes them) to an ISO time; null when not a sane time. */
function epoch(v: unknown): string | null {
  const s = str(v);
  if (!s || !/^\d{1,12}$/.test(s)) return null;
  const d = new Date(Number(s) * 1000);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
