/**
 * Half-open instant intervals [start, end) in epoch milliseconds.
 * Touching intervals ([9:00, 10:00) and [10:00, 11:00)) do NOT overlap.
 * Functions named `…Sorted` expect input sorted by start and merged (as `mergeIntervals`
 * returns) and run in linear time.
 */
import { invalidArgument } from "./errors";

export interface Interval {
  start: number;
  end: number;
}

/** An interval that occupies some units of a resource's capacity. */
export interface CapacityInterval extends Interval {
  units: number;
}

/** A stretch of time with constant usage, as produced by `capacitySweep`. */
export interface UsageSegment extends Interval {
  used: number;
}

export function assertInterval(interval: Interval, label = "interval"): Interval {
  if (!Number.isFinite(interval?.start) || !Number.isFinite(interval?.end)) {
    throw invalidArgument(`${label} needs finite start and end, got ${JSON.stringify(interval)}`);
  }
  if (interval.end < interval.start) {
    throw invalidArgument(`${label} ends (${interval.end}) before it starts (${interval.start})`);
  }
  return interval;
}

export function isEmptyInterval(interval: Interval): boolean {
  return interval.end <= interval.start;
}

/** True when the two share at least one instant; touching ends are not an overlap. */
export function overlaps(a: Interval, b: Interval): boolean {
  return a.start < b.end && b.start < a.end && !isEmptyInterval(a) && !isEmptyInterval(b);
}

export function contains(outer: Interval, inner: Interval): boolean {
  return outer.start <= inner.start && inner.end <= outer.end;
}

export function intersection(a: Interval, b: Interval): Interval | null {
  const start = Math.max(a.start, b.start);
  const end = Math.min(a.end, b.end);
  return start < end ? { start, end } : null;
}

export function byStart(a: Interval, b: Interval): number {
  return a.start - b.start || a.end - b.end;
}

/** Sorts and merges overlapping and touching intervals; drops empty ones. */
export function mergeIntervals(intervals: readonly Interval[]): Interval[] {
  const sorted = intervals.filter((i) => i.end > i.start).sort(byStart);
  const merged: Interval[] = [];
  for (const interval of sorted) {
    const last = merged[merged.length - 1];
    if (last && interval.start <= last.end) {
      if (interval.end > last.end) last.end = interval.end;
    } else {
      merged.push({ start: interval.start, end: interval.end });
    }
  }
  return merged;
}

/** `base` minus every interval in `cuts`; both are merged first. */
export function subtractIntervals(base: readonly Interval[], cuts: readonly Interval[]): Interval[] {
  return subtractSorted(mergeIntervals(base), mergeIntervals(cuts));
}

/** Linear-time subtraction of sorted, merged `cuts` from sorted, merged `base`. */
export function subtractSorted(base: readonly Interval[], cuts: readonly Interval[]): Interval[] {
  const result: Interval[] = [];
  let c = 0;
  for (const interval of base) {
    let cursor = interval.start;
    while (c < cuts.length && cuts[c].end <= cursor) c++;
    let k = c;
    while (k < cuts.length && cuts[k].start < interval.end) {
      if (cuts[k].start > cursor) result.push({ start: cursor, end: cuts[k].start });
      if (cuts[k].end > cursor) cursor = cuts[k].end;
      if (cursor >= interval.end) break;
      k++;
    }
    if (cursor < interval.end) result.push({ start: cursor, end: interval.end });
  }
  return result;
}

/** Linear-time intersection of two sorted, merged lists. */
export function intersectSorted(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  const result: Interval[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const start = Math.max(a[i].start, b[j].start);
    const end = Math.min(a[i].end, b[j].end);
    if (start < end) result.push({ start, end });
    if (a[i].end < b[j].end) i++;
    else j++;
  }
  return result;
}

export function intersectIntervals(a: readonly Interval[], b: readonly Interval[]): Interval[] {
  return intersectSorted(mergeIntervals(a), mergeIntervals(b));
}

/** True when `candidate` overlaps any interval in the list (touching is fine). */
export function conflictsWithAny(candidate: Interval, busy: readonly Interval[]): boolean {
  return busy.some((b) => overlaps(candidate, b));
}

/**
 * Sweeps capacity-using intervals into consecutive segments of constant usage, sorted,
 * covering only time where usage > 0. Adjacent segments always differ in usage.
 */
export function capacitySweep(intervals: readonly CapacityInterval[]): UsageSegment[] {
  // Starts and ends sorted separately in typed arrays (native numeric sort), then merged.
  const count = intervals.length;
  const starts = new Float64Array(count);
  const ends = new Float64Array(count);
  let sameUnits = true;
  let n = 0;
  for (const interval of intervals) {
    if (interval.end <= interval.start || interval.units === 0) continue;
    if (interval.units !== 1) sameUnits = false;
    starts[n] = interval.start;
    ends[n] = interval.end;
    n++;
  }
  if (sameUnits) return sweepUnitIntervals(starts.subarray(0, n).sort(), ends.subarray(0, n).sort());
  return sweepWeighted(intervals);
}

function pushSegment(segments: UsageSegment[], start: number, end: number, used: number): void {
  if (used <= 0 || end <= start) return;
  const last = segments[segments.length - 1];
  if (last && last.end === start && last.used === used) last.end = end;
  else segments.push({ start, end, used });
}

/**
 * `capacitySweep` for intervals of one unit each, given as separately SORTED start and end
 * arrays of equal length (every end ≥ its start). Avoids building objects for hot paths.
 */
export function sweepUnitIntervals(starts: Float64Array, ends: Float64Array): UsageSegment[] {
  const segments: UsageSegment[] = [];
  let i = 0;
  let j = 0;
  let used = 0;
  while (j < ends.length) {
    const at = i < starts.length && starts[i] < ends[j] ? starts[i] : ends[j];
    while (i < starts.length && starts[i] === at) { used++; i++; }
    while (j < ends.length && ends[j] === at) { used--; j++; }
    if (j === ends.length) break;
    const next = i < starts.length && starts[i] < ends[j] ? starts[i] : ends[j];
    pushSegment(segments, at, next, used);
  }
  return segments;
}

function sweepWeighted(intervals: readonly CapacityInterval[]): UsageSegment[] {
  const events: Array<{ at: number; delta: number }> = [];
  for (const interval of intervals) {
    if (interval.end <= interval.start || interval.units === 0) continue;
    events.push({ at: interval.start, delta: interval.units }, { at: interval.end, delta: -interval.units });
  }
  events.sort((a, b) => a.at - b.at);
  const segments: UsageSegment[] = [];
  let used = 0;
  for (let i = 0; i < events.length; ) {
    const at = events[i].at;
    while (i < events.length && events[i].at === at) used += events[i++].delta;
    if (i < events.length) pushSegment(segments, at, events[i].at, used);
  }
  return segments;
}

/** Highest usage anywhere inside `window`, given sorted usage segments. */
export function maxUsageIn(segments: readonly UsageSegment[], window: Interval): number {
  let lo = 0;
  let hi = segments.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (segments[mid].end <= window.start) lo = mid + 1;
    else hi = mid;
  }
  let max = 0;
  for (let i = lo; i < segments.length && segments[i].start < window.end; i++) {
    if (segments[i].used > max) max = segments[i].used;
  }
  return max;
}

/**
 * The time where usage stays at or below `limit`, as sorted merged intervals clipped to
 * `within`. With limit 0 this is simply the free time.
 */
export function timeWithUsageAtMost(segments: readonly UsageSegment[], limit: number, within: Interval): Interval[] {
  const over = segments.filter((s) => s.used > limit);
  return subtractSorted([within], mergeIntervals(over));
}
