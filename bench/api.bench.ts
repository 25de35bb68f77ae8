/**
 * REST API benchmark (figures printed, never asserted) over real HTTP: the bench starts the
 * project's local backend itself (`startBackendServer`, free ports, the unchanged convex/
 * folder, durable SQLite in a temporary folder) and a local PartyKit sink on a free port that
 * answers pushes as the party does, then sends requests with `fetch`.
 *
 *  - POST /v1/bookings (hold + confirm in one call, distinct slots): serial and 16 in flight,
 *    next to the floor: bare better-sqlite3 (WAL, synchronous=FULL) writing the same rows the
 *    bookings wrote, one transaction per booking (bench/sqlite_floor.ts);
 *  - durable transactions per booking: on the request path (counted with the scheduler
 *    paused, so only the requests' own commits count) and in all (requests + outbox
 *    delivery + notifications + scheduler bookkeeping, counted until everything drained);
 *  - GET /v1/bookings?limit=20 (1,000 bookings in the business), 16 in flight on one hour
 *    (20 providers: exactly 20 must win), POST /v1/customers with Idempotency-Key.
 *
 * A "durable transaction" is an engine transaction that wrote something;
 * several may share one SQLite COMMIT (group commit), also printed. The business is on the
 * premium plan (2,000 requests/min per key) and requests rotate over several keys so that
 * the figures measure the API, not the rate limiter refusing. The scheduler is stopped and
 * drained before the server closes, so no job outlives the engine.
 * Run: npm run bench -- api
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { openEngine, type LocalEngine } from "../backend/src/engine/index.js";
import { startBackendServer } from "../backend/src/server/index.js";
import { allScopes, generateApiKey, hashApiKey, keyPrefix } from "../convex/api/apiKeyFormat.js";
import { rowsSince, snapshotRows, sqliteFloor } from "./sqlite_floor.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const KEYS = 8;
const HOUR = 3_600_000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

type Figures = { rps: number; median: number; p95: number; failures: number };

function report(label: string, times: number[], wallMs: number, failures: number): Figures {
  const sorted = [...times].sort((a, b) => a - b);
  const rps = (times.length / wallMs) * 1000;
  const figures = { rps, median: percentile(sorted, 50), p95: percentile(sorted, 95), failures };
  console.log(
    `  ${label.padEnd(52)} ${String(times.length).padStart(5)} req  ${rps.toFixed(0).padStart(6)} req/s  ` +
      `median ${figures.median.toFixed(2)} ms  p95 ${figures.p95.toFixed(2)} ms` +
      (failures > 0 ? `  (${failures} unexpected)` : ""),
  );
  return figures;
}

async function run(label: string, count: number, concurrency: number, make: (i: number) => Request, okStatuses = [200, 201]): Promise<Figures> {
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
        const res = await fetch(make(i));
        const text = await res.text();
        times.push(performance.now() - t0);
        if (!okStatuses.includes(res.status)) {
          failures++;
          firstFailure ||= `${res.status} ${text.slice(0, 200)}`;
        }
      }
    }),
  );
  const figures = report(label, times, performance.now() - started, failures);
  if (firstFailure) console.log(`    first unexpected answer: ${firstFailure}`);
  return figures;
}

/** Stands in for PartyKit: accepts every signed push batch and answers as the party does. */
async function startPartySink(): Promise<{ url: string; rows: () => number; posts: () => number; close: () => Promise<void> }> {
  let rows = 0;
  let posts = 0;
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as { events: { seq: number }[] };
        posts++;
        rows += body.events.length;
        response.writeHead(200, { "content-type": "application/json" });
        response.end(JSON.stringify({ results: body.events.map((e) => ({ seq: e.seq, status: "applied" })), lastSeq: body.events.at(-1)?.seq ?? 0 }));
      } catch {
        response.writeHead(400).end("{}");
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    rows: () => rows,
    posts: () => posts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * Counts engine transactions that wrote something (durable transactions) and SQLite COMMITs.
 * The engine hands each transaction of a commit batch its own `writeListener` and clears it
 * after; a transaction counts when its listener heard a write.
 */
function commitCounter(engine: LocalEngine) {
  const counts = { transactions: 0, sqliteCommits: 0 };
  type Listener = ((changes: unknown[]) => void) | null;
  const store = engine.store as unknown as { writeListener: Listener; commit(): void };
  let current: Listener = store.writeListener;
  let wrote = false;
  Object.defineProperty(store, "writeListener", {
    configurable: true,
    get: () => current,
    set: (listener: Listener) => {
      if (listener === null) {
        if (wrote) counts.transactions++;
        wrote = false;
        current = null;
        return;
      }
      wrote = false;
      current = (changes) => {
        if (changes.length > 0) wrote = true;
        listener(changes);
      };
    },
  });
  const commit = store.commit.bind(store);
  store.commit = () => {
    counts.sqliteCommits++;
    commit();
  };
  return {
    reset: () => {
      counts.transactions = 0;
      counts.sqliteCommits = 0;
    },
    read: () => ({ ...counts }),
  };
}

async function main() {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "api-bench-"));
  const sink = await startPartySink();
  let engine: LocalEngine | null = null;
  const server = await startBackendServer({
    port: 0,
    sitePort: 0,
    openEngine: async (urls) => {
      engine = await openEngine({
        convexDir: path.join(root, "convex"),
        dataDir,
        env: {
          PORTAL_URL: "http://127.0.0.1:5173",
          PARTYKIT_URL: sink.url,
          PARTYKIT_PUSH_SECRET: "bench-partykit-push-secret",
          STRIPE_WEBHOOK_SECRET: "whsec_bench_secret",
        },
        siteUrl: urls.siteUrl,
        cloudUrl: urls.cloudUrl,
        runCrons: false,
      });
      return engine;
    },
  });
  const SITE = server.siteUrl;
  const local = engine as unknown as LocalEngine;
  const counter = commitCounter(local);
  try {
    const keys: string[] = [];
    const hashes: { key: string; hash: string; prefix: string }[] = [];
    for (let i = 0; i < KEYS; i++) {
      const key = generateApiKey("test");
      keys.push(key);
      hashes.push({ key, hash: await hashApiKey(key), prefix: keyPrefix(key) });
    }
    const tomorrow = Math.ceil(Date.now() / (24 * HOUR)) * 24 * HOUR + 24 * HOUR;
    const engine = local;

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
    const pendingOutbox = engine.inlineFunction("query", async (ctx: any) => (await ctx.db.query("outbox").withIndex("by_status_and_nextAttemptAt", (q: any) => q.eq("status", "pending")).take(1)).length);
    /** Until nothing is due: no job due within a second, none running, no outbox row pending. */
    const drained = async () => {
      for (;;) {
        await engine.scheduler.whenIdle();
        const due = await engine.readOutside(() =>
          (engine.store.db.prepare("SELECT COUNT(*) FROM documents WHERE table_number = (SELECT number FROM tables WHERE name = '_scheduled_functions') AND json_extract(value, '$.state.kind') IN ('pending', 'inProgress') AND json_extract(value, '$.scheduledTime') <= ?").pluck().get(Date.now() + 1_000) as number),
        );
        const outbox = await engine.runQuery(pendingOutbox, [{}], { identity: null });
        if (due === 0 && engine.scheduler.running() === 0 && outbox.success && outbox.value === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };

    console.log(`REST API over HTTP to a local backend on ${SITE} (PartyKit sink on ${sink.url}):`);
    await run("warm-up GET /v1/bookings", 20, 1, (i) => req(i, "GET", "/v1/bookings?limit=20"));
    await run("warm-up POST /v1/bookings", 20, 1, (i) => req(i, "POST", "/v1/bookings", booking(6_000 + i)));
    await drained();
    await run("GET /v1/bookings?limit=20, serial", 200, 1, (i) => req(i, "GET", "/v1/bookings?limit=20"));
    await run("GET /v1/bookings?limit=20, 16 in flight", 400, 16, (i) => req(i, "GET", "/v1/bookings?limit=20"));

    // Transactions on the request path only: the scheduler is paused, so nothing scheduled runs.
    const PATH_SAMPLE = 100;
    engine.scheduler.stop();
    counter.reset();
    await run("POST /v1/bookings, serial, scheduler paused", PATH_SAMPLE, 1, (i) => req(i, "POST", "/v1/bookings", booking(7_000 + i)));
    const onPath = counter.read();
    engine.scheduler.start();
    await drained();

    // Serial and 16 in flight, live; every transaction counted until all delivery drained.
    const SERIAL = 300;
    const before = snapshotRows(engine.store.db);
    const sinkBefore = sink.rows();
    counter.reset();
    const serial = await run("POST /v1/bookings (hold+confirm), serial", SERIAL, 1, (i) => req(i, "POST", "/v1/bookings", booking(i)));
    await drained();
    const serialTotal = counter.read();
    const pushedRows = sink.rows() - sinkBefore;
    const rows = rowsSince(engine.store.db, before);

    const CONCURRENT = 600;
    counter.reset();
    const concurrent = await run("POST /v1/bookings (hold+confirm), 16 in flight", CONCURRENT, 16, (i) => req(i, "POST", "/v1/bookings", booking(1_000 + i)));
    await drained();
    const concurrentTotal = counter.read();

    const floor = sqliteFloor(rows, SERIAL);
    const per = (n: number, of: number) => (n / of).toFixed(2);
    console.log("");
    console.log(`  floor: better-sqlite3 WAL synchronous=FULL, the same rows (${floor.documentsPerUnit.toFixed(1)} documents + ${floor.indexEntriesPerUnit.toFixed(1)} index entries per booking), one transaction each:`);
    console.log(`    ${floor.perSecond.toFixed(0)} bookings/s, median ${floor.medianMs.toFixed(2)} ms`);
    console.log(`  serial:       ${serial.rps.toFixed(0)} bookings/s = ${(serial.rps / floor.perSecond).toFixed(2)} × floor (target ≥ 0.5)`);
    const target = Math.min(3 * serial.rps, floor.perSecond);
    console.log(
      `  16 in flight: ${concurrent.rps.toFixed(0)} bookings/s = ${(concurrent.rps / serial.rps).toFixed(2)} × serial, ${(concurrent.rps / floor.perSecond).toFixed(2)} × floor (target ≥ ${target.toFixed(0)}/s = min(3 × serial, floor))`,
    );
    console.log(`  durable transactions per booking on the request path: ${per(onPath.transactions, PATH_SAMPLE)} (SQLite commits ${per(onPath.sqliteCommits, PATH_SAMPLE)}; target 1)`);
    console.log(
      `  durable transactions per booking in all (request + outbox delivery + notifications + scheduler): serial ${per(serialTotal.transactions, SERIAL)}, ` +
        `16 in flight ${per(concurrentTotal.transactions, CONCURRENT)} (SQLite commits ${per(serialTotal.sqliteCommits, SERIAL)} / ${per(concurrentTotal.sqliteCommits, CONCURRENT)})`,
    );
    console.log(`  outbox: ${pushedRows} rows pushed to the sink for ${SERIAL} serial bookings in ${sink.posts()} posts overall`);
    console.log("");

    await run("POST /v1/bookings, 16 in flight on one hour (20 cap.)", 40, 16, (i) => req(i, "POST", "/v1/bookings", booking(5_000)), [201, 409]);
    await run(
      "POST /v1/customers + Idempotency-Key, 16 in flight",
      400,
      16,
      (i) => req(i, "POST", "/v1/customers", { name: `Customer ${i}` }, { "Idempotency-Key": `bench-${i}` }),
    );
    const check = await engine.runQuery(
      engine.inlineFunction("query", async (ctx: any, args: any) => {
        const found = await ctx.db
          .query("bookings")
          .withIndex("by_businessId_and_start", (q: any) => q.eq("businessId", args.businessId).gte("start", args.at).lt("start", args.at + HOUR))
          .collect();
        return found.length;
      }),
      [{ businessId: ids.businessId, at: tomorrow + 5_000 * HOUR }],
      { identity: null },
    );
    console.log(`  one-hour contention: ${check.success ? check.value : check.errorMessage} bookings placed for 20 providers of capacity 1 (40 attempts)`);
    await drained();
  } finally {
    // Stop the scheduler and let running jobs finish before the engine closes.
    local.scheduler.stop();
    await local.scheduler.whenIdle();
    await server.close();
    await sink.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
