import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type AvailabilityQuery,
  type AvailabilityResource,
  type BusyBlock,
  type Slot,
  checkSlot,
  generateSlots,
  groupSlotsByLocalDate,
} from "./availability";
import { type Weekday, instantToLocal, localToInstant } from "./time";

const NY = "America/New_York";
const ALL_WEEK: Weekday[] = [0, 1, 2, 3, 4, 5, 6];

function aResource(overrides: Partial<AvailabilityResource> = {}): AvailabilityResource {
  return {
    id: "r1",
    capacity: 1,
    weeklyHours: ALL_WEEK.map((weekday) => ({ weekday, start: "09:00", end: "12:00" })),
    ...overrides,
  };
}

function aQuery(overrides: Partial<AvailabilityQuery> = {}): AvailabilityQuery {
  const timeZone = overrides.timeZone ?? NY;
  return {
    timeZone,
    // A fixed clock well before the dates asked for.
    now: localToInstant("2025-01-01", "00:00", timeZone),
    fromDate: "2025-01-15",
    toDate: "2025-01-15",
    stepMinutes: 60,
    durationMinutes: 60,
    resources: [aResource()],
    ...overrides,
  };
}

function booking(date: string, from: string, to: string, extra: Partial<BusyBlock> = {}, zone = NY): BusyBlock {
  return { start: localToInstant(date, from, zone), end: localToInstant(date, to, zone), ...extra };
}

/** Slots as "YYYY-MM-DD HH:MM" in the zone, for readable expectations. */
function localStarts(slots: Slot[], zone = NY): string[] {
  return slots.map((s) => {
    const local = instantToLocal(s.start, zone);
    return `${local.date} ${local.time}`;
  });
}

function times(slots: Slot[], zone = NY): string[] {
  return slots.map((s) => instantToLocal(s.start, zone).time);
}

describe("working hours", () => {
  it("offers every step that fits, including one ending exactly at closing", () => {
    expect(times(generateSlots(aQuery()))).toEqual(["09:00", "10:00", "11:00"]);
  });

  it("steps from the opening time even when it is off the hour", () => {
    const resource = aResource({ weeklyHours: [{ weekday: 3, start: "09:10", end: "10:30" }] });
    expect(times(generateSlots(aQuery({ resources: [resource], stepMinutes: 15, durationMinutes: 30 })))).toEqual([
      "09:10",
      "09:25",
      "09:40",
      "09:55",
    ]);
  });

  it("merges touching intervals so a booking may run across them", () => {
    const resource = aResource({
      weeklyHours: [
        { weekday: 3, start: "09:00", end: "10:30" },
        { weekday: 3, start: "10:30", end: "12:00" },
      ],
    });
    expect(times(generateSlots(aQuery({ resources: [resource], durationMinutes: 120 })))).toEqual(["09:00", "10:00"]);
  });

  it("keeps separate intervals apart when there is a break", () => {
    const resource = aResource({
      weeklyHours: [
        { weekday: 3, start: "09:00", end: "10:30" },
        { weekday: 3, start: "11:00", end: "12:00" },
      ],
    });
    expect(times(generateSlots(aQuery({ resources: [resource], durationMinutes: 60, stepMinutes: 30 })))).toEqual([
      "09:00",
      "09:30",
      "11:00",
    ]);
  });

  it("offers nothing on a weekday without hours", () => {
    const resource = aResource({ weeklyHours: [{ weekday: 1, start: "09:00", end: "17:00" }] });
    expect(generateSlots(aQuery({ resources: [resource] }))).toEqual([]); // 2025-01-15 is a Wednesday
  });

  it("hours crossing midnight belong to the day they open and spill into the next", () => {
    const resource = aResource({ weeklyHours: [{ weekday: 5, start: "22:00", end: "02:00" }] }); // Friday night
    const slots = generateSlots(aQuery({ resources: [resource], fromDate: "2025-01-17", toDate: "2025-01-18" }));
    expect(localStarts(slots)).toEqual(["2025-01-17 22:00", "2025-01-17 23:00", "2025-01-18 00:00", "2025-01-18 01:00"]);
  });

  it("includes the after-midnight part of the previous day's hours when the range starts the next day", () => {
    const resource = aResource({ weeklyHours: [{ weekday: 5, start: "22:00", end: "02:00" }] });
    const slots = generateSlots(aQuery({ resources: [resource], fromDate: "2025-01-18", toDate: "2025-01-18" }));
    expect(localStarts(slots)).toEqual(["2025-01-18 00:00", "2025-01-18 01:00"]);
  });

  it("a slot on the last day asked for may run into the next day's hours, as when the range goes on", () => {
    const everyDay = ALL_WEEK.flatMap((weekday) => [
      { weekday, start: "20:00", end: "24:00" },
      { weekday, start: "00:00", end: "02:00" },
    ]);
    const query = aQuery({ resources: [aResource({ weeklyHours: everyDay })], durationMinutes: 120, fromDate: "2025-01-15", toDate: "2025-01-15" });
    const lastDay = localStarts(generateSlots(query));
    expect(lastDay).toEqual(["2025-01-15 00:00", "2025-01-15 20:00", "2025-01-15 21:00", "2025-01-15 22:00", "2025-01-15 23:00"]);
    const longer = localStarts(generateSlots({ ...query, toDate: "2025-01-16" })).filter((start) => start.startsWith("2025-01-15"));
    expect(lastDay).toEqual(longer);
    const rules = { timeZone: NY, now: query.now, durationMinutes: 120, resource: query.resources[0] };
    expect(checkSlot({ ...rules, start: localToInstant("2025-01-15", "23:00", NY) }).ok).toBe(true);
  });

  it("accepts 00:00–24:00 as a whole day", () => {
    const resource = aResource({ weeklyHours: [{ weekday: 3, start: "00:00", end: "24:00" }] });
    expect(generateSlots(aQuery({ resources: [resource], durationMinutes: 60 }))).toHaveLength(24);
  });

  it("date overrides close a day or replace its hours", () => {
    const resource = aResource({
      overrides: [
        { date: "2025-01-15", closed: true },
        { date: "2025-01-16", hours: [{ start: "14:00", end: "16:00" }] },
      ],
    });
    const slots = generateSlots(aQuery({ resources: [resource], fromDate: "2025-01-15", toDate: "2025-01-17" }));
    expect(localStarts(slots)).toEqual([
      "2025-01-16 14:00",
      "2025-01-16 15:00",
      "2025-01-17 09:00",
      "2025-01-17 10:00",
      "2025-01-17 11:00",
    ]);
  });

  it("time off removes working time; a slot may touch it", () => {
    const resource = aResource({ timeOff: [booking("2025-01-15", "10:00", "11:00")] });
    expect(times(generateSlots(aQuery({ resources: [resource] })))).toEqual(["09:00", "11:00"]);
  });
});

describe("bookings and buffers", () => {
  it("touching bookings do not conflict", () => {
    const resource = aResource({ busy: [booking("2025-01-15", "10:00", "11:00")] });
    expect(times(generateSlots(aQuery({ resources: [resource] })))).toEqual(["09:00", "11:00"]);
  });

  it("a booking overlapping by one minute blocks the slot", () => {
    const resource = aResource({ busy: [booking("2025-01-15", "09:59", "10:01")] });
    expect(times(generateSlots(aQuery({ resources: [resource] })))).toEqual(["11:00"]);
  });

  it("the candidate's buffer after may not run into a booking", () => {
    const resource = aResource({
      weeklyHours: [{ weekday: 3, start: "09:00", end: "13:00" }],
      bufferAfterMinutes: 15,
      busy: [booking("2025-01-15", "10:00", "11:00", { bufferAfterMinutes: 15 })],
    });
    expect(times(generateSlots(aQuery({ resources: [resource], stepMinutes: 15 })))).toEqual(["11:15", "11:30", "11:45", "12:00"]);
  });

  it("an existing booking's buffer before blocks the time ahead of it", () => {
    const resource = aResource({ busy: [booking("2025-01-15", "11:00", "12:00", { bufferBeforeMinutes: 30 })] });
    expect(times(generateSlots(aQuery({ resources: [resource], stepMinutes: 30 })))).toEqual(["09:00", "09:30"]);
  });

  it("the candidate's buffer before must clear a booking that ends just before", () => {
    const resource = aResource({ bufferBeforeMinutes: 30, busy: [booking("2025-01-15", "09:00", "10:00")] });
    expect(times(generateSlots(aQuery({ resources: [resource], stepMinutes: 30 })))).toEqual(["10:30", "11:00"]);
  });

  it("buffers may reach outside working hours", () => {
    const resource = aResource({ bufferBeforeMinutes: 30, bufferAfterMinutes: 30 });
    expect(times(generateSlots(aQuery({ resources: [resource] })))).toEqual(["09:00", "10:00", "11:00"]);
  });

  it("holds block like bookings", () => {
    const resource = aResource({ busy: [booking("2025-01-15", "09:00", "11:00")] });
    expect(times(generateSlots(aQuery({ resources: [resource] })))).toEqual(["11:00"]);
  });
});

describe("capacity", () => {
  it("a resource with capacity 2 takes a second overlapping booking, not a third", () => {
    const one = aResource({ capacity: 2, busy: [booking("2025-01-15", "09:00", "10:00")] });
    const slots = generateSlots(aQuery({ resources: [one] }));
    expect(slots.map((s) => [instantToLocal(s.start, NY).time, s.remainingCapacity])).toEqual([
      ["09:00", 1],
      ["10:00", 2],
      ["11:00", 2],
    ]);

    const two = aResource({ capacity: 2, busy: [booking("2025-01-15", "09:00", "10:00"), booking("2025-01-15", "09:30", "10:00")] });
    expect(times(generateSlots(aQuery({ resources: [two] })))).toEqual(["10:00", "11:00"]);
  });

  it("counts a booking's units", () => {
    const resource = aResource({ capacity: 3, busy: [booking("2025-01-15", "09:00", "10:00", { units: 2 })] });
    const slots = generateSlots(aQuery({ resources: [resource], units: 2 }));
    expect(times(slots)).toEqual(["10:00", "11:00"]);
    expect(slots[0].remainingCapacity).toBe(3);
  });

  it("skips resources smaller than the units asked for", () => {
    expect(generateSlots(aQuery({ resources: [aResource({ capacity: 1 })], units: 2 }))).toEqual([]);
  });

  it("sums remaining capacity and lists every available resource", () => {
    const a = aResource({ id: "a", capacity: 2 });
    const b = aResource({ id: "b", busy: [booking("2025-01-15", "10:00", "11:00")] });
    const slots = generateSlots(aQuery({ resources: [a, b] }));
    expect(slots.map((s) => [instantToLocal(s.start, NY).time, s.availableResourceIds, s.remainingCapacity])).toEqual([
      ["09:00", ["a", "b"], 3],
      ["10:00", ["a"], 2],
      ["11:00", ["a", "b"], 3],
    ]);
  });
});

describe("per-day limits", () => {
  it("a resource at its daily limit offers nothing more that day", () => {
    const resource = aResource({ maxBookingsPerDay: 1, busy: [booking("2025-01-15", "09:00", "10:00")] });
    const slots = generateSlots(aQuery({ resources: [resource], fromDate: "2025-01-15", toDate: "2025-01-16" }));
    expect(localStarts(slots)).toEqual(["2025-01-16 09:00", "2025-01-16 10:00", "2025-01-16 11:00"]);
  });

  it("below the limit the day stays open", () => {
    const resource = aResource({ maxBookingsPerDay: 2, busy: [booking("2025-01-15", "09:00", "10:00")] });
    expect(times(generateSlots(aQuery({ resources: [resource] })))).toEqual(["10:00", "11:00"]);
  });

  it("blocks that do not count toward the limit are ignored", () => {
    const resource = aResource({ maxBookingsPerDay: 1, busy: [booking("2025-01-15", "09:00", "10:00", { countsTowardDailyLimit: false })] });
    expect(times(generateSlots(aQuery({ resources: [resource] })))).toEqual(["10:00", "11:00"]);
  });

  it("counts by the local date of the booking's start", () => {
    // 23:30 local on the 14th is 04:30 UTC on the 15th: it counts for the 14th.
    const resource = aResource({ maxBookingsPerDay: 1, busy: [booking("2025-01-14", "23:00", "23:30")] });
    expect(times(generateSlots(aQuery({ resources: [resource] })))).toEqual(["09:00", "10:00", "11:00"]);
  });
});

describe("notice and horizon", () => {
  it("minimum notice moves the first slot to the next grid step after now + notice", () => {
    const now = localToInstant("2025-01-15", "09:10", NY);
    const slots = generateSlots(aQuery({ now, minimumNoticeMinutes: 60, stepMinutes: 15 }));
    expect(times(slots)[0]).toBe("10:15");
  });

  it("never offers a start in the past", () => {
    const now = localToInstant("2025-01-15", "10:00", NY);
    expect(times(generateSlots(aQuery({ now })))).toEqual(["10:00", "11:00"]);
  });

  it("the horizon ends with the local date horizonDays after today", () => {
    const now = localToInstant("2025-01-14", "20:00", NY);
    const slots = generateSlots(aQuery({ now, fromDate: "2025-01-14", toDate: "2025-01-20", bookingHorizonDays: 2 }));
    expect([...new Set(localStarts(slots).map((s) => s.slice(0, 10)))]).toEqual(["2025-01-15", "2025-01-16"]);
  });

  it("a horizon of 0 days allows today only", () => {
    const now = localToInstant("2025-01-15", "08:00", NY);
    const slots = generateSlots(aQuery({ now, toDate: "2025-01-16", bookingHorizonDays: 0 }));
    expect(localStarts(slots)).toEqual(["2025-01-15 09:00", "2025-01-15 10:00", "2025-01-15 11:00"]);
  });
});

describe("arrival windows", () => {
  it("reserve the window plus the duration and report the latest arrival", () => {
    const resource = aResource({ weeklyHours: [{ weekday: 3, start: "08:00", end: "17:00" }] });
    const slots = generateSlots(aQuery({ resources: [resource], arrivalWindowMinutes: 120, stepMinutes: 120, durationMinutes: 60 }));
    expect(times(slots)).toEqual(["08:00", "10:00", "12:00", "14:00"]);
    expect(slots[0].arrivalWindowEnd).toBe(localToInstant("2025-01-15", "10:00", NY));
    expect(slots[0].end).toBe(localToInstant("2025-01-15", "11:00", NY));
  });

  it("without a window there is no arrivalWindowEnd", () => {
    expect(generateSlots(aQuery())[0]).not.toHaveProperty("arrivalWindowEnd");
  });
});

describe("eligibility", () => {
  it("filters by zone and products served", () => {
    const resources = [
      aResource({ id: "north", zoneIds: ["north"] }),
      aResource({ id: "any" }),
      aResource({ id: "cleaner", productIds: ["clean"] }),
    ];
    const north = generateSlots(aQuery({ resources, zoneId: "north", productIds: ["clean", "oven"] }));
    expect(north[0].availableResourceIds).toEqual(["north", "any"]);
    const south = generateSlots(aQuery({ resources, zoneId: "south", productIds: ["clean"] }));
    expect(south[0].availableResourceIds).toEqual(["any", "cleaner"]);
  });
});

describe("time zones and DST", () => {
  const everyDay = (start: string, end: string) => ALL_WEEK.map((weekday) => ({ weekday, start, end }));

  it.each([
    ["America/New_York", "2025-03-09"],
    ["America/New_York", "2025-11-02"],
    ["Europe/London", "2025-03-30"],
    ["Europe/London", "2025-10-26"],
    ["Australia/Lord_Howe", "2025-10-05"],
    ["Australia/Lord_Howe", "2025-04-06"],
    ["Asia/Kolkata", "2025-03-09"],
  ])("in %s on %s, 09:00–17:00 hours give 09:00 … 16:00 local", (zone, date) => {
    const query = aQuery({ timeZone: zone, now: localToInstant("2025-01-01", "00:00", zone), fromDate: date, toDate: date, resources: [aResource({ weeklyHours: everyDay("09:00", "17:00") })] });
    const slots = generateSlots(query);
    expect(times(slots, zone)).toEqual(["09:00", "10:00", "11:00", "12:00", "13:00", "14:00", "15:00", "16:00"]);
    expect(slots[0].start).toBe(localToInstant(date, "09:00", zone));
  });

  it("a night shift on the spring-forward day has one hour fewer", () => {
    const resource = aResource({ weeklyHours: everyDay("00:00", "06:00") });
    const slots = generateSlots(aQuery({ resources: [resource], fromDate: "2025-03-09", toDate: "2025-03-09" }));
    expect(times(slots)).toEqual(["00:00", "01:00", "03:00", "04:00", "05:00"]);
  });

  it("a night shift on the fall-back day has one hour more, 01:00 twice", () => {
    const resource = aResource({ weeklyHours: everyDay("00:00", "06:00") });
    const slots = generateSlots(aQuery({ resources: [resource], fromDate: "2025-11-02", toDate: "2025-11-02" }));
    expect(times(slots)).toEqual(["00:00", "01:00", "01:00", "02:00", "03:00", "04:00", "05:00"]);
  });

  it("hours crossing midnight into the spring-forward night end at the transition", () => {
    const resource = aResource({ weeklyHours: [{ weekday: 6, start: "22:00", end: "02:00" }] }); // Saturday night
    const slots = generateSlots(aQuery({ resources: [resource], fromDate: "2025-03-08", toDate: "2025-03-09" }));
    // 02:00 does not exist that night; it maps forward to 03:00 EDT, the same instant as 02:00 EST,
    // so the shift still lasts four real hours and its last slot ends as the clocks jump.
    expect(localStarts(slots)).toEqual(["2025-03-08 22:00", "2025-03-08 23:00", "2025-03-09 00:00", "2025-03-09 01:00"]);
    expect(slots[3].end).toBe(localToInstant("2025-03-09", "03:00", NY));
  });

  it("on Lord Howe's spring day a 30-minute grid skips the missing half hour", () => {
    const zone = "Australia/Lord_Howe";
    const resource = aResource({ weeklyHours: everyDay("01:00", "04:00") });
    const query = aQuery({ timeZone: zone, now: 0, fromDate: "2025-10-05", toDate: "2025-10-05", resources: [resource], stepMinutes: 30, durationMinutes: 30 });
    expect(times(generateSlots(query), zone)).toEqual(["01:00", "01:30", "02:30", "03:00", "03:30"]);
  });

  it("on Lord Howe's fall-back day the repeated half hour is offered twice", () => {
    const zone = "Australia/Lord_Howe";
    const resource = aResource({ weeklyHours: everyDay("01:00", "03:00") });
    const query = aQuery({ timeZone: zone, now: 0, fromDate: "2025-04-06", toDate: "2025-04-06", resources: [resource], stepMinutes: 30, durationMinutes: 30 });
    expect(times(generateSlots(query), zone)).toEqual(["01:00", "01:30", "01:30", "02:00", "02:30"]);
  });

  it("London's fall-back night: a 2-hour job from 00:30 takes three wall-clock hours", () => {
    const zone = "Europe/London";
    const resource = aResource({ weeklyHours: everyDay("00:00", "04:00") });
    const query = aQuery({ timeZone: zone, now: 0, fromDate: "2025-10-26", toDate: "2025-10-26", resources: [resource], stepMinutes: 30, durationMinutes: 120 });
    const slots = generateSlots(query);
    expect(times(slots, zone)).toEqual(["00:00", "00:30", "01:00", "01:30", "01:00", "01:30", "02:00"]);
    expect(instantToLocal(slots[1].end, zone).time).toBe("01:30"); // 00:30 BST + 2 h = 01:30 GMT
  });

  it("Kolkata: hours crossing midnight at +05:30", () => {
    const zone = "Asia/Kolkata";
    const resource = aResource({ weeklyHours: [{ weekday: 3, start: "23:00", end: "01:00" }] });
    const slots = generateSlots(aQuery({ timeZone: zone, now: 0, resources: [resource], fromDate: "2025-01-15", toDate: "2025-01-16" }));
    expect(localStarts(slots, zone)).toEqual(["2025-01-15 23:00", "2025-01-16 00:00"]);
    expect(new Date(slots[1].start).toISOString()).toBe("2025-01-15T18:30:00.000Z");
  });

  it("checkSlot agrees on DST days", () => {
    const resource = aResource({ weeklyHours: everyDay("00:00", "06:00") });
    const rules = { timeZone: NY, now: 0, durationMinutes: 60 };
    expect(checkSlot({ ...rules, resource, start: localToInstant("2025-03-09", "01:00", NY) }).ok).toBe(true);
    expect(checkSlot({ ...rules, resource, start: localToInstant("2025-03-09", "05:00", NY) }).ok).toBe(true);
    expect(checkSlot({ ...rules, resource, start: localToInstant("2025-03-09", "05:30", NY) })).toMatchObject({ ok: false, code: "OUTSIDE_WORKING_HOURS" });
  });

  it("Kolkata's +05:30 puts 09:00 at 03:30 UTC", () => {
    const zone = "Asia/Kolkata";
    const slots = generateSlots(aQuery({ timeZone: zone, now: 0 }));
    expect(new Date(slots[0].start).toISOString()).toBe("2025-01-15T03:30:00.000Z");
  });

  it("bookings made before a DST change keep blocking their instants", () => {
    const resource = aResource({ weeklyHours: everyDay("09:00", "12:00"), busy: [booking("2025-03-09", "10:00", "11:00")] });
    const slots = generateSlots(aQuery({ resources: [resource], fromDate: "2025-03-08", toDate: "2025-03-10" }));
    expect(localStarts(slots).filter((s) => s.startsWith("2025-03-09"))).toEqual(["2025-03-09 09:00", "2025-03-09 11:00"]);
  });
});

describe("validation", () => {
  it.each([
    [{ timeZone: "Nowhere/City" }, /time zone/i],
    [{ fromDate: "2025-01-16", toDate: "2025-01-15" }, /before fromDate/],
    [{ fromDate: "2025-02-30" }, /calendar date/],
    [{ stepMinutes: 0 }, /stepMinutes/],
    [{ durationMinutes: 12.5 }, /durationMinutes/],
    [{ fromDate: "2025-01-01", toDate: "2026-06-01" }, /at most 366 days/],
    [{ resources: [aResource({ capacity: 0 })] }, /capacity/],
    [{ resources: [aResource(), aResource()] }, /listed twice/],
    [{ resources: [aResource({ weeklyHours: [{ weekday: 3, start: "09:00", end: "09:00" }] })] }, /empty/],
    [{ resources: [aResource({ weeklyHours: [{ weekday: 3, start: "9am", end: "17:00" }] })] }, /HH:MM/],
    [{ resources: [aResource({ weeklyHours: [{ weekday: 7 as Weekday, start: "09:00", end: "17:00" }] })] }, /weekday/],
    [{ resources: [aResource({ busy: [{ start: 10, end: 5 }] })] }, /busy\[0\]/],
  ])("rejects %j", (overrides, message) => {
    expect(() => generateSlots(aQuery(overrides as Partial<AvailabilityQuery>))).toThrow(message);
  });
});

describe("groupSlotsByLocalDate", () => {
  it("groups by the local date of the start, including after-midnight hours", () => {
    const resource = aResource({ weeklyHours: [{ weekday: 5, start: "22:00", end: "02:00" }, { weekday: 6, start: "09:00", end: "10:00" }] });
    const slots = generateSlots(aQuery({ resources: [resource], fromDate: "2025-01-17", toDate: "2025-01-18" }));
    const groups = groupSlotsByLocalDate(slots, NY);
    expect(groups.map((g) => [g.date, times(g.slots)])).toEqual([
      ["2025-01-17", ["22:00", "23:00"]],
      ["2025-01-18", ["00:00", "01:00", "09:00"]],
    ]);
  });

  it("returns nothing for no slots", () => {
    expect(groupSlotsByLocalDate([], NY)).toEqual([]);
  });
});

describe("checkSlot", () => {
  const rules = { timeZone: NY, now: localToInstant("2025-01-14", "12:00", NY), durationMinutes: 60 };
  const at = (time: string, date = "2025-01-15") => localToInstant(date, time, NY);

  it.each([
    ["09:00", {}, true, undefined],
    ["11:00", {}, true, undefined],
    ["11:30", {}, false, "OUTSIDE_WORKING_HOURS"],
    ["08:30", {}, false, "OUTSIDE_WORKING_HOURS"],
    ["10:00", { busy: [booking("2025-01-15", "10:30", "11:00")] }, false, "CONFLICT"],
    ["10:00", { busy: [booking("2025-01-15", "11:00", "12:00")] }, true, undefined],
    ["10:00", { bufferAfterMinutes: 15, busy: [booking("2025-01-15", "11:00", "12:00")] }, false, "CONFLICT"],
    ["10:00", { maxBookingsPerDay: 1, busy: [booking("2025-01-15", "09:00", "09:30")] }, false, "DAILY_LIMIT_REACHED"],
    ["10:00", { zoneIds: ["elsewhere"] }, false, "NOT_ELIGIBLE"],
    ["10:15", {}, true, undefined],
  ])("start %s with %j → ok=%s %s", (time, resourceOverrides, ok, code) => {
    const result = checkSlot({ ...rules, zoneId: "here", resource: aResource(resourceOverrides), start: at(time) });
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.code).toBe(code);
  });

  it("reports notice, horizon and the past before anything else", () => {
    const resource = aResource();
    expect(checkSlot({ ...rules, resource, start: at("09:00", "2025-01-13") })).toMatchObject({ ok: false, code: "IN_THE_PAST" });
    expect(checkSlot({ ...rules, minimumNoticeMinutes: 24 * 60, resource, start: at("09:00") })).toMatchObject({ ok: false, code: "BEFORE_MINIMUM_NOTICE" });
    expect(checkSlot({ ...rules, bookingHorizonDays: 0, resource, start: at("09:00") })).toMatchObject({ ok: false, code: "BEYOND_HORIZON" });
    expect(checkSlot({ ...rules, units: 2, resource, start: at("09:00") })).toMatchObject({ ok: false, code: "INSUFFICIENT_CAPACITY" });
  });

  it("returns the remaining capacity and arrival window", () => {
    const resource = aResource({ capacity: 3, busy: [booking("2025-01-15", "09:00", "10:00")] });
    expect(checkSlot({ ...rules, resource, start: at("09:00") })).toEqual({ ok: true, end: at("10:00"), remainingCapacity: 2 });
    const windowed = checkSlot({ ...rules, arrivalWindowMinutes: 60, resource, start: at("09:00") });
    expect(windowed).toMatchObject({ ok: true, end: at("11:00"), arrivalWindowEnd: at("10:00") });
  });

  it("accepts the after-midnight part of hours that opened the day before", () => {
    const resource = aResource({ weeklyHours: [{ weekday: 2, start: "22:00", end: "02:00" }] }); // Tuesday night
    expect(checkSlot({ ...rules, resource, start: at("01:00") }).ok).toBe(true);
    expect(checkSlot({ ...rules, resource, start: at("01:30") }).ok).toBe(false);
  });
});

describe("properties", () => {
  const day = "2025-03-09"; // spring-forward day in New York
  const arbBooking = fc.record({
    startMinute: fc.integer({ min: 0, max: 24 * 60 }),
    length: fc.integer({ min: 5, max: 180 }),
    before: fc.constantFrom(0, 10, 15),
    after: fc.constantFrom(0, 10, 15),
  });

  it("slots never overlap busy time (with buffers) and agree with checkSlot", () => {
    fc.assert(
      fc.property(
        fc.array(arbBooking, { maxLength: 8 }),
        fc.constantFrom(15, 30, 45, 60, 90),
        fc.constantFrom(0, 15),
        fc.constantFrom(0, 15),
        (raw, duration, bufferBefore, bufferAfter) => {
          const dayStart = localToInstant("2025-03-08", "12:00", NY);
          const busy = raw.map((b) => ({
            start: dayStart + b.startMinute * 60_000,
            end: dayStart + (b.startMinute + b.length) * 60_000,
            bufferBeforeMinutes: b.before,
            bufferAfterMinutes: b.after,
          }));
          const resource = aResource({
            weeklyHours: ALL_WEEK.map((weekday) => ({ weekday, start: "20:00", end: "14:00" })),
            busy,
            bufferBeforeMinutes: bufferBefore,
            bufferAfterMinutes: bufferAfter,
          });
          const query = aQuery({ resources: [resource], fromDate: day, toDate: day, stepMinutes: 15, durationMinutes: duration, now: 0 });
          const slots = generateSlots(query);
          const overlapping = slots.filter((slot) => {
            const blockedStart = slot.start - bufferBefore * 60_000;
            const blockedEnd = slot.end + bufferAfter * 60_000;
            return busy.some((b) => {
              const busyStart = b.start - b.bufferBeforeMinutes * 60_000;
              const busyEnd = b.end + b.bufferAfterMinutes * 60_000;
              return blockedStart < busyEnd && busyStart < blockedEnd;
            });
          });
          expect(overlapping).toEqual([]);
          const refused = slots.filter((slot) => !checkSlot({ timeZone: NY, now: 0, durationMinutes: duration, resource, start: slot.start }).ok);
          expect(refused).toEqual([]);
          // Sorted, unique, on the day asked for.
          expect(slots.every((slot, k) => k === 0 || slot.start > slots[k - 1].start)).toBe(true);
          expect(slots.every((slot) => instantToLocal(slot.start, NY).date === day)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });

  it("with capacity k no slot is offered where k blocks already overlap", () => {
    fc.assert(
      fc.property(fc.array(arbBooking, { maxLength: 10 }), fc.integer({ min: 1, max: 3 }), (raw, capacity) => {
        const base = localToInstant("2025-01-15", "08:00", NY);
        const busy = raw.map((b) => ({ start: base + (b.startMinute % 300) * 60_000, end: base + ((b.startMinute % 300) + b.length) * 60_000 }));
        const resource = aResource({ capacity, busy, weeklyHours: ALL_WEEK.map((weekday) => ({ weekday, start: "08:00", end: "14:00" })) });
        const slots = generateSlots(aQuery({ resources: [resource], stepMinutes: 15, durationMinutes: 30 }));
        const wrong = slots.filter((slot) => {
          let maxConcurrent = 0;
          for (let t = slot.start; t < slot.end; t += 60_000) {
            maxConcurrent = Math.max(maxConcurrent, busy.filter((b) => b.start <= t && t < b.end).length);
          }
          return maxConcurrent >= capacity || slot.remainingCapacity !== capacity - maxConcurrent;
        });
        expect(wrong).toEqual([]);
      }),
      { numRuns: 100 },
    );
  });

  it("generateSlots offers exactly the grid starts that checkSlot accepts", () => {
    const arbBlock = fc.record({
      startMinute: fc.integer({ min: 7 * 60, max: 18 * 60 }),
      length: fc.integer({ min: 10, max: 150 }),
      units: fc.integer({ min: 1, max: 2 }),
      after: fc.constantFrom(0, 15),
      counts: fc.boolean(),
    });
    fc.assert(
      fc.property(
        fc.record({
          blocks: fc.array(arbBlock, { maxLength: 6 }),
          capacity: fc.integer({ min: 1, max: 3 }),
          maxBookingsPerDay: fc.option(fc.integer({ min: 1, max: 4 }), { nil: undefined }),
          timeOffStart: fc.option(fc.integer({ min: 8 * 60, max: 16 * 60 }), { nil: undefined }),
          bufferAfter: fc.constantFrom(0, 10, 30),
          duration: fc.constantFrom(15, 45, 60, 120),
          noticeMinutes: fc.constantFrom(0, 90),
          nowMinute: fc.integer({ min: 0, max: 12 * 60 }),
        }),
        (c) => {
          const date = "2025-01-15";
          const dayStart = localToInstant(date, "00:00", NY);
          const minute = (m: number) => dayStart + m * 60_000;
          const resource = aResource({
            capacity: c.capacity,
            weeklyHours: [
              { weekday: 3, start: "08:00", end: "12:00" },
              { weekday: 3, start: "13:00", end: "18:00" },
            ],
            busy: c.blocks.map((b) => ({ start: minute(b.startMinute), end: minute(b.startMinute + b.length), units: b.units, bufferAfterMinutes: b.after, countsTowardDailyLimit: b.counts })),
            timeOff: c.timeOffStart === undefined ? [] : [{ start: minute(c.timeOffStart), end: minute(c.timeOffStart + 45) }],
            maxBookingsPerDay: c.maxBookingsPerDay,
            bufferAfterMinutes: c.bufferAfter,
          });
          const rules = { timeZone: NY, now: minute(c.nowMinute), durationMinutes: c.duration, minimumNoticeMinutes: c.noticeMinutes };
          const offered = generateSlots({ ...rules, resources: [resource], fromDate: date, toDate: date, stepMinutes: 15 }).map((s) => s.start);
          const accepted: number[] = [];
          for (let m = 0; m < 24 * 60; m += 15) {
            if (checkSlot({ ...rules, resource, start: minute(m) }).ok) accepted.push(minute(m));
          }
          expect(offered).toEqual(accepted);
        },
      ),
      { numRuns: 100 },
    );
  });
});
