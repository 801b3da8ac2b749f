// ESLint for the TypeScript sources, tests and benches, with typescript-eslint's type-aware
// rules (the project's tsconfig.test.json covers src, test and bench), and the recommended rules
// for the plain JavaScript scripts. Formatting is Prettier's job (`npm run format:check`).
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import globals from "globals";

export default tseslint.config(
  {
    ignores: ["node_modules/", "dist/", ".demo/", ".cache/", "artifacts/"],
  },
  {
    files: ["**/*.ts"],
    extends: [js.configs.recommended, ...tseslint.configs.recommendedTypeChecked],
    languageOptions: {
      parserOptions: { project: "./tsconfig.test.json", tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // Tests and protocol code handle untyped JSON and Node-RED's loosely typed API on purpose.
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none" }],
      // A floating promise is a silent failure: every one must be awaited, returned, or voided on purpose.
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": ["error", { checksVoidReturn: { arguments: false } }],
      // `const node = this` is the Node-RED idiom for node constructors whose callbacks need the node.
      "@typescript-eslint/no-this-alias": "off",
    },
  },
  {
    // Tests and benches load the CommonJS scripts (scripts/demo.js, scorecard.js) and core
    // Node-RED nodes by path, which only require() can.
    files: ["test/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
  {
    files: ["**/*.js", "**/*.mjs"],
    extends: [js.configs.recommended],
    languageOptions: { sourceType: "commonjs", globals: { ...globals.node } },
  },
  {
    files: ["**/*.mjs"],
    languageOptions: { sourceType: "module" },
  },
  {
    // The editor scripts run in the browser, embedded in src/nodes/*.html: not linted here.
    files: ["test/**/*.ts"],
    languageOptions: { globals: { ...globals.mocha } },
  },
);
