// Webhooks: the endpoints and each one's delivery log.
import { useState } from "preact/hooks";
import { when } from "../format.ts";
import { useApi } from "../state.ts";
import type { DeliveryPage, WebhookList } from "../types.ts";
import { Failure, Loading, TableBox } from "../ui.tsx";

export function Webhooks() {
  const list = useApi<WebhookList>("/v1/webhooks");
  const [open, setOpen] = useState<string | null>(null);
  return (
    <section aria-labelledby="h-webhooks">
      <h1 id="h-webhooks">Webhooks</h1>
      {list.error ? (
        <Failure error={list.error} />
      ) : !list.data ? (
        <Loading />
      ) : list.data.data.length === 0 ? (
        <p class="muted">
          No endpoint registered (<code>POST /v1/webhooks</code>).
        </p>
      ) : (
        <ul class="plain">
          {list.data.data.map((w) => (
            <li data-webhook={w.id} class="card">
              <p>
                <strong>{w.url}</strong> {w.disabledAt ? <span class="badge warning">disabled</span> : null}
              </p>
              <p class="small muted">
                {w.description ?? ""} · events: {w.events.join(", ") || "all"} · since {when(w.createdAt)}
              </p>
              <button
                type="button"
                aria-expanded={open === w.id}
                onClick={() => setOpen(open === w.id ? null : w.id)}
              >
                {open === w.id ? "Hide the delivery log" : "Show the delivery log"}
              </button>
              {open === w.id ? <Deliveries id={w.id} /> : null}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function Deliveries(props: { id: string }) {
  const log = useApi<DeliveryPage>(`/v1/webhooks/${encodeURIComponent(props.id)}/deliveries?limit=100`);
  if (log.error) return <Failure error={log.error} />;
  if (!log.data) return <Loading />;
  if (!log.data.data.length) return <p class="muted">Nothing delivered yet.</p>;
  return (
    <TableBox label="Delivery log">
      <table>
        <caption>Newest first</caption>
        <thead>
          <tr>
            <th scope="col">Created</th>
            <th scope="col">Event</th>
            <th scope="col">Status</th>
            <th scope="col">Tries</th>
            <th scope="col">Last answer</th>
            <th scope="col">Delivered</th>
          </tr>
        </thead>
        <tbody>
          {log.data.data.map((d) => (
            <tr>
              <td>{when(d.createdAt)}</td>
              <td>{d.eventType}</td>
              <td>{d.status}</td>
              <td>{d.attempts}</td>
              <td>{d.lastStatusCode ?? d.lastError ?? "–"}</td>
              <td>{when(d.deliveredAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </TableBox>
  );
}
