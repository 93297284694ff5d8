// Events: filter by class, reason, provider, stream, campaign and time; export what is shown (CSV or JSON).
import { useEffect, useRef, useState } from "preact/hooks";
import { api, qs } from "../api.ts";
import { knownProvider, PROVIDERS } from "../../../src/core/provider.ts";
import { CLASSES, REASONS } from "../../../src/core/vocabulary.ts";
import { when } from "../format.ts";
import type { EventPage, EventRow } from "../types.ts";
import { csvOf, download, Failure, Field, Loading, Select, TableBox } from "../ui.tsx";

const COLUMNS = [
  "id",
  "occurredAt",
  "stream",
  "recipient",
  "class",
  "reason",
  "rule",
  "status",
  "smtpCode",
  "diagnostic",
  "provider",
  "campaign",
  "verified",
  "mailId",
] as const satisfies readonly (keyof EventRow)[];

interface Filters {
  class: string;
  reason: string;
  provider: string;
  stream: string;
  campaign: string;
  since: string;
  until: string;
}

const EMPTY: Filters = {
  class: "",
  reason: "",
  provider: "",
  stream: "",
  campaign: "",
  since: "",
  until: "",
};

const iso = (local: string) => (local ? new Date(local + "Z").toISOString() : undefined);

export function Events() {
  const [f, setF] = useState<Filters>(EMPTY);
  const [rows, setRows] = useState<EventRow[] | null>(null);
  const [cursor, setCursor] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const set = (k: keyof Filters) => (v: string) => setF((x) => ({ ...x, [k]: v }));
  const query = (c?: string) =>
    `/v1/events${qs({ class: f.class, reason: f.reason, provider: f.provider, stream: f.stream.trim(), campaign: f.campaign.trim(), since: iso(f.since), until: iso(f.until), limit: 200, cursor: c })}`;
  // The request in flight: a new one (other filters, or the next page) aborts it, so that an answer to filters
  // no longer shown can never arrive last and replace the newer one's rows.
  const inFlight = useRef<AbortController | null>(null);
  const load = async (more: boolean) => {
    inFlight.current?.abort();
    const ctl = (inFlight.current = new AbortController());
    setLoading(true);
    setError(null);
    try {
      const page = await api<EventPage>(query(more ? (cursor ?? undefined) : undefined), {
        signal: ctl.signal,
      });
      if (ctl.signal.aborted) return;
      setRows((r) => (more && r ? [...r, ...page.data] : page.data));
      setCursor(page.nextCursor);
    } catch (e) {
      if (!ctl.signal.aborted) setError(e);
    } finally {
      if (!ctl.signal.aborted) setLoading(false);
    }
  };
  useEffect(() => () => inFlight.current?.abort(), []);
  useEffect(() => void load(false), []);
  return (
    <section aria-labelledby="h-events">
      <h1 id="h-events">Events</h1>
      <form
        class="filters"
        onSubmit={(e) => {
          e.preventDefault();
          void load(false);
        }}
      >
        <Select
          id="ev-class"
          label="Class"
          value={f.class}
          options={["", ...CLASSES]}
          onChange={set("class")}
        />
        <Select
          id="ev-reason"
          label="Reason"
          value={f.reason}
          options={["", ...REASONS]}
          onChange={set("reason")}
        />
        <Select
          id="ev-provider"
          label="Provider"
          value={f.provider}
          options={["", ...PROVIDERS]}
          onChange={set("provider")}
        />
        <Field id="ev-stream" label="Stream">
          <input id="ev-stream" value={f.stream} onInput={(e) => set("stream")(e.currentTarget.value)} />
        </Field>
        <Field id="ev-campaign" label="Campaign">
          <input
            id="ev-campaign"
            value={f.campaign}
            onInput={(e) => set("campaign")(e.currentTarget.value)}
          />
        </Field>
        <Field id="ev-since" label="From (UTC)">
          <input
            id="ev-since"
            type="datetime-local"
            value={f.since}
            onInput={(e) => set("since")(e.currentTarget.value)}
          />
        </Field>
        <Field id="ev-until" label="To (UTC)">
          <input
            id="ev-until"
            type="datetime-local"
            value={f.until}
            onInput={(e) => set("until")(e.currentTarget.value)}
          />
        </Field>
        <div class="field buttons">
          <button type="submit">Show</button>
        </div>
      </form>
      {error ? <Failure error={error} /> : null}
      {rows === null ? (
        loading ? (
          <Loading />
        ) : null
      ) : (
        <>
          <p class="toolbar">
            <span>{rows.length} events shown</span>
            <button
              type="button"
              disabled={!rows.length}
              onClick={() => download("rebound-events.csv", "text/csv", csvOf(rows, COLUMNS))}
            >
              Export CSV
            </button>
            <button
              type="button"
              disabled={!rows.length}
              onClick={() =>
                download("rebound-events.json", "application/json", JSON.stringify(rows, null, 2))
              }
            >
              Export JSON
            </button>
          </p>
          <TableBox label="Events">
            <table>
              <caption>Newest first</caption>
              <thead>
                <tr>
                  <th scope="col">When</th>
                  <th scope="col">Stream</th>
                  <th scope="col">Recipient</th>
                  <th scope="col">Provider</th>
                  <th scope="col">Class</th>
                  <th scope="col">Reason</th>
                  <th scope="col">Rule</th>
                  <th scope="col">Diagnostic</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((e) => (
                  <tr data-event={e.id}>
                    <td>{when(e.occurredAt)}</td>
                    <td>{e.stream}</td>
                    <td>{e.recipient}</td>
                    <td>{e.provider ?? knownProvider(e.recipientDomain) ?? "–"}</td>
                    <td>{e.class}</td>
                    <td>{e.reason}</td>
                    <td>
                      <code>{e.rule ?? "–"}</code>
                    </td>
                    <td class="diag-cell">{e.diagnostic ?? ""}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
          {cursor ? (
            <button type="button" disabled={loading} onClick={() => load(true)}>
              Show more
            </button>
          ) : null}
        </>
      )}
    </section>
  );
}
