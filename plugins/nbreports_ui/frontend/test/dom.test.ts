import { describe, expect, it, vi } from "vitest";
import { h, patchChildren, s, setText, show } from "../src/lib/dom";

describe("h", () => {
  it("puts strings in as text, never as HTML", () => {
    const el = h("div", { title: "<b>x</b>" }, "<img src=x onerror=alert(1)>", 3, null, false, ["a", ["b"]]);
    expect(el.children).toHaveLength(0);
    expect(el.textContent).toBe("<img src=x onerror=alert(1)>3ab");
    expect(el.getAttribute("title")).toBe("<b>x</b>");
  });

  it("sets text, boolean and skipped attributes", () => {
    const el = h("input", { type: "checkbox", disabled: true, checked: false, value: null, "data-x": 1 });
    expect(el.hasAttribute("disabled")).toBe(true);
    expect(el.getAttribute("disabled")).toBe("");
    expect(el.hasAttribute("checked")).toBe(false);
    expect(el.hasAttribute("value")).toBe(false);
    expect(el.dataset.x).toBe("1");
    // reading innerHTML shows the markup was escaped
    // eslint-disable-next-line no-restricted-properties
    expect(h("p", { text: "<i>t</i>" }).innerHTML).toBe("&lt;i&gt;t&lt;/i&gt;");
  });

  it("attaches listeners and refuses handler strings", () => {
    const click = vi.fn();
    h("button", { onclick: click }).click();
    expect(click).toHaveBeenCalledOnce();
    expect(() => h("a", { onclick: "alert(1)" })).toThrow(TypeError);
    expect(() => h("a", { href: () => undefined })).toThrow(TypeError);
  });

  it("makes SVG elements in the SVG namespace", () => {
    const svg = s("svg", { viewBox: "0 0 1 1" }, s("title", { text: "t" }));
    expect(svg.namespaceURI).toBe("http://www.w3.org/2000/svg");
    expect(svg.firstElementChild?.namespaceURI).toBe("http://www.w3.org/2000/svg");
  });
});

describe("patching", () => {
  it("leaves equal children alone and replaces different ones", () => {
    const target = h("td", {}, h("span", { class: "badge running", text: "running" }));
    const kept = target.firstChild;
    expect(patchChildren(target, h("td", {}, h("span", { class: "badge running", text: "running" })))).toBe(false);
    expect(target.firstChild).toBe(kept);
    expect(patchChildren(target, h("td", {}, h("span", { class: "badge success", text: "success" })))).toBe(true);
    expect(target.textContent).toBe("success");
  });

  it("setText and show", () => {
    const p = h("p", { text: "a" });
    expect(setText(p, "a")).toBe(false);
    expect(setText(p, "b")).toBe(true);
    show(p, "x", h("b", { text: "y" }));
    expect(p.textContent).toBe("xy");
  });
});
