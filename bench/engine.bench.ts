/**
 * Local backend engine benchmark (figures printed, never asserted):
 * - indexed equality query at 1,000 / 10,000 / 50,000 documents, local engine vs convex-test
 *   on the same data (median and p95 per query);
 * - durable mutations per second, serial and with 200 concurrent submitters (group commit);
 * - a booking-shaped mutation (30 document writes, 80 index entries) committed serially, next to
 *   bare better-sqlite3 (WAL, synchronous=FULL) writing the same rows in one transaction, with
 *   SQLite statements, WAL page writes (pwrite64) and fsyncs per transaction for both.
 * Run: npx tsx bench/engine.bench.ts  (BENCH_ONLY=booking for the booking part alone)
 */
import { mkdtempSync, readdirSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { convexTest } from "convex-test";
import { LocalEngine } from "../backend/src/engine/engine.js";
import { benchBookingCommits, isSyscallChild, runSyscallChild } from "./engine_booking.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const fixtureDir = path.join(root, "backend/test/fixtures/app");
const sizes = [1_000, 10_000, 50_000];
const QUERY_RUNS = 200;
const CHANNELS = 10_000; // a few documents per channel at 50,000 docs

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

function describeTimes(times: number[]): string {
  const sorted = [...times].sort((a, b) => a - b);
  return `median ${percentile(sorted, 50).toFixed(3)} ms, p95 ${percentile(sorted, 95).toFixed(3)} ms`;
}

function fixtureModules(): Record<string, () => Promise<unknown>> {
  const modules: Record<string, () => Promise<unknown>> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = path.join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (/\.(ts|js)$/.test(name) && !name.endsWith(".d.ts")) {
        modules["./app/" + path.relative(fixtureDir, full).replace(/\\/g, "/")] = () => import(pathToFileURL(full).href);
      }
    }
  };
  walk(fixtureDir);
  return modules;
}

function doc(i: number) {
  return { channel: `c${i % CHANNELS}`, author: `a${i % 7}`, body: `message ${i}` };
}

async function openEngine(dataDir: string): Promise<LocalEngine> {
  return await LocalEngine.open({
    convexDir: fixtureDir,
    dataDir,
    env: {},
    siteUrl: "http://127.0.0.1:3211",
    cloudUrl: "http://127.0.0.1:3210",
    runCrons: false,
  });
}

async function benchQueries(): Promise<void> {
  console.log("Indexed equality query (messages.by_channel, a few results), per query:");
  const schema = (await import(pathToFileURL(path.join(fixtureDir, "schema.ts")).href)).default;
  const { api } = await import(pathToFileURL(path.join(fixtureDir, "_generated/api.js")).href);
  for (const size of sizes) {
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "engine-bench-"));
    const engine = await openEngine(dataDir);
    const insertMany = engine.inlineFunction("mutation", async (ctx: any, { from, to }: { from: number; to: number }) => {
      for (let i = from; i < to; i++) await ctx.db.insert("messages", doc(i));
    });
    for (let from = 0; from < size; from += 500) {
      const outcome = await engine.runMutation(insertMany, [{ from, to: Math.min(size, from + 500) }], { identity: null });
      if (!outcome.success) throw new Error(outcome.errorMessage);
    }
    const localTimes: number[] = [];
    for (let run = 0; run < QUERY_RUNS; run++) {
      const started = performance.now();
      const outcome = await engine.runQuery("messages:list", [{ channel: `c${run % CHANNELS}` }], { identity: null });
      localTimes.push(performance.now() - started);
      if (!outcome.success) throw new Error(outcome.errorMessage);
    }
    await engine.close();
    rmSync(dataDir, { recursive: true, force: true });

    const t = convexTest(schema, fixtureModules());
    for (let from = 0; from < size; from += 5_000) {
      await t.run(async (ctx: any) => {
        for (let i = from; i < Math.min(size, from + 5_000); i++) await ctx.db.insert("messages", doc(i));
      });
    }
    const mockRuns = size >= 50_000 ? 20 : size >= 10_000 ? 50 : QUERY_RUNS;
    const mockTimes: number[] = [];
    for (let run = 0; run < mockRuns; run++) {
      const started = performance.now();
      await t.query(api.messages.list, { channel: `c${run % CHANNELS}` });
      mockTimes.push(performance.now() - started);
    }
    console.log(`  ${String(size).padStart(6)} docs  local engine: ${describeTimes(localTimes)}   convex-test: ${describeTimes(mockTimes)}`);
  }
}

async function benchMutations(): Promise<void> {
  console.log("Durable mutations (messages:send, synchronous=FULL):");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "engine-bench-"));
  const engine = await openEngine(dataDir);
  const send = (i: number) => engine.runMutation("messages:send", [doc(i)], { identity: null });
  const serialCount = 500;
  let started = performance.now();
  for (let i = 0; i < serialCount; i++) await send(i);
  const serialSeconds = (performance.now() - started) / 1000;
  console.log(`  serial (one submitter):       ${(serialCount / serialSeconds).toFixed(0)} mutations/s`);
  const submitters = 200;
  const perSubmitter = 20;
  let commits = 0;
  engine.onCommit(() => commits++);
  started = performance.now();
  await Promise.all(
    Array.from({ length: submitters }, async (_, s) => {
      for (let i = 0; i < perSubmitter; i++) await send(s * perSubmitter + i);
    }),
  );
  const concurrentSeconds = (performance.now() - started) / 1000;
  console.log(`  200 concurrent submitters:    ${((submitters * perSubmitter) / concurrentSeconds).toFixed(0)} mutations/s (${commits} commits)`);
  await engine.close();
  rmSync(dataDir, { recursive: true, force: true });
}

if (isSyscallChild()) {
  await runSyscallChild(openEngine);
} else {
  const only = process.env.BENCH_ONLY;
  if (only === undefined || only === "query") await benchQueries();
  if (only === undefined || only === "mutation") await benchMutations();
  if (only === undefined || only === "booking") await benchBookingCommits(openEngine);
}
