/**
 * Booking-widget fan-out (run: `npm run bench -- widget`). Prints figures, asserts nothing.
 *
 * The whole path on loopback, free ports: the local backend (seeded demo data) and `partykit
 * dev`. N anonymous widget sockets join one availability room of the demo business (its zone
 * of 11215, three days ahead), as the widget does: each gets the slot grid on connect. Then a booking is
 * made through the REST API; the outbox delivery pushes the room's new grid and every socket
 * receives one `grid.diff` (the booking is then cancelled, unmeasured, to free the time). For each N of the series (BENCH_WIDGET_VISITORS, default
 * 500,1000,2500,5000):
 *   - fan-out: from the first socket's receipt to each socket's (the room broadcasts at once;
 *     this is what N costs), and from the booking's commit (the REST answer) to each socket
 *     (the outbox window, the grid query and the push included);
 *   - a raw `ws` broadcast floor in the same run: a bare WebSocket server on loopback sending
 *     the same diff to N clients of this process, send → each receipt;
 *   - Convex query executions while the N sockets connected and the booking went out (from the
 *     backend's function log): constant in N, since visitors never query Convex.
 *
 * Env: BENCH_WIDGET_VISITORS (comma list), BENCH_WIDGET_OPEN_BATCH (100).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import WebSocket, { WebSocketServer } from "ws";
import { roomIds, roomPath } from "../party/rooms";
import { freePort, startDevServer, type DevServer } from "../party/testing/dev-server";
import { ensureLocalEnv, repoRoot } from "../scripts/env";
import { seedDemoData } from "../scripts/seed";

const SERIES = (process.env.BENCH_WIDGET_VISITORS ?? "500,1000,2500,5000").split(",").map(Number);
const OPEN_BATCH = Number(process.env.BENCH_WIDGET_OPEN_BATCH ?? 100);

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}
function stats(samples: number[]): { p50: number; p99: number; max: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  return { p50: percentile(s, 50), p99: percentile(s, 99), max: s[s.length - 1] ?? NaN, n: s.length };
}
const ms = (n: number) => `${n.toFixed(1)} ms`;

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function startBackend(envFile: string, dataDir: string, port: number, sitePort: number, adminKey: string) {
  const child = spawn(
    process.execPath,
    [path.join(repoRoot, "backend", "bin", "backend.mjs"), "--convex-dir", "convex", "--data-dir", dataDir, "--port", String(port), "--site-port", String(sitePort), "--env-file", envFile],
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1", CONVEX_SELF_HOSTED_ADMIN_KEY: adminKey } },
  );
  const log = { text: "", queries: 0, byName: new Map<string, number>(), entries: [] as LogEntry[] };
  const onData = (chunk: Buffer) => {
    const text = chunk.toString();
    log.text = (log.text + text).slice(-20_000);
    for (const match of text.matchAll(/^(\S+Z) (query|mutation|action|httpAction) (\S+) ([\d.]+)ms/gm)) {
      const end = Date.parse(match[1]);
      const durationMs = Number(match[4]);
      log.entries.push({ kind: match[2], path: match[3], start: end - durationMs, end, durationMs });
      if (match[2] !== "query") continue;
      log.queries++;
      log.byName.set(match[3], (log.byName.get(match[3]) ?? 0) + 1);
    }
  };
  child.stdout!.on("data", onData);
  child.stderr!.on("data", onData);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`backend exited:\n${log.text}`);
    try {
      const r = await fetch(url);
      await r.body?.cancel();
      if (r.status < 502) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) throw new Error(`backend did not start:\n${log.text}`);
    await new Promise((r) => setTimeout(r, 200));
  }
  return { child, url, siteUrl: `http://127.0.0.1:${sitePort}`, log };
}

async function convexQuery<T>(url: string, fn: string, args: Record<string, unknown>): Promise<T> {
  const r = await fetch(`${url}/api/query`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ path: fn, args, format: "json" }) });
  const body = (await r.json()) as { status: string; value: T; errorMessage?: string };
  if (body.status !== "success") throw new Error(`${fn}: ${body.errorMessage}`);
  return body.value;
}

type Visitor = { ws: WebSocket; gotGrid: boolean; diffAt: number | null; diffText?: string };
/** One line of the backend's function log: when the function ended (its clock, ms) and how long it ran. */
type LogEntry = { kind: string; path: string; start: number; end: number; durationMs: number };
/** performance.now() of this process as wall-clock ms (the backend's log and the grid's asOf use the wall clock). */
const wall = (t: number) => performance.timeOrigin + t;

function openVisitor(url: string): Promise<Visitor> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    const v: Visitor = { ws, gotGrid: false, diffAt: null };
    ws.on("message", (data) => {
      const at = performance.now();
      const text = data.toString();
      if (text.startsWith('{"type":"grid.diff"')) {
        if (v.diffAt === null) {
          v.diffAt = at;
          v.diffText = text;
        }
      }
      else if (text.startsWith('{"type":"grid"')) v.gotGrid = true;
    });
    ws.once("open", () => resolve(v));
    ws.once("error", reject);
  });
}

type Phases = {
  commitToRun: number;
  claim: number;
  gridRead: number;
  gridReadAll: number;
  gridReads: number;
  asOfToFirst: number;
  firstToLast: number;
  commitToLast: number;
};

/**
 * Splits one booking's commit → last visitor into its phases: the wait until the delivery run
 * starts (the outbox window and the scheduler), its claim, the grid read(s) (the log does not
 * say which room a read was for: the one that ran longest is taken as this room's, and all of
 * them are summed), the push and the room up to the first visitor (from the grid's `asOf`,
 * Convex's clock when it computed it), and the room's fan-out.
 */
function bookingPhases(entries: LogEntry[], postedAt: number, committedAt: number, visitors: Visitor[], times: number[]): Phases {
  const nan = Number.NaN;
  const run = entries.find((e) => e.path.startsWith("realtime:deliverOutbox") && e.start >= postedAt);
  const inRun = (e: LogEntry) => run !== undefined && e.start >= run.start - 1 && e.end <= run.end + 1;
  const claim = entries.find((e) => e.path.startsWith("realtime:claimDue") && inRun(e));
  const first = Math.min(...times);
  const last = Math.max(...times);
  // The reads that started before the first visitor had the diff (this room's is among them).
  const reads = entries.filter((e) => e.path.startsWith("availabilityGrid:forRoom") && e.start >= postedAt && e.start <= wall(first));
  if (process.env.BENCH_WIDGET_TRACE) for (const e of entries) console.log(`  [log] ${e.kind} ${e.path} ${(e.start - committedAt).toFixed(1)} → ${(e.end - committedAt).toFixed(1)} (${e.durationMs} ms)`);
  const firstVisitor = visitors[times.indexOf(first)];
  let asOf = nan;
  try {
    asOf = (JSON.parse(firstVisitor.diffText ?? "{}") as { asOf?: number }).asOf ?? nan;
  } catch {
    // not JSON: leave NaN
  }
  return {
    commitToRun: run === undefined ? nan : run.start - committedAt,
    claim: claim?.durationMs ?? nan,
    gridRead: reads.length === 0 ? 0 : Math.max(...reads.map((e) => e.durationMs)),
    gridReadAll: reads.reduce((sum, e) => sum + e.durationMs, 0),
    gridReads: reads.length,
    asOfToFirst: wall(first) - asOf,
    firstToLast: last - first,
    commitToLast: wall(last) - committedAt,
  };
}

/** The floor: a bare `ws` server broadcasting one message of `bytes` to `n` local clients. */
async function rawFloor(n: number, payload: string): Promise<number[]> {
  const port = await freePort();
  const server = new WebSocketServer({ host: "127.0.0.1", port });
  await new Promise<void>((r) => server.once("listening", () => r()));
  const clients: { ws: WebSocket; at: number | null }[] = [];
  for (let i = 0; i < n; i += OPEN_BATCH) {
    await Promise.all(
      Array.from({ length: Math.min(OPEN_BATCH, n - i) }, () => new Promise<void>((resolve, reject) => {
        const c = { ws: new WebSocket(`ws://127.0.0.1:${port}`), at: null as number | null };
        c.ws.on("message", () => (c.at ??= performance.now()));
        c.ws.once("open", () => resolve());
        c.ws.once("error", reject);
        clients.push(c);
      })),
    );
  }
  await waitFor(() => server.clients.size >= n, 30_000, "raw clients registered");
  const sentAt = performance.now();
  for (const socket of server.clients) socket.send(payload);
  await waitFor(() => clients.every((c) => c.at !== null), 60_000, "raw broadcast received");
  const latencies = clients.map((c) => c.at! - sentAt);
  for (const c of clients) c.ws.terminate();
  await new Promise((r) => server.close(() => r(undefined)));
  return latencies;
}

async function main(): Promise<void> {
  console.log(`machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "cpu"}, node ${process.version}`);
  const load = () => os.loadavg().map((n) => n.toFixed(1)).join(" / ");
  console.log(`load average at start (1/5/15 min): ${load()} (the machine is shared; figures scale with it)`);
  const tmp = mkdtempSync(path.join(os.tmpdir(), "widget-bench-"));
  const envFile = path.join(tmp, ".env.local");
  let party: DevServer | undefined;
  let backend: ChildProcess | undefined;
  const visitors: Visitor[] = [];
  try {
    const env = (await ensureLocalEnv(envFile)).env;
    const [port, sitePort] = [await freePort(), await freePort()];
    party = await startDevServer({
      PARTYKIT_PUSH_SECRET: env.PARTYKIT_PUSH_SECRET,
      LOCAL_AUTH_JWKS: env.LOCAL_AUTH_JWKS,
      LOCAL_AUTH_ISSUER: env.LOCAL_AUTH_ISSUER,
      LOCAL_AUTH_APPLICATION_ID: env.LOCAL_AUTH_APPLICATION_ID,
      CONVEX_URL: `http://127.0.0.1:${port}`,
    });
    writeFileSync(envFile, readFileSync(envFile, "utf8").replace(/^PARTYKIT_URL=.*$/m, `PARTYKIT_URL=${party.httpUrl}`));
    const started = await startBackend(envFile, path.join(tmp, "data"), port, sitePort, env.LOCAL_ADMIN_KEY);
    backend = started.child;
    const seed = await seedDemoData({ url: started.url, adminKey: env.LOCAL_ADMIN_KEY });
    const businessId = seed.businessId as string;
    const zone = await convexQuery<{ zoneId: string }>(started.url, "zones:resolve", { businessId, postalCode: "11215" });
    const business = await convexQuery<{ timeZone: string }>(started.url, "businesses:get", { businessId });
    const date = new Intl.DateTimeFormat("en-CA", { timeZone: business.timeZone }).format(Date.now() + 3 * 86_400_000); // more than a day ahead: cancelling it again is free
    const catalogue = await convexQuery<{ industries: { categories: { products: { _id: string; name: string }[] }[] }[] }>(started.url, "catalogue:forBusiness", { businessId });
    const product = catalogue.industries.flatMap((i) => i.categories.flatMap((c) => c.products)).find((p) => p.name === "Standard clean")!;
    const cart = [{ productId: product._id, quantity: 1, extras: [] }];
    const customers = await fetch(`${started.siteUrl}/v1/customers?limit=1`, { headers: { authorization: `Bearer ${env.DEMO_API_KEY}` } });
    const customerId = ((await customers.json()) as { data: { id: string }[] }).data[0].id;
    const room = roomIds.availability(businessId, zone.zoneId, date);
    const url = `ws://${party.host}${roomPath("availability", room)}`;
    console.log(`room ${room}: the demo business, one zone, one day`);

    type Row = { n: number; fanout: ReturnType<typeof stats>; commit: ReturnType<typeof stats>; floor: ReturnType<typeof stats>; queriesConnect: number; queriesBooking: number; phases: Phases };
    const rows: Row[] = [];
    let booking = 0;
    for (const n of SERIES) {
      // Visitors join (the room reads its grid from Convex once, when it has none).
      const beforeConnect = started.log.queries;
      const opening = performance.now();
      while (visitors.length < n) {
        const batch = Math.min(OPEN_BATCH, n - visitors.length);
        visitors.push(...(await Promise.all(Array.from({ length: batch }, () => openVisitor(url)))));
      }
      await waitFor(() => visitors.every((v) => v.gotGrid), 120_000, `${n} visitors have the grid`);
      const openSeconds = (performance.now() - opening) / 1000;
      await new Promise((r) => setTimeout(r, 500));
      const queriesConnect = started.log.queries - beforeConnect;

      // A booking elsewhere: REST → outbox → grid query → push → every visitor.
      for (const v of visitors) v.diffAt = null;
      const slots = await convexQuery<{ slots: { start: number }[] }>(started.url, "availability:slots", { businessId, zoneId: zone.zoneId, cart, from: date, to: date });
      if (slots.slots.length === 0) throw new Error("no free slot left to book");
      await new Promise((r) => setTimeout(r, 300)); // that read's log line lands before the count
      const beforeBooking = started.log.queries;
      const entriesBefore = started.log.entries.length;
      const postedAt = performance.now();
      const response = await fetch(`${started.siteUrl}/v1/bookings`, {
        method: "POST",
        headers: { authorization: `Bearer ${env.DEMO_API_KEY}`, "content-type": "application/json", "idempotency-key": `bench-${booking++}-${Date.now()}` },
        body: JSON.stringify({ customerId, zoneId: zone.zoneId, cart: [{ productId: product._id, quantity: 1 }], start: slots.slots[0].start }),
      });
      const committedAt = performance.now();
      if (response.status !== 201) throw new Error(`booking answered ${response.status}: ${await response.text()}`);
      await waitFor(() => visitors.every((v) => v.diffAt !== null), 120_000, `${n} visitors got the diff`);
      await new Promise((r) => setTimeout(r, 500));
      // The delivery run's log line comes when it ends (after it settled the rooms).
      const runLogged = () => started.log.entries.slice(entriesBefore).some((e) => e.path.startsWith("realtime:deliverOutbox") && e.start >= wall(postedAt));
      await waitFor(runLogged, 30_000, "the delivery run's log line").catch(() => undefined);
      const queriesBooking = started.log.queries - beforeBooking;
      const times = visitors.map((v) => v.diffAt!);
      const phases = bookingPhases(started.log.entries.slice(entriesBefore), wall(postedAt), wall(committedAt), visitors, times);
      // Give the time back (not measured), so the next step finds it free again.
      const made = (await response.json()) as { id: string };
      for (const v of visitors) v.diffAt = null;
      const cancel = await fetch(`${started.siteUrl}/v1/bookings/${made.id}/cancel`, {
        method: "POST",
        headers: { authorization: `Bearer ${env.DEMO_API_KEY}`, "content-type": "application/json", "idempotency-key": `bench-cancel-${made.id}` },
        body: JSON.stringify({ reason: "benchmark", expectedFeeMinor: 0 }),
      });
      if (cancel.status !== 200) throw new Error(`cancel answered ${cancel.status}: ${await cancel.text()}`);
      await waitFor(() => visitors.every((v) => v.diffAt !== null), 120_000, `${n} visitors got the cancel's diff`);
      const first = Math.min(...times);
      const fanout = stats(times.map((t) => t - first));
      const commit = stats(times.map((t) => t - committedAt));
      const floor = stats(await rawFloor(n, JSON.stringify({ type: "grid.diff", version: 2, asOf: Date.now(), changes: [[0, 12, 0], [0, 13, 0], [0, 14, 0]] })));
      rows.push({ n, fanout, commit, floor, queriesConnect, queriesBooking, phases });
      console.log(
        `N=${String(n).padStart(5)}  opened in ${openSeconds.toFixed(1)} s | first→each p50 ${ms(fanout.p50)} p99 ${ms(fanout.p99)} max ${ms(fanout.max)} | commit→each p50 ${ms(commit.p50)} p99 ${ms(commit.p99)} | raw ws floor p50 ${ms(floor.p50)} p99 ${ms(floor.p99)} | Convex queries: connect ${queriesConnect}, booking ${queriesBooking}`,
      );
    }

    console.log("\nwhere the time goes, booking commit (REST answer) → last visitor (ms; from the backend's function log and the diff's asOf):");
    console.log("  visitors | commit→delivery run starts | claim | grid read (this room / all rooms) | grid computed→first visitor | first→last | commit→last");
    for (const r of rows) {
      const p = r.phases;
      console.log(
        `  ${String(r.n).padStart(8)} | ${p.commitToRun.toFixed(1).padStart(26)} | ${p.claim.toFixed(1).padStart(5)} | ${`${p.gridRead.toFixed(1)} / ${p.gridReadAll.toFixed(1)} (${p.gridReads})`.padStart(33)} | ${p.asOfToFirst.toFixed(1).padStart(27)} | ${p.firstToLast.toFixed(1).padStart(10)} | ${p.commitToLast.toFixed(1).padStart(11)}`,
      );
    }
    console.log("\nseries (visitors → Convex query executions while they connected / while a booking reached them):");
    for (const r of rows) console.log(`  ${String(r.n).padStart(5)} visitors → ${r.queriesConnect} / ${r.queriesBooking}`);
    console.log("series (visitors → booking fan-out p99 in the room, raw ws floor p99, commit → last visitor p99):");
    for (const r of rows) console.log(`  ${String(r.n).padStart(5)} visitors → ${ms(r.fanout.p99)}, floor ${ms(r.floor.p99)}, end to end ${ms(r.commit.p99)}`);
    console.log(`queries by function over the run: ${[...started.log.byName].map(([k, v]) => `${k} ${v}`).join(", ")}`);
    console.log(`load average at end (1/5/15 min): ${load()}`);
  } finally {
    for (const v of visitors) v.ws.terminate();
    if (backend && backend.exitCode === null) {
      const exited = new Promise((r) => backend!.once("exit", r));
      backend.kill("SIGTERM");
      const timer = setTimeout(() => backend?.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await party?.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
