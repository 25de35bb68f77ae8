/**
 * Recurring series in local wall-clock time: a weekly 09:00 booking is 09:00 local every
 * week, before and after DST changes (its UTC instant moves instead).
 *
 * Monthly by day of month: the series keeps the START date's day of month; in months that
 * are too short (29–31) it falls on that month's LAST day, and returns to the original day
 * when the month is long enough (Jan 31 → Feb 28/29 → Mar 31 → Apr 30).
 * Monthly by nth weekday: "the 2nd Tuesday"; `nth: -1` means the last such weekday. A
 * 5th-weekday rule skips months that have no 5th such weekday.
 *
 * A series ends after `count` occurrences or on `until` (inclusive local date), whichever
 * comes first; one of them is required and no series is longer than MAX_OCCURRENCES.
 */
import { assertInteger, invalidArgument } from "./errors";
import {
  type LocalDate,
  type LocalTime,
  type Weekday,
  MINUTE_MS,
  addDays,
  assertTimeZone,
  formatLocalDate,
  localDateToDayNumber,
  localToInstant,
  parseLocalDate,
  parseLocalTime,
  weekdayOf,
} from "./time";

export const MAX_OCCURRENCES = 520;

export type RecurrenceRule =
  | { frequency: "weekly"; intervalWeeks: number }
  | { frequency: "monthly"; intervalMonths: number; by: "dayOfMonth" }
  | { frequency: "monthly"; intervalMonths: number; by: "nthWeekday"; nth?: 1 | 2 | 3 | 4 | 5 | -1 };

export interface SeriesSpec {
  timeZone: string;
  startDate: LocalDate;
  startTime: LocalTime;
  durationMinutes: number;
  rule: RecurrenceRule;
  count?: number;
  until?: LocalDate;
}

export interface Occurrence {
  index: number;
  date: LocalDate;
  start: number;
  end: number;
}

function validateRule(rule: RecurrenceRule): void {
  if (rule.frequency === "weekly") {
    assertInteger(rule.intervalWeeks, "intervalWeeks", 1, 52);
  } else if (rule.frequency === "monthly") {
    assertInteger(rule.intervalMonths, "intervalMonths", 1, 12);
    if (rule.by !== "dayOfMonth" && rule.by !== "nthWeekday") {
      throw invalidArgument(`Monthly rules repeat "dayOfMonth" or "nthWeekday", got ${JSON.stringify((rule as { by: unknown }).by)}`);
    }
    if (rule.by === "nthWeekday" && rule.nth !== undefined && ![1, 2, 3, 4, 5, -1].includes(rule.nth)) {
      throw invalidArgument(`nth must be 1–5 or -1 (last), got ${rule.nth}`);
    }
  } else {
    throw invalidArgument(`Unknown recurrence frequency ${JSON.stringify((rule as { frequency: unknown }).frequency)}`);
  }
}

function lastDayOfMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

function addMonths(year: number, month: number, months: number): { year: number; month: number } {
  const zeroBased = year * 12 + (month - 1) + months;
  return { year: Math.floor(zeroBased / 12), month: (zeroBased % 12) + 1 };
}

/** The date of the nth (1–5, or -1 = last) `weekday` in a month, or null when it has none. */
export function nthWeekdayOfMonth(year: number, month: number, weekday: Weekday, nth: number): LocalDate | null {
  const first = formatLocalDate({ year, month, day: 1 });
  const firstMatch = 1 + ((weekday - weekdayOf(first) + 7) % 7);
  const last = lastDayOfMonth(year, month);
  if (nth === -1) {
    const day = firstMatch + Math.floor((last - firstMatch) / 7) * 7;
    return formatLocalDate({ year, month, day });
  }
  const day = firstMatch + (nth - 1) * 7;
  return day <= last ? formatLocalDate({ year, month, day }) : null;
}

/** Which occurrence of its weekday a date is within its month (1–5). */
export function weekdayOrdinal(date: LocalDate): number {
  return Math.ceil(parseLocalDate(date).day / 7);
}

/** Local dates of the series (before count/until trimming beyond `limit`). */
function seriesDates(spec: SeriesSpec, limit: number, untilDay: number): LocalDate[] {
  const dates: LocalDate[] = [];
  const start = parseLocalDate(spec.startDate);
  const rule = spec.rule;
  const push = (date: LocalDate | null): boolean => {
    if (date === null) return true;
    if (localDateToDayNumber(date) > untilDay || dates.length >= limit) return false;
    dates.push(date);
    return dates.length < limit;
  };
  if (rule.frequency === "weekly") {
    for (let k = 0; push(addDays(spec.startDate, k * 7 * rule.intervalWeeks)); k++);
    return dates;
  }
  const nth = rule.by === "nthWeekday" ? (rule.nth ?? weekdayOrdinal(spec.startDate)) : 0;
  const weekday = weekdayOf(spec.startDate);
  // Month steps are bounded so a rule that never matches cannot loop forever.
  for (let k = 0; k < MAX_OCCURRENCES * 12; k++) {
    const { year, month } = addMonths(start.year, start.month, k * rule.intervalMonths);
    let date: LocalDate | null;
    if (rule.by === "dayOfMonth") {
      date = formatLocalDate({ year, month, day: Math.min(start.day, lastDayOfMonth(year, month)) });
    } else {
      date = nthWeekdayOfMonth(year, month, weekday, nth);
      if (k === 0 && date !== spec.startDate) date = null; // the start date itself must fit the rule
    }
    if (!push(date)) break;
  }
  return dates;
}

/** Every occurrence of the series, with instants computed in the series' zone. */
export function seriesOccurrences(spec: SeriesSpec): Occurrence[] {
  assertTimeZone(spec.timeZone);
  parseLocalDate(spec.startDate);
  parseLocalTime(spec.startTime);
  assertInteger(spec.durationMinutes, "durationMinutes", 1, 7 * 24 * 60);
  validateRule(spec.rule);
  if (spec.count === undefined && spec.until === undefined) {
    throw invalidArgument("A recurring series needs a count or an until date");
  }
  if (spec.count !== undefined) assertInteger(spec.count, "count", 1, MAX_OCCURRENCES);
  const untilDay = spec.until === undefined ? Number.POSITIVE_INFINITY : localDateToDayNumber(spec.until);
  if (untilDay < localDateToDayNumber(spec.startDate)) {
    throw invalidArgument(`until (${spec.until}) is before the series start (${spec.startDate})`);
  }
  const dates = seriesDates(spec, spec.count ?? MAX_OCCURRENCES, untilDay);
  return dates.map((date, index) => {
    const start = localToInstant(date, spec.startTime, spec.timeZone);
    return { index, date, start, end: start + spec.durationMinutes * MINUTE_MS };
  });
}

export interface FrequencyDiscount {
  frequency: "weekly" | "monthly";
  /** Every `interval` weeks or months (1 = every week / month). */
  interval: number;
  discountBp: number;
}

/** The discount for a rule (e.g. weekly 1500 bp, every 2 weeks 1000 bp, monthly 500 bp); 0 when none listed. */
export function frequencyDiscountBp(discounts: readonly FrequencyDiscount[], rule: RecurrenceRule | null | undefined): number {
  if (!rule) return 0;
  const interval = rule.frequency === "weekly" ? rule.intervalWeeks : rule.intervalMonths;
  const match = discounts.find((d) => d.frequency === rule.frequency && d.interval === interval);
  if (!match) return 0;
  return assertInteger(match.discountBp, "discountBp", 0, 10_000);
}

/** Most rows a frequency discount table may have (one per frequency the business offers). */
export const MAX_FREQUENCY_DISCOUNTS = 12;

/**
 * Checks a frequency discount table: each row weekly (interval 1–52 weeks) or monthly
 * (1–12 months), 0–10 000 bp, no frequency listed twice. Throws naming the row's field.
 */
export function validateFrequencyDiscounts(discounts: readonly FrequencyDiscount[]): FrequencyDiscount[] {
  if (discounts.length > MAX_FREQUENCY_DISCOUNTS) {
    throw invalidArgument(`At most ${MAX_FREQUENCY_DISCOUNTS} frequency discounts.`, { field: "frequencyDiscounts" });
  }
  const seen = new Set<string>();
  const whole = (value: number, min: number, max: number) => Number.isSafeInteger(value) && value >= min && value <= max;
  return discounts.map((d, i) => {
    const field = `frequencyDiscounts[${i}]`;
    if (d.frequency !== "weekly" && d.frequency !== "monthly") {
      throw invalidArgument(`${field}.frequency must be weekly or monthly.`, { field: `${field}.frequency` });
    }
    const maxInterval = d.frequency === "weekly" ? 52 : 12;
    if (!whole(d.interval, 1, maxInterval)) {
      throw invalidArgument(`${field}.interval must be a whole number from 1 to ${maxInterval}.`, { field: `${field}.interval` });
    }
    if (!whole(d.discountBp, 0, 10_000)) {
      throw invalidArgument(`${field}.discountBp must be a whole number of basis points from 0 to 10000.`, { field: `${field}.discountBp` });
    }
    const key = `${d.frequency}/${d.interval}`;
    if (seen.has(key)) throw invalidArgument(`${field}: ${describeFrequency(d)} is listed twice.`, { field: `${field}.interval` });
    seen.add(key);
    return { frequency: d.frequency, interval: d.interval, discountBp: d.discountBp };
  });
}

function describeFrequency(d: FrequencyDiscount): string {
  return describeRule(d.frequency === "weekly" ? { frequency: "weekly", intervalWeeks: d.interval } : { frequency: "monthly", intervalMonths: d.interval, by: "dayOfMonth" });
}

/**
 * The discount of one visit of a plan: the frequency's discount, except on the plan's very
 * first visit (index 0) when the business leaves that one at full price.
 */
export function planVisitDiscountBp(
  discounts: readonly FrequencyDiscount[],
  rule: RecurrenceRule | null | undefined,
  visit: { index: number; firstVisitFullPrice: boolean },
): number {
  if (visit.firstVisitFullPrice && visit.index === 0) return 0;
  return frequencyDiscountBp(discounts, rule);
}

/** A short label for the rule: "Weekly", "Every 2 weeks", "Monthly", "Every 3 months". */
export function describeRule(rule: RecurrenceRule): string {
  if (rule.frequency === "weekly") return rule.intervalWeeks === 1 ? "Weekly" : `Every ${rule.intervalWeeks} weeks`;
  return rule.intervalMonths === 1 ? "Monthly" : `Every ${rule.intervalMonths} months`;
}
