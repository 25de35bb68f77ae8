import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import { MAX_ASSIGNMENTS_PER_RESOURCE } from "./availability";
import { aBusiness, aCustomer, aProvider, aZone } from "./test.builders";
import { newTest } from "./test.setup";
import { TUESDAY, at, bookingScenario, expectCode, freezeClock, type Scenario } from "./bookings.testkit";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

function slotsArgs(s: Scenario, from = TUESDAY, to = TUESDAY) {
  return { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, from, to };
}

function times(starts: number[]) {
  return starts.map((start) =>
    new Intl.DateTimeFormat("en-GB", { timeZone: "America/New_York", hour: "2-digit", minute: "2-digit" }).format(start),
  );
}

describe("availability.slots", () => {
  test("steps through working hours and leaves out booked time; anyone may browse; no personal data", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const before = await t.query(api.availability.slots, slotsArgs(s));
    expect(before.durationMinutes).toBe(120);
    expect(before.slots).toHaveLength(25); // 09:00 … 15:00 every 15 minutes
    expect(times([before.slots[0].start, before.slots.at(-1)!.start])).toEqual(["09:00", "15:00"]);
    for (const slot of before.slots) expect(Object.keys(slot).sort()).toEqual(["end", "remainingCapacity", "start"]);

    await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "10:00") });
    const after = await t.query(api.availability.slots, slotsArgs(s));
    expect(times(after.slots.map((x) => x.start))[0]).toBe("12:00");
    expect(after.slots).toHaveLength(13);
  });

  test("capacity across providers and the zone / product eligibility of each", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const otherZone = await aZone(t, s.businessId, { name: "Queens", postalCodes: ["11101"] });
    await aProvider(t, s.businessId, { name: "Quinn" });
    await aProvider(t, s.businessId, { name: "Zoe", zoneIds: [otherZone.zoneId] });
    await aProvider(t, s.businessId, { name: "Inactive", active: false });
    const result = await t.query(api.availability.slots, slotsArgs(s));
    expect(result.slots[0].remainingCapacity).toBe(2);
    const queens = await t.query(api.availability.slots, { ...slotsArgs(s), zoneId: otherZone.zoneId });
    expect(queens.slots[0].remainingCapacity).toBe(3); // Pat and Quinn serve every zone; Zoe only Queens
    await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "09:00") });
    const afterOne = await t.query(api.availability.slots, slotsArgs(s));
    expect(afterOne.slots[0]).toMatchObject({ start: at(TUESDAY, "09:00"), remainingCapacity: 1 });
  });

  test("a bigger cart takes longer: 3 rooms + fridge = 120 + 60 + 30 minutes", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const cart = [{ productId: s.catalogue.productId, quantity: 3, extras: [{ extraId: s.catalogue.extraId, quantity: 1 }] }];
    const result = await t.query(api.availability.slots, { ...slotsArgs(s), cart });
    expect(result.durationMinutes).toBe(210);
    expect(times([result.slots.at(-1)!.start])).toEqual(["13:30"]);
  });

  test("hours stay local across the spring-forward day, and the arrival window reserves its length", async () => {
    const t = newTest();
    const s = await bookingScenario(t, {
      provider: { weeklyHours: [{ weekday: 0, start: "09:00", end: "17:00" }] },
      policies: { booking: { arrivalWindowMinutes: 60, slotStepMinutes: 60 } },
    });
    const result = await t.query(api.availability.slots, slotsArgs(s, "2026-03-08", "2026-03-08"));
    expect(result.arrivalWindowMinutes).toBe(60);
    expect(times(result.slots.map((x) => x.start))).toEqual(["09:00", "10:00", "11:00", "12:00", "13:00", "14:00"]);
    expect(result.slots[0].start).toBe(Date.parse("2026-03-08T13:00:00Z")); // EDT
    expect(result.slots[0].arrivalWindowEnd).toBe(result.slots[0].start + 3_600_000);
    expect(result.slots[0].end - result.slots[0].start).toBe(180 * 60_000);
  });

  test("minimum notice and horizon trim the range", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { minimumNoticeMinutes: 27 * 60, bookingHorizonDays: 1 } } });
    const result = await t.query(api.availability.slots, slotsArgs(s, "2026-03-02", "2026-03-06"));
    // now = Mon 07:00; notice → Tue 10:00; horizon → end of Tuesday.
    expect(new Set(result.slots.map((x) => new Date(x.start).toISOString().slice(0, 10)))).toEqual(new Set([TUESDAY]));
    expect(times([result.slots[0].start])).toEqual(["10:00"]);
  });

  test.each([
    [{ from: "2026-3-3" }, "from"],
    [{ to: "2026-02-30" }, "to"],
    [{ from: TUESDAY, to: "2026-03-01" }, "to"],
    [{ from: TUESDAY, to: "2026-07-01" }, "to"],
  ])("refuses the range %o", async (range, param) => {
    const t = newTest();
    const s = await bookingScenario(t);
    await expectCode(t.query(api.availability.slots, { ...slotsArgs(s), ...range }), "INVALID_ARGUMENT", param);
  });

  test("inactive businesses and foreign zones are refused", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const other = await aBusiness(t);
    const foreignZone = await aZone(t, other.businessId);
    await expectCode(t.query(api.availability.slots, { ...slotsArgs(s), zoneId: foreignZone.zoneId }), "NOT_FOUND", "zoneId");
    await t.run((ctx) => ctx.db.patch("businesses", s.businessId, { status: "PENDING" }));
    await expectCode(t.query(api.availability.slots, slotsArgs(s)), "BUSINESS_NOT_ACTIVE");
  });

  test("what availability offers, hold accepts (and a foreign customer's view is the same)", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { provider: { bufferAfterMinutes: 15, maxBookingsPerDay: 3 } });
    for (let i = 0; i < 3; i++) {
      const offered = await t.query(api.availability.slots, slotsArgs(s));
      const customer = await aCustomer(t, s.businessId);
      await customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: offered.slots[0].start });
    }
    expect((await t.query(api.availability.slots, slotsArgs(s))).slots).toEqual([]);
  });

  test("never shows booked time as free: a provider with more assignment rows in the range than one call reads is refused clearly", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const held = await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "10:00") });
    const bookingId = held.bookingId;
    // Released rows (moves, cancellations) on Monday: in the index range read, ahead of the hold.
    const addReleased = (count: number) =>
      t.run(async (ctx) => {
        for (let i = 0; i < count; i++) {
          const busyStart = at("2026-03-02", "09:00") + i * 1000;
          await ctx.db.insert("bookingAssignments", {
            businessId: s.businessId,
            bookingId,
            resourceId: s.provider.resourceId,
            busyStart,
            busyEnd: busyStart + 3_600_000,
            localDate: "2026-03-02",
            capacityUnits: 1,
            status: "released",
            assignedAt: 0,
          });
        }
      });
    await addReleased(1_000);
    const read = await t.query(api.availability.slots, slotsArgs(s));
    expect(times(read.slots.map((x) => x.start))[0]).toBe("12:00"); // the hold 10:00–12:00 still blocks
    await addReleased(MAX_ASSIGNMENTS_PER_RESOURCE - 1_000);
    const refusal = await expectCode(t.query(api.availability.slots, slotsArgs(s)), "INVALID_ARGUMENT");
    expect(refusal.message).toMatch(/ask for a shorter range/);
  });
});

describe("availability.quote", () => {
  test("prices the cart in the zone: trip charge, minimum, tax; lines sum to the total", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { zoneId } = await aZone(t, s.businessId, {
      name: "Brooklyn",
      pricing: { tripChargeMinor: 1_500, minimumMinor: 15_000, priceMultiplierBp: 10_000 },
      taxRateBp: 888,
    });
    const result = await t.query(api.availability.quote, { businessId: s.businessId, zoneId, cart: s.cart });
    expect(result.quote).toMatchObject({ subtotalMinor: 10_000, tripChargeMinor: 1_500, minimumTopUpMinor: 3_500, taxMinor: 1_332, totalMinor: 16_332 });
    expect(result.lines.reduce((sum, l) => sum + l.amountMinor, 0)).toBe(result.quote.totalMinor);
    const weekly = await t.query(api.availability.quote, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, frequency: { frequency: "weekly" } });
    expect(weekly).toMatchObject({ discountBp: 1500, quote: { discountMinor: 1_500, totalMinor: 8_500 } });
  });
});
