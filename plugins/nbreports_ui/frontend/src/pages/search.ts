// Full-text search over the reports the reader may view: notebook cells of every version, runs'
// outputs, scraps, parameters and errors, reports' metadata. Ranked hits with their snippet, each
// linking to the page it came from (a version's hit to that version at its cell, the query's words
// marked there); a query the server cannot read is said inline, where it was typed.
import { ApiError } from "../lib/api";
import { h } from "../lib/dom";
import { pageRange, short, when } from "../lib/format";
import { searchUrl } from "../lib/links";
import { snippetNodes } from "../lib/marks";
import { header } from "../lib/ui";
import type { Context } from "../lib/context";
import type { SearchHit, SearchPage } from "../lib/types";

export const PER_PAGE = 20;

const SYNTAX: readonly (readonly [string, string])[] = [
  ["revenue margin", "cells, outputs and scraps with both words"],
  ['"top products"', "the words together, in this order"],
  ["rev*", "words starting with rev"],
  ["revenue -forecast", "without the word forecast"],
  ["revenue OR orders", "either word"],
  ["report:sales_summary  team:analytics  owner:alice  tag:daily", "only these reports"],
  ["kind:code  kind:markdown  kind:output  kind:scrap  kind:parameter  kind:error", "only this kind of text"],
  ["status:failed", "only runs that ended so"],
  ["after:2024-06-01  before:2024-07-01", "saved or run in these dates"],
];

export function readQuery(search: string): { q: string; page: number } {
  const params = new URLSearchParams(search);
  const page = Number(params.get("page") ?? "1");
  return { q: params.get("q") ?? "", page: Number.isInteger(page) && page > 0 ? page : 1 };
}

/** The search box: a GET form to the search page (also in the catalog's header). */
export function searchForm(ctx: Context, q: string, id = "search-q"): HTMLFormElement {
  return h("form", { class: "search-form", method: "get", action: searchUrl(ctx), role: "search" },
    h("input", { type: "search", name: "q", id, value: q, placeholder: "Search notebooks, outputs, scraps…",
      "aria-label": "search notebooks and runs", required: true }),
    h("button", { type: "submit", text: "Search" }));
}

export function syntaxHelp(open: boolean): HTMLElement {
  return h("details", { class: "search-help", id: "search-help", open },
    h("summary", { text: "Query syntax" }),
    h("dl", { class: "facts" }, SYNTAX.map(([example, meaning]) => [h("dt", {}, h("code", { text: example })),
      h("dd", { text: meaning })])),
    h("p", { class: "muted small", text: "Filters combine with words and with each other; a misspelled one is an error, not a miss." }));
}

/** Where a hit leads: its `url`; a version's cell also carries the query, so its words are marked there. */
export function hitHref(hit: SearchHit, q: string): string {
  if (hit.run_id || !hit.version) return hit.url;
  const url = new URL(hit.url, "http://nbreports.invalid");
  url.searchParams.set("q", q);
  return `${url.pathname}${url.search}${url.hash}`;
}

/** "version 1a2b… · cell 7 (in 3 versions)", "run 2024… · success · scrap total", "report". */
export function hitPlace(hit: SearchHit): string {
  const parts: string[] = [hit.report];
  if (hit.run_id) parts.push(`run ${hit.run_id}`, ...(hit.status ? [hit.status] : []));
  else if (hit.version) parts.push(`version ${short(hit.version)}`);
  if (hit.cell !== null) {
    const also = hit.versions !== null && hit.versions > 1 ? ` (in ${hit.versions} versions)` : "";
    parts.push(`cell ${hit.cell}${also}`);
  }
  if (hit.name) parts.push(`${hit.kind} ${hit.name}`);
  return parts.join(" · ");
}

export function hitItem(hit: SearchHit, q: string): HTMLLIElement {
  return h("li", { class: "search-hit" },
    h("div", { class: "hit-head" },
      h("a", { class: "hit-link", href: hitHref(hit, q), text: hit.title || hit.report }), " ",
      h("span", { class: `badge kind kind-${hit.kind}`, text: hit.kind }), " ",
      h("span", { class: "muted small", text: when(hit.at) })),
    h("div", { class: "muted small hit-place", text: hitPlace(hit) }),
    h("p", { class: "snippet" }, snippetNodes(hit.snippet)));
}

function pager(ctx: Context, q: string, result: SearchPage): HTMLElement {
  const { page, per_page: size, total, hits } = result;
  const link = (id: string, to: number, text: string, enabled: boolean): HTMLElement =>
    enabled ? h("a", { id, class: "button", href: searchUrl(ctx, q, to), text })
      : h("span", { id, class: "button", "aria-disabled": "true", text });
  return h("nav", { class: "pager", "aria-label": "result pages" },
    link("search-prev", page - 1, "← Previous", page > 1),
    h("span", { class: "muted", id: "search-range", text: pageRange((page - 1) * size, hits.length, total, result.total_exact) }),
    link("search-next", page + 1, "Next →", page * size < total));
}

export function renderResults(ctx: Context, q: string, result: SearchPage): HTMLElement {
  const more = result.total_exact ? "" : "+";
  const count = `${result.total.toLocaleString("en")}${more} result${result.total === 1 && !more ? "" : "s"}`;
  return h("section", { id: "search-results" },
    h("p", { id: "search-count", "aria-live": "polite", text: count }),
    result.hits.length
      ? h("ol", { class: "search-hits", start: (result.page - 1) * result.per_page + 1 },
        result.hits.map((hit) => hitItem(hit, q)))
      : h("p", { class: "muted empty", text: result.total ? "No more results." : "Nothing matches." }),
    result.total > result.per_page ? pager(ctx, q, result) : "");
}

export async function searchPage(ctx: Context, search: string = location.search): Promise<SearchPage | null> {
  const { q, page } = readQuery(search);
  const draw = (...body: (HTMLElement | string)[]): void => {
    ctx.app.replaceChildren(header(ctx, "Search", [["Search"]]), searchForm(ctx, q), ...body, syntaxHelp(!q));
  };
  if (!q.trim()) {
    draw();
    return null;
  }
  try {
    const result = await ctx.api.get<SearchPage>("/search", { q, page, per_page: PER_PAGE });
    draw(renderResults(ctx, q, result));
    return result;
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 400) throw err;
    draw(h("p", { class: "error", role: "alert", id: "search-error", text: err.message }));
    return null;
  }
}
