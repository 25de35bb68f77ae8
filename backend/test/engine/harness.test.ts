/// <reference types="vite/client" />
import { afterEach, describe, expect, it, vi } from "vitest";
import { ConvexError } from "convex/values";
import { convexTest } from "../../src/testing/harness.js";
import schema from "../fixtures/app/schema.js";
import { api, internal } from "../fixtures/app/_generated/api.js";

const modules = import.meta.glob("../fixtures/app/**/*.*s");

afterEach(() => {
  vi.useRealTimers();
});

// The same tests against convex-test's mock and the local engine: any difference fails one.
describe.each(["mock", "local"] as const)("harness on the %s engine", (engine) => {
  const make = () => convexTest(schema, modules, { engine });

  it("runs queries, mutations and actions through function references", async () => {
    const t = make();
    const id = await t.mutation(api.messages.send, { channel: "h", author: "a", body: "x" });
    expect(await t.query(api.messages.get, { id })).toMatchObject({ _id: id, body: "x" });
    expect(await t.action(api.actions.sendAndCount, { channel: "h", body: "y" })).toBe(3);
    expect(await t.query(internal.messages.countInternal, {})).toBe(3);
  });

  it("runs ad hoc code with a real ctx in t.run", async () => {
    const t = make();
    const id = await t.run(async (ctx) => await ctx.db.insert("counters", { name: "run", value: 7 }));
    expect(await t.query(api.counters.get, { name: "run" })).toBe(7);
    expect(await t.run(async (ctx) => (await ctx.db.get(id))?.value)).toBe(7);
  });

  it("rethrows ConvexError with its data and plain errors with their message", async () => {
    const t = make();
    const error = await t.mutation(api.messages.sendThenConvexError, { channel: "e" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as ConvexError<{ code: string }>).data.code).toBe("SLOT_TAKEN");
    await expect(t.mutation(api.messages.sendThenFail, { channel: "e", body: "b" })).rejects.toThrow("failed after writing");
    expect(await t.query(api.messages.list, { channel: "e" })).toEqual([]);
  });

  it("builds identities like convex-test", async () => {
    const t = make();
    const asAnn = t.withIdentity({ name: "Ann", subject: "ann" });
    expect(await asAnn.query(api.runtime.identity, {})).toMatchObject({
      name: "Ann",
      subject: "ann",
      issuer: "https://convex.test",
      tokenIdentifier: "https://convex.test|ann",
    });
    expect(await t.query(api.runtime.identity, {})).toBeNull();
  });

  it("serves HTTP actions through t.fetch", async () => {
    const t = make();
    const response = await t.fetch("/echo", { method: "POST", body: "raw body" });
    expect(response.status).toBe(201);
    expect(await response.text()).toBe("raw body");
    expect((await t.fetch("/missing")).status).toBe(404);
  });

  it("runs scheduled functions with fake timers", async () => {
    vi.useFakeTimers();
    const t = make();
    await t.mutation(api.jobs.scheduleRecord, { source: "ft", delayMs: 60_000 });
    expect(await t.query(api.jobs.runsOf, { source: "ft" })).toEqual([]);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(await t.query(api.jobs.runsOf, { source: "ft" })).toHaveLength(1);
    const jobs = await t.query(api.jobs.jobs, {});
    expect(jobs.map((job: { state: { kind: string } }) => job.state.kind)).toEqual(["success"]);
  });

  it("gives actions setTimeout, setInterval and their clear functions", async () => {
    const t = make();
    expect(await t.action(api.actions.timers, {})).toEqual({ ticks: 3, clearedFired: false, args: ["a", 2] });
  });

  it("runs an action's setTimeout on the test's fake timers", async () => {
    vi.useFakeTimers();
    const t = make();
    const hour = 3_600_000;
    const result = t.action(api.actions.waitThenSend, { channel: "timer", ms: hour });
    // The action's timer is one of the test's: it is pending until the test moves the clock.
    await vi.waitFor(() => expect(vi.getTimerCount()).toBeGreaterThan(0));
    expect(await t.query(api.messages.list, { channel: "timer" })).toEqual([]);
    await vi.advanceTimersByTimeAsync(hour);
    expect(await result).toBeGreaterThanOrEqual(hour);
    expect(await t.query(api.messages.list, { channel: "timer" })).toHaveLength(1);
  });
});
