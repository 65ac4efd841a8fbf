import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { History, reportPage } from "../src/pages/report";
import { context, fakeApi, page, report, run } from "./helpers";
import type { HistoryPage } from "../src/lib/types";

const RUNS = "/reports/sales_summary/runs";

describe("report page", () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it("draws facts, parameters, history and versions", async () => {
    const ctx = context(fakeApi({
      "/reports/sales_summary": report(),
      [RUNS]: page([run("r2", { started_at: "2024-06-02T06:00:00Z" }), run("r1")]),
      "/reports/sales_summary/versions": { report: "sales_summary", versions: [
        { sha256: "b".repeat(64), created_at: "2024-06-02T00:00:00Z", runs: 1, last_run_at: null },
        { sha256: "a".repeat(64), created_at: "2024-06-01T00:00:00Z", runs: 4, last_run_at: null }] },
      "/reports/sales_summary/audit": { items: [], total: 0, limit: 20, next_cursor: null },
    }), "report", { report: "sales_summary" });
    const history = await reportPage(ctx);
    expect(history).not.toBeNull();
    expect(ctx.app.querySelector("h1")?.textContent).toBe("Sales summary");
    const codes = [...ctx.app.querySelectorAll("code")].map((c) => c.textContent);
    expect(codes).toContain("top_n");
    expect(ctx.app.querySelectorAll("#history a.run-link")).toHaveLength(2);
    const run2 = ctx.app.querySelector("#history a.run-link");
    expect(run2?.getAttribute("href")).toBe("/nbreports/reports/sales_summary/runs/r2");
    const go = ctx.app.querySelector<HTMLAnchorElement>("#run-with-parameters");
    expect(go?.getAttribute("href")).toBe("/dags/sales_summary");
    expect(go?.target).toBe("_top");
    expect(ctx.app.querySelector("svg.chart")).not.toBeNull();
    expect(ctx.app.textContent).toContain(`diff with ${"a".repeat(12)}`);
    const version = ctx.app.querySelector<HTMLAnchorElement>("#versions a.version-link");
    expect(version?.getAttribute("href")).toBe(`/nbreports/reports/sales_summary/versions/${"b".repeat(64)}`);
    expect(ctx.app.querySelector("#history-range")?.textContent).toBe("1–2 of 2");
  });

  it("compares the two selected runs, older as the base", async () => {
    const ctx = context(fakeApi({ [RUNS]: page([run("new", { started_at: "2024-06-03T00:00:00Z" }),
      run("mid", { started_at: "2024-06-02T00:00:00Z" }), run("old", { started_at: "2024-06-01T00:00:00Z" })]) }));
    const history = new History(ctx, "sales_summary");
    ctx.app.append(history.element);
    await history.load();
    const box = (id: string): HTMLInputElement => {
      const el = ctx.app.querySelector<HTMLInputElement>(`input.pick[value="${id}"]`);
      if (!el) throw new Error(id);
      return el;
    };
    for (const id of ["new", "mid", "old"]) { box(id).checked = true; box(id).dispatchEvent(new Event("change")); }
    expect(history.selection).toEqual(["mid", "old"]); // at most two: the oldest choice is dropped
    expect(box("new").checked).toBe(false);
    expect(history.compare.disabled).toBe(false);
    expect(history.compareHref()).toBe("/nbreports/reports/sales_summary/compare?base=old&other=mid");
  });

  it("polls while a run is running and updates only its row", async () => {
    let answer: HistoryPage = page([run("r2", { status: "running", duration_s: null, html_uri: null }), run("r1")]);
    const api = fakeApi({ [RUNS]: () => answer });
    const ctx = context(api);
    const history = new History(ctx, "sales_summary", 1000);
    ctx.app.append(history.element);
    await history.load();

    const row2 = ctx.app.querySelector<HTMLTableRowElement>('tr[data-key="r2"]');
    const row1 = ctx.app.querySelector<HTMLTableRowElement>('tr[data-key="r1"]');
    const runLink = row2?.querySelector("a.run-link");
    const box = row2?.querySelector<HTMLInputElement>("input.pick");
    if (!row2 || !row1 || !box) throw new Error("rows missing");
    expect(row2.querySelector(".badge")?.textContent).toBe("running");
    box.checked = true;
    box.dispatchEvent(new Event("change"));
    box.focus();

    await vi.advanceTimersByTimeAsync(1000); // still running: nothing changes
    expect(api.calls).toHaveLength(2);
    expect(ctx.app.querySelector('tr[data-key="r2"]')).toBe(row2);

    answer = page([run("r2", { status: "success", duration_s: 5 }), run("r1")]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(api.calls).toHaveLength(3);
    expect(ctx.app.querySelector('tr[data-key="r2"]')).toBe(row2);    // same row element
    expect(row2.querySelector("a.run-link")).toBe(runLink);           // unchanged cells untouched
    expect(row2.querySelector(".badge")?.textContent).toBe("success"); // changed cells updated
    expect(row2.children[4]?.textContent).toBe("5.0 s");
    expect(box.checked).toBe(true);
    expect(document.activeElement).toBe(box);
    expect(history.selection).toEqual(["r2"]);

    await vi.advanceTimersByTimeAsync(5000); // nothing runs any more: no more polls
    expect(api.calls).toHaveLength(3);
  });

  it("a new run appears on top without redrawing the others", async () => {
    let answer: HistoryPage = page([run("r1", { status: "running" })]);
    const ctx = context(fakeApi({ [RUNS]: () => answer }));
    const history = new History(ctx, "sales_summary", 1000);
    ctx.app.append(history.element);
    await history.load();
    const row1 = ctx.app.querySelector('tr[data-key="r1"]');
    answer = page([run("r2", { status: "running" }), run("r1", { status: "running" })]);
    await vi.advanceTimersByTimeAsync(1000);
    const keys = [...ctx.app.querySelectorAll<HTMLElement>("#history tbody tr")].map((r) => r.dataset.key);
    expect(keys).toEqual(["r2", "r1"]);
    expect(ctx.app.querySelector('tr[data-key="r1"]')).toBe(row1);
    history.stop();
  });

  it("says so for a DAG that is no report", async () => {
    const ctx = context(fakeApi({}), "report", { report: "other_dag" });
    expect(await reportPage(ctx)).toBeNull();
    expect(ctx.app.textContent).toContain("other_dag is not an nbreports report");
  });
});
