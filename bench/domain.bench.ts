/**
 * Domain benchmarks (run: `npx tsx bench/domain.bench.ts`). Prints figures, asserts nothing.
 * Pricing: quotes per second for a typical multi-line cart. Availability has its own
 * benchmark, bench/availability.bench.ts.
 */
import os from "node:os";
import { type Catalogue, type CartLine, quoteCart } from "../domain/index";

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

benchPricing();
console.log(`machine load average (1 min): ${os.loadavg()[0].toFixed(2)}`);
