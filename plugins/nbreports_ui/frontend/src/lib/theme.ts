// Light or dark, as Airflow shows it. Airflow 3's UI (Chakra UI v3 + next-themes, attribute
// "class") marks its <html> with class="light" or class="dark" and style="color-scheme: …",
// resolved from the user's choice (light, dark or system). Framed by Airflow (same origin), these
// pages follow the parent's <html> and watch it for changes; standalone, or when the parent says
// nothing, they follow prefers-color-scheme. The colours are CSS custom properties in style.css,
// one set per :root[data-theme].

export type Mode = "light" | "dark";

const asMode = (v: string | null | undefined): Mode | null => (v === "dark" || v === "light" ? v : null);

/** The colour mode a document's root element declares, or null when it declares none. */
export function modeOf(doc: Document): Mode | null {
  const root = doc.documentElement;
  if (root.classList.contains("dark")) return "dark";
  if (root.classList.contains("light")) return "light";
  return asMode(root.getAttribute("data-theme")) ?? asMode(root.getAttribute("data-color-mode"))
    ?? asMode(root.style.colorScheme.trim());
}

/** The parent's document when framed by a same-origin page, else null. */
export function parentDocument(win: Window): Document | null {
  if (win.parent === win) return null;
  try {
    return win.parent.document;
  } catch {
    return null; // cross-origin parent
  }
}

export function applyMode(doc: Document, mode: Mode): void {
  const root = doc.documentElement;
  if (root.dataset.theme !== mode) root.dataset.theme = mode;
  root.style.colorScheme = mode;
}

/** Keep `win`'s document in the parent's (or the system's) colour mode; returns a stop function. */
export function followTheme(win: Window = window): () => void {
  const media = typeof win.matchMedia === "function" ? win.matchMedia("(prefers-color-scheme: dark)") : null;
  const parent = parentDocument(win);
  const resolve = (): Mode => (parent ? modeOf(parent) : null) ?? (media?.matches ? "dark" : "light");
  const update = (): void => { applyMode(win.document, resolve()); };
  update();

  const stops: (() => void)[] = [];
  if (media) {
    media.addEventListener("change", update);
    stops.push(() => { media.removeEventListener("change", update); });
  }
  if (parent) {
    try {
      // the observer is the parent window's own, so it is not torn down with a detached realm
      const Observer = parent.defaultView?.MutationObserver ?? MutationObserver;
      const observer = new Observer(update);
      observer.observe(parent.documentElement,
        { attributes: true, attributeFilter: ["class", "style", "data-theme", "data-color-mode"] });
      stops.push(() => { observer.disconnect(); });
    } catch {
      // the parent went away or refuses: the system preference stays
    }
  }
  return () => { stops.forEach((stop) => { stop(); }); };
}
