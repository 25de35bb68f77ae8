/**
 * A room's last seq lives in room storage: after `partykit dev` restarts (same storage
 * folder), redelivered events are still recognised as duplicates and welcomes carry the seq.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { signPush } from "./push-signature";
import { roomIds, roomPath } from "./rooms";
import { startDevServer, type DevServer } from "./testing/dev-server";
import { openSocket } from "./testing/sockets";

const SECRET = "persistence-test-push-secret-0123";
const room = roomIds.availability("persist", "z1", "2026-11-22");
const storage = mkdtempSync(join(tmpdir(), "party-state-"));
let server: DevServer | undefined;

afterAll(async () => {
  await server?.stop();
  rmSync(storage, { recursive: true, force: true });
});

function start(): Promise<DevServer> {
  return startDevServer({ PARTYKIT_PUSH_SECRET: SECRET, PARTYKIT_PUSH_SECRET_PREVIOUS: "" }, { persistDir: storage });
}

async function push(seq: number): Promise<unknown> {
  const body = JSON.stringify({
    party: "availability",
    room,
    seq,
    eventId: `e${seq}`,
    occurredAt: Date.now(),
    event: { type: "slots.changed", businessId: "persist", zoneId: "z1", date: "2026-11-22", resourceIds: [], reason: "booking_created" },
  });
  const response = await fetch(`${server!.httpUrl}${roomPath("availability", room)}`, {
    method: "POST",
    body,
    headers: await signPush(SECRET, body),
  });
  return response.json();
}

describe("room storage", () => {
  it("keeps the last seq across a restart", async () => {
    server = await start();
    for (const seq of [1, 2, 3]) expect(await push(seq)).toMatchObject({ status: "applied", lastSeq: seq });
    await server.stop();

    server = await start();
    expect(await push(3)).toEqual({ status: "duplicate", seq: 3, lastSeq: 3 });
    const socket = await openSocket(`ws://${server.host}${roomPath("availability", room)}`);
    expect(await socket.messages.next()).toMatchObject({ type: "welcome", seq: 3 });
    await socket.close();
    expect(await push(4)).toMatchObject({ status: "applied", lastSeq: 4 });
  });
});
