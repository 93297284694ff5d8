// Overview: sent, hard-bounce, complaint and block rates over time with the alert thresholds, open incidents,
// suppressions added per day.
import { useMemo, useRef, useState } from "preact/hooks";
import { qs } from "../api.ts";
import { TimeChart, type Series, type Threshold } from "../chart.tsx";
import { pct, RANGES, rangeOf, when } from "../format.ts";
import { useApi } from "../state.ts";
import { DEFAULT_RULES } from "../../../src/core/alerts/rules.ts";
import { SEVERITIES } from "../../../src/core/alerts/types.ts";
import type {
  AlertRule,
  AlertRuleList,
  Figures,
  Granularity,
  IncidentList,
  Stats,
  SuppressionCounts,
} from "../types.ts";
import { Failure, Link, Loading, Select, TableBox } from "../ui.tsx";

/** What a threshold is drawn from: a rule of GET /v1/alerts/rules, or one of the shipped defaults. */
type RuleLevels = Pick<AlertRule, "kind" | "metric" | "scope" | "levels">;

export function thresholdsFor(rules: readonly RuleLevels[], metric: string, stream: string): Threshold[] {
  const seen = new Map<string, Threshold>();
  for (const r of rules) {
    if (r.kind !== "rate" || r.metric !== metric) continue;
    const s = r.scope?.stream;
    if (s && s !== "*" && s !== stream) continue;
    if (r.scope?.provider && r.scope.provider !== "*") continue;
    for (const level of SEVERITIES) {
      const v = r.levels?.[level];
      if (typeof v === "number") seen.set(`${level}:${v}`, { label: level, value: v, level });
    }
  }
  return [...seen.values()].sort((a, b) => a.value - b.value).slice(0, 4);
}

const METRICS = [
  { id: "sent", title: "Sent", percent: false },
  { id: "hardRate", title: "Hard-bounce rate", percent: true },
  { id: "complaintRate", title: "Complaint rate", percent: true },
  { id: "blockRate", title: "Block rate", percent: true },
] as const satisfies readonly { id: keyof Figures; title: string; percent: boolean }[];

export function Overview() {
  const [range, setRange] = useState("7d");
  const [granularity, setGranularity] = useState<Granularity | "">("");
  const [stream, setStream] = useState("");
  const [split, setSplit] = useState("");
  const r = useMemo(() => rangeOf(range), [range]);
  const gran = granularity || r.granularity;
  const statsPath = `/v1/stats${qs({ from: r.from, to: r.to, granularity: gran, groupBy: split, stream })}`;
  const stats = useApi<Stats>(statsPath);
  const streams = useApi<Stats>(
    `/v1/stats${qs({ from: r.from, to: r.to, granularity: "day", groupBy: "stream" })}`,
  );
  const rules = useApi<AlertRuleList>("/v1/alerts/rules");
  const incidents = useApi<IncidentList>("/v1/incidents?status=active&limit=10");
  const supp = useApi<SuppressionCounts>(
    `/v1/stats/suppressions${qs({ from: r.from, to: r.to, granularity: "day" })}`,
  );
  const ruleList = rules.data?.rules ?? (rules.error || rules.data ? DEFAULT_RULES : null);
  const rulesFromServer = !!rules.data;
  const thresholds = useMemo(
    () =>
      ruleList ? Object.fromEntries(METRICS.map((m) => [m.id, thresholdsFor(ruleList, m.id, stream)])) : {},
    [ruleList, stream],
  );

  const drawn = useRef(0);
  const chartData = useMemo(() => {
    if (!stats.data) return null;
    performance.mark("rebound:overview-data");
    drawn.current = 0;
    // Every bucket of the period, so that a quiet hour is a zero (or a gap in a rate) and the axis spans it all.
    const step = stats.data.granularity === "day" ? 86_400_000 : 3_600_000;
    const at: string[] = [];
    for (let t = Date.parse(stats.data.from); t < Date.parse(stats.data.to); t += step)
      at.push(new Date(t).toISOString());
    const index = new Map(at.map((t, i) => [t, i]));
    const seconds = at.map((t) => Date.parse(t) / 1000);
    const series: Record<string, Series[]> = {};
    for (const m of METRICS) {
      series[m.id] = stats.data.groups.map((g) => {
        const values: (number | null)[] = at.map(() => null);
        if (!m.percent) values.fill(0);
        for (const p of g.points) {
          const i = index.get(new Date(p.at).toISOString());
          if (i !== undefined) values[i] = p[m.id] ?? (m.percent ? null : 0);
        }
        const label = Object.values(g.key).join(" / ") || (stream ? `stream ${stream}` : "all streams");
        return { label, values };
      });
    }
    return { seconds, series };
  }, [stats.data]);
  const onDrawn = () => {
    drawn.current += 1;
    if (drawn.current === METRICS.length) {
      performance.mark("rebound:overview-drawn");
      performance.measure("rebound:overview-render", "rebound:overview-data", "rebound:overview-drawn");
    }
  };
  const streamNames = (streams.data?.groups ?? []).map((g) => g.key.stream ?? "").filter(Boolean);

  return (
    <section aria-labelledby="h-overview">
      <h1 id="h-overview">Overview</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Select
          id="ov-range"
          label="Period"
          value={range}
          options={RANGES.map((x) => ({ value: x.id, label: x.label }))}
          onChange={setRange}
        />
        <Select
          id="ov-gran"
          label="Points"
          value={granularity}
          options={[
            { value: "", label: `auto (${r.granularity})` },
            { value: "hour", label: "hourly" },
            { value: "day", label: "daily" },
          ]}
          onChange={setGranularity}
        />
        <Select
          id="ov-stream"
          label="Stream"
          value={stream}
          options={[{ value: "", label: "all streams" }, ...streamNames.map((s) => ({ value: s, label: s }))]}
          onChange={setStream}
        />
        <Select
          id="ov-split"
          label="One line per"
          value={split}
          options={[
            { value: "", label: "nothing (total)" },
            { value: "stream", label: "stream" },
            { value: "provider", label: "provider" },
          ]}
          onChange={setSplit}
        />
      </form>
      {!rulesFromServer && ruleList ? (
        <p class="muted small" data-state="default-thresholds">
          Thresholds drawn: the shipped defaults (the rules' levels without an alerts file); this server has
          no <code>GET /v1/alerts/rules</code>.
        </p>
      ) : null}
      {stats.error ? <Failure error={stats.error} /> : null}
      {!chartData || !ruleList ? (
        stats.error ? null : (
          <Loading />
        )
      ) : (
        <div class="charts">
          {stats.data?.groups.length === 0 ? (
            <p class="notice wide">
              Nothing sent or received in this period: report sends with <code>POST /v1/sends</code>, and
              bounces arrive by SMTP.
            </p>
          ) : null}
          {METRICS.map((m) => (
            <TimeChart
              key={`${m.id}:${statsPath}`}
              id={m.id}
              title={m.title}
              times={chartData.seconds}
              series={chartData.series[m.id]!}
              percent={m.percent}
              thresholds={m.percent ? thresholds[m.id] : undefined}
              onDrawn={onDrawn}
            />
          ))}
        </div>
      )}
      <div class="two">
        <section aria-labelledby="h-open">
          <h2 id="h-open">Open incidents</h2>
          {incidents.error ? (
            <Failure error={incidents.error} />
          ) : !incidents.data ? (
            <Loading />
          ) : incidents.data.incidents.length === 0 ? (
            <p class="muted">No open incident.</p>
          ) : (
            <ul class="plain">
              {incidents.data.incidents.map((i) => (
                <li>
                  <span class={`badge ${i.severity}`}>{i.severity}</span>{" "}
                  <Link to={`/incidents/${encodeURIComponent(i.id)}`}>{i.summary}</Link>{" "}
                  <span class="muted small">since {when(i.openedAt)}</span>
                </li>
              ))}
            </ul>
          )}
        </section>
        <section aria-labelledby="h-supp">
          <h2 id="h-supp">Suppressions per day</h2>
          {supp.error ? (
            <Failure error={supp.error} />
          ) : !supp.data ? (
            <Loading />
          ) : (
            <SuppressionsChart points={supp.data.points} />
          )}
        </section>
      </div>
      {stats.data?.groups.length ? (
        <TableBox label="Totals of the period">
          <table>
            <caption>Totals of the period</caption>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Sent</th>
                <th scope="col">Hard</th>
                <th scope="col">Complaints</th>
                <th scope="col">Blocks</th>
              </tr>
            </thead>
            <tbody>
              {stats.data.groups.map((g) => (
                <tr>
                  <th scope="row">{Object.values(g.key).join(" / ") || "all"}</th>
                  <td>{g.total.sent.toLocaleString("en-US")}</td>
                  <td>{pct(g.total.hardRate)}</td>
                  <td>{pct(g.total.complaintRate, 3)}</td>
                  <td>{pct(g.total.blockRate)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      ) : null}
    </section>
  );
}

function SuppressionsChart(props: { points: SuppressionCounts["points"] }) {
  const data = useMemo(
    () => ({
      times: props.points.map((p) => Date.parse(p.t) / 1000),
      series: [
        { label: "added", values: props.points.map((p) => p.added) },
        { label: "removed", values: props.points.map((p) => p.removed) },
      ],
    }),
    [props.points],
  );
  if (!props.points.length) return <p class="muted">No suppression added or removed in this period.</p>;
  return (
    <TimeChart
      id="suppressions"
      title="Suppressions added and removed per day"
      times={data.times}
      series={data.series}
      bars
    />
  );
}
