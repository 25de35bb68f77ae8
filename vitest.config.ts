import { defineConfig } from "vitest/config";

/**
 * One vitest project per part of the platform; `npm test` (scripts/test.ts) runs them all.
 * The `convex` files run twice: against convex-test's mock and against the local backend's
 * engine in-process, so any difference between the two shows up as a failing test.
 */
export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "domain",
          include: ["domain/**/*.test.ts"],
          environment: "node",
        },
      },
      {
        test: {
          name: "convex",
          include: ["convex/**/*.test.ts"],
          environment: "edge-runtime",
          // Scheduled retries (an outbox push to no PartyKit) may log after a file's last test;
          // printed directly, such a log cannot race the worker's teardown and fail the run.
          disableConsoleIntercept: true,
          // Inlined so vite transforms them: the components' test helpers glob their TS sources.
          server: { deps: { inline: ["convex-test", /@convex-dev\//] } },
        },
      },
      {
        test: {
          name: "convex-local",
          include: ["convex/**/*.test.ts"],
          environment: "node",
          env: { CONVEX_TEST_ENGINE: "local" },
          server: { deps: { inline: [/@convex-dev\//] } },
          // The first test of each file waits for the convex/ folder to be bundled.
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: "backend",
          include: ["backend/test/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "party",
          include: ["party/**/*.test.ts"],
          environment: "node",
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        // The security audit (docs/SECURITY.md): starts the platform's servers and sends them
        // hostile input; `npm run audit:security` runs it with more fuzzing runs.
        test: {
          name: "security",
          include: ["security/**/*.test.ts"],
          environment: "node",
          testTimeout: 180_000,
          hookTimeout: 180_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: "web",
          include: ["web/test/**/*.test.ts"],
          environment: "node",
          testTimeout: 120_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
