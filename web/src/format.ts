// How figures and times are written on the console's pages.
import type { Granularity } from "./types.ts";

export function pct(x: number | null | undefined, digits = 2): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return "–";
  // A small rate keeps two significant digits (0.0022%), not a misleading 0.00%.
  if (x !== 0 && Math.abs(x) < 10 ** -(digits + 2)) return `${(x * 100).toPrecision(2)}%`;
  return `${(x * 100).toFixed(digits)}%`;
}

export function int(x: number | null | undefined): string {
  if (x === null || x === undefined) return "–";
  return x.toLocaleString("en-US");
}

/** The change from `prev` to `cur` as a signed percentage (of the previous value), or "new"/"–". */
export function change(cur: number | null | undefined, prev: number | null | undefined): string {
  if (cur === null || cur === undefined || prev === null || prev === undefined) return "–";
  if (prev === 0) return cur === 0 ? "0%" : "new";
  const d = ((cur - prev) / prev) * 100;
  return `${d > 0 ? "+" : ""}${d.toFixed(0)}%`;
}

export function when(iso: string | null | undefined): string {
  if (!iso) return "–";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 16).replace("T", " ") + " UTC";
}

export const RANGES = [
  { id: "24h", label: "Last 24 hours", ms: 24 * 3600e3 },
  { id: "7d", label: "Last 7 days", ms: 7 * 24 * 3600e3 },
  { id: "30d", label: "Last 30 days", ms: 30 * 24 * 3600e3 },
  { id: "90d", label: "Last 90 days", ms: 90 * 24 * 3600e3 },
] as const;
export type RangeId = (typeof RANGES)[number]["id"];

export function rangeOf(id: string): { from: string; to: string; granularity: Granularity } {
  const r = RANGES.find((x) => x.id === id) ?? RANGES[0];
  const to = new Date();
  return {
    from: new Date(to.getTime() - r.ms).toISOString(),
    to: to.toISOString(),
    granularity: r.ms > 7 * 24 * 3600e3 ? "day" : "hour",
  };
}
