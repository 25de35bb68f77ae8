import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import { aBusiness, aCustomer } from "./test.builders";
import { newTest } from "./test.setup";
import { TUESDAY, at, bookingScenario, expectCode, freezeClock, type Scenario } from "./bookings.testkit";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

function weekly(s: Scenario, extra: Partial<{ occurrences: number; onConflict: "skip" | "fail" | "alternative"; localTime: string }> = {}) {
  return {
    businessId: s.businessId,
    zoneId: s.zoneId,
    cart: s.cart,
    recurrence: { frequency: "weekly" as const },
    startDate: TUESDAY,
    localTime: "10:00",
    occurrences: 4,
    onConflict: "skip" as const,
    ...extra,
  };
}

describe("series.create", () => {
  test("books every weekly occurrence at 10:00 local across the DST change, with the weekly discount", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const result = await s.customer.as.mutation(api.series.create, weekly(s, { occurrences: 3 }));
    expect(result.conflicts).toEqual([]);
    expect(result.discountBp).toBe(1500);
    // 2026-03-08 is the US spring-forward: 10:00 stays 10:00 local (UTC moves by an hour).
    expect(result.booked.map((b) => [b.date, b.start])).toEqual([
      ["2026-03-03", at("2026-03-03", "10:00")],
      ["2026-03-10", at("2026-03-10", "10:00")],
      ["2026-03-17", at("2026-03-17", "10:00")],
    ]);
    expect(at("2026-03-10", "10:00") - at("2026-03-03", "10:00")).toBe(7 * 24 * 3_600_000 - 3_600_000);
    const bookings = await t.run(async (ctx) => ctx.db.query("bookings").collect());
    expect(bookings.every((b) => b.status === "CONFIRMED" && b.seriesId === result.seriesId && b.frequency === "weekly")).toBe(true);
    expect(bookings[0].quote).toMatchObject({ subtotalMinor: 10_000, discountMinor: 1_500, totalMinor: 8_500 });
    const invoices = await t.run(async (ctx) => ctx.db.query("invoices").collect());
    expect(invoices).toHaveLength(3);
    expect(invoices[0].lines.find((l) => l.kind === "discount")).toMatchObject({ description: "Weekly discount", amountMinor: -1_500 });
    expect(new Set(invoices.map((i) => i.number)).size).toBe(3);
    const view = await s.customer.as.query(api.series.get, { seriesId: result.seriesId });
    expect(view.occurrences.map((o) => o.index)).toEqual([0, 1, 2]);
  });

  test("reports conflicts per occurrence; skip books the rest, fail books nothing", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    // Bob takes the second Tuesday; the provider is off on the third (closed override).
    await bob.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at("2026-03-10", "11:00") });
    await t.run((ctx) =>
      ctx.db.insert("resourceDateOverrides", { businessId: s.businessId, resourceId: s.provider.resourceId, date: "2026-03-17", closed: true, hours: [] }),
    );
    const { onConflict: _unused, ...checkArgs } = weekly(s);
    const preview = await s.customer.as.query(api.series.check, checkArgs);
    expect(preview.fitting.map((o) => o.date)).toEqual(["2026-03-03", "2026-03-24"]);
    expect(preview.conflicts.map((c) => [c.index, c.date, c.code])).toEqual([
      [1, "2026-03-10", "CONFLICT"],
      [2, "2026-03-17", "OUTSIDE_WORKING_HOURS"],
    ]);
    const failed = await expectCode(s.customer.as.mutation(api.series.create, weekly(s, { onConflict: "fail" })), "SLOT_UNAVAILABLE");
    expect((failed.details?.conflicts as unknown[]).length).toBe(2);
    expect(await t.run(async (ctx) => (await ctx.db.query("recurringSeries").collect()).length)).toBe(0);
    const skipped = await s.customer.as.mutation(api.series.create, weekly(s));
    expect(skipped.booked.map((b) => b.date)).toEqual(["2026-03-03", "2026-03-24"]);
    expect(skipped.conflicts.map((c) => c.date)).toEqual(["2026-03-10", "2026-03-17"]);
  });

  test.each([
    [{ frequency: "every_n_weeks" as const, interval: 2 }, 1000, ["2026-03-03", "2026-03-17", "2026-03-31"]],
    [{ frequency: "monthly" as const }, 500, ["2026-03-03", "2026-04-03", "2026-05-03"]],
  ])("%o: discount %i and dates", async (recurrence, discountBp, dates) => {
    const t = newTest();
    const s = await bookingScenario(t, {
      provider: { weeklyHours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: "08:00", end: "18:00" })) },
    });
    const result = await s.customer.as.mutation(api.series.create, { ...weekly(s, { occurrences: 3 }), recurrence });
    expect(result.discountBp).toBe(discountBp);
    expect(result.booked.map((b) => b.date)).toEqual(dates);
  });

  test.each([
    [{ occurrences: 1 }, "occurrences"],
    [{ occurrences: 53 }, "occurrences"],
    [{ startDate: "2026-13-01" }, "startDate"],
    [{ localTime: "25:00" }, "localTime"],
    [{ recurrence: { frequency: "every_n_weeks" as const, interval: 0 } }, "interval"],
  ])("refuses %o", async (patch, param) => {
    const t = newTest();
    const s = await bookingScenario(t);
    await expectCode(s.customer.as.mutation(api.series.create, { ...weekly(s), ...patch }), "INVALID_ARGUMENT", param);
    expect(await t.run(async (ctx) => (await ctx.db.query("bookings").collect()).length)).toBe(0);
  });
});

describe("series.cancel", () => {
  test("cancels only future occurrences and releases them; others cannot", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { seriesId, booked } = await s.customer.as.mutation(api.series.create, weekly(s, { occurrences: 3 }));
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    await expectCode(bob.as.mutation(api.series.cancel, { seriesId }), "NOT_FOUND");
    await expectCode(s.provider.as.mutation(api.series.cancel, { seriesId }), "FORBIDDEN");
    await expectCode((await aBusiness(t)).owner.as.mutation(api.series.cancel, { seriesId }), "NOT_FOUND");
    // The first visit has started by now.
    vi.setSystemTime(at(TUESDAY, "10:30"));
    const result = await s.customer.as.mutation(api.series.cancel, { seriesId, reason: "Moving" });
    expect(result).toEqual({ cancelled: 2, feeMinor: 0 });
    const statuses = await t.run(async (ctx) => Promise.all(booked.map(async (b) => (await ctx.db.get("bookings", b.bookingId))!.status)));
    expect(statuses).toEqual(["CONFIRMED", "CANCELLED", "CANCELLED"]);
    const view = await s.manager.as.query(api.series.get, { seriesId });
    expect(view.status).toBe("cancelled");
    await expectCode(s.customer.as.mutation(api.series.cancel, { seriesId }), "INVALID_TRANSITION");
  });
});

describe("plan visits that cannot be placed", () => {
  test("a conflict comes with the nearest same-day alternative; onConflict alternative books it", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    const held = await bob.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at("2026-03-10", "10:00") });
    await t.run((ctx) =>
      ctx.db.insert("resourceDateOverrides", { businessId: s.businessId, resourceId: s.provider.resourceId, date: "2026-03-17", closed: true, hours: [] }),
    );
    const { onConflict: _unused, ...checkArgs } = weekly(s);
    const preview = await s.customer.as.query(api.series.check, checkArgs);
    const [taken, closed] = preview.conflicts;
    const bobs = (await t.run((ctx) => ctx.db.get("bookings", held.bookingId)))!;
    // Taken at 10:00: the alternative is another time that day, clear of Bob's visit.
    expect(taken.date).toBe("2026-03-10");
    expect(taken.alternative).toBeDefined();
    expect(taken.alternative! >= bobs.end || taken.alternative! + (bobs.end - bobs.start) <= bobs.start).toBe(true);
    expect(new Date(taken.alternative!).toISOString().slice(0, 10)).toBe("2026-03-10");
    // The provider is off all day: nothing to offer.
    expect([closed.date, closed.alternative]).toEqual(["2026-03-17", undefined]);

    const result = await s.customer.as.mutation(api.series.create, weekly(s, { onConflict: "alternative" }));
    expect(result.booked.map((b) => [b.date, b.start])).toEqual([
      ["2026-03-03", at("2026-03-03", "10:00")],
      ["2026-03-10", taken.alternative],
      ["2026-03-24", at("2026-03-24", "10:00")],
    ]);
  });
});

/** Free until 24 h before the start, then 25 % of the visit. */
const LATE_FEE = { cancellation: { freeUntilHours: 24, lateFeeFlatMinor: 0, lateFeePercentBp: 2_500 } };

describe("managing a plan", () => {
  test("skip one visit: cancelled under the policy with the fee shown first; the plan goes on", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: LATE_FEE });
    const { seriesId, booked } = await s.customer.as.mutation(api.series.create, weekly(s, { occurrences: 3 }));
    const second = booked[1].bookingId;
    expect(await s.customer.as.mutation(api.series.skip, { seriesId, bookingId: second, expectedFeeMinor: 0 })).toEqual({ feeMinor: 0 });
    const view = await s.customer.as.query(api.series.get, { seriesId });
    expect(view.status).toBe("active");
    expect(view.occurrences.map((o) => [o.status, o.skipped])).toEqual([
      ["CONFIRMED", false],
      ["CANCELLED", true],
      ["CONFIRMED", false],
    ]);
    // Two hours before the first visit, inside the free-cancellation window: 25 % of 85.00.
    vi.setSystemTime(at(TUESDAY, "08:00"));
    const first = booked[0].bookingId;
    expect((await s.customer.as.query(api.bookings.cancellationPreview, { bookingId: first })).feeMinor).toBe(2_125);
    await expectCode(s.customer.as.mutation(api.series.skip, { seriesId, bookingId: first, expectedFeeMinor: 0 }), "POLICY_VIOLATION", "expectedFeeMinor");
    expect(await s.customer.as.mutation(api.series.skip, { seriesId, bookingId: first, expectedFeeMinor: 2_125 })).toEqual({ feeMinor: 2_125 });
    await expectCode(s.customer.as.mutation(api.series.skip, { seriesId, bookingId: second }), "INVALID_TRANSITION", "bookingId");
  });

  test("skip refuses another customer, another business, providers and visits of other plans", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { seriesId, booked } = await s.customer.as.mutation(api.series.create, weekly(s, { occurrences: 2 }));
    const bookingId = booked[1].bookingId;
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    const outsider = (await aBusiness(t)).owner;
    await expectCode(bob.as.mutation(api.series.skip, { seriesId, bookingId }), "NOT_FOUND", "seriesId");
    await expectCode(outsider.as.mutation(api.series.skip, { seriesId, bookingId }), "NOT_FOUND", "seriesId");
    await expectCode(s.provider.as.mutation(api.series.skip, { seriesId, bookingId }), "FORBIDDEN");
    const single = await bob.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at("2026-03-05", "10:00") });
    await expectCode(s.customer.as.mutation(api.series.skip, { seriesId, bookingId: single.bookingId }), "NOT_FOUND", "bookingId");
    await expectCode(bob.as.query(api.series.forCustomer, { customerId: s.customer.customerId }), "NOT_FOUND", "customerId");
    await expectCode(outsider.as.query(api.series.cancelPreview, { seriesId }), "NOT_FOUND", "seriesId");
    const statuses = await t.run(async (ctx) => Promise.all(booked.map(async (b) => (await ctx.db.get("bookings", b.bookingId))!.status)));
    expect(statuses).toEqual(["CONFIRMED", "CONFIRMED"]);
    // A manager of the business may skip for the customer (no customer fee).
    expect(await s.manager.as.mutation(api.series.skip, { seriesId, bookingId })).toEqual({ feeMinor: 0 });
    expect((await s.manager.as.query(api.series.forCustomer, { customerId: s.customer.customerId })).map((p) => p.seriesId)).toEqual([seriesId]);
  });

  test("cancelling the plan: the fees are previewed per visit and checked", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: LATE_FEE });
    const { seriesId, booked } = await s.customer.as.mutation(api.series.create, weekly(s, { occurrences: 3 }));
    vi.setSystemTime(at(TUESDAY, "08:00"));
    const preview = await s.customer.as.query(api.series.cancelPreview, { seriesId });
    expect(preview.visits.map((v) => [v.bookingId, v.feeMinor])).toEqual([
      [booked[0].bookingId, 2_125],
      [booked[1].bookingId, 0],
      [booked[2].bookingId, 0],
    ]);
    expect(preview.feeMinor).toBe(2_125);
    await expectCode(s.customer.as.mutation(api.series.cancel, { seriesId, expectedFeeMinor: 0 }), "POLICY_VIOLATION", "expectedFeeMinor");
    expect(await s.customer.as.mutation(api.series.cancel, { seriesId, expectedFeeMinor: 2_125 })).toEqual({ cancelled: 3, feeMinor: 2_125 });
  });

  test("the frequencies on offer, with their discounts", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const options = await s.customer.as.query(api.series.frequencyOptions, { businessId: s.businessId });
    expect(options.map((o) => [o.key, o.discountBp])).toEqual([
      ["weekly", 1500],
      ["every_2_weeks", 1000],
      ["every_4_weeks", 500],
      ["monthly", 500],
    ]);
  });
});

describe("plans over time", () => {
  async function visitDates(t: ReturnType<typeof newTest>, seriesId: string) {
    const rows = await t.run((ctx) => ctx.db.query("bookings").collect());
    return rows
      .filter((b) => b.seriesId === seriesId && b.status === "CONFIRMED")
      .sort((a, b) => a.start - b.start)
      .map((b) => b.localDate);
  }

  test("the daily extension books active plans up to the horizon, once", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { bookingHorizonDays: 30 } } });
    const { seriesId } = await s.customer.as.mutation(api.series.create, weekly(s, { occurrences: 2 }));
    expect(await t.mutation(internal.series.extendActivePlans, {})).toEqual({ plans: 1, booked: 3 });
    // Now (2 March) + 30 days: visits through 31 March.
    expect(await visitDates(t, seriesId)).toEqual(["2026-03-03", "2026-03-10", "2026-03-17", "2026-03-24", "2026-03-31"]);
    expect(await t.mutation(internal.series.extendActivePlans, {})).toEqual({ plans: 1, booked: 0 });
    // Two weeks on, the horizon has moved by two visits.
    vi.setSystemTime(at("2026-03-16", "12:00"));
    expect(await t.mutation(internal.series.extendActivePlans, {})).toEqual({ plans: 1, booked: 2 });
    expect((await visitDates(t, seriesId)).slice(-2)).toEqual(["2026-04-07", "2026-04-14"]);
    const view = await s.customer.as.query(api.series.get, { seriesId });
    expect(view.occurrences.every((o) => o.totalMinor === 8_500)).toBe(true);
  });

  test("pause cancels the upcoming visits under the policy and stops the extension; resume books from the next date", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { ...LATE_FEE, booking: { bookingHorizonDays: 30 } } });
    const { seriesId } = await s.customer.as.mutation(api.series.create, weekly(s, { occurrences: 3 }));
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    await expectCode(bob.as.mutation(api.series.pause, { seriesId }), "NOT_FOUND", "seriesId");
    await expectCode((await aBusiness(t)).owner.as.mutation(api.series.pause, { seriesId }), "NOT_FOUND", "seriesId");
    await expectCode(s.provider.as.mutation(api.series.pause, { seriesId }), "FORBIDDEN");
    await expectCode(s.customer.as.mutation(api.series.resume, { seriesId }), "INVALID_TRANSITION", "seriesId");

    vi.setSystemTime(at(TUESDAY, "08:00"));
    const fee = (await s.customer.as.query(api.series.cancelPreview, { seriesId })).feeMinor;
    expect(fee).toBe(2_125);
    await expectCode(s.customer.as.mutation(api.series.pause, { seriesId, expectedFeeMinor: 0 }), "POLICY_VIOLATION", "expectedFeeMinor");
    expect(await s.customer.as.mutation(api.series.pause, { seriesId, expectedFeeMinor: fee })).toEqual({ cancelled: 3, feeMinor: 2_125 });
    expect((await s.customer.as.query(api.series.get, { seriesId })).status).toBe("paused");
    expect(await visitDates(t, seriesId)).toEqual([]);
    expect(await t.mutation(internal.series.extendActivePlans, {})).toEqual({ plans: 0, booked: 0 });
    await expectCode(s.customer.as.mutation(api.series.pause, { seriesId }), "INVALID_TRANSITION", "seriesId");

    vi.setSystemTime(at("2026-03-20", "12:00"));
    await expectCode(bob.as.mutation(api.series.resume, { seriesId }), "NOT_FOUND", "seriesId");
    const resumed = await s.customer.as.mutation(api.series.resume, { seriesId });
    expect(resumed.booked).toBe(4);
    expect(await visitDates(t, seriesId)).toEqual(["2026-03-24", "2026-03-31", "2026-04-07", "2026-04-14"]);
    expect((await s.customer.as.query(api.series.get, { seriesId })).status).toBe("active");
  });
});
