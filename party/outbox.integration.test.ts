/**
 * End to end, Convex → outbox → PartyKit → browser: the project's local backend (CLI, child
 * process, free ports, temp data) and `partykit dev` (free port) share the secrets of an env
 * file made by `ensureLocalEnv`. A manager cancels a seeded booking through the public
 * `bookings.cancel`; `realtime:deliverOutbox` (run with the admin key, as the cron/kick
 * would) pushes the outbox with the availability room's slot grid; every visitor of the
 * public availability room gets the change as a numbered grid diff, and the private dispatch
 * room's subscriber the committed event.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { ConvexHttpClient } from "convex/browser";
import { convexToJson, jsonToConvex, type Value } from "convex/values";
import { importJWK, SignJWT, type JWK } from "jose";
import { afterAll, beforeAll, expect, it } from "vitest";
import WebSocket from "ws";
import { api } from "../convex/_generated/api";
import type { Id } from "../convex/_generated/dataModel";
import { ensureLocalEnv, repoRoot } from "../scripts/env";
import { seedDemoData } from "../scripts/seed";
import { subscribeToRoom, type RoomSubscription } from "./client";
import type { EventMessageOf, ServerMessageOf } from "./messages";
import { roomIds } from "./rooms";
import { startDevServer, type DevServer } from "./testing/dev-server";

let tmp: string;
let party: DevServer | undefined;
let backend: ChildProcess | undefined;
let cloudUrl: string;
let env: Record<string, string>;
const subscriptions: RoomSubscription<never>[] = [];

async function startBackend(envFile: string, dataDir: string, adminKey: string): Promise<{ child: ChildProcess; cloudUrl: string }> {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", path.join(repoRoot, "backend/src/cli.ts"), "--convex-dir", "convex", "--data-dir", dataDir,
      "--port", "0", "--site-port", "0", "--env-file", envFile],
    // The admin key in the environment, not on the command line where `ps` shows it.
    { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, CONVEX_SELF_HOSTED_ADMIN_KEY: adminKey } },
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`backend did not start in time:\n${output}`)), 45_000);
    const check = () => {
      const match = /client API and sync: (http:\/\/\S+)/.exec(output);
      if (match && /HTTP actions: +http/.test(output)) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    };
    child.stdout!.on("data", check);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`backend exited (${code}) before it was ready:\n${output}`));
    });
  });
  return { child, cloudUrl: url };
}

async function adminCall(kind: "mutation" | "action" | "query", fn: string, args: Record<string, Value> = {}): Promise<unknown> {
  const response = await fetch(`${cloudUrl}/api/${kind}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Convex ${env.LOCAL_ADMIN_KEY}` },
    body: JSON.stringify({ path: fn, format: "convex_encoded_json", args: [convexToJson(args)] }),
  });
  const body = (await response.json()) as { status?: string; value?: unknown; errorMessage?: string };
  if (body.status !== "success") throw new Error(`${fn}: ${response.status} ${JSON.stringify(body)}`);
  return jsonToConvex(body.value as never);
}

type Report = { delivered: number; failed: number };
/** Runs delivery until a run delivers nothing more (rooms whose rows the party refuses stay blocked, on their own). */
async function deliverAll(): Promise<Report> {
  const total = { delivered: 0, failed: 0 };
  for (let i = 0; i < 20; i++) {
    const report = (await adminCall("action", "realtime:deliverOutbox")) as Report;
    total.delivered += report.delivered;
    total.failed += report.failed;
    if (report.delivered === 0) break;
  }
  return total;
}

async function token(claims: Record<string, unknown>, subject: string): Promise<string> {
  const jwk = JSON.parse(env.LOCAL_AUTH_PRIVATE_JWK) as JWK;
  const key = await importJWK(jwk, "ES256");
  return await new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: jwk.kid })
    .setIssuer(env.LOCAL_AUTH_ISSUER)
    .setAudience(env.LOCAL_AUTH_APPLICATION_ID)
    .setSubject(subject)
    .setIssuedAt()
    .setExpirationTime("10m")
    .sign(key);
}

beforeAll(async () => {
  tmp = mkdtempSync(path.join(os.tmpdir(), "outbox-it-"));
  const envFile = path.join(tmp, ".env.local");
  env = (await ensureLocalEnv(envFile)).env;
  party = await startDevServer({
    PARTYKIT_PUSH_SECRET: env.PARTYKIT_PUSH_SECRET,
    LOCAL_AUTH_JWKS: env.LOCAL_AUTH_JWKS,
    LOCAL_AUTH_ISSUER: env.LOCAL_AUTH_ISSUER,
    LOCAL_AUTH_APPLICATION_ID: env.LOCAL_AUTH_APPLICATION_ID,
    CLERK_JWT_ISSUER_DOMAIN: "",
    PARTYKIT_AUTH_AUDIENCE: "",
    PARTYKIT_PUSH_SECRET_PREVIOUS: "",
  });
  // Point the backend at this PartyKit (the file was just generated with the default port).
  env.PARTYKIT_URL = party.httpUrl;
  writeFileSync(envFile, readFileSync(envFile, "utf8").replace(/^PARTYKIT_URL=.*$/m, `PARTYKIT_URL=${party.httpUrl}`));
  const started = await startBackend(envFile, path.join(tmp, "data"), env.LOCAL_ADMIN_KEY);
  backend = started.child;
  cloudUrl = started.cloudUrl;
}, 120_000);

afterAll(async () => {
  for (const sub of subscriptions) sub.close();
  if (backend && backend.exitCode === null && backend.signalCode === null) {
    const exited = new Promise((resolve) => backend!.once("exit", resolve));
    backend.kill("SIGTERM");
    const timer = setTimeout(() => backend?.kill("SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
  }
  await party?.stop();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

it("a booking cancelled in Convex reaches availability and dispatch subscribers through the outbox", async () => {
  const seed = await seedDemoData({ url: cloudUrl, adminKey: env.LOCAL_ADMIN_KEY });
  const businessId = seed.businessId as Id<"businesses">;
  // Whatever the seed queued goes out first, so the rooms' welcome seq is settled.
  await deliverAll();

  const ownerToken = await token({}, "demo-dispatcher");
  const client = new ConvexHttpClient(cloudUrl);
  client.setAuth(ownerToken);
  const page = await client.query(api.bookings.listForBusiness, {
    businessId,
    status: "CONFIRMED",
    from: Date.now() + 2 * 24 * 3_600_000,
    paginationOpts: { numItems: 100, cursor: null },
  });
  // Two bookings of one zone and day: the first cancel gives the room its grid, the second
  // reaches every visitor as a numbered diff.
  const byRoom = new Map<string, typeof page.page>();
  for (const b of page.page) {
    const key = `${b.zoneId}/${b.localDate}`;
    byRoom.set(key, [...(byRoom.get(key) ?? []), b]);
  }
  const pair = [...byRoom.values()].find((list) => list.length >= 2);
  expect(pair).toBeDefined();
  const [first, booking] = pair!;

  type Got = { availability: ServerMessageOf<"availability">[][]; dispatch: EventMessageOf<"dispatch">[] };
  const VISITORS = 3;
  const got: Got = { availability: Array.from({ length: VISITORS }, () => []), dispatch: [] };
  const welcomes: Promise<number>[] = [];
  const visitors: RoomSubscription<"availability">[] = [];
  const welcome = () => {
    let welcomed!: (seq: number) => void;
    welcomes.push(new Promise((resolve) => (welcomed = resolve)));
    return (seq: number) => welcomed(seq);
  };
  for (let i = 0; i < VISITORS; i++) {
    const welcomed = welcome();
    const sub = subscribeToRoom({
      host: party!.host,
      party: "availability",
      room: roomIds.availability(businessId, booking.zoneId, booking.localDate),
      resync: () => undefined,
      onEvent: () => {
        throw new Error("availability rooms send no committed events to visitors");
      },
      onMessage: (message) => {
        if (message.type === "welcome") welcomed(message.seq);
        else if (message.type === "grid" || message.type === "grid.diff") got.availability[i].push(message);
      },
      WebSocket,
    });
    visitors.push(sub);
    subscriptions.push(sub as unknown as RoomSubscription<never>);
  }
  {
    const welcomed = welcome();
    const sub = subscribeToRoom({
      host: party!.host,
      party: "dispatch",
      room: roomIds.dispatch(businessId, booking.localDate),
      token: () => token({ role: "manager", businessId, name: "Dana Reyes" }, "demo-dispatcher"),
      resync: () => undefined,
      onEvent: (message) => got.dispatch.push(message),
      onMessage: (message) => message.type === "welcome" && welcomed(message.seq),
      WebSocket,
    });
    subscriptions.push(sub as unknown as RoomSubscription<never>);
  }
  const seqs = await Promise.all(welcomes);
  const dispatchSeq = seqs[VISITORS];
  const waitFor = async (done: () => boolean, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!done() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(done(), what).toBe(true);
  };

  await client.mutation(api.bookings.cancel, { bookingId: first._id, reason: "integration test" });
  expect((await deliverAll()).failed).toBe(0);
  await waitFor(() => got.availability.every((list) => list.some((m) => m.type === "grid")), "every visitor has the grid");
  const before = got.availability.map((list) => list.findLast((m) => m.type === "grid")!);
  for (const list of got.availability) list.length = 0;
  got.dispatch.length = 0;

  await client.mutation(api.bookings.cancel, { bookingId: booking._id, reason: "integration test" });
  const started = Date.now();
  // The cancel schedules a delivery run of its own, which may win the race for the rows:
  // what counts is that nothing fails and both rooms receive the change.
  const report = await deliverAll();
  expect(report.failed).toBe(0);
  await waitFor(() => got.availability.every((list) => list.length > 0) && got.dispatch.length > 0, "every visitor got the change");
  console.log(`[outbox integration] cancel → subscribers in ${Date.now() - started} ms (delivery run included)`);

  // Every visitor: one diff, the next version, freeing time at the cancelled booking's start.
  for (const [i, list] of got.availability.entries()) {
    expect(list).toHaveLength(1);
    const diff = list[0];
    if (diff.type !== "grid.diff" || before[i].type !== "grid") throw new Error(`visitor ${i} got ${diff.type}`);
    expect(diff.version).toBe(before[i].version + 1);
    const grid = before[i].grid;
    const cell = Math.floor((booking.start - grid.dayStart) / (grid.stepMinutes * 60_000));
    const freed = diff.changes.filter(([, start, span]) => start === cell && span > 0);
    expect(freed.length, `visitor ${i}: the cancelled start is free again`).toBeGreaterThan(0);
  }
  // A visitor asking again gets the whole grid, with the change in it.
  visitors[0].send({ type: "grid.resync" });
  await waitFor(() => got.availability[0].some((m) => m.type === "grid"), "resync answered with the grid");

  expect(got.dispatch).toHaveLength(1);
  expect(got.dispatch[0].seq).toBe(dispatchSeq + 2);
  expect(got.dispatch[0].event).toMatchObject({ type: "booking.status_changed", bookingId: booking._id, to: "CANCELLED" });
}, 120_000);
