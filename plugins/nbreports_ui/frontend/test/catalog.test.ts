import { describe, expect, it } from "vitest";
import { catalogPage, readFilters } from "../src/pages/catalog";
import { context, entry, fakeApi } from "./helpers";

const answer = {
  total: 2,
  reports: [
    entry(),
    entry({ name: "ui_probe", title: "UI probe <script>alert(1)</script>", owner: "bob", team: "qa", schedule: null,
      triggered_by_reports: ["sales_summary"], tags: ["probe"], last_run: null, last_published: null,
      success_rate: null, runs_finished: 0 }),
  ],
};

describe("catalog page", () => {
  it("draws the table from the API's answer", async () => {
    const ctx = context(fakeApi({ "/reports": answer }));
    await catalogPage(ctx, "");
    const rows = [...ctx.app.querySelectorAll("tbody tr")];
    expect(rows).toHaveLength(2);
    const [first, second] = rows.map((r) => [...(r as HTMLTableRowElement).children].map((c) => c.textContent));
    expect(first).toEqual(["Sales summarysales_summary", "alice / analytics", "0 6 * * 1-5",
      "success 2024-06-01 06:00:00 UTC", "88% of 8", "open", "salesdaily"]);
    expect(second?.slice(1, 6)).toEqual(["bob / qa", "after sales_summary", "never run", "—", "—"]);
    const link = ctx.app.querySelector<HTMLAnchorElement>("a.report-link");
    expect(link?.getAttribute("href")).toBe("/nbreports/reports/sales_summary");
    expect(ctx.app.querySelector("#catalog-count")?.textContent).toBe("2 of 2 reports");
    // a title with markup is text
    expect(ctx.app.querySelector("script")).toBeNull();
    expect(ctx.app.textContent).toContain("UI probe <script>alert(1)</script>");
    expect(ctx.app.querySelector("h1")?.textContent).toBe("Reports");
  });

  it("filters: asks the API with the query, keeps all owners and tags in the selects", async () => {
    const api = fakeApi({ "/reports": (params: Record<string, unknown> | undefined) =>
      params?.tag ? { total: 1, reports: [answer.reports[1]] } : answer });
    const ctx = context(api);
    await catalogPage(ctx, "?tag=probe");
    expect(api.calls).toEqual([["/reports", undefined], ["/reports", { q: "", owner: "", tag: "probe" }]]);
    expect(ctx.app.querySelectorAll("tbody tr")).toHaveLength(1);
    const tags = [...ctx.app.querySelectorAll<HTMLOptionElement>("select[name=tag] option")].map((o) => o.value);
    expect(tags).toEqual(["", "daily", "probe", "sales"]);
    expect(ctx.app.querySelector<HTMLOptionElement>("select[name=tag] option[selected]")?.value).toBe("probe");
    expect(ctx.app.querySelector("#catalog-count")?.textContent).toBe("1 of 2 reports");
  });

  it("reads filters from the query string", () => {
    expect(readFilters("?q=sales&owner=alice")).toEqual({ q: "sales", owner: "alice", tag: "" });
  });

  it("says so when nothing matches", async () => {
    const ctx = context(fakeApi({ "/reports": { total: 0, reports: [] } }));
    await catalogPage(ctx, "");
    expect(ctx.app.querySelector("table")).toBeNull();
    expect(ctx.app.textContent).toContain("No report matches.");
  });
});
