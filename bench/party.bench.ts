/**
 * PartyKit fan-out benchmark (run: `npx tsx bench/party.bench.ts`). Prints figures, asserts nothing.
 *
 * Starts `partykit dev` on a free port, opens 1,000 WebSockets across availability rooms, then:
 *  1. latency: one signed push at a time; time from just before the POST to each subscriber's
 *     receipt (per delivery), and to the last subscriber of the room (per push);
 *  2. throughput: every room pushes a stream of events at once (each room's pushes sequential,
 *     as the outbox delivers them); deliveries per second across all subscribers.
 * The client sockets run in this process on the same machine as workerd, so figures include
 * the client's own cost of receiving and parsing every message.
 *
 *  3. the same stream sent as batches of BENCH_PARTY_BATCH events per POST (the outbox worker
 *     can send a room's pending events together): one grid per batch, so one diff per batch.
 *
 * Availability rooms send visitors their slot grid, not the committed events: every push here
 * carries a grid with one cell changed, which each subscriber receives as a numbered
 * `grid.diff` (its version counts the pushes, as seq did).
 *
 * Env: BENCH_PARTY_SOCKETS (1000), BENCH_PARTY_ROOMS (20), BENCH_PARTY_LATENCY_PUSHES (200),
 *      BENCH_PARTY_STREAM_PER_ROOM (100), BENCH_PARTY_BATCH (10).
 */
import os from "node:os";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import type { SlotGrid } from "../domain/slotGrid";
import type { AvailabilityEvent } from "../party/messages";
import { signPush } from "../party/push-signature";
import { roomIds, roomPath } from "../party/rooms";
import { startDevServer, type DevServer } from "../party/testing/dev-server";

const SOCKETS = Number(process.env.BENCH_PARTY_SOCKETS ?? 1_000);
const ROOMS = Number(process.env.BENCH_PARTY_ROOMS ?? 20);
const LATENCY_PUSHES = Number(process.env.BENCH_PARTY_LATENCY_PUSHES ?? 200);
const STREAM_PER_ROOM = Number(process.env.BENCH_PARTY_STREAM_PER_ROOM ?? 100);
const BATCH = Number(process.env.BENCH_PARTY_BATCH ?? 10);
const SECRET = "bench-push-secret-0123456789abcdef";
const DATE = "2026-11-22";
const OPEN_BATCH = 50;

type Room = { id: string; sockets: WebSocket[]; nextSeq: number };
type Delivery = { room: string; seq: number; at: number };

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

function summary(label: string, samples: number[]): string {
  const sorted = [...samples].sort((a, b) => a - b);
  const fmt = (n: number) => n.toFixed(2).padStart(8);
  return `${label.padEnd(34)} n=${String(sorted.length).padStart(6)}  p50 ${fmt(percentile(sorted, 50))} ms  p99 ${fmt(
    percentile(sorted, 99),
  )} ms  max ${fmt(sorted[sorted.length - 1])} ms`;
}

function event(roomIndex: number): AvailabilityEvent {
  return {
    type: "slots.changed",
    businessId: "bench",
    zoneId: `z${roomIndex}`,
    date: DATE,
    resourceIds: ["r1", "r2"],
    reason: "booking_created",
  };
}

/** The room's grid after push `seq`: one cell differs from the grid before. */
function gridAt(seq: number): SlotGrid {
  const spans = new Array<number>(48).fill(0);
  spans[seq % 48] = 1 + (seq % 1_400);
  return {
    date: DATE,
    timeZone: "UTC",
    dayStart: Date.parse(`${DATE}T00:00:00Z`),
    stepMinutes: 30,
    minimumNoticeMinutes: 0,
    arrivalWindowMinutes: 0,
    asOf: seq,
    resources: [{ id: "r1", productIds: [], spans }],
  };
}

let retries = 0;

/**
 * POST with up to two retries on a dropped keep-alive connection ("other side closed"). Safe
 * because pushes are idempotent: a redelivered seq is answered "duplicate" and not broadcast.
 */
async function postPush(url: string, body: string, headers: Record<string, string>): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fetch(url, { method: "POST", body, headers: { ...headers, "content-type": "application/json" } });
    } catch (error) {
      if (attempt >= 2 || !(error instanceof TypeError)) throw error;
      retries++;
    }
  }
}

async function pushEvent(server: DevServer, room: Room, roomIndex: number): Promise<{ seq: number; sentAt: number }> {
  const seq = room.nextSeq++;
  const body = JSON.stringify({
    party: "availability",
    room: room.id,
    events: [{ seq, eventId: `bench_${room.id}_${seq}`, occurredAt: Date.now(), event: event(roomIndex) }],
    grid: gridAt(seq),
  });
  const headers = await signPush(SECRET, body);
  const sentAt = performance.now();
  const response = await postPush(`${server.httpUrl}${roomPath("availability", room.id)}`, body, headers);
  if (response.status !== 200) throw new Error(`push ${room.id}#${seq} answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
  return { seq, sentAt };
}

async function pushBatch(server: DevServer, room: Room, roomIndex: number, size: number): Promise<number> {
  const events = Array.from({ length: size }, () => {
    const seq = room.nextSeq++;
    return { seq, eventId: `bench_${room.id}_${seq}`, occurredAt: Date.now(), event: event(roomIndex) };
  });
  const body = JSON.stringify({ party: "availability", room: room.id, events, grid: gridAt(room.nextSeq - 1) });
  const headers = await signPush(SECRET, body);
  const sentAt = performance.now();
  const response = await postPush(`${server.httpUrl}${roomPath("availability", room.id)}`, body, headers);
  if (response.status !== 200) throw new Error(`batch to ${room.id} answered ${response.status}: ${await response.text()}`);
  await response.arrayBuffer();
  return performance.now() - sentAt;
}

function openSocket(url: string, onEvent: (delivery: Delivery) => void, roomId: string): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on("message", (data) => {
      const at = performance.now();
      const message = JSON.parse(data.toString()) as { type: string; version?: number };
      if ((message.type === "grid.diff" || message.type === "grid") && message.version) onEvent({ room: roomId, seq: message.version, at });
    });
    ws.once("open", () => resolve(ws));
    ws.once("error", reject);
  });
}

async function main(): Promise<void> {
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}`);
  const load = () => os.loadavg().map((n) => n.toFixed(1)).join(" / ");
  console.log(`load average at start (1/5/15 min): ${load()} (the machine is shared; figures scale with it)`);
  console.log(`sockets ${SOCKETS} across ${ROOMS} availability rooms; latency pushes ${LATENCY_PUSHES}; stream ${STREAM_PER_ROOM}/room`);
  const server = await startDevServer({ PARTYKIT_PUSH_SECRET: SECRET, PARTYKIT_PUSH_SECRET_PREVIOUS: "" });
  const sockets: WebSocket[] = [];
  try {
    const rooms: Room[] = Array.from({ length: ROOMS }, (_, i) => ({
      id: roomIds.availability("bench", `z${i}`, DATE),
      sockets: [],
      nextSeq: 1,
    }));

    // Per (room, seq): the receipt times, and whoever is waiting for the room to be complete.
    const received = new Map<string, number[]>();
    const outOfOrder = { count: 0 };
    const lastSeqBySocket = new Map<WebSocket, number>();
    let onDelivery: ((delivery: Delivery) => void) | undefined;

    const opening = performance.now();
    const connectTimes: number[] = [];
    for (let start = 0; start < SOCKETS; start += OPEN_BATCH) {
      const batch = Array.from({ length: Math.min(OPEN_BATCH, SOCKETS - start) }, async (_, offset) => {
        const room = rooms[(start + offset) % ROOMS];
        const t0 = performance.now();
        let socket: WebSocket | undefined = undefined;
        socket = await openSocket(
          `ws://${server.host}${roomPath("availability", room.id)}`,
          (delivery) => {
            const previous = lastSeqBySocket.get(socket!) ?? 0;
            if (delivery.seq <= previous) outOfOrder.count++;
            lastSeqBySocket.set(socket!, delivery.seq);
            const key = `${delivery.room}#${delivery.seq}`;
            const times = received.get(key) ?? [];
            times.push(delivery.at);
            received.set(key, times);
            onDelivery?.(delivery);
          },
          room.id,
        );
        connectTimes.push(performance.now() - t0);
        room.sockets.push(socket);
        sockets.push(socket);
      });
      await Promise.all(batch);
    }
    console.log(`opened ${sockets.length} sockets in ${((performance.now() - opening) / 1000).toFixed(2)} s`);
    console.log(summary("connect (open handshake)", connectTimes));

    function allDelivered(room: Room, seq: number): Promise<void> {
      const key = `${room.id}#${seq}`;
      if ((received.get(key)?.length ?? 0) >= room.sockets.length) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`${key} reached ${received.get(key)?.length ?? 0} of ${room.sockets.length}`)), 30_000);
        onDelivery = () => {
          if ((received.get(key)?.length ?? 0) >= room.sockets.length) {
            clearTimeout(timer);
            onDelivery = undefined;
            resolve();
          }
        };
      });
    }

    // Warm-up: one push per room (first request to a room starts it).
    for (let i = 0; i < ROOMS; i++) {
      const { seq } = await pushEvent(server, rooms[i], i);
      await allDelivered(rooms[i], seq);
    }

    // 1. Latency, one push at a time.
    const perDelivery: number[] = [];
    const perPushLast: number[] = [];
    const pushAck: number[] = [];
    for (let n = 0; n < LATENCY_PUSHES; n++) {
      const roomIndex = n % ROOMS;
      const room = rooms[roomIndex];
      const done = (async () => {
        const { seq, sentAt } = await pushEvent(server, room, roomIndex);
        pushAck.push(performance.now() - sentAt);
        return { seq, sentAt };
      })();
      const { seq, sentAt } = await done;
      await allDelivered(room, seq);
      const times = received.get(`${room.id}#${seq}`)!;
      for (const at of times) perDelivery.push(at - sentAt);
      perPushLast.push(Math.max(...times) - sentAt);
    }
    console.log("\n1. latency, one push at a time (POST sent -> subscriber receives)");
    console.log(summary("push -> each subscriber", perDelivery));
    console.log(summary(`push -> last of ${Math.round(SOCKETS / ROOMS)} in the room`, perPushLast));
    console.log(summary("push -> 200 response", pushAck));

    // 2. Throughput: all rooms stream at once.
    received.clear();
    let delivered = 0;
    const expected = ROOMS * STREAM_PER_ROOM * Math.round(SOCKETS / ROOMS);
    const streamDone = new Promise<void>((resolve) => {
      onDelivery = () => {
        delivered++;
        if (delivered >= expected) resolve();
      };
    });
    const streamStart = performance.now();
    const streamLatencies: number[] = [];
    await Promise.all(
      rooms.map(async (room, roomIndex) => {
        for (let i = 0; i < STREAM_PER_ROOM; i++) {
          const { seq, sentAt } = await pushEvent(server, room, roomIndex);
          void seq;
          streamLatencies.push(performance.now() - sentAt);
        }
      }),
    );
    const pushesDoneAt = performance.now();
    await Promise.race([streamDone, new Promise((resolve) => setTimeout(resolve, 60_000))]);
    const streamEnd = performance.now();
    const seconds = (streamEnd - streamStart) / 1000;
    console.log(`\n2. throughput, ${ROOMS} rooms pushing ${STREAM_PER_ROOM} events each concurrently`);
    console.log(`pushes accepted: ${ROOMS * STREAM_PER_ROOM} in ${((pushesDoneAt - streamStart) / 1000).toFixed(2)} s = ${Math.round((ROOMS * STREAM_PER_ROOM) / ((pushesDoneAt - streamStart) / 1000))} pushes/s`);
    console.log(`deliveries: ${delivered} of ${expected} in ${seconds.toFixed(2)} s = ${Math.round(delivered / seconds)} events/s delivered to subscribers`);
    console.log(summary("push -> 200 response under load", streamLatencies));

    // 3. Throughput with batched pushes.
    let batchDelivered = 0;
    const batchBatches = Math.ceil(STREAM_PER_ROOM / BATCH);
    const batchExpected = ROOMS * batchBatches * Math.round(SOCKETS / ROOMS);
    const batchDone = new Promise<void>((resolve) => {
      onDelivery = () => {
        batchDelivered++;
        if (batchDelivered >= batchExpected) resolve();
      };
    });
    const batchStart = performance.now();
    const batchAcks: number[] = [];
    await Promise.all(
      rooms.map(async (room, roomIndex) => {
        for (let i = 0; i < batchBatches; i++) batchAcks.push(await pushBatch(server, room, roomIndex, BATCH));
      }),
    );
    await Promise.race([batchDone, new Promise((resolve) => setTimeout(resolve, 60_000))]);
    const batchSeconds = (performance.now() - batchStart) / 1000;
    console.log(`\n3. throughput, the same stream in batches of ${BATCH} events per POST`);
    console.log(`events accepted: ${ROOMS * batchBatches * BATCH} in ${ROOMS * batchBatches} POSTs`);
    console.log(`diffs delivered: ${batchDelivered} of ${batchExpected} (one per batch) in ${batchSeconds.toFixed(2)} s = ${Math.round((batchDelivered * BATCH) / batchSeconds)} events/s covered`);
    console.log(summary("batch POST -> 200 response", batchAcks));
    console.log(`\nout-of-order deliveries seen by any socket: ${outOfOrder.count}; POSTs retried after a dropped connection: ${retries}`);
    console.log(`load average at end (1/5/15 min): ${load()}`);
  } finally {
    await Promise.all(
      sockets.map(
        (ws) =>
          new Promise<void>((resolve) => {
            if (ws.readyState === WebSocket.CLOSED) return resolve();
            ws.once("close", () => resolve());
            ws.terminate();
          }),
      ),
    );
    await server.stop();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
