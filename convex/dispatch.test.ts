import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import { aBusiness, aCustomer, aManager, aProvider } from "./test.builders";
import { newTest } from "./test.setup";
import { TUESDAY, WEDNESDAY, at, bookingScenario, expectCode, freezeClock, type Scenario } from "./bookings.testkit";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

async function holdAs(s: Scenario, start: number, who = s.customer.as) {
  return await who.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start });
}

describe("dispatch.board", () => {
  test("shows each provider's jobs of the day and the unassigned queue (manual dispatch)", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { autoAssign: "manual", depositBp: 0 } } });
    const quinn = await aProvider(t, s.businessId, { name: "Quinn", weeklyHours: [{ weekday: 2, start: "12:00", end: "20:00" }] });
    const a = await holdAs(s, at(TUESDAY, "10:00"));
    const b = await holdAs(s, at(TUESDAY, "13:00"));
    await holdAs(s, at(WEDNESDAY, "10:00"));
    await s.manager.as.mutation(api.dispatch.assign, { bookingId: a.bookingId, resourceId: s.provider.resourceId });
    const board = await s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    expect(board.timeZone).toBe("America/New_York");
    const pat = board.providers.find((p) => p.resourceId === s.provider.resourceId)!;
    expect(pat.hours).toEqual([{ start: "09:00", end: "17:00" }]);
    expect(pat.jobs.map((j) => [j.bookingId, j.customerName, j.assignmentStatus])).toEqual([[a.bookingId, "Alice Customer", "accepted"]]);
    expect(board.providers.find((p) => p.resourceId === quinn.resourceId)?.hours).toEqual([{ start: "12:00", end: "20:00" }]);
    expect(board.unassigned.map((j) => j.bookingId)).toEqual([b.bookingId]);
    const owner = await s.owner.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    expect(owner.unassigned).toHaveLength(1);
  });

  test.each([
    ["a provider", "FORBIDDEN"],
    ["a customer", "FORBIDDEN"],
    ["another business's manager", "NOT_FOUND"],
  ])("%s cannot read the board", async (who, code) => {
    const t = newTest();
    const s = await bookingScenario(t);
    const actor =
      who === "a provider" ? s.provider.as : who === "a customer" ? s.customer.as : (await aManager(t, (await aBusiness(t)).businessId)).as;
    await expectCode(actor.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY }), code);
  });

  test("refuses a malformed date", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    await expectCode(s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: "2026-02-30" }), "INVALID_ARGUMENT", "date");
  });

  test("gives each job its address's coordinates and services, and the day's zones and services for the filters", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { autoAssign: "manual", depositBp: 0 } } });
    const located = await s.customer.as.mutation(api.bookings.hold, {
      businessId: s.businessId,
      zoneId: s.zoneId,
      cart: s.cart,
      start: at(TUESDAY, "10:00"),
      address: { line1: "350 5th Ave", city: "New York", postalCode: "10001", country: "US", location: { lat: 40.7484, lng: -73.9857 } },
    });
    const plain = await s.customer.as.mutation(api.bookings.hold, {
      businessId: s.businessId,
      zoneId: s.zoneId,
      cart: s.cart,
      start: at(TUESDAY, "13:00"),
      address: { line1: "1 Main St", city: "New York", postalCode: "10001", country: "US" },
    });
    await s.manager.as.mutation(api.dispatch.assign, { bookingId: located.bookingId, resourceId: s.provider.resourceId });
    const board = await s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    const onLane = board.providers.find((p) => p.resourceId === s.provider.resourceId)!.jobs[0];
    expect(onLane.location).toEqual({ lat: 40.7484, lng: -73.9857 });
    expect(onLane.address).toBe("350 5th Ave, New York, 10001");
    expect(onLane.productIds).toEqual([s.catalogue.productId]);
    expect(board.unassigned.map((j) => [j.bookingId, j.location])).toEqual([[plain.bookingId, undefined]]);
    expect(board.zones).toEqual([{ zoneId: s.zoneId, name: "Manhattan" }]);
    expect(board.services.map((x) => x.productId)).toEqual([s.catalogue.productId]);
  });
});

describe("dispatch.week", () => {
  test("seven days from the start: each provider's hours and jobs per day, and the unassigned per day", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { autoAssign: "manual", depositBp: 0 } } });
    const a = await holdAs(s, at(TUESDAY, "10:00"));
    await holdAs(s, at(TUESDAY, "13:00"));
    const c = await holdAs(s, at(WEDNESDAY, "10:00"));
    await s.manager.as.mutation(api.dispatch.assign, { bookingId: a.bookingId, resourceId: s.provider.resourceId });
    await s.manager.as.mutation(api.dispatch.assign, { bookingId: c.bookingId, resourceId: s.provider.resourceId });
    const monday = "2026-03-02";
    const week = await s.manager.as.query(api.dispatch.week, { businessId: s.businessId, start: monday });
    expect(week.days.map((d) => d.date)).toEqual(["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-07", "2026-03-08"]);
    expect(week.days.map((d) => d.unassigned)).toEqual([0, 1, 0, 0, 0, 0, 0]);
    const pat = week.providers.find((p) => p.resourceId === s.provider.resourceId)!;
    expect(pat.days.map((d) => d.jobs.map((j) => j.bookingId))).toEqual([[], [a.bookingId], [c.bookingId], [], [], [], []]);
    // The day's hours: the weekly ones, and none at the weekend.
    expect(pat.days[1].hours).toEqual([{ start: "09:00", end: "17:00" }]);
    expect(pat.days[6].hours).toEqual([]);
    // The board of each day agrees with the week.
    const tuesday = await s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    expect(tuesday.providers.find((p) => p.resourceId === s.provider.resourceId)!.jobs.map((j) => j.bookingId)).toEqual([a.bookingId]);
  });

  test("only managers read it, and the start must be a date", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    await expectCode(s.provider.as.query(api.dispatch.week, { businessId: s.businessId, start: TUESDAY }), "FORBIDDEN");
    await expectCode(s.customer.as.query(api.dispatch.week, { businessId: s.businessId, start: TUESDAY }), "FORBIDDEN");
    await expectCode(s.manager.as.query(api.dispatch.week, { businessId: s.businessId, start: "next week" }), "INVALID_ARGUMENT", "start");
  });
});

describe("dispatch.assign / reassign", () => {
  test("assigning to a busy resource is impossible, not a warning; nothing changes", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { autoAssign: "manual" } } });
    const quinn = await aProvider(t, s.businessId, { name: "Quinn" });
    const first = await holdAs(s, at(TUESDAY, "10:00"));
    const bob = await aCustomer(t, s.businessId);
    const second = await holdAs(s, at(TUESDAY, "11:00"), bob.as);
    await s.manager.as.mutation(api.dispatch.assign, { bookingId: first.bookingId, resourceId: s.provider.resourceId });
    await expectCode(
      s.manager.as.mutation(api.dispatch.assign, { bookingId: second.bookingId, resourceId: s.provider.resourceId }),
      "SLOT_UNAVAILABLE",
    );
    expect((await t.run((ctx) => ctx.db.get("bookings", second.bookingId)))?.assignedResourceIds).toEqual([]);
    await s.manager.as.mutation(api.dispatch.assign, { bookingId: second.bookingId, resourceId: quinn.resourceId });
    await expectCode(
      s.manager.as.mutation(api.dispatch.assign, { bookingId: second.bookingId, resourceId: quinn.resourceId }),
      "CONFLICT",
    );
    // Reassigning the first job onto busy Quinn fails and keeps it with Pat.
    await expectCode(
      s.manager.as.mutation(api.dispatch.reassign, { bookingId: first.bookingId, resourceId: quinn.resourceId }),
      "SLOT_UNAVAILABLE",
    );
    expect((await t.run((ctx) => ctx.db.get("bookings", first.bookingId)))?.assignedResourceIds).toEqual([s.provider.resourceId]);
  });

  test("reassign moves the job and frees the old provider", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const quinn = await aProvider(t, s.businessId, { name: "Quinn", priority: 3 });
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    const result = await s.manager.as.mutation(api.dispatch.reassign, { bookingId, resourceId: quinn.resourceId });
    expect(result.resourceIds).toEqual([quinn.resourceId]);
    const bob = await aCustomer(t, s.businessId);
    const next = await holdAs(s, at(TUESDAY, "10:00"), bob.as);
    expect((await t.run((ctx) => ctx.db.get("bookings", next.bookingId)))?.assignedResourceIds).toEqual([s.provider.resourceId]);
    const types = await t.run(async (ctx) => (await ctx.db.query("events").collect()).map((e) => e.type));
    expect(types).toContain("booking.assigned");
    const assignedEvent = await t.run(async (ctx) =>
      (await ctx.db.query("events").collect()).find((e) => e.type === "dispatch.booking_assigned"),
    );
    expect(assignedEvent?.data).toMatchObject({
      type: "booking.assigned",
      resourceIds: [quinn.resourceId],
      previousResourceIds: [s.provider.resourceId],
    });
  });

  test("only managers and owners assign; other tenants' resources are NOT_FOUND", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { autoAssign: "manual" } } });
    const other = await aBusiness(t);
    const foreign = await aProvider(t, other.businessId);
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    await expectCode(s.provider.as.mutation(api.dispatch.assign, { bookingId, resourceId: s.provider.resourceId }), "FORBIDDEN");
    await expectCode(s.customer.as.mutation(api.dispatch.assign, { bookingId, resourceId: s.provider.resourceId }), "FORBIDDEN");
    await expectCode(s.manager.as.mutation(api.dispatch.assign, { bookingId, resourceId: foreign.resourceId }), "NOT_FOUND", "resourceId");
    await expectCode(other.owner.as.mutation(api.dispatch.assign, { bookingId, resourceId: foreign.resourceId }), "NOT_FOUND");
  });

  test("unassign returns the job to the queue", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    await s.manager.as.mutation(api.dispatch.unassign, { bookingId });
    const board = await s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    expect(board.unassigned.map((j) => j.bookingId)).toEqual([bookingId]);
    expect(board.providers[0].jobs).toEqual([]);
  });
});

describe("offers", () => {
  test("accept marks the offer accepted; only the offered provider can answer", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const quinn = await aProvider(t, s.businessId, { name: "Quinn", priority: 5 });
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    await expectCode(quinn.as.mutation(api.dispatch.accept, { bookingId }), "FORBIDDEN");
    await expectCode(s.customer.as.mutation(api.dispatch.accept, { bookingId }), "FORBIDDEN");
    expect(await s.provider.as.mutation(api.dispatch.accept, { bookingId })).toEqual({ status: "accepted" });
    const view = await s.manager.as.query(api.bookings.get, { bookingId });
    expect(view.resources[0].status).toBe("accepted");
  });

  test("decline hands the job to the next eligible provider, never back to a decliner; then the queue", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const quinn = await aProvider(t, s.businessId, { name: "Quinn", priority: 5 });
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    const first = await s.provider.as.mutation(api.dispatch.decline, { bookingId, reason: "Dentist" });
    expect(first).toEqual({ resourceIds: [quinn.resourceId], queued: false });
    const second = await quinn.as.mutation(api.dispatch.decline, { bookingId });
    expect(second).toEqual({ resourceIds: [], queued: true });
    const board = await s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    expect(board.unassigned.map((j) => j.bookingId)).toEqual([bookingId]);
    const statuses = await t.run(async (ctx) =>
      (await ctx.db.query("bookingAssignments").collect()).map((a) => a.status).sort(),
    );
    expect(statuses).toEqual(["declined", "declined"]);
    const days = await t.run((ctx) => ctx.db.query("resourceDays").collect());
    expect(days.every((d) => d.bookingCount === 0)).toBe(true);
  });

  test("with manual dispatch a declined job goes straight to the queue", async () => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { autoAssign: "manual" } } });
    await aProvider(t, s.businessId, { name: "Quinn" });
    const { bookingId } = await holdAs(s, at(TUESDAY, "10:00"));
    await s.manager.as.mutation(api.dispatch.assign, { bookingId, resourceId: s.provider.resourceId });
    expect(await s.provider.as.mutation(api.dispatch.decline, { bookingId })).toEqual({ resourceIds: [], queued: true });
  });
});

describe("dispatch.myDay", () => {
  test("lists the provider's own jobs for the day with staff-visible notes only", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const quinn = await aProvider(t, s.businessId, { name: "Quinn", priority: 5 });
    await s.customer.as.mutation(api.bookings.hold, {
      businessId: s.businessId,
      zoneId: s.zoneId,
      cart: s.cart,
      start: at(TUESDAY, "13:00"),
      customerNotes: "Ring twice",
    });
    await holdAs(s, at(TUESDAY, "10:00"));
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    await holdAs(s, at(TUESDAY, "10:00"), bob.as); // goes to Quinn
    await t.run(async (ctx) => {
      await ctx.db.insert("clientNotes", {
        businessId: s.businessId,
        customerId: s.customer.customerId,
        authorId: s.manager.userId,
        body: "Dog in the yard",
        visibleToStaff: true,
        createdAt: Date.now(),
      });
      await ctx.db.insert("clientNotes", {
        businessId: s.businessId,
        customerId: s.customer.customerId,
        authorId: s.manager.userId,
        body: "Late payer",
        visibleToStaff: false,
        createdAt: Date.now(),
      });
    });
    const day = await s.provider.as.query(api.dispatch.myDay, { businessId: s.businessId, date: TUESDAY });
    expect(day.jobs.map((j) => j.job.start)).toEqual([at(TUESDAY, "10:00"), at(TUESDAY, "13:00")]);
    expect(day.jobs[1].customerNotes).toBe("Ring twice");
    expect(day.jobs[0].staffNotes.map((n) => n.body)).toEqual(["Dog in the yard"]);
    const quinnDay = await quinn.as.query(api.dispatch.myDay, { businessId: s.businessId, date: TUESDAY });
    expect(quinnDay.jobs.map((j) => j.job.customerName)).toEqual(["Bob"]);
    // A finished job stays on the provider's day (and on the board) after its time is released.
    const tenOClock = day.jobs[0].job.bookingId;
    const { invoiceId } = await s.manager.as.mutation(api.bookings.confirm, { bookingId: tenOClock });
    await t.run((ctx) => ctx.db.patch("invoices", invoiceId, { amountPaidMinor: 10_000, status: "paid" }));
    await t.mutation(internal.bookings.markPaid, { bookingId: tenOClock });
    vi.setSystemTime(at(TUESDAY, "10:01"));
    await s.provider.as.mutation(api.bookings.setStatus, { bookingId: tenOClock, status: "IN_PROGRESS" });
    await s.provider.as.mutation(api.bookings.setStatus, { bookingId: tenOClock, status: "COMPLETED" });
    const later = await s.provider.as.query(api.dispatch.myDay, { businessId: s.businessId, date: TUESDAY });
    expect(later.jobs.map((j) => [j.job.bookingId === tenOClock, j.job.status])).toContainEqual([true, "COMPLETED"]);
    const board = await s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    expect(board.providers.find((p) => p.resourceId === s.provider.resourceId)?.jobs.map((j) => j.status)).toContain("COMPLETED");
    await expectCode(s.manager.as.query(api.dispatch.myDay, { businessId: s.businessId }), "FORBIDDEN");
    await expectCode(s.customer.as.query(api.dispatch.myDay, { businessId: s.businessId }), "FORBIDDEN");
  });
});
