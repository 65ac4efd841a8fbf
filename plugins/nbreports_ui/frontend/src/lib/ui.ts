// Pieces every page uses: the header with breadcrumbs, tables, status badges, the error box.
import { h, type Child } from "./dom";
import { catalogUrl } from "./links";
import type { Context } from "./context";

export type Crumb = readonly [text: string, href?: string];

export function header(ctx: Context, title: string, crumbs: readonly Crumb[], ...actions: Child[]): HTMLElement {
  return h("header", {},
    h("nav", { class: "crumbs", "aria-label": "breadcrumbs" }, h("a", { href: catalogUrl(ctx), text: "Reports" }),
      crumbs.map(([text, href]) => [" / ", href ? h("a", { href, text }) : h("span", { text })])),
    h("div", { class: "title-row" }, h("h1", { text: title }), h("div", { class: "actions" }, ...actions)));
}

export interface Column<T> {
  label: string;
  cell: (row: T, index: number) => Child;
  className?: string;
}

export function emptyNote(text: string | undefined): HTMLElement {
  return h("p", { class: "muted empty", text: text ?? "Nothing yet." });
}

export function renderRow<T>(columns: readonly Column<T>[], row: T, index: number): HTMLTableRowElement {
  return h("tr", {}, columns.map((c) => h("td", { class: c.className }, c.cell(row, index))));
}

export function tableHead<T>(columns: readonly Column<T>[]): HTMLTableSectionElement {
  return h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.className, text: c.label }))));
}

/** A static table, or a muted note when there are no rows. */
export function table<T>(columns: readonly Column<T>[], rows: readonly T[], empty?: string): HTMLElement {
  if (!rows.length) return emptyNote(empty);
  return h("table", {}, tableHead(columns), h("tbody", {}, rows.map((row, i) => renderRow(columns, row, i))));
}

export function badge(status: string | null | undefined): HTMLElement {
  return h("span", { class: `badge ${status ?? "none"}`, text: status ?? "never run" });
}

/** Update a badge made by badge() in place. */
export function setBadge(el: Element, status: string | null | undefined): void {
  const cls = `badge ${status ?? "none"}`;
  if (el.getAttribute("class") !== cls) el.setAttribute("class", cls);
  const text = status ?? "never run";
  if (el.textContent !== text) el.textContent = text;
}

export function errorBox(err: unknown): HTMLElement {
  const status = (err as { status?: unknown } | null)?.status;
  const message = err instanceof Error ? err.message : String(err);
  return h("div", { class: "error", role: "alert" },
    h("strong", { text: `Error${typeof status === "number" ? ` ${status}` : ""}` }), " ", message);
}

export function fail(ctx: Context, err: unknown): void {
  ctx.app.replaceChildren(errorBox(err));
}

export function section(title: string, ...children: Child[]): HTMLElement {
  return h("section", {}, h("h2", { text: title }), ...children);
}

/** Definition list from [term, value] pairs. */
export function facts(items: readonly (readonly [string, Child])[], attrs?: Record<string, string>): HTMLDListElement {
  return h("dl", { class: "facts", ...attrs }, items.map(([term, value]) => [h("dt", { text: term }), h("dd", {}, value)]));
}
