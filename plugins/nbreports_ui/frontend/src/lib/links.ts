// URLs of this app's pages and links into Airflow's own UI.
//
// Airflow 3.3 frames these pages with sandbox="allow-scripts allow-same-origin allow-forms
// allow-downloads": no allow-top-navigation, so neither a target="_top" link nor
// top.location.assign() may leave the frame (Chromium refuses both). The frame is same-origin, so
// a link to Airflow is followed from Airflow's own document: an <a> created in the top document
// and clicked there is an ordinary navigation of that document (no private router state).
// Standalone, or in a frame that allows top navigation, the link's own target="_top" does it.
import { h, type Attrs } from "./dom";
import type { Context } from "./context";

const enc = encodeURIComponent;

export const reportUrl = (ctx: Context, report: string): string => `${ctx.root}/reports/${enc(report)}`;
export const runUrl = (ctx: Context, report: string, runId: string): string =>
  `${reportUrl(ctx, report)}/runs/${enc(runId)}`;
export const htmlUrl = (ctx: Context, report: string, runId: string): string =>
  `${ctx.root}/content/reports/${enc(report)}/runs/${enc(runId)}/report.html`;
export const outputUrl = (ctx: Context, report: string, runId: string): string =>
  `${ctx.root}/api/reports/${enc(report)}/runs/${enc(runId)}/output.ipynb`;
export const compareUrl = (ctx: Context, report: string, base: string, other: string): string =>
  `${reportUrl(ctx, report)}/compare?base=${enc(base)}&other=${enc(other)}`;
export const versionsCompareUrl = (ctx: Context, report: string, base: string, other: string): string =>
  `${reportUrl(ctx, report)}/versions/compare?base=${enc(base)}&other=${enc(other)}`;
/** One notebook version's page, at a cell (highlighted and scrolled to), with the words of `q` marked in it. */
export const versionUrl = (ctx: Context, report: string, sha: string, cell?: number | null, q?: string): string => {
  const params = new URLSearchParams();
  const at = cell ?? null;
  if (at !== null) params.set("cell", String(at));
  if (q) params.set("q", q);
  const query = params.toString();
  return `${reportUrl(ctx, report)}/versions/${enc(sha)}${query ? `?${query}` : ""}${at !== null ? `#cell-${at}` : ""}`;
};
export const searchUrl = (ctx: Context, q?: string, page?: number): string => {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  if (page && page > 1) params.set("page", String(page));
  const query = params.toString();
  return `${ctx.root}/search${query ? `?${query}` : ""}`;
};
export const catalogUrl = (ctx: Context, query?: Record<string, string>): string => {
  const q = new URLSearchParams(query ?? {}).toString();
  return `${ctx.root}/${q ? `?${q}` : ""}`;
};

/** Airflow UI paths (the API's `airflow` links are such paths already). */
export const airflow = {
  dag: (dagId: string): string => `/dags/${enc(dagId)}`,
  dagRun: (dagId: string, dagRunId: string): string => `/dags/${enc(dagId)}/runs/${enc(dagRunId)}`,
};

/** Whether this window may navigate the top window itself (not framed, or framed with permission). */
export function canNavigateTop(win: Window = window): boolean {
  if (win.top === win) return true;
  let frame: Element | null;
  try {
    frame = win.frameElement;
  } catch {
    return false; // cross-origin parent: nothing to ask, nothing to borrow
  }
  // the frame element belongs to the parent's realm: no instanceof, only what any Element has
  const sandbox = frame?.getAttribute("sandbox");
  if (sandbox === null || sandbox === undefined) return true;
  const tokens = sandbox.toLowerCase().split(/\s+/);
  return tokens.includes("allow-top-navigation") || tokens.includes("allow-top-navigation-by-user-activation");
}

/** Navigate the top window to `href`; true when it was done here (the caller then cancels its click). */
export function navigateTop(href: string, win: Window = window): boolean {
  if (canNavigateTop(win)) return false;
  try {
    const top = win.top;
    if (!top) return false;
    const doc = top.document; // throws when the top is another origin
    const a = doc.createElement("a");
    a.href = new URL(href, win.location.href).href;
    a.hidden = true;
    doc.body.append(a);
    a.click();
    a.remove();
    return true;
  } catch {
    return false;
  }
}

function followInTop(event: Event): void {
  const a = event.currentTarget;
  if (!(a instanceof HTMLAnchorElement)) return;
  const e = event as MouseEvent;
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return; // new tab etc.
  if (navigateTop(a.href, a.ownerDocument.defaultView ?? window)) event.preventDefault();
}

/** A link to a page of Airflow's UI (`path` below Airflow's base), opened in the top window. */
export function airflowLink(ctx: Context, path: string, text: string, attrs?: Attrs): HTMLAnchorElement {
  return h("a", { ...attrs, href: ctx.airflow + path, target: "_top", "data-airflow": true, text,
    onclick: followInTop });
}
