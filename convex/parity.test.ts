/**
 * Parity of the two doors into the booking commands: each command of the table is driven on
 * the same scenario twice, once through the portal's Convex function (as a signed-in user)
 * and once through the REST API (as an API key), and the two runs must leave the same
 * documents, history, events, outbox rows (PartyKit pushes), customer notifications, partner
 * webhook deliveries and refund requests.
 *
 * Ids differ between the two runs, so every snapshot is normalised: ids become labels in
 * order of first appearance, who acted becomes "ACTOR", and `source` (which records the
 * door a booking came through) is left out.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { anApiKey, call } from "./api/api.testkit";
import { at, bookingScenario, freezeClock, TUESDAY, type Policies, type Scenario } from "./bookings.testkit";
import { newTest, type TestConvex } from "./test.setup";

afterEach(() => {
  vi.useRealTimers();
});

type World = Scenario & { t: TestConvex; key: string; bookingId: Id<"bookings"> };
type Door = "portal" | "rest";

type Case = {
  name: string;
  policies?: Policies;
  /** Brings the booking to the state the command starts from (the same door for both runs). */
  arrange?: (w: World) => Promise<void>;
  portal: (w: World) => Promise<unknown>;
  rest: (w: World) => Promise<{ status: number; body: unknown }>;
};

const TEN = () => at(TUESDAY, "10:00");

async function setStatusAsManager(w: World, status: "EN_ROUTE" | "IN_PROGRESS") {
  await w.manager.as.mutation(api.bookings.setStatus, { bookingId: w.bookingId, status });
}

/** A payment of the whole total recorded on the booking's invoice (as the Stripe webhook would). */
async function payInFull(w: World) {
  await w.t.run(async (ctx) => {
    const invoice = (await ctx.db
      .query("invoices")
      .withIndex("by_bookingId", (q) => q.eq("bookingId", w.bookingId))
      .first())!;
    await ctx.db.insert("payments", {
      businessId: invoice.businessId,
      invoiceId: invoice._id,
      bookingId: w.bookingId,
      customerId: invoice.customerId,
      kind: "full",
      provider: "local_test",
      amountMinor: invoice.totalMinor,
      currency: invoice.currency,
      status: "succeeded",
      createdAt: Date.now(),
      updatedAt: Date.now(),
    });
    await ctx.db.patch("invoices", invoice._id, { amountPaidMinor: invoice.totalMinor, status: "paid", paidAt: Date.now() });
  });
}

const CASES: Case[] = [
  {
    name: "confirm a hold",
    portal: (w) => w.manager.as.mutation(api.bookings.confirm, { bookingId: w.bookingId }),
    rest: (w) => call(w.t, "POST", `/v1/bookings/${w.bookingId}/confirm`, { key: w.key, body: {} }),
  },
  {
    name: "reschedule by the business",
    arrange: (w) => confirm(w),
    portal: (w) => w.manager.as.mutation(api.bookings.reschedule, { bookingId: w.bookingId, start: at(TUESDAY, "13:00") }),
    rest: (w) =>
      call(w.t, "POST", `/v1/bookings/${w.bookingId}/reschedule`, { key: w.key, body: { start: at(TUESDAY, "13:00"), actingFor: "business" } }),
  },
  {
    name: "late reschedule for the customer (fee)",
    policies: { reschedule: { freeUntilHours: 48, lateFeeFlatMinor: 1_500 } },
    arrange: (w) => confirm(w),
    portal: (w) => w.customer.as.mutation(api.bookings.reschedule, { bookingId: w.bookingId, start: at(TUESDAY, "13:00") }),
    rest: (w) => call(w.t, "POST", `/v1/bookings/${w.bookingId}/reschedule`, { key: w.key, body: { start: at(TUESDAY, "13:00") } }),
  },
  {
    name: "cancel by the business",
    arrange: (w) => confirm(w),
    portal: (w) => w.manager.as.mutation(api.bookings.cancel, { bookingId: w.bookingId, reason: "Provider ill" }),
    rest: (w) => call(w.t, "POST", `/v1/bookings/${w.bookingId}/cancel`, { key: w.key, body: { reason: "Provider ill", actingFor: "business" } }),
  },
  {
    name: "late cancellation by the customer of a paid booking (fee kept, rest refunded)",
    policies: { cancellation: { freeUntilHours: 48, lateFeePercentBp: 2_500 } },
    arrange: async (w) => {
      await confirm(w);
      await payInFull(w);
    },
    portal: (w) => w.customer.as.mutation(api.bookings.cancel, { bookingId: w.bookingId }),
    rest: (w) => call(w.t, "POST", `/v1/bookings/${w.bookingId}/cancel`, { key: w.key, body: {} }),
  },
  {
    name: "release a hold",
    portal: (w) => w.manager.as.mutation(api.bookings.cancel, { bookingId: w.bookingId }),
    rest: (w) => call(w.t, "POST", `/v1/bookings/${w.bookingId}/cancel`, { key: w.key, body: { actingFor: "business" } }),
  },
  {
    name: "en route",
    arrange: async (w) => {
      await confirm(w);
      vi.setSystemTime(TEN() - 30 * 60_000);
    },
    portal: (w) => w.manager.as.mutation(api.bookings.setStatus, { bookingId: w.bookingId, status: "EN_ROUTE" }),
    rest: (w) => call(w.t, "POST", `/v1/bookings/${w.bookingId}/status`, { key: w.key, body: { status: "EN_ROUTE" } }),
  },
  {
    name: "in progress",
    arrange: async (w) => {
      await confirm(w);
      vi.setSystemTime(TEN() + 5 * 60_000);
      await setStatusAsManager(w, "EN_ROUTE");
    },
    portal: (w) => w.manager.as.mutation(api.bookings.setStatus, { bookingId: w.bookingId, status: "IN_PROGRESS" }),
    rest: (w) => call(w.t, "POST", `/v1/bookings/${w.bookingId}/status`, { key: w.key, body: { status: "IN_PROGRESS" } }),
  },
  {
    name: "completed",
    arrange: async (w) => {
      await confirm(w);
      vi.setSystemTime(TEN() + 5 * 60_000);
      await setStatusAsManager(w, "IN_PROGRESS");
      vi.setSystemTime(TEN() + 90 * 60_000);
    },
    portal: (w) => w.manager.as.mutation(api.bookings.setStatus, { bookingId: w.bookingId, status: "COMPLETED", note: "All done" }),
    rest: (w) => call(w.t, "POST", `/v1/bookings/${w.bookingId}/status`, { key: w.key, body: { status: "COMPLETED", note: "All done" } }),
  },
  {
    name: "no-show",
    arrange: async (w) => {
      await confirm(w);
      vi.setSystemTime(TEN() + 20 * 60_000);
    },
    portal: (w) => w.manager.as.mutation(api.bookings.setStatus, { bookingId: w.bookingId, status: "NO_SHOW" }),
    rest: (w) => call(w.t, "POST", `/v1/bookings/${w.bookingId}/status`, { key: w.key, body: { status: "NO_SHOW" } }),
  },
];

async function confirm(w: World) {
  await w.manager.as.mutation(api.bookings.confirm, { bookingId: w.bookingId });
}

/** A business with a partner webhook endpoint (every event) and a manager's hold for tomorrow 10:00. */
async function world(policies: Policies | undefined): Promise<World> {
  freezeClock();
  const t = newTest();
  const s = await bookingScenario(t, { policies: { ...policies, booking: { depositBp: 0, ...policies?.booking } } });
  const { key } = await anApiKey(t, s.businessId);
  await t.run((ctx) =>
    ctx.db.insert("webhookEndpoints", {
      businessId: s.businessId,
      url: "https://partner.example/hooks",
      eventTypes: [],
      secrets: [{ secret: "whsec_cGFyaXR5cGFyaXR5cGFyaXR5cGFyaXR5cGFyaXR5", createdAt: Date.now() }],
      status: "enabled",
      createdAt: Date.now(),
    }),
  );
  const { bookingId } = await s.manager.as.mutation(api.bookings.hold, {
    businessId: s.businessId,
    zoneId: s.zoneId,
    cart: s.cart,
    start: TEN(),
    customerId: s.customer.customerId,
  });
  return { ...s, t, key, bookingId };
}

/** Creation times of the rows written before the command, to tell the command's own rows apart. */
type Mark = Record<string, Set<string>>;

const WATCHED = ["events", "outbox", "webhookDeliveries", "bookingStatusHistory", "refunds", "notifications", "invoices", "bookingAssignments"] as const;

async function mark(t: TestConvex): Promise<Mark> {
  return await t.run(async (ctx) => {
    const out: Record<string, string[]> = {};
    for (const table of WATCHED) out[table] = (await ctx.db.query(table).collect()).map((d) => d._id as string);
    return out;
  }).then((lists) => Object.fromEntries(Object.entries(lists).map(([k, ids]) => [k, new Set(ids)])));
}

const NOTIFY = /notifyBookingEvent$/;

/** Runs the notification jobs the command queued (only those: webhook and push workers would reach the network). */
async function runNotifications(t: TestConvex, before: Set<string>) {
  const jobs = await t.run(async (ctx) => await ctx.db.system.query("_scheduled_functions").collect());
  for (const job of jobs) {
    const name = job.name.replace(/\.js(?=:)/, "").replace(/:/g, ".");
    if (before.has(job._id) || !NOTIFY.test(name) || job.state.kind !== "pending") continue;
    await t.mutation(internal.notifications.notifyBookingEvent, job.args[0] as never);
  }
}

async function scheduledIds(t: TestConvex): Promise<Set<string>> {
  return new Set(await t.run(async (ctx) => (await ctx.db.system.query("_scheduled_functions").collect()).map((j) => j._id as string)));
}

/** Tables whose ids may appear in what a command writes. */
const ID_TABLES = [
  "businesses", "users", "apiKeys", "customers", "customerAddresses", "zones", "industries", "categories", "products", "extras",
  "resources", "bookings", "bookingAssignments", "invoices", "payments", "refunds", "events", "webhookEndpoints",
] as const;

/** Everything the command wrote, normalised. */
async function snapshot(w: World, before: Mark) {
  const raw = await w.t.run(async (ctx) => {
    const booking = (await ctx.db.get("bookings", w.bookingId))!;
    const fresh = async <T extends (typeof WATCHED)[number]>(table: T) =>
      (await ctx.db.query(table).collect()).filter((d) => !before[table].has(d._id as string));
    const deliveries = [];
    for (const d of await fresh("webhookDeliveries")) {
      const event = (await ctx.db.get("events", d.eventId))!;
      deliveries.push({ status: d.status, attempts: d.attempts, eventType: event.type });
    }
    const { source: _source, ...rest } = booking;
    const ids: string[] = [];
    for (const table of ID_TABLES) for (const d of await ctx.db.query(table).collect()) ids.push(d._id as string);
    // Builders give every business, person and address a unique random name: labelled like ids.
    for (const b of await ctx.db.query("businesses").collect()) ids.push(b.slug);
    for (const u of await ctx.db.query("users").collect()) ids.push(...[u.email, u.name].filter((x): x is string => x !== undefined));
    for (const c of await ctx.db.query("customers").collect()) if (c.email !== undefined) ids.push(c.email);
    // Invoice numbers derive from the business id.
    for (const i of await ctx.db.query("invoices").collect()) ids.push(i.number);
    return {
      ids,
      booking: rest,
      invoices: (await ctx.db.query("invoices").collect()).filter((i) => i.bookingId === w.bookingId),
      assignments: await ctx.db
        .query("bookingAssignments")
        .withIndex("by_bookingId", (q) => q.eq("bookingId", w.bookingId))
        .collect(),
      history: await fresh("bookingStatusHistory"),
      events: (await fresh("events")).map((e) => ({ type: e.type, entity: e.entity, data: e.data })),
      outbox: (await fresh("outbox")).map((o) => ({ party: o.party, room: o.room, seq: o.seq, status: o.status, type: (o.payload as { event: { type: string; data: unknown } }).event.type, data: (o.payload as { event: { data: unknown } }).event.data })),
      webhookDeliveries: deliveries,
      refunds: (await fresh("refunds")).map((r) => ({ amountMinor: r.amountMinor, currency: r.currency, reason: r.reason, status: r.status, requestedBy: r.requestedBy })),
      notifications: (await fresh("notifications")).map((n) => ({ templateKey: n.templateKey, channel: n.channel, to: n.to, subject: n.subject, body: n.body, status: n.status })),
    };
  });
  const { ids, ...written } = raw;
  return normalise(written, ids);
}

/** Ids → labels by first appearance; actors → "ACTOR"; Convex system fields dropped. */
function normalise(value: unknown, ids: string[]): unknown {
  const labels = new Map<string, string>();
  const label = (id: string) => {
    if (!labels.has(id)) labels.set(id, `id${labels.size + 1}`);
    return labels.get(id)!;
  };
  const known = [...ids].sort((a, b) => b.length - a.length);
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      // Room names and texts may embed ids ("b_<id>__c_<id>").
      let out = v;
      for (const id of known) if (out.includes(id)) out = out.split(id).join(label(id));
      return out;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      const o = v as Record<string, unknown>;
      if (typeof o.role === "string" && ("userId" in o || "apiKeyId" in o)) return "ACTOR";
      const out: Record<string, unknown> = {};
      for (const key of Object.keys(o).sort()) {
        if (key === "_creationTime" || key === "_id") continue;
        out[key] = walk(o[key]);
      }
      return out;
    }
    return v;
  };
  return walk(value);
}

async function runThrough(door: Door, c: Case) {
  const w = await world(c.policies);
  await c.arrange?.(w);
  const before = await mark(w.t);
  const jobsBefore = await scheduledIds(w.t);
  if (door === "portal") {
    await c.portal(w);
  } else {
    const result = await c.rest(w);
    if (result.status >= 300) throw new Error(`REST ${c.name}: ${result.status} ${JSON.stringify(result.body)}`);
  }
  await runNotifications(w.t, jobsBefore);
  return await snapshot(w, before);
}

describe("booking commands: portal and REST do the same", { timeout: 120_000 }, () => {
  test.each(CASES.map((c) => [c.name, c] as const))("%s", async (_name, c) => {
    const portal = await runThrough("portal", c);
    const rest = await runThrough("rest", c);
    expect(rest).toEqual(portal);
  });

  test("the scenarios are not vacuous: each command changed the booking and produced events", async () => {
    const c = CASES.find((x) => x.name === "cancel by the business")!;
    const snap = (await runThrough("portal", c)) as { events: unknown[]; notifications: unknown[]; webhookDeliveries: unknown[] };
    expect(snap.events.length).toBeGreaterThan(0);
    expect(snap.notifications.length).toBeGreaterThan(0);
    expect(snap.webhookDeliveries.length).toBe(snap.events.length);
  });

  test("a paid booking cancelled late through either door refunds what the policy promised", async () => {
    const c = CASES.find((x) => x.name.startsWith("late cancellation"))!;
    for (const door of ["portal", "rest"] as const) {
      const snap = (await runThrough(door, c)) as { refunds: { amountMinor: number; status: string }[] };
      // $100 paid, 25 % late fee: $75 back.
      expect(snap.refunds.map((r) => [r.amountMinor, r.status])).toEqual([[7_500, "pending"]]);
    }
  });
});
