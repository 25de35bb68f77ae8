/**
 * Domain benchmarks (run: `npx tsx bench/domain.bench.ts`). Prints figures, asserts nothing.
 *
 * 1. Availability: 50 resources × 90 days × 15-minute steps, 10,000 existing bookings.
 * 2. Pricing: quotes per second for a typical multi-line cart.
 */
import os from "node:os";
import {
  type AvailabilityResource,
  type BusyBlock,
  type Catalogue,
  type CartLine,
  type Weekday,
  addDays,
  generateSlots,
  localToInstant,
  quoteCart,
} from "../domain/index";

const TIME_ZONE = "America/New_York";
const FROM_DATE = "2025-03-01"; // spans the March DST change
const DAYS = 90;
const RESOURCES = 50;
const BOOKINGS = 10_000;

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

function buildResources(): AvailabilityResource[] {
  const random = mulberry32(42);
  const busyByResource: BusyBlock[][] = Array.from({ length: RESOURCES }, () => []);
  for (let i = 0; i < BOOKINGS; i++) {
    const resource = Math.floor(random() * RESOURCES);
    const date = addDays(FROM_DATE, Math.floor(random() * DAYS));
    const hour = 8 + Math.floor(random() * 9);
    const minute = [0, 15, 30, 45][Math.floor(random() * 4)];
    const start = localToInstant(date, `${String(hour).padStart(2, "0")}:${String(minute).padStart(2, "0")}`, TIME_ZONE);
    const durationMinutes = [30, 60, 90, 120][Math.floor(random() * 4)];
    busyByResource[resource].push({ start, end: start + durationMinutes * 60_000, bufferAfterMinutes: 15 });
  }
  return busyByResource.map((busy, index) => ({
    id: `resource-${String(index).padStart(2, "0")}`,
    capacity: index % 10 === 0 ? 3 : 1,
    weeklyHours: ([1, 2, 3, 4, 5, 6] as Weekday[]).flatMap((weekday) => [
      { weekday, start: "08:00", end: "12:00" },
      { weekday, start: "13:00", end: index % 7 === 0 ? "22:00" : "18:00" },
    ]),
    overrides: [{ date: addDays(FROM_DATE, 20 + (index % 30)), closed: true }],
    busy,
    bufferBeforeMinutes: 0,
    bufferAfterMinutes: 15,
    maxBookingsPerDay: 6,
  }));
}

function loadAverage(): string {
  return os.loadavg()[0].toFixed(2);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function benchAvailability(): void {
  const resources = buildResources();
  const query = {
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
  let slots = generateSlots(query);
  for (let i = 0; i < 20; i++) slots = generateSlots(query); // warm-up
  // Wall time is what a caller waits; CPU time (this process only) is shown beside it because
  // on a shared machine other processes inflate wall time.
  const timings: number[] = [];
  const cpuTimings: number[] = [];
  for (let i = 0; i < 100; i++) {
    const cpuStarted = process.cpuUsage();
    const started = performance.now();
    slots = generateSlots(query);
    timings.push(performance.now() - started);
    const cpu = process.cpuUsage(cpuStarted);
    cpuTimings.push((cpu.user + cpu.system) / 1000);
  }
  timings.sort((a, b) => a - b);
  cpuTimings.sort((a, b) => a - b);
  const resourceSlots = slots.reduce((sum, slot) => sum + slot.availableResourceIds.length, 0);
  console.log(
    `availability: ${RESOURCES} resources × ${DAYS} days × 15 min, ${BOOKINGS} bookings → ${slots.length} slots (${resourceSlots} resource-slots)`,
  );
  console.log(
    `  wall: min ${timings[0].toFixed(2)} ms, p50 ${percentile(timings, 50).toFixed(2)} ms, p95 ${percentile(timings, 95).toFixed(2)} ms, max ${timings[timings.length - 1].toFixed(2)} ms over ${timings.length} runs`,
  );
  console.log(`  cpu:  p50 ${percentile(cpuTimings, 50).toFixed(2)} ms, p95 ${percentile(cpuTimings, 95).toFixed(2)} ms`);
  console.log(`  machine load average (1 min): ${loadAverage()}`);
}

function benchPricing(): void {
  const catalogue: Catalogue = {
    products: [
      { id: "clean", name: "Home cleaning", currency: "USD", unitPriceMinor: 2500, basePriceMinor: 9000, includedQuantity: 2, durationMinutes: 120, perUnitDurationMinutes: 30, quantity: { min: 1, max: 10, step: 1 } },
      { id: "oven", name: "Oven cleaning", currency: "USD", unitPriceMinor: 4500, durationMinutes: 45 },
      { id: "windows", name: "Windows", currency: "USD", unitPriceMinor: 600, durationMinutes: 0, perUnitDurationMinutes: 5, quantity: { min: 5, max: 60, step: 5 } },
    ],
    extras: [
      { id: "fridge", name: "Inside fridge", currency: "USD", priceMinor: 3000, durationMinutes: 30, chargeBasis: "flat" },
      { id: "cabinets", name: "Inside cabinets", currency: "USD", priceMinor: 800, durationMinutes: 10, chargeBasis: "perQuantity" },
    ],
  };
  const cart: CartLine[] = [
    { productId: "clean", quantity: 4, extras: [{ extraId: "fridge", quantity: 1 }, { extraId: "cabinets", quantity: 6 }] },
    { productId: "oven", quantity: 1 },
    { productId: "windows", quantity: 20 },
  ];
  const input = {
    currency: "USD",
    catalogue,
    cart,
    zone: { tripChargeMinor: 1500, priceMultiplierBp: 11_500, minimumBookingMinor: 15_000, taxRateBp: 887, durationMultiplierBp: 11_000 },
    discountBp: 1500,
  };
  for (let i = 0; i < 5_000; i++) quoteCart(input); // warm-up
  const iterations = 100_000;
  const started = performance.now();
  let total = 0;
  for (let i = 0; i < iterations; i++) total += quoteCart(input).totalMinor;
  const seconds = (performance.now() - started) / 1000;
  console.log(`pricing: ${Math.round(iterations / seconds).toLocaleString("en-US")} quotes/s (${iterations} quotes, checksum ${total})`);
}

benchAvailability();
benchPricing();
