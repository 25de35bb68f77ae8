/**
 * The worker pool is bounded (16 queries/mutations, 64 actions at once by default): work beyond
 * the budget waits for a worker instead of failing, the wait is not counted against a
 * function's time limit, and an action called by a running action never waits on its caller.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalEngine } from "../../src/engine/engine.js";
import { DEFAULT_WORKER_LIMITS, workerPool } from "../../src/engine/worker_pool.js";
import { admin, openFixtureEngine, removeTempDirs } from "./helpers.js";

const LIMIT_MS = 400;
let engine: LocalEngine;

beforeAll(async () => {
  engine = await openFixtureEngine({ transactionTimeoutMs: LIMIT_MS });
  workerPool.configure({ transaction: 2, action: 1 });
});
afterAll(async () => {
  workerPool.configure(DEFAULT_WORKER_LIMITS);
  await engine.close();
  removeTempDirs();
});

describe("a bounded worker pool", () => {
  it("has Convex-sized budgets by default", () => {
    expect(DEFAULT_WORKER_LIMITS).toEqual({ transaction: 16, action: 64 });
  });

  it("queues queries beyond its budget, and the wait is not their time", async () => {
    workerPool.resetPeaks();
    // Six queries of 250 ms each, two at a time: the last start ~500 ms after they were sent,
    // past their 400 ms limit if the wait counted.
    const outcomes = await Promise.all(Array.from({ length: 6 }, () => engine.runQuery("spin:forMs", [{ ms: 250 }], admin)));
    expect(outcomes.map((outcome) => (outcome.success ? outcome.value : outcome.errorMessage))).toEqual(Array(6).fill("finished"));
    expect(workerPool.stats().transaction).toMatchObject({ peak: 2, running: 0, waiting: 0 });
  });

  it("queues actions, and an action's own ctx.runAction does not wait on its caller's worker", async () => {
    workerPool.resetPeaks();
    const outcomes = await Promise.all(Array.from({ length: 3 }, () => engine.runAction("actions:nested", [{ depth: 2 }], admin)));
    expect(outcomes.map((outcome) => (outcome.success ? outcome.value : outcome.errorMessage))).toEqual([2, 2, 2]);
    expect(workerPool.stats().action).toMatchObject({ running: 0, waiting: 0 });
    // One top-level action at a time, plus the two it runs in turn.
    expect(workerPool.stats().action.peak).toBe(3);
  });
});
