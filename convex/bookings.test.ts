import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { aBusiness, aCatalogue, aCustomer, aManager, aProvider, aStaffMember, aZone } from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";
import { NOW, TUESDAY, WEDNESDAY, at, bookingScenario, errorOf, expectCode, freezeClock, type Scenario } from "./bookings.testkit";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

const MINUTE = 60_000;

async function holdAs(s: Scenario, start: number, who = s.customer.as) {
  return await who.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start });
}

/** A succeeded payment of the invoice's total, recorded as the Stripe webhook would. */
async function payInFull(t: TestConvex, invoiceId: Id<"invoices">) {
  await t.run(async (ctx) => {
    const invoice = (await ctx.db.get("invoices", invoiceId))!;
    await ctx.db.insert("payments", {
      businessId: invoice.businessId,
      invoiceId,
      bookingId: invoice.bookingId,
      customerId: invoice.customerId,
      kind: "full",
      amountMinor: invoice.totalMinor,
      currency: invoice.currency,
      status: "succeeded",
      provider: "local_test",
      createdAt: Date.now(),
      updatedAt: Date.now(),
    });
    await ctx.db.patch("invoices", invoiceId, { amountPaidMinor: invoice.totalMinor, status: "paid" });
  });
}

async function activeAssignments(t: TestConvex, resourceId: Id<"resources">) {
  return await t.run(async (ctx) =>
    (await ctx.db
      .query("bookingAssignments")
      .withIndex("by_resourceId_and_busyEnd", (q) => q.eq("resourceId", resourceId))
      .collect()).filter((a) => a.status === "offered" || a.status === "accepted"),
  );
}

/** Asserts that no provider has overlapping active work beyond its capacity. */
async function assertNoOverbooking(t: TestConvex) {
  await t.run(async (ctx) => {
    const resources = await ctx.db.query("resources").collect();
    for (const resource of resources) {
      const rows = (await ctx.db
        .query("bookingAssignments")
        .withIndex("by_resourceId_and_busyEnd", (q) => q.eq("resourceId", resource._id))
        .collect()).filter((a) => a.status === "offered" || a.status === "accepted");
      for (const a of rows) {
        const overlapping = rows.filter((b) => b.busyStart < a.busyEnd && a.busyStart < b.busyEnd);
        // Usage at a's start is at most the capacity.
        const atStart = overlapping.filter((b) => b.busyStart <= a.busyStart && a.busyStart < b.busyEnd);
        expect(atStart.length).toBeLessThanOrEqual(resource.capacity);
      }
    }
  });
}

describe("bookings.hold", () => {
  test("creates a HELD booking with an offered assignment, history, a resource-day and events", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const start = at(TUESDAY, "10:00");
    const result = await holdAs(s, start);
    expect(result.holdExpiresAt).toBe(NOW + 10 * MINUTE);
    expect(result.quote.totalMinor).toBe(10_000);
    const view = await s.customer.as.query(api.bookings.get, { bookingId: result.bookingId });
    expect(view.booking.status).toBe("HELD");
    expect(view.booking.start).toBe(start);
    expect(view.booking.end).toBe(start + 120 * MINUTE);
    expect(view.booking.localDate).toBe(TUESDAY);
    expect(view.booking.assignedResourceIds).toEqual([s.provider.resourceId]);
    expect(view.resources).toEqual([{ resourceId: s.provider.resourceId, name: "Pat Provider", status: "offered" }]);
    expect(view.history.map((h) => [h.from, h.to])).toEqual([[undefined, "HELD"]]);
    const { days, events } = await t.run(async (ctx) => ({
      days: await ctx.db.query("resourceDays").collect(),
      events: await ctx.db.query("events").collect(),
    }));
    expect(days).toHaveLength(1);
    expect(days[0]).toMatchObject({ resourceId: s.provider.resourceId, date: TUESDAY, bookingCount: 1 });
    expect(events.map((e) => e.type).sort()).toEqual(["availability.changed", "booking.held", "dispatch.booking_held"]);
    const availability = events.find((e) => e.type === "availability.changed")!;
    expect(availability.data).toEqual({
      type: "slots.changed",
      businessId: s.businessId,
      zoneId: s.zoneId,
      date: TUESDAY,
      resourceIds: [s.provider.resourceId],
      reason: "hold_created",
    });
    const outboxRooms = await t.run(async (ctx) => (await ctx.db.query("outbox").collect()).map((o) => `${o.party}:${o.room}`).sort());
    expect(outboxRooms).toEqual(
      [
        `availability:biz_${s.businessId}__zone_${s.zoneId}__${TUESDAY}`,
        `bookings:biz_${s.businessId}`,
        `bookings:biz_${s.businessId}__cust_${s.customer.customerId}`,
        `dispatch:biz_${s.businessId}__${TUESDAY}`,
      ].sort(),
    );
  });

  test.each([
    ["outside working hours", () => at(TUESDAY, "16:00"), "SLOT_UNAVAILABLE"],
    ["on a Sunday", () => at("2026-03-08", "10:00"), "SLOT_UNAVAILABLE"],
    ["in the past", () => NOW - 60 * MINUTE, "SLOT_UNAVAILABLE"],
    ["beyond the horizon", () => at("2026-06-01", "10:00"), "SLOT_UNAVAILABLE"],
    ["not an instant", () => 1.5, "INVALID_ARGUMENT"],
  ])("refuses a start %s and writes nothing", async (_label, start, code) => {
    const t = newTest();
    const s = await bookingScenario(t);
    await expectCode(holdAs(s, start()), code);
    const counts = await t.run(async (ctx) => ({
      bookings: (await ctx.db.query("bookings").collect()).length,
      assignments: (await ctx.db.query("bookingAssignments").collect()).length,
      events: (await ctx.db.query("events").collect()).length,
    }));
    expect(counts).toEqual({ bookings: 0, assignments: 0, events: 0 });
  });

  test("minimum notice applies to customers but not to a manager booking for them", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { minimumNoticeMinutes: 48 * 60 } } });
    const start = at(TUESDAY, "09:00"); // 26 hours ahead
    const error = await expectCode(holdAs(s, start), "SLOT_UNAVAILABLE");
    expect(error.details?.code ?? error.message).toBeDefined();
    const staffHold = await s.manager.as.mutation(api.bookings.hold, {
      businessId: s.businessId,
      zoneId: s.zoneId,
      cart: s.cart,
      start,
      customerId: s.customer.customerId,
    });
    const booking = await t.run((ctx) => ctx.db.get("bookings", staffHold.bookingId));
    expect(booking?.source).toBe("staff");
    expect(booking?.customerId).toBe(s.customer.customerId);
  });

  test("refuses bad carts, foreign zones and inactive businesses", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const other = await aBusiness(t);
    const otherZone = await aZone(t, other.businessId);
    const otherCatalogue = await aCatalogue(t, other.businessId);
    const start = at(TUESDAY, "10:00");
    const base = { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start };
    await expectCode(s.customer.as.mutation(api.bookings.hold, { ...base, cart: [] }), "INVALID_ARGUMENT", "cart");
    await expectCode(s.customer.as.mutation(api.bookings.hold, { ...base, zoneId: otherZone.zoneId }), "NOT_FOUND", "zoneId");
    await expectCode(
      s.customer.as.mutation(api.bookings.hold, { ...base, cart: [{ productId: otherCatalogue.productId, quantity: 1, extras: [] }] }),
      "NOT_FOUND",
    );
    await expectCode(
      s.customer.as.mutation(api.bookings.hold, { ...base, cart: [{ productId: s.catalogue.productId, quantity: 9, extras: [] }] }),
      "INVALID_ARGUMENT",
    );
    await t.run((ctx) => ctx.db.patch("businesses", s.businessId, { status: "SUSPENDED" }));
    await expectCode(s.customer.as.mutation(api.bookings.hold, base), "BUSINESS_NOT_ACTIVE");
    await expectCode(t.mutation(api.bookings.hold, base), "UNAUTHENTICATED");
    expect(await t.run(async (ctx) => (await ctx.db.query("bookings").collect()).length)).toBe(0);
  });

  test("a customer cannot book for another customer; a provider cannot book at all", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    const base = { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "10:00") };
    await expectCode(s.customer.as.mutation(api.bookings.hold, { ...base, customerId: bob.customerId }), "NOT_FOUND", "customerId");
    await expectCode(s.provider.as.mutation(api.bookings.hold, base), "FORBIDDEN");
  });

  test("a signed-in person new to the business gets a customer record", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const newcomer = await aStaffMember(t, (await aBusiness(t)).businessId, { role: "owner" });
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"), newcomer.as);
    const booking = await t.run((ctx) => ctx.db.get("bookings", bookingId));
    const customer = await t.run((ctx) => ctx.db.get("customers", booking!.customerId));
    expect(customer).toMatchObject({ businessId: s.businessId, userId: newcomer.userId });
  });
});

describe("no double booking", () => {
  test.each([1, 2, 3])("capacity %i: of 8 attempts at one slot exactly that many succeed", async (capacity) => {
    const t = newTest();
    const s = await bookingScenario(t, { provider: { capacity } });
    const start = at(TUESDAY, "10:00");
    const outcomes: string[] = [];
    for (let i = 0; i < 8; i++) {
      const customer = await aCustomer(t, s.businessId, { name: `Customer ${i}` });
      const error = await errorOf(holdAs(s, start, customer.as));
      outcomes.push(error === null ? "ok" : error.code!);
    }
    expect(outcomes.filter((o) => o === "ok")).toHaveLength(capacity);
    expect(outcomes.filter((o) => o !== "ok").every((o) => o === "SLOT_UNAVAILABLE")).toBe(true);
    expect(await activeAssignments(t, s.provider.resourceId)).toHaveLength(capacity);
    const day = await t.run((ctx) =>
      ctx.db
        .query("resourceDays")
        .withIndex("by_resourceId_and_date", (q) => q.eq("resourceId", s.provider.resourceId).eq("date", TUESDAY))
        .unique(),
    );
    expect(day?.bookingCount).toBe(capacity);
    await assertNoOverbooking(t);
  });

  test("two providers: the slot takes two bookings, then refuses; overlapping starts are refused too", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const second = await aProvider(t, s.businessId, { name: "Quinn Provider", priority: 1 });
    const first = await holdAs(s, at(TUESDAY, "10:00"));
    const other = await aCustomer(t, s.businessId);
    const secondHold = await holdAs(s, at(TUESDAY, "10:00"), other.as);
    const assigned = await t.run(async (ctx) => [
      (await ctx.db.get("bookings", first.bookingId))!.assignedResourceIds[0],
      (await ctx.db.get("bookings", secondHold.bookingId))!.assignedResourceIds[0],
    ]);
    // Priority policy: the lower priority number first.
    expect(assigned).toEqual([s.provider.resourceId, second.resourceId]);
    const third = await aCustomer(t, s.businessId);
    await expectCode(holdAs(s, at(TUESDAY, "11:45"), third.as), "SLOT_UNAVAILABLE");
    await expectCode(holdAs(s, at(TUESDAY, "09:15"), third.as), "SLOT_UNAVAILABLE");
    await assertNoOverbooking(t);
  });

  test("touching bookings are allowed back to back", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    await holdAs(s, at(TUESDAY, "10:00"));
    await holdAs(s, at(TUESDAY, "12:00"));
    await holdAs(s, at(TUESDAY, "14:00"));
    await expectCode(holdAs(s, at(TUESDAY, "09:00")), "SLOT_UNAVAILABLE");
    await expectCode(holdAs(s, at(TUESDAY, "15:59")), "SLOT_UNAVAILABLE");
    expect(await activeAssignments(t, s.provider.resourceId)).toHaveLength(3);
  });

  test.each([
    ["buffer after", { bufferAfterMinutes: 30 }, ["12:00", "08:00"], ["12:30"]],
    ["buffer before", { bufferBeforeMinutes: 30 }, ["12:00", "09:00"], ["12:30"]],
  ])("%s is respected", async (_label, provider, refused, allowed) => {
    const t = newTest();
    const s = await bookingScenario(t, { provider });
    await holdAs(s, at(TUESDAY, "10:00"));
    for (const time of refused) {
      const c = await aCustomer(t, s.businessId);
      await expectCode(holdAs(s, at(TUESDAY, time), c.as), "SLOT_UNAVAILABLE");
    }
    for (const time of allowed) {
      const c = await aCustomer(t, s.businessId);
      await holdAs(s, at(TUESDAY, time), c.as);
    }
    await assertNoOverbooking(t);
  });

  test("per-day limit: a provider with maxBookingsPerDay 2 takes no third job that day", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { provider: { maxBookingsPerDay: 2 } });
    await holdAs(s, at(TUESDAY, "09:00"));
    await holdAs(s, at(TUESDAY, "11:00"));
    const error = await expectCode(holdAs(s, at(TUESDAY, "14:00")), "SLOT_UNAVAILABLE");
    expect(JSON.stringify(error)).toContain("DAILY_LIMIT_REACHED");
    await holdAs(s, at(WEDNESDAY, "14:00"));
  });

  test("time off and closed date overrides block placement", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    await t.run(async (ctx) => {
      await ctx.db.insert("timeOff", {
        businessId: s.businessId,
        resourceId: s.provider.resourceId,
        start: at(TUESDAY, "12:00"),
        end: at(TUESDAY, "13:00"),
      });
      await ctx.db.insert("resourceDateOverrides", {
        businessId: s.businessId,
        resourceId: s.provider.resourceId,
        date: WEDNESDAY,
        closed: true,
        hours: [],
      });
    });
    await expectCode(holdAs(s, at(TUESDAY, "11:00")), "SLOT_UNAVAILABLE");
    await expectCode(holdAs(s, at(WEDNESDAY, "10:00")), "SLOT_UNAVAILABLE");
    await holdAs(s, at(TUESDAY, "13:00"));
  });

  test("work that crosses midnight blocks the next day's early start on the same provider", async () => {
    const t = newTest();
    const s = await bookingScenario(t, {
      provider: { weeklyHours: [2, 3].map((weekday) => ({ weekday, start: "20:00", end: "02:00" })) },
    });
    await holdAs(s, at(TUESDAY, "23:00")); // until 01:00 on Wednesday
    const bob = await aCustomer(t, s.businessId);
    await expectCode(holdAs(s, at(WEDNESDAY, "00:30"), bob.as), "SLOT_UNAVAILABLE");
    await holdAs(s, at(WEDNESDAY, "20:00"), bob.as);
    const days = await t.run(async (ctx) => (await ctx.db.query("resourceDays").collect()).map((d) => [d.date, d.bookingCount]));
    expect(days).toEqual([
      [TUESDAY, 1],
      [WEDNESDAY, 1],
    ]);
    await assertNoOverbooking(t);
  });

  test("the unit of contention is the resource-day: booking Pat never touches Quinn's day", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const quinn = await aProvider(t, s.businessId, { name: "Quinn", priority: 9 });
    await holdAs(s, at(TUESDAY, "10:00"));
    const days = await t.run((ctx) => ctx.db.query("resourceDays").collect());
    expect(days.map((d) => d.resourceId)).toEqual([s.provider.resourceId]);
    expect(days.some((d) => d.resourceId === quinn.resourceId)).toBe(false);
  });

  test("manual dispatch: unassigned holds still cannot exceed the free providers at that time", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { autoAssign: "manual" } } });
    await aProvider(t, s.businessId, { name: "Quinn" });
    const first = await holdAs(s, at(TUESDAY, "10:00"));
    const bob = await aCustomer(t, s.businessId);
    await holdAs(s, at(TUESDAY, "11:00"), bob.as);
    const carol = await aCustomer(t, s.businessId);
    await expectCode(holdAs(s, at(TUESDAY, "10:30"), carol.as), "SLOT_UNAVAILABLE");
    expect((await t.run((ctx) => ctx.db.get("bookings", first.bookingId)))?.assignedResourceIds).toEqual([]);
    // Assigning one of them to Pat keeps the count right: Quinn is still free for one more.
    await s.manager.as.mutation(api.dispatch.assign, { bookingId: first.bookingId, resourceId: s.provider.resourceId });
    await expectCode(holdAs(s, at(TUESDAY, "10:30"), carol.as), "SLOT_UNAVAILABLE");
    await holdAs(s, at(TUESDAY, "13:00"), carol.as);
  });

  test("an expired hold frees the slot: the scheduled job releases it", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    const bob = await aCustomer(t, s.businessId);
    await expectCode(holdAs(s, at(TUESDAY, "10:00"), bob.as), "SLOT_UNAVAILABLE");
    vi.advanceTimersByTime(10 * MINUTE + 1);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const booking = await t.run((ctx) => ctx.db.get("bookings", bookingId));
    expect(booking?.status).toBe("CANCELLED");
    expect(booking?.assignedResourceIds).toEqual([]);
    expect(booking?.cancellation?.reason).toBe("expired");
    expect(await activeAssignments(t, s.provider.resourceId)).toHaveLength(0);
    await expectCode(s.customer.as.mutation(api.bookings.confirm, { bookingId }), "INVALID_TRANSITION");
    await holdAs(s, at(TUESDAY, "10:00"), bob.as);
  });
});

describe("hold expiry sweep", () => {
  test("the sweep and the scheduled job release each expired hold exactly once", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const a = await holdAs(s, at(TUESDAY, "09:00"));
    const b = await holdAs(s, at(TUESDAY, "12:00"));
    const c = await holdAs(s, at(TUESDAY, "14:00"));
    vi.setSystemTime(NOW + 11 * MINUTE);
    expect(await t.mutation(internal.bookings.sweepExpiredHolds, {})).toBe(3);
    expect(await t.mutation(internal.bookings.sweepExpiredHolds, {})).toBe(0);
    expect(await t.mutation(internal.bookings.expireHold, { bookingId: a.bookingId })).toBe(false);
    const history = await t.run(async (ctx) =>
      (await ctx.db.query("bookingStatusHistory").collect()).filter((h) => h.to === "CANCELLED").map((h) => h.bookingId),
    );
    expect(history.sort()).toEqual([a.bookingId, b.bookingId, c.bookingId].sort());
    const days = await t.run((ctx) => ctx.db.query("resourceDays").collect());
    expect(days[0].bookingCount).toBe(0);
  });

  test("a hold that is not yet due is left alone", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { bookingId } = await holdAs(s, at(TUESDAY, "09:00"));
    vi.setSystemTime(NOW + 5 * MINUTE);
    expect(await t.mutation(internal.bookings.sweepExpiredHolds, {})).toBe(0);
    expect(await t.mutation(internal.bookings.expireHold, { bookingId })).toBe(false);
    expect((await t.run((ctx) => ctx.db.get("bookings", bookingId)))?.status).toBe("HELD");
  });
});

describe("bookings.confirm and markPaid", () => {
  test("with a deposit due: HELD → PENDING_PAYMENT, invoice issued, markPaid confirms", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    const confirmed = await s.customer.as.mutation(api.bookings.confirm, { bookingId });
    expect(confirmed).toMatchObject({ status: "PENDING_PAYMENT", depositMinor: 10_000, totalMinor: 10_000 });
    const invoice = await t.run((ctx) => ctx.db.get("invoices", confirmed.invoiceId));
    expect(invoice?.lines.reduce((sum, l) => sum + l.amountMinor, 0)).toBe(invoice?.totalMinor);
    expect(invoice?.number).toMatch(/^INV-[0-9A-Z]{8}-0001$/);
    await expectCode(t.mutation(internal.bookings.markPaid, { bookingId }), "PAYMENT_REQUIRED");
    await t.run((ctx) => ctx.db.patch("invoices", confirmed.invoiceId, { amountPaidMinor: 10_000, status: "paid" }));
    expect(await t.mutation(internal.bookings.markPaid, { bookingId })).toEqual({ status: "CONFIRMED", changed: true });
    expect(await t.mutation(internal.bookings.markPaid, { bookingId })).toEqual({ status: "CONFIRMED", changed: false });
    const view = await s.customer.as.query(api.bookings.get, { bookingId });
    expect(view.history.map((h) => h.to)).toEqual(["HELD", "PENDING_PAYMENT", "CONFIRMED"]);
    expect(view.booking.holdExpiresAt).toBeUndefined();
  });

  test("without a deposit: HELD → CONFIRMED straight away and the hold job does nothing", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    const confirmed = await s.customer.as.mutation(api.bookings.confirm, { bookingId });
    expect(confirmed.status).toBe("CONFIRMED");
    vi.advanceTimersByTime(60 * MINUTE);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect((await t.run((ctx) => ctx.db.get("bookings", bookingId)))?.status).toBe("CONFIRMED");
    await expectCode(s.customer.as.mutation(api.bookings.confirm, { bookingId }), "INVALID_TRANSITION");
  });

  test("an unpaid PENDING_PAYMENT booking is released after the payment window", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    const { invoiceId } = await s.customer.as.mutation(api.bookings.confirm, { bookingId });
    vi.advanceTimersByTime(11 * MINUTE);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    const booking = await t.run((ctx) => ctx.db.get("bookings", bookingId));
    expect(booking?.status).toBe("CANCELLED");
    expect((await t.run((ctx) => ctx.db.get("invoices", invoiceId)))?.status).toBe("void");
    await expectCode(t.mutation(internal.bookings.markPaid, { bookingId }), "INVALID_TRANSITION");
  });

  test("confirming after the hold expired (before the sweep ran) is HOLD_EXPIRED", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    vi.setSystemTime(NOW + 10 * MINUTE);
    await expectCode(s.customer.as.mutation(api.bookings.confirm, { bookingId }), "HOLD_EXPIRED");
  });
});

describe("bookings.reschedule", () => {
  async function confirmedBooking(s: Scenario, start: number) {
    const { bookingId } = await holdAs(s, start);
    await s.customer.as.mutation(api.bookings.confirm, { bookingId });
    return bookingId;
  }

  test("moves the assignment atomically and frees the old time", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
    const bookingId = await confirmedBooking(s, at(WEDNESDAY, "10:00"));
    const result = await s.customer.as.mutation(api.bookings.reschedule, { bookingId, start: at(WEDNESDAY, "13:00") });
    expect(result).toMatchObject({ start: at(WEDNESDAY, "13:00"), feeMinor: 0, resourceIds: [s.provider.resourceId] });
    const active = await activeAssignments(t, s.provider.resourceId);
    expect(active).toHaveLength(1);
    expect(active[0].busyStart).toBe(at(WEDNESDAY, "13:00"));
    const other = await aCustomer(t, s.businessId);
    await holdAs(s, at(WEDNESDAY, "10:00"), other.as);
    const booking = await t.run((ctx) => ctx.db.get("bookings", bookingId));
    expect(booking?.rescheduleCount).toBe(1);
    const types = await t.run(async (ctx) => (await ctx.db.query("events").collect()).map((e) => e.type));
    expect(types).toContain("booking.rescheduled");
  });

  test("refuses a taken time and changes nothing", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
    const bookingId = await confirmedBooking(s, at(WEDNESDAY, "10:00"));
    const other = await aCustomer(t, s.businessId);
    await holdAs(s, at(WEDNESDAY, "13:00"), other.as);
    await expectCode(s.customer.as.mutation(api.bookings.reschedule, { bookingId, start: at(WEDNESDAY, "14:00") }), "SLOT_UNAVAILABLE");
    const booking = await t.run((ctx) => ctx.db.get("bookings", bookingId));
    expect(booking?.start).toBe(at(WEDNESDAY, "10:00"));
    expect(booking?.rescheduleCount).toBe(0);
    expect((await activeAssignments(t, s.provider.resourceId)).map((a) => a.busyStart).sort()).toEqual(
      [at(WEDNESDAY, "10:00"), at(WEDNESDAY, "13:00")].sort(),
    );
  });

  test("a booking may move within its own time (overlapping its old slot)", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
    const bookingId = await confirmedBooking(s, at(WEDNESDAY, "10:00"));
    await s.customer.as.mutation(api.bookings.reschedule, { bookingId, start: at(WEDNESDAY, "11:00") });
    expect(await activeAssignments(t, s.provider.resourceId)).toHaveLength(1);
  });

  test("policy: max reschedules and the late fee for customers; staff are not charged", async () => {
    const t = newTest();
    const s = await bookingScenario(t, {
      policies: { booking: { depositBp: 0 }, reschedule: { maxReschedules: 1, freeUntilHours: 48, lateFeeFlatMinor: 1_500 } },
    });
    const bookingId = await confirmedBooking(s, at(TUESDAY, "10:00"));
    const preview = await s.customer.as.query(api.bookings.reschedulePreview, { bookingId });
    expect(preview).toMatchObject({ allowed: true, feeMinor: 1_500 });
    await expectCode(
      s.customer.as.mutation(api.bookings.reschedule, { bookingId, start: at(TUESDAY, "13:00"), expectedFeeMinor: 0 }),
      "POLICY_VIOLATION",
    );
    const moved = await s.customer.as.mutation(api.bookings.reschedule, { bookingId, start: at(TUESDAY, "13:00"), expectedFeeMinor: 1_500 });
    expect(moved.feeMinor).toBe(1_500);
    const invoice = await t.run(async (ctx) => ctx.db.get("invoices", (await ctx.db.get("bookings", bookingId))!.invoiceId!));
    expect(invoice?.totalMinor).toBe(11_500);
    expect(invoice?.lines.at(-1)).toMatchObject({ kind: "fee", amountMinor: 1_500 });
    await expectCode(s.customer.as.mutation(api.bookings.reschedule, { bookingId, start: at(TUESDAY, "14:00") }), "POLICY_VIOLATION");
    const byStaff = await s.manager.as.mutation(api.bookings.reschedule, { bookingId, start: at(TUESDAY, "14:30") });
    expect(byStaff.feeMinor).toBe(0);
  });

  test("keeps the provider when free, else reassigns to another eligible one", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
    const quinn = await aProvider(t, s.businessId, { name: "Quinn", priority: 5 });
    const bookingId = await confirmedBooking(s, at(WEDNESDAY, "10:00"));
    const blocker = await aCustomer(t, s.businessId);
    // Pat is taken at 14:00 by another booking (assigned to Pat by priority).
    await holdAs(s, at(WEDNESDAY, "14:00"), blocker.as);
    const moved = await s.customer.as.mutation(api.bookings.reschedule, { bookingId, start: at(WEDNESDAY, "14:00") });
    expect(moved.resourceIds).toEqual([quinn.resourceId]);
    await assertNoOverbooking(t);
  });
});

describe("bookings.cancel", () => {
  test("preview then cancel: a late customer cancellation pays the policy fee; the slot is released", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    const { invoiceId } = await s.customer.as.mutation(api.bookings.confirm, { bookingId });
    await payInFull(t, invoiceId);
    await t.mutation(internal.bookings.markPaid, { bookingId });
    vi.setSystemTime(at("2026-03-02", "12:00")); // 22 hours before the start
    const preview = await s.customer.as.query(api.bookings.cancellationPreview, { bookingId });
    // Default policy: free until 24 h before, then 25 %.
    expect(preview).toMatchObject({ feeMinor: 2_500, refundMinor: 7_500, isFree: false });
    await expectCode(s.customer.as.mutation(api.bookings.cancel, { bookingId, expectedFeeMinor: 0 }), "POLICY_VIOLATION");
    const result = await s.customer.as.mutation(api.bookings.cancel, { bookingId, expectedFeeMinor: 2_500, reason: "Plans changed" });
    expect(result.feeMinor).toBe(2_500);
    const booking = await t.run((ctx) => ctx.db.get("bookings", bookingId));
    expect(booking?.status).toBe("CANCELLED");
    expect(booking?.cancellation).toMatchObject({ feeMinor: 2_500, reason: "Plans changed", actor: { role: "customer" } });
    expect(await activeAssignments(t, s.provider.resourceId)).toHaveLength(0);
    // The refund the panel promised is requested in the same transaction, by the customer.
    const refunds = await t.run((ctx) => ctx.db.query("refunds").withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoiceId)).collect());
    expect(refunds.map((r) => ({ amountMinor: r.amountMinor, status: r.status, by: r.requestedBy.role }))).toEqual([
      { amountMinor: preview.refundMinor, status: "pending", by: "customer" },
    ]);
    await expectCode(s.customer.as.mutation(api.bookings.cancel, { bookingId }), "INVALID_TRANSITION");
  });

  test("a business cancelling a paid booking refunds it in full; an unpaid one asks for no refund", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const paid = await holdAs(s, at(TUESDAY, "10:00"));
    const { invoiceId } = await s.customer.as.mutation(api.bookings.confirm, { bookingId: paid.bookingId });
    await payInFull(t, invoiceId);
    await t.mutation(internal.bookings.markPaid, { bookingId: paid.bookingId });
    const result = await s.manager.as.mutation(api.bookings.cancel, { bookingId: paid.bookingId, reason: "Provider ill" });
    expect(result).toMatchObject({ feeMinor: 0, refundMinor: 10_000 });
    const refunds = await t.run((ctx) => ctx.db.query("refunds").collect());
    expect(refunds.map((r) => [r.amountMinor, r.requestedBy.role])).toEqual([[10_000, "manager"]]);

    const unpaid = await holdAs(s, at(WEDNESDAY, "10:00"));
    await s.customer.as.mutation(api.bookings.confirm, { bookingId: unpaid.bookingId });
    await s.manager.as.mutation(api.bookings.cancel, { bookingId: unpaid.bookingId });
    expect(await t.run((ctx) => ctx.db.query("refunds").collect())).toHaveLength(1);
  });

  test("an early cancellation is free and voids the unpaid invoice; the business never charges", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const first = await holdAs(s, at("2026-03-10", "10:00"));
    const { invoiceId } = await s.customer.as.mutation(api.bookings.confirm, { bookingId: first.bookingId });
    expect((await s.customer.as.query(api.bookings.cancellationPreview, { bookingId: first.bookingId })).isFree).toBe(true);
    await s.customer.as.mutation(api.bookings.cancel, { bookingId: first.bookingId });
    expect((await t.run((ctx) => ctx.db.get("invoices", invoiceId)))?.status).toBe("void");
    const second = await holdAs(s, at(TUESDAY, "10:00"));
    await s.customer.as.mutation(api.bookings.confirm, { bookingId: second.bookingId });
    const byBusiness = await s.manager.as.mutation(api.bookings.cancel, { bookingId: second.bookingId });
    expect(byBusiness.feeMinor).toBe(0);
  });
});

describe("bookings.setStatus", () => {
  let current: TestConvex;
  async function confirmed(s: Scenario) {
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    await s.manager.as.mutation(api.bookings.confirm, { bookingId });
    return bookingId;
  }

  test("the assigned provider drives the job through the field statuses; history records each", async () => {
    current = newTest();
    const s = await bookingScenario(current, { policies: { booking: { depositBp: 0 } } });
    const bookingId = await confirmed(s);
    vi.setSystemTime(at(TUESDAY, "08:30"));
    await s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "EN_ROUTE" });
    vi.setSystemTime(at(TUESDAY, "10:05"));
    await s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "IN_PROGRESS" });
    await expectCode(s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "EN_ROUTE" }), "INVALID_TRANSITION");
    await s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "COMPLETED" });
    const view = await s.manager.as.query(api.bookings.get, { bookingId });
    expect(view.history.map((h) => h.to)).toEqual(["HELD", "CONFIRMED", "EN_ROUTE", "IN_PROGRESS", "COMPLETED"]);
    expect(view.history.at(-1)?.actor).toMatchObject({ role: "staff", userId: s.provider.userId });
    expect(await activeAssignments(current, s.provider.resourceId)).toHaveLength(0);
  });

  test.each([
    ["another provider", "FORBIDDEN"],
    ["the customer", "FORBIDDEN"],
    ["a manager of another business", "NOT_FOUND"],
  ])("%s cannot change the status", async (who, code) => {
    current = newTest();
    const s = await bookingScenario(current, { policies: { booking: { depositBp: 0 } } });
    const bookingId = await confirmed(s);
    const actor =
      who === "another provider"
        ? (await aProvider(current, s.businessId, { name: "Other" })).as
        : who === "the customer"
          ? s.customer.as
          : (await aManager(current, (await aBusiness(current)).businessId)).as;
    await expectCode(actor.mutation(api.bookings.setStatus, { bookingId, status: "EN_ROUTE" }), code);
    expect((await current.run((ctx) => ctx.db.get("bookings", bookingId)))?.status).toBe("CONFIRMED");
  });

  test("time rules: en route from the lead time before the window, start and finish not before the start", async () => {
    current = newTest();
    const s = await bookingScenario(current, { policies: { booking: { depositBp: 0, enRouteLeadMinutes: 60 } } });
    const bookingId = await confirmed(s);
    // Monday 07:00, the job is Tuesday 10:00: nothing yet, with a reason that names the time and no id.
    const early = await expectCode(s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "EN_ROUTE" }), "TOO_EARLY", "status");
    expect(early.message).toBe("It is too early to set off: this job can be marked en route 1 h before its arrival window (from 2026-03-03 09:00).");
    expect(early.message).not.toContain(bookingId);
    expect(early.details).toEqual({ notBefore: at(TUESDAY, "09:00"), overridable: false });
    const options = await s.provider.as.query(api.bookings.statusOptions, { bookingId });
    expect(options).toEqual({
      canOverride: false,
      options: [
        { status: "EN_ROUTE", notBefore: at(TUESDAY, "09:00"), reason: expect.stringContaining("1 h before its arrival window") },
        { status: "IN_PROGRESS", notBefore: at(TUESDAY, "10:00"), reason: expect.stringContaining("can be started at its start time") },
        { status: "NO_SHOW", notBefore: at(TUESDAY, "10:00"), reason: expect.stringContaining("no-show") },
      ],
    });
    // A provider cannot override; a blank reason is refused.
    await expectCode(s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "IN_PROGRESS", overrideReason: "Customer asked" }), "FORBIDDEN");
    await expectCode(s.manager.as.mutation(api.bookings.setStatus, { bookingId, status: "IN_PROGRESS", overrideReason: "  " }), "INVALID_ARGUMENT", "overrideReason");
    vi.setSystemTime(at(TUESDAY, "09:00"));
    await s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "EN_ROUTE" });
    await expectCode(s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "IN_PROGRESS" }), "TOO_EARLY");
    vi.setSystemTime(at(TUESDAY, "10:00"));
    await s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "IN_PROGRESS" });
    expect((await current.run((ctx) => ctx.db.get("bookings", bookingId)))?.status).toBe("IN_PROGRESS");
  });

  test("a manager may set a status early with a reason, recorded in the history", async () => {
    current = newTest();
    const s = await bookingScenario(current, { policies: { booking: { depositBp: 0 } } });
    const bookingId = await confirmed(s);
    expect((await s.manager.as.query(api.bookings.statusOptions, { bookingId })).canOverride).toBe(true);
    await expectCode(s.manager.as.mutation(api.bookings.setStatus, { bookingId, status: "IN_PROGRESS" }), "TOO_EARLY");
    await s.manager.as.mutation(api.bookings.setStatus, { bookingId, status: "IN_PROGRESS", overrideReason: "Customer let us in early" });
    await s.manager.as.mutation(api.bookings.setStatus, { bookingId, status: "COMPLETED", overrideReason: "Finished early", note: "All rooms" });
    const view = await s.manager.as.query(api.bookings.get, { bookingId });
    expect(view.history.slice(-2).map((h) => [h.to, h.reason, h.actor.role])).toEqual([
      ["IN_PROGRESS", "Set before its time by the manager: Customer let us in early", "manager"],
      ["COMPLETED", "Set before its time by the manager: Finished early (note: All rooms)", "manager"],
    ]);
    // No-shows stay after the start, override or not.
    const other = await holdAs(s, at(WEDNESDAY, "10:00"));
    await s.manager.as.mutation(api.bookings.confirm, { bookingId: other.bookingId });
    await expectCode(
      s.manager.as.mutation(api.bookings.setStatus, { bookingId: other.bookingId, status: "NO_SHOW", overrideReason: "Called off" }),
      "INVALID_TRANSITION",
    );
  });

  test("no-show only after the start, with the no-show fee recorded", async () => {
    current = newTest();
    const s = await bookingScenario(current, { policies: { booking: { depositBp: 0 } } });
    const bookingId = await confirmed(s);
    await expectCode(s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "NO_SHOW" }), "INVALID_TRANSITION");
    vi.setSystemTime(at(TUESDAY, "10:20"));
    const result = await s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "NO_SHOW" });
    expect(result).toEqual({ status: "NO_SHOW", feeMinor: 5_000 });
  });
});

describe("reads and their authorisation", () => {
  test("customer A cannot see or cancel B's booking; other tenants get NOT_FOUND", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    await expectCode(bob.as.query(api.bookings.get, { bookingId }), "NOT_FOUND", "bookingId");
    await expectCode(bob.as.mutation(api.bookings.cancel, { bookingId }), "NOT_FOUND");
    await expectCode(bob.as.query(api.bookings.cancellationPreview, { bookingId }), "NOT_FOUND");
    await expectCode(bob.as.mutation(api.bookings.reschedule, { bookingId, start: at(TUESDAY, "13:00") }), "NOT_FOUND");
    await expectCode(bob.as.query(api.bookings.listForCustomer, { customerId: s.customer.customerId, paginationOpts: { numItems: 10, cursor: null } }), "NOT_FOUND");
    const otherOwner = (await aBusiness(t)).owner;
    await expectCode(otherOwner.as.query(api.bookings.get, { bookingId }), "NOT_FOUND");
    await expectCode(otherOwner.as.query(api.bookings.listForBusiness, { businessId: s.businessId, paginationOpts: { numItems: 10, cursor: null } }), "NOT_FOUND");
    const otherProvider = await aProvider(t, s.businessId, { name: "Other" });
    await expectCode(otherProvider.as.query(api.bookings.get, { bookingId }), "FORBIDDEN");
    await expectCode(s.provider.as.mutation(api.bookings.cancel, { bookingId }), "FORBIDDEN");
    expect((await s.provider.as.query(api.bookings.get, { bookingId })).booking._id).toBe(bookingId);
    expect((await t.run((ctx) => ctx.db.get("bookings", bookingId)))?.status).toBe("HELD");
  });

  test("listForCustomer and listForBusiness paginate, filter by status and by start range", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
    const starts = ["09:00", "11:00", "13:00", "15:00"].map((time) => at(WEDNESDAY, time));
    const ids: Id<"bookings">[] = [];
    for (const start of starts) ids.push((await holdAs(s, start)).bookingId);
    await s.customer.as.mutation(api.bookings.confirm, { bookingId: ids[1] });
    await s.customer.as.mutation(api.bookings.confirm, { bookingId: ids[2] });
    const page1 = await s.customer.as.query(api.bookings.listForCustomer, {
      customerId: s.customer.customerId,
      paginationOpts: { numItems: 3, cursor: null },
    });
    expect(page1.page.map((b) => b.start)).toEqual([starts[3], starts[2], starts[1]]);
    const page2 = await s.customer.as.query(api.bookings.listForCustomer, {
      customerId: s.customer.customerId,
      paginationOpts: { numItems: 3, cursor: page1.continueCursor },
    });
    expect(page2.page.map((b) => b.start)).toEqual([starts[0]]);
    const confirmedOnly = await s.manager.as.query(api.bookings.listForBusiness, {
      businessId: s.businessId,
      status: "CONFIRMED",
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(confirmedOnly.page.map((b) => b._id)).toEqual([ids[1], ids[2]]);
    const ranged = await s.manager.as.query(api.bookings.listForBusiness, {
      businessId: s.businessId,
      from: starts[1],
      to: starts[3],
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(ranged.page.map((b) => b._id)).toEqual([ids[1], ids[2]]);
    await expectCode(
      s.provider.as.query(api.bookings.listForBusiness, { businessId: s.businessId, paginationOpts: { numItems: 10, cursor: null } }),
      "FORBIDDEN",
    );
    await expectCode(
      s.customer.as.query(api.bookings.listForBusiness, { businessId: s.businessId, paginationOpts: { numItems: 10, cursor: null } }),
      "FORBIDDEN",
    );
  });
});
