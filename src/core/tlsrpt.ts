// SMTP TLS reports (RFC 8460 §4): the JSON a sending MTA's operator mails about the TLS sessions it made (or
// failed to make) to our MX hosts, per policy (MTA-STS, DANE, or none). Pure and bounded: the JSON's size is capped
// before parsing, the lists are cut, and a report missing what identifies it is refused with the reason.

export interface TlsFailure {
  resultType: string;
  sendingMtaIp: string | null;
  receivingMxHostname: string | null;
  receivingIp: string | null;
  failedSessionCount: number;
  failureReasonCode: string | null;
}

export interface TlsPolicyResult {
  /** `sts`, `tlsa` or `no-policy-found`. */
  policyType: string;
  policyDomain: string;
  mxHosts: string[];
  successful: number;
  failed: number;
  failures: TlsFailure[];
}

export interface TlsReport {
  orgName: string;
  reportId: string;
  contact: string | null;
  /** ISO times. */
  begin: string;
  end: string;
  policies: TlsPolicyResult[];
}

export interface TlsLimits {
  maxJsonChars: number;
  maxPolicies: number;
  maxFailuresPerPolicy: number;
}

export const TLS_LIMITS: TlsLimits = {
  maxJsonChars: 16 * 1024 * 1024,
  maxPolicies: 1000,
  maxFailuresPerPolicy: 1000,
};

export class TlsReportError extends Error {
  constructor(
    readonly code: "too_large" | "bad_report",
    message: string,
  ) {
    super(message);
    this.name = "TlsReportError";
  }
}

type Node = Record<string, unknown>;

/** Parse an RFC 8460 report. Throws TlsReportError with the reason. */
export function parseTlsReport(json: string, limits: TlsLimits = TLS_LIMITS): TlsReport {
  if (json.length > limits.maxJsonChars)
    throw new TlsReportError(
      "too_large",
      `the report's JSON has more than ${limits.maxJsonChars} characters: refused`,
    );
  let doc: unknown;
  try {
    doc = JSON.parse(json);
  } catch (err) {
    throw new TlsReportError("bad_report", `not JSON: ${err instanceof Error ? err.message : String(err)}`);
  }
  const root = obj(doc);
  const range = obj(root?.["date-range"]);
  const orgName = str(root?.["organization-name"]);
  const reportId = str(root?.["report-id"]);
  const begin = time(range?.["start-datetime"]);
  const end = time(range?.["end-datetime"]);
  if (!root || !orgName || !reportId)
    throw new TlsReportError("bad_report", "not a TLS report: no organization-name or report-id");
  if (!begin || !end) throw new TlsReportError("bad_report", "no valid date-range in the report");
  const policies = Array.isArray(root["policies"]) ? root["policies"] : [];
  if (policies.length > limits.maxPolicies)
    throw new TlsReportError(
      "too_large",
      `the report has ${policies.length} policies, more than ${limits.maxPolicies}: refused`,
    );
  return {
    orgName: orgName.slice(0, 255),
    reportId: reportId.slice(0, 255),
    contact: str(root["contact-info"])?.slice(0, 255) ?? null,
    begin,
    end,
    policies: policies.map((p) => policy(obj(p), limits)),
  };
}

function policy(p: Node | undefined, limits: TlsLimits): TlsPolicyResult {
  const pol = obj(p?.["policy"]);
  const summary = obj(p?.["summary"]);
  const details = Array.isArray(p?.["failure-details"]) ? (p["failure-details"] as unknown[]) : [];
  return {
    policyType: str(pol?.["policy-type"])?.toLowerCase().slice(0, 40) ?? "no-policy-found",
    policyDomain: str(pol?.["policy-domain"])?.toLowerCase().slice(0, 253) ?? "",
    mxHosts: (Array.isArray(pol?.["mx-host"]) ? (pol["mx-host"] as unknown[]) : [])
      .map(str)
      .filter((h): h is string => !!h)
      .slice(0, 50)
      .map((h) => h.toLowerCase().slice(0, 253)),
    successful: count(summary?.["total-successful-session-count"]),
    failed: count(summary?.["total-failure-session-count"]),
    failures: details.slice(0, limits.maxFailuresPerPolicy).map((d) => {
      const f = obj(d);
      return {
        resultType: str(f?.["result-type"])?.toLowerCase().slice(0, 80) ?? "unknown",
        sendingMtaIp: str(f?.["sending-mta-ip"])?.slice(0, 45) ?? null,
        receivingMxHostname: str(f?.["receiving-mx-hostname"])?.toLowerCase().slice(0, 253) ?? null,
        receivingIp: str(f?.["receiving-ip"])?.slice(0, 45) ?? null,
        failedSessionCount: count(f?.["failed-session-count"]),
        failureReasonCode: str(f?.["failure-reason-code"])?.slice(0, 255) ?? null,
      };
    }),
  };
}

function obj(v: unknown): Node | undefined {
  return v && typeof v === "object" && !Array.isArray(v) ? (v as Node) : undefined;
}

function str(v: unknown): string | null {
  return typeof v === "string" && v.trim() ? v.trim() : null;
}

function count(v: unknown): number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0 ? v : 0;
}

function time(v: unknown): string | null {
  const s = str(v);
  if (!s) return null;
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}
