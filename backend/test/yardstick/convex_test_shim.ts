/**
 * Stands in for convex-test's `index.ts` when the public get-convex/convex-test suite runs
 * against the local engine (see scripts/yardstick.ts): the suite's `import { convexTest } from
 * "../index"` lands here, and every `t` it builds is the local harness over the engine.
 */
import path from "node:path";
import { convexTest as harnessConvexTest, type HarnessOptions } from "../../src/testing/harness.js";

type Modules = Record<string, () => Promise<unknown>>;
type Limits = HarnessOptions["transactionLimits"];

function checkoutConvexDir(): string {
  const checkout = process.env.CONVEX_TEST_CHECKOUT;
  if (!checkout) throw new Error("CONVEX_TEST_CHECKOUT is not set");
  return path.join(checkout, "convex");
}

function isSchemaDefinition(value: unknown): boolean {
  return typeof value === "object" && value !== null && "tables" in value && typeof (value as { tables: unknown }).tables === "object";
}

export function convexTest(schemaOrOptions?: any, modules?: Modules): any {
  let schema: unknown = undefined;
  let transactionLimits: Limits = false;
  if (schemaOrOptions === undefined || isSchemaDefinition(schemaOrOptions)) {
    schema = schemaOrOptions;
  } else {
    schema = schemaOrOptions.schema;
    modules = schemaOrOptions.modules ?? modules;
    transactionLimits = schemaOrOptions.transactionLimits ?? false;
  }
  void modules; // the engine loads the checkout's convex/ folder itself
  return harnessConvexTest(undefined, undefined, {
    engine: "local",
    convexDir: checkoutConvexDir(),
    schema: schema ?? null,
    transactionLimits,
  });
}

export type TestConvex<_S = unknown> = ReturnType<typeof convexTest>;
export type TestConvexForDataModel<_D = unknown> = ReturnType<typeof convexTest>;
