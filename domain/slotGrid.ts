/**
 * The slot grid of one zone and one local day, independent of any cart: for every start on the
 * business's step grid and every resource serving the zone, the longest span (minutes, arrival
 * window included) that resource could take starting there. A visitor's slots for a cart of span
 * S and products P are then the starts where some resource serving P can take at least S
 * (`slotsFromGrid`), exactly what `generateSlotTimes` answers for that cart and day: the span a
 * resource can take at a start only shrinks as the span grows (working time must contain it,
 * busy time and buffers must not meet it, notice/horizon/daily limit do not depend on it), so
 * "takes S" is "longest span ≥ S", and that longest span is found with `checkSlot` itself.
 *
 * The grid is what the public availability room keeps and diffs; it carries ids, instants and
 * minutes only. Pure, no I/O: Convex computes it, the room diffs it, the widget reads it.
 */
import { checkSlot, type AvailabilityResource } from "./availability";
import { localDayRange, MINUTE_MS } from "./time";

/** Longest span the grid records; a booking may not be longer (bookingSlots MAX_BOOKING_SPAN_MINUTES). */
export const GRID_MAX_SPAN_MINUTES = 24 * 60;

export type GridResource = {
  id: string;
  /** Products the resource serves; empty = every product. */
  productIds: string[];
  /** Longest span in minutes per start (index i = dayStart + i·step); 0 = none. */
  spans: number[];
};

export type SlotGrid = {
  date: string;
  timeZone: string;
  dayStart: number;
  stepMinutes: number;
  minimumNoticeMinutes: number;
  arrivalWindowMinutes: number;
  /** When Convex computed it (its clock); a room keeps the newest. */
  asOf: number;
  resources: GridResource[];
};

export type GridRules = {
  timeZone: string;
  date: string;
  now: number;
  stepMinutes: number;
  minimumNoticeMinutes: number;
  bookingHorizonDays: number;
  arrivalWindowMinutes: number;
  zoneId: string;
};

/** The starts of a local day on the step grid (local midnight + i·step, before the next midnight). */
export function gridStarts(date: string, timeZone: string, stepMinutes: number): { dayStart: number; count: number } {
  const { start, end } = localDayRange(date, timeZone);
  return { dayStart: start, count: Math.ceil((end - start) / (stepMinutes * MINUTE_MS)) };
}

/** Longest span (1..max minutes) `fits` accepts, or 0; `hint` (the previous start's answer) saves probes. */
function longestSpan(fits: (minutes: number) => boolean, hint: number): number {
  if (!fits(1)) return 0;
  let lo = 1; // fits
  let hi = GRID_MAX_SPAN_MINUTES + 1; // does not fit (sentinel)
  if (hint > lo && hint < hi) {
    if (fits(hint)) {
      lo = hint;
      if (hint + 1 < hi && !fits(hint + 1)) return hint;
    } else hi = hint;
  }
  while (hi - lo > 1) {
    const mid = (lo + hi) >>> 1;
    if (fits(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}

export function computeSlotGrid(rules: GridRules, resources: readonly AvailabilityResource[]): SlotGrid {
  const { dayStart, count } = gridStarts(rules.date, rules.timeZone, rules.stepMinutes);
  const stepMs = rules.stepMinutes * MINUTE_MS;
  const out: GridResource[] = [];
  for (const resource of resources) {
    const spans = new Array<number>(count).fill(0);
    let previous = 0;
    for (let i = 0; i < count; i++) {
      const start = dayStart + i * stepMs;
      const fits = (minutes: number) =>
        checkSlot({
          resource,
          start,
          timeZone: rules.timeZone,
          now: rules.now,
          durationMinutes: minutes,
          arrivalWindowMinutes: 0,
          minimumNoticeMinutes: rules.minimumNoticeMinutes,
          bookingHorizonDays: rules.bookingHorizonDays,
          zoneId: rules.zoneId,
          units: 1,
        }).ok;
      spans[i] = longestSpan(fits, previous > rules.stepMinutes ? previous - rules.stepMinutes : 0);
      previous = spans[i];
    }
    out.push({ id: resource.id, productIds: [...(resource.productIds ?? [])], spans });
  }
  return {
    date: rules.date,
    timeZone: rules.timeZone,
    dayStart,
    stepMinutes: rules.stepMinutes,
    minimumNoticeMinutes: rules.minimumNoticeMinutes,
    arrivalWindowMinutes: rules.arrivalWindowMinutes,
    asOf: rules.now,
    resources: out,
  };
}

export type GridSlot = { start: number; end: number; arrivalWindowEnd?: number; resources: number };

/**
 * The bookable starts of the grid's day for a cart: `durationMinutes` (from the cart's quote),
 * its `productIds`, at `now` (a start inside the notice period is gone).
 */
export function slotsFromGrid(grid: SlotGrid, cart: { durationMinutes: number; productIds: readonly string[] }, now: number): GridSlot[] {
  const span = cart.durationMinutes + grid.arrivalWindowMinutes;
  const stepMs = grid.stepMinutes * MINUTE_MS;
  const earliest = now + grid.minimumNoticeMinutes * MINUTE_MS;
  const serving = grid.resources.filter((r) => r.productIds.length === 0 || cart.productIds.every((p) => r.productIds.includes(p)));
  const count = serving.reduce((n, r) => Math.max(n, r.spans.length), 0);
  const slots: GridSlot[] = [];
  for (let i = 0; i < count; i++) {
    const start = grid.dayStart + i * stepMs;
    if (start < earliest) continue;
    let free = 0;
    for (const r of serving) if ((r.spans[i] ?? 0) >= span) free++;
    if (free === 0) continue;
    const slot: GridSlot = { start, end: start + span * MINUTE_MS, resources: free };
    if (grid.arrivalWindowMinutes > 0) slot.arrivalWindowEnd = start + grid.arrivalWindowMinutes * MINUTE_MS;
    slots.push(slot);
  }
  return slots;
}

// ---------------------------------------------------------------------------------------
// Diffs: what changed between two grids of one room, as [resource index, start index, span]

export type GridChange = [resource: number, start: number, span: number];

/** Same day, step grid and rules (what every row of a grid is laid out by). */
function sameDay(previous: SlotGrid, next: SlotGrid): boolean {
  return (
    previous.date === next.date &&
    previous.timeZone === next.timeZone &&
    previous.dayStart === next.dayStart &&
    previous.stepMinutes === next.stepMinutes &&
    previous.minimumNoticeMinutes === next.minimumNoticeMinutes &&
    previous.arrivalWindowMinutes === next.arrivalWindowMinutes
  );
}

/** Whether one resource's row can replace another's cell by cell (same resource, products and starts). */
function sameRow(previous: GridResource, next: GridResource): boolean {
  return previous.id === next.id && previous.spans.length === next.spans.length && previous.productIds.join(",") === next.productIds.join(",");
}

/** The cells of row `ri` that differ, appended to `changes`. */
function rowChanges(ri: number, before: readonly number[], after: readonly number[], changes: GridChange[]): void {
  after.forEach((span, si) => {
    if (before[si] !== span) changes.push([ri, si, span]);
  });
}

/** Whether `next` can be sent as changes to `previous` (same day layout and same resources). */
export function sameLayout(previous: SlotGrid, next: SlotGrid): boolean {
  if (!sameDay(previous, next) || previous.resources.length !== next.resources.length) return false;
  return previous.resources.every((r, i) => sameRow(r, next.resources[i]));
}

/** The changes from `previous` to `next`, or null when the layout differs (send the whole grid). */
export function diffGrids(previous: SlotGrid, next: SlotGrid): GridChange[] | null {
  if (!sameLayout(previous, next)) return null;
  const changes: GridChange[] = [];
  next.resources.forEach((r, ri) => rowChanges(ri, previous.resources[ri].spans, r.spans, changes));
  return changes;
}

/**
 * `patch` is some rows of the same day's grid, computed at `patch.asOf` (what a change to
 * those resources' time pushes: a booking knows whose time it took or gave back). The grid
 * with those rows replaced, and the cells that changed; null when the patch does not fit
 * (another day layout, a resource the grid does not have, or one whose products changed):
 * then only a whole grid will do.
 */
export function patchGrid(previous: SlotGrid, patch: SlotGrid): { grid: SlotGrid; changes: GridChange[] } | null {
  if (!sameDay(previous, patch)) return null;
  const index = new Map(previous.resources.map((r, i) => [r.id, i]));
  const resources = [...previous.resources];
  const changes: GridChange[] = [];
  for (const row of patch.resources) {
    const ri = index.get(row.id);
    if (ri === undefined || !sameRow(previous.resources[ri], row)) return null;
    rowChanges(ri, previous.resources[ri].spans, row.spans, changes);
    resources[ri] = row;
  }
  changes.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  return { grid: { ...previous, asOf: Math.max(previous.asOf, patch.asOf), resources }, changes };
}

/** `grid` with `changes` applied (a new object; the input is left as it was). */
export function applyGridChanges(grid: SlotGrid, changes: readonly GridChange[], asOf: number): SlotGrid {
  const resources = grid.resources.map((r) => ({ ...r, spans: [...r.spans] }));
  for (const [ri, si, span] of changes) {
    const r = resources[ri];
    if (r === undefined || si < 0 || si >= r.spans.length) throw new Error(`grid change [${ri}, ${si}] is outside the grid`);
    r.spans[si] = span;
  }
  return { ...grid, asOf, resources };
}
