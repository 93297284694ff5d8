// Providers: one row per mailbox provider with its volume and rates against the previous period, a sparkline
// each; a provider's page has its reasons, rules and sample diagnostics.
import { useMemo, useState } from "preact/hooks";
import { qs } from "../api.ts";
import { Sparkline } from "../chart.tsx";
import { change, int, pct, RANGES, rangeOf, when } from "../format.ts";
import { useApi } from "../state.ts";
import type { EventPage, Stats } from "../types.ts";
import { Failure, Link, Loading, Select, TableBox } from "../ui.tsx";

export function Providers() {
  const [range, setRange] = useState("7d");
  const r = useMemo(() => rangeOf(range), [range]);
  const stats = useApi<Stats>(
    `/v1/stats${qs({ from: r.from, to: r.to, granularity: r.granularity, groupBy: "provider" })}`,
  );
  const groups = [...(stats.data?.groups ?? [])].sort((a, b) => b.total.sent - a.total.sent);
  return (
    <section aria-labelledby="h-providers">
      <h1 id="h-providers">Providers</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Select
          id="pr-range"
          label="Period"
          value={range}
          options={RANGES.map((x) => ({ value: x.id, label: x.label }))}
          onChange={setRange}
        />
      </form>
      {stats.error ? (
        <Failure error={stats.error} />
      ) : !stats.data ? (
        <Loading />
      ) : groups.length === 0 ? (
        <p class="notice">Nothing sent or received in this period.</p>
      ) : (
        <TableBox label="Providers">
          <table class="providers">
            <caption>
              Per provider, change against the previous{" "}
              {RANGES.find((x) => x.id === range)?.label.replace("Last ", "")}
            </caption>
            <thead>
              <tr>
                <th scope="col">Provider</th>
                <th scope="col">Sent</th>
                <th scope="col">Change</th>
                <th scope="col">Hard</th>
                <th scope="col">Change</th>
                <th scope="col">Complaints</th>
                <th scope="col">Change</th>
                <th scope="col">Blocks</th>
                <th scope="col">Change</th>
                <th scope="col">Sent over time</th>
              </tr>
            </thead>
            <tbody>
              {groups.map((g) => {
                const name = g.key.provider ?? "unknown";
                return (
                  <tr data-provider={name}>
                    <th scope="row">
                      <Link to={`/providers/${encodeURIComponent(name)}`}>{name}</Link>
                    </th>
                    <td>{int(g.total.sent)}</td>
                    <td>{change(g.total.sent, g.previous.sent)}</td>
                    <td>{pct(g.total.hardRate)}</td>
                    <td>{change(g.total.hardRate, g.previous.hardRate)}</td>
                    <td>{pct(g.total.complaintRate, 3)}</td>
                    <td>{change(g.total.complaintRate, g.previous.complaintRate)}</td>
                    <td>{pct(g.total.blockRate)}</td>
                    <td>{change(g.total.blockRate, g.previous.blockRate)}</td>
                    <td>
                      <Sparkline
                        values={g.points.map((p) => p.sent)}
                        label={`${name}: sent over the period`}
                      />
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </TableBox>
      )}
    </section>
  );
}

export function Provider(props: { name: string }) {
  const r = useMemo(() => rangeOf("7d"), []);
  const stats = useApi<Stats>(
    `/v1/stats${qs({ from: r.from, to: r.to, granularity: "day", provider: props.name })}`,
  );
  const events = useApi<EventPage>(`/v1/events${qs({ provider: props.name, limit: 500 })}`);
  const total = stats.data?.groups[0]?.total;
  const prev = stats.data?.groups[0]?.previous;
  const reasons = useMemo(() => {
    const m = new Map<string, { reason: string; rule: string | null; cls: string; count: number }>();
    for (const e of events.data?.data ?? []) {
      const k = `${e.reason}\u0000${e.rule ?? ""}`;
      const x = m.get(k) ?? { reason: e.reason, rule: e.rule, cls: e.class, count: 0 };
      x.count++;
      m.set(k, x);
    }
    return [...m.values()].sort((a, b) => b.count - a.count);
  }, [events.data]);
  const samples = (events.data?.data ?? []).filter((e) => e.diagnostic).slice(0, 10);
  return (
    <section aria-labelledby="h-provider">
      <p class="crumbs">
        <Link to="/providers">Providers</Link> /
      </p>
      <h1 id="h-provider">{props.name}</h1>
      <h2>Last 7 days</h2>
      {stats.error ? (
        <Failure error={stats.error} />
      ) : !stats.data ? (
        <Loading />
      ) : !total ? (
        <p class="muted">Nothing sent to or received from {props.name} in the last 7 days.</p>
      ) : (
        <dl class="figures">
          <div>
            <dt>Sent</dt>
            <dd>
              {int(total.sent)} <span class="muted small">({change(total.sent, prev?.sent)})</span>
            </dd>
          </div>
          <div>
            <dt>Hard bounces</dt>
            <dd>
              {int(total.hard)} · {pct(total.hardRate)}
            </dd>
          </div>
          <div>
            <dt>Complaints</dt>
            <dd>
              {int(total.complaint)} · {pct(total.complaintRate, 3)}
            </dd>
          </div>
          <div>
            <dt>Blocks</dt>
            <dd>
              {int(total.block)} · {pct(total.blockRate)}
            </dd>
          </div>
        </dl>
      )}
      <h2>Reasons and rules</h2>
      {events.error ? (
        <Failure error={events.error} />
      ) : !events.data ? (
        <Loading />
      ) : reasons.length === 0 ? (
        <p class="muted">No event from {props.name} recently.</p>
      ) : (
        <TableBox label="Reasons and rules">
          <table>
            <caption>The latest {events.data.data.length} events, by reason and classifier rule</caption>
            <thead>
              <tr>
                <th scope="col">Reason</th>
                <th scope="col">Class</th>
                <th scope="col">Rule</th>
                <th scope="col">Events</th>
              </tr>
            </thead>
            <tbody>
              {reasons.map((x) => (
                <tr>
                  <td>{x.reason}</td>
                  <td>{x.cls}</td>
                  <td>
                    <code>{x.rule ?? "–"}</code>
                  </td>
                  <td>{x.count}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
      {samples.length ? (
        <>
          <h2>Sample diagnostics</h2>
          <ul class="samples">
            {samples.map((e) => (
              <li>
                <span class="muted small">
                  {when(e.occurredAt)} · {e.recipient}
                </span>
                <pre>{e.diagnostic}</pre>
              </li>
            ))}
          </ul>
        </>
      ) : null}
    </section>
  );
}
