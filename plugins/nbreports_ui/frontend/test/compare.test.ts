import { describe, expect, it } from "vitest";
import { comparePage, diffText, lineClass } from "../src/pages/compare";
import { start } from "../src/router";
import { context, fakeApi, run } from "./helpers";

describe("compare page", () => {
  it("draws both runs and the diffs", async () => {
    const ctx = context(fakeApi({ "/reports/sales_summary/compare": {
      report: "sales_summary", base: run("a"), other: run("b"), same_version: true,
      parameters: [{ key: "top_n", change: "changed", base: 3, other: 2 }],
      parameters_summary: { changed: 1, added: 0, removed: 0, same: 1 },
      scraps: [], scraps_summary: { changed: 0, added: 0, removed: 0, same: 0 },
      notebook_diff: { identical: false, text: "## cell 1\n- a\n+ b" },
    } }), "compare", { report: "sales_summary", base: "a", other: "b" });
    await comparePage(ctx);
    expect(ctx.app.querySelector("h1")?.textContent).toBe("Compare runs of sales_summary");
    const row = [...ctx.app.querySelectorAll("tr")].find((tr) => tr.querySelector("code")?.textContent === "top_n");
    expect(row?.textContent).toContain("changed");
    expect([...ctx.app.querySelectorAll("#nbdiff span")].map((s) => s.className)).toEqual(["hunk", "del", "add"]);
  });

  it("line classes and identical notebooks", () => {
    expect(lineClass("  > x")).toBe("add");
    expect(lineClass("<")).toBe("del");
    expect(lineClass("context")).toBe("");
    expect(diffText({ identical: true, text: "" }).textContent).toBe("The notebooks are identical.");
  });

  it("the router shows an error for an unknown page", async () => {
    const ctx = context(fakeApi({}), "nope");
    await start(ctx);
    expect(ctx.app.querySelector(".error")?.textContent).toContain('unknown page "nope"');
  });
});
