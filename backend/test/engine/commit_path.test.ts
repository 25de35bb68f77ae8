/**
 * The store's commit path: what a commit saves besides the documents (creation-time clock,
 * latest timestamp) and how a failed mutation inside a group-commit batch is undone.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { LocalEngine } from "../../src/engine/engine.js";
import { admin, ManualClock, openFixtureEngine, q, removeTempDirs, tempDir } from "./helpers.js";

const engines: LocalEngine[] = [];

async function open(clock: ManualClock, dataDir: string): Promise<LocalEngine> {
  const engine = await openFixtureEngine({ now: clock.now, timers: clock.timerFunctions(), runCrons: false }, dataDir);
  engines.push(engine);
  return engine;
}

afterEach(async () => {
  await Promise.all(engines.splice(0).map((engine) => engine.close()));
  removeTempDirs();
});

describe("commit path", () => {
  it("a reopened store carries on after the last commit's creation time and timestamp, even with the clock behind", async () => {
    const dataDir = tempDir();
    const clock = new ManualClock();
    const first = await open(clock, dataDir);
    const insertThree = first.inlineFunction("mutation", async (ctx: any, { channel }: { channel: string }) => {
      for (let i = 0; i < 3; i++) await ctx.db.insert("messages", { channel, author: "a", body: `m${i}` });
    });
    // Two mutations submitted together commit in one batch, all at the same clock reading.
    const outcomes = await Promise.all([
      first.runMutation(insertThree, [{ channel: "c" }], admin),
      first.runMutation(insertThree, [{ channel: "c" }], admin),
    ]);
    const lastTs = outcomes.map((outcome) => outcome.ts).reduce((a, b) => (a > b ? a : b));
    const before = (await q(first, "messages:list", { channel: "c" })) as { _creationTime: number }[];
    expect(before).toHaveLength(6);
    const lastCreationTime = Math.max(...before.map((doc) => doc._creationTime));

    // The first engine is abandoned without closing, as a killed process would leave it; the
    // next one reads only what was committed.
    engines.splice(engines.indexOf(first), 1);
    const clockBehind = new ManualClock(clock.time - 60_000);
    const second = await open(clockBehind, dataDir);
    const outcome = await second.runMutation("messages:send", [{ channel: "c", author: "b", body: "after" }], admin);
    expect(outcome.success).toBe(true);
    expect(outcome.ts > lastTs).toBe(true);
    const after = (await q(second, "messages:list", { channel: "c" })) as { body: string; _creationTime: number }[];
    const added = after.find((doc) => doc.body === "after")!;
    expect(added._creationTime).toBeGreaterThan(lastCreationTime);
    await first.close();
  });

  it("undoes a mutation that wrote many pages before throwing, and commits its batch neighbours", async () => {
    const engine = await open(new ManualClock(), tempDir());
    const writeThenThrow = engine.inlineFunction("mutation", async (ctx: any) => {
      // Enough rows to spill a savepoint journal kept on disk (64 KiB) many times over.
      for (let i = 0; i < 400; i++) await ctx.db.insert("messages", { channel: "doomed", author: "x", body: "y".repeat(500) });
      throw new Error("changed my mind");
    });
    const results = await Promise.all([
      engine.runMutation("messages:send", [{ channel: "kept", author: "a", body: "before" }], admin),
      engine.runMutation(writeThenThrow, [{}], admin),
      engine.runMutation("messages:send", [{ channel: "kept", author: "a", body: "after" }], admin),
    ]);
    expect(results.map((result) => result.success)).toEqual([true, false, true]);
    expect(results[1].success ? "" : results[1].errorMessage).toMatch(/changed my mind/);
    expect(await q(engine, "messages:list", { channel: "doomed" })).toEqual([]);
    const kept = (await q(engine, "messages:list", { channel: "kept" })) as { body: string }[];
    expect(kept.map((doc) => doc.body).sort()).toEqual(["after", "before"]);
  });
});
