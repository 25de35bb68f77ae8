import { afterAll, describe, expect, it } from "vitest";
import type { LocalEngine } from "../../src/engine/engine.js";
import { nextRunAfter } from "../../src/engine/crons.js";
import { ManualClock, anonymous, m, openFixtureEngine, q, removeTempDirs, settle, tempDir } from "./helpers.js";

afterAll(removeTempDirs);

async function withClock(clock: ManualClock, dataDir = tempDir()): Promise<LocalEngine> {
  return await openFixtureEngine({ now: clock.now, timers: clock.timerFunctions() }, dataDir);
}

async function advance(engine: LocalEngine, clock: ManualClock, ms: number): Promise<void> {
  await settle(engine); // timers are armed after commits
  clock.advance(ms);
  // Work started by due timers arms further timers due now (a cron tick schedules a job).
  for (let round = 0; round < 10; round++) {
    await settle(engine);
    if (clock.dueTimers() === 0) break;
    clock.advance(0);
  }
}

describe("scheduler", () => {
  it("runs a scheduled mutation when its time comes, exactly once, with its success state", async () => {
    const clock = new ManualClock();
    const engine = await withClock(clock);
    try {
      const jobId = await m(engine, "jobs:scheduleRecord", { source: "later", delayMs: 60_000 });
      await advance(engine, clock, 59_000);
      expect(await q(engine, "jobs:runsOf", { source: "later" })).toEqual([]);
      expect((await q(engine, "jobs:job", { id: jobId })).state).toEqual({ kind: "pending" });
      await advance(engine, clock, 1_000);
      expect(await q(engine, "jobs:runsOf", { source: "later" })).toHaveLength(1);
      const job = await q(engine, "jobs:job", { id: jobId });
      expect(job).toMatchObject({ name: "jobs:record", state: { kind: "success" }, args: [{ source: "later" }] });
      expect(job.completedTime).toBe(clock.time);
      await advance(engine, clock, 120_000);
      expect(await q(engine, "jobs:runsOf", { source: "later" })).toHaveLength(1);
    } finally {
      await engine.close();
    }
  });

  it("records failures, cancels, runs scheduled actions, and drops schedules of failed mutations", async () => {
    const clock = new ManualClock();
    const engine = await withClock(clock);
    try {
      const failing = await m(engine, "jobs:scheduleFailing", { source: "f", delayMs: 10 });
      const canceled = await m(engine, "jobs:scheduleRecord", { source: "c", delayMs: 10 });
      await m(engine, "jobs:cancel", { id: canceled });
      const action = await m(engine, "jobs:scheduleAction", { source: "a", delayMs: 10 });
      const fromAction = (await engine.runAction("jobs:scheduleFromAction", [{ source: "fa", delayMs: 10 }], anonymous)) as any;
      const rolledBack = await engine.runMutation("jobs:scheduleThenFail", [{ source: "rb" }], anonymous);
      expect(rolledBack.success).toBe(false);
      await advance(engine, clock, 10);
      expect(await q(engine, "jobs:job", { id: failing })).toMatchObject({ state: { kind: "failed" } });
      expect(await q(engine, "jobs:runsOf", { source: "f" })).toEqual([]); // its writes rolled back
      expect(await q(engine, "jobs:job", { id: canceled })).toMatchObject({ state: { kind: "canceled" } });
      expect(await q(engine, "jobs:runsOf", { source: "c" })).toEqual([]);
      expect(await q(engine, "jobs:job", { id: action })).toMatchObject({ state: { kind: "success" } });
      expect(await q(engine, "jobs:runsOf", { source: "a" })).toHaveLength(1);
      expect(await q(engine, "jobs:job", { id: fromAction.value })).toMatchObject({ state: { kind: "success" } });
      expect(await q(engine, "jobs:runsOf", { source: "rb" })).toEqual([]);
      const jobs = await q(engine, "jobs:jobs");
      expect(jobs.filter((job: any) => job.args[0].source === "rb")).toEqual([]);
    } finally {
      await engine.close();
    }
  });

  it("re-arms pending jobs after a restart", async () => {
    const clock = new ManualClock();
    const dataDir = tempDir();
    const first = await withClock(clock, dataDir);
    const jobId = await m(first, "jobs:scheduleRecord", { source: "restart", delayMs: 5_000 });
    await first.close();
    const second = await withClock(clock, dataDir);
    try {
      await advance(second, clock, 5_000);
      expect(await q(second, "jobs:runsOf", { source: "restart" })).toHaveLength(1);
      expect((await q(second, "jobs:job", { id: jobId })).state.kind).toBe("success");
    } finally {
      await second.close();
    }
  });
});

describe("crons", () => {
  it("computes next run times for every schedule kind", () => {
    const t = Date.UTC(2030, 0, 1, 10, 20, 0); // a Tuesday
    expect(nextRunAfter({ type: "interval", minutes: 10 }, t)).toBe(t + 600_000);
    expect(nextRunAfter({ type: "hourly", minuteUTC: 15 }, t)).toBe(Date.UTC(2030, 0, 1, 11, 15));
    expect(nextRunAfter({ type: "daily", hourUTC: 3, minuteUTC: 30 }, t)).toBe(Date.UTC(2030, 0, 2, 3, 30));
    expect(nextRunAfter({ type: "weekly", dayOfWeek: "monday", hourUTC: 8, minuteUTC: 0 }, t)).toBe(Date.UTC(2030, 0, 7, 8, 0));
    expect(nextRunAfter({ type: "monthly", day: 1, hourUTC: 0, minuteUTC: 5 }, t)).toBe(Date.UTC(2030, 1, 1, 0, 5));
    expect(nextRunAfter({ type: "cron", cron: "*/5 * * * *" }, t)).toBe(Date.UTC(2030, 0, 1, 10, 25));
  });

  it("runs each tick once, and once for ticks missed while stopped, across restarts", async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1, 0, 0, 0));
    const dataDir = tempDir();
    const first = await withClock(clock, dataDir);
    await advance(first, clock, 10 * 60_000); // 00:10: interval (10 min) and */5 (00:05, 00:10)
    expect(await q(first, "jobs:cronRuns", { cron: "interval" })).toHaveLength(1);
    expect((await q(first, "jobs:cronRuns", { cron: "cron" })).length).toBe(2);
    await first.close();
    // Stopped for an hour: the missed ticks of each cron run once, not once per missed tick.
    clock.time += 60 * 60_000;
    const second = await withClock(clock, dataDir);
    try {
      await advance(second, clock, 0);
      expect(await q(second, "jobs:cronRuns", { cron: "interval" })).toHaveLength(2);
      expect(await q(second, "jobs:cronRuns", { cron: "cron" })).toHaveLength(3);
      expect(await q(second, "jobs:cronRuns", { cron: "hourly" })).toHaveLength(1);
      await advance(second, clock, 0);
      expect(await q(second, "jobs:cronRuns", { cron: "interval" })).toHaveLength(2);
    } finally {
      await second.close();
    }
  });
});
