/**
 * Slot generation: working hours minus time off, bookings, holds and buffers, with minimum
 * notice, booking horizon, per-day limits and capacity.
 *
 * Rules:
 * - Hours are local wall-clock in the business zone ("09:00"–"17:00"); an interval whose end
 *   is not after its start crosses midnight ("22:00"–"02:00" ends 02:00 the next day);
 *   "24:00" ends at the next midnight. Wall times convert to instants with the DST rules of
 *   time.ts, so opening hours stay 09:00 local on transition days. A date override replaces
 *   the weekly hours of that local date (closed, or custom hours). Touching intervals merge,
 *   so a booking may run across 12:00 between "09:00–12:00" and "12:00–17:00".
 * - Slot starts step by `stepMinutes` from each working interval's opening time.
 * - A booking occupies [start, end) where end = start + arrival window + duration: with an
 *   arrival window the provider may arrive until `arrivalWindowEnd`, and the resource is
 *   held until the latest possible finish. [start, end) must lie inside working time (minus
 *   time off).
 * - Buffers: every busy block (booking or hold) blocks [start − its buffer before,
 *   end + its buffer after); a candidate blocks [start − resource buffer before,
 *   end + resource buffer after). Blocked ranges of the candidate and existing blocks must
 *   not together use more than the capacity. Buffers may reach outside working hours.
 * - Capacity: a resource with capacity k takes overlapping blocks while their units sum to
 *   at most k; `remainingCapacity` of a slot is the sum over available resources of
 *   capacity − highest usage during the candidate's blocked range.
 * - Per-day limit: busy blocks that count toward it, by the local date of their start; a
 *   resource at its limit on a date offers no slot starting on that date.
 * - Notice: start ≥ now + minimum notice. Horizon: start before the end of the local date
 *   `bookingHorizonDays` after today (0 = today only). Range: start on a local date in
 *   [fromDate, toDate]; its [start, end) may run into the hours of the days after toDate.
 *
 * Cost: O(grid + Σ per resource (days × hours entries + busy blocks) + resource-slots out),
 * busy blocks bucket-sorted; no slot is compared with every booking (docs/PERFORMANCE.md).
 */
import { assertInteger, invalidArgument } from "./errors";
import { type Interval, capacitySweep, mergeIntervals } from "./intervals";
import {
  type LocalDate,
  type LocalTime,
  type Weekday,
  DAY_MS,
  MINUTE_MS,
  addDays,
  assertTimeZone,
  daysBetween,
  instantToLocal,
  localDateOf,
  localDayRange,
  localMinutesToInstant,
  parseLocalDate,
  parseLocalTime,
  weekdayOf,
  zoneOffsetMinutes,
} from "./time";

export interface HoursInterval {
  start: LocalTime;
  end: LocalTime;
}

export interface WeeklyHoursEntry extends HoursInterval {
  weekday: Weekday;
}

export type DateOverride = { date: LocalDate; closed: true } | { date: LocalDate; closed?: false; hours: HoursInterval[] };

/** An existing booking or active hold on a resource. */
export interface BusyBlock {
  start: number;
  end: number;
  /** Capacity units used (default 1). */
  units?: number;
  bufferBeforeMinutes?: number;
  bufferAfterMinutes?: number;
  /** Whether it counts toward the resource's per-day limit (default true). */
  countsTowardDailyLimit?: boolean;
}

export interface AvailabilityResource {
  id: string;
  capacity: number;
  weeklyHours: readonly WeeklyHoursEntry[];
  overrides?: readonly DateOverride[];
  timeOff?: readonly Interval[];
  busy?: readonly BusyBlock[];
  bufferBeforeMinutes?: number;
  bufferAfterMinutes?: number;
  maxBookingsPerDay?: number;
  /** Zones served; undefined = every zone. */
  zoneIds?: readonly string[];
  /** Products served; undefined = every product. */
  productIds?: readonly string[];
}

export interface SlotRules {
  timeZone: string;
  now: number;
  durationMinutes: number;
  minimumNoticeMinutes?: number;
  bookingHorizonDays?: number;
  arrivalWindowMinutes?: number;
  /** Capacity units one booking needs (default 1). */
  units?: number;
  /** The booking's zone; resources that list zones must include it. */
  zoneId?: string;
  /** The booking's products; resources that list products must include all of them. */
  productIds?: readonly string[];
}

export interface AvailabilityQuery extends SlotRules {
  fromDate: LocalDate;
  toDate: LocalDate;
  stepMinutes: number;
  resources: readonly AvailabilityResource[];
}

export interface Slot {
  start: number;
  /** End of the reserved range: start + arrival window + duration. */
  end: number;
  /** Latest arrival, present when an arrival window is used. */
  arrivalWindowEnd?: number;
  availableResourceIds: string[];
  remainingCapacity: number;
}

/** A slot without the list of resources that can take it. */
export type SlotTime = Omit<Slot, "availableResourceIds">;

export const SLOT_UNAVAILABLE_CODES = [
  "NOT_ELIGIBLE",
  "INSUFFICIENT_CAPACITY",
  "IN_THE_PAST",
  "BEFORE_MINIMUM_NOTICE",
  "BEYOND_HORIZON",
  "OUTSIDE_WORKING_HOURS",
  "DAILY_LIMIT_REACHED",
  "CONFLICT",
] as const;
export type SlotUnavailableCode = (typeof SLOT_UNAVAILABLE_CODES)[number];

/**
 * Why a resource cannot take a booking at a time, as data: callers put it in words with
 * `describeRefusal` (with product names and the business's zone), never with ids.
 */
export type SlotRefusal =
  | { kind: "zone" }
  | { kind: "products"; productIds: string[] }
  | { kind: "capacity"; capacity: number; needed: number }
  | { kind: "past" }
  | { kind: "notice"; minutes: number }
  | { kind: "horizon"; days: number }
  /** No hours at all on that local date (weekly hours, or a date override closing it). */
  | { kind: "day_off"; date: LocalDate; weekday: Weekday; override: boolean }
  | { kind: "time_off"; start: number; end: number }
  | { kind: "outside_hours"; date: LocalDate; hours: HoursInterval[]; override: boolean }
  | { kind: "daily_limit"; limit: number }
  /** The busy time (its own extent, buffers included) the booking would overlap. */
  | { kind: "busy"; start: number; end: number }
  /** The resource's own settings could not be read (bad hours data). */
  | { kind: "unreadable_schedule" };

export type SlotCheck =
  | { ok: true; end: number; arrivalWindowEnd?: number; remainingCapacity: number }
  | { ok: false; code: SlotUnavailableCode; reason: string; refusal: SlotRefusal };

export interface SlotCheckInput extends SlotRules {
  resource: AvailabilityResource;
  start: number;
}

export const MAX_RANGE_DAYS = 366;

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

interface NormalizedRules {
  timeZone: string;
  now: number;
  spanMs: number;
  windowMs: number;
  units: number;
  earliestStart: number;
  /** First instant after the horizon. */
  horizonEnd: number;
}

function normalizeRules(rules: SlotRules): NormalizedRules {
  const timeZone = assertTimeZone(rules.timeZone);
  if (!Number.isFinite(rules.now)) throw invalidArgument(`now must be an instant in ms, got ${rules.now}`);
  const duration = assertInteger(rules.durationMinutes, "durationMinutes", 1, 7 * 24 * 60);
  const notice = assertInteger(rules.minimumNoticeMinutes ?? 0, "minimumNoticeMinutes", 0);
  const windowMinutes = assertInteger(rules.arrivalWindowMinutes ?? 0, "arrivalWindowMinutes", 0, 24 * 60);
  const units = assertInteger(rules.units ?? 1, "units", 1);
  let horizonEnd = Number.POSITIVE_INFINITY;
  if (rules.bookingHorizonDays !== undefined) {
    const days = assertInteger(rules.bookingHorizonDays, "bookingHorizonDays", 0, 3660);
    horizonEnd = localDayRange(addDays(localDateOf(rules.now, timeZone), days), timeZone).end;
  }
  return {
    timeZone,
    now: rules.now,
    spanMs: (duration + windowMinutes) * MINUTE_MS,
    windowMs: windowMinutes * MINUTE_MS,
    units,
    earliestStart: rules.now + notice * MINUTE_MS,
    horizonEnd,
  };
}

interface ParsedHours {
  startMinutes: number;
  /** May exceed 1440 when crossing midnight. */
  endMinutes: number;
}

/** "HH:MM" → minutes, cached: every resource repeats the same few opening times. */
const localTimeCache = new Map<string, number>();

function minutesOf(time: LocalTime, allowEndOfDay: boolean): number {
  const key = allowEndOfDay ? `${time}+` : time;
  let minutes = localTimeCache.get(key);
  if (minutes === undefined) {
    minutes = parseLocalTime(time, { allowEndOfDay });
    if (localTimeCache.size < 4096) localTimeCache.set(key, minutes);
  }
  return minutes;
}

function parseHours(hours: HoursInterval, label: string): ParsedHours {
  const startMinutes = minutesOf(hours.start, false);
  const end = minutesOf(hours.end, true);
  if (end === startMinutes) {
    throw invalidArgument(`${label}: hours ${hours.start}–${hours.end} are empty; use "00:00"–"24:00" for a whole day`);
  }
  return { startMinutes, endMinutes: end > startMinutes ? end : end + 1440 };
}

/** Opening order within a day, so a day's hours usually come out sorted without a sort. */
function byOpening(a: ParsedHours, b: ParsedHours): number {
  return a.startMinutes - b.startMinutes;
}

interface ParsedResource {
  resource: AvailabilityResource;
  weekly: ParsedHours[][];
  overrides: Map<LocalDate, ParsedHours[]>;
  bufferBeforeMs: number;
  bufferAfterMs: number;
}

function parseResource(resource: AvailabilityResource): ParsedResource {
  const label = `resource "${resource.id}"`;
  if (typeof resource.id !== "string" || resource.id === "") throw invalidArgument("Every resource needs a non-empty id");
  assertInteger(resource.capacity, `${label} capacity`, 1);
  if (resource.maxBookingsPerDay !== undefined) assertInteger(resource.maxBookingsPerDay, `${label} maxBookingsPerDay`, 0);
  const weekly: ParsedHours[][] = [[], [], [], [], [], [], []];
  for (const entry of resource.weeklyHours) {
    assertInteger(entry.weekday, `${label} weekday`, 0, 6);
    weekly[entry.weekday].push(parseHours(entry, `${label} weekday ${entry.weekday}`));
  }
  for (const hours of weekly) hours.sort(byOpening);
  const overrides = new Map<LocalDate, ParsedHours[]>();
  for (const override of resource.overrides ?? []) {
    parseLocalDate(override.date);
    const hours = override.closed ? [] : override.hours.map((h) => parseHours(h, `${label} override ${override.date}`));
    overrides.set(override.date, hours.sort(byOpening));
  }
  return {
    resource,
    weekly,
    overrides,
    bufferBeforeMs: assertInteger(resource.bufferBeforeMinutes ?? 0, `${label} bufferBeforeMinutes`, 0, 24 * 60) * MINUTE_MS,
    bufferAfterMs: assertInteger(resource.bufferAfterMinutes ?? 0, `${label} bufferAfterMinutes`, 0, 24 * 60) * MINUTE_MS,
  };
}

export function servesRequest(resource: AvailabilityResource, rules: Pick<SlotRules, "zoneId" | "productIds">): boolean {
  return unservedBy(resource, rules) === null;
}

// ---------------------------------------------------------------------------------------
// Days of the query, shared by all resources
// ---------------------------------------------------------------------------------------

/** Local dates firstDate … lastDate + 1 with their instant ranges. */
class DayTable {
  readonly dates: LocalDate[] = [];
  readonly starts: number[] = [];
  readonly ends: number[] = [];
  readonly weekdays: Weekday[] = [];
  private readonly uniform: boolean[] = [];

  constructor(
    readonly firstDate: LocalDate,
    lastDate: LocalDate,
    readonly timeZone: string,
  ) {
    const count = daysBetween(firstDate, lastDate) + 2;
    for (let i = 0; i < count; i++) {
      const date = addDays(firstDate, i);
      const { start, end } = localDayRange(date, timeZone);
      this.dates.push(date);
      this.starts.push(start);
      this.ends.push(end);
      this.weekdays.push(weekdayOf(date));
      this.uniform.push(end - start === 1440 * MINUTE_MS && zoneOffsetMinutes(start, timeZone) === zoneOffsetMinutes(end - 1, timeZone));
    }
  }

  /** Instant of a wall time `minutes` after midnight of day `index` (may roll into later days). */
  wallInstant(index: number, minutes: number): number {
    while (minutes >= 1440 && index + 1 < this.dates.length) {
      index += 1;
      minutes -= 1440;
    }
    if (minutes < 1440 && this.uniform[index]) return this.starts[index] + minutes * MINUTE_MS;
    return localMinutesToInstant(this.dates[index], minutes, this.timeZone);
  }

  /** Index of the day containing `instant`, or -1 outside the table. */
  indexOf(instant: number): number {
    const last = this.starts.length - 1;
    if (instant < this.starts[0] || instant >= this.ends[last]) return -1;
    // Days are 24 hours give or take a DST shift: guess, then step to the right day.
    let index = Math.min(last, Math.floor((instant - this.starts[0]) / DAY_MS));
    while (this.starts[index] > instant) index--;
    while (this.ends[index] <= instant) index++;
    return index;
  }
}

// ---------------------------------------------------------------------------------------
// Per-resource building blocks, on growable typed arrays reused from resource to resource
// (a 90-day query over 50 resources would otherwise allocate tens of thousands of objects)
// ---------------------------------------------------------------------------------------

/** Intervals [start, end) as parallel arrays; `anchor` is the opening instant the slot grid steps from. */
class Spans {
  start: Float64Array;
  end: Float64Array;
  anchor: Float64Array;
  length = 0;

  constructor(capacity = 64) {
    this.start = new Float64Array(capacity);
    this.end = new Float64Array(capacity);
    this.anchor = new Float64Array(capacity);
  }

  push(start: number, end: number, anchor: number): void {
    if (this.length === this.start.length) this.grow();
    this.start[this.length] = start;
    this.end[this.length] = end;
    this.anchor[this.length++] = anchor;
  }

  /** Adds [start, end), merging it into the last interval when they overlap or touch (input sorted by start). */
  pushMerged(start: number, end: number, anchor: number): void {
    const last = this.length - 1;
    if (last >= 0 && start <= this.end[last]) {
      if (end > this.end[last]) this.end[last] = end;
    } else {
      this.push(start, end, anchor);
    }
  }

  private grow(): void {
    const size = this.start.length * 2;
    const start = new Float64Array(size);
    const end = new Float64Array(size);
    const anchor = new Float64Array(size);
    start.set(this.start);
    end.set(this.end);
    anchor.set(this.anchor);
    this.start = start;
    this.end = end;
    this.anchor = anchor;
  }

  /** Whether [start, end) lies inside one of the intervals. */
  contains(start: number, end: number): boolean {
    for (let i = 0; i < this.length; i++) if (this.start[i] <= start && end <= this.end[i]) return true;
    return false;
  }
}

/** Stretches of constant usage > 0, sorted, as parallel arrays. */
class Usage {
  start = new Float64Array(64);
  end = new Float64Array(64);
  used = new Float64Array(64);
  length = 0;

  push(start: number, end: number, used: number): void {
    if (used <= 0 || end <= start) return;
    const last = this.length - 1;
    if (last >= 0 && this.end[last] === start && this.used[last] === used) {
      this.end[last] = end;
      return;
    }
    if (this.length === this.start.length) {
      const grow = (a: Float64Array) => {
        const b = new Float64Array(a.length * 2);
        b.set(a);
        return b;
      };
      this.start = grow(this.start);
      this.end = grow(this.end);
      this.used = grow(this.used);
    }
    this.start[this.length] = start;
    this.end[this.length] = end;
    this.used[this.length++] = used;
  }

  /** Highest usage in [from, to); `cursor` may carry the first index to look at between calls with rising `from`. */
  maxIn(from: number, to: number, cursor = { at: 0 }): number {
    let i = cursor.at;
    while (i < this.length && this.end[i] <= from) i++;
    cursor.at = i;
    let max = 0;
    for (; i < this.length && this.start[i] < to; i++) if (this.used[i] > max) max = this.used[i];
    return max;
  }
}

/** Scratch space of one call, reused by each resource in turn. */
class Scratch {
  readonly raw = new Spans();
  readonly working = new Spans();
  readonly cut = new Spans();
  readonly usage = new Usage();
  readonly forbidden = new Spans();
  blockedStarts = new Float64Array(256);
  blockedEnds = new Float64Array(256);
  spare = new Float64Array(256);

  ensureBlocks(count: number): void {
    if (this.blockedStarts.length >= count) return;
    this.blockedStarts = new Float64Array(count * 2);
    this.blockedEnds = new Float64Array(count * 2);
    this.spare = new Float64Array(count * 2);
  }
}

/**
 * Sorts finite numbers ascending in place. Quicksort with insertion sort for short runs: for
 * the few hundred blocks of one resource this is several times faster than the built-in
 * `Float64Array.prototype.sort`, and already sorted input (blocks read in index order) costs
 * one pass.
 */
function sortNumbers(values: Float64Array, from = 0, to = values.length): void {
  while (to - from > 24) {
    const mid = (from + to) >> 1;
    const a = values[from];
    const b = values[mid];
    const c = values[to - 1];
    const pivot = a < b ? (b < c ? b : a < c ? c : a) : a < c ? a : b < c ? c : b;
    let i = from;
    let j = to - 1;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const t = values[i];
        values[i++] = values[j];
        values[j--] = t;
      }
    }
    // Recurse into the smaller side, loop on the larger: stack depth stays logarithmic.
    if (j + 1 - from < to - i) {
      sortNumbers(values, from, j + 1);
      from = i;
    } else {
      sortNumbers(values, i, to);
      to = j + 1;
    }
  }
  for (let i = from + 1; i < to; i++) {
    const v = values[i];
    let k = i - 1;
    while (k >= from && values[k] > v) {
      values[k + 1] = values[k];
      k--;
    }
    values[k + 1] = v;
  }
}

/**
 * Sorts finite numbers ascending in place, in about linear time for instants spread over a
 * range (bookings over days): one pass when already sorted, else a bucket pass over
 * [min, max] and a short sort per bucket. `spare` is scratch of at least the same length.
 */
function sortInstants(values: Float64Array, spare: Float64Array): void {
  const n = values.length;
  let sorted = true;
  let min = n > 0 ? values[0] : 0;
  let max = min;
  for (let i = 1; i < n; i++) {
    const v = values[i];
    if (v < values[i - 1]) sorted = false;
    if (v < min) min = v;
    else if (v > max) max = v;
  }
  if (sorted) return;
  if (n <= 32 || max === min) {
    sortNumbers(values);
    return;
  }
  const bucketCount = n >> 1;
  const scale = (bucketCount - 1) / (max - min);
  const starts = new Int32Array(bucketCount + 1);
  for (let i = 0; i < n; i++) starts[Math.floor((values[i] - min) * scale) + 1]++;
  for (let b = 0; b < bucketCount; b++) starts[b + 1] += starts[b];
  const next = starts.slice(0, bucketCount);
  for (let i = 0; i < n; i++) spare[next[Math.floor((values[i] - min) * scale)]++] = values[i];
  values.set(spare.subarray(0, n));
  for (let b = 0; b < bucketCount; b++) if (starts[b + 1] - starts[b] > 1) sortNumbers(values, starts[b], starts[b + 1]);
}

/**
 * Working time over the table's days (minus time off unless told), sorted, merged, anchored,
 * into `scratch.working` (or `scratch.cut` with time off taken out). Each day's hours come out
 * in opening order, so the whole list is usually sorted as generated; wall times inside a
 * spring-forward gap can map past later openings, and then the list is sorted.
 */
function workingTime(parsed: ParsedResource, days: DayTable, scratch: Scratch, options: { ignoreTimeOff?: boolean } = {}): Spans {
  const raw = scratch.raw;
  raw.length = 0;
  let sorted = true;
  for (let i = 0; i < days.dates.length - 1; i++) {
    const hours = parsed.overrides.get(days.dates[i]) ?? parsed.weekly[days.weekdays[i]];
    for (const h of hours) {
      const start = days.wallInstant(i, h.startMinutes);
      const end = days.wallInstant(i, h.endMinutes);
      if (end <= start) continue;
      if (raw.length > 0 && start < raw.start[raw.length - 1]) sorted = false;
      raw.push(start, end, start);
    }
  }
  const working = scratch.working;
  working.length = 0;
  if (sorted) {
    for (let i = 0; i < raw.length; i++) working.pushMerged(raw.start[i], raw.end[i], raw.start[i]);
  } else {
    const order = Array.from({ length: raw.length }, (_, i) => i).sort((a, b) => raw.start[a] - raw.start[b] || raw.end[a] - raw.end[b]);
    for (const i of order) working.pushMerged(raw.start[i], raw.end[i], raw.start[i]);
  }
  const timeOff = options.ignoreTimeOff ? [] : mergeIntervals(parsed.resource.timeOff ?? []);
  if (timeOff.length === 0) return working;
  return subtractKeepingAnchor(working, timeOff, scratch.cut);
}

/** `base` minus sorted merged `cuts`, each remaining piece keeping its interval's anchor, into `out`. */
function subtractKeepingAnchor(base: Spans, cuts: readonly Interval[], out: Spans): Spans {
  out.length = 0;
  let c = 0;
  for (let i = 0; i < base.length; i++) {
    const end = base.end[i];
    const anchor = base.anchor[i];
    let cursor = base.start[i];
    while (c < cuts.length && cuts[c].end <= cursor) c++;
    for (let k = c; k < cuts.length && cuts[k].start < end; k++) {
      if (cuts[k].start > cursor) out.push(cursor, cuts[k].start, anchor);
      if (cuts[k].end > cursor) cursor = cuts[k].end;
      if (cursor >= end) break;
    }
    if (cursor < end) out.push(cursor, end, anchor);
  }
  return out;
}

/** The resource's busy blocks (bookings and holds, buffers included) swept into usage, in `scratch.usage`. */
function usageOf(resource: AvailabilityResource, scratch: Scratch): Usage {
  const busy = resource.busy ?? [];
  const usage = scratch.usage;
  usage.length = 0;
  if (busy.length === 0) return usage;
  // One pass over the blocks validates them and lays out their blocked ranges for the common
  // case (every block one unit): starts and ends sorted apart (they usually arrive sorted,
  // read in index order) and swept without event objects.
  scratch.ensureBlocks(busy.length);
  let allSingleUnit = true;
  let n = 0;
  for (let i = 0; i < busy.length; i++) {
    const b = busy[i];
    if (!Number.isFinite(b.start) || !Number.isFinite(b.end) || b.end < b.start) {
      throw invalidArgument(`resource "${resource.id}" busy[${i}] must have finite start ≤ end`);
    }
    const units = b.units ?? 1;
    if (units !== 1) {
      if (!Number.isInteger(units) || units < 0) throw invalidArgument(`resource "${resource.id}" busy[${i}].units must be a non-negative integer`);
      allSingleUnit = false;
    }
    const start = blockedStart(b);
    const end = blockedEnd(b);
    if (end <= start) continue;
    scratch.blockedStarts[n] = start;
    scratch.blockedEnds[n++] = end;
  }
  if (!allSingleUnit) {
    const blocks = busy.map((b) => ({ start: blockedStart(b), end: blockedEnd(b), units: b.units ?? 1 }));
    for (const segment of capacitySweep(blocks)) usage.push(segment.start, segment.end, segment.used);
    return usage;
  }
  const starts = scratch.blockedStarts.subarray(0, n);
  const ends = scratch.blockedEnds.subarray(0, n);
  sortInstants(starts, scratch.spare);
  sortInstants(ends, scratch.spare);
  let i = 0;
  let j = 0;
  let used = 0;
  while (j < n) {
    const at = i < n && starts[i] < ends[j] ? starts[i] : ends[j];
    while (i < n && starts[i] === at) {
      used++;
      i++;
    }
    while (j < n && ends[j] === at) {
      used--;
      j++;
    }
    if (j === n) break;
    usage.push(at, i < n && starts[i] < ends[j] ? starts[i] : ends[j], used);
  }
  return usage;
}

function blockedStart(b: BusyBlock): number {
  return b.start - (b.bufferBeforeMinutes ?? 0) * MINUTE_MS;
}

function blockedEnd(b: BusyBlock): number {
  return b.end + (b.bufferAfterMinutes ?? 0) * MINUTE_MS;
}

/** Indexes of the table's days on which the resource is at its per-day limit, ascending. */
function fullDays(resource: AvailabilityResource, days: DayTable): number[] {
  const limit = resource.maxBookingsPerDay;
  if (limit === undefined) return [];
  const counts = new Int32Array(days.dates.length);
  for (const block of resource.busy ?? []) {
    if (block.countsTowardDailyLimit === false) continue;
    const index = days.indexOf(block.start);
    if (index >= 0) counts[index] += 1;
  }
  const result: number[] = [];
  for (let i = 0; i < counts.length; i++) if (counts[i] >= limit) result.push(i);
  return result;
}

/**
 * Starts that cannot be offered, as sorted merged half-open intervals of start instants, into
 * `scratch.forbidden`: those whose blocked range [s − before, s + span + after) would push
 * usage above `limit`, and those on a full day.
 */
function forbiddenStarts(usage: Usage, limit: number, spanMs: number, beforeMs: number, afterMs: number, full: readonly number[], days: DayTable, scratch: Scratch): Spans {
  const forbidden = scratch.forbidden;
  forbidden.length = 0;
  let d = 0;
  for (let i = 0; i < usage.length; i++) {
    if (usage.used[i] <= limit) continue;
    const start = usage.start[i] - spanMs - afterMs + 1;
    for (; d < full.length && days.starts[full[d]] <= start; d++) forbidden.pushMerged(days.starts[full[d]], days.ends[full[d]], 0);
    forbidden.pushMerged(start, usage.end[i] + beforeMs, 0);
  }
  for (; d < full.length; d++) forbidden.pushMerged(days.starts[full[d]], days.ends[full[d]], 0);
  return forbidden;
}

/**
 * Gathers per-resource starts into slots. Starts on the step grid counted from the first
 * possible start (the usual case, DST shifts included) are counted by grid index in typed
 * arrays, and their slots are built once at the end with their resource lists at full size;
 * any other start (hours opening off the grid) goes to a map.
 */
class SlotCollector {
  private readonly size: number;
  /** Per grid index, as differences (a run adds at its first index and takes away at its end). */
  private readonly countDelta: Int32Array;
  private readonly remainingDelta: Float64Array;
  /** Per grid index, remaining capacity that varies from start to start. */
  private readonly remaining: Float64Array;
  /** Grid runs as (resource index, first grid index, end grid index) triples, in resource order. */
  private runs = new Int32Array(3 * 1024);
  private runCount = 0;
  private readonly offGrid = new Map<number, Slot>();

  constructor(
    private readonly origin: number,
    max: number,
    private readonly stepMs: number,
    private readonly spanMs: number,
    private readonly windowMs: number,
  ) {
    this.size = Math.ceil((max - origin) / stepMs) + 1;
    this.countDelta = new Int32Array(this.size + 1);
    this.remainingDelta = new Float64Array(this.size + 1);
    this.remaining = new Float64Array(this.size);
  }

  /** Adds resource `resourceIndex` to every start first, first + step, … before `end`. */
  addRun(first: number, end: number, resourceIndex: number, resourceId: string, remaining: number | ((start: number) => number)): void {
    const firstIndex = (first - this.origin) / this.stepMs;
    if (Number.isInteger(firstIndex) && firstIndex >= 0) {
      const endIndex = Math.min(this.size, firstIndex + Math.ceil((end - first) / this.stepMs));
      if (endIndex <= firstIndex) return;
      this.countDelta[firstIndex]++;
      this.countDelta[endIndex]--;
      if (typeof remaining === "number") {
        this.remainingDelta[firstIndex] += remaining;
        this.remainingDelta[endIndex] -= remaining;
      } else {
        for (let i = firstIndex, start = first; i < endIndex; i++, start += this.stepMs) this.remaining[i] += remaining(start);
      }
      this.recordRun(resourceIndex, firstIndex, endIndex);
      return;
    }
    for (let start = first; start < end; start += this.stepMs) {
      let slot = this.offGrid.get(start);
      if (slot === undefined) this.offGrid.set(start, (slot = this.newSlot(start, [])));
      slot.availableResourceIds.push(resourceId);
      slot.remainingCapacity += typeof remaining === "number" ? remaining : remaining(start);
    }
  }

  private recordRun(resourceIndex: number, firstIndex: number, endIndex: number): void {
    if (3 * this.runCount === this.runs.length) {
      const grown = new Int32Array(this.runs.length * 2);
      grown.set(this.runs);
      this.runs = grown;
    }
    const at = 3 * this.runCount++;
    this.runs[at] = resourceIndex;
    this.runs[at + 1] = firstIndex;
    this.runs[at + 2] = endIndex;
  }

  private newSlot(start: number, availableResourceIds: string[]): Slot {
    const slot: Slot = { start, end: start + this.spanMs, availableResourceIds, remainingCapacity: 0 };
    if (this.windowMs > 0) slot.arrivalWindowEnd = start + this.windowMs;
    return slot;
  }

  /** The slots in start order; `resourceIds[i]` names resource index i. */
  sorted(resourceIds: readonly string[]): Slot[] {
    const offsets = this.prefixSums();
    // Each grid index's resources in resource order, laid out by counting sort, then each
    // slot's list built in one sequential pass.
    const members = new Int32Array(offsets[this.size]);
    const filled = offsets.slice(0, this.size);
    for (let r = 0; r < this.runCount; r++) {
      const resourceIndex = this.runs[3 * r];
      for (let i = this.runs[3 * r + 1], end = this.runs[3 * r + 2]; i < end; i++) members[filled[i]++] = resourceIndex;
    }
    const slots: Slot[] = [];
    for (let i = 0; i < this.size; i++) {
      if (offsets[i + 1] === offsets[i]) continue;
      const ids: string[] = [];
      for (let k = offsets[i]; k < offsets[i + 1]; k++) ids.push(resourceIds[members[k]]);
      const slot = this.newSlot(this.origin + i * this.stepMs, ids);
      slot.remainingCapacity = this.remaining[i];
      slots.push(slot);
    }
    if (this.offGrid.size === 0) return slots;
    return [...slots, ...this.offGrid.values()].sort((a, b) => a.start - b.start);
  }

  /** The slots in start order without their resource lists. */
  times(): SlotTime[] {
    const offsets = this.prefixSums();
    const slots: SlotTime[] = [];
    for (let i = 0; i < this.size; i++) {
      if (offsets[i + 1] === offsets[i]) continue;
      slots.push(this.newTime(this.origin + i * this.stepMs, this.remaining[i]));
    }
    if (this.offGrid.size === 0) return slots;
    for (const slot of this.offGrid.values()) slots.push(this.newTime(slot.start, slot.remainingCapacity));
    return slots.sort((a, b) => a.start - b.start);
  }

  private newTime(start: number, remainingCapacity: number): SlotTime {
    const slot: SlotTime = { start, end: start + this.spanMs, remainingCapacity };
    if (this.windowMs > 0) slot.arrivalWindowEnd = start + this.windowMs;
    return slot;
  }

  /**
   * Adds up the differences (once): per grid index, `remaining` gets its constant part and
   * offsets[i + 1] − offsets[i] is the number of resources offering start i.
   */
  private prefixSums(): Int32Array {
    const offsets = new Int32Array(this.size + 1);
    let count = 0;
    let constantRemaining = 0;
    for (let i = 0; i < this.size; i++) {
      count += this.countDelta[i];
      constantRemaining += this.remainingDelta[i];
      offsets[i + 1] = offsets[i] + count;
      this.remaining[i] += constantRemaining;
    }
    return offsets;
  }
}

/**
 * Calls `run(first, end)` for each stretch of grid starts s (anchor + k × step) whose
 * [s, s + span) stays inside one working interval, with s in [min, max) and not forbidden.
 */
function collectStarts(working: Spans, forbidden: Spans, min: number, max: number, spanMs: number, stepMs: number, run: (first: number, end: number) => void): void {
  let f = 0;
  for (let w = 0; w < working.length; w++) {
    const lo = Math.max(working.start[w], min);
    const hi = Math.min(working.end[w] - spanMs + 1, max);
    if (hi <= lo) continue;
    const anchor = working.anchor[w];
    let cursor = lo;
    while (f < forbidden.length && forbidden.end[f] <= cursor) f++;
    for (let k = f; k < forbidden.length && forbidden.start[k] < hi; k++) {
      if (forbidden.start[k] > cursor) {
        const first = anchor + Math.ceil((cursor - anchor) / stepMs) * stepMs;
        if (first < forbidden.start[k]) run(first, forbidden.start[k]);
      }
      if (forbidden.end[k] > cursor) cursor = forbidden.end[k];
      if (cursor >= hi) break;
    }
    if (cursor < hi) {
      const first = anchor + Math.ceil((cursor - anchor) / stepMs) * stepMs;
      if (first < hi) run(first, hi);
    }
  }
}

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

/** Every bookable start in the range, with the resources that can take it and their remaining capacity. */
export function generateSlots(query: AvailabilityQuery): Slot[] {
  const collected = collectSlots(query);
  return collected === null ? [] : collected.collector.sorted(collected.resourceIds);
}

/**
 * `generateSlots` without the resource lists: what a customer's slot picker shows (start,
 * end, arrival window, remaining capacity), at less cost.
 */
export function generateSlotTimes(query: AvailabilityQuery): SlotTime[] {
  return collectSlots(query)?.collector.times() ?? [];
}

/** Validates the query and gathers every resource's starts; null when the range has none. */
function collectSlots(query: AvailabilityQuery): { collector: SlotCollector; resourceIds: string[] } | null {
  const rules = normalizeRules(query);
  parseLocalDate(query.fromDate);
  parseLocalDate(query.toDate);
  const rangeDays = daysBetween(query.fromDate, query.toDate) + 1;
  if (rangeDays < 1) throw invalidArgument(`toDate (${query.toDate}) is before fromDate (${query.fromDate})`);
  if (rangeDays > MAX_RANGE_DAYS) throw invalidArgument(`A date range can span at most ${MAX_RANGE_DAYS} days, got ${rangeDays}`);
  const stepMs = assertInteger(query.stepMinutes, "stepMinutes", 1, 24 * 60) * MINUTE_MS;
  if (!Array.isArray(query.resources)) throw invalidArgument("resources must be an array");

  // One day before the range: hours crossing midnight can open slots on fromDate. Days after
  // it, as many as a booking can last: a slot starting on toDate may run into their hours
  // (as checkSlot sees it), so the last day of a page offers what a longer range would.
  const daysAfter = Math.ceil(rules.spanMs / DAY_MS);
  const days = new DayTable(addDays(query.fromDate, -1), addDays(query.toDate, daysAfter), rules.timeZone);
  const rangeStart = days.starts[1];
  const rangeEnd = days.ends[rangeDays];
  const min = Math.max(rangeStart, rules.earliestStart);
  const max = Math.min(rangeEnd, rules.horizonEnd);
  if (max <= min) return null;
  const collector = new SlotCollector(rangeStart, max, stepMs, rules.spanMs, rules.windowMs);
  const scratch = new Scratch();

  const seenIds = new Set<string>();
  const resourceIds: string[] = [];
  for (const resource of query.resources) {
    const parsed = parseResource(resource);
    if (seenIds.has(resource.id)) throw invalidArgument(`Resource "${resource.id}" is listed twice`);
    seenIds.add(resource.id);
    if (!servesRequest(resource, query) || resource.capacity < rules.units) continue;
    const resourceIndex = resourceIds.push(resource.id) - 1;

    const usage = usageOf(resource, scratch);
    const working = workingTime(parsed, days, scratch);
    const limit = resource.capacity - rules.units;
    const forbidden = forbiddenStarts(usage, limit, rules.spanMs, parsed.bufferBeforeMs, parsed.bufferAfterMs, fullDays(resource, days), days, scratch);
    const cursor = { at: 0 };
    const remaining =
      limit === 0
        ? rules.units
        : (start: number) => resource.capacity - usage.maxIn(start - parsed.bufferBeforeMs, start + rules.spanMs + parsed.bufferAfterMs, cursor);
    collectStarts(working, forbidden, min, max, rules.spanMs, stepMs, (first, end) => collector.addRun(first, end, resourceIndex, resource.id, remaining));
  }
  return { collector, resourceIds };
}

/**
 * Whether `start` is bookable on one resource right now (re-checked inside the booking
 * transaction). Does not require `start` to be on the slot grid. To re-check a reschedule,
 * leave the booking being moved out of `resource.busy`.
 */
export function checkSlot(input: SlotCheckInput): SlotCheck {
  const rules = normalizeRules(input);
  const { resource, start } = input;
  if (!Number.isFinite(start)) throw invalidArgument(`start must be an instant in ms, got ${start}`);
  const parsed = parseResource(resource);
  const fail = (code: SlotUnavailableCode, refusal: SlotRefusal): SlotCheck => ({
    ok: false,
    code,
    reason: describeRefusal(refusal, { timeZone: rules.timeZone }),
    refusal,
  });

  const unserved = unservedBy(resource, input);
  if (unserved !== null) return fail("NOT_ELIGIBLE", unserved);
  if (resource.capacity < rules.units) {
    return fail("INSUFFICIENT_CAPACITY", { kind: "capacity", capacity: resource.capacity, needed: rules.units });
  }
  if (start < rules.now) return fail("IN_THE_PAST", { kind: "past" });
  if (start < rules.earliestStart) return fail("BEFORE_MINIMUM_NOTICE", { kind: "notice", minutes: input.minimumNoticeMinutes ?? 0 });
  if (start >= rules.horizonEnd) return fail("BEYOND_HORIZON", { kind: "horizon", days: input.bookingHorizonDays ?? 0 });

  const end = start + rules.spanMs;
  const firstDate = addDays(localDateOf(start, rules.timeZone), -1);
  const days = new DayTable(firstDate, localDateOf(end, rules.timeZone), rules.timeZone);
  const scratch = new Scratch();
  if (!workingTime(parsed, days, scratch).contains(start, end)) {
    const fitsWithoutTimeOff = workingTime(parsed, days, scratch, { ignoreTimeOff: true }).contains(start, end);
    return fail("OUTSIDE_WORKING_HOURS", outsideWorking(parsed, days, start, end, fitsWithoutTimeOff));
  }
  if (fullDays(resource, days).some((d) => days.starts[d] <= start && start < days.ends[d])) {
    return fail("DAILY_LIMIT_REACHED", { kind: "daily_limit", limit: resource.maxBookingsPerDay ?? 0 });
  }
  const used = usageOf(resource, scratch).maxIn(start - parsed.bufferBeforeMs, end + parsed.bufferAfterMs);
  const remaining = resource.capacity - used;
  if (remaining < rules.units) return fail("CONFLICT", { kind: "busy", ...clashExtent(parsed, start, rules.spanMs) });
  const result: SlotCheck = { ok: true, end, remainingCapacity: remaining };
  if (rules.windowMs > 0) result.arrivalWindowEnd = start + rules.windowMs;
  return result;
}

/** Which part of a request the resource does not serve, or null when it serves all of it. */
function unservedBy(resource: AvailabilityResource, rules: Pick<SlotRules, "zoneId" | "productIds">): SlotRefusal | null {
  if (rules.zoneId !== undefined && resource.zoneIds && !resource.zoneIds.includes(rules.zoneId)) return { kind: "zone" };
  if (rules.productIds && resource.productIds) {
    const served = resource.productIds;
    const missing = rules.productIds.filter((p) => !served.includes(p));
    if (missing.length > 0) return { kind: "products", productIds: missing };
  }
  return null;
}

/** Why [start, end) is not inside working time: time off, a day without hours, or other hours. */
function outsideWorking(parsed: ParsedResource, days: DayTable, start: number, end: number, fitsWithoutTimeOff: boolean): SlotRefusal {
  if (fitsWithoutTimeOff) {
    const off = mergeIntervals(parsed.resource.timeOff ?? []).find((t) => t.start < end && start < t.end)!;
    return { kind: "time_off", start: off.start, end: off.end };
  }
  const index = days.indexOf(start);
  const date = days.dates[index];
  const override = parsed.resource.overrides?.find((o) => o.date === date);
  const hours: HoursInterval[] = override
    ? override.closed
      ? []
      : override.hours.map((h) => ({ start: h.start, end: h.end }))
    : parsed.resource.weeklyHours.filter((h) => h.weekday === days.weekdays[index]).map((h) => ({ start: h.start, end: h.end }));
  if (hours.length === 0) return { kind: "day_off", date, weekday: days.weekdays[index], override: override !== undefined };
  return { kind: "outside_hours", date, hours, override: override !== undefined };
}

/** The extent of the busy blocks whose blocked time meets the candidate's blocked range. */
function clashExtent(parsed: ParsedResource, start: number, spanMs: number): Interval {
  const from = start - parsed.bufferBeforeMs;
  const to = start + spanMs + parsed.bufferAfterMs;
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (const b of parsed.resource.busy ?? []) {
    const blockedStart = b.start - (b.bufferBeforeMinutes ?? 0) * MINUTE_MS;
    const blockedEnd = b.end + (b.bufferAfterMinutes ?? 0) * MINUTE_MS;
    if (blockedStart < to && from < blockedEnd && (b.units ?? 1) > 0) {
      lo = Math.min(lo, b.start);
      hi = Math.max(hi, b.end);
    }
  }
  return Number.isFinite(lo) ? { start: lo, end: hi } : { start, end: start + spanMs };
}

const WEEKDAY_NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"] as const;

function wallTime(instant: number, timeZone: string): string {
  return instantToLocal(instant, timeZone).time;
}

/**
 * A refusal in a few plain words for a person ("not working Wednesday", "busy 10:00–12:30",
 * "does not do Deep clean"). Never contains an id: products are named by `productName`, or
 * generically when no name is known.
 */
export function describeRefusal(
  refusal: SlotRefusal,
  context: { timeZone: string; productName?: (productId: string) => string | undefined },
): string {
  switch (refusal.kind) {
    case "zone":
      return "does not serve this zone";
    case "products": {
      const names = refusal.productIds.map((id) => context.productName?.(id)).filter((n): n is string => n !== undefined);
      return names.length === refusal.productIds.length ? `does not do ${names.join(", ")}` : "does not do these services";
    }
    case "capacity":
      return `has room for ${refusal.capacity}; the booking needs ${refusal.needed}`;
    case "past":
      return "that time has already passed";
    case "notice":
      return `bookings need ${refusal.minutes} minutes' notice`;
    case "horizon":
      return `bookings open at most ${refusal.days} days ahead`;
    case "day_off":
      return refusal.override ? `not working ${WEEKDAY_NAMES[refusal.weekday]} (changed hours)` : `not working ${WEEKDAY_NAMES[refusal.weekday]}`;
    case "time_off":
      return "time off";
    case "outside_hours": {
      const hours = refusal.hours.map((h) => `${h.start}–${h.end}`).join(", ");
      return refusal.override ? `outside the changed hours ${hours} that day` : `outside working hours ${hours}`;
    }
    case "daily_limit":
      return `already has the most jobs allowed that day (${refusal.limit})`;
    case "unreadable_schedule":
      return "its schedule cannot be read: check its hours";
    case "busy":
      return `busy ${wallTime(refusal.start, context.timeZone)}–${wallTime(refusal.end, context.timeZone)}`;
  }
}

export function isSlotAvailable(input: SlotCheckInput): boolean {
  return checkSlot(input).ok;
}

/** Slots grouped by the local date of their start, dates in order (for date pickers). */
export function groupSlotsByLocalDate(slots: readonly Slot[], timeZone: string): Array<{ date: LocalDate; slots: Slot[] }> {
  assertTimeZone(timeZone);
  const groups: Array<{ date: LocalDate; slots: Slot[] }> = [];
  let dayEnd = Number.NEGATIVE_INFINITY;
  for (const slot of [...slots].sort((a, b) => a.start - b.start)) {
    if (slot.start >= dayEnd) {
      const date = localDateOf(slot.start, timeZone);
      dayEnd = localDayRange(date, timeZone).end;
      groups.push({ date, slots: [] });
    }
    groups[groups.length - 1].slots.push(slot);
  }
  return groups;
}
