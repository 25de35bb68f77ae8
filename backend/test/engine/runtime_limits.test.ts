/**
 * Convex's runtime rules and transaction limits, with Convex's own messages: what runs on the
 * local engine must also run on Convex cloud.
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalEngine } from "../../src/engine/engine.js";
import { loadApp } from "../../src/engine/loader.js";
import { checkDocumentLimits, formatBytes } from "../../src/engine/limits.js";
import { assertSchemaIdentifiers } from "../../src/engine/validate.js";
import { admin, fixtureDir, m, openFixtureEngine, q, removeTempDirs, tempDir } from "./helpers.js";

const fixtures = path.resolve(fixtureDir, "..");
let engine: LocalEngine;

beforeAll(async () => {
  engine = await openFixtureEngine({ transactionLimits: { documentsRead: 50, documentsWritten: 20 } });
});
afterAll(async () => {
  await engine.close();
  removeTempDirs();
});

function failure(outcome: { success: boolean; errorMessage?: string }): string {
  expect(outcome.success).toBe(false);
  return outcome.errorMessage ?? "";
}

describe("the default runtime", () => {
  it("refuses fetch and timers in queries and mutations with Convex's message, allows them in actions", async () => {
    const advice = "in queries and mutations. Please consider using an action. See https://docs.convex.dev/functions/actions for more details.";
    expect(failure(await engine.runQuery("limits:fetchInQuery", [{}], admin))).toContain(`Can't use fetch() ${advice}`);
    expect(failure(await engine.runMutation("limits:timerInMutation", [{}], admin))).toContain(`Can't use setTimeout ${advice}`);
    expect(failure(await engine.runQuery("limits:intervalInQuery", [{}], admin))).toContain(`Can't use setInterval ${advice}`);
    expect(await engine.runAction("limits:timerInAction", [{}], admin)).toMatchObject({ success: true, value: "waited" });
  });

  it("gives functions the Convex global that convex/server reads", async () => {
    expect(await q(engine, "limits:globalConvex")).toBe("function");
  });

  it("refuses a module without \"use node\" that imports a Node built-in, as the CLI does", async () => {
    const error = await loadApp(path.join(fixtures, "node_builtin_app"), tempDir(), {}).catch((e: Error) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('Could not resolve "node:fs"');
    expect((error as Error).message).toContain('It looks like you are using Node APIs from a file without the "use node" directive.');
  });

  it("runs \"use node\" actions in Node.js and refuses queries or mutations in such a module", async () => {
    const ok = await loadApp(path.join(fixtures, "use_node_action_app"), tempDir(), {});
    expect([...ok.nodeModules]).toEqual(["nodeStuff"]);
    const error = await loadApp(path.join(fixtures, "use_node_query_app"), tempDir(), {}).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      "`hostQuery` defined in `nodeStuff.js` is a Query function. Only actions can be defined in Node.js. See https://docs.convex.dev/functions/actions for more details.",
    );
  });

  it("reuses a build whose sources did not change instead of bundling again", async () => {
    const root = tempDir();
    const first = await loadApp(path.join(fixtures, "use_node_action_app"), root, {});
    const second = await loadApp(path.join(fixtures, "use_node_action_app"), root, {});
    expect([first.bundled, second.bundled]).toEqual([true, false]);
  });
});

describe("transaction limits", () => {
  it("stops a transaction that reads or writes too many documents, with Convex's messages", async () => {
    expect(failure(await engine.runMutation("limits:insertMany", [{ count: 21 }], admin))).toContain(
      "Too many writes in a single function execution (limit: 20)",
    );
    expect(await q(engine, "limits:readAll")).toBe(0); // the failed mutation wrote nothing
    for (let i = 0; i < 3; i++) await m(engine, "limits:insertMany", { count: 20 });
    expect(failure(await engine.runQuery("limits:readAll", [{}], admin))).toContain(
      "Too many documents read in a single function execution (limit: 50). Consider using smaller limits in your queries",
    );
  });

  it("lets a nested call lower its own budget, never raise it", async () => {
    expect(failure(await engine.runQuery("limits:readNested", [{ documentsRead: 5 }], admin))).toContain("(limit: 5)");
    expect(failure(await engine.runQuery("limits:readNested", [{ documentsRead: 10_000 }], admin))).toContain("(limit: 50)");
  });

  it("reports usage through ctx.meta.getTransactionMetrics()", async () => {
    const fresh = await openFixtureEngine();
    try {
      const metrics = await m(fresh, "limits:metrics");
      expect(metrics.documentsWritten).toEqual({ used: 1, remaining: 16_000 - 1 });
      expect(metrics.documentsRead.used).toBe(1);
      expect(metrics.databaseQueries.used).toBe(1);
      expect(metrics.bytesRead.used).toBe(metrics.bytesWritten.used);
      expect(metrics.bytesRead.used).toBeGreaterThan(0);
    } finally {
      await fresh.close();
    }
  });

  it("refuses too deeply nested arguments and too large results", async () => {
    let deep: unknown = 1;
    for (let i = 0; i < 70; i++) deep = [deep];
    expect(failure(await engine.runQuery("limits:deepArgs", [{ value: deep as never }], admin))).toContain(
      "Value is too nested (nested 72 levels deep > maximum nesting 64)",
    );
    // Building a 17 MiB result takes a while on a busy machine: not what this test is about.
    const patient = await openFixtureEngine({ transactionTimeoutMs: 60_000 });
    try {
      expect(failure(await patient.runQuery("limits:bigResult", [{ bytes: 17 * 1024 * 1024 }], admin))).toMatch(
        /^Function limits:bigResult return value is too large \(actual: 17 MiB, limit: 16 MiB\)$/,
      );
    } finally {
      await patient.close();
    }
  });

  it("refuses documents over 1 MiB or nested deeper than 16 levels", () => {
    expect(() => checkDocumentLimits({ body: "x".repeat(1 << 20) })).toThrow(/^Value is too large \(1 MiB > maximum size 1 MiB\)$/);
    let deep: Record<string, unknown> = { leaf: 1 };
    for (let i = 0; i < 16; i++) deep = { child: deep };
    expect(() => checkDocumentLimits(deep as never)).toThrow("Document is too nested (nested 17 levels deep > maximum nesting 16)");
    expect(formatBytes(1536)).toBe("1.5 KiB");
  });
});

describe("Convex APIs beyond the database", () => {
  it("runs a stale-snapshot query inside a mutation without its pending writes", async () => {
    const fresh = await openFixtureEngine();
    try {
      await m(fresh, "limits:insertMany", { count: 2 });
      expect(await m(fresh, "limits:staleSnapshot")).toEqual({ fresh: 3, stale: 2 });
    } finally {
      await fresh.close();
    }
  });

  it("accepts log.audit and names the function in getFunctionMetadata", async () => {
    expect(await q(engine, "limits:audited")).toEqual({ name: "limits:audited", componentPath: "", type: "query", visibility: "public" });
  });

  it("refuses table, field and index names that are not identifiers", async () => {
    const { defineSchema, defineTable } = await import("convex/server");
    const { v } = await import("convex/values");
    expect(() => assertSchemaIdentifiers(defineSchema({ "a-b": defineTable({}) }))).toThrow(
      'Invalid table name: "a-b". Identifiers must start with a letter and can only contain letters, digits, and underscores.',
    );
    expect(() => assertSchemaIdentifiers(defineSchema({ _a: defineTable({}) }))).toThrow("_a is a reserved table name.");
    expect(() => assertSchemaIdentifiers(defineSchema({ a: defineTable({ _a: v.string() }) }))).toThrow('Invalid field name: "_a"');
    expect(() => assertSchemaIdentifiers(defineSchema({ a: defineTable({ a: v.string() }).index("a-b", ["a"]) }))).toThrow(
      'Invalid index name: "a-b".',
    );
    expect(() => assertSchemaIdentifiers(defineSchema({ a: defineTable({ _id: v.string(), _creationTime: v.number() }) }))).not.toThrow();
  });
});
