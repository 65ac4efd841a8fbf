import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ApiError } from "../src/lib/api";
import { runPage } from "../src/pages/run";
import { context, detail, fakeApi } from "./helpers";
import type { RunDetail } from "../src/lib/types";

const PATH = "/reports/sales_summary/runs/r1";
// not in the document: happy-dom would try (and refuse, loudly) to load the report frame
const DETACHED = false;

describe("run page", () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it("draws a finished run with its sandboxed report frame", async () => {
    const ctx = context(fakeApi({ [PATH]: detail("r1", { parameters: { top_n: 2 } }) }), "run",
      { report: "sales_summary", run: "r1" }, DETACHED);
    const handle = await runPage(ctx, 1000);
    expect(handle.poller).toBeNull();
    expect(ctx.app.querySelector("h1")?.textContent).toBe("sales_summary · r1");
    expect(ctx.app.querySelector(".badge.success")).not.toBeNull();
    expect(ctx.app.querySelector("#run-parameters")?.textContent).toContain('"top_n": 2');
    const frame = ctx.app.querySelector<HTMLIFrameElement>("#report-frame");
    expect(frame?.getAttribute("sandbox")).toBe("allow-scripts allow-popups");
    expect(frame?.getAttribute("src")).toBe("/nbreports/content/reports/sales_summary/runs/r1/report.html");
    expect(frame?.getAttribute("referrerpolicy")).toBe("no-referrer");
    expect(ctx.app.querySelector("#download")?.getAttribute("href"))
      .toBe("/nbreports/api/reports/sales_summary/runs/r1/output.ipynb");
    expect(ctx.app.querySelector("#run-memory")?.textContent).toBe("50.0 MiB");
    expect(ctx.app.querySelector("#run-logs a")?.getAttribute("target")).toBe("_top");
    expect([...ctx.app.querySelectorAll("#scraps tbody tr")].map((r) => r.textContent)).toEqual(["total12", 'regions["EU"]']);
  });

  it("while running, polls and updates fields in place; the frame appears once", async () => {
    let answer: RunDetail = detail("r1", { status: "running", ended_at: null, duration_s: null, has_html: false,
      has_output: false, scraps: {} });
    const api = fakeApi({ [PATH]: () => answer });
    const ctx = context(api, "run", { report: "sales_summary", run: "r1" }, DETACHED);
    const handle = await runPage(ctx, 1000);
    const heading = ctx.app.querySelector("h1");
    const params = ctx.app.querySelector("#run-parameters");
    expect(ctx.app.querySelector(".badge.running")).not.toBeNull();
    expect(ctx.app.querySelector("#report-frame")).toBeNull();
    expect(ctx.app.textContent).toContain("The run is still going");

    answer = detail("r1");
    await vi.advanceTimersByTimeAsync(1000);
    expect(ctx.app.querySelector("h1")).toBe(heading);
    expect(ctx.app.querySelector("#run-parameters")).toBe(params);
    expect(ctx.app.querySelector(".badge.success")).not.toBeNull();
    expect(ctx.app.querySelector("#run-ended")?.textContent).toBe("2024-06-01 06:00:04 UTC");
    const frame = ctx.app.querySelector("#report-frame");
    expect(frame).not.toBeNull();
    expect(ctx.app.querySelectorAll("#scraps tbody tr")).toHaveLength(2);
    expect(handle.poller?.running).toBe(false);
    await vi.advanceTimersByTimeAsync(5000);
    expect(api.calls).toHaveLength(2);
  });

  it("for a DAG run not recorded yet, waits, then shows the run", async () => {
    let answer: unknown = new ApiError("no run", 404);
    const ctx = context(fakeApi({ "/reports/sales_summary/dag-runs/manual__1": () => answer }), "run",
      { report: "sales_summary", dagRun: "manual__1" }, DETACHED);
    await runPage(ctx, 1000);
    expect(ctx.app.querySelector("#waiting")).not.toBeNull();
    answer = detail("r9");
    await vi.advanceTimersByTimeAsync(1000);
    expect(ctx.app.querySelector("#waiting")).toBeNull();
    expect(ctx.app.querySelector("h1")?.textContent).toBe("sales_summary · r9");
  });

  it("shows a failed run's error as text", async () => {
    const ctx = context(fakeApi({ [PATH]: detail("r1", { status: "failed", failed_cell: 3,
      error: "ValueError: <b>bad</b>" }) }), "run", { report: "sales_summary", run: "r1" }, DETACHED);
    await runPage(ctx);
    expect(ctx.app.querySelector(".error")?.textContent).toBe("Failed in cell 3: ValueError: <b>bad</b>");
    expect(ctx.app.querySelector(".error b")).toBeNull();
  });
});
