// The deliverability report rendered: HTML for a mail (tables, and the trend drawn as inline SVG, styles inline
// as mail clients want them), a plain-text part beside it, JSON (the model as it is) and CSV (the figure rows).
// Pure.
import type { Figures } from "./stats.js";
import type { FigureRow, ReportFormat, ReportModel, TrendPoint } from "./deliverability-report.js";

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);

const pct = (r: number | null) => (r === null ? "–" : `${(r * 100).toFixed(r < 0.01 ? 2 : 1)}%`);
const num = (n: number) => n.toLocaleString("en");
const day = (iso: string) => iso.slice(0, 10);

export function reportSubject(m: ReportModel): string {
  const last = new Date(new Date(m.to).getTime() - 1).toISOString();
  return `Rebound ${m.period}ly report for ${m.tenant}: ${day(m.from)} to ${day(last)}`;
}

/** A change beside its previous value: an arrow and the difference in points (rates) or percent (counts). */
function change(cur: number | null, prev: number | null, kind: "rate" | "count"): string {
  if (cur === null || prev === null) return "";
  if (kind === "count") {
    if (prev === 0) return cur ? "new" : "";
    const d = (cur - prev) / prev;
    return `${d >= 0 ? "▲" : "▼"} ${Math.abs(d * 100).toFixed(0)}%`;
  }
  const d = (cur - prev) * 100;
  if (Math.abs(d) < 0.005) return "=";
  return `${d > 0 ? "▲" : "▼"} ${Math.abs(d).toFixed(2)} pt`;
}

const TD = 'style="padding:4px 8px;border-bottom:1px solid #ddd;text-align:right"';
const TDL = 'style="padding:4px 8px;border-bottom:1px solid #ddd;text-align:left"';
const TH = 'style="padding:4px 8px;border-bottom:2px solid #888;text-align:right;font-weight:600"';
const THL = 'style="padding:4px 8px;border-bottom:2px solid #888;text-align:left;font-weight:600"';

function table(head: string[], rows: string[][]): string {
  return `<table style="border-collapse:collapse;font-size:13px;margin:8px 0 16px">
<tr>${head.map((h, i) => `<th ${i ? TH : THL}>${esc(h)}</th>`).join("")}</tr>
${rows.map((r) => `<tr>${r.map((c, i) => `<td ${i ? TD : TDL}>${c}</td>`).join("")}</tr>`).join("\n")}
</table>`;
}

function figureRows(rows: FigureRow[]): string {
  return table(
    ["", "sent", "vs previous", "hard", "hard rate", "complaint rate", "block rate"],
    rows.map((r) => [
      esc(r.key || "(none)"),
      num(r.current.sent),
      change(r.current.sent, r.previous.sent, "count"),
      num(r.current.hard),
      `${pct(r.current.hardRate)} <small>${change(r.current.hardRate, r.previous.hardRate, "rate")}</small>`,
      `${pct(r.current.complaintRate)} <small>${change(r.current.complaintRate, r.previous.complaintRate, "rate")}</small>`,
      `${pct(r.current.blockRate)} <small>${change(r.current.blockRate, r.previous.blockRate, "rate")}</small>`,
    ]),
  );
}

const W = 560;
const H = 160;
const PAD = 32;

/** Daily sends as bars. */
export function sentChart(trend: TrendPoint[]): string {
  const max = Math.max(1, ...trend.map((p) => p.sent));
  const bw = (W - 2 * PAD) / Math.max(1, trend.length);
  const bars = trend
    .map((p, i) => {
      const h = ((H - 2 * PAD) * p.sent) / max;
      const x = PAD + i * bw + 1;
      return `<rect x="${x.toFixed(1)}" y="${(H - PAD - h).toFixed(1)}" width="${Math.max(1, bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="#4a7bd0"><title>${p.day}: ${p.sent}</title></rect>`;
    })
    .join("");
  const labels = trend
    .filter((_, i) => trend.length <= 8 || i % Math.ceil(trend.length / 8) === 0)
    .map((p) => {
      const i = trend.indexOf(p);
      return `<text x="${(PAD + i * bw + bw / 2).toFixed(1)}" y="${H - PAD + 14}" font-size="10" text-anchor="middle" fill="#555">${p.day.slice(5)}</text>`;
    })
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Sent per day">
<text x="${PAD}" y="14" font-size="12" fill="#222">Sent per day (max ${num(max)})</text>
<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#888"/>${bars}${labels}</svg>`;
}

const SERIES = [
  { key: "hardRate", label: "hard", color: "#d04a4a" },
  { key: "complaintRate", label: "complaint", color: "#d0a030" },
  { key: "blockRate", label: "block", color: "#7a4ad0" },
] as const;

/** Daily rates as lines, with the 0.1% (complaint) and 2% (hard, block) warning levels drawn. */
export function ratesChart(trend: TrendPoint[]): string {
  const values = trend.flatMap((p) => SERIES.map((s) => p[s.key] ?? 0));
  const max = Math.max(0.03, ...values);
  const x = (i: number) => PAD + (trend.length <= 1 ? 0 : (i * (W - 2 * PAD)) / (trend.length - 1));
  const y = (v: number) => H - PAD - ((H - 2 * PAD) * v) / max;
  const lines = SERIES.map((s) => {
    const pts = trend.flatMap((p, i) =>
      p[s.key] === null ? [] : [`${x(i).toFixed(1)},${y(p[s.key]!).toFixed(1)}`],
    );
    return pts.length
      ? `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(" ")}"/>`
      : "";
  }).join("");
  const level = (v: number, label: string) =>
    `<line x1="${PAD}" y1="${y(v).toFixed(1)}" x2="${W - PAD}" y2="${y(v).toFixed(1)}" stroke="#bbb" stroke-dasharray="4 3"/><text x="${W - PAD + 2}" y="${(y(v) + 3).toFixed(1)}" font-size="9" fill="#777">${label}</text>`;
  const legend = SERIES.map(
    (s, i) =>
      `<rect x="${PAD + 150 + i * 90}" y="5" width="10" height="10" fill="${s.color}"/><text x="${PAD + 164 + i * 90}" y="14" font-size="11" fill="#222">${s.label}</text>`,
  ).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="Rates per day">
<text x="${PAD}" y="14" font-size="12" fill="#222">Rates per day</text>${legend}
<line x1="${PAD}" y1="${H - PAD}" x2="${W - PAD}" y2="${H - PAD}" stroke="#888"/>${level(0.001, "0.1%")}${level(0.02, "2%")}${lines}</svg>`;
}

function totalsLine(f: Figures, p: Figures): string {
  return `<p style="font-size:15px">Sent <b>${num(f.sent)}</b> (${change(f.sent, p.sent, "count") || "no change"});
hard-bounce rate <b>${pct(f.hardRate)}</b> (previous ${pct(p.hardRate)}), complaint rate <b>${pct(f.complaintRate)}</b>
(previous ${pct(p.complaintRate)}), block rate <b>${pct(f.blockRate)}</b> (previous ${pct(p.blockRate)}).</p>`;
}

export function reportHtml(m: ReportModel): string {
  const h2 = (s: string) => `<h2 style="font-size:16px;margin:20px 0 4px">${esc(s)}</h2>`;
  const none = (s: string) => `<p style="color:#666">${esc(s)}</p>`;
  const look = (items: ReportModel["lookAt"]["domains"]) =>
    table(
      ["", "sent", "hard rate", "complaint rate", "block rate", "why"],
      items.map((l) => [
        esc(l.name),
        l.sent ? num(l.sent) : "unknown",
        pct(l.hardRate),
        pct(l.complaintRate),
        pct(l.blockRate),
        esc(l.why.join("; ")),
      ]),
    );
  return `<!doctype html>
<html><head><meta charset="utf-8"><title>${esc(reportSubject(m))}</title></head>
<body style="font-family:Helvetica,Arial,sans-serif;color:#222;max-width:760px">
<h1 style="font-size:20px">${esc(reportSubject(m))}</h1>
${totalsLine(m.totals.current, m.totals.previous)}
<p style="color:#666;font-size:12px">Compared with ${day(m.previousFrom)} to ${day(new Date(new Date(m.previousTo).getTime() - 1).toISOString())}. Bounces tied to their send count on the day of the send (docs/monitoring.md).</p>
${h2("Trend")}
<div>${sentChart(m.trend)}</div>
<div>${ratesChart(m.trend)}</div>
${h2("Incidents")}
${
  m.incidents.length
    ? table(
        ["opened", "severity", "status", "rule", "summary"],
        m.incidents.map((i) => [
          esc(i.openedAt.slice(0, 16).replace("T", " ")),
          esc(i.severity),
          esc(i.status),
          esc(i.ruleId),
          esc(i.summary),
        ]),
      )
    : none("No incident in the period.")
}
${h2("Streams")}
${m.streams.length ? figureRows(m.streams) : none("Nothing sent or received.")}
${h2("Providers")}
${m.providers.length ? figureRows(m.providers) : none("Nothing sent or received.")}
${h2("Top reasons")}
${
  m.topReasons.length
    ? table(
        ["reason", "class", "rule", "count"],
        m.topReasons.map((r) => [esc(r.reason), esc(r.class), esc(r.rule ?? "–"), num(r.count)]),
      )
    : none("No bounce or complaint.")
}
${h2("Blocklists seen")}
${
  m.blocklists.length
    ? table(
        ["blocklist", "blocks naming it"],
        m.blocklists.map((b) => [esc(b.id), num(b.count)]),
      )
    : none("No block named a blocklist.")
}
${h2("Suppressions")}
<p>${num(m.suppressions.added)} added (previous ${num(m.suppressions.previousAdded)}), ${num(m.suppressions.removed)} removed or expired (previous ${num(m.suppressions.previousRemoved)}).</p>
${h2("Domains to look at")}
${m.lookAt.domains.length ? look(m.lookAt.domains) : none("None above the limits.")}
${h2("Campaigns to look at")}
${m.lookAt.campaigns.length ? look(m.lookAt.campaigns) : none("None above the limits.")}
</body></html>
`;
}

/** The plain-text part of the mail: the headline figures and the lists, without the charts. */
export function reportText(m: ReportModel): string {
  const f = m.totals.current;
  const p = m.totals.previous;
  const lines = [
    reportSubject(m),
    "",
    `Sent ${num(f.sent)} (previous ${num(p.sent)}); hard-bounce rate ${pct(f.hardRate)} (${pct(p.hardRate)}), ` +
      `complaint rate ${pct(f.complaintRate)} (${pct(p.complaintRate)}), block rate ${pct(f.blockRate)} (${pct(p.blockRate)}).`,
    "",
    `Incidents: ${m.incidents.length ? "" : "none"}`,
    ...m.incidents.map((i) => `  ${i.openedAt.slice(0, 16)} ${i.severity} ${i.status}: ${i.summary}`),
    `Blocklists seen: ${m.blocklists.map((b) => `${b.id} (${b.count})`).join(", ") || "none"}`,
    `Suppressions: ${m.suppressions.added} added, ${m.suppressions.removed} removed`,
    `Domains to look at: ${m.lookAt.domains.map((d) => d.name).join(", ") || "none"}`,
    `Campaigns to look at: ${m.lookAt.campaigns.map((c) => c.name).join(", ") || "none"}`,
    "",
  ];
  return lines.join("\n");
}

const csvField = (v: string | number | null) => {
  const s = v === null ? "" : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

/** The figure rows (total, streams, providers, days, domains and campaigns to look at), one CSV table. */
export function reportCsv(m: ReportModel): string {
  const head = [
    "section",
    "name",
    "sent",
    "delivered",
    "hard",
    "soft",
    "block",
    "complaint",
    "hardRate",
    "complaintRate",
    "blockRate",
    "previousSent",
    "previousHardRate",
    "previousComplaintRate",
    "previousBlockRate",
    "why",
  ];
  const fig = (section: string, name: string, c: Figures, p: Figures | null) => [
    section,
    name,
    c.sent,
    c.delivered,
    c.hard,
    c.soft,
    c.block,
    c.complaint,
    c.hardRate,
    c.complaintRate,
    c.blockRate,
    p?.sent ?? null,
    p?.hardRate ?? null,
    p?.complaintRate ?? null,
    p?.blockRate ?? null,
    null,
  ];
  const rows: (string | number | null)[][] = [
    fig("total", m.tenant, m.totals.current, m.totals.previous),
    ...m.streams.map((r) => fig("stream", r.key, r.current, r.previous)),
    ...m.providers.map((r) => fig("provider", r.key, r.current, r.previous)),
    ...m.trend.map((t) => [
      "day",
      t.day,
      t.sent,
      null,
      null,
      null,
      null,
      null,
      t.hardRate,
      t.complaintRate,
      t.blockRate,
      null,
      null,
      null,
      null,
      null,
    ]),
    ...(["domains", "campaigns"] as const).flatMap((k) =>
      m.lookAt[k].map((l) => [
        k === "domains" ? "domain" : "campaign",
        l.name,
        l.sent,
        null,
        null,
        null,
        null,
        null,
        l.hardRate,
        l.complaintRate,
        l.blockRate,
        null,
        null,
        null,
        null,
        l.why.join("; "),
      ]),
    ),
  ];
  return [head, ...rows].map((r) => r.map(csvField).join(",")).join("\r\n") + "\r\n";
}

export function renderReport(m: ReportModel, format: ReportFormat): string {
  if (format === "json") return `${JSON.stringify(m, null, 2)}\n`;
  if (format === "csv") return reportCsv(m);
  return reportHtml(m);
}
