import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalEngine } from "../../src/engine/engine.js";
import type { Commit, ReadSet } from "../../src/engine/types.js";
import { anonymous, m, openFixtureEngine, removeTempDirs } from "./helpers.js";

let engine: LocalEngine;
beforeAll(async () => {
  engine = await openFixtureEngine();
});
afterAll(async () => {
  await engine.close();
  removeTempDirs();
});

async function readSetOf(path: string, args: Record<string, any>): Promise<ReadSet> {
  const outcome = await engine.runQuery(path, [args], anonymous);
  if (!outcome.success) throw new Error(outcome.errorMessage);
  return outcome.readSet;
}

/** Runs a mutation and returns its commit's write set. */
async function commitOf(path: string, args: Record<string, any>): Promise<Commit> {
  let commit: Commit | null = null;
  const stop = engine.onCommit((c) => (commit = c));
  const outcome = await engine.runMutation(path, [args], anonymous);
  stop();
  if (!outcome.success) throw new Error(outcome.errorMessage);
  if (commit === null) throw new Error("no commit");
  return commit;
}

describe("read sets and write sets", () => {
  it("re-runs an indexed query only for writes inside its range", async () => {
    const reads = await readSetOf("messages:list", { channel: "r1" });
    expect(engine.overlaps(reads, (await commitOf("messages:send", { channel: "r1", author: "a", body: "x" })).writes)).toBe(true);
    expect(engine.overlaps(reads, (await commitOf("messages:send", { channel: "r2", author: "a", body: "x" })).writes)).toBe(false);
    expect(engine.overlaps(reads, (await commitOf("counters:increment", { name: "unrelated" })).writes)).toBe(false);
  });

  it("sees a document moving into or out of the range", async () => {
    const id = await m(engine, "messages:send", { channel: "move", author: "a", body: "x" });
    const reads = await readSetOf("messages:list", { channel: "elsewhere" });
    // Replacing keeps channel "move": not in the range of "elsewhere".
    expect(engine.overlaps(reads, (await commitOf("messages:edit", { id, body: "y" })).writes)).toBe(false);
    const inRange = await readSetOf("messages:list", { channel: "move" });
    expect(engine.overlaps(inRange, (await commitOf("messages:like", { id })).writes)).toBe(true);
    expect(engine.overlaps(inRange, (await commitOf("messages:remove", { id })).writes)).toBe(true);
  });

  it("tracks only what take() read: writes past the last key read do not matter", async () => {
    for (const rank of [10, 20, 30, 40]) await m(engine, "items:add", { category: "take", rank });
    const reads = await readSetOf("items:topRanks", { category: "take", count: 2 }); // reads 40, 30 (desc)
    expect(engine.overlaps(reads, (await commitOf("items:add", { category: "take", rank: 5 })).writes)).toBe(false);
    expect(engine.overlaps(reads, (await commitOf("items:add", { category: "take", rank: 35 })).writes)).toBe(true);
    expect(engine.overlaps(reads, (await commitOf("items:add", { category: "take", rank: 50 })).writes)).toBe(true);
  });

  it("tracks single-document reads by id", async () => {
    const id = await m(engine, "messages:send", { channel: "byid", author: "a", body: "x" });
    const other = await m(engine, "messages:send", { channel: "byid", author: "b", body: "x" });
    const reads = await readSetOf("messages:get", { id });
    expect(engine.overlaps(reads, (await commitOf("messages:like", { id: other })).writes)).toBe(false);
    expect(engine.overlaps(reads, (await commitOf("messages:like", { id })).writes)).toBe(true);
  });

  it("tracks a paginated page up to its last key", async () => {
    for (const rank of [1, 2, 3, 4, 5]) await m(engine, "items:add", { category: "pg", rank });
    const reads = await readSetOf("items:page", { category: "pg", paginationOpts: { numItems: 2, cursor: null } });
    expect(engine.overlaps(reads, (await commitOf("items:add", { category: "pg", rank: 4.5 })).writes)).toBe(false);
    expect(engine.overlaps(reads, (await commitOf("items:add", { category: "pg", rank: 1.5 })).writes)).toBe(true);
  });

  it("tracks full table scans, counts and system table reads", async () => {
    const scan = await readSetOf("items:scanAll", {});
    expect(engine.overlaps(scan, (await commitOf("items:add", { category: "any", rank: 1 })).writes)).toBe(true);
    const count = await readSetOf("messages:countAll", {});
    expect(engine.overlaps(count, (await commitOf("messages:send", { channel: "c", author: "a", body: "x" })).writes)).toBe(true);
    expect(engine.overlaps(count, (await commitOf("items:add", { category: "any", rank: 2 })).writes)).toBe(false);
    const jobs = await readSetOf("jobs:jobs", {});
    expect(engine.overlaps(jobs, (await commitOf("jobs:scheduleRecord", { source: "x", delayMs: 1e9 })).writes)).toBe(true);
  });
});
