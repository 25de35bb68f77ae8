/**
 * "Who can take this job, and why not": `dispatch.candidates` answers in words, with the
 * check the assign mutation runs, so every reason it gives is exactly what assigning to that
 * provider refuses with, and every provider it offers is one the mutation accepts.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { TUESDAY, at, bookingScenario, errorOf, expectCode, freezeClock } from "./bookings.testkit";
import { aBusiness, aCatalogue, aCustomer, aManager, aProvider, aZone } from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

async function scenario(t: TestConvex) {
  const s = await bookingScenario(t, { policies: { booking: { autoAssign: "manual", depositBp: 0 } } });
  const deep = await aCatalogue(t, s.businessId, { industryName: "Deep", products: [{ name: "Deep clean" }] });
  const { zoneId: queensId } = await aZone(t, s.businessId, { name: "Queens", postalCodes: ["11101"] });
  const wes = await aProvider(t, s.businessId, { name: "Wes", weeklyHours: [1, 3].map((weekday) => ({ weekday, start: "09:00", end: "17:00" })) });
  const dee = await aProvider(t, s.businessId, { name: "Dee", productIds: [deep.productId] });
  const zed = await aProvider(t, s.businessId, { name: "Zed", zoneIds: [queensId] });
  const tim = await aProvider(t, s.businessId, { name: "Tim" });
  const bea = await aProvider(t, s.businessId, { name: "Bea" });
  await t.run((ctx) =>
    ctx.db.insert("timeOff", { businessId: s.businessId, resourceId: tim.resourceId, start: at(TUESDAY, "08:00"), end: at(TUESDAY, "14:00") }),
  );
  // Bea already has a job 10:30–12:30.
  const bob = await aCustomer(t, s.businessId, { name: "Bob Busy" });
  const busy = await bob.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "10:30") });
  await s.manager.as.mutation(api.dispatch.assign, { bookingId: busy.bookingId, resourceId: bea.resourceId });
  const job = await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "10:00") });
  return { ...s, job: job.bookingId, names: { pat: s.provider.resourceId, wes: wes.resourceId, dee: dee.resourceId, zed: zed.resourceId, tim: tim.resourceId, bea: bea.resourceId } };
}

describe("dispatch.candidates", () => {
  test("says for each provider whether they can take the job and why not, in words without ids", async () => {
    const t = newTest();
    const s = await scenario(t);
    const answer = await s.manager.as.query(api.dispatch.candidates, { bookingId: s.job });
    expect(answer.movable).toBe(true);
    const byName = Object.fromEntries(answer.providers.map((p) => [p.name, p.canTake ? "can take it" : p.reason]));
    expect(byName).toEqual({
      "Pat Provider": "can take it",
      Wes: "not working Tuesday",
      Dee: "does not do Standard clean",
      Zed: "does not serve this zone",
      Tim: "time off",
      Bea: "busy 10:30–12:30",
    });
    for (const p of answer.providers) {
      for (const id of Object.values(s.names)) expect(p.reason ?? "").not.toContain(id);
    }
  });

  test("its reasons are exactly what assigning refuses with, and its yes is what assigning accepts", async () => {
    const t = newTest();
    const s = await scenario(t);
    const answer = await s.manager.as.query(api.dispatch.candidates, { bookingId: s.job });
    for (const provider of answer.providers) {
      const error = await errorOf(s.manager.as.mutation(api.dispatch.assign, { bookingId: s.job, resourceId: provider.resourceId }));
      if (provider.canTake) {
        expect(error, provider.name).toBeNull();
        await s.manager.as.mutation(api.dispatch.unassign, { bookingId: s.job });
        continue;
      }
      expect(error?.code, provider.name).toBe("SLOT_UNAVAILABLE");
      const message = (error as { message?: string }).message;
      expect(message).toBe(`${provider.name} cannot take this job: ${provider.reason}.`);
      expect(message).not.toMatch(/Resource "|[a-z0-9]{20,}/);
      expect((error?.details as { code?: string }).code).toBe(provider.code);
    }
    // Once Pat has it, Pat's entry says so and Bea still cannot.
    await s.manager.as.mutation(api.dispatch.assign, { bookingId: s.job, resourceId: s.names.pat });
    const after = await s.manager.as.query(api.dispatch.candidates, { bookingId: s.job });
    expect(after.providers.find((p) => p.resourceId === s.names.pat)).toMatchObject({ canTake: false, reason: "already has this job" });
    await expectCode(s.manager.as.mutation(api.dispatch.reassign, { bookingId: s.job, resourceId: s.names.bea }), "SLOT_UNAVAILABLE");
  });

  test("a finished job can be moved to nobody, and says why", async () => {
    const t = newTest();
    const s = await scenario(t);
    await t.run((ctx) => ctx.db.patch("bookings", s.job, { status: "CANCELLED" }));
    const answer = await s.manager.as.query(api.dispatch.candidates, { bookingId: s.job });
    expect(answer.movable).toBe(false);
    expect(answer.reason).toBe("A cancelled job cannot be moved.");
    expect(answer.providers.every((p) => !p.canTake)).toBe(true);
  });

  test.each([
    ["a provider", "FORBIDDEN"],
    ["a customer", "FORBIDDEN"],
    ["another business's manager", "NOT_FOUND"],
  ])("%s cannot ask", async (who, code) => {
    const t = newTest();
    const s = await scenario(t);
    const as =
      who === "a provider" ? s.provider.as : who === "a customer" ? s.customer.as : (await aManager(t, (await aBusiness(t)).businessId)).as;
    await expectCode(as.query(api.dispatch.candidates, { bookingId: s.job }), code);
  });
});

describe("dispatch.offer and autoAssign", () => {
  test("an offer reserves the provider's time until they accept; auto-assign picks a free provider", async () => {
    const t = newTest();
    const s = await scenario(t);
    const offered = await s.manager.as.mutation(api.dispatch.offer, { bookingId: s.job, resourceId: s.names.pat });
    expect(offered.resourceIds).toEqual([s.names.pat]);
    const assignment = await t.run(async (ctx) =>
      (await ctx.db.query("bookingAssignments").withIndex("by_bookingId", (q) => q.eq("bookingId", s.job as Id<"bookings">)).collect()).find(
        (a) => a.status === "offered",
      ),
    );
    expect(assignment?.resourceId).toBe(s.names.pat);
    await s.provider.as.mutation(api.dispatch.decline, { bookingId: s.job });
    // Pat declined: he is never offered it again, and nobody else is free (manual dispatch queues it).
    await expectCode(s.manager.as.mutation(api.dispatch.offer, { bookingId: s.job, resourceId: s.names.pat }), "CONFLICT", "resourceId");
    await expectCode(s.manager.as.mutation(api.dispatch.autoAssign, { bookingId: s.job }), "SLOT_UNAVAILABLE");
    const board = await s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    expect(board.unassigned.map((j) => j.bookingId)).toContain(s.job);
  });
});
