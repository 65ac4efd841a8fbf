import { describe, expect, it } from "vitest";
import { markWords, queryTerms, snippetNodes } from "../src/lib/marks";

/** Text nodes as they are, elements as [tag:text]. */
function shape(nodes: Node[]): string {
  return nodes.map((n) => (n instanceof Element ? `[${n.tagName.toLowerCase()}:${n.textContent}]` : n.textContent))
    .join("");
}

describe("marks", () => {
  it("takes a query's plain words: phrases split, prefixes kept, filters, exclusions and operators dropped", () => {
    expect(queryTerms('Revenue "top  Products" rev* -forecast OR team:analytics report:"a b" -"not this" kind:code'))
      .toEqual([
        { word: "revenue", prefix: false }, { word: "top", prefix: false }, { word: "products", prefix: false },
        { word: "rev", prefix: true },
      ]);
    expect(queryTerms("df.revenue_total")).toEqual([
      { word: "df", prefix: false }, { word: "revenue", prefix: false }, { word: "total", prefix: false }]);
    expect(queryTerms('"unbalanced')).toEqual([{ word: "unbalanced", prefix: false }]);
    expect(queryTerms("")).toEqual([]);
  });

  it("marks whole words as the index sees them, case-insensitively, and prefixes", () => {
    const terms = queryTerms("margin rev*");
    expect(shape(markWords("zanzibar_margin = Revenue / margins", terms)))
      .toBe("zanzibar_[mark:margin] = [mark:Revenue] / margins");
    expect(shape(markWords("no match here", terms))).toBe("no match here");
    expect(markWords("a", [])).toHaveLength(1);
  });

  it("keeps markup in the text as text", () => {
    const nodes = markWords("<b>margin</b>", queryTerms("margin"));
    expect(shape(nodes)).toBe("<b>[mark:margin]</b>");
    expect(nodes.filter((n) => n instanceof Element).map((n) => n.nodeName)).toEqual(["MARK"]);
    const snippet = snippetNodes([{ text: "x <img src=x onerror=alert(1)> ", hit: false }, { text: "<i>y</i>", hit: true }]);
    const box = document.createElement("p");
    box.append(...snippet);
    expect(box.querySelector("img, i")).toBeNull();
    expect(box.querySelector("mark")?.textContent).toBe("<i>y</i>");
  });
});
