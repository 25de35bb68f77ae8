/**
 * Outbox delivery to PartyKit: fetch is a recorder standing in for the rooms, which checks
 * signatures with the party's own `verifyPush` and bodies with its own `parsePushBody`.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { parsePushBody, type ParsedPushBody } from "../party/messages";
import { verifyPush } from "../party/push-signature";
import { isPartyName, type PartyName } from "../party/rooms";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import { emitEvent, rooms } from "./model/events";
import { AVAILABILITY_WINDOW_MS, backoffMs, DELIVERY_WINDOW_MS } from "./realtime";
import { TEST_ENV, newTest, type TestConvex } from "./test.setup";
import { aBusiness, aProvider, aZone } from "./test.builders";

const SECRET = TEST_ENV.PARTYKIT_PUSH_SECRET;
const DATE = "2030-05-06";

type Received = { party: string; room: string; seqs: number[]; eventIds: string[]; events: unknown[]; grid?: { kind: "grid" | "gridPatch"; resourceIds: string[] } };

afterEach(() => {
  vi.unstubAllGlobals();
  vi.useRealTimers();
});

/** A fake PartyKit: verifies, parses, records; `answer` may refuse a room's pushes. */
function fakePartykit(answer: (party: string, room: string, push: ParsedPushBody<PartyName>) => Response | null = () => null) {
  const received: Received[] = [];
  const problems: string[] = [];
  vi.stubGlobal(
    "fetch",
    vi.fn(async (input: string | URL | Request, init: RequestInit = {}) => {
      const url = new URL(typeof input === "string" ? input : input instanceof URL ? input.href : input.url);
      const [, parties, party, room] = url.pathname.split("/");
      const body = String(init.body);
      if (url.origin !== TEST_ENV.PARTYKIT_URL || parties !== "parties" || !isPartyName(party) || init.method !== "POST") {
        problems.push(`unexpected ${init.method} ${url.href}`);
        return new Response("{}", { status: 404 });
      }
      const verified = await verifyPush(SECRET, body, new Headers(init.headers));
      if (!verified.ok) problems.push(`bad signature: ${verified.reason}`);
      const parsed = parsePushBody(party, body);
      if (!parsed.ok || parsed.value.kind !== "batch" || parsed.value.room !== room) {
        problems.push(`bad body for ${party}/${room}: ${body}`);
        return new Response("{}", { status: 400 });
      }
      const items = parsed.value.items;
      const refusal = answer(party, room, parsed.value);
      if (refusal !== null) {
        if (refusal.status === 200) received.push({ party, room, seqs: items.map((i) => i.seq), eventIds: [], events: [], grid: { kind: parsed.value.grid ? "grid" : "gridPatch", resourceIds: [] } });
        return refusal;
      }
      const { grid, gridPatch } = parsed.value;
      const carried = grid ? { kind: "grid" as const, resourceIds: grid.resources.map((r) => r.id) } : gridPatch ? { kind: "gridPatch" as const, resourceIds: gridPatch.resources.map((r) => r.id) } : undefined;
      received.push({ party, room, seqs: items.map((i) => i.seq), eventIds: items.map((i) => i.eventId), events: items.map((i) => i.event), ...(carried ? { grid: carried } : {}) });
      return Response.json({ results: items.map((i) => ({ seq: i.seq, status: "applied" })), lastSeq: items.at(-1)!.seq });
    }),
  );
  return { received, problems };
}

const slotsChanged = (businessId: string, zoneId: string, reason: string, resourceIds: string[] = []) => ({
  type: "slots.changed",
  businessId,
  zoneId,
  date: DATE,
  resourceIds,
  reason,
});

async function scenario(t: TestConvex) {
  const biz = await aBusiness(t);
  const zone = await aZone(t, biz.businessId);
  return { businessId: biz.businessId, zoneId: zone.zoneId as Id<"zones"> };
}

async function emitSlots(t: TestConvex, businessId: Id<"businesses">, zoneId: Id<"zones">, reason: string, resourceIds: string[] = []) {
  await t.run((ctx) =>
    emitEvent(ctx, {
      businessId,
      type: "availability.changed",
      entity: { table: "zones", id: zoneId },
      data: slotsChanged(businessId, zoneId, reason, resourceIds),
      rooms: [rooms.availability(businessId, zoneId, DATE)],
    }),
  );
}

async function emitRemoved(t: TestConvex, businessId: Id<"businesses">, bookingId: string) {
  await t.run((ctx) =>
    emitEvent(ctx, {
      businessId,
      type: "dispatch.booking_removed",
      entity: { table: "bookings", id: bookingId },
      data: { type: "booking.removed", businessId, date: DATE, bookingId },
      rooms: [rooms.dispatch(businessId, DATE)],
    }),
  );
}

const outbox = (t: TestConvex) =>
  t.run((ctx) => ctx.db.query("outbox").collect()) as Promise<Doc<"outbox">[]>;

const deliver = (t: TestConvex) => t.action(internal.realtime.deliverOutbox, {});

test("backoff: 1 s, 2 s, 4 s … capped at 5 minutes", () => {
  expect([1, 2, 3, 4].map(backoffMs)).toEqual([1_000, 2_000, 4_000, 8_000]);
  expect(backoffMs(9)).toBe(256_000);
  expect(backoffMs(10)).toBe(300_000);
  expect(backoffMs(500)).toBe(300_000);
});

describe("deliverOutbox", () => {
  test("posts each room's pending rows signed, as one batch in seq order, and marks them delivered", async () => {
    // The window's own delivery run waits on a timer; held here so this test's run is the one.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const t = newTest();
    const { businessId, zoneId } = await scenario(t);
    const party = fakePartykit();
    await emitSlots(t, businessId, zoneId, "hold_created");
    await emitRemoved(t, businessId, "booking1");
    await emitSlots(t, businessId, zoneId, "booking_created");
    await emitSlots(t, businessId, zoneId, "booking_cancelled");
    await emitRemoved(t, businessId, "booking2");

    const report = await deliver(t);
    expect(party.problems).toEqual([]);
    expect(report).toMatchObject({ delivered: 5, failed: 0 });
    const byParty = Object.fromEntries(party.received.map((r) => [r.party, r]));
    expect(party.received).toHaveLength(2);
    expect(byParty.availability.seqs).toEqual([1, 2, 3]);
    expect(byParty.availability.events.map((e) => (e as { reason: string }).reason)).toEqual([
      "hold_created",
      "booking_created",
      "booking_cancelled",
    ]);
    expect(byParty.dispatch.seqs).toEqual([1, 2]);
    expect(byParty.dispatch.events.map((e) => (e as { bookingId: string }).bookingId)).toEqual(["booking1", "booking2"]);

    const rows = await outbox(t);
    expect(rows.every((r) => r.status === "delivered" && r.deliveredAt !== undefined && r.attempts === 1)).toBe(true);
    expect(new Set(party.received.flatMap((r) => r.eventIds))).toEqual(new Set(rows.map((r) => r._id)));

    // Nothing left: a second run posts nothing.
    await deliver(t);
    expect(party.received).toHaveLength(2);
  });

  test("a failing room is retried with backoff, keeps its order and blocks only itself; nothing is lost", async () => {
    // Date moves by hand; the windows' own delivery runs (timers) are held so the test drives every run.
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] });
    const start = new Date("2030-05-01T10:00:00Z").getTime();
    vi.setSystemTime(start);
    const t = newTest();
    const { businessId, zoneId } = await scenario(t);
    let availabilityDown = true;
    const party = fakePartykit((p) =>
      p === "availability" && availabilityDown
        ? Response.json({ error: { code: "misconfigured", message: "no secret" } }, { status: 500 })
        : null,
    );
    await emitSlots(t, businessId, zoneId, "hold_created");
    await emitSlots(t, businessId, zoneId, "booking_created");
    await emitRemoved(t, businessId, "booking1");

    await deliver(t);
    expect(party.received.map((r) => r.party)).toEqual(["dispatch"]);
    let rows = (await outbox(t)).filter((r) => r.party === "availability").sort((a, b) => a.seq - b.seq);
    expect(rows.map((r) => [r.status, r.attempts, r.nextAttemptAt - start])).toEqual([
      ["pending", 1, 1_000],
      ["pending", 1, 1_000],
    ]);
    expect(rows[0].lastError).toBe("HTTP 500 misconfigured: no secret");

    // A new event for the blocked room waits behind its head, even though it is "due".
    await emitSlots(t, businessId, zoneId, "booking_cancelled");
    await emitRemoved(t, businessId, "booking2");
    await deliver(t);
    expect(party.received.map((r) => `${r.party}:${r.seqs.join(",")}`)).toEqual(["dispatch:1", "dispatch:2"]);
    rows = (await outbox(t)).filter((r) => r.party === "availability").sort((a, b) => a.seq - b.seq);
    expect(rows.map((r) => r.nextAttemptAt - start)).toEqual([1_000, 1_000, 1_000]);

    // After 1 s: second failure, 2 s backoff.
    vi.setSystemTime(start + 1_000);
    await deliver(t);
    rows = (await outbox(t)).filter((r) => r.party === "availability").sort((a, b) => a.seq - b.seq);
    expect(rows.map((r) => [r.status, r.attempts, r.nextAttemptAt - start])).toEqual([
      ["pending", 2, 3_000],
      ["pending", 2, 3_000],
      ["pending", 1, 3_000],
    ]);

    // Too early: nothing is posted.
    vi.setSystemTime(start + 2_000);
    availabilityDown = false;
    await deliver(t);
    expect(party.received.filter((r) => r.party === "availability")).toEqual([]);

    // Due again and the room is back: every row, once, in order.
    vi.setSystemTime(start + 3_000);
    await deliver(t);
    const availability = party.received.filter((r) => r.party === "availability");
    expect(availability.map((r) => r.seqs)).toEqual([[1, 2, 3]]);
    const all = await outbox(t);
    expect(all).toHaveLength(5);
    expect(all.every((r) => r.status === "delivered")).toBe(true);
    expect(party.problems).toEqual([]);
  });

  test("a refused push (4xx) and a row the party would reject are recorded, never dropped, and hold back later rows", async () => {
    vi.useFakeTimers({ toFake: ["Date", "setTimeout", "clearTimeout"] }); // the test drives every delivery run
    const start = new Date("2030-05-01T10:00:00Z").getTime();
    vi.setSystemTime(start);
    const t = newTest();
    const { businessId, zoneId } = await scenario(t);
    const party = fakePartykit((p) =>
      p === "dispatch" ? Response.json({ error: { code: "room_mismatch", message: "wrong room" } }, { status: 400 }) : null,
    );
    await emitRemoved(t, businessId, "booking1");
    // Valid first row, then one whose data does not follow the availability schema (a
    // customer name would leak into a public room), then a valid one.
    await emitSlots(t, businessId, zoneId, "hold_created");
    await t.run((ctx) =>
      emitEvent(ctx, {
        businessId,
        type: "availability.changed",
        entity: { table: "zones", id: zoneId },
        data: { ...slotsChanged(businessId, zoneId, "booking_created"), customerName: "Ada" },
        rooms: [rooms.availability(businessId, zoneId, DATE)],
      }),
    );
    await emitSlots(t, businessId, zoneId, "booking_cancelled");

    const report = await deliver(t);
    expect(report).toMatchObject({ delivered: 1, failed: 2 });
    expect(party.received.map((r) => `${r.party}:${r.seqs.join(",")}`)).toEqual(["availability:1"]);
    const rows = await outbox(t);
    const dispatch = rows.find((r) => r.party === "dispatch")!;
    expect(dispatch).toMatchObject({ status: "pending", attempts: 1, lastError: "HTTP 400 room_mismatch: wrong room" });
    const availability = rows.filter((r) => r.party === "availability").sort((a, b) => a.seq - b.seq);
    expect(availability.map((r) => [r.seq, r.status, r.attempts])).toEqual([
      [1, "delivered", 1],
      [2, "pending", 1],
      [3, "pending", 0],
    ]);
    expect(availability[1].lastError).toMatch(/^invalid push \(not sent\)/);
    expect(availability[2].nextAttemptAt).toBe(availability[1].nextAttemptAt);
    expect(party.problems).toEqual([]);
  });
});

describe("triggers", () => {
  test("kick schedules one run however often it is called; a change's own run makes kick and sweep wait; the run delivers", async () => {
    vi.useFakeTimers();
    const t = newTest();
    const { businessId, zoneId } = await scenario(t);
    const party = fakePartykit();
    const pendingRuns = async () =>
      (await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect())).filter(
        (job: { name: string; state: { kind: string } }) => job.state.kind === "pending" && job.name.includes("deliverOutbox"),
      ).length;

    expect(await t.mutation(internal.realtime.sweep, {})).toEqual({ scheduled: false });
    expect(await t.mutation(internal.realtime.kick, {})).toEqual({ scheduled: true });
    expect(await t.mutation(internal.realtime.kick, {})).toEqual({ scheduled: false });
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    // The change schedules its window's run itself; kick and sweep see it waiting.
    await emitSlots(t, businessId, zoneId, "hold_created");
    expect(await pendingRuns()).toBe(1);
    expect(await t.mutation(internal.realtime.kick, {})).toEqual({ scheduled: false });
    expect(await t.mutation(internal.realtime.sweep, {})).toEqual({ scheduled: false });

    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(party.received.map((r) => r.seqs)).toEqual([[1]]);
    expect(await pendingRuns()).toBe(0);
    expect(await t.mutation(internal.realtime.sweep, {})).toEqual({ scheduled: false });
  });
});

describe("what an availability room's batch carries", () => {
  test("bookings' changes: only the rows of the providers they name; a schedule change: the whole grid", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const t = newTest();
    const { businessId, zoneId } = await scenario(t);
    const pat = await aProvider(t, businessId, { name: "Pat", zoneIds: [zoneId] });
    const zoe = await aProvider(t, businessId, { name: "Zoe", zoneIds: [zoneId] });
    const party = fakePartykit();
    await emitSlots(t, businessId, zoneId, "booking_created", [pat.resourceId]);
    await emitSlots(t, businessId, zoneId, "booking_cancelled", [pat.resourceId]);
    await deliver(t);
    await emitSlots(t, businessId, zoneId, "schedule_changed", [zoe.resourceId]);
    await deliver(t);
    expect(party.problems).toEqual([]);
    expect(party.received.map((r) => [r.seqs, r.grid])).toEqual([
      [[1, 2], { kind: "gridPatch", resourceIds: [pat.resourceId] }],
      [[3], { kind: "grid", resourceIds: expect.arrayContaining([pat.resourceId, zoe.resourceId]) }],
    ]);
  });

  test("a room that cannot use the rows (no grid yet) gets the same batch again with the whole grid", async () => {
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    const t = newTest();
    const { businessId, zoneId } = await scenario(t);
    const pat = await aProvider(t, businessId, { name: "Pat", zoneIds: [zoneId] });
    const party = fakePartykit((_party, _room, push) =>
      push.gridPatch ? Response.json({ results: push.items.map((i) => ({ seq: i.seq, status: "applied" })), lastSeq: push.items.at(-1)!.seq, wantsGrid: true }) : null,
    );
    await emitSlots(t, businessId, zoneId, "booking_created", [pat.resourceId]);
    expect(await deliver(t)).toMatchObject({ delivered: 1, failed: 0 });
    expect(party.received.map((r) => [r.seqs, r.grid?.kind])).toEqual([
      [[1], "gridPatch"],
      [[1], "grid"],
    ]);
    expect((await outbox(t)).filter((r) => r.party === "availability").map((r) => r.status)).toEqual(["delivered"]);
  });
});

describe("batched delivery", () => {
  test("a change to an availability room is delivered within a much shorter window than the others", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2030-05-01T10:00:00.010Z"));
    const t = newTest();
    const { businessId, zoneId } = await scenario(t);
    const party = fakePartykit();
    const runs = async () =>
      (await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect()))
        .filter((job: { state: { kind: string } }) => job.state.kind === "pending")
        .map((job: { scheduledTime: number }) => job.scheduledTime - Date.now())
        .sort((a: number, b: number) => a - b);
    await emitRemoved(t, businessId, "booking1");
    expect(await runs()).toEqual([DELIVERY_WINDOW_MS - 10]);
    await emitSlots(t, businessId, zoneId, "booking_created");
    expect(await runs()).toEqual([AVAILABILITY_WINDOW_MS, DELIVERY_WINDOW_MS - 10]);
    await emitSlots(t, businessId, zoneId, "booking_cancelled");
    expect((await runs()).length).toBe(2); // the same short window: its run is shared
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(party.received.map((r) => `${r.party}:${r.seqs.join(",")}`).sort()).toEqual(["availability:1,2", "dispatch:1"]);
    expect(party.problems).toEqual([]);
  });

  test("changes within one short window schedule one delivery run between them (no run per change), which delivers all their rows", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2030-05-01T10:00:00.010Z"));
    const t = newTest();
    const { businessId, zoneId } = await scenario(t);
    const party = fakePartykit();
    const scheduled = async () =>
      (await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect()))
        .filter((job: { state: { kind: string } }) => job.state.kind === "pending")
        .map((job: { name: string; scheduledTime: number }) => ({ name: job.name.replace(/\.js/, ""), at: job.scheduledTime }));

    for (let i = 0; i < 5; i++) await emitSlots(t, businessId, zoneId, "hold_created");
    const runs = await scheduled();
    expect(runs).toEqual([{ name: "realtime:deliverOutbox", at: expect.any(Number) }]);
    expect(runs[0].at - Date.now()).toBeGreaterThan(0);
    expect(runs[0].at - Date.now()).toBeLessThanOrEqual(DELIVERY_WINDOW_MS);

    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(party.received.map((r) => r.seqs)).toEqual([[1, 2, 3, 4, 5]]);
    expect((await outbox(t)).every((row) => row.status === "delivered")).toBe(true);

    // A later window gets a run of its own.
    vi.setSystemTime(Date.now() + 10 * DELIVERY_WINDOW_MS);
    await emitSlots(t, businessId, zoneId, "hold_released");
    expect((await scheduled()).map((r) => r.name)).toEqual(["realtime:deliverOutbox"]);
    await t.finishAllScheduledFunctions(vi.runAllTimers);
    expect(party.received.map((r) => r.seqs)).toEqual([[1, 2, 3, 4, 5], [6]]);
    expect(party.problems).toEqual([]);
  });
});
