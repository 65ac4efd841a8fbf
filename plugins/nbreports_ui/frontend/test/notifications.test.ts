import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { recipientsText, runPage } from "../src/pages/run";
import { context, detail, fakeApi } from "./helpers";
import type { Delivery, RunDetail } from "../src/lib/types";

const PATH = "/reports/sales_summary/runs/r1";
const DETACHED = false; // as in run.test.ts: happy-dom would try to load the report frame

const delivery = (id: number, over: Partial<Delivery> = {}): Delivery => ({
  id, event: "failure", channel: "email", conn_id: "smtp_default", recipients: ["alice@example.com", "bob@example.com"],
  status: "sent", attempts: 1, last_error: null, created_at: "2024-06-01T06:00:05+00:00",
  sent_at: "2024-06-01T06:00:06+00:00", next_attempt_at: null, ...over,
});

const rows = (app: HTMLElement): string[][] =>
  [...app.querySelectorAll("#notifications tbody tr")].map((tr) => [...tr.children].map((td) => td.textContent));

describe("run page notifications", () => {
  beforeEach(() => { vi.useFakeTimers(); });
  afterEach(() => { vi.useRealTimers(); });

  it("lists each delivery: event, channel, recipients, status, attempts, last error, sent at", async () => {
    const ctx = context(fakeApi({ [PATH]: detail("r1", { notifications: [
      delivery(1),
      delivery(2, { channel: "slack", conn_id: "slack_ops", recipients: [], status: "failed", attempts: 2, sent_at: null,
        last_error: "HTTPError: 500 <b>down</b>", next_attempt_at: "2024-06-01T06:05:00+00:00" }),
    ] }) }), "run", { report: "sales_summary", run: "r1" }, DETACHED);
    await runPage(ctx);
    const head = [...ctx.app.querySelectorAll("#notifications th")].map((th) => th.textContent);
    expect(head).toEqual(["Event", "Channel", "Recipients", "Status", "Attempts", "Last error", "Sent at"]);
    expect(rows(ctx.app)).toEqual([
      ["failure", "email smtp_default", "alice@example.com, bob@example.com", "sent", "1", "—", "2024-06-01 06:00:06 UTC"],
      ["failure", "slack slack_ops", "—", "failed next try 2024-06-01 06:05:00 UTC", "2", "HTTPError: 500 <b>down</b>", "—"],
    ]);
    expect(ctx.app.querySelector("#notifications b")).toBeNull(); // an error is text
    expect(ctx.app.querySelector(".badge.delivery-failed")).not.toBeNull();
    expect(ctx.app.querySelector('#notifications tr[data-key="2"]')).not.toBeNull();
  });

  it("says so when there are none", async () => {
    const ctx = context(fakeApi({ [PATH]: detail("r1", { notifications: [] }) }), "run",
      { report: "sales_summary", run: "r1" }, DETACHED);
    await runPage(ctx);
    expect(ctx.app.querySelector("#notifications")?.textContent).toBe("No notifications.");
    expect(ctx.app.querySelector("#notifications table")).toBeNull();
  });

  it("shows only how many recipients to those who may not change the report", () => {
    expect(recipientsText(delivery(1, { recipients: 3 }))).toBe("3 recipients");
    expect(recipientsText(delivery(1, { recipients: 1 }))).toBe("1 recipient");
    expect(recipientsText(delivery(1, { recipients: 0 }))).toBe("—");
  });

  it("updates a delivery's row in place while the run is polled", async () => {
    let answer: RunDetail = detail("r1", { status: "running", has_html: false,
      notifications: [delivery(1, { status: "pending", attempts: 0, sent_at: null })] });
    const ctx = context(fakeApi({ [PATH]: () => answer }), "run", { report: "sales_summary", run: "r1" }, DETACHED);
    await runPage(ctx, 1000);
    const row = ctx.app.querySelector('#notifications tr[data-key="1"]');
    expect(row?.textContent).toContain("pending");
    answer = detail("r1", { has_html: false, notifications: [delivery(1), delivery(2, { event: "success" })] });
    await vi.advanceTimersByTimeAsync(1000);
    expect(ctx.app.querySelector('#notifications tr[data-key="1"]')).toBe(row);
    expect(row?.textContent).toContain("sent");
    expect(rows(ctx.app)).toHaveLength(2);
  });
});
