// Small shared hooks: a request tied to a component's life, the session's scopes.
import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { api } from "./api.ts";
import type { Session } from "./types.ts";

export const SessionContext = createContext<Session | null>(null);

/** Whether the key may change things (write or admin, which implies write). */
export const mayWrite = (s: Session): boolean => s.scopes.includes("write") || s.scopes.includes("admin");

/** Whether the signed-in key may change things: write actions are hidden otherwise. */
export function useCanWrite(): boolean {
  const s = useContext(SessionContext);
  return !!s && mayWrite(s);
}

export interface Loaded<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => void;
}

/** GET `path` (null: nothing to fetch) whenever it changes; `reload` asks again. */
export function useApi<T>(path: string | null): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: unknown; loading: boolean }>({ loading: !!path });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    if (!path) {
      setState({ loading: false });
      return;
    }
    const ctl = new AbortController();
    setState((s) => ({ ...s, loading: true }));
    api<T>(path, { signal: ctl.signal }).then(
      (data) => setState({ data, loading: false }),
      (error: unknown) => {
        if (!ctl.signal.aborted) setState({ error, loading: false });
      },
    );
    return () => ctl.abort();
  }, [path, tick]);
  return {
    data: state.data,
    error: state.error,
    loading: state.loading,
    reload: () => setTick((t) => t + 1),
  };
}
