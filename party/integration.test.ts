/**
 * The parties running in `partykit dev` on a free port: signed pushes, private-room auth,
 * client message validation, ephemeral state and client resync after a dropped connection.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { subscribeToRoom, type ResyncReason } from "./client";
import type { BookingsEvent, EventMessageOf } from "./messages";
import { PUSH_SIGNATURE_HEADER, PUSH_TIMESTAMP_HEADER, signPush } from "./push-signature";
import { roomIds, roomPath, type PartyName } from "./rooms";
import { startDevServer, type DevServer } from "./testing/dev-server";
import { expectRefused, MessageQueue, openSocket, type OpenSocket } from "./testing/sockets";
import { startTcpProxy } from "./testing/tcp-proxy";
import { createTestIssuer, type TestIssuer } from "./testing/tokens";

const SECRET = "integration-test-push-secret-0123456789";
const AUDIENCE = "convex";
const DATE = "2026-11-22";
const SLOT = Date.parse(`${DATE}T09:00:00Z`);

let server: DevServer;
let issuer: TestIssuer;
const opened: OpenSocket[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer("http://127.0.0.1:3210/local-auth");
  server = await startDevServer({
    PARTYKIT_PUSH_SECRET: SECRET,
    LOCAL_AUTH_JWKS: issuer.jwksDataUri,
    LOCAL_AUTH_ISSUER: issuer.issuer,
    LOCAL_AUTH_APPLICATION_ID: AUDIENCE,
    // Override whatever a developer's .env.local (read by partykit dev) says.
    CLERK_JWT_ISSUER_DOMAIN: "",
    PARTYKIT_AUTH_AUDIENCE: "",
    PARTYKIT_PUSH_SECRET_PREVIOUS: "",
    PARTYKIT_HOLD_TTL_SECONDS: "2",
  });
});

afterAll(async () => {
  await Promise.all(opened.map((socket) => socket.close()));
  await server?.stop();
});

function token(claims: Record<string, unknown>): Promise<string> {
  return issuer.token(claims, { audience: AUDIENCE });
}

const owner = (businessId = "b1") => token({ sub: "owner-1", role: "owner", businessId, name: "Olga" });

function wsUrl(party: PartyName, room: string, query: Record<string, string> = {}): string {
  const search = new URLSearchParams(query).toString();
  return `ws://${server.host}${roomPath(party, room)}${search ? `?${search}` : ""}`;
}

async function open(party: PartyName, room: string, query: Record<string, string> = {}): Promise<OpenSocket> {
  const socket = await openSocket(wsUrl(party, room, query));
  opened.push(socket);
  return socket;
}

/** Opens an availability socket and takes its welcome and holds snapshot. */
async function openAvailability(room: string): Promise<OpenSocket> {
  const socket = await open("availability", room);
  expect(await socket.messages.next()).toMatchObject({ type: "welcome", room });
  expect(await socket.messages.next()).toMatchObject({ type: "holds" });
  return socket;
}

function bookingEvent(businessId: string, bookingId: string, customerId = "c1"): BookingsEvent {
  return {
    type: "booking.upserted",
    businessId,
    booking: {
      bookingId,
      status: "CONFIRMED",
      startsAt: SLOT,
      endsAt: SLOT + 3_600_000,
      zoneId: "z1",
      customerId,
      resourceIds: ["r1"],
    },
  };
}

function envelope(party: PartyName, room: string, seq: number, event: unknown) {
  return { party, room, seq, eventId: `evt_${seq}`, occurredAt: Date.now(), event };
}

async function post(
  party: PartyName,
  room: string,
  body: string,
  headers: Record<string, string> = {},
  method = "POST",
): Promise<{ status: number; json: Record<string, unknown> }> {
  const response = await fetch(`${server.httpUrl}${roomPath(party, room)}`, {
    method,
    body: method === "GET" ? undefined : body,
    headers: { "content-type": "application/json", ...headers },
  });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

async function push(party: PartyName, room: string, seq: number, event: unknown) {
  const body = JSON.stringify(envelope(party, room, seq, event));
  return post(party, room, body, await signPush(SECRET, body));
}

const isEvent = (m: Record<string, unknown>) => m.type === "event";

describe("pushes from Convex", () => {
  it("reach partysocket subscribers in seq order; duplicates are ignored, gaps accepted", async () => {
    const room = roomIds.businessBookings("order");
    const received: EventMessageOf<"bookings">[][] = [[], [], []];
    const welcomed: Promise<void>[] = [];
    const subscriptions = received.map((list) => {
      let welcome!: () => void;
      welcomed.push(new Promise((resolve) => (welcome = resolve)));
      return subscribeToRoom({
        host: server.host,
        party: "bookings",
        room,
        token: () => owner("order"),
        resync: () => undefined,
        onEvent: (message) => list.push(message),
        onMessage: (message) => message.type === "welcome" && welcome(),
        WebSocket,
      });
    });
    await Promise.all(welcomed);

    for (let seq = 1; seq <= 20; seq++) {
      const result = await push("bookings", room, seq, bookingEvent("order", `bk${seq}`));
      expect(result).toEqual({ status: 200, json: { status: "applied", seq, lastSeq: seq } });
    }
    expect(await push("bookings", room, 7, bookingEvent("order", "bk7"))).toEqual({
      status: 200,
      json: { status: "duplicate", seq: 7, lastSeq: 20 },
    });
    expect((await push("bookings", room, 23, bookingEvent("order", "bk23"))).json).toMatchObject({ status: "applied_after_gap" });

    await expect.poll(() => received.map((list) => list.length)).toEqual([21, 21, 21]);
    for (const list of received) {
      expect(list.map((m) => m.seq)).toEqual([...Array.from({ length: 20 }, (_, i) => i + 1), 23]);
      expect(list[4].event).toEqual(bookingEvent("order", "bk5"));
    }
    subscriptions.forEach((s) => s.close());
  });

  it("accept batches: in-order broadcast, duplicates inside skipped, one status per event", async () => {
    const room = roomIds.businessBookings("batch");
    const socket = await open("bookings", room, { token: await owner("batch") });
    await socket.messages.next((m) => m.type === "welcome");
    const postBatch = async (seqs: number[]) => {
      const body = JSON.stringify({
        party: "bookings",
        room,
        events: seqs.map((seq) => ({ seq, eventId: `e${seq}`, occurredAt: 1, event: bookingEvent("batch", `bk${seq}`) })),
      });
      return post("bookings", room, body, await signPush(SECRET, body));
    };
    expect(await postBatch([1, 2, 3])).toEqual({
      status: 200,
      json: { results: [1, 2, 3].map((seq) => ({ seq, status: "applied" })), lastSeq: 3 },
    });
    expect(await postBatch([2, 3, 4, 6])).toEqual({
      status: 200,
      json: {
        results: [
          { seq: 2, status: "duplicate" },
          { seq: 3, status: "duplicate" },
          { seq: 4, status: "applied" },
          { seq: 6, status: "applied_after_gap" },
        ],
        lastSeq: 6,
      },
    });
    const seen: unknown[] = [];
    for (let i = 0; i < 5; i++) seen.push((await socket.messages.next(isEvent)).seq);
    expect(seen).toEqual([1, 2, 3, 4, 6]);
    const mixed = JSON.stringify({
      party: "bookings",
      room,
      events: [
        { seq: 7, eventId: "e7", occurredAt: 1, event: bookingEvent("batch", "ok") },
        { seq: 8, eventId: "e8", occurredAt: 1, event: bookingEvent("other-business", "bad") },
      ],
    });
    expect(await post("bookings", room, mixed, await signPush(SECRET, mixed))).toMatchObject({
      status: 400,
      json: { error: { code: "room_mismatch", message: /seq 8/ } },
    });
    expect((await push("bookings", room, 7, bookingEvent("batch", "bk7"))).json).toMatchObject({ status: "applied" });
    expect(await socket.messages.next(isEvent)).toMatchObject({ seq: 7, event: { booking: { bookingId: "bk7" } } });
  });

  it("keeps the room's seq across connections (welcome carries it)", async () => {
    const room = roomIds.businessBookings("welcome");
    await push("bookings", room, 4, bookingEvent("welcome", "bk4"));
    const socket = await open("bookings", room, { token: await owner("welcome") });
    expect(await socket.messages.next()).toMatchObject({ type: "welcome", room, seq: 4 });
  });

  describe("refusals (nothing is broadcast)", () => {
    const room = roomIds.businessBookings("refuse");
    let watcher: OpenSocket;
    let marker = 0;

    beforeAll(async () => {
      watcher = await open("bookings", room, { token: await owner("refuse") });
      await watcher.messages.next((m) => m.type === "welcome");
    });

    /** Pushes a valid event and checks it is the next thing the watcher sees. */
    async function expectNothingBroadcastBefore(): Promise<void> {
      marker++;
      await push("bookings", room, marker, bookingEvent("refuse", `marker${marker}`));
      const next = await watcher.messages.next();
      expect(next).toMatchObject({ type: "event", seq: marker });
    }

    it("refuses unsigned, forged, stale and wrong-secret pushes with 401", async () => {
      const body = JSON.stringify(envelope("bookings", room, 100, bookingEvent("refuse", "evil")));
      const signed = await signPush(SECRET, body);
      const stale = await signPush(SECRET, body, Date.now() - 6 * 60_000);
      const wrongSecret = await signPush("not-the-secret-not-the-secret", body);
      const cases: [Record<string, string>, string, string?][] = [
        [{}, "missing_timestamp"],
        [{ [PUSH_TIMESTAMP_HEADER]: signed[PUSH_TIMESTAMP_HEADER] }, "missing_signature"],
        [signed, "signature_mismatch", body.replace("evil", "evi1")],
        [stale, "stale_timestamp"],
        [wrongSecret, "signature_mismatch"],
        [{ ...signed, [PUSH_SIGNATURE_HEADER]: "sha256=abc" }, "malformed_signature"],
      ];
      for (const [headers, code, sentBody] of cases) {
        const result = await post("bookings", room, sentBody ?? body, headers);
        expect(result.status, code).toBe(401);
        expect(result.json).toMatchObject({ error: { code, message: expect.any(String) } });
      }
      await expectNothingBroadcastBefore();
    });

    it("refuses other methods with 405", async () => {
      for (const method of ["GET", "PUT", "DELETE"]) {
        const result = await post("bookings", room, "{}", {}, method);
        expect(result.status).toBe(405);
        expect(result.json).toMatchObject({ error: { code: "method_not_allowed" } });
      }
    });

    it("refuses invalid bodies and pushes meant for another room with 400", async () => {
      const signedPost = async (body: string) => post("bookings", room, body, await signPush(SECRET, body));
      expect(await signedPost("{not json")).toMatchObject({ status: 400, json: { error: { code: "invalid_push" } } });
      const badSeq = await signedPost(JSON.stringify(envelope("bookings", room, -1, bookingEvent("refuse", "x"))));
      expect(badSeq).toMatchObject({ status: 400, json: { error: { code: "invalid_push", issues: [{ path: "seq" }] } } });
      const otherRoom = await signedPost(JSON.stringify(envelope("bookings", "biz_other", 50, bookingEvent("refuse", "x"))));
      expect(otherRoom).toMatchObject({ status: 400, json: { error: { code: "room_mismatch" } } });
      const otherBusiness = await signedPost(JSON.stringify(envelope("bookings", room, 50, bookingEvent("other", "x"))));
      expect(otherBusiness).toMatchObject({ status: 400, json: { error: { code: "room_mismatch", message: /businessId/ } } });
      const badRoom = await post("bookings", "not_a_room", "{}", await signPush(SECRET, "{}"));
      expect(badRoom).toMatchObject({ status: 400, json: { error: { code: "invalid_room" } } });
      await expectNothingBroadcastBefore();
    });

    it("refuses oversized bodies with 413", async () => {
      const body = "x".repeat(70 * 1024);
      const result = await post("bookings", room, body, await signPush(SECRET, body));
      expect(result).toMatchObject({ status: 413, json: { error: { code: "payload_too_large" } } });
    });
  });
});

describe("private room connections", () => {
  it("refuse missing, invalid and expired tokens with 401", async () => {
    const room = roomIds.businessBookings("b1");
    expect(await expectRefused(wsUrl("bookings", room))).toMatchObject({ status: 401, error: { code: "missing_token" } });
    expect(await expectRefused(wsUrl("bookings", room, { token: "nope" }))).toMatchObject({
      status: 401,
      error: { code: "invalid_token" },
    });
    const expired = await issuer.token(
      { sub: "u", role: "owner", businessId: "b1" },
      { audience: AUDIENCE, expiresIn: Math.floor(Date.now() / 1000) - 60 },
    );
    expect(await expectRefused(wsUrl("bookings", room, { token: expired }))).toMatchObject({ status: 401 });
    const wrongAudience = await issuer.token({ sub: "u", role: "owner", businessId: "b1" }, { audience: "elsewhere" });
    expect(await expectRefused(wsUrl("bookings", room, { token: wrongAudience }))).toMatchObject({ status: 401 });
  });

  it("refuse another business's rooms and the wrong role with 403", async () => {
    const other = await owner("b2");
    for (const [party, room] of [
      ["bookings", roomIds.businessBookings("b1")],
      ["dispatch", roomIds.dispatch("b1", DATE)],
      ["invoices", roomIds.invoices("b1")],
      ["customers", roomIds.customers("b1")],
    ] as const) {
      expect(await expectRefused(wsUrl(party, room, { token: other }))).toMatchObject({ status: 403, error: { code: "forbidden" } });
    }
    const customer = await token({ sub: "cu", role: "customer", businessId: "b1", customerId: "c1" });
    expect(await expectRefused(wsUrl("bookings", roomIds.customerBookings("b1", "c2"), { token: customer }))).toMatchObject({ status: 403 });
    expect(await expectRefused(wsUrl("bookings", roomIds.businessBookings("b1"), { token: customer }))).toMatchObject({ status: 403 });
    const staff = await token({ sub: "st", role: "staff", businessId: "b1" });
    expect(await expectRefused(wsUrl("invoices", roomIds.invoices("b1"), { token: staff }))).toMatchObject({ status: 403 });
  });

  it("refuse room ids that do not follow the scheme with 400", async () => {
    expect(await expectRefused(wsUrl("dispatch", "biz_b1__2026-02-30", { token: await owner() }))).toMatchObject({
      status: 400,
      error: { code: "invalid_room" },
    });
    expect(await expectRefused(wsUrl("availability", "somewhere"))).toMatchObject({ status: 400 });
  });

  it("ignore an identity header forged by the client", async () => {
    // A raw client can send any header; onBeforeConnect must replace it with the verified identity.
    const room = roomIds.dispatch("forge", DATE);
    const forged = encodeURIComponent(JSON.stringify({ userId: "mallory", role: "platform_admin" }));
    const ws = new WebSocket(wsUrl("dispatch", room, { token: await token({ sub: "real", role: "staff", businessId: "forge" }) }), {
      headers: { "x-booking-identity": forged },
    });
    const messages = new MessageQueue<Record<string, unknown>>();
    ws.on("message", (data) => messages.push(JSON.parse(data.toString()) as Record<string, unknown>));
    const snapshot = await messages.next((m) => m.type === "presence.snapshot");
    expect(snapshot).toMatchObject({ viewers: [{ userId: "real", role: "staff" }] });
    ws.close();
  });

  it("let a customer watch their own bookings, and deliver only events for them", async () => {
    const room = roomIds.customerBookings("b1", "c1");
    const socket = await open("bookings", room, { token: await token({ sub: "cu", role: "customer", businessId: "b1", customerId: "c1" }) });
    expect(await socket.messages.next()).toMatchObject({ type: "welcome", room });
    expect((await push("bookings", room, 1, bookingEvent("b1", "someone-elses", "c2"))).status).toBe(400);
    expect((await push("bookings", room, 1, bookingEvent("b1", "mine", "c1"))).status).toBe(200);
    expect(await socket.messages.next()).toMatchObject({ type: "event", seq: 1, event: { booking: { bookingId: "mine" } } });
  });
});

describe("client messages", () => {
  it("are refused with an error naming the problem, and nothing is broadcast", async () => {
    const room = roomIds.availability("b1", "z1", DATE);
    const sender = await openAvailability(room);
    const observer = await openAvailability(room);

    const bad: [string, RegExp][] = [
      ["{not json", /not valid JSON/],
      [JSON.stringify({ type: "hold.grab", startsAt: SLOT }), /type/],
      [JSON.stringify({ type: "hold.ping", startsAt: SLOT, customerName: "Ada" }), /failed validation/],
      [JSON.stringify({ type: "hold.ping", startsAt: Date.parse("2026-12-25T09:00:00Z") }), /not on 2026-11-22/],
    ];
    for (const [raw, message] of bad) {
      sender.ws.send(raw);
      expect(await sender.messages.next()).toMatchObject({ type: "error", code: "invalid_message", message: expect.stringMatching(message) });
    }
    sender.ws.send(JSON.stringify({ type: "hold.ping", startsAt: SLOT }));
    expect(await observer.messages.next()).toEqual({ type: "holds", holds: [{ startsAt: SLOT, resourceId: null, count: 1 }] });
  });

  it("are refused on read-only parties", async () => {
    const socket = await open("invoices", roomIds.invoices("b1"), { token: await owner() });
    await socket.messages.next((m) => m.type === "welcome");
    socket.ws.send(JSON.stringify({ type: "hello" }));
    expect(await socket.messages.next()).toMatchObject({ type: "error", code: "unsupported_message" });
  });
});

describe("availability holds", () => {
  it("broadcast anonymous counts, rate-limit pings, release on close and expire", async () => {
    const room = roomIds.availability("b1", "z2", DATE);
    const a = await openAvailability(room);
    const b = await openAvailability(room);
    const observer = await openAvailability(room);

    a.ws.send(JSON.stringify({ type: "hold.ping", startsAt: SLOT, resourceId: "r1" }));
    expect(await observer.messages.next()).toEqual({ type: "holds", holds: [{ startsAt: SLOT, resourceId: "r1", count: 1 }] });
    b.ws.send(JSON.stringify({ type: "hold.ping", startsAt: SLOT, resourceId: "r1" }));
    expect(await observer.messages.next()).toEqual({ type: "holds", holds: [{ startsAt: SLOT, resourceId: "r1", count: 2 }] });

    for (let i = 0; i < 6; i++) b.ws.send(JSON.stringify({ type: "hold.ping", startsAt: SLOT + i * 900_000 }));
    const limited = await b.messages.next((m) => m.type === "error");
    expect(limited).toMatchObject({ code: expect.stringMatching(/rate_limited|limit_exceeded/) });

    await a.close();
    await observer.messages.next(
      (m) => m.type === "holds" && !(m.holds as { resourceId: string | null; count: number }[]).some((h) => h.resourceId === "r1" && h.count === 2),
    );
    // b's holds lapse after PARTYKIT_HOLD_TTL_SECONDS without a ping.
    expect(await observer.messages.next((m) => m.type === "holds" && (m.holds as unknown[]).length === 0, 20_000)).toEqual({
      type: "holds",
      holds: [],
    });
  });
});

describe("dispatch board", () => {
  it("shows who is watching and relays provider pings, rate-limited, for the provider's own resource", async () => {
    const room = roomIds.dispatch("b1", DATE);
    const manager = await open("dispatch", room, { token: await token({ sub: "mgr", role: "manager", businessId: "b1", name: "Mia" }) });
    await manager.messages.next((m) => m.type === "presence.snapshot");
    const provider = await open("dispatch", room, { token: await token({ sub: "prov", role: "staff", businessId: "b1", resourceId: "r1" }) });

    expect(await provider.messages.next((m) => m.type === "presence.snapshot")).toMatchObject({
      viewers: [{ userId: "mgr", name: "Mia", role: "manager" }, { userId: "prov", role: "staff" }],
    });
    expect(await manager.messages.next((m) => m.type === "presence.joined")).toMatchObject({ viewer: { userId: "prov" } });

    const ping = { type: "provider.ping", resourceId: "r1", status: "EN_ROUTE", lat: 52.52, lng: 13.405, bookingId: "bk1" };
    provider.ws.send(JSON.stringify(ping));
    expect(await manager.messages.next((m) => m.type === "provider.position")).toMatchObject({
      provider: { resourceId: "r1", status: "EN_ROUTE", lat: 52.52, lng: 13.405, bookingId: "bk1" },
    });
    provider.ws.send(JSON.stringify({ ...ping, lat: 52.53 }));
    expect(await provider.messages.next((m) => m.type === "error")).toMatchObject({ code: "rate_limited", retryAfterMs: expect.any(Number) });
    provider.ws.send(JSON.stringify({ ...ping, resourceId: "r2" }));
    expect(await provider.messages.next((m) => m.type === "error")).toMatchObject({ code: "forbidden" });
    manager.ws.send(JSON.stringify(ping));
    expect(await manager.messages.next((m) => m.type === "error")).toMatchObject({ code: "forbidden" });

    const late = await open("dispatch", room, { token: await token({ sub: "own", role: "owner", businessId: "b1" }) });
    expect(await late.messages.next((m) => m.type === "providers.snapshot")).toMatchObject({
      providers: [{ resourceId: "r1", lat: 52.52 }],
    });

    await provider.close();
    expect(await manager.messages.next((m) => m.type === "presence.left")).toEqual({ type: "presence.left", userId: "prov" });
    expect(manager.messages.drain().filter(isEvent)).toEqual([]);
  });
});

describe("client helper", () => {
  it("resynchronises after a dropped connection missed events, and after a gap", async () => {
    const room = roomIds.businessBookings("resync");
    const resyncs: ResyncReason[] = [];
    const events: number[] = [];
    const welcomes = new MessageQueue<number>();
    const subscription = subscribeToRoom({
      host: server.host,
      party: "bookings",
      room,
      token: () => owner("resync"),
      resync: (reason) => void resyncs.push(reason),
      onEvent: (message) => events.push(message.seq),
      onMessage: (message) => message.type === "welcome" && welcomes.push(message.seq),
      WebSocket,
      socketOptions: { minReconnectionDelay: 50, maxReconnectionDelay: 200 },
    });
    expect(await welcomes.next()).toBe(0);

    await push("bookings", room, 1, bookingEvent("resync", "bk1"));
    await expect.poll(() => events).toEqual([1]);

    // The connection drops; two events are committed meanwhile.
    subscription.socket.close();
    await push("bookings", room, 2, bookingEvent("resync", "bk2"));
    await push("bookings", room, 3, bookingEvent("resync", "bk3"));
    subscription.socket.reconnect();
    expect(await welcomes.next()).toBe(3);
    await subscription.resyncIdle();
    expect(resyncs).toEqual(["reconnect"]);
    expect(subscription.lastSeq()).toBe(3);

    // A reconnect that missed nothing needs no resync.
    subscription.socket.reconnect();
    expect(await welcomes.next()).toBe(3);

    // A push that skips seqs (an earlier delivery failed) makes the client resync too.
    await push("bookings", room, 6, bookingEvent("resync", "bk6"));
    await expect.poll(() => events).toEqual([1, 6]);
    await subscription.resyncIdle();
    expect(resyncs).toEqual(["reconnect", "gap"]);
    subscription.close();
  });

  it("reconnects by itself after the network drops and resyncs what it missed", async () => {
    const proxy = await startTcpProxy(server.port);
    const room = roomIds.businessBookings("blip");
    const resyncs: ResyncReason[] = [];
    const events: number[] = [];
    const welcomes = new MessageQueue<number>();
    const subscription = subscribeToRoom({
      host: proxy.host,
      party: "bookings",
      room,
      token: () => owner("blip"),
      resync: (reason) => void resyncs.push(reason),
      onEvent: (message) => events.push(message.seq),
      onMessage: (message) => message.type === "welcome" && welcomes.push(message.seq),
      WebSocket,
      socketOptions: { minReconnectionDelay: 50, maxReconnectionDelay: 200 },
    });
    try {
      expect(await welcomes.next()).toBe(0);
      await push("bookings", room, 1, bookingEvent("blip", "bk1"));
      await expect.poll(() => events).toEqual([1]);

      proxy.setBlocked(true);
      expect(proxy.dropAll()).toBeGreaterThan(0);
      await push("bookings", room, 2, bookingEvent("blip", "bk2"));
      await push("bookings", room, 3, bookingEvent("blip", "bk3"));
      proxy.setBlocked(false);

      expect(await welcomes.next(() => true, 20_000)).toBe(3);
      await subscription.resyncIdle();
      expect(resyncs).toEqual(["reconnect"]);
      expect(events).toEqual([1]); // 2 and 3 were missed: the resync is what recovers them

      await push("bookings", room, 4, bookingEvent("blip", "bk4"));
      await expect.poll(() => events).toEqual([1, 4]);
      expect(resyncs).toEqual(["reconnect"]);
    } finally {
      subscription.close();
      await proxy.close();
    }
  });
});
