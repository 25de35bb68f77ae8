/**
 * `generateSlots` against the plain reference in availability.reference.ts: for random
 * resources (hours crossing midnight, overrides, time off, bookings and holds with buffers and
 * units, capacity, daily limits, zones and products) and random rules (notice, horizon,
 * arrival window, step, units) around DST days in several zones, both give the same slots.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type AvailabilityQuery, type AvailabilityResource, type HoursInterval, type Slot, generateSlotTimes, generateSlots } from "./availability";
import { referenceSlots } from "./availability.reference";
import { type Weekday, MINUTE_MS, addDays, formatLocalTime, localDayRange } from "./time";

/** Dates a day before a transition (or none, for Kolkata and January) in each zone. */
const SCENES: Array<{ timeZone: string; fromDate: string }> = [
  { timeZone: "America/New_York", fromDate: "2025-03-08" },
  { timeZone: "America/New_York", fromDate: "2025-11-01" },
  { timeZone: "America/New_York", fromDate: "2025-01-14" },
  { timeZone: "Europe/London", fromDate: "2025-03-29" },
  { timeZone: "Europe/London", fromDate: "2025-10-25" },
  { timeZone: "Australia/Lord_Howe", fromDate: "2025-10-04" },
  { timeZone: "Australia/Lord_Howe", fromDate: "2025-04-05" },
  { timeZone: "Asia/Kolkata", fromDate: "2025-03-08" },
];

/** Present in about a third of the cases. */
function rarely<T>(arbitrary: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.oneof({ arbitrary: fc.constant(undefined), weight: 2 }, { arbitrary, weight: 1 });
}

const arbMinuteOfDay = fc.oneof(
  fc.integer({ min: 0, max: 95 }).map((q) => q * 15),
  fc.integer({ min: 0, max: 1439 }),
);

/** "HH:MM"–"HH:MM" with start ≠ end: end before start crosses midnight, "24:00" ends the day. */
const arbHours: fc.Arbitrary<HoursInterval> = fc
  .tuple(arbMinuteOfDay, fc.oneof(arbMinuteOfDay, fc.constant(1440)))
  .filter(([start, end]) => start !== end)
  .map(([start, end]) => ({ start: formatLocalTime(start), end: end === 1440 ? "24:00" : formatLocalTime(end) }));

const arbWeekly = fc.array(
  fc.record({ weekday: fc.integer({ min: 0, max: 6 }).map((d) => d as Weekday), hours: arbHours }),
  { minLength: 1, maxLength: 10 },
);

/** An interval given in minutes from the start of the day before the range. */
const arbSpan = (maxLength: number) =>
  fc.record({ at: fc.integer({ min: 0, max: 6 * 1440 }), length: fc.integer({ min: 0, max: maxLength }) });

const arbBusy = fc.record({
  span: arbSpan(300),
  units: fc.constantFrom(1, 1, 1, 2, 0),
  before: fc.constantFrom(0, 0, 10, 15),
  after: fc.constantFrom(0, 0, 15, 30),
  counts: fc.constantFrom(true, true, false, undefined),
});

const arbResource = fc.record({
  capacity: fc.integer({ min: 1, max: 3 }),
  weekly: arbWeekly,
  overrides: fc.array(
    fc.record({ day: fc.integer({ min: -1, max: 4 }), closed: fc.boolean(), hours: fc.array(arbHours, { maxLength: 3 }) }),
    { maxLength: 2 },
  ),
  timeOff: fc.array(arbSpan(600), { maxLength: 3 }),
  busy: fc.array(arbBusy, { maxLength: 25 }),
  bufferBefore: fc.constantFrom(0, 0, 15, 30),
  bufferAfter: fc.constantFrom(0, 0, 10, 15),
  maxBookingsPerDay: fc.option(fc.integer({ min: 0, max: 4 }), { nil: undefined }),
  zoneIds: rarely(fc.subarray(["north", "south"])),
  productIds: rarely(fc.subarray(["clean", "oven"])),
});

const arbQuery: fc.Arbitrary<AvailabilityQuery> = fc
  .record({
    scene: fc.constantFrom(...SCENES),
    days: fc.integer({ min: 1, max: 4 }),
    stepMinutes: fc.constantFrom(5, 15, 20, 30, 45, 60, 90),
    durationMinutes: fc.constantFrom(15, 30, 45, 60, 90, 120, 240),
    arrivalWindowMinutes: fc.option(fc.constantFrom(0, 30, 60), { nil: undefined }),
    units: rarely(fc.integer({ min: 1, max: 2 })),
    nowMinute: fc.oneof({ arbitrary: fc.integer({ min: -3 * 1440, max: 0 }), weight: 3 }, { arbitrary: fc.integer({ min: 0, max: 4 * 1440 }), weight: 1 }),
    minimumNoticeMinutes: fc.option(fc.constantFrom(0, 60, 125, 1440), { nil: undefined }),
    bookingHorizonDays: rarely(fc.integer({ min: 0, max: 6 })),
    zoneId: rarely(fc.constantFrom("north", "south")),
    productIds: rarely(fc.subarray(["clean", "oven"], { minLength: 1 })),
    resources: fc.array(arbResource, { minLength: 1, maxLength: 4 }),
  })
  .map((c) => {
    const { timeZone, fromDate } = c.scene;
    const origin = localDayRange(addDays(fromDate, -1), timeZone).start;
    const instant = (minutes: number) => origin + minutes * MINUTE_MS;
    const resources: AvailabilityResource[] = c.resources.map((r, index) => ({
      id: `r${index}`,
      capacity: r.capacity,
      weeklyHours: r.weekly.map((w) => ({ weekday: w.weekday, ...w.hours })),
      overrides: r.overrides.map((o) =>
        o.closed ? { date: addDays(fromDate, o.day), closed: true as const } : { date: addDays(fromDate, o.day), hours: o.hours },
      ),
      timeOff: r.timeOff.map((t) => ({ start: instant(t.at), end: instant(t.at + t.length) })),
      busy: r.busy.map((b) => ({
        start: instant(b.span.at),
        end: instant(b.span.at + b.span.length),
        units: b.units,
        bufferBeforeMinutes: b.before,
        bufferAfterMinutes: b.after,
        ...(b.counts === undefined ? {} : { countsTowardDailyLimit: b.counts }),
      })),
      bufferBeforeMinutes: r.bufferBefore,
      bufferAfterMinutes: r.bufferAfter,
      maxBookingsPerDay: r.maxBookingsPerDay,
      zoneIds: r.zoneIds,
      productIds: r.productIds,
    }));
    return {
      timeZone,
      now: instant(1440 + c.nowMinute),
      fromDate,
      toDate: addDays(fromDate, c.days - 1),
      stepMinutes: c.stepMinutes,
      durationMinutes: c.durationMinutes,
      arrivalWindowMinutes: c.arrivalWindowMinutes,
      units: c.units,
      minimumNoticeMinutes: c.minimumNoticeMinutes,
      bookingHorizonDays: c.bookingHorizonDays,
      zoneId: c.zoneId,
      productIds: c.productIds,
      resources,
    };
  });

function withoutResources(slot: Slot) {
  const { availableResourceIds: _ids, ...time } = slot;
  return time;
}

describe("generateSlots against the reference", () => {
  it("gives the same slots, resources and remaining capacity for any resources and rules", () => {
    fc.assert(
      fc.property(arbQuery, (query) => {
        const expected = referenceSlots(query);
        expect(generateSlots(query)).toEqual(expected);
        expect(generateSlotTimes(query)).toEqual(expected.map(withoutResources));
      }),
      { numRuns: 400 },
    );
  });

  it("agrees on busy weeks: many overlapping bookings on working-day hours", () => {
    const arbWeek = fc.record({
      capacity: fc.integer({ min: 1, max: 3 }),
      busy: fc.array(
        fc.record({ day: fc.integer({ min: 0, max: 8 }), quarter: fc.integer({ min: 28, max: 80 }), quarters: fc.integer({ min: 1, max: 10 }), units: fc.integer({ min: 1, max: 2 }) }),
        { maxLength: 120 },
      ),
      maxBookingsPerDay: fc.option(fc.integer({ min: 2, max: 12 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(arbWeek, { minLength: 1, maxLength: 5 }), fc.constantFrom(15, 30), fc.constantFrom(30, 60, 120), (week, step, duration) => {
        const timeZone = "America/New_York";
        const fromDate = "2025-03-05"; // the week of the spring-forward Sunday
        const resources: AvailabilityResource[] = week.map((r, index) => ({
          id: `r${index}`,
          capacity: r.capacity,
          weeklyHours: ([1, 2, 3, 4, 5, 6] as Weekday[]).flatMap((weekday) => [
            { weekday, start: "08:00", end: "12:00" },
            { weekday, start: "12:00", end: "18:30" },
          ]),
          busy: r.busy.map((b) => {
            const start = localDayRange(addDays(fromDate, b.day), timeZone).start + b.quarter * 15 * MINUTE_MS;
            return { start, end: start + b.quarters * 15 * MINUTE_MS, units: b.units, bufferAfterMinutes: 15 };
          }),
          bufferAfterMinutes: 15,
          maxBookingsPerDay: r.maxBookingsPerDay,
        }));
        const query: AvailabilityQuery = {
          timeZone,
          now: localDayRange(fromDate, timeZone).start,
          fromDate,
          toDate: addDays(fromDate, 7),
          stepMinutes: step,
          durationMinutes: duration,
          minimumNoticeMinutes: 120,
          resources,
        };
        const expected = referenceSlots(query);
        expect(generateSlots(query)).toEqual(expected);
        expect(generateSlotTimes(query)).toEqual(expected.map(withoutResources));
      }),
      { numRuns: 60 },
    );
  });
});
