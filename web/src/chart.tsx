// Time series with uPlot: one chart per figure, one series per group, the alert thresholds as dashed lines.
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Severity } from "./types.ts";

export interface Series {
  label: string;
  values: (number | null)[];
}

export interface Threshold {
  label: string;
  value: number;
  level: Severity;
}

const PALETTE = [
  "#1f5fbf",
  "#b3261e",
  "#2e7d32",
  "#8e24aa",
  "#ef6c00",
  "#00838f",
  "#5d4037",
  "#c2185b",
  "#455a64",
  "#827717",
];
const LEVEL_COLOR = { warning: "#b26a00", critical: "#b3261e", pause: "#4a148c" } as const;

/** Draws `series` over `times` (seconds); rates (`percent`) are shown as percentages. Calls `onDrawn` once drawn. */
export function TimeChart(props: {
  id: string;
  title: string;
  times: number[];
  series: Series[];
  thresholds?: Threshold[];
  percent?: boolean;
  bars?: boolean;
  onDrawn?: () => void;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const thresholds = props.thresholds ?? [];
    const width = Math.max(280, el.clientWidth || 600);
    const fmt = (v: number | null) =>
      v === null || v === undefined
        ? "–"
        : props.percent
          ? `${(v * 100).toFixed(2)}%`
          : v.toLocaleString("en-US");
    const opts: uPlot.Options = {
      width,
      height: 220,
      legend: { show: true },
      cursor: { drag: { x: false, y: false } },
      scales: {
        x: { time: true },
        // From zero, and high enough for the thresholds to be seen.
        y: {
          range: (_u, _min, max) => {
            const top = Math.max(
              max ?? 0,
              ...thresholds.map((t) => t.value * 1.25),
              props.percent ? 0.001 : 1,
            );
            return [0, top];
          },
        },
      },
      axes: [
        {},
        {
          size: 64,
          values: (_u, vals) =>
            vals.map((v) => (props.percent ? `${+(v * 100).toFixed(3)}%` : v.toLocaleString("en-US"))),
        },
      ],
      series: [
        {},
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 1.5,
          fill: props.bars ? PALETTE[i % PALETTE.length] + "55" : undefined,
          paths: props.bars ? uPlot.paths.bars!({ size: [0.8, 40] }) : undefined,
          value: (_u: uPlot, v: number | null) => fmt(v),
          spanGaps: false,
        })),
        ...thresholds.map((t) => ({
          label: t.label,
          stroke: LEVEL_COLOR[t.level],
          width: 1.5,
          dash: [6, 4],
          points: { show: false },
          value: () => fmt(t.value),
        })),
      ],
    };
    const data: uPlot.AlignedData = [
      props.times,
      ...props.series.map((s) => s.values),
      ...thresholds.map((t) => props.times.map(() => t.value)),
    ];
    const plot = new uPlot(opts, data, el);
    const canvas = el.querySelector("canvas");
    if (canvas) {
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", `${props.title}: ${props.series.map((s) => s.label).join(", ")}`);
    }
    const resize = new ResizeObserver(() => {
      const w = Math.max(280, el.clientWidth);
      if (w !== plot.width) plot.setSize({ width: w, height: 220 });
    });
    resize.observe(el);
    props.onDrawn?.();
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.times, props.series, props.thresholds]);
  return (
    <figure class="chart" data-chart={props.id} data-thresholds={(props.thresholds ?? []).length}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-area" />
      {props.thresholds?.length ? (
        <p class="thresholds">
          Thresholds:{" "}
          {props.thresholds.map((t) => (
            <span class={`threshold ${t.level}`} data-threshold={t.level}>
              {t.label} {fmt2(t.value, props.percent)}
            </span>
          ))}
        </p>
      ) : null}
    </figure>
  );
}

const fmt2 = (v: number, percent?: boolean) => (percent ? `${+(v * 100).toFixed(3)}%` : String(v));

/** A small line of the values (SVG), for a table row. */
export function Sparkline(props: { values: (number | null)[]; label: string }) {
  const vals = props.values.map((v) => v ?? 0);
  const w = 120;
  const h = 28;
  const max = Math.max(1, ...vals);
  const step = vals.length > 1 ? w / (vals.length - 1) : w;
  const d = vals
    .map(
      (v, i) => `${i === 0 ? "M" : "L"}${(i * step).toFixed(1)},${(h - 2 - (v / max) * (h - 4)).toFixed(1)}`,
    )
    .join("");
  return (
    <svg class="spark" width={w} height={h} viewBox={`0 0 ${w} ${h}`} role="img" aria-label={props.label}>
      <path d={d || `M0,${h - 2}L${w},${h - 2}`} fill="none" stroke="currentColor" stroke-width="1.5" />
    </svg>
  );
}
