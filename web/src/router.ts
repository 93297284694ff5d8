// Pages are paths under /console/ (history API); the server answers the page for any of them.
import { useEffect, useState } from "preact/hooks";

export const BASE = "/console";

export function navigate(to: string): void {
  history.pushState(null, "", BASE + to);
  dispatchEvent(new PopStateEvent("popstate"));
}

/** The path after /console ("/", "/providers/google") and the query. */
export function useLocation(): { path: string; query: URLSearchParams } {
  const read = () => {
    const p = location.pathname.startsWith(BASE) ? location.pathname.slice(BASE.length) : location.pathname;
    return { path: p === "" ? "/" : p, query: new URLSearchParams(location.search) };
  };
  const [loc, setLoc] = useState(read);
  useEffect(() => {
    const on = () => setLoc(read());
    addEventListener("popstate", on);
    return () => removeEventListener("popstate", on);
  }, []);
  return loc;
}
