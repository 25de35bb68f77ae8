/**
 * Schedule changes that hit booked jobs: time off, a date override or new weekly hours over
 * a booked job are previewed (`resources.previewScheduleChange`), refused until the caller
 * says where the jobs go, then applied with the jobs moved to another free provider or to
 * the unassigned queue, with the usual events and a history row.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { TUESDAY, WEDNESDAY, at, bookingScenario, expectCode, freezeClock } from "./bookings.testkit";
import { aProvider } from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

/** Pat (priority 0) has a 10:00–12:00 job on Tuesday; Quinn (priority 3) is free. */
async function scenario(t: TestConvex) {
  const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
  const quinn = await aProvider(t, s.businessId, { name: "Quinn", priority: 3 });
  const { bookingId } = await s.customer.as.mutation(api.bookings.hold, {
    businessId: s.businessId,
    zoneId: s.zoneId,
    cart: s.cart,
    start: at(TUESDAY, "10:00"),
  });
  const booking = await t.run((ctx) => ctx.db.get("bookings", bookingId));
  expect(booking?.assignedResourceIds).toEqual([s.provider.resourceId]);
  return { ...s, quinn, bookingId };
}

const tuesdayOff = (resourceId: Id<"resources">) => ({ resourceId, start: at(TUESDAY, "00:00"), end: at(WEDNESDAY, "00:00"), reason: "Dentist" });

async function timeOffRows(t: TestConvex) {
  return await t.run((ctx) => ctx.db.query("timeOff").collect());
}

describe("time off over a booked job", () => {
  test("is previewed with the job, the reason and who could take it", async () => {
    const t = newTest();
    const s = await scenario(t);
    const preview = await s.manager.as.query(api.resources.previewScheduleChange, {
      change: { kind: "time_off", resourceId: s.provider.resourceId, start: at(TUESDAY, "00:00"), end: at(WEDNESDAY, "00:00") },
    });
    expect(preview).toEqual([
      expect.objectContaining({
        bookingId: s.bookingId,
        start: at(TUESDAY, "10:00"),
        customerName: "Alice Customer",
        serviceName: expect.stringContaining("Standard clean"),
        reason: "time off",
        suggestedResourceId: s.quinn.resourceId,
        suggestedResourceName: "Quinn",
      }),
    ]);
    // Time off in the afternoon does not touch a morning job.
    const afternoon = await s.manager.as.query(api.resources.previewScheduleChange, {
      change: { kind: "time_off", resourceId: s.provider.resourceId, start: at(TUESDAY, "13:00"), end: at(TUESDAY, "17:00") },
    });
    expect(afternoon).toEqual([]);
  });

  test("is refused until the caller says where the job goes; nothing changes", async () => {
    const t = newTest();
    const s = await scenario(t);
    const error = await expectCode(s.manager.as.mutation(api.resources.addTimeOff, tuesdayOff(s.provider.resourceId)), "CONFLICT", "moveAffected");
    expect(error.details).toEqual({ affectedBookingIds: [s.bookingId] });
    expect(await timeOffRows(t)).toEqual([]);
    expect((await t.run((ctx) => ctx.db.get("bookings", s.bookingId)))?.assignedResourceIds).toEqual([s.provider.resourceId]);
  });

  test("on confirm moves the job to another free provider, with events and history", async () => {
    const t = newTest();
    const s = await scenario(t);
    await s.manager.as.mutation(api.resources.addTimeOff, {
      ...tuesdayOff(s.provider.resourceId),
      moveAffected: "other_provider",
      confirmedBookingIds: [s.bookingId],
    });
    const booking = await t.run((ctx) => ctx.db.get("bookings", s.bookingId));
    expect(booking?.assignedResourceIds).toEqual([s.quinn.resourceId]);
    expect(booking?.start).toBe(at(TUESDAY, "10:00"));
    expect(await timeOffRows(t)).toHaveLength(1);
    const events = await t.run((ctx) => ctx.db.query("events").collect());
    const moved = events.filter((e) => e.type === "dispatch.booking_assigned").at(-1);
    expect(moved?.data).toMatchObject({ resourceIds: [s.quinn.resourceId], previousResourceIds: [s.provider.resourceId] });
    const history = await t.run((ctx) => ctx.db.query("bookingStatusHistory").withIndex("by_bookingId", (q) => q.eq("bookingId", s.bookingId)).collect());
    expect(history.at(-1)?.reason).toMatch(/moved off Pat Provider's schedule \(time off\): to another provider/);
    expect(history.at(-1)?.actor).toEqual({ role: "manager", userId: s.manager.userId });
    // The board shows the time off on Pat's lane, and the job on Quinn's.
    const board = await s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    const pat = board.providers.find((p) => p.resourceId === s.provider.resourceId)!;
    expect(pat.timeOff).toEqual([{ start: at(TUESDAY, "00:00"), end: at(WEDNESDAY, "00:00"), reason: "Dentist" }]);
    expect(pat.jobs).toEqual([]);
    expect(board.providers.find((p) => p.resourceId === s.quinn.resourceId)!.jobs.map((j) => j.bookingId)).toEqual([s.bookingId]);
    // The customer's time did not change: no rescheduled notice was queued.
    const logs = await t.run((ctx) => ctx.db.query("notifications").collect());
    expect(logs.some((l) => l.templateKey === "booking_rescheduled")).toBe(false);
  });

  test("on confirm with the queue, the job waits unassigned", async () => {
    const t = newTest();
    const s = await scenario(t);
    await s.manager.as.mutation(api.resources.addTimeOff, { ...tuesdayOff(s.provider.resourceId), moveAffected: "queue" });
    const board = await s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    expect(board.unassigned.map((j) => j.bookingId)).toEqual([s.bookingId]);
  });

  test("a job booked after the preview refuses the confirmation", async () => {
    const t = newTest();
    const s = await scenario(t);
    const { aCustomer } = await import("./test.builders");
    const bob = await aCustomer(t, s.businessId);
    const late = await bob.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "14:00") });
    expect((await t.run((ctx) => ctx.db.get("bookings", late.bookingId)))?.assignedResourceIds).toEqual([s.provider.resourceId]);
    await expectCode(
      s.manager.as.mutation(api.resources.addTimeOff, { ...tuesdayOff(s.provider.resourceId), moveAffected: "queue", confirmedBookingIds: [s.bookingId] }),
      "CONFLICT",
      "confirmedBookingIds",
    );
    expect(await timeOffRows(t)).toEqual([]);
  });

  test("a provider books their own time off the same way, never another's", async () => {
    const t = newTest();
    const s = await scenario(t);
    await expectCode(s.provider.as.mutation(api.resources.addTimeOff, tuesdayOff(s.provider.resourceId)), "CONFLICT");
    await s.provider.as.mutation(api.resources.addTimeOff, { ...tuesdayOff(s.provider.resourceId), moveAffected: "queue" });
    await expectCode(s.provider.as.mutation(api.resources.addTimeOff, tuesdayOff(s.quinn.resourceId)), "FORBIDDEN");
    await expectCode(
      s.provider.as.query(api.resources.previewScheduleChange, {
        change: { kind: "date_override", resourceId: s.provider.resourceId, date: TUESDAY, closed: true, hours: [] },
      }),
      "FORBIDDEN",
    );
  });
});

describe("date overrides and weekly hours over booked jobs", () => {
  test("a day off on the job's date lists it, then moves it; the board shows the changed hours", async () => {
    const t = newTest();
    const s = await scenario(t);
    const change = { kind: "date_override" as const, resourceId: s.provider.resourceId, date: TUESDAY, closed: true, hours: [] };
    const preview = await s.manager.as.query(api.resources.previewScheduleChange, { change });
    expect(preview.map((j) => [j.bookingId, j.reason])).toEqual([[s.bookingId, "not working Tuesday (changed hours)"]]);
    await expectCode(s.manager.as.mutation(api.resources.setDateOverride, { resourceId: s.provider.resourceId, date: TUESDAY, closed: true, hours: [] }), "CONFLICT");
    await s.manager.as.mutation(api.resources.setDateOverride, {
      resourceId: s.provider.resourceId,
      date: TUESDAY,
      closed: true,
      hours: [],
      moveAffected: "other_provider",
    });
    const board = await s.manager.as.query(api.dispatch.board, { businessId: s.businessId, date: TUESDAY });
    const pat = board.providers.find((p) => p.resourceId === s.provider.resourceId)!;
    expect(pat.override).toEqual({ closed: true, hours: [] });
    expect(pat.hours).toEqual([]);
    expect(board.providers.find((p) => p.resourceId === s.quinn.resourceId)!.jobs.map((j) => j.bookingId)).toEqual([s.bookingId]);
  });

  test("shorter hours that day keep a job they still cover", async () => {
    const t = newTest();
    const s = await scenario(t);
    const morning = await s.manager.as.query(api.resources.previewScheduleChange, {
      change: { kind: "date_override", resourceId: s.provider.resourceId, date: TUESDAY, closed: false, hours: [{ start: "09:00", end: "12:00" }] },
    });
    expect(morning).toEqual([]);
    const late = await s.manager.as.query(api.resources.previewScheduleChange, {
      change: { kind: "date_override", resourceId: s.provider.resourceId, date: TUESDAY, closed: false, hours: [{ start: "11:00", end: "15:00" }] },
    });
    expect(late.map((j) => j.reason)).toEqual(["outside the changed hours 11:00–15:00 that day"]);
  });

  test("new weekly hours without Tuesday hit the job; saving them needs a resolution", async () => {
    const t = newTest();
    const s = await scenario(t);
    const weeklyHours = [1, 3, 4, 5].map((weekday) => ({ weekday, start: "09:00", end: "17:00" }));
    const preview = await s.manager.as.query(api.resources.previewScheduleChange, {
      change: { kind: "settings", resourceId: s.provider.resourceId, patch: { weeklyHours } },
    });
    expect(preview.map((j) => j.reason)).toEqual(["not working Tuesday"]);
    await expectCode(s.manager.as.mutation(api.resources.update, { resourceId: s.provider.resourceId, weeklyHours }), "CONFLICT");
    const unchanged = await t.run((ctx) => ctx.db.get("resources", s.provider.resourceId));
    expect(unchanged?.weeklyHours).toHaveLength(5);
    await s.manager.as.mutation(api.resources.update, { resourceId: s.provider.resourceId, weeklyHours, moveAffected: "queue" });
    expect((await t.run((ctx) => ctx.db.get("bookings", s.bookingId)))?.assignedResourceIds).toEqual([]);
    // A rename touches no job.
    await s.manager.as.mutation(api.resources.update, { resourceId: s.provider.resourceId, name: "Pat P." });
  });

  test("deactivating a provider with booked jobs needs a resolution too", async () => {
    const t = newTest();
    const s = await scenario(t);
    await expectCode(s.manager.as.mutation(api.resources.update, { resourceId: s.provider.resourceId, active: false }), "CONFLICT");
    await s.manager.as.mutation(api.resources.update, { resourceId: s.provider.resourceId, active: false, moveAffected: "other_provider" });
    expect((await t.run((ctx) => ctx.db.get("bookings", s.bookingId)))?.assignedResourceIds).toEqual([s.quinn.resourceId]);
  });
});
