// Streams: paused or not and why; pause and resume (write scope).
import { useState } from "preact/hooks";
import { PROVIDERS } from "../../../src/core/provider.ts";
import { api } from "../api.ts";
import { when } from "../format.ts";
import { useApi, useCanWrite } from "../state.ts";
import type { PauseBody, ResumeBody, StreamList } from "../types.ts";
import { Failure, Loading, Select, TableBox } from "../ui.tsx";
import { NOTE_MAX_CHARS } from "../../../src/api/limits.ts";

type Provider = NonNullable<PauseBody["provider"]>;
const PROVIDER_CHOICES: { value: Provider | ""; label: string }[] = [
  { value: "", label: "every provider" },
  ...PROVIDERS.map((p) => ({ value: p, label: p })),
];

export function Streams() {
  const canWrite = useCanWrite();
  const list = useApi<StreamList>("/v1/streams");
  const [note, setNote] = useState("");
  const [provider, setProvider] = useState<Provider | "">("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const act = async (stream: string, action: "pause" | "resume") => {
    setBusy(true);
    setError(null);
    try {
      // Pause and resume take the same fields (docs/api.md): which provider's pause, and a note.
      const body: PauseBody & ResumeBody = { ...(note ? { note } : {}), ...(provider ? { provider } : {}) };
      await api(`/v1/streams/${encodeURIComponent(stream)}/${action}`, { method: "POST", body });
      list.reload();
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section aria-labelledby="h-streams">
      <h1 id="h-streams">Streams</h1>
      {list.error ? (
        <Failure error={list.error} />
      ) : !list.data ? (
        <Loading />
      ) : (
        <>
          {canWrite ? (
            <div class="filters">
              <Select
                id="st-provider"
                label="Provider"
                value={provider}
                options={PROVIDER_CHOICES}
                onChange={setProvider}
              />
              <div class="field">
                <label for="st-note">Note for a pause or resume</label>
                <input
                  id="st-note"
                  value={note}
                  maxLength={NOTE_MAX_CHARS}
                  onInput={(e) => setNote(e.currentTarget.value)}
                />
              </div>
            </div>
          ) : null}
          {error ? <Failure error={error} /> : null}
          <TableBox label="Streams">
            <table>
              <caption>Streams and their pauses</caption>
              <thead>
                <tr>
                  <th scope="col">Stream</th>
                  <th scope="col">State</th>
                  <th scope="col">Why</th>
                  {canWrite ? <th scope="col">Action</th> : null}
                </tr>
              </thead>
              <tbody>
                {list.data.streams.map((s) => (
                  <tr data-stream={s.stream} data-paused={String(s.paused)}>
                    <th scope="row">{s.stream}</th>
                    <td>{s.paused ? "paused" : s.pauses.length ? "paused for some providers" : "sending"}</td>
                    <td>
                      {s.pauses.map((p) => (
                        <p class="small">
                          {p.provider ? `${p.provider}: ` : ""}
                          {p.reason} · since {when(p.since)} · by {p.by}
                          {p.note ? ` · ${p.note}` : ""}
                        </p>
                      ))}
                    </td>
                    {canWrite ? (
                      <td>
                        {s.paused || s.pauses.length ? (
                          <button type="button" disabled={busy} onClick={() => act(s.stream, "resume")}>
                            Resume {s.stream}
                          </button>
                        ) : (
                          <button type="button" disabled={busy} onClick={() => act(s.stream, "pause")}>
                            Pause {s.stream}
                          </button>
                        )}
                      </td>
                    ) : null}
                  </tr>
                ))}
              </tbody>
            </table>
          </TableBox>
        </>
      )}
    </section>
  );
}
