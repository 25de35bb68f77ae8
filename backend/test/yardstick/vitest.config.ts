/**
 * Runs the convex/*.test.ts of a get-convex/convex-test checkout (CONVEX_TEST_CHECKOUT) with
 * its `../index` (convex-test itself) replaced by the local engine's harness. Started by
 * scripts/yardstick.ts, which prints the count.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, "../../..");
const checkout = process.env.CONVEX_TEST_CHECKOUT ?? path.join(repoRoot, ".missing-convex-test-checkout");

export default defineConfig({
  root: checkout,
  resolve: {
    alias: [
      { find: /^\.\.\/index(\.ts)?$/, replacement: path.join(here, "convex_test_shim.ts") },
    ],
  },
  test: {
    include: ["convex/*.test.ts"],
    environment: "node",
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    env: { CONVEX_TEST_ENGINE: "local" },
  },
});
