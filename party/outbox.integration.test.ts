/**
 * End to end, Convex → outbox → PartyKit → browser: the project's local backend (CLI, child
 * process, free ports, temp data) and `partykit dev` (free port) share the secrets of an env
 * file made by `ensureLocalEnv`. A manager cancels a seeded booking through the public
 * `bookings.cancel`; `realtime:deliverOutbox` (run with the admin key, as the cron/kick
 * would) pushes the outbox; partysocket subscribers of the public availability room and of
 * the private dispatch room receive the events.
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
import type { EventMessageOf } from "./messages";
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
    paginationOpts: { numItems: 1, cursor: null },
  });
  const booking = page.page[0];
  expect(booking).toBeDefined();

  type Got = { availability: EventMessageOf<"availability">[]; dispatch: EventMessageOf<"dispatch">[] };
  const got: Got = { availability: [], dispatch: [] };
  const welcomes: Promise<number>[] = [];
  const subscribe = <P extends "availability" | "dispatch">(p: P, room: string, tokenFn?: () => Promise<string>) => {
    let welcomed!: (seq: number) => void;
    welcomes.push(new Promise((resolve) => (welcomed = resolve)));
    const sub = subscribeToRoom({
      host: party!.host,
      party: p,
      room,
      ...(tokenFn ? { token: tokenFn } : {}),
      resync: () => undefined,
      onEvent: (message) => (got[p] as EventMessageOf<P>[]).push(message as EventMessageOf<P>),
      onMessage: (message) => message.type === "welcome" && welcomed(message.seq),
      WebSocket,
    });
    subscriptions.push(sub as unknown as RoomSubscription<never>);
  };
  subscribe("availability", roomIds.availability(businessId, booking.zoneId, booking.localDate));
  subscribe("dispatch", roomIds.dispatch(businessId, booking.localDate), () =>
    token({ role: "manager", businessId, name: "Dana Reyes" }, "demo-dispatcher"),
  );
  const [availabilitySeq, dispatchSeq] = await Promise.all(welcomes);

  await client.mutation(api.bookings.cancel, { bookingId: booking._id, reason: "integration test" });
  const started = Date.now();
  // The cancel schedules a delivery run of its own, which may win the race for the rows:
  // what counts is that nothing fails and both rooms receive the change.
  const report = await deliverAll();
  expect(report.failed).toBe(0);

  const deadline = Date.now() + 10_000;
  while ((got.availability.length === 0 || got.dispatch.length === 0) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  console.log(`[outbox integration] cancel → subscribers in ${Date.now() - started} ms (delivery run included)`);
  expect(got.availability.map((m) => [m.seq, m.event])).toEqual([
    [
      availabilitySeq + 1,
      {
        type: "slots.changed",
        businessId,
        zoneId: booking.zoneId,
        date: booking.localDate,
        resourceIds: expect.any(Array),
        reason: "booking_cancelled",
      },
    ],
  ]);
  expect(got.dispatch).toHaveLength(1);
  expect(got.dispatch[0].seq).toBe(dispatchSeq + 1);
  expect(got.dispatch[0].event).toMatchObject({ type: "booking.status_changed", bookingId: booking._id, to: "CANCELLED" });
}, 90_000);
