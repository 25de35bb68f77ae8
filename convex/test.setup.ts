/// <reference types="vite/client" />
/**
 * Shared test setup for every `convex/*.test.ts` (files with two dots are not deployed).
 * `newTest()` gives a fresh isolated backend with the schema and every module loaded: the
 * mock engine of convex-test under `--project convex`, the project's local backend engine
 * under `--project convex-local` (`CONVEX_TEST_ENGINE=local`), so any difference between the
 * two shows up as a failing test.
 */
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
};

export function newTest() {
  for (const [name, value] of Object.entries(TEST_ENV)) {
    if (process.env[name] === undefined) process.env[name] = value;
  }
  return convexTest(schema, modules, { env: { ...TEST_ENV } });
}

export type TestConvex = ReturnType<typeof newTest>;
