// Two versions of a report's notebook: the nbdime diff.
import { h } from "../lib/dom";
import { short } from "../lib/format";
import { reportUrl } from "../lib/links";
import { header } from "../lib/ui";
import { diffText } from "./compare";
import { need, type Context } from "../lib/context";
import type { VersionComparison } from "../lib/types";

export async function versionsPage(ctx: Context): Promise<void> {
  const name = need(ctx, "report");
  const data = await ctx.api.get<VersionComparison>(`/reports/${encodeURIComponent(name)}/versions/compare`,
    { base: ctx.data.base, other: ctx.data.other });
  ctx.app.replaceChildren(
    header(ctx, `Notebook versions of ${name}`, [[name, reportUrl(ctx, name)], ["versions"]]),
    h("p", {}, "Base ", h("code", { text: short(data.base) }), " → other ", h("code", { text: short(data.other) })),
    diffText(data.notebook_diff));
}
