// One stored version of a report's notebook, its cells as text (nothing of it runs or renders as HTML).
// Where a search hit lands: the cell named by ?cell=N (or #cell-N) is highlighted and scrolled into
// view, and the plain words of ?q= are marked inside it.
import { h } from "../lib/dom";
import { short, when } from "../lib/format";
import { reportUrl, searchUrl } from "../lib/links";
import { markWords, queryTerms, type Term } from "../lib/marks";
import { facts, header } from "../lib/ui";
import { need, type Context } from "../lib/context";
import type { VersionCell, VersionDetail } from "../lib/types";

export const HIGHLIGHT = "cell-highlight";

/** The cell a link names: ?cell=N, else #cell-N; null for none. */
export function targetCell(search: string, hash: string): number | null {
  const raw = new URLSearchParams(search).get("cell") ?? /^#cell-(\d+)$/.exec(hash)?.[1] ?? null;
  return raw !== null && /^\d+$/.test(raw) ? Number(raw) : null;
}

export function cellElement(cell: VersionCell, terms: readonly Term[], target: boolean): HTMLElement {
  const label = cell.cell_type === "code" ? `In [${cell.index}]` : `[${cell.index}] ${cell.cell_type}`;
  return h("section", {
    id: `cell-${cell.index}`, class: `nb-cell ${cell.cell_type}${target ? ` ${HIGHLIGHT}` : ""}`,
    "aria-current": target ? "location" : null, "aria-label": `cell ${cell.index}`, "data-cell-id": cell.id,
  },
  h("div", { class: "cell-label muted small", text: label }),
  h("pre", { class: "cell-source" }, target ? markWords(cell.source, terms) : cell.source));
}

export async function versionPage(ctx: Context, search: string = location.search, hash: string = location.hash)
  : Promise<HTMLElement | null> {
  const name = need(ctx, "report");
  const sha = need(ctx, "version");
  const data = await ctx.api.get<VersionDetail>(`/reports/${encodeURIComponent(name)}/versions/${encodeURIComponent(sha)}`);
  const q = new URLSearchParams(search).get("q") ?? "";
  const target = targetCell(search, hash);
  const terms = queryTerms(q);
  const v = data.version;
  ctx.app.replaceChildren(
    header(ctx, `Notebook version ${short(v.sha256)}`, [[name, reportUrl(ctx, name)], [`version ${short(v.sha256)}`]],
      q ? h("a", { class: "button", href: searchUrl(ctx, q), text: "Back to the search" }) : ""),
    facts([
      ["Version", h("code", { text: v.sha256 })],
      ["First seen", when(v.created_at)],
      ["Source", v.source ?? "—"],
      ["Saved by", v.author ?? "—"],
      ["Kernel", v.kernel ?? "—"],
    ], { id: "version-facts" }),
    data.cells.length
      ? h("div", { id: "cells" }, data.cells.map((c) => cellElement(c, terms, c.index === target)))
      : h("p", { class: "muted empty", text: "This version has no cells." }));
  const shown = target === null ? null : ctx.app.querySelector<HTMLElement>(`#cell-${target}`);
  shown?.scrollIntoView({ block: "center" });
  return shown;
}
