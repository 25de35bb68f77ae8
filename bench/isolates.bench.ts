/**
 * Function execution on worker threads (figures printed, never asserted), each next to its
 * peer measured in the same run:
 * - the cost of one call on a worker thread vs on the engine's own thread (the floor), for a
 *   query (one indexed read) and a mutation (an indexed read and a write), serial;
 * - the same for a query making ~100 database calls, wall and CPU time per call;
 * - query p99 while idle vs during a write storm, with queries beside the writer (read
 *   connections) and queued with the writes (the engine before);
 * - time to stop a function spinning in `for (;;) {}` vs its time limit, and when the engine on
 *   its own thread refuses a 3 s spin (only once it returned).
 * Run: npx tsx bench/isolates.bench.ts (BENCH_ONLY=call|calls|storm|stop for one part)
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LocalEngine } from "../backend/src/engine/engine.js";
import type { EngineOptions } from "../backend/src/engine/types.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const fixtureDir = path.join(root, "backend/test/fixtures/app");
const admin = { identity: null, allowInternal: true };
const dirs: string[] = [];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

function stats(times: number[]): { median: number; p99: number } {
  const sorted = [...times].sort((a, b) => a - b);
  return { median: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

const ms = (value: number) => `${value.toFixed(3)} ms`;

async function openEngine(options: Partial<EngineOptions> = {}): Promise<LocalEngine> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "isolates-bench-"));
  dirs.push(dataDir);
  return await LocalEngine.open({
    convexDir: fixtureDir,
    dataDir,
    env: {},
    siteUrl: "http://127.0.0.1:3211",
    cloudUrl: "http://127.0.0.1:3210",
    runCrons: false,
    ...options,
  });
}

async function timeCalls(count: number, call: (i: number) => Promise<{ success: boolean }>): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const started = performance.now();
    const outcome = await call(i);
    times.push(performance.now() - started);
    if (!outcome.success) throw new Error(`call ${i} failed: ${JSON.stringify(outcome)}`);
  }
  return times;
}

async function perCallCost(): Promise<void> {
  console.log("\n-- per call: worker thread vs the engine's own thread (serial, after 200 warm-up calls)");
  const results: Record<string, { query: number[]; mutation: number[] }> = {};
  for (const threads of [false, true]) {
    const engine = await openEngine({ functionThreads: threads, concurrentQueries: false });
    try {
      for (let i = 0; i < 20; i++) await engine.runMutation("counters:increment", [{ name: `c${i}` }], admin);
      await timeCalls(200, (i) => engine.runQuery("counters:get", [{ name: `c${i % 20}` }], admin));
      await timeCalls(100, (i) => engine.runMutation("counters:increment", [{ name: `c${i % 20}` }], admin));
      const query = await timeCalls(1000, (i) => engine.runQuery("counters:get", [{ name: `c${i % 20}` }], admin));
      const mutation = await timeCalls(500, (i) => engine.runMutation("counters:increment", [{ name: `c${i % 20}` }], admin));
      results[threads ? "worker" : "in-process"] = { query, mutation };
    } finally {
      await engine.close();
    }
  }
  for (const kind of ["query", "mutation"] as const) {
    const floor = stats(results["in-process"][kind]);
    const worker = stats(results.worker[kind]);
    console.log(
      `${kind.padEnd(8)} in-process median ${ms(floor.median)} p99 ${ms(floor.p99)} | worker median ${ms(worker.median)} p99 ${ms(worker.p99)}` +
        ` | ${(worker.median / floor.median).toFixed(2)}× the floor (+${((worker.median - floor.median) * 1000).toFixed(0)} µs per call)`,
    );
  }
}

/**
 * A query making ~100 database calls (a 100-row `collect`: one queryStream, 101 queryStreamNext),
 * worker vs the engine's thread: wall time and CPU time of the whole process per call (CPU is
 * what a loaded machine shows least noisily; a worker's cost is its hand-offs and copies).
 */
async function manyCallsCost(): Promise<void> {
  console.log("\n-- a query making ~100 database calls: worker thread vs the engine's own thread (rounds alternate)");
  const engines = { "in-process": await openEngine({ functionThreads: false, concurrentQueries: false }), worker: await openEngine({ concurrentQueries: false }) };
  const wall: Record<string, number[]> = { "in-process": [], worker: [] };
  const cpu: Record<string, number> = { "in-process": 0, worker: 0 };
  try {
    for (const engine of Object.values(engines)) {
      for (let i = 0; i < 100; i++) await engine.runMutation("messages:send", [{ channel: "big", author: "a", body: `m${i}` }], admin);
    }
    for (let round = 0; round < 6; round++) {
      for (const [name, engine] of Object.entries(engines)) {
        const started = process.cpuUsage();
        const times = await timeCalls(100, () => engine.runQuery("messages:list", [{ channel: "big" }], admin));
        const used = process.cpuUsage(started);
        if (round === 0) continue; // warm-up
        wall[name].push(...times);
        cpu[name] += (used.user + used.system) / 1000 / 500;
      }
    }
  } finally {
    for (const engine of Object.values(engines)) await engine.close();
  }
  const floor = stats(wall["in-process"]);
  const worker = stats(wall.worker);
  console.log(
    `messages:list (100 rows) in-process median ${ms(floor.median)}, CPU ${ms(cpu["in-process"])} | worker median ${ms(worker.median)}, CPU ${ms(cpu.worker)}` +
      ` | wall ${(worker.median / floor.median).toFixed(2)}×, CPU ${(cpu.worker / cpu["in-process"]).toFixed(2)}× the floor` +
      ` (+${(((cpu.worker - cpu["in-process"]) * 1000) / 102).toFixed(1)} µs CPU per database call)`,
  );
}

async function storm(engine: LocalEngine): Promise<{ idle: number[]; storm: number[]; writes: number }> {
  for (let i = 0; i < 200; i++) await engine.runMutation("messages:send", [{ channel: `c${i % 20}`, author: "a", body: `m${i}` }], admin);
  await timeCalls(100, (i) => engine.runQuery("messages:list", [{ channel: `c${i % 20}` }], admin));
  const idle = await timeCalls(300, (i) => engine.runQuery("messages:list", [{ channel: `c${i % 20}` }], admin));
  let running = true;
  let writes = 0;
  // 64 submitters writing as fast as the writer commits them (group commit batches them).
  const submitters = Array.from({ length: 64 }, async (_, s) => {
    while (running) {
      await engine.runMutation("messages:send", [{ channel: `w${s}`, author: "storm", body: "x".repeat(200) }], admin);
      writes++;
    }
  });
  await new Promise((resolve) => setTimeout(resolve, 300));
  const during = await timeCalls(300, (i) => engine.runQuery("messages:list", [{ channel: `c${i % 20}` }], admin));
  running = false;
  await Promise.all(submitters);
  return { idle, storm: during, writes };
}

async function readsDuringWrites(): Promise<void> {
  console.log("\n-- query p99 idle vs during a write storm (64 submitters)");
  for (const concurrentQueries of [false, true]) {
    const engine = await openEngine({ concurrentQueries });
    try {
      const result = await storm(engine);
      const idle = stats(result.idle);
      const during = stats(result.storm);
      const label = concurrentQueries ? "beside the writer (read connections)" : "queued with the writes (before)";
      console.log(
        `${label.padEnd(38)} idle p99 ${ms(idle.p99)} (median ${ms(idle.median)}) | storm p99 ${ms(during.p99)} (median ${ms(during.median)})` +
          ` | storm/idle p99 ${(during.p99 / idle.p99).toFixed(2)}× | ${result.writes} writes committed meanwhile`,
      );
    } finally {
      await engine.close();
    }
  }
}

async function timeToStop(): Promise<void> {
  console.log("\n-- time to stop a spinning function vs its limit (1000 ms queries and mutations, 1000 ms actions here)");
  const engine = await openEngine({ transactionTimeoutMs: 1000, actionTimeoutMs: 1000 });
  try {
    await engine.runQuery("counters:get", [{ name: "warm" }], admin);
    for (const [kind, run] of [
      ["query", () => engine.runQuery("spin:forever", [{}], admin)],
      ["mutation", () => engine.runMutation("spin:foreverMutation", [{}], admin)],
      ["action", () => engine.runAction("spin:foreverAction", [{}], admin)],
    ] as const) {
      const started = performance.now();
      const outcome = await run();
      const elapsed = performance.now() - started;
      const message = outcome.success ? "(not stopped)" : outcome.errorMessage;
      console.log(`${kind.padEnd(8)} for(;;) stopped after ${elapsed.toFixed(0)} ms = ${(elapsed / 1000).toFixed(2)}× the limit: ${message}`);
    }
  } finally {
    await engine.close();
  }
  const before = await openEngine({ transactionTimeoutMs: 1000, functionThreads: false });
  try {
    const started = performance.now();
    const outcome = await before.runQuery("spin:forMs", [{ ms: 3000 }], admin);
    const elapsed = performance.now() - started;
    console.log(
      `peer: on the engine's own thread a 3 s spin is refused after ${elapsed.toFixed(0)} ms = ${(elapsed / 1000).toFixed(2)}× the limit` +
        ` (for(;;) would never return): ${outcome.success ? "(not refused)" : outcome.errorMessage}`,
    );
  } finally {
    await before.close();
  }
}

/** BENCH_ONLY=call|calls|storm|stop runs one part. */
const only = process.env.BENCH_ONLY ?? null;

async function main(): Promise<void> {
  console.log(`machine: ${os.cpus().length} cores, load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}`);
  try {
    if (only === null || only === "call") await perCallCost();
    if (only === null || only === "calls") await manyCallsCost();
    if (only === null || only === "storm") await readsDuringWrites();
    if (only === null || only === "stop") await timeToStop();
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
