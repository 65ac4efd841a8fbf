import { describe, expect, it } from "vitest";
import { h } from "../src/lib/dom";
import { KeyedTable } from "../src/lib/keyed";

interface Row { id: string; status: string }

const table = (): KeyedTable<Row> => new KeyedTable<Row>([
  { label: "Pick", cell: (r) => h("input", { type: "checkbox", value: r.id }) },
  { label: "Id", cell: (r) => r.id },
  { label: "Status", cell: (r) => h("span", { class: `badge ${r.status}`, text: r.status }) },
], (r) => r.id, "None.");

describe("KeyedTable", () => {
  it("shows the empty note, then rows", () => {
    const t = table();
    document.body.replaceChildren(t.element);
    expect(t.update([])).toBe(0);
    expect(t.element.textContent).toBe("None.");
    expect(t.update([{ id: "a", status: "running" }])).toBe(1);
    expect(t.element.querySelectorAll("tbody tr")).toHaveLength(1);
    expect(t.row("a")?.dataset.key).toBe("a");
  });

  it("changes only the cells that changed; rows, focus and checked boxes survive", () => {
    const t = table();
    document.body.replaceChildren(t.element);
    t.update([{ id: "a", status: "running" }, { id: "b", status: "success" }]);
    const rowA = t.row("a");
    const box = rowA?.querySelector("input");
    const idCell = rowA?.children[1]?.firstChild;
    if (!box) throw new Error("no box");
    box.checked = true;
    box.focus();
    expect(t.update([{ id: "a", status: "success" }, { id: "b", status: "success" }])).toBe(1);
    expect(t.row("a")).toBe(rowA);
    expect(rowA?.querySelector("input")).toBe(box);
    expect(box.checked).toBe(true);
    expect(document.activeElement).toBe(box);
    expect(rowA?.children[1]?.firstChild).toBe(idCell);
    expect(rowA?.querySelector(".badge")?.textContent).toBe("success");
  });

  it("adds new rows in order, moves and removes rows", () => {
    const t = table();
    t.update([{ id: "a", status: "success" }, { id: "b", status: "success" }]);
    const rowB = t.row("b");
    t.update([{ id: "c", status: "running" }, { id: "b", status: "success" }]);
    const keys = [...t.element.querySelectorAll("tbody tr")].map((r) => (r as HTMLElement).dataset.key);
    expect(keys).toEqual(["c", "b"]);
    expect(t.row("b")).toBe(rowB);
    expect(t.row("a")).toBeUndefined();
  });
});
