/**
 * Availability benchmark (`npm run bench -- availability`). Prints figures and checks results;
 * it asserts no timing, but exits 1 when `generateSlots` and the reference disagree.
 *
 * The case of the product's target: 50 resources × 90 days × 15-minute steps with 10,000
 * existing bookings (CPU p95 under 10 ms), then a grid of 10 / 50 / 200 resources ×
 * 1k / 10k / 50k bookings. Every figure is printed next to, measured in the same run:
 * - floor: reading every busy block once and building the same output (the slot objects and
 *   their resource lists), i.e. what any algorithm has to touch;
 * - peer: the naive reference (domain/availability.reference.ts), which checks every grid
 *   start against every busy block; its slots must equal `generateSlots`'s.
 */
import os from "node:os";
import { type AvailabilityQuery, type AvailabilityResource, type BusyBlock, type Slot, generateSlots } from "../domain/availability";
import { referenceSlots } from "../domain/availability.reference";
import { type Weekday, addDays, localToInstant } from "../domain/time";

const TIME_ZONE = "America/New_York";
const FROM_DATE = "2025-03-01"; // spans the March DST change
const DAYS = 90;
const GRID_RESOURCES = [10, 50, 200];
const GRID_BOOKINGS = [1_000, 10_000, 50_000];

/** Deterministic pseudo-random numbers so runs are comparable. */
function mulberry32(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function buildResources(resourceCount: number, bookingCount: number): AvailabilityResource[] {
  const random = mulberry32(42);
  const busyByResource: BusyBlock[][] = Array.from({ length: resourceCount }, () => []);
  for (let i = 0; i < bookingCount; i++) {
    const resource = Math.floor(random() * resourceCount);
    const date = addDays(FROM_DATE, Math.floor(random() * DAYS));
    const hour = 8 + Math.floor(random() * 9);
    const minute = [0, 15, 30, 45][Math.floor(random() * 4)];
    const start = localToInstant(date, `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`, TIME_ZONE);
    const durationMinutes = [30, 60, 90, 120][Math.floor(random() * 4)];
    busyByResource[resource].push({ start, end: start + durationMinutes * 60_000, bufferAfterMinutes: 15 });
  }
  return busyByResource.map((busy, index) => ({
    id: `resource-${String(index).padStart(3, "0")}`,
    capacity: index % 10 === 0 ? 3 : 1,
    weeklyHours: ([1, 2, 3, 4, 5, 6] as Weekday[]).flatMap((weekday) => [
      { weekday, start: "08:00", end: "12:00" },
      { weekday, start: "13:00", end: index % 7 === 0 ? "22:00" : "18:00" },
    ]),
    overrides: [{ date: addDays(FROM_DATE, 20 + (index % 30)), closed: true }],
    timeOff: index % 5 === 0 ? [{ start: localToInstant(addDays(FROM_DATE, 40), "10:00", TIME_ZONE), end: localToInstant(addDays(FROM_DATE, 42), "15:00", TIME_ZONE) }] : [],
    busy,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 15,
    maxBookingsPerDay: 6,
  }));
}

function queryFor(resources: AvailabilityResource[]): AvailabilityQuery {
  return {
    timeZone: TIME_ZONE,
    now: localToInstant(FROM_DATE, "00:00", TIME_ZONE) - 3_600_000,
    fromDate: FROM_DATE,
    toDate: addDays(FROM_DATE, DAYS - 1),
    stepMinutes: 15,
    durationMinutes: 60,
    resources,
    minimumNoticeMinutes: 120,
    bookingHorizonDays: 120,
  };
}

/**
 * The floor: read every busy block once (its blocked range) and build the same output, slot
 * objects with copies of their resource lists. No algorithm producing these slots from these
 * blocks can do less.
 */
function floorWork(resources: readonly AvailabilityResource[], shape: readonly Slot[]): number {
  let checksum = 0;
  for (const resource of resources) {
    for (const b of resource.busy ?? []) checksum += b.end + (b.bufferAfterMinutes ?? 0) * 60_000 - (b.start - (b.bufferBeforeMinutes ?? 0) * 60_000);
  }
  const out: Slot[] = new Array<Slot>(shape.length);
  for (let i = 0; i < shape.length; i++) {
    const from = shape[i];
    const ids: string[] = [];
    for (const id of from.availableResourceIds) ids.push(id);
    out[i] = { start: from.start, end: from.end, availableResourceIds: ids, remainingCapacity: from.remainingCapacity };
  }
  return checksum + out.length;
}

interface Timing {
  cpuP50: number;
  cpuP95: number;
  wallP50: number;
  wallP95: number;
  runs: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Runs `work` until `budgetMs` of wall time or `maxRuns` (at least `minRuns`), after `warmup`
 * runs. CPU is this process's user + system time (GC threads included); wall time is what a
 * caller waits, inflated by other processes on a shared machine.
 */
function measure(work: () => unknown, options: { warmup: number; minRuns: number; maxRuns: number; budgetMs: number }): Timing {
  for (let i = 0; i < options.warmup; i++) work();
  const walls: number[] = [];
  const cpus: number[] = [];
  const started = performance.now();
  while (walls.length < options.minRuns || (walls.length < options.maxRuns && performance.now() - started < options.budgetMs)) {
    const cpuStarted = process.cpuUsage();
    const wallStarted = performance.now();
    work();
    walls.push(performance.now() - wallStarted);
    const cpu = process.cpuUsage(cpuStarted);
    cpus.push((cpu.user + cpu.system) / 1000);
  }
  walls.sort((a, b) => a - b);
  cpus.sort((a, b) => a - b);
  return { cpuP50: percentile(cpus, 50), cpuP95: percentile(cpus, 95), wallP50: percentile(walls, 50), wallP95: percentile(walls, 95), runs: walls.length };
}

/** First difference between two slot lists, or null when they are identical. */
function firstDifference(actual: readonly Slot[], expected: readonly Slot[]): string | null {
  if (actual.length !== expected.length) return `${actual.length} slots, the reference has ${expected.length}`;
  for (let i = 0; i < actual.length; i++) {
    const a = actual[i];
    const e = expected[i];
    if (
      a.start !== e.start ||
      a.end !== e.end ||
      a.arrivalWindowEnd !== e.arrivalWindowEnd ||
      a.remainingCapacity !== e.remainingCapacity ||
      a.availableResourceIds.join() !== e.availableResourceIds.join()
    ) {
      return `slot ${i} differs: ${JSON.stringify(a)} vs the reference's ${JSON.stringify(e)}`;
    }
  }
  return null;
}

const ms = (value: number) => `${value.toFixed(2)} ms`;
const times = (value: number) => `${value.toFixed(1)}×`;

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(" / ");
}

interface Cell {
  resources: number;
  bookings: number;
  slots: number;
  resourceSlots: number;
  optimized: Timing;
  floor: Timing;
  reference: Timing;
}

function benchCell(resourceCount: number, bookingCount: number, headline: boolean): Cell {
  const resources = buildResources(resourceCount, bookingCount);
  const query = queryFor(resources);
  const slots = generateSlots(query);
  const expected = referenceSlots(query);
  const difference = firstDifference(slots, expected);
  if (difference !== null) {
    console.error(`MISMATCH at ${resourceCount} resources × ${bookingCount} bookings: ${difference}`);
    process.exitCode = 1;
  }
  const optimized = measure(() => generateSlots(query), headline ? { warmup: 20, minRuns: 200, maxRuns: 200, budgetMs: 0 } : { warmup: 5, minRuns: 20, maxRuns: 200, budgetMs: 1500 });
  const floor = measure(() => floorWork(resources, slots), { warmup: 5, minRuns: 20, maxRuns: 200, budgetMs: 500 });
  const reference = measure(() => referenceSlots(query), { warmup: 0, minRuns: 1, maxRuns: 5, budgetMs: 2000 });
  return {
    resources: resourceCount,
    bookings: bookingCount,
    slots: slots.length,
    resourceSlots: slots.reduce((sum, s) => sum + s.availableResourceIds.length, 0),
    optimized,
    floor,
    reference,
  };
}

function main(): void {
  const cpu = os.cpus();
  console.log(`machine: ${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}, node ${process.version}; load average (1/5/15 min) at start ${loadAverage()}`);

  const headline = benchCell(50, 10_000, true);
  console.log(
    `\navailability: 50 resources × ${DAYS} days × 15 min, 10,000 bookings → ${headline.slots} slots (${headline.resourceSlots} resource-slots), ${headline.optimized.runs} runs`,
  );
  console.log(`  generateSlots  cpu p50 ${ms(headline.optimized.cpuP50)}, p95 ${ms(headline.optimized.cpuP95)} (target < 10 ms); wall p50 ${ms(headline.optimized.wallP50)}, p95 ${ms(headline.optimized.wallP95)}`);
  console.log(`  floor          cpu p50 ${ms(headline.floor.cpuP50)} → generateSlots is ${times(headline.optimized.cpuP50 / headline.floor.cpuP50)} the floor`);
  console.log(`  naive peer     cpu p50 ${ms(headline.reference.cpuP50)} → generateSlots is ${times(headline.reference.cpuP50 / headline.optimized.cpuP50)} faster; identical slots`);

  console.log(`\ngrid (cpu p50; floor and naive peer measured in the same run):`);
  console.log(`  resources  bookings    slots  res-slots  generateSlots      floor   ×floor   naive peer   speed-up`);
  const cells: Cell[] = [];
  for (const resourceCount of GRID_RESOURCES) {
    for (const bookingCount of GRID_BOOKINGS) {
      const cell = resourceCount === 50 && bookingCount === 10_000 ? headline : benchCell(resourceCount, bookingCount, false);
      cells.push(cell);
      console.log(
        `  ${String(cell.resources).padStart(9)} ${String(cell.bookings).padStart(9)} ${String(cell.slots).padStart(8)} ${String(cell.resourceSlots).padStart(10)} ${ms(cell.optimized.cpuP50).padStart(14)} ${ms(cell.floor.cpuP50).padStart(10)} ${times(cell.optimized.cpuP50 / cell.floor.cpuP50).padStart(8)} ${ms(cell.reference.cpuP50).padStart(12)} ${times(cell.reference.cpuP50 / cell.optimized.cpuP50).padStart(10)}`,
      );
    }
  }

  const at = (r: number, b: number) => cells.find((c) => c.resources === r && c.bookings === b)!.optimized.cpuP50;
  console.log(`\ngrowth (generateSlots cpu p50; linear growth would multiply by the input's factor):`);
  for (const b of GRID_BOOKINGS) {
    console.log(`  ${b} bookings, resources 10 → 50 → 200 (×5, ×4): ×${(at(50, b) / at(10, b)).toFixed(2)}, ×${(at(200, b) / at(50, b)).toFixed(2)}`);
  }
  for (const r of GRID_RESOURCES) {
    console.log(`  ${r} resources, bookings 1k → 10k → 50k (×10, ×5): ×${(at(r, 10_000) / at(r, 1_000)).toFixed(2)}, ×${(at(r, 50_000) / at(r, 10_000)).toFixed(2)}`);
  }
  console.log(`\nload average (1/5/15 min) at end ${loadAverage()}`);
  if (process.exitCode === 1) console.error("generateSlots and the reference disagree (see MISMATCH above)");
}

main();
