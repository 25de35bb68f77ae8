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
  it("serves many workers' database calls, nested calls and HTTP actions at once without a stall", async () => {
    // Queries reading in a loop, actions making top-level calls, HTTP actions running a
    // mutation and a query, and nested actions: every worker's calls answered, none left behind.
    const calls: Promise<unknown>[] = [];
    for (let i = 0; i < 4; i++) {
      calls.push(engine.runQuery("messages:list", [{ channel: "stall" }], admin).then((outcome) => outcome.success));
      calls.push(engine.runAction("actions:sendAndCount", [{ channel: `stall-${i}`, body: "b" }], admin).then((outcome) => outcome.success));
      calls.push(engine.runAction("actions:nested", [{ depth: 2 }], admin).then((outcome) => outcome.success));
      calls.push(
        engine
          .runHttpAction(new Request("http://127.0.0.1:3211/messages", { method: "POST", body: JSON.stringify({ channel: `http-${i}`, body: "b" }) }))
          .then(async (response) => response.status === 200 && ((await response.json()) as { count: number }).count === 1),
      );
    }
    expect(await Promise.all(calls)).toEqual(Array(calls.length).fill(true));
    expect(workerPool.stats()).toMatchObject({ transaction: { running: 0, waiting: 0 }, action: { running: 0, waiting: 0 } });
  });

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

describe("answers after an execution ended", () => {
  it("a timer an action clears after returning leaves no answer for the worker's next function", async () => {
    workerPool.configure({ transaction: 1, action: 1 });
    try {
      await engine.runMutation("messages:send", [{ channel: "late-clear", author: "a", body: "b" }], admin);
      for (let i = 0; i < 5; i++) {
        const action = await engine.runAction("actions:clearsTimerAfterReturning", [{}], admin);
        expect(action.success ? action.value : action.errorMessage).toBe("returned");
        // Let the late clear reach the engine before the next function starts.
        await new Promise((resolve) => setTimeout(resolve, 20));
        const listed = await engine.runQuery("messages:list", [{ channel: "late-clear" }], admin);
        expect(listed.success ? (listed.value as { body: string }[]).map((m) => m.body) : listed.errorMessage).toEqual(["b"]);
      }
    } finally {
      workerPool.configure({ transaction: 2, action: 1 });
    }
  });
});
