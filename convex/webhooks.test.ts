/**
 * Partner webhooks: registration, Standard Webhooks signatures checked by the independent
 * `standardwebhooks` package (also during secret rotation), retries with backoff, disabling
 * after days of failure, replay, the delivery log.
 */
import { Webhook } from "standardwebhooks";
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { emitEvent } from "./model/events";
import {
  DISABLE_AFTER_FAILING_MS,
  RETRY_DELAYS_MS,
  checkEndpointUrl,
  checkEventTypeFilters,
  matchesEventType,
  retryDelayMs,
} from "./model/webhookPolicy";
import { MAX_PARALLEL_DELIVERIES } from "./model/webhookQueue";
import { newTest, type TestConvex } from "./test.setup";
import { aBusiness, aManager, anOwner } from "./test.builders";
import { errorOf, routeFetch } from "./stripeWebhook.testkit";

/** Real time, for a partner that takes a while to answer while the fake clock stands still. */
const realSetTimeout = globalThis.setTimeout.bind(globalThis);

type Captured = { url: string; headers: Record<string, string>; body: string; at: number };

let restore: (() => void) | null = null;
afterEach(() => {
  restore?.();
  restore = null;
  vi.useRealTimers();
});

function partner(respond: (req: Captured) => Response = () => new Response("ok", { status: 200 })) {
  const received: Captured[] = [];
  const handler = async (url: string, init: RequestInit) => {
    const headers: Record<string, string> = {};
    new Headers(init.headers).forEach((value, key) => (headers[key] = value));
    const req = { url, headers, body: String(init.body), at: Date.now() };
    received.push(req);
    return respond(req);
  };
  return { received, handler };
}

async function emit(t: TestConvex, businessId: Id<"businesses">, type: string, data: Record<string, string | number> = {}) {
  return await t.run((ctx) =>
    emitEvent(ctx, { businessId, type, entity: { table: "businesses", id: businessId }, data: { ...data, businessId }, rooms: [] }),
  );
}

/**
 * Runs scheduled work in time order, one timer at a time: waits for the functions already
 * running, then moves the fake clock to the next armed timer only. `finishAllScheduledFunctions`
 * cannot be used with the delivery pool: it advances timers on every event-loop turn while a
 * function runs (and `vi.runAllTimers` jumps to the farthest timer before any fired function
 * has run), and the pool always has timers armed ahead (its loop's polls, its watchdog two
 * minutes out, timers of cancelled runs), so attempts would start minutes after they are due.
 * See docs/ARCHITECTURE.md, "Partner webhooks on the workpool".
 */
async function run(t: TestConvex, maxSteps = 20_000) {
  for (let step = 0; step < maxSteps; step++) {
    await t.finishInProgressScheduledFunctions();
    if (vi.getTimerCount() === 0) return;
    vi.advanceTimersToNextTimer();
  }
  throw new Error(`scheduled work still running after ${maxSteps} timers`);
}

/** Runs the first attempt of every pending delivery now (the worker itself, as the scheduler would). */
async function firstAttempt(t: TestConvex) {
  const pending = await t.run((ctx) =>
    ctx.db.query("webhookDeliveries").withIndex("by_status_and_nextAttemptAt", (q) => q.eq("status", "pending")).collect(),
  );
  for (const d of pending) await t.action(internal.webhookDelivery.deliver, { deliveryId: d._id });
}

describe("rules", () => {
  test.each([
    ["https://partner.example/hooks", true],
    ["http://127.0.0.1:4000/hook", true],
    ["http://localhost/hook", true],
    ["http://partner.example/hook", false],
    ["ftp://partner.example/hook", false],
    ["https://user:pw@partner.example/hook", false],
    ["https://partner.example/hook#frag", false],
    ["not a url", false],
  ])("endpoint URL %s → %s", (url, ok) => {
    expect(checkEndpointUrl(url).ok).toBe(ok);
  });

  test("event-type filters", () => {
    expect(checkEventTypeFilters(["payment.*", "booking.confirmed", "*"]).ok).toBe(true);
    expect(checkEventTypeFilters(["Payment Succeeded"]).ok).toBe(false);
    expect(matchesEventType([], "anything.at_all")).toBe(true);
    expect(matchesEventType(["payment.*"], "payment.succeeded")).toBe(true);
    expect(matchesEventType(["payment.*"], "payments.succeeded")).toBe(false);
    expect(matchesEventType(["booking.confirmed"], "booking.cancelled")).toBe(false);
  });

  test("retry delays: the schedule with ±10 % jitter, spanning more than three days, then none", () => {
    expect(retryDelayMs(1, () => 0.5)).toBe(5_000);
    expect(retryDelayMs(2, () => 0)).toBe(270_000);
    expect(retryDelayMs(2, () => 0.999999)).toBeLessThanOrEqual(330_000);
    expect(retryDelayMs(RETRY_DELAYS_MS.length + 1)).toBeNull();
    const minimumSpan = RETRY_DELAYS_MS.reduce((sum, d) => sum + d * 0.9, 0);
    expect(minimumSpan).toBeGreaterThan(DISABLE_AFTER_FAILING_MS);
  });
});

describe("endpoints", () => {
  test("owners register endpoints; the secret is shown once; managers cannot register; outsiders see nothing", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const manager = await aManager(t, biz.businessId);
    const outsider = await anOwner(t);
    const created = await biz.owner.as.mutation(api.webhooks.createEndpoint, {
      businessId: biz.businessId,
      url: "https://partner.example/hooks",
      eventTypes: ["payment.*"],
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/=]{32}$/);
    const list = await manager.as.query(api.webhooks.listEndpoints, { businessId: biz.businessId });
    expect(list).toHaveLength(1);
    expect(JSON.stringify(list)).not.toContain(created.secret);
    expect(list[0].secrets[0].hint).toBe(`${created.secret.slice(0, 10)}…`);

    expect((await errorOf(biz.owner.as.mutation(api.webhooks.createEndpoint, { businessId: biz.businessId, url: "http://partner.example/x", eventTypes: [] })))?.code).toBe("INVALID_ARGUMENT");
    expect((await errorOf(manager.as.mutation(api.webhooks.createEndpoint, { businessId: biz.businessId, url: "https://x.example", eventTypes: [] })))?.code).toBe("FORBIDDEN");
    expect((await errorOf(outsider.as.mutation(api.webhooks.rotateSecret, { endpointId: created.endpointId })))?.code).toBe("NOT_FOUND");
    expect((await errorOf(outsider.as.query(api.webhooks.listEndpoints, { businessId: biz.businessId })))?.code).toBe("NOT_FOUND");
  });
});

describe("deliveries", () => {
  test("signed per Standard Webhooks, verified by the standardwebhooks package, with two signatures during rotation", async () => {
    vi.useFakeTimers();
    const t = newTest();
    const p = partner();
    restore = routeFetch(t, p.handler).restore;
    const biz = await aBusiness(t);
    const { endpointId, secret } = await biz.owner.as.mutation(api.webhooks.createEndpoint, {
      businessId: biz.businessId,
      url: "https://partner.example/hooks",
      eventTypes: ["payment.*"],
    });

    const eventId = await emit(t, biz.businessId, "payment.succeeded", { amountMinor: 3_000 });
    await emit(t, biz.businessId, "booking.confirmed"); // filtered out
    await run(t);
    expect(p.received).toHaveLength(1);
    const first = p.received[0];
    expect(first.url).toBe("https://partner.example/hooks");
    expect(first.headers["webhook-id"]).toBe(`msg_${eventId}`);
    const payload = new Webhook(secret).verify(first.body, first.headers) as { id: string; type: string; data: { amountMinor: number } };
    expect(payload).toMatchObject({ id: eventId, type: "payment.succeeded", data: { amountMinor: 3_000 } });
    // A different secret must not verify (the check is real).
    expect(() => new Webhook("whsec_" + btoa("x".repeat(24))).verify(first.body, first.headers)).toThrow();

    const rotated = await biz.owner.as.mutation(api.webhooks.rotateSecret, { endpointId });
    expect(rotated.secret).not.toBe(secret);
    await emit(t, biz.businessId, "payment.failed");
    await run(t);
    const during = p.received[1];
    expect(during.headers["webhook-signature"].split(" ")).toHaveLength(2);
    expect(new Webhook(secret).verify(during.body, during.headers)).toMatchObject({ type: "payment.failed" });
    expect(new Webhook(rotated.secret).verify(during.body, during.headers)).toMatchObject({ type: "payment.failed" });

    vi.setSystemTime(Date.now() + 24 * 3_600_000 + 1_000);
    await emit(t, biz.businessId, "payment.refunded");
    await run(t);
    const after = p.received[2];
    expect(after.headers["webhook-signature"].split(" ")).toHaveLength(1);
    expect(new Webhook(rotated.secret).verify(after.body, after.headers)).toMatchObject({ type: "payment.refunded" });
    expect(() => new Webhook(secret).verify(after.body, after.headers)).toThrow();

    const log = await biz.owner.as.query(api.webhooks.listDeliveries, { endpointId, paginationOpts: { numItems: 10, cursor: null } });
    expect(log.page.map((r) => [r.eventType, r.delivery.status, r.delivery.attempts])).toEqual([
      ["payment.refunded", "succeeded", 1],
      ["payment.failed", "succeeded", 1],
      ["payment.succeeded", "succeeded", 1],
    ]);
    const attempts = await biz.owner.as.query(api.webhooks.listAttempts, { deliveryId: log.page[0].delivery._id });
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({ statusCode: 200, responseExcerpt: "ok" });
  });

  test("a failing endpoint is retried on the backoff schedule, marked failingSince, and disabled only after three days; the owner is told", async () => {
    vi.useFakeTimers();
    const t = newTest();
    const p = partner(() => new Response("x".repeat(5_000), { status: 503 }));
    restore = routeFetch(t, p.handler).restore;
    const biz = await aBusiness(t);
    const { endpointId } = await biz.owner.as.mutation(api.webhooks.createEndpoint, {
      businessId: biz.businessId,
      url: "https://down.example/hooks",
      eventTypes: [],
    });
    const start = Date.now();
    await emit(t, biz.businessId, "invoice.paid");
    // After the first failure: failing, still enabled.
    await firstAttempt(t);
    let endpoint = await t.run((ctx) => ctx.db.get("webhookEndpoints", endpointId));
    expect(endpoint?.status).toBe("enabled");
    expect(endpoint?.failingSince).toBe(start);

    await run(t);
    const delivery = (await t.run((ctx) => ctx.db.query("webhookDeliveries").collect()))[0];
    const attempts = await t.run((ctx) =>
      ctx.db.query("webhookAttempts").withIndex("by_deliveryId", (q) => q.eq("deliveryId", delivery._id)).collect(),
    );
    const gaps = attempts.slice(1).map((a, i) => a.at - attempts[i].at);
    gaps.forEach((gap, i) => {
      expect(gap).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[i] * 0.9 - 1);
      expect(gap).toBeLessThanOrEqual(RETRY_DELAYS_MS[i] * 1.1 + 1_000);
    });
    // Retried well past three failures; every attempt before the last was within 3 days.
    expect(attempts.length).toBeGreaterThan(3);
    const last = attempts[attempts.length - 1];
    expect(last.at - start).toBeGreaterThanOrEqual(DISABLE_AFTER_FAILING_MS);
    for (const a of attempts.slice(0, -1)) expect(a.at - start).toBeLessThan(DISABLE_AFTER_FAILING_MS);
    for (const a of attempts) {
      expect(a.statusCode).toBe(503);
      expect(new TextEncoder().encode(a.responseExcerpt ?? "").length).toBeLessThanOrEqual(1024);
    }
    expect(p.received).toHaveLength(attempts.length);

    endpoint = await t.run((ctx) => ctx.db.get("webhookEndpoints", endpointId));
    expect(endpoint?.status).toBe("disabled");
    expect(endpoint?.disabledReason).toMatch(/failed for \d+ hours/);
    expect(delivery.status).toBe("abandoned");
    const notes = await t.run((ctx) => ctx.db.query("notifications").collect());
    expect(notes.some((n) => n.userId === biz.owner.userId && /disabled/.test(n.subject ?? ""))).toBe(true);

    // Disabled endpoints receive nothing new.
    await emit(t, biz.businessId, "invoice.paid");
    await run(t);
    expect(p.received).toHaveLength(attempts.length);
  });

  test("a success clears failingSince; replay sends an event again as a new delivery with the same webhook-id", async () => {
    vi.useFakeTimers();
    const t = newTest();
    let fail = true;
    const p = partner(() => new Response(fail ? "down" : "ok", { status: fail ? 500 : 200 }));
    restore = routeFetch(t, p.handler).restore;
    const biz = await aBusiness(t);
    const { endpointId } = await biz.owner.as.mutation(api.webhooks.createEndpoint, {
      businessId: biz.businessId,
      url: "https://flaky.example/hooks",
      eventTypes: [],
    });
    const eventId = await emit(t, biz.businessId, "refund.succeeded");
    await firstAttempt(t);
    expect((await t.run((ctx) => ctx.db.get("webhookEndpoints", endpointId)))?.failingSince).toBeTypeOf("number");
    fail = false;
    await run(t);
    expect((await t.run((ctx) => ctx.db.get("webhookEndpoints", endpointId)))?.failingSince).toBeUndefined();
    expect(p.received).toHaveLength(2);

    const replayed = await biz.owner.as.mutation(api.webhooks.replay, { eventId, endpointId });
    expect(replayed).toHaveLength(1);
    await run(t);
    expect(p.received).toHaveLength(3);
    expect(p.received[2].headers["webhook-id"]).toBe(p.received[0].headers["webhook-id"]);
    const deliveries = await t.run((ctx) => ctx.db.query("webhookDeliveries").withIndex("by_eventId", (q) => q.eq("eventId", eventId)).collect());
    expect(deliveries.map((d) => d.status).sort()).toEqual(["succeeded", "succeeded"]);
  });

  test("the sweep fans out events whose fan-out was missed, once", async () => {
    vi.useFakeTimers();
    const t = newTest();
    const p = partner();
    restore = routeFetch(t, p.handler).restore;
    const biz = await aBusiness(t);
    await biz.owner.as.mutation(api.webhooks.createEndpoint, { businessId: biz.businessId, url: "https://partner.example/h", eventTypes: ["booking.*"] });
    // An event row written without emitEvent's fan-out (as if that step had been lost).
    await t.run((ctx) =>
      ctx.db.insert("events", {
        businessId: biz.businessId,
        type: "booking.confirmed",
        entity: { table: "bookings", id: "b1" },
        data: { ok: 1 },
        createdAt: Date.now(),
      }),
    );
    expect((await t.mutation(internal.webhookDelivery.sweep, {})).fannedOut).toBe(1);
    expect((await t.mutation(internal.webhookDelivery.sweep, {})).fannedOut).toBe(0);
    await run(t);
    expect(p.received).toHaveLength(1);
  });

  test("partner requests in flight at once are bounded by the delivery pool's parallelism", async () => {
    vi.useFakeTimers();
    const t = newTest();
    let inFlight = 0;
    let most = 0;
    const received: string[] = [];
    restore = routeFetch(t, async (url) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      received.push(url);
      // A partner that takes a while to answer (real time: the fake clock stands still).
      await new Promise((resolve) => realSetTimeout(resolve, 25));
      inFlight -= 1;
      return new Response("ok", { status: 200 });
    }).restore;
    const biz = await aBusiness(t);
    const endpoints = MAX_PARALLEL_DELIVERIES + 4;
    for (let i = 0; i < endpoints; i++) {
      await biz.owner.as.mutation(api.webhooks.createEndpoint, { businessId: biz.businessId, url: `https://partner${i}.example/h`, eventTypes: [] });
    }
    const eventId = await emit(t, biz.businessId, "booking.confirmed");
    await run(t);
    expect(received).toHaveLength(endpoints);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(MAX_PARALLEL_DELIVERIES);
    const deliveries = await t.query(internal.webhookDelivery.deliveriesForEvent, { eventId });
    expect(deliveries.map((d) => d.status)).toEqual(Array(endpoints).fill("succeeded"));
  });

  test("an attempt whose worker dies before recording is logged as a failed attempt and retried on the schedule", async () => {
    vi.useFakeTimers();
    const t = newTest();
    const p = partner();
    restore = routeFetch(t, p.handler).restore;
    const biz = await aBusiness(t);
    const { endpointId } = await biz.owner.as.mutation(api.webhooks.createEndpoint, { businessId: biz.businessId, url: "https://partner.example/h", eventTypes: [] });
    // A stored secret the worker cannot sign with: the action throws before any request.
    await t.run((ctx) => ctx.db.patch("webhookEndpoints", endpointId, { secrets: [{ secret: "not-a-secret", createdAt: Date.now() }] }));
    const start = Date.now();
    await emit(t, biz.businessId, "booking.confirmed");
    // Only the first attempt is due: run until the clock would pass the first retry.
    for (let i = 0; i < 200 && Date.now() < start + RETRY_DELAYS_MS[0] / 2; i++) {
      await t.finishInProgressScheduledFunctions();
      if (vi.getTimerCount() === 0) break;
      vi.advanceTimersToNextTimer();
    }
    await t.finishInProgressScheduledFunctions();
    const [delivery] = await t.run((ctx) => ctx.db.query("webhookDeliveries").collect());
    const attempts = await biz.owner.as.query(api.webhooks.listAttempts, { deliveryId: delivery._id });
    expect(attempts).toHaveLength(1);
    expect(attempts[0].error).toMatch(/delivery worker failed/);
    expect(attempts[0].statusCode).toBeUndefined();
    expect(delivery).toMatchObject({ status: "pending", attempts: 1 });
    expect(delivery.nextAttemptAt - attempts[0].at).toBeGreaterThanOrEqual(RETRY_DELAYS_MS[0] * 0.9 - 1);
    expect(delivery.nextAttemptAt - attempts[0].at).toBeLessThanOrEqual(RETRY_DELAYS_MS[0] * 1.1 + 1);
    expect(p.received).toHaveLength(0);
  });
});
