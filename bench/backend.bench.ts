/**
 * Local backend figures (printed, never asserted):
 *  - mutation-to-subscriber latency with 100 subscribed ConvexClients (p50/p95/p99)
 *  - HTTP API query and mutation throughput
 * Run: npx tsx bench/backend.bench.ts
 */
import { performance } from "node:perf_hooks";
import { ConvexHttpClient } from "convex/browser";
import { api } from "../backend/test/fixtures/app/_generated/api.js";
import { removeTempDirs, startInProcess } from "../backend/test/clients/harness.js";

const SUBSCRIBERS = 100;
const LATENCY_ROUNDS = 200;
const THROUGHPUT_SECONDS = 3;
const CONCURRENCY = 16;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(2)} ms, p95 ${percentile(sorted, 95).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms (n=${sorted.length})`;
}

async function subscriberLatency(backend: Awaited<ReturnType<typeof startInProcess>>): Promise<void> {
  const clients = Array.from({ length: SUBSCRIBERS }, () => backend.syncClient());
  const arrivals = new Map<number, number[]>();
  let expected = 0;
  let onAllArrived: (() => void) | null = null;
  for (const client of clients) {
    client.onUpdate(api.counters.get, { name: "bench-latency" }, (value) => {
      const list = arrivals.get(value) ?? [];
      list.push(performance.now());
      arrivals.set(value, list);
      if (value === expected && list.length === SUBSCRIBERS) onAllArrived?.();
    });
  }
  const allArrived = (value: number) =>
    new Promise<void>((resolve) => {
      expected = value;
      if ((arrivals.get(value)?.length ?? 0) === SUBSCRIBERS) resolve();
      else onAllArrived = resolve;
    });
  await allArrived(0);

  const writer = backend.syncClient();
  const latencies: number[] = [];
  const lastArrival: number[] = [];
  for (let round = 1; round <= LATENCY_ROUNDS; round++) {
    const arrived = allArrived(round);
    const sentAt = performance.now();
    await writer.mutation(api.counters.increment, { name: "bench-latency" });
    await arrived;
    const times = arrivals.get(round)!;
    for (const at of times) latencies.push(at - sentAt);
    lastArrival.push(Math.max(...times) - sentAt);
  }
  console.log(`mutation -> ${SUBSCRIBERS} subscribed ConvexClients, per delivery: ${summary(latencies)}`);
  console.log(`mutation -> last of ${SUBSCRIBERS} subscribers:                 ${summary(lastArrival)}`);
  console.log(`query re-runs for ${LATENCY_ROUNDS} commits watched by ${SUBSCRIBERS} clients: ${backend.server.subscriptionStats().reruns}`);
  await Promise.all([...clients, writer].map((client) => client.close()));
}

async function httpThroughput(cloudUrl: string, kind: "query" | "mutation"): Promise<void> {
  const deadline = performance.now() + THROUGHPUT_SECONDS * 1000;
  let completed = 0;
  const latencies: number[] = [];
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async (_, worker) => {
      const client = new ConvexHttpClient(cloudUrl);
      while (performance.now() < deadline) {
        const started = performance.now();
        if (kind === "query") await client.query(api.counters.get, { name: `bench-http-${worker}` });
        else await client.mutation(api.counters.increment, { name: `bench-http-${worker}` }, { skipQueue: true });
        latencies.push(performance.now() - started);
        completed++;
      }
    }),
  );
  console.log(
    `HTTP ${kind}: ${(completed / THROUGHPUT_SECONDS).toFixed(0)} /s with ${CONCURRENCY} concurrent callers; latency ${summary(latencies)}`,
  );
}

const backend = await startInProcess();
try {
  console.log("# local backend (in-process servers + engine, fixture app)");
  await subscriberLatency(backend);
  await httpThroughput(backend.server.cloudUrl, "query");
  await httpThroughput(backend.server.cloudUrl, "mutation");
} finally {
  await backend.close();
  removeTempDirs();
}
