import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import { aBusiness, aCustomer } from "./test.builders";
import { newTest } from "./test.setup";
import { TUESDAY, at, bookingScenario, expectCode, freezeClock, type Scenario } from "./bookings.testkit";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

function weekly(s: Scenario, extra: Partial<{ occurrences: number; onConflict: "skip" | "fail"; localTime: string }> = {}) {
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
