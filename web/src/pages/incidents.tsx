// Incidents: the list with filters; one incident's evidence and history; acknowledge and resolve (write scope).
import { useState } from "preact/hooks";
import { api, qs } from "../api.ts";
import { pct, when } from "../format.ts";
import { useApi, useCanWrite } from "../state.ts";
import { INCIDENT_STATUSES, SEVERITIES } from "../../../src/core/alerts/types.ts";
import { PROVIDERS } from "../../../src/core/provider.ts";
import type { Body, Incident, IncidentList } from "../types.ts";
import { Failure, Field, Link, Loading, Select, TableBox } from "../ui.tsx";
import { NOTE_MAX_CHARS } from "../../../src/api/limits.ts";

const STATUSES = ["active", ...INCIDENT_STATUSES] as const;
const SEVERITY_FILTER = ["", ...SEVERITIES] as const;
const PROVIDER_FILTER = ["", ...PROVIDERS] as const;

/** A figure as the rule reads it: a rate in percent, a spike's factor, or a count. */
const figure = (kind: string, v: number) =>
  kind === "rate" ? `${(v * 100).toFixed(2)}%` : kind === "spike" ? `${v.toFixed(1)}x` : String(v);

const scopeText = (s: Incident["scope"]) =>
  Object.entries(s)
    .filter(([, v]) => v)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ") || "all mail";

export function Incidents() {
  const [status, setStatus] = useState("active");
  const [severity, setSeverity] = useState("");
  const [stream, setStream] = useState("");
  const [provider, setProvider] = useState<(typeof PROVIDER_FILTER)[number]>("");
  const [ruleId, setRuleId] = useState("");
  const list = useApi<IncidentList>(
    `/v1/incidents${qs({ status, severity, stream: stream.trim(), provider, ruleId: ruleId.trim(), limit: 100 })}`,
  );
  return (
    <section aria-labelledby="h-incidents">
      <h1 id="h-incidents">Incidents</h1>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <Select id="in-status" label="Status" value={status} options={STATUSES} onChange={setStatus} />
        <Select
          id="in-sev"
          label="Severity"
          value={severity}
          options={SEVERITY_FILTER}
          onChange={setSeverity}
        />
        <Field id="in-stream" label="Stream">
          <input id="in-stream" value={stream} onChange={(e) => setStream(e.currentTarget.value)} />
        </Field>
        <Select
          id="in-provider"
          label="Provider"
          value={provider}
          options={PROVIDER_FILTER}
          onChange={setProvider}
        />
        <Field id="in-rule" label="Rule">
          <input id="in-rule" value={ruleId} onChange={(e) => setRuleId(e.currentTarget.value)} />
        </Field>
      </form>
      {list.error ? (
        <Failure error={list.error} />
      ) : !list.data ? (
        <Loading />
      ) : list.data.incidents.length === 0 ? (
        <p class="muted">No incident matches.</p>
      ) : (
        <TableBox label="Incidents">
          <table>
            <caption>Newest first</caption>
            <thead>
              <tr>
                <th scope="col">Severity</th>
                <th scope="col">Status</th>
                <th scope="col">What</th>
                <th scope="col">Scope</th>
                <th scope="col">Opened</th>
              </tr>
            </thead>
            <tbody>
              {list.data.incidents.map((i) => (
                <tr data-incident={i.id}>
                  <td>
                    <span class={`badge ${i.severity}`}>{i.severity}</span>
                  </td>
                  <td>{i.status}</td>
                  <td>
                    <Link to={`/incidents/${encodeURIComponent(i.id)}`}>{i.summary}</Link>
                  </td>
                  <td>{scopeText(i.scope)}</td>
                  <td>{when(i.openedAt)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
    </section>
  );
}

export function IncidentPage(props: { id: string }) {
  const canWrite = useCanWrite();
  const inc = useApi<Incident>(`/v1/incidents/${encodeURIComponent(props.id)}`);
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const act = async (action: "acknowledge" | "resolve") => {
    setBusy(true);
    setError(null);
    try {
      const body: Body<"/v1/incidents/{id}/acknowledge"> & Body<"/v1/incidents/{id}/resolve"> = note
        ? { note }
        : {};
      await api(`/v1/incidents/${encodeURIComponent(props.id)}/${action}`, { method: "POST", body });
      setNote("");
      inc.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  const i = inc.data;
  return (
    <section aria-labelledby="h-incident">
      <p class="crumbs">
        <Link to="/incidents">Incidents</Link> /
      </p>
      <h1 id="h-incident">Incident {props.id}</h1>
      {inc.error ? (
        <Failure error={inc.error} />
      ) : !i ? (
        <Loading />
      ) : (
        <>
          <p class="lead">
            <span class={`badge ${i.severity}`}>{i.severity}</span>{" "}
            <span data-status={i.status}>{i.status}</span> · {i.summary}
          </p>
          <dl class="figures">
            <div>
              <dt>Scope</dt>
              <dd>{scopeText(i.scope)}</dd>
            </div>
            <div>
              <dt>Rule</dt>
              <dd>
                <code>{i.ruleId}</code>
              </dd>
            </div>
            <div>
              <dt>Value</dt>
              <dd>
                {i.metric?.endsWith("Rate") ? pct(i.value, 3) : (i.value ?? "–")} (threshold{" "}
                {i.metric?.endsWith("Rate") ? pct(i.threshold, 3) : (i.threshold ?? "–")})
              </dd>
            </div>
            <div>
              <dt>Opened</dt>
              <dd>{when(i.openedAt)}</dd>
            </div>
            <div>
              <dt>Acknowledged</dt>
              <dd>{i.acknowledgedAt ? `${when(i.acknowledgedAt)} by ${i.acknowledgedBy ?? "?"}` : "no"}</dd>
            </div>
            <div>
              <dt>Resolved</dt>
              <dd>{i.resolvedAt ? `${when(i.resolvedAt)} (${i.resolvedBy})` : "no"}</dd>
            </div>
          </dl>
          {canWrite && i.status !== "resolved" ? (
            <div class="actions">
              <div class="field">
                <label for="inc-note">Note</label>
                <input
                  id="inc-note"
                  value={note}
                  maxLength={NOTE_MAX_CHARS}
                  onInput={(e) => setNote(e.currentTarget.value)}
                />
              </div>
              {i.status === "open" ? (
                <button type="button" disabled={busy} onClick={() => act("acknowledge")}>
                  Acknowledge
                </button>
              ) : null}
              <button type="button" disabled={busy} onClick={() => act("resolve")}>
                Resolve
              </button>
            </div>
          ) : null}
          {error ? <Failure error={error} /> : null}
          {i.evidence ? (
            <>
              <h2>Evidence</h2>
              <dl class="figures">
                {Object.entries(i.evidence.figures).map(([k, v]) => (
                  <div>
                    <dt>{k}</dt>
                    <dd>{typeof v === "number" && k.endsWith("Rate") ? pct(v, 3) : String(v)}</dd>
                  </div>
                ))}
              </dl>
              {i.evidence.topReasons.length ? (
                <TableBox label="Top reasons">
                  <table>
                    <caption>Top reasons</caption>
                    <thead>
                      <tr>
                        <th scope="col">Reason</th>
                        <th scope="col">Rule</th>
                        <th scope="col">Count</th>
                      </tr>
                    </thead>
                    <tbody>
                      {i.evidence.topReasons.map((r) => (
                        <tr>
                          <td>{r.reason}</td>
                          <td>
                            <code>{r.rule ?? "–"}</code>
                          </td>
                          <td>{r.count}</td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </TableBox>
              ) : null}
              {i.evidence.blocklists.length ? <p>Blocklists: {i.evidence.blocklists.join(", ")}</p> : null}
              {i.evidence.samples.length ? (
                <ul class="samples">
                  {i.evidence.samples.map((s) => (
                    <li>
                      <span class="muted small">
                        {when(s.occurredAt)} · {s.recipient} · {s.reason}
                      </span>
                      {s.diagnostic ? <pre>{s.diagnostic}</pre> : null}
                    </li>
                  ))}
                </ul>
              ) : null}
            </>
          ) : null}
          {i.history?.length ? (
            <>
              <h2>History</h2>
              <ol class="timeline">
                {i.history.map((h) => (
                  <li data-history={h.type}>
                    <time dateTime={h.at}>{when(h.at)}</time> · <strong>{h.type}</strong>
                    {h.severity ? ` · ${h.severity}` : ""}
                    {h.value !== undefined ? ` · ${figure(i.kind, h.value)}` : ""}
                    {h.route ? ` · route ${h.route}` : ""}
                    {h.channel ? ` · ${h.channel}` : ""}
                    {h.by ? ` · by ${h.by}` : ""}
                    {h.note ? <p class="diag">{h.note}</p> : null}
                  </li>
                ))}
              </ol>
            </>
          ) : null}
        </>
      )}
    </section>
  );
}
