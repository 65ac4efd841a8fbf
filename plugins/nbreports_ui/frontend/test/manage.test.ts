import { describe, expect, it } from "vitest";
import { ApiError } from "../src/lib/api";
import { AuditLog, accessSection, names, uploadNotebook } from "../src/pages/manage";
import { reportPage } from "../src/pages/report";
import { context, fakeApi, flush, page, report, run } from "./helpers";
import type { AuditEntry, AuditPage, ReportDetail } from "../src/lib/types";

const BASE = "/reports/sales_summary";
const entry = (id: number, over: Partial<AuditEntry> = {}): AuditEntry => ({
  id, at: "2024-06-01T06:00:00+00:00", actor: "alice", action: "upload", outcome: "done", report: "sales_summary",
  details: { sha256: "c".repeat(64) }, ...over,
});
const audit = (items: AuditEntry[], over: Partial<AuditPage> = {}): AuditPage =>
  ({ items, total: items.length, limit: 20, next_cursor: null, ...over });
const grants = { view: { teams: ["data-eng"], roles: [], users: ["carol"] }, execute: { teams: [], roles: [], users: [] } };

function routes(detail: ReportDetail): Record<string, unknown> {
  return {
    [BASE]: detail,
    [`${BASE}/runs`]: page([run("r1")]),
    [`${BASE}/versions`]: { report: "sales_summary", versions: [
      { sha256: "a".repeat(64), source: "git", created_at: "2024-06-01T00:00:00Z", runs: 1, last_run_at: null }] },
    [`${BASE}/audit`]: audit([entry(2, { outcome: "denied", actor: "bob" }), entry(1)]),
  };
}

describe("report page write controls", () => {
  it("are shown to those who may change the report", async () => {
    const api = fakeApi(routes(report({ allowed: ["view", "execute", "change"], access: grants, restricted: false })));
    const ctx = context(api, "report", { report: "sales_summary" });
    await reportPage(ctx);
    expect(ctx.app.querySelector("#upload")).not.toBeNull();
    expect(ctx.app.querySelector("#save-access")).not.toBeNull();
    expect(ctx.app.querySelector<HTMLInputElement>("#access-view-users")?.value).toBe("carol");
    expect(ctx.app.querySelectorAll("button.restore")).toHaveLength(1);
    expect(ctx.app.querySelector("#run-with-parameters")).not.toBeNull();
    const rows = [...ctx.app.querySelectorAll("#audit tbody tr")].map((r) => r.textContent);
    expect(rows[0]).toContain("bob");
    expect(rows[0]).toContain("denied");
  });

  it("are hidden from viewers, who still see the audit log", async () => {
    const ctx = context(fakeApi(routes(report({ allowed: ["view"] }))), "report", { report: "sales_summary" });
    await reportPage(ctx);
    expect(ctx.app.querySelector("#upload")).toBeNull();
    expect(ctx.app.querySelector("#save-access")).toBeNull();
    expect(ctx.app.querySelector("button.restore")).toBeNull();
    expect(ctx.app.querySelector("#run-with-parameters")).toBeNull(); // view is not execute
    expect(ctx.app.querySelectorAll("#audit tbody tr")).toHaveLength(2);
  });

  it("restore posts the version and redraws versions and audit", async () => {
    const api = fakeApi({ ...routes(report({ allowed: ["view", "execute", "change"], access: grants })),
      [`POST ${BASE}/versions/${"a".repeat(64)}/restore`]: { sha256: "a".repeat(64) } });
    const ctx = context(api, "report", { report: "sales_summary" });
    await reportPage(ctx);
    const before = api.calls.length;
    ctx.app.querySelector<HTMLButtonElement>("button.restore")?.click();
    await flush();
    await flush();
    expect(api.sent).toEqual([["POST", `${BASE}/versions/${"a".repeat(64)}/restore`, undefined]]);
    expect(api.calls.slice(before).map(([path]) => path).sort()).toEqual([`${BASE}/audit`, `${BASE}/versions`]);
  });
});

describe("manage", () => {
  it("uploads the file's text with its name", async () => {
    const api = fakeApi({ [`POST ${BASE}/notebook`]: { sha256: "d".repeat(64) } });
    const sha = await uploadNotebook(context(api), "sales_summary", { name: "x.ipynb", text: () => Promise.resolve("{}") });
    expect(sha).toBe("d".repeat(64));
    expect(api.sent).toEqual([["POST", `${BASE}/notebook`, { filename: "x.ipynb", content: "{}" }]]);
  });

  it("saves the access lists and shows the server's refusal", async () => {
    const api = fakeApi({ [`PUT ${BASE}/access`]: () => new ApiError("access.view.teams: unknown team 'x'", 400) });
    const ctx = context(api);
    ctx.app.append(accessSection(ctx, "sales_summary", grants, false, () => undefined));
    const teams = ctx.app.querySelector<HTMLInputElement>("#access-view-teams");
    if (!teams) throw new Error("no input");
    teams.value = "data-eng, x";
    ctx.app.querySelector<HTMLButtonElement>("#save-access")?.click();
    await flush();
    expect(api.sent[0]?.[2]).toEqual({ view: { teams: ["data-eng", "x"], roles: [], users: ["carol"] },
      execute: { teams: [], roles: [], users: [] } });
    const status = ctx.app.querySelector("#access-status");
    expect(status?.textContent).toBe("Not saved: access.view.teams: unknown team 'x'");
    expect(status?.classList.contains("error")).toBe(true);
  });

  it("splits lists on commas and spaces", () => {
    expect(names(" a, b  c,,")).toEqual(["a", "b", "c"]);
  });

  it("pages the audit log with its cursor and shows addresses only when the API sends them", async () => {
    const api = fakeApi({ [`${BASE}/audit`]: (p: { cursor?: number | null } | undefined) => p?.cursor
      ? audit([entry(1)], { total: 2 }) : audit([entry(2, { client: "10.0.0.1", user_agent: "Firefox" })],
        { total: 2, next_cursor: 2 }) });
    const ctx = context(api);
    const log = new AuditLog(ctx, "sales_summary");
    ctx.app.append(log.element);
    await log.load();
    expect(ctx.app.querySelector("#audit-range")?.textContent).toBe("1–1 of 2");
    expect(ctx.app.textContent).toContain("10.0.0.1");
    const older = [...ctx.app.querySelectorAll("button")].find((b) => b.textContent === "Older →");
    older?.click();
    await flush();
    expect(api.calls.at(-1)?.[1]).toEqual({ limit: 20, cursor: 2 });
    expect(ctx.app.querySelector("#audit-range")?.textContent).toBe("21–21 of 2");
  });
});
