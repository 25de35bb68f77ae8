/**
 * Local wall-clock time in an IANA zone <-> UTC instants (epoch milliseconds).
 *
 * Conventions: a local date is "YYYY-MM-DD", a local time is "HH:MM" (24-hour; "24:00" is
 * accepted only where an end of day is meant, see `parseLocalTime`).
 *
 * DST rules, applied everywhere a wall time becomes an instant:
 * - A wall time inside a spring-forward gap does not exist; it maps FORWARD by the length of
 *   the gap (02:30 in New York on the spring day becomes 03:30 EDT; 02:15 on Lord Howe's
 *   spring day becomes 02:45).
 * - A wall time inside a fall-back overlap happens twice; it maps to the EARLIER instant
 *   (01:30 in New York on the autumn day is 01:30 EDT, not EST).
 * - Every other wall time maps to its only instant, so "09:00" is 09:00 local on every day,
 *   transition days included.
 *
 * Only standard JS and Intl are used, so this runs in Convex, PartyKit and browsers.
 */
import { DomainError, assertInteger } from "./errors";

export type LocalDate = string;
export type LocalTime = string;
/** 0 = Sunday … 6 = Saturday, as `Date.prototype.getUTCDay`. */
export type Weekday = 0 | 1 | 2 | 3 | 4 | 5 | 6;

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export interface LocalDateParts {
  year: number;
  month: number;
  day: number;
}

export interface LocalDateTime {
  date: LocalDate;
  time: LocalTime;
  /** Minutes since local midnight, 0…1439. */
  minutes: number;
  weekday: Weekday;
  /** The zone's offset from UTC at that instant, in minutes (New York in winter: -300). */
  offsetMinutes: number;
}

export interface InstantRange {
  start: number;
  end: number;
}

// ---------------------------------------------------------------------------------------
// Validation and parsing
// ---------------------------------------------------------------------------------------

const formatterCache = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatterCache.get(timeZone);
  if (!formatter) {
    try {
      formatter = new Intl.DateTimeFormat("en-US", {
        timeZone,
        hourCycle: "h23",
        year: "numeric",
        month: "numeric",
        day: "numeric",
        hour: "numeric",
        minute: "numeric",
        second: "numeric",
      });
    } catch {
      throw new DomainError("UNKNOWN_TIME_ZONE", `Unknown time zone "${timeZone}"`, { timeZone });
    }
    formatterCache.set(timeZone, formatter);
  }
  return formatter;
}

export function isValidTimeZone(timeZone: unknown): timeZone is string {
  if (typeof timeZone !== "string" || timeZone.length === 0) return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch {
    return false;
  }
}

/** Returns the zone unchanged, or throws UNKNOWN_TIME_ZONE naming it. */
export function assertTimeZone(timeZone: unknown): string {
  if (typeof timeZone !== "string" || timeZone.length === 0) {
    throw new DomainError("UNKNOWN_TIME_ZONE", `Time zone must be a non-empty IANA name, got ${JSON.stringify(timeZone)}`);
  }
  formatterFor(timeZone);
  return timeZone;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_PATTERN = /^(\d{2}):(\d{2})$/;

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}

export function parseLocalDate(date: unknown): LocalDateParts {
  const match = typeof date === "string" ? DATE_PATTERN.exec(date) : null;
  if (!match) {
    throw new DomainError("INVALID_DATE", `Expected a local date "YYYY-MM-DD", got ${JSON.stringify(date)}`);
  }
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) {
    throw new DomainError("INVALID_DATE", `"${date}" is not a calendar date`);
  }
  return { year, month, day };
}

export function isValidLocalDate(date: unknown): date is LocalDate {
  try {
    parseLocalDate(date);
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses "HH:MM" to minutes since midnight. "24:00" (1440) is accepted only with
 * `allowEndOfDay`, for the end of an opening-hours interval.
 */
export function parseLocalTime(time: unknown, options: { allowEndOfDay?: boolean } = {}): number {
  const match = typeof time === "string" ? TIME_PATTERN.exec(time) : null;
  if (!match) {
    throw new DomainError("INVALID_TIME", `Expected a local time "HH:MM", got ${JSON.stringify(time)}`);
  }
  const hours = Number(match[1]);
  const minutes = Number(match[2]);
  if (options.allowEndOfDay && hours === 24 && minutes === 0) return 1440;
  if (hours > 23 || minutes > 59) {
    throw new DomainError("INVALID_TIME", `"${time}" is not a time of day (00:00–23:59)`);
  }
  return hours * 60 + minutes;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

export function formatLocalDate(parts: LocalDateParts): LocalDate {
  return `${parts.year}-${pad2(parts.month)}-${pad2(parts.day)}`;
}

/** Minutes since midnight (0…1439) to "HH:MM". */
export function formatLocalTime(minutesOfDay: number): LocalTime {
  assertInteger(minutesOfDay, "minutes of day", 0, 1439);
  return `${pad2(Math.floor(minutesOfDay / 60))}:${pad2(minutesOfDay % 60)}`;
}

// ---------------------------------------------------------------------------------------
// Calendar arithmetic on local dates (no zone involved)
// ---------------------------------------------------------------------------------------

/** Days since 1970-01-01 for a local date, zone-free. */
export function localDateToDayNumber(date: LocalDate): number {
  const { year, month, day } = parseLocalDate(date);
  return Date.UTC(year, month - 1, day) / DAY_MS;
}

export function dayNumberToLocalDate(dayNumber: number): LocalDate {
  const d = new Date(dayNumber * DAY_MS);
  return formatLocalDate({ year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() });
}

export function weekdayOf(date: LocalDate): Weekday {
  return (((localDateToDayNumber(date) + 4) % 7) + 7) % 7 as Weekday;
}

export function addDays(date: LocalDate, days: number): LocalDate {
  assertInteger(days, "days");
  return dayNumberToLocalDate(localDateToDayNumber(date) + days);
}

/** Whole days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: LocalDate, to: LocalDate): number {
  return localDateToDayNumber(to) - localDateToDayNumber(from);
}

export function compareLocalDates(a: LocalDate, b: LocalDate): number {
  return localDateToDayNumber(a) - localDateToDayNumber(b);
}

/** Every local date from `from` to `to`, both inclusive. Empty when `to` is before `from`. */
export function* iterateLocalDates(from: LocalDate, to: LocalDate): Generator<LocalDate> {
  const first = localDateToDayNumber(from);
  const last = localDateToDayNumber(to);
  for (let day = first; day <= last; day++) yield dayNumberToLocalDate(day);
}

export function localDatesInRange(from: LocalDate, to: LocalDate): LocalDate[] {
  return [...iterateLocalDates(from, to)];
}

// ---------------------------------------------------------------------------------------
// Zone offsets
// ---------------------------------------------------------------------------------------

/** The zone's UTC offset at `instant`, in minutes (east positive: Kolkata is +330). */
export function zoneOffsetMinutes(instant: number, timeZone: string): number {
  if (!Number.isFinite(instant)) throw new DomainError("INVALID_ARGUMENT", `Instant must be a finite number, got ${instant}`);
  // Intl is slow (tens of µs a call), so offsets are cached per zone and UTC hour whenever
  // the offset is the same at both ends of that hour (true of every hour but a transition's).
  const bucket = Math.floor(instant / HOUR_MS);
  let zoneCache = offsetCache.get(timeZone);
  if (!zoneCache) {
    zoneCache = new Map();
    offsetCache.set(timeZone, zoneCache);
  }
  const cached = zoneCache.get(bucket);
  if (cached !== undefined) return cached;
  const offset = offsetFromIntl(instant, timeZone);
  const atStart = bucket * HOUR_MS === instant ? offset : offsetFromIntl(bucket * HOUR_MS, timeZone);
  const atEnd = offsetFromIntl((bucket + 1) * HOUR_MS - 1, timeZone);
  if (atStart === atEnd && atStart === offset) {
    if (zoneCache.size >= OFFSET_CACHE_LIMIT) zoneCache.clear();
    zoneCache.set(bucket, offset);
  }
  return offset;
}

const offsetCache = new Map<string, Map<number, number>>();
const OFFSET_CACHE_LIMIT = 200_000;

function offsetFromIntl(instant: number, timeZone: string): number {
  const parts = formatterFor(timeZone).formatToParts(new Date(instant));
  let year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  for (const part of parts) {
    switch (part.type) {
      case "year": year = Number(part.value); break;
      case "month": month = Number(part.value); break;
      case "day": day = Number(part.value); break;
      case "hour": hour = Number(part.value); break;
      case "minute": minute = Number(part.value); break;
      case "second": second = Number(part.value); break;
    }
  }
  const wallAsUtc = Date.UTC(year, month - 1, day, hour, minute, second);
  const wholeSecond = Math.floor(instant / 1000) * 1000;
  return Math.round((wallAsUtc - wholeSecond) / MINUTE_MS);
}

/**
 * Instant for a wall-clock reading given as "wall time read as if it were UTC" (ms).
 * Applies the gap-forward / overlap-earlier rules described at the top of this file.
 */
function wallToInstant(wallAsUtc: number, timeZone: string): number {
  // Offsets 14 hours either side bracket any single transition near this wall time.
  const offsetBefore = zoneOffsetMinutes(wallAsUtc - 14 * HOUR_MS, timeZone);
  const offsetAfter = zoneOffsetMinutes(wallAsUtc + 14 * HOUR_MS, timeZone);
  const candidateBefore = wallAsUtc - offsetBefore * MINUTE_MS;
  if (offsetBefore === offsetAfter) {
    const offsetThere = zoneOffsetMinutes(candidateBefore, timeZone);
    return offsetThere === offsetBefore ? candidateBefore : wallAsUtc - offsetThere * MINUTE_MS;
  }
  const candidateAfter = wallAsUtc - offsetAfter * MINUTE_MS;
  const beforeValid = zoneOffsetMinutes(candidateBefore, timeZone) === offsetBefore;
  const afterValid = zoneOffsetMinutes(candidateAfter, timeZone) === offsetAfter;
  if (beforeValid && afterValid) return Math.min(candidateBefore, candidateAfter); // overlap: earlier
  if (beforeValid) return candidateBefore;
  if (afterValid) return candidateAfter;
  // Gap: read the wall time with the offset in force before the transition, which lands
  // the same distance past the transition as the wall time was past its start.
  return candidateBefore;
}

// Per zone and date: the day's bounds and its (at most one) offset change, found once by
// bisection, so converting thousands of wall times on that date is plain arithmetic.
interface DayInfo {
  start: number;
  end: number;
  /** Wall time of local midnight read as UTC. */
  wallStart: number;
  offsetBefore: number;
  offsetAfter: number;
  /** First instant with `offsetAfter`; undefined when the offset does not change. */
  transition?: number;
}

const dayInfoCache = new Map<string, DayInfo>();
const DAY_INFO_CACHE_LIMIT = 50_000;

function findTransition(from: number, to: number, offsetAtFrom: number, timeZone: string): number {
  // Invariant: offset(lo) === offsetAtFrom, offset(hi) !== offsetAtFrom; transitions fall on whole minutes.
  let lo = from;
  let hi = to;
  while (hi - lo > MINUTE_MS) {
    const mid = lo + Math.floor((hi - lo) / 2 / MINUTE_MS) * MINUTE_MS;
    if (zoneOffsetMinutes(mid, timeZone) === offsetAtFrom) lo = mid;
    else hi = mid;
  }
  return hi;
}

function dayInfo(date: LocalDate, timeZone: string): DayInfo {
  const key = `${timeZone}|${date}`;
  let info = dayInfoCache.get(key);
  if (!info) {
    const wallStart = localDateToDayNumber(date) * DAY_MS;
    const start = wallToInstant(wallStart, timeZone);
    const end = wallToInstant(wallStart + DAY_MS, timeZone);
    // Offsets just outside the day catch a change at either midnight too.
    const probeFrom = start - 2 * HOUR_MS;
    const probeTo = end + 2 * HOUR_MS;
    const offsetBefore = zoneOffsetMinutes(probeFrom, timeZone);
    const offsetAfter = zoneOffsetMinutes(probeTo, timeZone);
    info = { start, end, wallStart, offsetBefore, offsetAfter };
    if (offsetBefore !== offsetAfter) info.transition = findTransition(probeFrom, probeTo, offsetBefore, timeZone);
    if (dayInfoCache.size >= DAY_INFO_CACHE_LIMIT) dayInfoCache.clear();
    dayInfoCache.set(key, info);
  }
  return info;
}

/** Wall time on a day with a known single transition → instant, by the gap/overlap rules. */
function wallToInstantOnDay(info: DayInfo, wallAsUtc: number): number {
  const candidateBefore = wallAsUtc - info.offsetBefore * MINUTE_MS;
  if (info.transition === undefined) return candidateBefore;
  const candidateAfter = wallAsUtc - info.offsetAfter * MINUTE_MS;
  const beforeValid = candidateBefore < info.transition;
  const afterValid = candidateAfter >= info.transition;
  if (beforeValid && afterValid) return Math.min(candidateBefore, candidateAfter);
  if (afterValid) return candidateAfter;
  return candidateBefore; // valid before the change, or in a gap (maps forward)
}

// ---------------------------------------------------------------------------------------
// Conversions
// ---------------------------------------------------------------------------------------

/**
 * The instant of `minutesOfDay` minutes after local midnight of `date` on the wall clock.
 * Values of 1440 and more roll into the following dates (1440 = next day 00:00), which is
 * how opening hours that cross midnight are expressed.
 */
export function localMinutesToInstant(date: LocalDate, minutesOfDay: number, timeZone: string): number {
  assertTimeZone(timeZone);
  assertInteger(minutesOfDay, "minutes of day", 0, 14 * 1440);
  if (minutesOfDay >= 1440) {
    const extraDays = Math.floor(minutesOfDay / 1440);
    return localMinutesToInstant(addDays(date, extraDays), minutesOfDay - extraDays * 1440, timeZone);
  }
  const info = dayInfo(date, timeZone);
  return wallToInstantOnDay(info, info.wallStart + minutesOfDay * MINUTE_MS);
}

/** Wall-clock date and "HH:MM" (or "24:00" for the next midnight) in a zone → instant. */
export function localToInstant(date: LocalDate, time: LocalTime, timeZone: string): number {
  return localMinutesToInstant(date, parseLocalTime(time, { allowEndOfDay: true }), timeZone);
}

export function instantToLocal(instant: number, timeZone: string): LocalDateTime {
  assertTimeZone(timeZone);
  const offsetMinutes = zoneOffsetMinutes(instant, timeZone);
  const wall = new Date(instant + offsetMinutes * MINUTE_MS);
  const minutes = wall.getUTCHours() * 60 + wall.getUTCMinutes();
  return {
    date: formatLocalDate({ year: wall.getUTCFullYear(), month: wall.getUTCMonth() + 1, day: wall.getUTCDate() }),
    time: formatLocalTime(minutes),
    minutes,
    weekday: wall.getUTCDay() as Weekday,
    offsetMinutes,
  };
}

/** The local date an instant falls on in a zone. */
export function localDateOf(instant: number, timeZone: string): LocalDate {
  return instantToLocal(instant, timeZone).date;
}

/**
 * The half-open instant range [start, end) of a local day: 24 hours on most days, 23 or 25
 * on DST days, 23.5 or 24.5 on Lord Howe's.
 */
export function localDayRange(date: LocalDate, timeZone: string): InstantRange {
  assertTimeZone(timeZone);
  const info = dayInfo(date, timeZone);
  return { start: info.start, end: info.end };
}

/** Length of a local day in minutes (1380, 1440, 1500; 1410 or 1470 on Lord Howe). */
export function localDayLengthMinutes(date: LocalDate, timeZone: string): number {
  const { start, end } = localDayRange(date, timeZone);
  return (end - start) / MINUTE_MS;
}

/** Today's local date in a zone, for a given `now`. */
export function todayIn(now: number, timeZone: string): LocalDate {
  return localDateOf(now, timeZone);
}

/** "Wed, Dec 2, 8:00 AM EST": an instant as people read it in the zone where the work happens. */
export function wallClockText(instant: number, timeZone: string, locale = "en-US"): string {
  return new Intl.DateTimeFormat(locale, {
    timeZone,
    weekday: "short",
    month: "short",
    day: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
  }).format(instant);
}
