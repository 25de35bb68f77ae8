/**
 * Local backend figures (printed, never asserted), each next to its floor measured in the same run:
 *  - mutation-to-subscriber latency with 100 subscribed ConvexClients (p50/p95/p99), rounds
 *    interleaved with a raw `ws` broadcast of the same Transition text to 100 raw `ws` clients
 *    (trigger message in, 100 frames out, each parsed);
 *  - indexed query over HTTP (POST /api/query, serial) next to a raw `fetch` round trip to a bare
 *    node http server answering the same JSON;
 *  - HTTP API query and mutation throughput.
 * Run: npx tsx bench/backend.bench.ts
 */
import http from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { ConvexHttpClient } from "convex/browser";
import WebSocket, { WebSocketServer } from "ws";
import { api } from "../backend/test/fixtures/app/_generated/api.js";
import { removeTempDirs, startInProcess } from "../backend/test/clients/harness.js";
import { encodeTransition } from "../backend/src/server/protocol.js";

const SUBSCRIBERS = 100;
const LATENCY_ROUNDS = 200;
const HTTP_ROUNDS = 500;
const THROUGHPUT_SECONDS = 3;
const CONCURRENCY = 16;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function p99(samples: number[]): number {
  return percentile([...samples].sort((a, b) => a - b), 99);
}

function summary(samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  return `p50 ${percentile(sorted, 50).toFixed(2)} ms, p95 ${percentile(sorted, 95).toFixed(2)} ms, p99 ${percentile(sorted, 99).toFixed(2)} ms (n=${sorted.length})`;
}

/** Resolves when `count` arrivals for `round` have been recorded. */
class Arrivals {
  private readonly times = new Map<number, number[]>();
  private waiting: { round: number; count: number; resolve: () => void } | null = null;

  record(round: number): void {
    const list = this.times.get(round) ?? [];
    list.push(performance.now());
    this.times.set(round, list);
    if (this.waiting !== null && this.waiting.round === round && list.length === this.waiting.count) this.waiting.resolve();
  }

  wait(round: number, count: number): Promise<number[]> {
    return new Promise((resolve) => {
      const done = () => resolve(this.times.get(round)!);
      if ((this.times.get(round)?.length ?? 0) === count) done();
      else this.waiting = { round, count, resolve: done };
    });
  }
}

/**
 * The floor: one trigger frame in, the same Transition text to every raw `ws` client, each parsed.
 * With `durable`, the trigger first commits one row with bare better-sqlite3 (WAL,
 * synchronous=FULL), the durable write a mutation cannot skip before anyone may see it.
 */
async function rawBroadcastFloor(durable: Database.Database | null) {
  const insert = durable?.prepare("INSERT INTO counters (name, value) VALUES (?, ?)");
  const server = new WebSocketServer({ host: "127.0.0.1", port: 0 });
  await new Promise<void>((resolve) => server.on("listening", () => resolve()));
  const url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const subscribers = new Set<WebSocket>();
  server.on("connection", (socket, request) => {
    if (request.url === "/subscribe") subscribers.add(socket);
    socket.on("message", (data) => {
      const round = Number(data.toString());
      insert?.run("bench-latency", round);
      const text = encodeTransition(
        { querySet: 1, ts: "AAAAAAAAAAA=", identity: 0 },
        { querySet: 1, ts: "AQAAAAAAAAA=", identity: 0 },
        [`{"type":"QueryUpdated","queryId":0,"value":${round},"logLines":[],"journal":null}`],
      );
      for (const subscriber of subscribers) subscriber.send(text);
    });
  });
  const arrivals = new Arrivals();
  const open = (path: string) =>
    new Promise<WebSocket>((resolve) => {
      const socket = new WebSocket(url + path);
      socket.on("open", () => resolve(socket));
    });
  const clients = await Promise.all(Array.from({ length: SUBSCRIBERS }, () => open("/subscribe")));
  for (const client of clients) {
    client.on("message", (data) => {
      const message = JSON.parse(data.toString());
      arrivals.record(message.modifications[0].value);
    });
  }
  const trigger = await open("/trigger");
  return {
    async round(round: number): Promise<number[]> {
      const arrived = arrivals.wait(round, SUBSCRIBERS);
      const sentAt = performance.now();
      trigger.send(String(round));
      return (await arrived).map((at) => at - sentAt);
    },
    async close() {
      for (const client of [...clients, trigger]) client.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function subscriberLatency(backend: Awaited<ReturnType<typeof startInProcess>>): Promise<void> {
  const clients = Array.from({ length: SUBSCRIBERS }, () => backend.syncClient());
  const arrivals = new Arrivals();
  for (const client of clients) client.onUpdate(api.counters.get, { name: "bench-latency" }, (value) => arrivals.record(value));
  await arrivals.wait(0, SUBSCRIBERS);
  const floor = await rawBroadcastFloor(null);
  const sqliteDir = mkdtempSync(path.join(os.tmpdir(), "backend-bench-"));
  const sqlite = new Database(path.join(sqliteDir, "floor.sqlite3"));
  sqlite.pragma("journal_mode = WAL");
  sqlite.pragma("synchronous = FULL");
  sqlite.exec("CREATE TABLE counters (id INTEGER PRIMARY KEY, name TEXT NOT NULL, value INTEGER NOT NULL)");
  const durableFloor = await rawBroadcastFloor(sqlite);

  const writer = backend.syncClient();
  const rerunsBefore = backend.server.subscriptionStats().reruns;
  const latencies: number[] = [];
  const lastArrival: number[] = [];
  const floorLatencies: number[] = [];
  const floorLastArrival: number[] = [];
  const durableLatencies: number[] = [];
  const durableLastArrival: number[] = [];
  for (let round = 1; round <= LATENCY_ROUNDS; round++) {
    const arrived = arrivals.wait(round, SUBSCRIBERS);
    const sentAt = performance.now();
    await writer.mutation(api.counters.increment, { name: "bench-latency" });
    const times = (await arrived).map((at) => at - sentAt);
    latencies.push(...times);
    lastArrival.push(Math.max(...times));
    const floorTimes = await floor.round(round);
    floorLatencies.push(...floorTimes);
    floorLastArrival.push(Math.max(...floorTimes));
    const durableTimes = await durableFloor.round(round);
    durableLatencies.push(...durableTimes);
    durableLastArrival.push(Math.max(...durableTimes));
  }
  const reruns = backend.server.subscriptionStats().reruns - rerunsBefore;
  console.log(`mutation -> ${SUBSCRIBERS} subscribed ConvexClients, per delivery: ${summary(latencies)}`);
  console.log(`  floor: raw ws broadcast to ${SUBSCRIBERS} clients, per delivery:  ${summary(floorLatencies)}`);
  console.log(`  floor + one bare-SQLite durable commit first:            ${summary(durableLatencies)}`);
  console.log(
    `  p99 ratio: ${(p99(latencies) / p99(floorLatencies)).toFixed(2)}x raw ws, ` +
      `${(p99(latencies) / p99(durableLatencies)).toFixed(2)}x durable commit + raw ws`,
  );
  console.log(`mutation -> last of ${SUBSCRIBERS} subscribers:                 ${summary(lastArrival)}`);
  console.log(`  floor: last of ${SUBSCRIBERS} raw ws clients:                  ${summary(floorLastArrival)}`);
  console.log(`  floor + one bare-SQLite durable commit first:            ${summary(durableLastArrival)}`);
  console.log(
    `  p99 ratio: ${(p99(lastArrival) / p99(floorLastArrival)).toFixed(2)}x raw ws, ` +
      `${(p99(lastArrival) / p99(durableLastArrival)).toFixed(2)}x durable commit + raw ws`,
  );
  console.log(`query re-runs for ${LATENCY_ROUNDS} commits watched by ${SUBSCRIBERS} clients: ${reruns}`);
  await floor.close();
  await durableFloor.close();
  sqlite.close();
  rmSync(sqliteDir, { recursive: true, force: true });
  await Promise.all([...clients, writer].map((client) => client.close()));
}

/** Serial POST /api/query of an indexed query, rounds interleaved with a raw fetch to a bare server. */
async function httpQueryVsRawFetch(cloudUrl: string): Promise<void> {
  const client = new ConvexHttpClient(cloudUrl);
  await client.mutation(api.counters.increment, { name: "bench-http-query" });
  const body = JSON.stringify({ status: "success", value: 1, logLines: [] });
  const bare = http.createServer((request, response) => {
    request.resume();
    request.on("end", () => {
      response.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(body) });
      response.end(body);
    });
  });
  await new Promise<void>((resolve) => bare.listen(0, "127.0.0.1", () => resolve()));
  const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}/api/query`;
  const requestBody = JSON.stringify({ path: "counters:get", args: [{ name: "bench-http-query" }], format: "convex_encoded_json" });
  const queryTimes: number[] = [];
  const fetchTimes: number[] = [];
  const post = async (url: string) => {
    const response = await fetch(url, { method: "POST", headers: { "content-type": "application/json" }, body: requestBody });
    const json = (await response.json()) as { value: unknown };
    if (json.value !== 1) throw new Error(`unexpected answer from ${url}: ${JSON.stringify(json)}`);
  };
  for (let round = 0; round < HTTP_ROUNDS; round++) {
    let started = performance.now();
    await post(`${cloudUrl}/api/query`);
    queryTimes.push(performance.now() - started);
    started = performance.now();
    await post(bareUrl);
    fetchTimes.push(performance.now() - started);
  }
  await new Promise<void>((resolve) => bare.close(() => resolve()));
  const median = (samples: number[]) => percentile([...samples].sort((a, b) => a - b), 50);
  console.log(`indexed query over HTTP (POST /api/query, fetch, serial): ${summary(queryTimes)}`);
  console.log(`  floor: raw fetch to a bare node http server:            ${summary(fetchTimes)}`);
  console.log(`  ratio to floor: median ${(median(queryTimes) / median(fetchTimes)).toFixed(2)}x, p99 ${(p99(queryTimes) / p99(fetchTimes)).toFixed(2)}x`);
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
  await httpQueryVsRawFetch(backend.server.cloudUrl);
  await httpThroughput(backend.server.cloudUrl, "query");
  await httpThroughput(backend.server.cloudUrl, "mutation");
} finally {
  await backend.close();
  removeTempDirs();
}
