import { describe, expect, it, vi } from "vitest";
import { airflow, airflowLink, canNavigateTop, compareUrl, htmlUrl, navigateTop, runUrl, searchUrl, versionUrl }
  from "../src/lib/links";
import { context, fakeApi } from "./helpers";

function framedWindow(sandbox: string | null): { win: Window; topDoc: Document } {
  const topDoc = document.implementation.createHTMLDocument("airflow");
  // made by another document, as Airflow's <iframe> is made by Airflow's
  const frame = topDoc.createElement("iframe");
  if (sandbox !== null) frame.setAttribute("sandbox", sandbox);
  const top = { document: topDoc } as unknown as Window;
  const win = { top, parent: top, frameElement: frame, location: new URL("http://af/nbreports/reports/x") } as unknown as Window;
  return { win, topDoc };
}

describe("links", () => {
  const ctx = context(fakeApi({}));

  it("encodes names and ids", () => {
    expect(runUrl(ctx, "a b", "r/1")).toBe("/nbreports/reports/a%20b/runs/r%2F1");
    expect(htmlUrl(ctx, "r", "1")).toBe("/nbreports/content/reports/r/runs/1/report.html");
    expect(compareUrl(ctx, "r", "a", "b&c")).toBe("/nbreports/reports/r/compare?base=a&other=b%26c");
    expect(versionUrl(ctx, "r", "abc", 3, "a&b")).toBe("/nbreports/reports/r/versions/abc?cell=3&q=a%26b#cell-3");
    expect(versionUrl(ctx, "r", "abc", 0)).toBe("/nbreports/reports/r/versions/abc?cell=0#cell-0");
    expect(versionUrl(ctx, "r", "abc")).toBe("/nbreports/reports/r/versions/abc");
    expect(searchUrl(ctx, "rev* team:x", 2)).toBe("/nbreports/search?q=rev*+team%3Ax&page=2");
    expect(searchUrl(ctx, "x", 1)).toBe("/nbreports/search?q=x");
    expect(searchUrl(ctx)).toBe("/nbreports/search");
    expect(airflow.dagRun("d", "manual__2024-01-01T00:00:00+00:00"))
      .toBe("/dags/d/runs/manual__2024-01-01T00%3A00%3A00%2B00%3A00");
  });

  it("an Airflow link targets the top window", () => {
    const a = airflowLink(ctx, "/dags/x", "Run", { id: "run-with-parameters", class: "button" });
    expect(a.getAttribute("href")).toBe("/dags/x");
    expect(a.target).toBe("_top");
    expect(a.id).toBe("run-with-parameters");
    expect(a.hasAttribute("data-airflow")).toBe(true);
  });

  it("knows when the frame may navigate the top window itself", () => {
    expect(canNavigateTop(window)).toBe(true); // not framed
    expect(canNavigateTop(framedWindow(null).win)).toBe(true);
    expect(canNavigateTop(framedWindow("allow-scripts allow-top-navigation-by-user-activation").win)).toBe(true);
    expect(canNavigateTop(framedWindow("allow-scripts allow-same-origin allow-forms allow-downloads").win)).toBe(false);
    expect(canNavigateTop(framedWindow("").win)).toBe(false);
    // what the frame element is, is not asked with instanceof: it comes from the parent's realm
    const { win } = framedWindow("allow-scripts allow-same-origin");
    Object.defineProperty(win, "frameElement", { value: { getAttribute: () => "allow-scripts allow-same-origin" } });
    expect(canNavigateTop(win)).toBe(false);
  });

  it("in Airflow's sandboxed frame, follows the link from Airflow's own document", () => {
    const { win, topDoc } = framedWindow("allow-scripts allow-same-origin allow-forms allow-downloads");
    const clicked = vi.fn((ev: Event) => { ev.preventDefault(); return (ev.target as HTMLAnchorElement).href; });
    topDoc.addEventListener("click", clicked);
    expect(navigateTop("/dags/sales_summary", win)).toBe(true);
    expect(clicked).toHaveBeenCalledOnce();
    expect(clicked.mock.results[0]?.value).toBe("http://af/dags/sales_summary");
    expect(topDoc.querySelectorAll("a")).toHaveLength(0); // the helper link is gone again
  });

  it("leaves the navigation to the link when the frame may do it", () => {
    const { win } = framedWindow("allow-scripts allow-top-navigation");
    expect(navigateTop("/dags/x", win)).toBe(false);
  });
});
