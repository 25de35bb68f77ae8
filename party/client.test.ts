import { describe, expect, it } from "vitest";
import { ResyncRunner, SeqTracker, type ResyncReason } from "./client";

describe("SeqTracker", () => {
  it("takes the first welcome as the baseline when nothing is known", () => {
    const tracker = new SeqTracker();
    expect(tracker.welcome(7)).toBeNull();
    expect(tracker.event(8)).toEqual({ deliver: true, resync: null });
    expect(tracker.lastSeq).toBe(8);
  });

  it("asks for a resync when the first welcome is ahead of the known seq", () => {
    expect(new SeqTracker(3).welcome(5)).toBe("gap");
    expect(new SeqTracker(5).welcome(5)).toBeNull();
  });

  it("drops duplicates and resyncs on a gap", () => {
    const tracker = new SeqTracker();
    tracker.welcome(0);
    expect(tracker.event(1)).toEqual({ deliver: true, resync: null });
    expect(tracker.event(1)).toEqual({ deliver: false, resync: null });
    expect(tracker.event(3)).toEqual({ deliver: true, resync: "gap" });
    expect(tracker.event(2)).toEqual({ deliver: false, resync: null });
    expect(tracker.lastSeq).toBe(3);
  });

  it("resyncs after a reconnect only if the room moved on (or went back)", () => {
    const tracker = new SeqTracker();
    tracker.welcome(2);
    expect(tracker.welcome(2)).toBeNull();
    expect(tracker.welcome(4)).toBe("reconnect");
    expect(tracker.welcome(0)).toBe("reconnect");
  });
});

describe("ResyncRunner", () => {
  it("never overlaps resyncs and coalesces requests made during one", async () => {
    const calls: ResyncReason[] = [];
    let release!: () => void;
    let started!: () => void;
    const firstStarted = new Promise<void>((resolve) => (started = resolve));
    let active = 0;
    let maxActive = 0;
    const runner = new ResyncRunner(async (reason) => {
      calls.push(reason);
      active++;
      maxActive = Math.max(maxActive, active);
      if (calls.length === 1) {
        const gate = new Promise<void>((resolve) => (release = resolve));
        started();
        await gate;
      }
      active--;
    }, (error) => {
      throw error;
    });
    runner.request("gap");
    await firstStarted;
    runner.request("gap");
    runner.request("reconnect");
    release();
    await runner.idle();
    expect(calls).toEqual(["gap", "reconnect"]);
    expect(maxActive).toBe(1);
  });

  it("reports a failed resync and keeps working", async () => {
    const failures: unknown[] = [];
    let attempt = 0;
    const runner = new ResyncRunner(() => {
      attempt++;
      if (attempt === 1) throw new Error("convex unreachable");
    }, (error) => failures.push(error));
    runner.request("gap");
    await runner.idle();
    runner.request("gap");
    await runner.idle();
    expect(attempt).toBe(2);
    expect(failures).toHaveLength(1);
    expect(String(failures[0])).toMatch(/convex unreachable/);
  });
});
