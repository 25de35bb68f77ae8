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
 *   [fromDate, toDate].
 *
 * Cost: per resource, O(days × hours entries + busy log busy + slots); no slot is compared
 * with every booking.
 */
import { assertInteger, invalidArgument } from "./errors";
import { type Interval, type UsageSegment, capacitySweep, maxUsageIn, mergeIntervals, sweepUnitIntervals } from "./intervals";
import {
  type LocalDate,
  type LocalTime,
  type Weekday,
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

function parseHours(hours: HoursInterval, label: string): ParsedHours {
  const startMinutes = parseLocalTime(hours.start);
  const end = parseLocalTime(hours.end, { allowEndOfDay: true });
  if (end === startMinutes) {
    throw invalidArgument(`${label}: hours ${hours.start}–${hours.end} are empty; use "00:00"–"24:00" for a whole day`);
  }
  return { startMinutes, endMinutes: end > startMinutes ? end : end + 1440 };
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
  const overrides = new Map<LocalDate, ParsedHours[]>();
  for (const override of resource.overrides ?? []) {
    parseLocalDate(override.date);
    overrides.set(override.date, override.closed ? [] : override.hours.map((h) => parseHours(h, `${label} override ${override.date}`)));
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
    let lo = 0;
    let hi = this.starts.length - 1;
    if (instant < this.starts[0] || instant >= this.ends[hi]) return -1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= instant) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }
}

// ---------------------------------------------------------------------------------------
// Per-resource building blocks
// ---------------------------------------------------------------------------------------

interface AnchoredInterval extends Interval {
  /** Opening instant the slot grid steps from. */
  anchor: number;
}

/** Working time over the table's days (minus time off unless told), sorted, merged, anchored. */
function workingIntervals(parsed: ParsedResource, days: DayTable, options: { ignoreTimeOff?: boolean } = {}): AnchoredInterval[] {
  const raw: AnchoredInterval[] = [];
  for (let i = 0; i < days.dates.length - 1; i++) {
    const hours = parsed.overrides.get(days.dates[i]) ?? parsed.weekly[days.weekdays[i]];
    for (const h of hours) {
      const start = days.wallInstant(i, h.startMinutes);
      const end = days.wallInstant(i, h.endMinutes);
      if (end > start) raw.push({ start, end, anchor: start });
    }
  }
  raw.sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: AnchoredInterval[] = [];
  for (const interval of raw) {
    const last = merged[merged.length - 1];
    if (last && interval.start <= last.end) {
      if (interval.end > last.end) last.end = interval.end;
    } else {
      merged.push({ ...interval });
    }
  }
  const timeOff = options.ignoreTimeOff ? [] : mergeIntervals(parsed.resource.timeOff ?? []);
  return timeOff.length === 0 ? merged : subtractKeepingAnchor(merged, timeOff);
}

function subtractKeepingAnchor(base: readonly AnchoredInterval[], cuts: readonly Interval[]): AnchoredInterval[] {
  const result: AnchoredInterval[] = [];
  let c = 0;
  for (const interval of base) {
    let cursor = interval.start;
    while (c < cuts.length && cuts[c].end <= cursor) c++;
    for (let k = c; k < cuts.length && cuts[k].start < interval.end; k++) {
      if (cuts[k].start > cursor) result.push({ start: cursor, end: cuts[k].start, anchor: interval.anchor });
      if (cuts[k].end > cursor) cursor = cuts[k].end;
      if (cursor >= interval.end) break;
    }
    if (cursor < interval.end) result.push({ start: cursor, end: interval.end, anchor: interval.anchor });
  }
  return result;
}

function usageSegments(resource: AvailabilityResource): UsageSegment[] {
  const busy = resource.busy ?? [];
  let allSingleUnit = true;
  for (let i = 0; i < busy.length; i++) {
    const b = busy[i];
    if (!Number.isFinite(b.start) || !Number.isFinite(b.end) || b.end < b.start) {
      throw invalidArgument(`resource "${resource.id}" busy[${i}] must have finite start ≤ end`);
    }
    const units = b.units ?? 1;
    if (!Number.isInteger(units) || units < 0) throw invalidArgument(`resource "${resource.id}" busy[${i}].units must be a non-negative integer`);
    if (units !== 1) allSingleUnit = false;
  }
  const blockedStart = (b: BusyBlock) => b.start - (b.bufferBeforeMinutes ?? 0) * MINUTE_MS;
  const blockedEnd = (b: BusyBlock) => b.end + (b.bufferAfterMinutes ?? 0) * MINUTE_MS;
  if (allSingleUnit) {
    // The common case: typed arrays, native numeric sort, no per-block objects.
    const starts = new Float64Array(busy.length);
    const ends = new Float64Array(busy.length);
    let n = 0;
    for (const b of busy) {
      const start = blockedStart(b);
      const end = blockedEnd(b);
      if (end <= start) continue;
      starts[n] = start;
      ends[n++] = end;
    }
    return sweepUnitIntervals(starts.subarray(0, n).sort(), ends.subarray(0, n).sort());
  }
  return capacitySweep(busy.map((b) => ({ start: blockedStart(b), end: blockedEnd(b), units: b.units ?? 1 })));
}

/** Local days (as instant ranges within the table) on which the resource is at its limit. */
function fullDays(resource: AvailabilityResource, days: DayTable): Interval[] {
  const limit = resource.maxBookingsPerDay;
  if (limit === undefined) return [];
  const counts = new Array<number>(days.dates.length).fill(0);
  for (const block of resource.busy ?? []) {
    if (block.countsTowardDailyLimit === false) continue;
    const index = days.indexOf(block.start);
    if (index >= 0) counts[index] += 1;
  }
  const result: Interval[] = [];
  counts.forEach((count, i) => {
    if (count >= limit) result.push({ start: days.starts[i], end: days.ends[i] });
  });
  return result;
}

/**
 * Starts whose blocked range [s − before, s + span + after) would push usage above
 * `limit`, as sorted merged half-open intervals of start instants.
 */
function conflictingStarts(segments: readonly UsageSegment[], limit: number, spanMs: number, beforeMs: number, afterMs: number): Interval[] {
  const forbidden: Interval[] = [];
  for (const segment of segments) {
    if (segment.used <= limit) continue;
    const start = segment.start - spanMs - afterMs + 1;
    const end = segment.end + beforeMs;
    const last = forbidden[forbidden.length - 1];
    if (last && start <= last.end) {
      if (end > last.end) last.end = end;
    } else {
      forbidden.push({ start, end });
    }
  }
  return forbidden;
}

/** Anchored start ranges [lo, hi) for which [s, s + span) stays inside working time and within [min, max). */
function startRanges(working: readonly AnchoredInterval[], spanMs: number, min: number, max: number): AnchoredInterval[] {
  const result: AnchoredInterval[] = [];
  for (const w of working) {
    const start = Math.max(w.start, min);
    const end = Math.min(w.end - spanMs + 1, max);
    if (end > start) result.push({ start, end, anchor: w.anchor });
  }
  return result;
}

function remainingFor(parsed: ParsedResource, segments: readonly UsageSegment[], start: number, spanMs: number): number {
  if (segments.length === 0) return parsed.resource.capacity;
  const used = maxUsageIn(segments, { start: start - parsed.bufferBeforeMs, end: start + spanMs + parsed.bufferAfterMs });
  return parsed.resource.capacity - used;
}

/**
 * Gathers per-resource starts into slots. Starts on the step grid counted from the first
 * possible start (the usual case, DST shifts included) go to an array by grid index; any
 * other start (hours opening off the grid) goes to a map.
 */
class SlotCollector {
  private readonly onGrid: (Slot | undefined)[];
  private readonly offGrid = new Map<number, Slot>();

  constructor(
    private readonly origin: number,
    max: number,
    private readonly stepMs: number,
    private readonly spanMs: number,
    private readonly windowMs: number,
  ) {
    this.onGrid = new Array<Slot | undefined>(Math.ceil((max - origin) / stepMs) + 1).fill(undefined);
  }

  /** Adds the resource to every start first, first + step, … before `end`. */
  addRun(first: number, end: number, resourceId: string, remaining: number | ((start: number) => number)): void {
    const firstIndex = (first - this.origin) / this.stepMs;
    const onGrid = Number.isInteger(firstIndex) && firstIndex >= 0;
    let index = firstIndex;
    for (let start = first; start < end; start += this.stepMs, index++) {
      let slot: Slot | undefined;
      if (onGrid && index < this.onGrid.length) {
        slot = this.onGrid[index];
        if (slot === undefined) this.onGrid[index] = slot = this.newSlot(start);
      } else {
        slot = this.offGrid.get(start);
        if (slot === undefined) this.offGrid.set(start, (slot = this.newSlot(start)));
      }
      slot.availableResourceIds.push(resourceId);
      slot.remainingCapacity += typeof remaining === "number" ? remaining : remaining(start);
    }
  }

  private newSlot(start: number): Slot {
    const slot: Slot = { start, end: start + this.spanMs, availableResourceIds: [], remainingCapacity: 0 };
    if (this.windowMs > 0) slot.arrivalWindowEnd = start + this.windowMs;
    return slot;
  }

  sorted(): Slot[] {
    const slots = this.onGrid.filter((slot): slot is Slot => slot !== undefined);
    if (this.offGrid.size === 0) return slots;
    return [...slots, ...this.offGrid.values()].sort((a, b) => a.start - b.start);
  }
}

// ---------------------------------------------------------------------------------------
// Public API
// ---------------------------------------------------------------------------------------

export function generateSlots(query: AvailabilityQuery): Slot[] {
  const rules = normalizeRules(query);
  parseLocalDate(query.fromDate);
  parseLocalDate(query.toDate);
  const rangeDays = daysBetween(query.fromDate, query.toDate) + 1;
  if (rangeDays < 1) throw invalidArgument(`toDate (${query.toDate}) is before fromDate (${query.fromDate})`);
  if (rangeDays > MAX_RANGE_DAYS) throw invalidArgument(`A date range can span at most ${MAX_RANGE_DAYS} days, got ${rangeDays}`);
  const stepMs = assertInteger(query.stepMinutes, "stepMinutes", 1, 24 * 60) * MINUTE_MS;
  if (!Array.isArray(query.resources)) throw invalidArgument("resources must be an array");

  // One day before the range: hours crossing midnight can open slots on fromDate.
  const days = new DayTable(addDays(query.fromDate, -1), query.toDate, rules.timeZone);
  const rangeStart = days.starts[1];
  const rangeEnd = days.ends[days.dates.length - 2];
  const min = Math.max(rangeStart, rules.earliestStart);
  const max = Math.min(rangeEnd, rules.horizonEnd);
  if (max <= min) return [];
  const collector = new SlotCollector(rangeStart, max, stepMs, rules.spanMs, rules.windowMs);

  const seenIds = new Set<string>();
  for (const resource of query.resources) {
    const parsed = parseResource(resource);
    if (seenIds.has(resource.id)) throw invalidArgument(`Resource "${resource.id}" is listed twice`);
    seenIds.add(resource.id);
    if (!servesRequest(resource, query) || resource.capacity < rules.units) continue;

    const segments = usageSegments(resource);
    const limit = resource.capacity - rules.units;
    const blocked = mergeIntervals([
      ...conflictingStarts(segments, limit, rules.spanMs, parsed.bufferBeforeMs, parsed.bufferAfterMs),
      ...fullDays(resource, days),
    ]);
    const ranges = subtractKeepingAnchor(startRanges(workingIntervals(parsed, days), rules.spanMs, min, max), blocked);
    const remaining = limit === 0 ? rules.units : (start: number) => remainingFor(parsed, segments, start, rules.spanMs);
    for (const range of ranges) {
      const first = range.anchor + Math.ceil((range.start - range.anchor) / stepMs) * stepMs;
      collector.addRun(first, range.end, resource.id, remaining);
    }
  }
  return collector.sorted();
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
  const inside = (intervals: readonly Interval[]) => intervals.some((w) => w.start <= start && end <= w.end);
  if (!inside(workingIntervals(parsed, days))) {
    return fail("OUTSIDE_WORKING_HOURS", outsideWorking(parsed, days, start, end, inside(workingIntervals(parsed, days, { ignoreTimeOff: true }))));
  }
  if (fullDays(resource, days).some((d) => d.start <= start && start < d.end)) {
    return fail("DAILY_LIMIT_REACHED", { kind: "daily_limit", limit: resource.maxBookingsPerDay ?? 0 });
  }
  const remaining = remainingFor(parsed, usageSegments(resource), start, rules.spanMs);
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
