import { describe, expect, it } from "vitest";
import { type SeriesSpec, describeRule, frequencyDiscountBp, nthWeekdayOfMonth, seriesOccurrences } from "./recurrence";
import { instantToLocal } from "./time";

const NY = "America/New_York";

function series(overrides: Partial<SeriesSpec>): SeriesSpec {
  return { timeZone: NY, startDate: "2025-03-01", startTime: "09:00", durationMinutes: 120, rule: { frequency: "weekly", intervalWeeks: 1 }, count: 4, ...overrides };
}

const dates = (spec: SeriesSpec) => seriesOccurrences(spec).map((o) => o.date);

describe("weekly series", () => {
  it("stays at 09:00 local across the March DST change", () => {
    const occurrences = seriesOccurrences(series({}));
    expect(occurrences.map((o) => o.date)).toEqual(["2025-03-01", "2025-03-08", "2025-03-15", "2025-03-22"]);
    for (const o of occurrences) expect(instantToLocal(o.start, NY).time).toBe("09:00");
    // The UTC instant moves by an hour instead.
    expect(occurrences[2].start - occurrences[1].start).toBe(7 * 24 * 3_600_000 - 3_600_000);
    expect(occurrences[0].end - occurrences[0].start).toBe(120 * 60_000);
  });

  it.each([
    ["Europe/London", "2025-10-18", "2025-10-25", "2025-11-01"],
    ["Australia/Lord_Howe", "2025-09-28", "2025-10-05", "2025-10-12"],
    ["Asia/Kolkata", "2025-03-01", "2025-03-08", "2025-03-15"],
  ])("stays at 09:00 local in %s", (zone, d1, d2, d3) => {
    const occurrences = seriesOccurrences(series({ timeZone: zone, startDate: d1, count: 3 }));
    expect(occurrences.map((o) => o.date)).toEqual([d1, d2, d3]);
    for (const o of occurrences) expect(instantToLocal(o.start, zone).time).toBe("09:00");
  });

  it("every two weeks", () => {
    expect(dates(series({ rule: { frequency: "weekly", intervalWeeks: 2 }, count: 3 }))).toEqual(["2025-03-01", "2025-03-15", "2025-03-29"]);
  });

  it("until is inclusive and stops before count when earlier", () => {
    expect(dates(series({ count: 10, until: "2025-03-15" }))).toEqual(["2025-03-01", "2025-03-08", "2025-03-15"]);
    expect(dates(series({ count: undefined, until: "2025-03-14" }))).toEqual(["2025-03-01", "2025-03-08"]);
  });

  it("a start time inside the DST gap maps forward on that day only", () => {
    const occurrences = seriesOccurrences(series({ startDate: "2025-03-02", startTime: "02:30", count: 3 }));
    expect(occurrences.map((o) => instantToLocal(o.start, NY).time)).toEqual(["02:30", "03:30", "02:30"]);
  });
});

describe("monthly series", () => {
  it("by day of month clamps 31 to the month's last day and returns to 31", () => {
    const spec = series({ startDate: "2025-01-31", rule: { frequency: "monthly", intervalMonths: 1, by: "dayOfMonth" }, count: 5 });
    expect(dates(spec)).toEqual(["2025-01-31", "2025-02-28", "2025-03-31", "2025-04-30", "2025-05-31"]);
  });

  it("by day of month 29 in a leap year", () => {
    const spec = series({ startDate: "2024-01-29", rule: { frequency: "monthly", intervalMonths: 1, by: "dayOfMonth" }, count: 3 });
    expect(dates(spec)).toEqual(["2024-01-29", "2024-02-29", "2024-03-29"]);
  });

  it("every 3 months crossing a year", () => {
    const spec = series({ startDate: "2025-11-15", rule: { frequency: "monthly", intervalMonths: 3, by: "dayOfMonth" }, count: 3 });
    expect(dates(spec)).toEqual(["2025-11-15", "2026-02-15", "2026-05-15"]);
  });

  it("by nth weekday follows the start's ordinal (2nd Tuesday)", () => {
    const spec = series({ startDate: "2025-01-14", rule: { frequency: "monthly", intervalMonths: 1, by: "nthWeekday" }, count: 4 });
    expect(dates(spec)).toEqual(["2025-01-14", "2025-02-11", "2025-03-11", "2025-04-08"]);
  });

  it("last weekday of the month", () => {
    const spec = series({ startDate: "2025-01-31", rule: { frequency: "monthly", intervalMonths: 1, by: "nthWeekday", nth: -1 }, count: 3 });
    expect(dates(spec)).toEqual(["2025-01-31", "2025-02-28", "2025-03-28"]);
  });

  it("a 5th weekday skips months without one", () => {
    const spec = series({ startDate: "2025-01-29", rule: { frequency: "monthly", intervalMonths: 1, by: "nthWeekday", nth: 5 }, count: 3 });
    expect(dates(spec)).toEqual(["2025-01-29", "2025-04-30", "2025-07-30"]);
  });

  it("nthWeekdayOfMonth", () => {
    expect(nthWeekdayOfMonth(2025, 2, 1, 1)).toBe("2025-02-03");
    expect(nthWeekdayOfMonth(2025, 2, 6, -1)).toBe("2025-02-22");
    expect(nthWeekdayOfMonth(2025, 2, 1, 5)).toBeNull();
  });
});

describe("validation", () => {
  it.each([
    [{ count: undefined, until: undefined }, /count or an until/],
    [{ count: 0 }, /count/],
    [{ until: "2025-02-01" }, /before the series start/],
    [{ rule: { frequency: "weekly", intervalWeeks: 0 } }, /intervalWeeks/],
    [{ rule: { frequency: "daily" } }, /Unknown recurrence frequency/],
    [{ timeZone: "Bad/Zone" }, /time zone/i],
    [{ startTime: "9:00" }, /HH:MM/],
    [{ startDate: "2025-02-29" }, /calendar date/],
    [{ rule: { frequency: "monthly", intervalMonths: 1, by: "nthWeekday", nth: 6 } }, /nth/],
  ])("rejects %j", (overrides, message) => {
    expect(() => seriesOccurrences(series(overrides as Partial<SeriesSpec>))).toThrow(message);
  });

  it("a series without count is capped", () => {
    expect(seriesOccurrences(series({ count: undefined, until: "2099-12-31" })).length).toBe(520);
  });
});

describe("frequency discounts", () => {
  const table = [
    { frequency: "weekly" as const, interval: 1, discountBp: 1_500 },
    { frequency: "weekly" as const, interval: 2, discountBp: 1_000 },
    { frequency: "monthly" as const, interval: 1, discountBp: 500 },
  ];

  it.each([
    [{ frequency: "weekly", intervalWeeks: 1 }, 1_500],
    [{ frequency: "weekly", intervalWeeks: 2 }, 1_000],
    [{ frequency: "weekly", intervalWeeks: 3 }, 0],
    [{ frequency: "monthly", intervalMonths: 1, by: "dayOfMonth" }, 500],
    [null, 0],
  ])("%j → %i bp", (rule, bp) => {
    expect(frequencyDiscountBp(table, rule as never)).toBe(bp);
  });

  it("describes rules", () => {
    expect(describeRule({ frequency: "weekly", intervalWeeks: 2 })).toBe("Every 2 weeks");
    expect(describeRule({ frequency: "monthly", intervalMonths: 1, by: "dayOfMonth" })).toBe("Monthly");
  });
});
