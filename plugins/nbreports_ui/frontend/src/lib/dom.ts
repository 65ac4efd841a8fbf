// The one way pages build DOM: h(tag, attrs, ...children). Strings always become text nodes
// (or textContent through the `text` attribute); there is no path to innerHTML.

export type Child = Node | string | number | null | undefined | false | readonly Child[];
export type Listener = (event: Event) => void;
export type AttrValue = string | number | boolean | null | undefined;
export type Attrs = Record<string, AttrValue | Listener>;

function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (typeof child === "string" || typeof child === "number") parent.appendChild(document.createTextNode(String(child)));
    else if (child instanceof Node) parent.appendChild(child);
    else append(parent, child);
  }
}

function apply(el: Element, attrs: Attrs | null | undefined): void {
  for (const [key, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (typeof value === "function") {
      if (!key.startsWith("on")) throw new TypeError(`h(): ${key} is a function but not an event`);
      el.addEventListener(key.slice(2), value);
    } else if (key.startsWith("on")) {
      throw new TypeError(`h(): event ${key} must be a function`);
    } else if (key === "text") {
      el.textContent = String(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

/** An HTML element with attributes (`text` sets textContent, `onX` adds a listener) and children. */
export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K, attrs?: Attrs | null, ...children: Child[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An SVG element, same rules as h(). */
export function s<K extends keyof SVGElementTagNameMap>(
  tag: K, attrs?: Attrs | null, ...children: Child[]
): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** Replace what `el` shows with `children`. */
export function show(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

/** Set an element's text only when it differs, so an unchanged field is not touched. */
export function setText(el: Element, text: string): boolean {
  if (el.textContent === text) return false;
  el.textContent = text;
  return true;
}

/** Make `target`'s children equal to `source`'s unless they already are (keeps focus otherwise). */
export function patchChildren(target: Element, source: Element): boolean {
  if (target.childNodes.length === source.childNodes.length
    && [...target.childNodes].every((node, i) => {
      const other = source.childNodes[i];
      return other !== undefined && node.isEqualNode(other);
    })) return false;
  target.replaceChildren(...source.childNodes);
  return true;
}
