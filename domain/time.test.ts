import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { DomainError } from "./errors";
import {
  wallClockText,
  addDays,
  assertTimeZone,
  daysBetween,
  instantToLocal,
  isValidTimeZone,
  iterateLocalDates,
  localDayLengthMinutes,
  localDayRange,
  localMinutesToInstant,
  localToInstant,
  parseLocalDate,
  parseLocalTime,
  weekdayOf,
  zoneOffsetMinutes,
} from "./time";

const utc = (iso: string) => Date.parse(iso);

describe("localToInstant", () => {
  it.each([
    // zone, date, time, expected instant, why
    ["America/New_York", "2025-01-15", "09:00", "2025-01-15T14:00:00Z", "winter EST −5"],
    ["America/New_York", "2025-07-15", "09:00", "2025-07-15T13:00:00Z", "summer EDT −4"],
    ["America/New_York", "2025-03-09", "09:00", "2025-03-09T13:00:00Z", "opening on spring-forward day is 09:00 EDT"],
    ["America/New_York", "2025-03-09", "01:59", "2025-03-09T06:59:00Z", "last minute before the gap"],
    ["America/New_York", "2025-03-09", "02:00", "2025-03-09T07:00:00Z", "gap start maps forward to 03:00 EDT"],
    ["America/New_York", "2025-03-09", "02:30", "2025-03-09T07:30:00Z", "in the gap: 03:30 EDT"],
    ["America/New_York", "2025-03-09", "03:00", "2025-03-09T07:00:00Z", "first minute after the gap"],
    ["America/New_York", "2025-11-02", "01:30", "2025-11-02T05:30:00Z", "ambiguous: earlier (EDT)"],
    ["America/New_York", "2025-11-02", "00:59", "2025-11-02T04:59:00Z", "before the overlap"],
    ["America/New_York", "2025-11-02", "02:00", "2025-11-02T07:00:00Z", "after the overlap (EST)"],
    ["America/New_York", "2025-11-02", "09:00", "2025-11-02T14:00:00Z", "opening on fall-back day is 09:00 EST"],
    ["Europe/London", "2025-03-30", "01:30", "2025-03-30T01:30:00Z", "London gap 01:00–02:00 maps forward to 02:30 BST"],
    ["Europe/London", "2025-03-30", "09:00", "2025-03-30T08:00:00Z", "BST opening"],
    ["Europe/London", "2025-10-26", "01:30", "2025-10-26T00:30:00Z", "London overlap: earlier (BST)"],
    ["Europe/London", "2025-10-26", "09:00", "2025-10-26T09:00:00Z", "GMT opening"],
    ["Australia/Lord_Howe", "2025-10-05", "02:15", "2025-10-04T15:45:00Z", "30-minute gap: 02:15 → 02:45 (+11)"],
    ["Australia/Lord_Howe", "2025-10-05", "09:00", "2025-10-04T22:00:00Z", "+11 after spring forward"],
    ["Australia/Lord_Howe", "2025-04-06", "01:45", "2025-04-05T14:45:00Z", "30-minute overlap: earlier (+11)"],
    ["Australia/Lord_Howe", "2025-04-06", "09:00", "2025-04-05T22:30:00Z", "+10:30 after fall back"],
    ["Asia/Kolkata", "2025-03-09", "09:00", "2025-03-09T03:30:00Z", "+05:30, no DST"],
    ["Asia/Kolkata", "2025-01-01", "00:00", "2024-12-31T18:30:00Z", "midnight is the previous UTC day"],
    ["UTC", "2024-02-29", "23:59", "2024-02-29T23:59:00Z", "leap day"],
  ])("%s %s %s → %s (%s)", (zone, date, time, expected) => {
    expect(localToInstant(date, time, zone)).toBe(utc(expected));
  });

  it("accepts 24:00 as the next midnight", () => {
    expect(localToInstant("2025-03-08", "24:00", "America/New_York")).toBe(localToInstant("2025-03-09", "00:00", "America/New_York"));
  });

  it("rolls minutes beyond a day into the following dates", () => {
    expect(localMinutesToInstant("2025-03-08", 1440 + 120 + 30, "America/New_York")).toBe(utc("2025-03-09T07:30:00Z"));
  });
});

describe("instantToLocal", () => {
  it.each([
    ["2025-03-09T06:59:00Z", "America/New_York", "2025-03-09", "01:59", -300],
    ["2025-03-09T07:00:00Z", "America/New_York", "2025-03-09", "03:00", -240],
    ["2025-11-02T05:30:00Z", "America/New_York", "2025-11-02", "01:30", -240],
    ["2025-11-02T06:30:00Z", "America/New_York", "2025-11-02", "01:30", -300],
    ["2025-10-04T15:30:00Z", "Australia/Lord_Howe", "2025-10-05", "02:30", 660],
    ["2025-10-04T15:29:00Z", "Australia/Lord_Howe", "2025-10-05", "01:59", 630],
    ["2025-06-30T18:29:00Z", "Asia/Kolkata", "2025-06-30", "23:59", 330],
    ["2025-06-30T18:30:00Z", "Asia/Kolkata", "2025-07-01", "00:00", 330],
  ])("%s in %s is %s %s (offset %i)", (iso, zone, date, time, offset) => {
    const local = instantToLocal(utc(iso), zone);
    expect(local).toMatchObject({ date, time, offsetMinutes: offset });
  });

  it("reports the weekday", () => {
    expect(instantToLocal(utc("2025-03-09T03:00:00Z"), "America/New_York").weekday).toBe(6); // Sat 22:00 local
  });
});

describe("localDayRange", () => {
  it.each([
    ["America/New_York", "2025-03-09", 23 * 60],
    ["America/New_York", "2025-11-02", 25 * 60],
    ["America/New_York", "2025-06-01", 24 * 60],
    ["Europe/London", "2025-03-30", 23 * 60],
    ["Europe/London", "2025-10-26", 25 * 60],
    ["Australia/Lord_Howe", "2025-10-05", 23.5 * 60],
    ["Australia/Lord_Howe", "2025-04-06", 24.5 * 60],
    ["Asia/Kolkata", "2025-03-09", 24 * 60],
    ["Asia/Kolkata", "2025-11-02", 24 * 60],
  ])("%s %s lasts %i minutes", (zone, date, minutes) => {
    expect(localDayLengthMinutes(date, zone)).toBe(minutes);
  });

  it("consecutive days tile time with no gap", () => {
    for (const zone of ["America/New_York", "Australia/Lord_Howe", "Europe/London"]) {
      for (const date of iterateLocalDates("2025-03-01", "2025-04-30")) {
        expect(localDayRange(date, zone).end).toBe(localDayRange(addDays(date, 1), zone).start);
      }
    }
  });

  it("handles a zone whose DST change happens at midnight (America/Santiago)", () => {
    // Chile springs forward at 00:00 → 01:00 on 2025-09-07: the day starts at 01:00 local.
    const range = localDayRange("2025-09-07", "America/Santiago");
    expect(instantToLocal(range.start, "America/Santiago")).toMatchObject({ date: "2025-09-07", time: "01:00" });
    expect(range.end - range.start).toBe(23 * 3_600_000);
  });
});

describe("calendar helpers", () => {
  it.each([
    ["2025-03-09", 0],
    ["2025-03-10", 1],
    ["2025-03-15", 6],
    ["2024-02-29", 4],
    ["2000-01-01", 6],
  ])("weekdayOf(%s) = %i", (date, weekday) => {
    expect(weekdayOf(date)).toBe(weekday);
  });

  it.each([
    ["2025-01-31", 1, "2025-02-01"],
    ["2024-02-28", 1, "2024-02-29"],
    ["2025-02-28", 1, "2025-03-01"],
    ["2025-01-01", -1, "2024-12-31"],
    ["2025-03-08", 2, "2025-03-10"],
  ])("addDays(%s, %i) = %s", (date, n, expected) => {
    expect(addDays(date, n)).toBe(expected);
  });

  it("iterates dates inclusively and across month ends", () => {
    expect([...iterateLocalDates("2024-02-27", "2024-03-01")]).toEqual(["2024-02-27", "2024-02-28", "2024-02-29", "2024-03-01"]);
    expect([...iterateLocalDates("2025-01-02", "2025-01-01")]).toEqual([]);
    expect(daysBetween("2025-01-01", "2025-12-31")).toBe(364);
  });
});

describe("validation", () => {
  it.each(["Mars/Olympus", "America/NewYork", "", "EST5EDT "])("rejects unknown zone %j", (zone) => {
    expect(() => assertTimeZone(zone)).toThrowError(DomainError);
    expect(() => localToInstant("2025-01-01", "09:00", zone)).toThrow(/time zone/i);
    expect(isValidTimeZone(zone)).toBe(false);
  });

  it("names the bad zone in the error", () => {
    expect(() => assertTimeZone("Mars/Olympus")).toThrow('Unknown time zone "Mars/Olympus"');
  });

  it.each(["2025-02-30", "2025-13-01", "2025-1-01", "25-01-01", "2025-00-10", "2023-02-29", "not a date"])("rejects date %j", (date) => {
    expect(() => parseLocalDate(date)).toThrowError(expect.objectContaining({ code: "INVALID_DATE" }));
  });

  it.each(["24:00", "9:00", "12:60", "25:00", "0900", "-1:00"])("rejects time %j", (time) => {
    expect(() => parseLocalTime(time)).toThrowError(expect.objectContaining({ code: "INVALID_TIME" }));
  });

  it("accepts 24:00 only as an end of day", () => {
    expect(parseLocalTime("24:00", { allowEndOfDay: true })).toBe(1440);
    expect(() => parseLocalTime("24:01", { allowEndOfDay: true })).toThrow();
  });
});

describe("properties", () => {
  const zones = ["America/New_York", "Europe/London", "Australia/Lord_Howe", "Asia/Kolkata", "America/Santiago", "Pacific/Chatham"];

  it("wall time → instant → wall time round-trips outside DST gaps", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        fc.integer({ min: 0, max: 3 * 365 }),
        fc.integer({ min: 0, max: 1439 }),
        (zone, dayOffset, minutes) => {
          const date = addDays("2024-01-01", dayOffset);
          const instant = localMinutesToInstant(date, minutes, zone);
          const back = instantToLocal(instant, zone);
          const inGap = back.date !== date || back.minutes !== minutes;
          if (inGap) {
            // Only a spring-forward gap may move the time, and only forward by the gap.
            const gapMinutes = zoneOffsetMinutes(instant, zone) - zoneOffsetMinutes(instant - 86_400_000, zone);
            expect(gapMinutes).toBeGreaterThan(0);
            expect(back.minutes + (back.date === date ? 0 : 1440) - minutes).toBe(gapMinutes);
          }
        },
      ),
      { numRuns: 400 },
    );
  });

  it("instant → wall time → instant round-trips except the later half of an overlap", () => {
    fc.assert(
      fc.property(fc.constantFrom(...zones), fc.integer({ min: 1_704_067_200, max: 1_798_761_600 }), (zone, seconds) => {
        const instant = Math.floor(seconds / 60) * 60_000;
        const local = instantToLocal(instant, zone);
        const again = localToInstant(local.date, local.time, zone);
        if (again !== instant) {
          expect(again).toBeLessThan(instant); // the earlier reading of an ambiguous wall time
          expect(instantToLocal(again, zone)).toMatchObject({ date: local.date, time: local.time });
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe("wallClockText", () => {
  it("reads an instant in the business's zone, with the zone's name", () => {
    expect(wallClockText(Date.UTC(2026, 11, 2, 13, 0), "America/New_York")).toBe("Wed, Dec 2, 8:00 AM EST");
    expect(wallClockText(Date.UTC(2026, 6, 2, 13, 0), "Europe/Berlin")).toMatch(/^Thu, Jul 2, 3:00\sPM GMT\+2$/);
  });
});
