// Which page module draws <body data-page=…>. A new page is one module in pages/ and one line here.
import { catalogPage } from "./pages/catalog";
import { comparePage } from "./pages/compare";
import { reportPage } from "./pages/report";
import { runPage } from "./pages/run";
import { searchPage } from "./pages/search";
import { versionPage } from "./pages/version";
import { versionsPage } from "./pages/versions";
import { fail } from "./lib/ui";
import type { Context } from "./lib/context";

export type Page = (ctx: Context) => Promise<unknown>;

export const PAGES: Readonly<Record<string, Page>> = {
  catalog: catalogPage,
  report: reportPage,
  run: (ctx) => runPage(ctx),
  compare: comparePage,
  versions: versionsPage,
  version: (ctx) => versionPage(ctx),
  search: (ctx) => searchPage(ctx),
};

export async function start(ctx: Context): Promise<void> {
  const page = PAGES[ctx.page];
  try {
    if (!page) throw new Error(`unknown page ${JSON.stringify(ctx.page)}`);
    await page(ctx);
  } catch (err) {
    fail(ctx, err);
  }
}
