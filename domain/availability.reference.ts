/**
 * The slot rules of `generateSlots`, written the obvious way: every grid start of every
 * working interval is checked against every time off and every busy block on its own, and
 * every wall time goes through the zone rules of time.ts. Quadratic (slots × blocks) and
 * slow on purpose, so it is easy to read against the rules at the top of availability.ts.
 *
 * Not part of the domain's API (not exported from index.ts): it is the oracle of the
 * property tests in availability.test.ts and the naive peer of bench/availability.bench.ts.
 * It trusts its input; validation is `generateSlots`'s job.
 */
import type { AvailabilityQuery, AvailabilityResource, BusyBlock, Slot } from "./availability";
import { servesRequest } from "./availability";
import { DAY_MS, MINUTE_MS, addDays, daysBetween, localDateOf, localDayRange, localMinutesToInstant, parseLocalTime, weekdayOf } from "./time";

interface Opening {
  start: number;
  end: number;
  /** The opening instant the slot grid steps from. */
  anchor: number;
}

export function referenceSlots(query: AvailabilityQuery): Slot[] {
  const timeZone = query.timeZone;
  const units = query.units ?? 1;
  const windowMs = (query.arrivalWindowMinutes ?? 0) * MINUTE_MS;
  const spanMs = query.durationMinutes * MINUTE_MS + windowMs;
  const stepMs = query.stepMinutes * MINUTE_MS;
  const earliestStart = query.now + (query.minimumNoticeMinutes ?? 0) * MINUTE_MS;
  const horizonEnd =
    query.bookingHorizonDays === undefined
      ? Number.POSITIVE_INFINITY
      : localDayRange(addDays(localDateOf(query.now, timeZone), query.bookingHorizonDays), timeZone).end;
  const rangeStart = localDayRange(query.fromDate, timeZone).start;
  const rangeEnd = localDayRange(query.toDate, timeZone).end;

  const slots = new Map<number, Slot>();
  for (const resource of query.resources) {
    if (!servesRequest(resource, query) || resource.capacity < units) continue;
    const beforeMs = (resource.bufferBeforeMinutes ?? 0) * MINUTE_MS;
    const afterMs = (resource.bufferAfterMinutes ?? 0) * MINUTE_MS;
    for (const opening of openings(resource, query.fromDate, query.toDate, timeZone, spanMs)) {
      for (let start = opening.anchor; start + spanMs <= opening.end; start += stepMs) {
        const end = start + spanMs;
        if (start < rangeStart || start >= rangeEnd || start < earliestStart || start >= horizonEnd) continue;
        if ((resource.timeOff ?? []).some((off) => off.end > off.start && off.start < end && start < off.end)) continue;
        if (atDailyLimit(resource, start, timeZone)) continue;
        const remaining = resource.capacity - highestUsage(resource.busy ?? [], start - beforeMs, end + afterMs);
        if (remaining < units) continue;
        let slot = slots.get(start);
        if (slot === undefined) {
          slot = { start, end, availableResourceIds: [], remainingCapacity: 0 };
          if (windowMs > 0) slot.arrivalWindowEnd = start + windowMs;
          slots.set(start, slot);
        }
        slot.availableResourceIds.push(resource.id);
        slot.remainingCapacity += remaining;
      }
    }
  }
  return [...slots.values()].sort((a, b) => a.start - b.start);
}

/**
 * Working time of the days the range can start on (the day before included, for hours that
 * cross midnight) and of the days a booking starting on the last one can reach, touching and overlapping hours merged; each merged opening keeps the
 * instant of its first opening as the grid anchor.
 */
function openings(resource: AvailabilityResource, fromDate: string, toDate: string, timeZone: string, spanMs: number): Opening[] {
  const raw: Opening[] = [];
  // The day before the range (hours crossing midnight) to the last day a booking starting on toDate can reach.
  for (let d = -1; d <= daysBetween(fromDate, toDate) + Math.ceil(spanMs / DAY_MS); d++) {
    const date = addDays(fromDate, d);
    const override = (resource.overrides ?? []).filter((o) => o.date === date).at(-1);
    const hours = override ? (override.closed ? [] : override.hours) : resource.weeklyHours.filter((h) => h.weekday === weekdayOf(date));
    for (const h of hours) {
      const startMinutes = parseLocalTime(h.start);
      let endMinutes = parseLocalTime(h.end, { allowEndOfDay: true });
      if (endMinutes <= startMinutes) endMinutes += 1440;
      const start = localMinutesToInstant(date, startMinutes, timeZone);
      const end = localMinutesToInstant(date, endMinutes, timeZone);
      if (end > start) raw.push({ start, end, anchor: start });
    }
  }
  raw.sort((a, b) => a.start - b.start || a.end - b.end);
  const merged: Opening[] = [];
  for (const opening of raw) {
    const last = merged.at(-1);
    if (last && opening.start <= last.end) last.end = Math.max(last.end, opening.end);
    else merged.push({ ...opening });
  }
  return merged;
}

function atDailyLimit(resource: AvailabilityResource, start: number, timeZone: string): boolean {
  if (resource.maxBookingsPerDay === undefined) return false;
  const day = localDayRange(localDateOf(start, timeZone), timeZone);
  const counted = (resource.busy ?? []).filter((b) => b.countsTowardDailyLimit !== false && day.start <= b.start && b.start < day.end);
  return counted.length >= resource.maxBookingsPerDay;
}

/** Highest sum of units of blocked ranges ([start − buffer before, end + buffer after)) at any instant of [from, to). */
function highestUsage(busy: readonly BusyBlock[], from: number, to: number): number {
  const blocked = busy.map((b) => ({
    start: b.start - (b.bufferBeforeMinutes ?? 0) * MINUTE_MS,
    end: b.end + (b.bufferAfterMinutes ?? 0) * MINUTE_MS,
    units: b.units ?? 1,
  }));
  // Usage only rises where a blocked range starts, so the highest is at `from` or at one of those.
  const instants = [from, ...blocked.filter((b) => from < b.start && b.start < to).map((b) => b.start)];
  let highest = 0;
  for (const at of instants) {
    const used = blocked.filter((b) => b.start <= at && at < b.end).reduce((sum, b) => sum + b.units, 0);
    if (used > highest) highest = used;
  }
  return highest;
}
