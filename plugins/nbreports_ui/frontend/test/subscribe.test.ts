import { describe, expect, it } from "vitest";
import { ApiError } from "../src/lib/api";
import { reportPage } from "../src/pages/report";
import { SubscribeToggle } from "../src/pages/subscribe";
import { context, fakeApi, flush, page, report, run } from "./helpers";
import type { Subscription } from "../src/lib/types";

const BASE = "/reports/sales_summary";
const SUB = `${BASE}/subscription`;
const no: Subscription = { subscribed: false, email: null };

function routes(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    [BASE]: report({ allowed: ["view"] }),
    [`${BASE}/runs`]: page([run("r1")]),
    [`${BASE}/versions`]: { report: "sales_summary", versions: [] },
    [`${BASE}/audit`]: { items: [], total: 0, limit: 20, next_cursor: null },
    [SUB]: no,
    ...extra,
  };
}

function parts(ctx: { app: HTMLElement }): { button: HTMLButtonElement; status: HTMLElement; email: HTMLInputElement } {
  const button = ctx.app.querySelector<HTMLButtonElement>("#subscribe");
  const status = ctx.app.querySelector<HTMLElement>("#subscribe-status");
  const email = ctx.app.querySelector<HTMLInputElement>("#subscribe-email");
  if (!button || !status || !email) throw new Error("the subscribe toggle is missing");
  return { button, status, email };
}

describe("subscribe toggle", () => {
  it("is on the report page of a viewer, not pressed, saying nothing is sent", async () => {
    const ctx = context(fakeApi(routes()), "report", { report: "sales_summary" });
    await reportPage(ctx);
    const { button, status, email } = parts(ctx);
    expect(button.textContent).toBe("Subscribe");
    expect(button.getAttribute("aria-pressed")).toBe("false");
    expect(button.getAttribute("aria-describedby")).toBe("subscribe-status");
    expect(button.disabled).toBe(false);
    expect(status.getAttribute("role")).toBe("status");
    expect(status.textContent).toContain("Not subscribed");
    expect(email.hidden).toBe(false);
  });

  it("subscribes with the account's address, then unsubscribes", async () => {
    const api = fakeApi(routes({
      [`PUT ${SUB}`]: { subscribed: true, email: "alice@example.com" },
      [`DELETE ${SUB}`]: no,
    }));
    const ctx = context(api, "report", { report: "sales_summary" });
    await reportPage(ctx);
    const { button, status, email } = parts(ctx);
    button.click();
    await flush();
    expect(api.sent).toEqual([["PUT", SUB, undefined]]); // no body: the server takes the account's address
    expect(button.textContent).toBe("Unsubscribe");
    expect(button.getAttribute("aria-pressed")).toBe("true");
    expect(status.textContent).toBe("Subscribed: notification mails go to alice@example.com.");
    expect(email.hidden).toBe(true);

    button.click();
    await flush();
    expect(api.sent[1]).toEqual(["DELETE", SUB, undefined]);
    expect(button.getAttribute("aria-pressed")).toBe("false");
    expect(button.textContent).toBe("Subscribe");
  });

  it("sends a typed address and shows the server's refusal as text", async () => {
    const api = fakeApi({ [SUB]: no,
      [`PUT ${SUB}`]: new ApiError("subscription: email: 'x@' is not an email address", 400) });
    const ctx = context(api, "report", { report: "sales_summary" });
    const toggle = new SubscribeToggle(ctx, "sales_summary");
    ctx.app.append(toggle.element);
    await toggle.load();
    toggle.email.value = " x@ ";
    toggle.button.click();
    await flush();
    expect(api.sent).toEqual([["PUT", SUB, { email: "x@" }]]);
    expect(toggle.status.textContent).toBe("Not subscribed: subscription: email: 'x@' is not an email address");
    expect(toggle.status.classList.contains("error")).toBe(true);
    expect(toggle.button.getAttribute("aria-pressed")).toBe("false");
    expect(toggle.button.disabled).toBe(false);
  });

  it("shows a subscription already there, and a failed load without breaking the page", async () => {
    const ctx = context(fakeApi(routes({ [SUB]: { subscribed: true, email: "carol@example.com" } })), "report",
      { report: "sales_summary" });
    await reportPage(ctx);
    expect(parts(ctx).button.getAttribute("aria-pressed")).toBe("true");
    expect(parts(ctx).status.textContent).toContain("carol@example.com");

    const broken = context(fakeApi(routes({ [SUB]: new ApiError("boom", 500) })), "report", { report: "sales_summary" });
    await reportPage(broken);
    expect(broken.app.querySelectorAll("#history a.run-link")).toHaveLength(1); // the page is there
    expect(parts(broken).button.disabled).toBe(true);
    expect(parts(broken).status.textContent).toBe("Subscription unknown: boom");
  });
});
