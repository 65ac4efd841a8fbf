// Two runs of a report side by side: parameters, scraps, the output notebooks' nbdime diff.
import { h } from "../lib/dom";
import { json, seconds, short, when } from "../lib/format";
import { reportUrl, runUrl } from "../lib/links";
import { badge, header, section, table } from "../lib/ui";
import { need, type Context } from "../lib/context";
import type { DiffRow, DiffSummary, NotebookDiff, RunComparison, RunSummary } from "../lib/types";

export function diffTable(rows: readonly DiffRow[], label: string): HTMLElement {
  return table([
    { label, cell: (r) => h("code", { text: r.key }) },
    { label: "Base", cell: (r) => h("code", { text: r.change === "added" ? "—" : json(r.base) }) },
    { label: "Other", cell: (r) => h("code", { text: r.change === "removed" ? "—" : json(r.other) }) },
    { label: "", cell: (r) => h("span", { class: `change ${r.change}`, text: r.change }) },
  ], rows, "Nothing to compare.");
}

export function lineClass(line: string): string {
  const t = line.trimStart();
  if (line.startsWith("##")) return "hunk";
  if (t.startsWith("+") || t.startsWith(">")) return "add";
  if (t.startsWith("-") || t.startsWith("<")) return "del";
  return "";
}

export function diffText(diff: NotebookDiff): HTMLElement {
  if (diff.error) return h("div", { class: "error", text: diff.error });
  if (diff.identical) return h("p", { class: "muted", id: "nbdiff", text: "The notebooks are identical." });
  return h("pre", { class: "nbdiff", id: "nbdiff" },
    diff.text.split("\n").map((line) => h("span", { class: lineClass(line) || null, text: `${line}\n` })));
}

const summary = (s: DiffSummary): string => `${s.changed} changed, ${s.added} added, ${s.removed} removed, ${s.same} same`;

export async function comparePage(ctx: Context): Promise<void> {
  const name = need(ctx, "report");
  const data = await ctx.api.get<RunComparison>(`/reports/${encodeURIComponent(name)}/compare`,
    { base: ctx.data.base, other: ctx.data.other });
  const side = (label: string, r: RunSummary): HTMLElement => h("div", { class: "card" },
    h("div", { class: "muted", text: label }),
    h("a", { href: runUrl(ctx, name, r.run_id), text: r.run_id }), " ", badge(r.status),
    h("div", { class: "small", text: `${when(r.started_at)} · ${seconds(r.duration_s)} · notebook ${short(r.notebook_version)}` }));
  ctx.app.replaceChildren(
    header(ctx, `Compare runs of ${name}`, [[name, reportUrl(ctx, name)], ["compare"]]),
    h("div", { class: "two-col" }, side("Base", data.base), side("Other", data.other)),
    section("Parameters", h("p", { class: "muted", text: summary(data.parameters_summary) }), diffTable(data.parameters, "Parameter")),
    section("Scraps", h("p", { class: "muted", text: summary(data.scraps_summary) }), diffTable(data.scraps, "Scrap")),
    section("Output notebooks (nbdime)",
      h("p", { class: "muted", text: data.same_version ? "Same notebook version." : "Different notebook versions." }),
      diffText(data.notebook_diff)));
}
