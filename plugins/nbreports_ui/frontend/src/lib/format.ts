// How values read on the pages. Pure functions: no DOM.
import type { Json } from "./types";

const DASH = "—";

/** A timestamp as "YYYY-MM-DD HH:MM:SS UTC", or a dash. */
export function when(ts: string | null | undefined): string {
  if (!ts) return DASH;
  const d = new Date(ts);
  if (Number.isNaN(d.getTime())) return DASH;
  return `${d.toISOString().replace("T", " ").slice(0, 19)} UTC`;
}

/** A duration: "4.2 s" under a minute, "3 min 5 s" above. */
export function seconds(s: number | null | undefined): string {
  if (s === null || s === undefined) return DASH;
  if (s < 60) return `${s.toFixed(1)} s`;
  let min = Math.floor(s / 60);
  let sec = Math.round(s % 60);
  if (sec === 60) { min += 1; sec = 0; }
  return `${min} min ${sec} s`;
}

/** A size in binary units, or a dash for 0 and unknown. */
export function bytes(n: number | null | undefined): string {
  if (!n) return DASH;
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return `${v.toFixed(i ? 1 : 0)} ${units[i] ?? "B"}`;
}

/** A JSON value as one line: strings as they are, everything else as JSON. */
export function json(v: Json | undefined): string {
  if (v === undefined) return "";
  return typeof v === "string" ? v : JSON.stringify(v);
}

/** The first 12 characters of a digest. */
export function short(sha: string | null | undefined): string {
  return sha ? sha.slice(0, 12) : DASH;
}

/** 0.923 → "92%". */
export function percent(rate: number | null | undefined): string {
  return rate === null || rate === undefined ? DASH : `${Math.round(rate * 100)}%`;
}

/** "a=1\nb=[1,2]" for a run's parameters. */
export function paramLines(params: Record<string, Json> | null | undefined): string {
  return Object.entries(params ?? {}).map(([k, v]) => `${k}=${json(v)}`).join("\n");
}

/** "1–25 of 1,234" (+ when the total is a lower bound). */
export function pageRange(first: number, count: number, total: number, exact: boolean): string {
  if (!total) return "";
  return `${first + 1}–${first + count} of ${total.toLocaleString("en")}${exact ? "" : "+"}`;
}
