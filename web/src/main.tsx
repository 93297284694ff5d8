// The console's shell: sign-in, the navigation, the pages.
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiFailure, whenSignedOut } from "./api.ts";
import { Clean } from "./pages/clean.tsx";
import { Events } from "./pages/events.tsx";
import { IncidentPage, Incidents } from "./pages/incidents.tsx";
import { Overview } from "./pages/overview.tsx";
import { Provider, Providers } from "./pages/providers.tsx";
import { Streams } from "./pages/streams.tsx";
import { Suppressions } from "./pages/suppressions.tsx";
import { Webhooks } from "./pages/webhooks.tsx";
import { useLocation } from "./router.ts";
import { mayWrite, SessionContext } from "./state.ts";
import type { Body, Session } from "./types.ts";
import { Link } from "./ui.tsx";
import "./style.css";

const NAV = [
  { to: "/", label: "Overview" },
  { to: "/providers", label: "Providers" },
  { to: "/incidents", label: "Incidents" },
  { to: "/suppressions", label: "Suppressions" },
  { to: "/events", label: "Events" },
  { to: "/streams", label: "Streams" },
  { to: "/clean", label: "List cleaning" },
  { to: "/webhooks", label: "Webhooks" },
] as const;

function Page(props: { path: string; query: URLSearchParams }) {
  const parts = props.path.split("/").filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case undefined:
      return <Overview />;
    case "providers":
      return parts[1] ? <Provider name={parts[1]} /> : <Providers />;
    case "incidents":
      return parts[1] ? <IncidentPage id={parts[1]} /> : <Incidents />;
    case "suppressions":
      return <Suppressions address={props.query.get("address") ?? ""} />;
    case "events":
      return <Events />;
    case "streams":
      return <Streams />;
    case "clean":
      return <Clean />;
    case "webhooks":
      return <Webhooks />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>
            No such page. <Link to="/">Go to the overview</Link>.
          </p>
        </section>
      );
  }
}

function SignIn(props: { onSignedIn: (s: Session) => void; ended: boolean }) {
  const [key, setKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <main id="main" class="signin">
      <h1>Rebound</h1>
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          setBusy(true);
          setError(null);
          try {
            const body: Body<"/v1/session"> = { key: key.trim() };
            props.onSignedIn(await api<Session>("/v1/session", { method: "POST", body }));
          } catch (err) {
            setError(err instanceof ApiFailure ? err.message : String(err));
          } finally {
            setBusy(false);
          }
        }}
      >
        {props.ended ? <p class="notice">Your session has ended: sign in again.</p> : null}
        <label for="signin-key">API key</label>
        <input
          id="signin-key"
          name="key"
          type="password"
          autocomplete="off"
          required
          value={key}
          onInput={(e) => setKey(e.currentTarget.value)}
          aria-describedby="signin-help"
        />
        <p id="signin-help" class="small muted">
          A key made with <code>rebound keys create</code>. It is sent once and turned into a session cookie;
          a read key sees everything and changes nothing.
        </p>
        {error ? (
          <p class="error" role="alert">
            {error}
          </p>
        ) : null}
        <button type="submit" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function App() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [ended, setEnded] = useState(false);
  const loc = useLocation();
  useEffect(() => {
    whenSignedOut(() => {
      setSession(null);
      setEnded(true);
    });
    api<Session>("/v1/session").then(setSession, () => setSession(null));
  }, []);
  useEffect(() => {
    const main = document.getElementById("main");
    if (main && session) main.focus({ preventScroll: true });
  }, [loc.path]);
  if (session === undefined) return <p class="muted">Loading…</p>;
  if (session === null)
    return (
      <SignIn
        ended={ended}
        onSignedIn={(s) => {
          setEnded(false);
          setSession(s);
        }}
      />
    );
  const section = "/" + (loc.path.split("/")[1] ?? "");
  const canWrite = mayWrite(session);
  return (
    <SessionContext.Provider value={session}>
      <a class="skip" href="#main">
        Skip to the page
      </a>
      <header class="top">
        <span class="brand">Rebound</span>
        <nav aria-label="Console">
          <ul>
            {NAV.map((n) => (
              <li>
                <Link to={n.to} current={section === n.to}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who small">
          {session.tenant} ·{" "}
          <span data-scopes={session.scopes.join(",")}>{canWrite ? "read and write" : "read only"}</span>{" "}
          <button
            type="button"
            class="link"
            onClick={async () => {
              await api("/v1/session", { method: "DELETE" }).catch(() => undefined);
              setSession(null);
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={loc.path} query={loc.query} />
      </main>
    </SessionContext.Provider>
  );
}

render(<App />, document.getElementById("app")!);
