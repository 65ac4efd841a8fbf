// Flat config: typescript-eslint's type-checked rules, plus the page's security rules: nothing
// from the API may reach the DOM as HTML, and nothing may be evaluated as code.
import js from "@eslint/js";
import globals from "globals";
import tseslint from "typescript-eslint";

const noHtml = [
  { property: "innerHTML", message: "Put API data into the DOM as text (h(), textContent)." },
  { property: "outerHTML", message: "Put API data into the DOM as text (h(), textContent)." },
  { property: "insertAdjacentHTML", message: "Put API data into the DOM as text (h(), textContent)." },
  { property: "srcdoc", message: "Notebook HTML only goes into the sandboxed frame by URL." },
  { object: "document", property: "write", message: "No document.write." },
];

export default tseslint.config(
  { ignores: ["node_modules/", "dist/", "../static/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      globals: { ...globals.browser },
      parserOptions: { projectService: { allowDefaultProject: ["eslint.config.js"] },
        tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "no-eval": "error",
      "no-implied-eval": "off",
      "@typescript-eslint/no-implied-eval": "error",
      "no-new-func": "error",
      "no-restricted-properties": ["error", ...noHtml],
      "no-restricted-syntax": ["error",
        { selector: "CallExpression[callee.property.name='setAttribute'][arguments.0.value=/^on/]",
          message: "Event handlers are attached with addEventListener, never as attributes." }],
      "@typescript-eslint/restrict-template-expressions": ["error", { allowNumber: true }],
      "@typescript-eslint/consistent-type-imports": "error",
    },
  },
  {
    files: ["eslint.config.js"],
    ...tseslint.configs.disableTypeChecked,
  },
);
