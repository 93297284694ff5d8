// Suppressions: an address's state in every stream, the events behind it as a timeline, the raw bounce with its
// decisive line, and (write scope) removal or restoration with a note.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, qs } from "../api.ts";
import { when } from "../format.ts";
import { navigate } from "../router.ts";
import { useApi, useCanWrite } from "../state.ts";
import type {
  Body,
  EventMail,
  EventPage,
  Lookup,
  StreamList,
  StreamState,
  Suppression,
  SuppressionPage,
} from "../types.ts";
import { Failure, Loading, TableBox } from "../ui.tsx";
import { SUPPRESSION_NOTE_MAX_CHARS } from "../../../src/api/limits.ts";

export function Suppressions(props: { address: string }) {
  const [text, setText] = useState(props.address);
  useEffect(() => setText(props.address), [props.address]);
  return (
    <section aria-labelledby="h-supp">
      <h1 id="h-supp">Suppressions</h1>
      <form
        class="search"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(`/suppressions${qs({ address: text.trim() })}`);
        }}
      >
        <label for="supp-q">Address or its hash</label>
        <input
          id="supp-q"
          type="search"
          value={text}
          autocomplete="off"
          spellcheck={false}
          placeholder="jane@example.org"
          onInput={(e) => setText(e.currentTarget.value)}
        />
        <button type="submit">Search</button>
      </form>
      {!props.address ? null : HASH.test(props.address.trim()) ? (
        <HashStory hash={props.address.trim().toLowerCase()} />
      ) : (
        <AddressStory address={props.address} />
      )}
    </section>
  );
}

/** A keyed address hash (`addressHash` of an answer or an export): how an erased address is found. */
const HASH = /^[0-9a-f]{64}$/i;

/** The suppressions filed under one address hash, in every stream (an erased address keeps them, without itself). */
function HashStory(props: { hash: string }) {
  const found = useApi<SuppressionPage>(
    `/v1/suppressions${qs({ addressHash: props.hash, state: "all", limit: 100 })}`,
  );
  return (
    <>
      <h2 class="hash">{props.hash}</h2>
      {found.error ? (
        <Failure error={found.error} />
      ) : !found.data ? (
        <Loading />
      ) : found.data.data.length === 0 ? (
        <p class="muted" data-state="not-suppressed">
          No suppression is filed under this hash.
        </p>
      ) : (
        <TableBox label="Suppressions under this hash">
          <table data-hash={props.hash}>
            <thead>
              <tr>
                <th scope="col">Address</th>
                <th scope="col">Stream</th>
                <th scope="col">Reason</th>
                <th scope="col">Since</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              {found.data.data.map((s) => (
                <tr key={s.id} data-stream={s.stream}>
                  <td>{s.address ?? <span class="muted">erased</span>}</td>
                  <td>{s.stream}</td>
                  <td>{s.reason}</td>
                  <td>{when(s.since)}</td>
                  <td>{s.expiresAt ? when(s.expiresAt) : "never"}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </TableBox>
      )}
    </>
  );
}

function AddressStory(props: { address: string }) {
  const canWrite = useCanWrite();
  const lookup = useApi<Lookup>(`/v1/suppressions/${encodeURIComponent(props.address)}`);
  // The streams the server knows (GET /v1/streams, with their pauses): those where the address is not
  // suppressed are listed too. An older server without it: the suppressed streams alone.
  const streams = useApi<StreamList>("/v1/streams");
  const events = useApi<EventPage>(`/v1/events${qs({ address: props.address, limit: 100 })}`);
  const [removed, setRemoved] = useState<Suppression[]>([]);
  const [note, setNote] = useState("");
  const [busy, setBusy] = useState<string | null>(null);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | null>(null);
  const [mailOf, setMailOf] = useState<string | null>(null);
  useEffect(() => {
    setRemoved([]);
    setMailOf(null);
    setMessage(null);
  }, [props.address]);

  const remove = async (s: Suppression) => {
    setBusy(s.id);
    try {
      await api(`/v1/suppressions/${encodeURIComponent(props.address)}${qs({ stream: s.stream, note })}`, {
        method: "DELETE",
      });
      setRemoved((r) => [...r.filter((x) => x.stream !== s.stream), s]);
      setMessage({ ok: true, text: `Removed from stream ${s.stream}.` });
      lookup.reload();
    } catch (e) {
      setMessage({ ok: false, text: (e as Error).message });
    } finally {
      setBusy(null);
    }
  };
  const restore = async (s: Suppression) => {
    setBusy(s.id);
    try {
      const body: Body<"/v1/suppressions/{address}", "put"> = {
        stream: s.stream,
        reason: s.reason,
        class: s.class,
        ...(note ? { note } : {}),
        ...(s.expiresAt && Date.parse(s.expiresAt) > Date.now() ? { expiresAt: s.expiresAt } : {}),
      };
      await api(`/v1/suppressions/${encodeURIComponent(props.address)}`, { method: "PUT", body });
      setRemoved((r) => r.filter((x) => x.id !== s.id));
      setMessage({ ok: true, text: `Restored in stream ${s.stream}.` });
      lookup.reload();
    } catch (e) {
      setMessage({ ok: false, text: (e as Error).message });
    } finally {
      setBusy(null);
    }
  };

  return (
    <>
      <h2>{props.address}</h2>
      {lookup.error ? (
        <Failure error={lookup.error} />
      ) : !lookup.data ? (
        <Loading />
      ) : (
        <>
          <p
            class={lookup.data.suppressed ? "state suppressed" : "state ok"}
            data-suppressed={String(lookup.data.suppressed)}
          >
            {lookup.data.suppressed ? "Suppressed" : "Not suppressed: it may be mailed"}
            {lookup.data.paused
              ? ` · its stream is paused${lookup.data.pause?.reason ? ` (${lookup.data.pause.reason})` : ""}`
              : ""}
          </p>
          {message ? (
            <p class={message.ok ? "ok-note" : "error"} role="status">
              {message.text}
            </p>
          ) : null}
          {canWrite && (lookup.data.suppressions.length > 0 || removed.length > 0) ? (
            <div class="field">
              <label for="supp-note">Note for a removal or restoration</label>
              <input
                id="supp-note"
                type="text"
                maxLength={SUPPRESSION_NOTE_MAX_CHARS}
                value={note}
                onInput={(e) => setNote(e.currentTarget.value)}
              />
            </div>
          ) : null}
          {lookup.data.suppressions.length +
            removed.length +
            others(lookup.data, removed, streams.data).length >
          0 ? (
            <TableBox label="Streams">
              <table>
                <caption>Its state in every stream (`*`: all streams)</caption>
                <thead>
                  <tr>
                    <th scope="col">Stream</th>
                    <th scope="col">State</th>
                    <th scope="col">Reason</th>
                    <th scope="col">Source</th>
                    <th scope="col">Since</th>
                    <th scope="col">Expires</th>
                    <th scope="col">Note</th>
                    {canWrite ? <th scope="col">Action</th> : null}
                  </tr>
                </thead>
                <tbody>
                  {lookup.data.suppressions.map((s) => (
                    <tr data-stream={s.stream}>
                      <th scope="row">{s.stream}</th>
                      <td>suppressed</td>
                      <td>{s.reason}</td>
                      <td>{s.source}</td>
                      <td>{when(s.since)}</td>
                      <td>{s.expiresAt ? when(s.expiresAt) : "never"}</td>
                      <td>{s.note ?? ""}</td>
                      {canWrite ? (
                        <td>
                          <button type="button" disabled={busy !== null} onClick={() => remove(s)}>
                            Remove
                          </button>
                        </td>
                      ) : null}
                    </tr>
                  ))}
                  {others(lookup.data, removed, streams.data).map((st) => (
                    <tr data-stream={st.stream}>
                      <th scope="row">{st.stream}</th>
                      <td>
                        {lookup.data!.suppressions.some((x) => x.stream === "*")
                          ? "suppressed (all streams)"
                          : "may be mailed"}
                        {st.paused
                          ? " · stream paused"
                          : st.pauses.length
                            ? " · paused for some providers"
                            : ""}
                      </td>
                      <td colSpan={canWrite ? 6 : 5}></td>
                    </tr>
                  ))}
                  {removed.map((s) => (
                    <tr data-stream={s.stream}>
                      <th scope="row">{s.stream}</th>
                      <td>removed</td>
                      <td>{s.reason}</td>
                      <td>{s.source}</td>
                      <td>{when(s.since)}</td>
                      <td>–</td>
                      <td></td>
                      {canWrite ? (
                        <td>
                          <button type="button" disabled={busy !== null} onClick={() => restore(s)}>
                            Restore
                          </button>
                        </td>
                      ) : null}
                    </tr>
                  ))}
                </tbody>
              </table>
            </TableBox>
          ) : null}
        </>
      )}
      <h2>Events</h2>
      {events.error ? (
        <Failure error={events.error} />
      ) : !events.data ? (
        <Loading />
      ) : events.data.data.length === 0 ? (
        <p class="muted">No event for this address.</p>
      ) : (
        <ol class="timeline">
          {events.data.data.map((e) => (
            <li data-event={e.id}>
              <p>
                <time dateTime={e.occurredAt}>{when(e.occurredAt)}</time> · <strong>{e.class}</strong> ·{" "}
                {e.reason} · stream {e.stream}
                {e.rule ? (
                  <>
                    {" "}
                    · rule <code>{e.rule}</code>
                  </>
                ) : null}
                {e.verified ? null : <span class="badge warning">unverified</span>}
              </p>
              {e.diagnostic ? <p class="diag">{e.diagnostic}</p> : null}
              {e.mailId ? (
                <button
                  type="button"
                  aria-expanded={mailOf === e.id}
                  onClick={() => setMailOf(mailOf === e.id ? null : e.id)}
                >
                  {mailOf === e.id ? "Hide the raw bounce" : "Show the raw bounce"}
                </button>
              ) : null}
              {mailOf === e.id ? <RawMail eventId={e.id} /> : null}
            </li>
          ))}
        </ol>
      )}
    </>
  );
}

function RawMail(props: { eventId: string }) {
  const mail = useApi<EventMail>(`/v1/events/${encodeURIComponent(props.eventId)}/mail`);
  const mark = useRef<HTMLElement>(null);
  useEffect(() => mark.current?.scrollIntoView({ block: "center" }), [mail.data]);
  if (mail.error) return <Failure error={mail.error} />;
  if (!mail.data) return <Loading />;
  const d = mail.data;
  const lines = d.raw.split("\n");
  const n = d.decisive.line && d.decisive.line <= lines.length ? d.decisive.line : 0;
  return (
    <div class="raw-mail" data-mail={d.mailId}>
      <dl class="headers">
        <div>
          <dt>Subject</dt>
          <dd>{d.decoded.subject ?? "–"}</dd>
        </div>
        <div>
          <dt>From</dt>
          <dd>{d.decoded.from ?? "–"}</dd>
        </div>
        <div>
          <dt>Date</dt>
          <dd>{when(d.decoded.date)}</dd>
        </div>
        <div>
          <dt>Parts</dt>
          <dd>{d.decoded.attachments.map((a) => `${a.contentType} (${a.size} bytes)`).join(", ") || "–"}</dd>
        </div>
      </dl>
      {d.decisive.line ? (
        <p class="small">
          Decisive line {d.decisive.line}: <code class="decisive-text">{d.decisive.text}</code>
        </p>
      ) : (
        <p class="muted small">No single line decided this one.</p>
      )}
      <pre class="raw" tabIndex={0} aria-label="The raw mail">
        {n
          ? lines
              .slice(0, n - 1)
              .map((l) => l + "\n")
              .join("")
          : d.raw}
        {n ? (
          <mark ref={mark} class="decisive" data-line={n}>
            {lines[n - 1]}
          </mark>
        ) : null}
        {n
          ? lines
              .slice(n)
              .map((l) => "\n" + l)
              .join("")
          : null}
      </pre>
      {d.truncated ? <p class="muted small">Only the first 256 KB are shown.</p> : null}
    </div>
  );
}

/** The known streams in which the address has no suppression of its own (nor a removed one shown). */
function others(lookup: Lookup, removed: Suppression[], streams: StreamList | undefined): StreamState[] {
  const own = new Set([...lookup.suppressions, ...removed].map((x) => x.stream));
  return (streams?.streams ?? []).filter((st) => !own.has(st.stream));
}
