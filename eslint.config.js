import convexPlugin from "@convex-dev/eslint-plugin";
import { defineConfig, globalIgnores } from "eslint/config";
import tseslint from "typescript-eslint";

export default defineConfig(
  globalIgnores([
    "**/node_modules/",
    "**/_generated/",
    "**/dist/",
    "**/dist-widget/",
    ".data/",
    ".partykit/",
    ".build/",
    "artifacts/",
    "bench/results/",
  ]),
  {
    files: ["**/*.{ts,tsx,mts,cts}"],
    extends: [tseslint.configs.recommended],
    rules: {
      // `_`-prefixed names are deliberately unused (positional args, destructured-away fields).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrorsIgnorePattern: "^_" },
      ],
    },
  },
  // Convex's recommended rules, for the deployed functions folder only (the plugin's own
  // pattern, **/convex/**, would also catch test fixtures elsewhere in the repo).
  ...convexPlugin.configs.recommended.map((config) => ({ ...config, files: ["convex/**/*.ts"] })),
  {
    // Type information lets the Convex rules see table names (fewer false positives, autofixes).
    files: ["convex/**/*.ts"],
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
  {
    // Tests and their helpers run under vitest, never in a deployment: they may read process.env
    // (e.g. CONVEX_TEST_ENGINE).
    files: ["convex/**/*.test.ts", "convex/test.*.ts"],
    rules: { "@convex-dev/no-process-env": "off" },
  },
  {
    // Tests, benchmarks and the test harness (which mirrors convex-test's any-typed API) poke
    // at dynamic values: raw syscall results, arbitrary function handlers.
    files: ["**/*.test.ts", "backend/test/**/*.ts", "backend/src/testing/**/*.ts", "bench/**/*.ts"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },
);
