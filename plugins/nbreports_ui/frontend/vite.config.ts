// Builds src/main.ts into one classic script (IIFE) and one stylesheet in ../static/, the file
// names pages.py serves and templates/page.html loads. The page's CSP is `script-src 'self'`:
// the bundle must not need eval or inline scripts (scripts/build-frontend.sh checks it).
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const out = fileURLToPath(new URL("../static", import.meta.url));

export default defineConfig({
  build: {
    outDir: out,
    emptyOutDir: false, // static/ may hold other, hand-written assets
    target: "es2022",
    sourcemap: true,
    minify: true,
    lib: {
      entry: fileURLToPath(new URL("src/main.ts", import.meta.url)),
      formats: ["iife"],
      name: "nbreports",
      fileName: () => "app.js",
      cssFileName: "style",
    },
  },
  test: {
    environment: "happy-dom",
    include: ["test/**/*.test.ts"],
    restoreMocks: true,
  },
});
