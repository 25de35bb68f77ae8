/**
 * Recurring plans beyond booking them (convex/series.test.ts): placement across the autumn
 * DST change and month ends, zone discounts and the first visit at full price, moving one
 * visit, changing the plan from a visit on ("this and all future": time, day, frequency) with
 * fees and conflicts shown first, and the checks on who may do it.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { aBusiness, aCustomer } from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";
import { TUESDAY, at, bookingScenario, expectCode, freezeClock, type Scenario } from "./bookings.testkit";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

const EVERY_DAY = { weeklyHours: [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: "08:00", end: "18:00" })) };

function plan(s: Scenario, extra: Record<string, unknown> = {}) {
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

async function visits(t: TestConvex, seriesId: Id<"recurringSeries">) {
  const rows = await t.run((ctx) => ctx.db.query("bookings").withIndex("by_seriesId", (q) => q.eq("seriesId", seriesId)).collect());
  return rows.sort((a, b) => a.start - b.start);
}

async function confirmedVisits(t: TestConvex, seriesId: Id<"recurringSeries">) {
  return (await visits(t, seriesId)).filter((b) => b.status === "CONFIRMED");
}

async function snapshot(t: TestConvex) {
  return await t.run(async (ctx) => ({
    bookings: (await ctx.db.query("bookings").collect()).map((b) => [b._id, b.status, b.start]),
    series: await ctx.db.query("recurringSeries").collect(),
  }));
}

describe("placement across DST and month ends", () => {
  test("every 2 weeks at 10:00 local across the autumn DST change (the UTC gap grows by an hour)", async () => {
    freezeClock(at("2026-10-19", "12:00"));
    const t = newTest();
    const s = await bookingScenario(t);
    const result = await s.customer.as.mutation(api.series.create, {
      ...plan(s, { startDate: "2026-10-20", occurrences: 3 }),
      recurrence: { frequency: "every_n_weeks" as const, interval: 2 },
    });
    // 2026-11-01 is the US fall-back.
    expect(result.booked.map((b) => [b.date, b.start])).toEqual([
      ["2026-10-20", at("2026-10-20", "10:00")],
      ["2026-11-03", at("2026-11-03", "10:00")],
      ["2026-11-17", at("2026-11-17", "10:00")],
    ]);
    expect(result.booked[1].start - result.booked[0].start).toBe(14 * 86_400_000 + 3_600_000);
    expect(new Date(result.booked[0].start).toISOString()).toBe("2026-10-20T14:00:00.000Z");
    expect(new Date(result.booked[1].start).toISOString()).toBe("2026-11-03T15:00:00.000Z");
    expect(result.discountBp).toBe(1000);
  });

  test("monthly from the 31st: the last day of shorter months, back to the 31st when it exists, across the spring DST", async () => {
    freezeClock(at("2026-01-29", "12:00"));
    const t = newTest();
    const s = await bookingScenario(t, { provider: EVERY_DAY, policies: { booking: { bookingHorizonDays: 120 } } });
    const result = await s.customer.as.mutation(api.series.create, {
      ...plan(s, { startDate: "2026-01-31", occurrences: 4 }),
      recurrence: { frequency: "monthly" as const },
    });
    expect(result.booked.map((b) => [b.date, b.start])).toEqual([
      ["2026-01-31", at("2026-01-31", "10:00")],
      ["2026-02-28", at("2026-02-28", "10:00")],
      ["2026-03-31", at("2026-03-31", "10:00")],
      ["2026-04-30", at("2026-04-30", "10:00")],
    ]);
    // The daily extension carries on from the rule, not from the last visit's day: May 31st
    // (the horizon, 120 days from 20 February, ends before June 30th).
    vi.setSystemTime(at("2026-02-20", "12:00"));
    await t.mutation(internal.series.extendActivePlans, {});
    expect((await confirmedVisits(t, result.seriesId)).map((b) => b.localDate)).toEqual(["2026-01-31", "2026-02-28", "2026-03-31", "2026-04-30", "2026-05-31"]);
  });
});

describe("zone discounts and the first visit", () => {
  test("the owner sets the zone's discounts and leaves the first visit at full price; the booking flow and the visits follow", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const table = [
      { frequency: "weekly" as const, interval: 1, discountBp: 2_000 },
      { frequency: "weekly" as const, interval: 2, discountBp: 1_200 },
    ];
    // Bad rows are refused naming the field, and nothing changes.
    await expectCode(
      s.owner.as.mutation(api.zones.setFrequencyDiscounts, { zoneId: s.zoneId, frequencyDiscounts: [{ frequency: "weekly", interval: 1, discountBp: 10_001 }] }),
      "INVALID_ARGUMENT",
      "frequencyDiscounts[0].discountBp",
    );
    await expectCode(
      s.owner.as.mutation(api.zones.setFrequencyDiscounts, { zoneId: s.zoneId, frequencyDiscounts: [table[0], { ...table[0], discountBp: 5 }] }),
      "INVALID_ARGUMENT",
      "frequencyDiscounts[1].interval",
    );
    await expectCode(s.customer.as.mutation(api.zones.setFrequencyDiscounts, { zoneId: s.zoneId, frequencyDiscounts: table }), "FORBIDDEN");
    await expectCode((await aBusiness(t)).owner.as.mutation(api.zones.setFrequencyDiscounts, { zoneId: s.zoneId, frequencyDiscounts: table }), "NOT_FOUND", "zoneId");
    expect((await t.run((ctx) => ctx.db.get("zones", s.zoneId)))!.frequencyDiscounts).toBeUndefined();

    await s.owner.as.mutation(api.zones.setFrequencyDiscounts, { zoneId: s.zoneId, frequencyDiscounts: table });
    const policies = (await t.run((ctx) => ctx.db.get("businesses", s.businessId)))!.policies;
    await s.owner.as.mutation(api.businesses.updatePolicies, { businessId: s.businessId, policies: { ...policies, recurring: { firstVisitFullPrice: true } } });

    const options = await s.customer.as.query(api.series.frequencyOptions, { businessId: s.businessId, zoneId: s.zoneId });
    expect(options.map((o) => [o.key, o.discountBp, o.firstVisitDiscountBp])).toEqual([
      ["weekly", 2_000, 0],
      ["every_2_weeks", 1_200, 0],
      ["every_4_weeks", 0, 0],
      ["monthly", 0, 0],
    ]);
    const { onConflict: _o, ...checkArgs } = plan(s, { occurrences: 3 });
    const check = await s.customer.as.query(api.series.check, checkArgs);
    expect([check.discountBp, check.totalPerOccurrenceMinor, check.firstVisitDiscountBp, check.firstVisitTotalMinor]).toEqual([2_000, 8_000, 0, 10_000]);

    const created = await s.customer.as.mutation(api.series.create, plan(s, { occurrences: 3 }));
    const rows = await visits(t, created.seriesId);
    expect(rows.map((b) => [b.occurrenceIndex, b.quote.discountMinor, b.quote.totalMinor])).toEqual([
      [0, 0, 10_000],
      [1, 2_000, 8_000],
      [2, 2_000, 8_000],
    ]);
    const invoices = await t.run((ctx) => ctx.db.query("invoices").collect());
    expect(invoices.find((i) => i.bookingId === rows[0]._id)!.lines.some((l) => l.kind === "discount")).toBe(false);
    // The plan's later visits, booked by the daily extension, keep the zone's discount.
    await t.mutation(internal.series.extendActivePlans, {});
    expect((await visits(t, created.seriesId)).slice(3).every((b) => b.quote.totalMinor === 8_000)).toBe(true);
    // Back to the default table.
    await s.owner.as.mutation(api.zones.setFrequencyDiscounts, { zoneId: s.zoneId, frequencyDiscounts: null });
    expect((await s.customer.as.query(api.series.frequencyOptions, { businessId: s.businessId, zoneId: s.zoneId }))[0].discountBp).toBe(1_500);
  });
});

describe("moving one visit", () => {
  test("reschedules only that visit under the reschedule policy; the others keep their times", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { seriesId, booked } = await s.customer.as.mutation(api.series.create, plan(s, { occurrences: 3 }));
    const second = booked[1].bookingId;
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    const target = at("2026-03-11", "10:00");
    await expectCode(bob.as.mutation(api.series.rescheduleVisit, { seriesId, bookingId: second, start: target }), "NOT_FOUND", "seriesId");
    await expectCode(s.provider.as.mutation(api.series.rescheduleVisit, { seriesId, bookingId: second, start: target }), "FORBIDDEN");
    const result = await s.customer.as.mutation(api.series.rescheduleVisit, { seriesId, bookingId: second, start: target, expectedFeeMinor: 0 });
    expect(result).toEqual({ feeMinor: 0, start: target });
    expect((await visits(t, seriesId)).map((b) => [b.localDate, b.start])).toEqual([
      ["2026-03-03", at("2026-03-03", "10:00")],
      ["2026-03-11", target],
      ["2026-03-17", at("2026-03-17", "10:00")],
    ]);
    expect((await s.customer.as.query(api.series.get, { seriesId })).localTime).toBe("10:00");
    // A visit that has passed cannot be moved.
    vi.setSystemTime(at(TUESDAY, "13:00"));
    await expectCode(s.customer.as.mutation(api.series.rescheduleVisit, { seriesId, bookingId: booked[0].bookingId, start: target }), "INVALID_TRANSITION", "bookingId");
  });
});

describe("this and all future", () => {
  test("a new time from the second visit on: that visit and the later ones move, the first stays; the extension continues at the new time", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { bookingHorizonDays: 30 } } });
    const { seriesId, booked } = await s.customer.as.mutation(api.series.create, plan(s));
    const preview = await s.customer.as.query(api.series.changePreview, { seriesId, fromBookingId: booked[1].bookingId, localTime: "13:00" });
    expect(preview.rows.map((r) => [r.action, r.date, r.start, r.feeMinor])).toEqual([
      ["move", "2026-03-10", at("2026-03-10", "13:00"), 0],
      ["move", "2026-03-17", at("2026-03-17", "13:00"), 0],
      ["move", "2026-03-24", at("2026-03-24", "13:00"), 0],
    ]);
    expect(preview.rows.map((r) => r.bookingId)).toEqual(booked.slice(1).map((b) => b.bookingId));
    expect(preview.feeMinor).toBe(0);

    const result = await s.customer.as.mutation(api.series.change, { seriesId, fromBookingId: booked[1].bookingId, localTime: "13:00", onConflict: "fail", expectedFeeMinor: 0 });
    expect([result.cancelled, result.booked.length, result.conflicts]).toEqual([3, 3, []]);
    expect((await confirmedVisits(t, seriesId)).map((b) => [b.localDate, b.start, b.occurrenceIndex])).toEqual([
      ["2026-03-03", at("2026-03-03", "10:00"), 0],
      ["2026-03-10", at("2026-03-10", "13:00"), 1],
      ["2026-03-17", at("2026-03-17", "13:00"), 2],
      ["2026-03-24", at("2026-03-24", "13:00"), 3],
    ]);
    const view = await s.customer.as.query(api.series.get, { seriesId });
    expect(view.localTime).toBe("13:00");
    expect(view.occurrences.filter((o) => o.replaced).map((o) => o.bookingId)).toEqual(booked.slice(1).map((b) => b.bookingId));
    // The daily extension goes on from the new time (now + 30 days: through 31 March).
    await t.mutation(internal.series.extendActivePlans, {});
    expect((await confirmedVisits(t, seriesId)).slice(-1).map((b) => [b.localDate, b.start, b.occurrenceIndex])).toEqual([["2026-03-31", at("2026-03-31", "13:00"), 4]]);
  });

  test("a late move costs the reschedule fee, shown first and checked; it is charged on the new visit", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { reschedule: { freeUntilHours: 24, lateFeeFlatMinor: 1_500, maxReschedules: 3 } } });
    const { seriesId, booked } = await s.customer.as.mutation(api.series.create, plan(s, { occurrences: 2 }));
    vi.setSystemTime(at(TUESDAY, "07:00"));
    const preview = await s.customer.as.query(api.series.changePreview, { seriesId, localTime: "14:00" });
    expect(preview.rows.map((r) => [r.action, r.bookingId, r.feeMinor])).toEqual([
      ["move", booked[0].bookingId, 1_500],
      ["move", booked[1].bookingId, 0],
    ]);
    const before = await snapshot(t);
    await expectCode(s.customer.as.mutation(api.series.change, { seriesId, localTime: "14:00", onConflict: "fail", expectedFeeMinor: 0 }), "POLICY_VIOLATION", "expectedFeeMinor");
    expect(await snapshot(t)).toEqual(before);
    const result = await s.customer.as.mutation(api.series.change, { seriesId, localTime: "14:00", onConflict: "fail", expectedFeeMinor: 1_500 });
    expect(result.feeMinor).toBe(1_500);
    const first = result.booked[0];
    const invoice = await t.run((ctx) => ctx.db.query("invoices").withIndex("by_bookingId", (q) => q.eq("bookingId", first.bookingId)).first());
    expect(invoice!.lines.at(-1)).toMatchObject({ kind: "fee", amountMinor: 1_500 });
    expect(invoice!.totalMinor).toBe(8_500 + 1_500);
    // A manager moving the customer's plan charges no fee.
    const managerPreview = await s.manager.as.query(api.series.changePreview, { seriesId, localTime: "15:00" });
    expect(managerPreview.feeMinor).toBe(0);
  });

  test("conflicts at the new time are listed with the alternative before confirming; fail changes nothing, alternative books it", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { seriesId } = await s.customer.as.mutation(api.series.create, plan(s, { occurrences: 3 }));
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    await bob.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at("2026-03-10", "13:00") });
    const preview = await s.customer.as.query(api.series.changePreview, { seriesId, localTime: "13:00" });
    const conflicted = preview.rows.filter((r) => r.conflict);
    expect(conflicted.map((r) => [r.date, r.conflict!.code])).toEqual([["2026-03-10", "CONFLICT"]]);
    const alternative = conflicted[0].conflict!.alternative!;
    expect(alternative).toBeDefined();

    const before = await snapshot(t);
    const failed = await expectCode(s.customer.as.mutation(api.series.change, { seriesId, localTime: "13:00", onConflict: "fail" }), "SLOT_UNAVAILABLE", "localTime");
    expect((failed.details?.conflicts as unknown[]).length).toBe(1);
    expect(await snapshot(t)).toEqual(before);

    await s.customer.as.mutation(api.series.change, { seriesId, localTime: "13:00", onConflict: "alternative" });
    expect((await confirmedVisits(t, seriesId)).map((b) => b.start)).toEqual([at("2026-03-03", "13:00"), alternative, at("2026-03-17", "13:00")]);
  });

  test("weekly to every 2 weeks: the visits on the new dates are re-priced, the others dropped under the cancellation policy", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { cancellation: { freeUntilHours: 24, lateFeeFlatMinor: 0, lateFeePercentBp: 2_500 } } });
    const { seriesId, booked } = await s.customer.as.mutation(api.series.create, plan(s));
    const recurrence = { frequency: "every_n_weeks" as const, interval: 2 };
    const preview = await s.customer.as.query(api.series.changePreview, { seriesId, recurrence });
    expect(preview.rows.map((r) => [r.action, r.bookingId, r.date ?? null])).toEqual([
      ["reprice", booked[0].bookingId, "2026-03-03"],
      ["reprice", booked[2].bookingId, "2026-03-17"],
      ["drop", booked[1].bookingId, null],
      ["drop", booked[3].bookingId, null],
    ]);
    expect([preview.discountBp, preview.totalPerVisitMinor, preview.feeMinor]).toEqual([1_000, 9_000, 0]);
    await s.customer.as.mutation(api.series.change, { seriesId, recurrence, onConflict: "fail", expectedFeeMinor: 0 });
    expect((await confirmedVisits(t, seriesId)).map((b) => [b.localDate, b.frequency, b.quote.totalMinor])).toEqual([
      ["2026-03-03", "every_n_weeks", 9_000],
      ["2026-03-17", "every_n_weeks", 9_000],
    ]);
    const view = await s.customer.as.query(api.series.get, { seriesId });
    expect([view.frequency, view.interval, view.discountBp]).toEqual(["every_n_weeks", 2, 1_000]);
    expect((await s.manager.as.query(api.series.forCustomer, { customerId: s.customer.customerId }))[0].interval).toBe(2);
  });

  test("a new day from a visit on (Tuesdays become Thursdays)", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { seriesId, booked } = await s.customer.as.mutation(api.series.create, plan(s, { occurrences: 3 }));
    await s.customer.as.mutation(api.series.change, { seriesId, fromBookingId: booked[1].bookingId, startDate: "2026-03-12", onConflict: "fail" });
    expect((await confirmedVisits(t, seriesId)).map((b) => b.localDate)).toEqual(["2026-03-03", "2026-03-12", "2026-03-19"]);
  });

  test("bad input names the field and changes nothing; others cannot change the plan", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { seriesId, booked } = await s.customer.as.mutation(api.series.create, plan(s, { occurrences: 2 }));
    const before = await snapshot(t);
    await expectCode(s.customer.as.mutation(api.series.change, { seriesId, localTime: "25:00", onConflict: "fail" }), "INVALID_ARGUMENT", "localTime");
    await expectCode(s.customer.as.mutation(api.series.change, { seriesId, startDate: "2026-02-30", onConflict: "fail" }), "INVALID_ARGUMENT", "startDate");
    await expectCode(s.customer.as.mutation(api.series.change, { seriesId, startDate: "2026-03-01", onConflict: "fail" }), "INVALID_ARGUMENT", "startDate");
    await expectCode(s.customer.as.mutation(api.series.change, { seriesId, localTime: "10:00", onConflict: "fail" }), "INVALID_ARGUMENT", "localTime");
    await expectCode(
      s.customer.as.mutation(api.series.change, { seriesId, recurrence: { frequency: "every_n_weeks", interval: 0 }, onConflict: "fail" }),
      "INVALID_ARGUMENT",
      "interval",
    );
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    const single = await bob.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at("2026-03-05", "10:00") });
    await expectCode(s.customer.as.mutation(api.series.change, { seriesId, fromBookingId: single.bookingId, localTime: "12:00", onConflict: "fail" }), "NOT_FOUND", "fromBookingId");
    await expectCode(bob.as.mutation(api.series.change, { seriesId, localTime: "12:00", onConflict: "fail" }), "NOT_FOUND", "seriesId");
    await expectCode(s.provider.as.mutation(api.series.change, { seriesId, localTime: "12:00", onConflict: "fail" }), "FORBIDDEN");
    await expectCode((await aBusiness(t)).owner.as.query(api.series.changePreview, { seriesId, localTime: "12:00" }), "NOT_FOUND", "seriesId");
    const after = await snapshot(t);
    expect(after.series).toEqual(before.series);
    expect(after.bookings.filter(([id]) => booked.some((b) => b.bookingId === id))).toEqual(before.bookings);
    // A paused plan is resumed before it is changed.
    await s.customer.as.mutation(api.series.pause, { seriesId });
    await expectCode(s.customer.as.mutation(api.series.change, { seriesId, localTime: "12:00", onConflict: "fail" }), "INVALID_TRANSITION", "seriesId");
  });
});
