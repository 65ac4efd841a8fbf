import { describe, expect, it, vi } from "vitest";
import { HIGHLIGHT, targetCell, versionPage } from "../src/pages/version";
import { context, fakeApi } from "./helpers";
import type { VersionDetail } from "../src/lib/types";

const SHA = "c".repeat(64);
const PATH = `/reports/sales_summary/versions/${SHA}`;

function detail(): VersionDetail {
  return {
    report: "sales_summary",
    version: { sha256: SHA, source: "upload", author: "alice", kernel: "python3", created_at: "2024-06-01T06:00:00Z" },
    cells: [
      { index: 0, id: "intro", cell_type: "markdown", source: "# Sales <script>alert(1)</script> margin" },
      { index: 1, id: "calc", cell_type: "code", source: "margin = revenue / cost\nmargins = [margin]" },
      { index: 2, id: null, cell_type: "raw", source: "raw margin" },
    ],
  };
}

describe("version page", () => {
  it("shows every cell as text, each with its id", async () => {
    const ctx = context(fakeApi({ [PATH]: detail() }), "version", { report: "sales_summary", version: SHA });
    const target = await versionPage(ctx, "", "");
    expect(target).toBeNull();
    expect(ctx.app.querySelector("h1")?.textContent).toBe(`Notebook version ${"c".repeat(12)}`);
    const cells = [...ctx.app.querySelectorAll(".nb-cell")];
    expect(cells.map((c) => c.id)).toEqual(["cell-0", "cell-1", "cell-2"]);
    expect(ctx.app.querySelector("script")).toBeNull();
    expect(cells[0]?.textContent).toContain("<script>alert(1)</script>");
    expect(ctx.app.querySelectorAll(`.${HIGHLIGHT}, mark`)).toHaveLength(0);
    expect(ctx.app.querySelector("#version-facts")?.textContent).toContain(SHA);
  });

  it("highlights the linked cell, scrolls to it and marks the query's words in it only", async () => {
    const scrolled = vi.fn();
    Element.prototype.scrollIntoView = scrolled;
    const ctx = context(fakeApi({ [PATH]: detail() }), "version", { report: "sales_summary", version: SHA });
    const target = await versionPage(ctx, "?cell=1&q=margin%20-cost%20kind:code", "#cell-1");
    expect(target?.id).toBe("cell-1");
    expect(target?.classList.contains(HIGHLIGHT)).toBe(true);
    expect(target?.getAttribute("aria-current")).toBe("location");
    expect(scrolled).toHaveBeenCalledOnce();
    expect([...ctx.app.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["margin", "margin"]);
    expect(target?.querySelectorAll("mark")).toHaveLength(2); // "margins" and "cost" are not marked
    expect(ctx.app.querySelectorAll(`.${HIGHLIGHT}`)).toHaveLength(1);
    expect(ctx.app.querySelector<HTMLAnchorElement>("header a.button")?.getAttribute("href"))
      .toBe("/nbreports/search?q=margin+-cost+kind%3Acode");
  });

  it("reads the cell from ?cell= or else the hash", () => {
    expect(targetCell("?cell=7", "#cell-2")).toBe(7);
    expect(targetCell("", "#cell-2")).toBe(2);
    expect(targetCell("?cell=x", "#top")).toBeNull();
    expect(targetCell("", "")).toBeNull();
  });

  it("says so when the version is not the report's", async () => {
    const ctx = context(fakeApi({}), "version", { report: "sales_summary", version: SHA });
    await expect(versionPage(ctx, "", "")).rejects.toThrow(`no ${PATH}`);
  });
});
