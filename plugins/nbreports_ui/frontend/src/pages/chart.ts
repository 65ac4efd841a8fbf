// The duration/status chart of a report's recent runs (SVG, text only through textContent).
import { h, s } from "../lib/dom";
import { seconds } from "../lib/format";
import type { RunSummary } from "../lib/types";

export function durationChart(runs: readonly RunSummary[]): Element {
  const points = runs.filter((r): r is RunSummary & { duration_s: number } => r.duration_s != null).slice().reverse();
  if (points.length < 2) return h("p", { class: "muted", text: "The chart appears after two finished runs." });
  const W = 760, H = 160, pad = 28;
  const max = Math.max(...points.map((r) => r.duration_s)) || 1;
  const step = (W - 2 * pad) / Math.max(points.length - 1, 1);
  const y = (d: number): number => H - pad - (d / max) * (H - 2 * pad);
  return s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": "Duration and status of recent runs" },
    s("line", { x1: pad, y1: H - pad, x2: W - pad, y2: H - pad, class: "axis" }),
    s("text", { x: 2, y: pad - 8, class: "axis-label", text: `${max.toFixed(1)} s` }),
    s("polyline", { points: points.map((r, i) => `${pad + i * step},${y(r.duration_s)}`).join(" "), class: "line" }),
    points.map((r, i) => s("circle", { cx: pad + i * step, cy: y(r.duration_s), r: 4, class: `dot ${r.status}` },
      s("title", { text: `${r.run_id}: ${r.status}, ${seconds(r.duration_s)}` }))));
}
