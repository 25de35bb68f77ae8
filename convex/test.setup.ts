/// <reference types="vite/client" />
/**
 * Shared test setup for every `convex/*.test.ts` (files with two dots are not deployed).
 * `newTest()` gives a fresh isolated backend with the schema and every module loaded: the
 * mock engine of convex-test under `--project convex`, the project's local backend engine
 * under `--project convex-local` (`CONVEX_TEST_ENGINE=local`), so any difference between the
 * two shows up as a failing test.
 */
import aggregateTest from "@convex-dev/aggregate/test";
import migrationsTest from "@convex-dev/migrations/test";
import rateLimiterTest from "@convex-dev/rate-limiter/test";
import workpoolTest from "@convex-dev/workpool/test";
import { convexTest } from "../backend/src/testing/harness";
import schema from "./schema";

export const modules = import.meta.glob("./**/*.ts");

/** Environment the functions read (see env.ts); tests never depend on the developer's shell. */
export const TEST_ENV: Record<string, string> = {
  PORTAL_URL: "http://127.0.0.1:5173",
  PARTYKIT_URL: "http://127.0.0.1:1999",
  PARTYKIT_PUSH_SECRET: "test-partykit-push-secret",
  STRIPE_WEBHOOK_SECRET: "whsec_test_secret",
  LOCAL_AUTH_ISSUER: "https://auth.test",
  // Built in on Convex and on the local backend (its site's origin); convex-test has none.
  CONVEX_SITE_URL: "http://127.0.0.1:3211",
};

/** `env`: extra deployment variables for this test (on top of TEST_ENV). */
export function newTest(env: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(TEST_ENV)) {
    if (process.env[name] === undefined) process.env[name] = value;
  }
  const t = convexTest(schema, modules, { env: { ...TEST_ENV, ...env } });
  registerComponents(t);
  return t;
}

/**
 * The components of convex.config.ts, as convex-test needs them registered (the local engine
 * installs them from convex.config.ts itself and only checks they are there).
 */
function registerComponents(t: Parameters<typeof rateLimiterTest.register>[0]) {
  rateLimiterTest.register(t, "rateLimiter");
  workpoolTest.register(t, "webhookWorkpool");
  aggregateTest.register(t, "invoiceRevenue");
  aggregateTest.register(t, "invoiceOutstanding");
  migrationsTest.register(t, "migrations");
}

export type TestConvex = ReturnType<typeof newTest>;
