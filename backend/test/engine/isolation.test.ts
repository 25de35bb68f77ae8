/**
 * Function code runs on worker threads: a function is stopped at its time limit, even in a
 * loop without syscalls, with Convex's message, and the engine keeps serving; reads are
 * answered while a long write runs. Time a worker spends loading a module, also for a nested
 * call on the caller's worker, is not counted against any function's limit.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LocalEngine } from "../../src/engine/engine.js";
import { loadAppWithComponents } from "../../src/engine/components.js";
import { admin, openFixtureEngine, q, removeTempDirs, tempDir } from "./helpers.js";

const LIMIT_MS = 300;
/** Generous: the machine may be busy; the loops below never end (or end after 30 s). */
const STOPPED_WITHIN_MS = 10_000;
let engine: LocalEngine;

beforeAll(async () => {
  engine = await openFixtureEngine({ transactionTimeoutMs: LIMIT_MS, actionTimeoutMs: LIMIT_MS });
});
afterAll(async () => {
  await engine.close();
  removeTempDirs();
});

async function timed<T>(run: () => Promise<T>): Promise<{ outcome: T; ms: number }> {
  const started = performance.now();
  const outcome = await run();
  return { outcome, ms: performance.now() - started };
}

describe("time limits", () => {
  it("stops a query spinning in while(true) at its limit with Convex's message, keeping its logs", async () => {
    const { outcome, ms } = await timed(() => engine.runQuery("spin:forever", [{}], admin));
    expect(outcome).toMatchObject({ success: false, errorMessage: "Function execution timed out (maximum duration: 300ms)" });
    expect(outcome.logLines).toEqual(["[LOG] 'before the loop'"]);
    expect(ms).toBeLessThan(STOPPED_WITHIN_MS);
    expect(await q(engine, "counters:get", { name: "x" })).toBe(0);
  });

  it("stops a spinning mutation and keeps none of its writes", async () => {
    const outcome = await engine.runMutation("spin:foreverMutation", [{}], admin);
    expect(outcome).toMatchObject({ success: false, errorMessage: "Function execution timed out (maximum duration: 300ms)" });
    expect(await q(engine, "counters:get", { name: "spun" })).toBe(0);
    expect(await engine.runMutation("counters:increment", [{ name: "after" }], admin)).toMatchObject({ success: true, value: 1 });
  });

  it("stops a spinning action", async () => {
    const { outcome, ms } = await timed(() => engine.runAction("spin:foreverAction", [{}], admin));
    expect(outcome).toMatchObject({ success: false, errorMessage: "Function execution timed out (maximum duration: 300ms)" });
    expect(ms).toBeLessThan(STOPPED_WITHIN_MS);
    expect(await engine.runAction("actions:nested", [{ depth: 0 }], admin)).toMatchObject({ success: true, value: 0 });
  });

  it("stops a spinning HTTP action (it runs on a worker too) and keeps serving HTTP actions", async () => {
    const { outcome, ms } = await timed(() => engine.runHttpAction(new Request("http://127.0.0.1:3211/spin")));
    expect(outcome.status).toBe(500);
    expect(await outcome.text()).toBe("Function execution timed out (maximum duration: 300ms)");
    expect(ms).toBeLessThan(STOPPED_WITHIN_MS);
    const echoed = await engine.runHttpAction(new Request("http://127.0.0.1:3211/echo", { method: "POST", body: "bytes", headers: { "x-signature": "s" } }));
    expect({ status: echoed.status, body: await echoed.text(), seen: echoed.headers.get("x-signature-seen") }).toEqual({ status: 201, body: "bytes", seen: "s" });
  });

  it("stops a query at its limit rather than after it ran to the end", async () => {
    const { outcome, ms } = await timed(() => engine.runQuery("spin:forMs", [{ ms: 30_000 }], admin));
    expect(outcome).toMatchObject({ success: false, errorMessage: "Function execution timed out (maximum duration: 300ms)" });
    expect(ms).toBeLessThan(STOPPED_WITHIN_MS);
  });

  it("keeps serving many calls after several workers were stopped", async () => {
    await Promise.all([1, 2, 3].map(() => engine.runQuery("spin:forever", [{}], admin)));
    const values = await Promise.all(Array.from({ length: 20 }, (_, i) => engine.runMutation("counters:increment", [{ name: "many", by: i }], admin)));
    expect(values.every((outcome) => outcome.success)).toBe(true);
    expect(await q(engine, "counters:get", { name: "many" })).toBe(190);
  });
});

describe("reads beside writes", () => {
  it("answers a query while a long write batch runs", async () => {
    const patient = await openFixtureEngine({ transactionTimeoutMs: 20_000 });
    try {
      await patient.runMutation("counters:increment", [{ name: "before" }], admin);
      const order: string[] = [];
      const write = patient.runMutation("spin:longWrite", [{ ms: 3_000 }], admin).then((outcome) => {
        order.push("write");
        return outcome;
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      const read = await patient.runQuery("counters:get", [{ name: "before" }], admin);
      order.push("read");
      expect(read).toMatchObject({ success: true, value: 1 });
      // The read saw the last committed state, not the running write's insert.
      expect(await write).toMatchObject({ success: true, value: "written" });
      expect(order).toEqual(["read", "write"]);
      expect(await q(patient, "counters:get", { name: "long" })).toBe(1);
    } finally {
      await patient.close();
    }
  });
});

describe("module loading is not the caller's time", () => {
  // A component whose module takes 700 ms to load, called from an app mutation limited to 300 ms:
  // on a busy machine a real component's bundle can take that long to import on a fresh worker.
  const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/slow_component_app");
  let slow: LocalEngine;

  beforeAll(async () => {
    slow = await LocalEngine.open(
      { convexDir: appDir, dataDir: tempDir(), env: {}, siteUrl: "http://127.0.0.1:3211", cloudUrl: "http://127.0.0.1:3210", transactionTimeoutMs: LIMIT_MS },
      loadAppWithComponents(appDir, tempDir("slow-build-"), {}),
    );
  });
  afterAll(async () => {
    await slow.close();
  });

  it("a nested call whose module the worker loads first leaves the wait out of the caller's limit", async () => {
    const outcome = await slow.runMutation("app:noteAndAdd", [{ amount: 2 }], admin);
    expect(outcome).toMatchObject({ success: true, value: 2 });
    expect(await q(slow, "app:total", {})).toBe(2);
  });

  it("still stops the caller at its limit for its own time after a nested call", async () => {
    const before = await q(slow, "app:total", {});
    const outcome = await slow.runMutation("app:addThenSpin", [{ ms: 30_000 }], admin);
    expect(outcome).toMatchObject({ success: false, errorMessage: "Function execution timed out (maximum duration: 300ms)" });
    expect(await q(slow, "app:total", {})).toBe(before);
  });
});
