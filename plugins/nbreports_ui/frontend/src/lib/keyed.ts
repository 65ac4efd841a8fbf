// A table whose rows are keyed (by run id, scrap name, …): update(items) changes only the cells
// whose rendering changed, moves rows only when their order changed, and keeps the rest of the
// DOM as it is, so a poll does not lose scroll position, focus, a checked box or an open details.
import { h, patchChildren } from "./dom";
import { emptyNote, renderRow, tableHead, type Column } from "./ui";

export class KeyedTable<T> {
  readonly element: HTMLElement;
  private readonly table: HTMLTableElement;
  private readonly body: HTMLTableSectionElement;
  private readonly empty: HTMLElement;
  private readonly rows = new Map<string, HTMLTableRowElement>();

  constructor(
    private readonly columns: readonly Column<T>[],
    private readonly keyOf: (row: T) => string,
    emptyText?: string,
    attrs?: Record<string, string>,
  ) {
    this.body = h("tbody");
    this.table = h("table", {}, tableHead(columns), this.body);
    this.empty = emptyNote(emptyText);
    this.element = h("div", { class: "keyed-table", ...attrs }, this.empty);
  }

  /** The row of `key`, if shown. */
  row(key: string): HTMLTableRowElement | undefined {
    return this.rows.get(key);
  }

  /** Show `items` in this order; returns how many rows were added, changed or removed. */
  update(items: readonly T[]): number {
    let changes = 0;
    const wanted = new Set<string>();
    items.forEach((item, index) => {
      const key = this.keyOf(item);
      wanted.add(key);
      const fresh = renderRow(this.columns, item, index);
      fresh.dataset.key = key;
      let row = this.rows.get(key);
      if (!row) {
        row = fresh;
        this.rows.set(key, row);
        changes++;
      } else {
        let changed = false;
        const cells = [...fresh.children];
        for (let i = 0; i < cells.length; i++) {
          const old = row.children[i];
          const cell = cells[i];
          if (old && cell && patchChildren(old, cell)) changed = true;
        }
        if (changed) changes++;
      }
      const at = this.body.children[index];
      if (at !== row) this.body.insertBefore(row, at ?? null);
    });
    for (const [key, row] of this.rows) {
      if (!wanted.has(key)) { row.remove(); this.rows.delete(key); changes++; }
    }
    const content = items.length ? this.table : this.empty;
    if (this.element.firstChild !== content) this.element.replaceChildren(content);
    return changes;
  }
}
