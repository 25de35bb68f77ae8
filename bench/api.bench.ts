/**
 * REST API benchmark (figures printed, never asserted), through the project's local backend
 * engine in-process: `LocalEngine.open` on the unchanged convex/ folder, then
 * `engine.runHttpAction(request)` for every call, so each request pays what it pays in
 * `npm start`: the HTTP action, key lookup + rate-limit window (a mutation), validation and
 * the internal query/mutation(s). Durable SQLite data in a temporary folder.
 *
 *  - GET /v1/bookings?limit=20 (list, 1,000 bookings in the business): serial and 16 in flight
 *  - POST /v1/bookings (hold + confirm in one call, distinct slots): serial and 16 in flight
 *  - POST /v1/customers with Idempotency-Key (two extra mutations per request)
 *
 * The business is on the premium plan (2,000 requests/min per key) and requests rotate over
 * several keys so that the figures measure the API, not the rate limiter refusing.
 * Run: npx tsx bench/api.bench.ts
 */
 
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LocalEngine } from "../backend/src/engine/engine.js";
import { generateApiKey, hashApiKey, keyPrefix, allScopes } from "../convex/api/apiKeyFormat.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const SITE = "http://127.0.0.1:3211";
const KEYS = 8;
const HOUR = 3_600_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

function report(label: string, times: number[], wallMs: number, failures: number) {
  const sorted = [...times].sort((a, b) => a - b);
  const rps = (times.length / wallMs) * 1000;
  console.log(
    `  ${label.padEnd(44)} ${String(times.length).padStart(5)} req  ${rps.toFixed(0).padStart(6)} req/s  ` +
      `median ${percentile(sorted, 50).toFixed(2)} ms  p95 ${percentile(sorted, 95).toFixed(2)} ms` +
      (failures > 0 ? `  (${failures} non-2xx)` : ""),
  );
}

async function run(
  label: string,
  count: number,
  concurrency: number,
  make: (i: number) => Request,
  engine: LocalEngine,
  okStatuses = [200, 201],
) {
  const times: number[] = [];
  let failures = 0;
  let next = 0;
  let firstFailure = "";
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) {
        const i = next++;
        const t0 = performance.now();
        const res = await engine.runHttpAction(make(i));
        const text = await res.text();
        times.push(performance.now() - t0);
        if (!okStatuses.includes(res.status)) {
          failures++;
          firstFailure ||= `${res.status} ${text.slice(0, 200)}`;
        }
      }
    }),
  );
  report(label, times, performance.now() - started, failures);
  if (firstFailure) console.log(`    first failure: ${firstFailure}`);
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "api-bench-"));
  const engine = await LocalEngine.open({
    convexDir: path.join(root, "convex"),
    dataDir,
    env: {
      PORTAL_URL: "http://127.0.0.1:5173",
      PARTYKIT_URL: "http://127.0.0.1:1999",
      PARTYKIT_PUSH_SECRET: "bench-partykit-push-secret",
      STRIPE_WEBHOOK_SECRET: "whsec_bench_secret",
    },
    siteUrl: SITE,
    cloudUrl: "http://127.0.0.1:3210",
    runCrons: false,
  });
  try {
    const keys: string[] = [];
    const hashes: { key: string; hash: string; prefix: string }[] = [];
    for (let i = 0; i < KEYS; i++) {
      const key = generateApiKey("test");
      keys.push(key);
      hashes.push({ key, hash: await hashApiKey(key), prefix: keyPrefix(key) });
    }
    const tomorrow = Math.ceil(Date.now() / (24 * HOUR)) * 24 * HOUR + 24 * HOUR;

    // Seed: a UTC business open around the clock, 20 resources, a 60-minute product.
    const seed = engine.inlineFunction("mutation", async (ctx: any, args: any) => {
      const ownerId = await ctx.db.insert("users", { tokenIdentifier: "bench|owner", name: "Owner", isPlatformAdmin: false });
      const businessId = await ctx.db.insert("businesses", {
        ownerId,
        name: "Bench Cleaning",
        slug: "bench-cleaning",
        type: "home_services",
        status: "ACTIVE",
        timeZone: "UTC",
        currency: "USD",
        locale: "en-US",
        plan: "premium",
        policies: {
          cancellation: { freeUntilHours: 24, lateFeeFlatMinor: 0, lateFeePercentBp: 0, noShowFeeFlatMinor: 0, noShowFeePercentBp: 0 },
          reschedule: { freeUntilHours: 24, lateFeeFlatMinor: 0, maxReschedules: 3 },
          booking: {
            minimumNoticeMinutes: 0,
            bookingHorizonDays: 365,
            slotStepMinutes: 60,
            arrivalWindowMinutes: 0,
            holdMinutes: 10,
            depositBp: 0,
            autoAssign: "priority",
          },
        },
      });
      await ctx.db.insert("memberships", { businessId, userId: ownerId, role: "owner" });
      const zoneId = await ctx.db.insert("zones", {
        businessId,
        name: "Everywhere",
        active: true,
        boundaries: [],
        pricing: { tripChargeMinor: 0, priceMultiplierBp: 10_000, minimumMinor: 0 },
        taxRateBp: 0,
        taxInclusive: false,
      });
      await ctx.db.insert("zonePostalCodes", { businessId, zoneId, postalCode: "10001" });
      const industryId = await ctx.db.insert("industries", { businessId, name: "Cleaning", slug: "cleaning", active: true });
      const categoryId = await ctx.db.insert("categories", { businessId, industryId, name: "Home", sortOrder: 0 });
      const productId = await ctx.db.insert("products", {
        businessId,
        industryId,
        categoryId,
        name: "Hour clean",
        priceMinor: 5_000,
        durationMinutes: 60,
        quantity: { min: 1, max: 1, step: 1, included: 1, extraUnitPriceMinor: 0, extraUnitDurationMinutes: 0 },
        active: true,
        sortOrder: 0,
      });
      const allDay = [0, 1, 2, 3, 4, 5, 6].map((weekday) => ({ weekday, start: "00:00", end: "24:00" }));
      for (let r = 0; r < 20; r++) {
        await ctx.db.insert("resources", {
          businessId,
          kind: "provider",
          name: `Provider ${r}`,
          capacity: 1,
          priority: r,
          active: true,
          weeklyHours: allDay,
          bufferBeforeMinutes: 0,
          bufferAfterMinutes: 0,
          zoneIds: [],
          productIds: [],
        });
      }
      const customerId = await ctx.db.insert("customers", { businessId, name: "Bench Customer", tags: [], createdAt: Date.now() });
      for (const k of args.keys) {
        await ctx.db.insert("apiKeys", {
          businessId,
          name: "bench",
          prefix: k.prefix,
          hash: k.hash,
          mode: "test",
          scopes: args.scopes,
          status: "active",
          createdAt: Date.now(),
          createdBy: ownerId,
        });
      }
      return { businessId, zoneId, productId, industryId, customerId };
    });
    const seeded = await engine.runMutation(seed, [{ keys: hashes, scopes: allScopes() }], { identity: null });
    if (!seeded.success) throw new Error(seeded.errorMessage);
    const ids = seeded.value as { businessId: string; zoneId: string; productId: string; industryId: string; customerId: string };

    // 1,000 existing bookings for the list (inserted directly, far in the future).
    const bulk = engine.inlineFunction("mutation", async (ctx: any, args: any) => {
      for (let i = args.from; i < args.to; i++) {
        const start = args.base + i * HOUR;
        await ctx.db.insert("bookings", {
          businessId: args.businessId,
          customerId: args.customerId,
          zoneId: args.zoneId,
          industryId: args.industryId,
          status: "CONFIRMED",
          start,
          end: start + HOUR,
          localDate: new Date(start).toISOString().slice(0, 10),
          items: [{ productId: args.productId, name: "Hour clean", quantity: 1, unitPriceMinor: 5_000, durationMinutes: 60, extras: [] }],
          quote: { currency: "USD", subtotalMinor: 5_000, discountMinor: 0, tripChargeMinor: 0, minimumTopUpMinor: 0, taxMinor: 0, totalMinor: 5_000, durationMinutes: 60 },
          frequency: "once",
          assignedResourceIds: [],
          rescheduleCount: 0,
          source: "api",
          createdAt: Date.now(),
        });
      }
    });
    for (let from = 0; from < 1_000; from += 100) {
      const out = await engine.runMutation(bulk, [{ ...ids, from, to: from + 100, base: tomorrow + 300 * 24 * HOUR }], { identity: null });
      if (!out.success) throw new Error(out.errorMessage);
    }

    const req = (i: number, method: string, pathQuery: string, body?: unknown, extra: Record<string, string> = {}) =>
      new Request(`${SITE}${pathQuery}`, {
        method,
        headers: { Authorization: `Bearer ${keys[i % KEYS]}`, ...(body !== undefined ? { "Content-Type": "application/json" } : {}), ...extra },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    const booking = (slot: number) => ({
      customerId: ids.customerId,
      zoneId: ids.zoneId,
      cart: [{ productId: ids.productId }],
      start: tomorrow + slot * HOUR,
    });

    console.log("REST API through the local backend engine in-process (LocalEngine.runHttpAction):");
    // Warm-up (module load, first queries).
    await run("warm-up GET /v1/bookings", 20, 1, (i) => req(i, "GET", "/v1/bookings?limit=20"), engine);
    await run("GET /v1/bookings?limit=20, serial", 300, 1, (i) => req(i, "GET", "/v1/bookings?limit=20"), engine);
    await run("GET /v1/bookings?limit=20, 16 in flight", 600, 16, (i) => req(i, "GET", "/v1/bookings?limit=20"), engine);
    await run("GET /v1/bookings?limit=100&expand=customer, 16 in flight", 200, 16, (i) => req(i, "GET", "/v1/bookings?limit=100&expand=customer"), engine);
    // Slots 0..: each hour holds 20 providers; serial then concurrent creations use distinct hours.
    await run("POST /v1/bookings (hold+confirm), serial", 200, 1, (i) => req(i, "POST", "/v1/bookings", booking(i)), engine);
    await run("POST /v1/bookings (hold+confirm), 16 in flight", 400, 16, (i) => req(i, "POST", "/v1/bookings", booking(1_000 + i)), engine);
    await run(
      "POST /v1/bookings, 16 in flight on one hour (20 cap.)",
      40,
      16,
      (i) => req(i, "POST", "/v1/bookings", booking(5_000)),
      engine,
      [201, 409],
    );
    await run(
      "POST /v1/customers + Idempotency-Key, 16 in flight",
      400,
      16,
      (i) => req(i, "POST", "/v1/customers", { name: `Customer ${i}` }, { "Idempotency-Key": `bench-${i}` }),
      engine,
    );
    const check = await engine.runQuery(
      engine.inlineFunction("query", async (ctx: any, args: any) => {
        const rows = await ctx.db
          .query("bookings")
          .withIndex("by_businessId_and_start", (q: any) => q.eq("businessId", args.businessId).gte("start", args.at).lt("start", args.at + HOUR))
          .collect();
        return rows.length;
      }),
      [{ businessId: ids.businessId, at: tomorrow + 5_000 * HOUR }],
      { identity: null },
    );
    console.log(`  one-hour contention: ${check.success ? check.value : check.errorMessage} bookings placed for 20 providers of capacity 1 (40 attempts)`);
  } finally {
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
