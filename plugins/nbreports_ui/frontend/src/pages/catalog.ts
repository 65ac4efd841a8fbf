// The catalog: every report the reader may see, with filters by words, owner and tag; in its header
// the search box of the full-text search (pages/search.ts) over notebooks and runs.
import { h } from "../lib/dom";
import { percent, when } from "../lib/format";
import { reportUrl, runUrl } from "../lib/links";
import { badge, header, table, type Column } from "../lib/ui";
import { searchForm } from "./search";
import type { Context } from "../lib/context";
import type { CatalogEntry, ReportList } from "../lib/types";

type Filters = Record<"q" | "owner" | "tag", string>;

export function readFilters(search: string): Filters {
  const params = new URLSearchParams(search);
  return { q: params.get("q") ?? "", owner: params.get("owner") ?? "", tag: params.get("tag") ?? "" };
}

export function catalogColumns(ctx: Context): Column<CatalogEntry>[] {
  return [
    { label: "Report", cell: (r) => [h("a", { href: reportUrl(ctx, r.name), class: "report-link", text: r.title }),
      h("div", { class: "muted small", text: r.name })] },
    { label: "Owner / team", cell: (r) => `${r.owner} / ${r.team}` },
    { label: "Schedule", cell: (r) => r.schedule
      ?? (r.triggered_by_reports.length ? `after ${r.triggered_by_reports.join(", ")}` : "manual") },
    { label: "Last run", cell: (r) => r.last_run
      ? [badge(r.last_run.status), " ", h("a", { href: runUrl(ctx, r.name, r.last_run.run_id), text: when(r.last_run.started_at) })]
      : badge(null) },
    { label: "Success rate", cell: (r) => r.success_rate === null ? "—" : `${percent(r.success_rate)} of ${r.runs_finished}` },
    { label: "Latest report", cell: (r) => r.last_published
      ? h("a", { href: runUrl(ctx, r.name, r.last_published.run_id), text: "open" }) : "—" },
    { label: "Tags", cell: (r) => r.tags.map((t) => h("a", { class: "tag", href: `?tag=${encodeURIComponent(t)}`, text: t })) },
  ];
}

export function filterForm(filters: Filters, all: readonly CatalogEntry[]): HTMLFormElement {
  const owners = [...new Set(all.map((r) => r.owner))].sort();
  const tags = [...new Set(all.flatMap((r) => r.tags))].sort();
  const select = (name: "owner" | "tag", values: string[]): HTMLSelectElement => h("select", { name, "aria-label": name },
    h("option", { value: "", text: `any ${name}` }),
    values.map((v) => h("option", { value: v, text: v, selected: filters[name] === v })));
  return h("form", { class: "filters", method: "get" },
    h("input", { type: "search", name: "q", value: filters.q, placeholder: "Search name, title, owner, tag",
      "aria-label": "search" }),
    select("owner", owners), select("tag", tags), h("button", { type: "submit", text: "Filter" }));
}

export function renderCatalog(ctx: Context, filters: Filters, all: ReportList, shown: ReportList): void {
  ctx.app.replaceChildren(header(ctx, "Reports", [], searchForm(ctx, "", "catalog-search")), filterForm(filters, all.reports),
    h("p", { class: "muted", id: "catalog-count", text: `${shown.total} of ${all.total} reports` }),
    table(catalogColumns(ctx), shown.reports, "No report matches."));
}

export async function catalogPage(ctx: Context, search: string = location.search): Promise<void> {
  const filters = readFilters(search);
  const all = await ctx.api.get<ReportList>("/reports");
  const filtered = filters.q || filters.owner || filters.tag;
  const shown = filtered ? await ctx.api.get<ReportList>("/reports", filters) : all;
  renderCatalog(ctx, filters, all, shown);
}
