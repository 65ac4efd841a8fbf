import { describe, expect, it } from "vitest";
import { ApiError } from "../src/lib/api";
import { catalogPage } from "../src/pages/catalog";
import { hitHref, hitPlace, PER_PAGE, readQuery, searchPage } from "../src/pages/search";
import { context, entry, fakeApi } from "./helpers";
import type { SearchHit, SearchPage } from "../src/lib/types";

const SHA = "d".repeat(64);

function hit(over: Partial<SearchHit> = {}): SearchHit {
  return {
    report: "sales_summary", title: "Sales summary", kind: "code", at: "2024-06-01T06:00:00Z", version: SHA,
    versions: 3, cell: 4, cell_id: "calc", run_id: null, status: null, name: null,
    snippet: [{ text: "x = ", hit: false }, { text: "margin", hit: true }, { text: " <b>not bold</b>", hit: false }],
    url: `/nbreports/reports/sales_summary/versions/${SHA}?cell=4#cell-4`, ...over,
  };
}

function answer(hits: SearchHit[], over: Partial<SearchPage> = {}): SearchPage {
  return { total: hits.length, total_exact: true, page: 1, per_page: PER_PAGE, query: "margin", hits, ...over };
}

describe("search page", () => {
  it("without a query: the box and the syntax help, no request", async () => {
    const api = fakeApi({});
    const ctx = context(api, "search");
    expect(await searchPage(ctx, "")).toBeNull();
    expect(api.calls).toEqual([]);
    expect(ctx.app.querySelector<HTMLInputElement>("input[name=q]")?.value).toBe("");
    expect(ctx.app.querySelector("#search-help")?.hasAttribute("open")).toBe(true);
    expect(ctx.app.querySelector("#search-help")?.textContent).toContain("kind:code");
  });

  it("asks the API, shows the total, each hit's title, kind, time, place and marked snippet", async () => {
    const run = hit({ kind: "scrap", run_id: "20240601T060000-r1", status: "success", version: null, versions: null,
      cell: null, name: "total", title: "", url: "/nbreports/reports/sales_summary/runs/20240601T060000-r1" });
    const api = fakeApi({ "/search": answer([hit(), run], { total: 2 }) });
    const ctx = context(api, "search");
    await searchPage(ctx, "?q=margin");
    expect(api.calls).toEqual([["/search", { q: "margin", page: 1, per_page: PER_PAGE }]]);
    expect(ctx.app.querySelector<HTMLInputElement>("input[name=q]")?.value).toBe("margin");
    expect(ctx.app.querySelector("#search-count")?.textContent).toBe("2 results");
    const items = [...ctx.app.querySelectorAll(".search-hit")];
    expect(items).toHaveLength(2);
    const links = items.map((i) => i.querySelector<HTMLAnchorElement>("a.hit-link"));
    expect(links.map((a) => a?.textContent)).toEqual(["Sales summary", "sales_summary"]);
    expect(links[0]?.getAttribute("href")).toBe(`/nbreports/reports/sales_summary/versions/${SHA}?cell=4&q=margin#cell-4`);
    expect(links[1]?.getAttribute("href")).toBe("/nbreports/reports/sales_summary/runs/20240601T060000-r1");
    expect(items.map((i) => i.querySelector(".badge.kind")?.textContent)).toEqual(["code", "scrap"]);
    expect(items[0]?.textContent).toContain("2024-06-01 06:00:00 UTC");
    expect([...ctx.app.querySelectorAll(".snippet mark")].map((m) => m.textContent)).toEqual(["margin", "margin"]);
    expect(ctx.app.querySelector(".snippet b")).toBeNull();
    expect(ctx.app.querySelector(".snippet")?.textContent).toBe("x = margin <b>not bold</b>");
    expect(ctx.app.querySelector("#search-help")?.hasAttribute("open")).toBe(false);
    expect(ctx.app.querySelector(".pager")).toBeNull(); // one page
  });

  it("pages: previous and next keep the query", async () => {
    const hits = Array.from({ length: PER_PAGE }, (_, i) => hit({ cell: i }));
    const ctx = context(fakeApi({ "/search": answer(hits, { total: 45, page: 2 }) }), "search");
    await searchPage(ctx, "?q=rev*%20team:analytics&page=2");
    expect(ctx.app.querySelector("#search-count")?.textContent).toBe("45 results");
    expect(ctx.app.querySelector("#search-prev")?.getAttribute("href")).toBe("/nbreports/search?q=rev*+team%3Aanalytics");
    expect(ctx.app.querySelector("#search-next")?.getAttribute("href"))
      .toBe("/nbreports/search?q=rev*+team%3Aanalytics&page=3");
    expect(ctx.app.querySelector("#search-range")?.textContent).toBe("21–40 of 45");
    expect(ctx.app.querySelector("ol.search-hits")?.getAttribute("start")).toBe("21");
  });

  it("a word in more documents than are ranked: the total is a lower bound", async () => {
    const hits = Array.from({ length: PER_PAGE }, (_, i) => hit({ cell: i }));
    const ctx = context(fakeApi({ "/search": answer(hits, { total: 1000, total_exact: false }) }), "search");
    await searchPage(ctx, "?q=revenue");
    expect(ctx.app.querySelector("#search-count")?.textContent).toBe("1,000+ results");
    expect(ctx.app.querySelector("#search-range")?.textContent).toBe("1–20 of 1,000+");
  });

  it("the last page has no next link", async () => {
    const ctx = context(fakeApi({ "/search": answer([hit()], { total: 21, page: 2 }) }), "search");
    await searchPage(ctx, "?q=margin&page=2");
    expect(ctx.app.querySelector("#search-next")?.tagName).toBe("SPAN");
    expect(ctx.app.querySelector("#search-prev")?.tagName).toBe("A");
  });

  it("a query the server cannot read: its message inline, as an alert, the box kept", async () => {
    const message = 'a quote is not closed: add the closing " (at character 1)';
    const ctx = context(fakeApi({ "/search": new ApiError(message, 400) }), "search");
    expect(await searchPage(ctx, '?q="margin')).toBeNull();
    const alert = ctx.app.querySelector("#search-error");
    expect(alert?.getAttribute("role")).toBe("alert");
    expect(alert?.textContent).toBe(message);
    expect(ctx.app.querySelector<HTMLInputElement>("input[name=q]")?.value).toBe('"margin');
    expect(ctx.app.querySelector("#search-results")).toBeNull();
  });

  it("other errors are the page's", async () => {
    const ctx = context(fakeApi({ "/search": new ApiError("boom", 500) }), "search");
    await expect(searchPage(ctx, "?q=margin")).rejects.toThrow("boom");
  });

  it("nothing found says so", async () => {
    const ctx = context(fakeApi({ "/search": answer([]) }), "search");
    await searchPage(ctx, "?q=nothing");
    expect(ctx.app.querySelector("#search-count")?.textContent).toBe("0 results");
    expect(ctx.app.textContent).toContain("Nothing matches.");
  });

  it("reads the query and page", () => {
    expect(readQuery("?q=a%20b&page=3")).toEqual({ q: "a b", page: 3 });
    expect(readQuery("?page=-1")).toEqual({ q: "", page: 1 });
    expect(readQuery("?page=x")).toEqual({ q: "", page: 1 });
  });

  it("says where a hit is", () => {
    expect(hitPlace(hit())).toBe(`sales_summary · version ${"d".repeat(12)} · cell 4 (in 3 versions)`);
    expect(hitPlace(hit({ kind: "parameter", run_id: "r1", status: "failed", cell: null, name: "top_n" })))
      .toBe("sales_summary · run r1 · failed · parameter top_n");
    expect(hitPlace(hit({ kind: "report", version: null, cell: null }))).toBe("sales_summary");
    expect(hitHref(hit({ kind: "report", version: null, cell: null, url: "/nbreports/reports/x" }), "q")).toBe("/nbreports/reports/x");
  });

  it("the catalog's header has a search box leading here", async () => {
    const ctx = context(fakeApi({ "/reports": { total: 1, reports: [entry()] } }));
    await catalogPage(ctx, "");
    const form = ctx.app.querySelector<HTMLFormElement>("header form[role=search]");
    expect(form?.getAttribute("action")).toBe("/nbreports/search");
    expect(form?.getAttribute("method")).toBe("get");
    expect(form?.querySelector<HTMLInputElement>("#catalog-search")?.name).toBe("q");
  });
});
