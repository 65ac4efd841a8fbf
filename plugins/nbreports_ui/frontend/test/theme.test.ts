import { afterEach, describe, expect, it, vi } from "vitest";
import { applyMode, followTheme, modeOf } from "../src/lib/theme";

function fakeMedia(dark: boolean): MediaQueryList & { fire(d: boolean): void } {
  const listeners = new Set<() => void>();
  const media = {
    matches: dark,
    addEventListener: (_: string, f: () => void) => { listeners.add(f); },
    removeEventListener: (_: string, f: () => void) => { listeners.delete(f); },
    fire(d: boolean) { media.matches = d; listeners.forEach((f) => { f(); }); },
  };
  return media as unknown as MediaQueryList & { fire(d: boolean): void };
}

function fakeWindow(parent: Document | "cross-origin" | null, media: MediaQueryList): Window {
  const win: Record<string, unknown> = { document, matchMedia: () => media };
  if (parent === null) win.parent = win;
  else if (parent === "cross-origin") win.parent = { get document(): Document { throw new DOMException("blocked", "SecurityError"); } };
  else win.parent = { document: parent };
  return win as unknown as Window;
}

const mode = (): string | undefined => document.documentElement.dataset.theme;

describe("theme", () => {
  afterEach(() => { delete document.documentElement.dataset.theme; });

  it("reads next-themes' class, data-theme and color-scheme", () => {
    const doc = document.implementation.createHTMLDocument();
    expect(modeOf(doc)).toBeNull();
    doc.documentElement.className = "chakra-ui-dark dark";
    expect(modeOf(doc)).toBe("dark");
    doc.documentElement.className = "light";
    expect(modeOf(doc)).toBe("light");
    doc.documentElement.className = "";
    doc.documentElement.setAttribute("data-theme", "dark");
    expect(modeOf(doc)).toBe("dark");
    doc.documentElement.removeAttribute("data-theme");
    doc.documentElement.style.colorScheme = "dark";
    expect(modeOf(doc)).toBe("dark");
  });

  it("standalone, follows prefers-color-scheme and its changes", () => {
    const media = fakeMedia(true);
    const stop = followTheme(fakeWindow(null, media));
    expect(mode()).toBe("dark");
    media.fire(false);
    expect(mode()).toBe("light");
    stop();
    media.fire(true);
    expect(mode()).toBe("light");
  });

  it("framed by Airflow, follows the parent's <html> as it changes", async () => {
    const parent = document.implementation.createHTMLDocument("airflow");
    parent.documentElement.className = "light";
    const stop = followTheme(fakeWindow(parent, fakeMedia(true)));
    expect(mode()).toBe("light");
    parent.documentElement.className = "dark";
    await vi.waitFor(() => { expect(mode()).toBe("dark"); });
    parent.documentElement.className = "light";
    await vi.waitFor(() => { expect(mode()).toBe("light"); });
    stop();
  });

  it("framed by a page that says nothing or cannot be read, uses the system's", () => {
    followTheme(fakeWindow(document.implementation.createHTMLDocument(), fakeMedia(true)))();
    expect(mode()).toBe("dark");
    followTheme(fakeWindow("cross-origin", fakeMedia(false)))();
    expect(mode()).toBe("light");
  });

  it("applyMode sets data-theme and color-scheme", () => {
    applyMode(document, "dark");
    expect(mode()).toBe("dark");
    expect(document.documentElement.style.colorScheme).toBe("dark");
  });
});
