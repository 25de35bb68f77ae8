/**
 * Parity of the two doors to zones, the catalogue, customers and webhook endpoints: each
 * command is driven through the portal's Convex function (signed in as the owner) and
 * through the REST API (an all-scopes key) on the same scenario, in two fresh deployments,
 * and the two must leave the same documents, events, outbox rows (PartyKit pushes) and
 * partner webhook deliveries behind.
 *
 * Ids differ between deployments, so every id is replaced by a token given in order of
 * first appearance; times and secrets (random by design) are left out. A second table lists
 * where the two copies of a rule disagreed before they became one command, each with the
 * behaviour both doors now share.
 */
import { describe, expect, test } from "vitest";
import { customersEvent } from "../party/messages";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { anApiKey, call, type ApiResult } from "./api/api.testkit";
import { newTest, type TestConvex } from "./test.setup";
import { aBusiness, type TestUser } from "./test.builders";

// ---------------------------------------------------------------------------------------
// Scenario: one business, seeded identically in each deployment
// ---------------------------------------------------------------------------------------

type Seeded = {
  businessId: Id<"businesses">;
  owner: TestUser;
  key: string;
  zoneId: Id<"zones">;
  industryId: Id<"industries">;
  categoryId: Id<"categories">;
  emptyCategoryId: Id<"categories">;
  productId: Id<"products">;
  extraId: Id<"extras">;
  customerId: Id<"customers">;
  addressId: Id<"customerAddresses">;
  endpointId: Id<"webhookEndpoints">;
  eventId: Id<"events">;
};

const QUANTITY = { min: 1, max: 5, step: 1, included: 1, extraUnitPriceMinor: 2_500, extraUnitDurationMinutes: 30, unitLabel: "room" };
const PRICING = { tripChargeMinor: 0, priceMultiplierBp: 10_000, minimumMinor: 0 };
const ADDRESS = { line1: "1 Main St", city: "New York", postalCode: "10001", country: "US" };

async function seed(t: TestConvex): Promise<Seeded> {
  const biz = await aBusiness(t);
  const { key } = await anApiKey(t, biz.businessId);
  const ids = await t.run(async (ctx) => {
    const businessId = biz.businessId;
    const zoneId = await ctx.db.insert("zones", { businessId, name: "Manhattan", active: true, boundaries: [], pricing: PRICING, taxRateBp: 0, taxInclusive: false });
    await ctx.db.insert("zonePostalCodes", { businessId, zoneId, postalCode: "10001" });
    const industryId = await ctx.db.insert("industries", { businessId, name: "Cleaning", slug: "cleaning", active: true });
    const categoryId = await ctx.db.insert("categories", { businessId, industryId, name: "Home cleaning", sortOrder: 0 });
    const emptyCategoryId = await ctx.db.insert("categories", { businessId, industryId, name: "Offices", sortOrder: 1 });
    const productId = await ctx.db.insert("products", {
      businessId,
      industryId,
      categoryId,
      name: "Standard clean",
      priceMinor: 10_000,
      durationMinutes: 120,
      quantity: QUANTITY,
      active: true,
      sortOrder: 0,
    });
    const extraId = await ctx.db.insert("extras", {
      businessId,
      industryId,
      name: "Inside fridge",
      priceMinor: 2_000,
      durationMinutes: 30,
      pricing: "flat",
      maxQuantity: 1,
      productIds: [],
      active: true,
    });
    const customerId = await ctx.db.insert("customers", { businessId, name: "Casey Customer", email: "casey@example.test", tags: [], createdAt: 0 });
    const addressId = await ctx.db.insert("customerAddresses", { businessId, customerId, address: ADDRESS, zoneId, isDefault: true });
    // A partner endpoint subscribed to everything, so every event shows as a delivery.
    const endpointId = await ctx.db.insert("webhookEndpoints", {
      businessId,
      url: "https://partner.example/hooks",
      eventTypes: [],
      secrets: [{ secret: "whsec_c2VlZGVkLXNlY3JldC1mb3ItdGVzdHMtMTIzNA==", createdAt: 0 }],
      status: "enabled",
      createdAt: 0,
    });
    // An event from before (no fan-out: it is only there to be replayed).
    const eventId = await ctx.db.insert("events", {
      businessId,
      type: "booking.confirmed",
      entity: { table: "businesses", id: businessId },
      data: { businessId },
      createdAt: 0,
    });
    return { zoneId, industryId, categoryId, emptyCategoryId, productId, extraId, customerId, addressId, endpointId, eventId };
  });
  return { businessId: biz.businessId, owner: biz.owner, key, ...ids };
}

// ---------------------------------------------------------------------------------------
// What a command left behind, with ids as tokens
// ---------------------------------------------------------------------------------------

const ENTITY_TABLES = [
  "zones",
  "zonePostalCodes",
  "industries",
  "categories",
  "products",
  "extras",
  "customers",
  "customerAddresses",
  "paymentMethods",
  "clientNotes",
  "webhookEndpoints",
  "notifications",
] as const;

/** Random or clock-given by design: not part of what a command decides. */
const VOLATILE = new Set(["_creationTime", "createdAt", "secret", "secrets", "nextAttemptAt", "lastAttemptAt", "timestamp"]);

type Snapshot = Record<string, unknown>;

async function snapshot(t: TestConvex): Promise<Snapshot> {
  return await t.run(async (ctx) => {
    const out: Snapshot = {};
    for (const table of ENTITY_TABLES) out[table] = await ctx.db.query(table).take(1_000);
    out.events = await ctx.db.query("events").take(1_000);
    // Delivery state (sent, retried) depends on the worker's timing; what was queued does not.
    out.outbox = (await ctx.db.query("outbox").take(1_000)).map((o) => ({ eventId: o.eventId, party: o.party, room: o.room, seq: o.seq, payload: o.payload }));
    out.webhookDeliveries = (await ctx.db.query("webhookDeliveries").take(1_000)).map((d) => ({
      businessId: d.businessId,
      endpointId: d.endpointId,
      eventId: d.eventId,
    }));
    return out;
  });
}

/** Every document id in the deployment (deleted ones included: they may be named by events). */
async function knownIds(t: TestConvex): Promise<string[]> {
  return await t.run(async (ctx) => {
    const ids: string[] = [];
    for (const table of [...ENTITY_TABLES, "businesses", "users", "memberships", "apiKeys", "events", "outbox", "webhookDeliveries"] as const) {
      for (const doc of await ctx.db.query(table).take(1_000)) ids.push(doc._id);
    }
    return ids;
  });
}

/** Replaces ids (also inside strings such as room names) with tokens, drops volatile keys. */
function normalize(value: unknown, ids: string[]): unknown {
  const tokens = new Map<string, string>();
  const sorted = [...new Set(ids)].sort((a, b) => b.length - a.length);
  const tokenOf = (id: string) => {
    if (!tokens.has(id)) tokens.set(id, `<id${tokens.size + 1}>`);
    return tokens.get(id)!;
  };
  const walk = (v: unknown): unknown => {
    if (typeof v === "string") {
      let out = v;
      for (const id of sorted) if (out.includes(id)) out = out.split(id).join(tokenOf(id));
      return out;
    }
    if (Array.isArray(v)) return v.map(walk);
    if (v !== null && typeof v === "object") {
      const out: Record<string, unknown> = {};
      for (const [k, inner] of Object.entries(v)) if (!VOLATILE.has(k)) out[k] = walk(inner);
      return out;
    }
    return v;
  };
  return walk(value);
}

function ok(result: ApiResult, status = 200) {
  if (result.status !== status) throw new Error(`expected HTTP ${status}, got ${result.status}: ${JSON.stringify(result.body)}`);
  return result.body;
}

// ---------------------------------------------------------------------------------------
// The commands, each through both doors
// ---------------------------------------------------------------------------------------

type Door = (t: TestConvex, s: Seeded) => Promise<unknown>;
type Case = { command: string; portal: Door; rest: Door };

const cases: Case[] = [
  // Zones
  {
    command: "create zone",
    portal: (t, s) =>
      s.owner.as.mutation(api.zones.create, {
        businessId: s.businessId,
        name: "Brooklyn",
        postalCodes: ["112*", "11201"],
        boundaries: [],
        pricing: { ...PRICING, tripChargeMinor: 1_500 },
        taxRateBp: 887,
        taxInclusive: false,
      }),
    rest: async (t, s) =>
      ok(
        await call(t, "POST", "/v1/zones", {
          key: s.key,
          body: { name: "Brooklyn", postalCodes: ["112*", "11201"], pricing: { ...PRICING, tripChargeMinor: 1_500 }, taxRateBp: 887 },
        }),
        201,
      ),
  },
  {
    command: "update zone (name, postal codes, pricing)",
    portal: (t, s) =>
      s.owner.as.mutation(api.zones.update, { zoneId: s.zoneId, name: "Midtown", postalCodes: ["10001", "10018"], pricing: { ...PRICING, minimumMinor: 5_000 } }),
    rest: async (t, s) =>
      ok(await call(t, "PATCH", `/v1/zones/${s.zoneId}`, { key: s.key, body: { name: "Midtown", postalCodes: ["10001", "10018"], pricing: { ...PRICING, minimumMinor: 5_000 } } })),
  },
  {
    command: "deactivate zone",
    portal: (t, s) => s.owner.as.mutation(api.zones.setActive, { zoneId: s.zoneId, active: false }),
    rest: async (t, s) => ok(await call(t, "PATCH", `/v1/zones/${s.zoneId}`, { key: s.key, body: { active: false } })),
  },
];

describe("entity commands: the portal and the REST API leave the same state", { timeout: 120_000 }, () => {
  test.each(cases)("$command", async ({ portal, rest }) => {
    const outcomes = [];
    for (const door of [portal, rest]) {
      const t = newTest();
      const s = await seed(t);
      await door(t, s);
      outcomes.push(normalize(await snapshot(t), await knownIds(t)));
    }
    expect(outcomes[1]).toEqual(outcomes[0]);
  });
});

// ---------------------------------------------------------------------------------------
// Where the two copies disagreed (each failed on the code before the command layer)
// ---------------------------------------------------------------------------------------

async function eventTypes(t: TestConvex) {
  return await t.run(async (ctx) => (await ctx.db.query("events").take(100)).map((e) => e.type));
}

describe("disagreements settled", { timeout: 120_000 }, () => {
  test("zones: deactivating while renaming through REST also says zone.deactivated (partners filtering on it saw nothing)", async () => {
    const t = newTest();
    const s = await seed(t);
    ok(await call(t, "PATCH", `/v1/zones/${s.zoneId}`, { key: s.key, body: { name: "Old Manhattan", active: false } }));
    expect(await eventTypes(t)).toEqual(["booking.confirmed", "zone.updated", "zone.deactivated"]);
  });

  test("customers: a REST change pushes the customers room the notice PartyKit accepts, without personal data", async () => {
    const t = newTest();
    const s = await seed(t);
    const created = ok(await call(t, "POST", "/v1/customers", { key: s.key, body: { name: "Ada Lovelace", email: "ada@example.com" } }), 201);
    ok(await call(t, "PATCH", `/v1/customers/${created.id}`, { key: s.key, body: { name: "Ada King" } }));
    const pushes = await t.run(async (ctx) => (await ctx.db.query("outbox").take(10)).filter((o) => o.party === "customers"));
    expect(pushes).toHaveLength(2);
    for (const push of pushes) {
      const event = (push.payload as { event: { data: unknown } }).event.data;
      expect(customersEvent.safeParse(event).success).toBe(true);
      expect(JSON.stringify(event)).not.toMatch(/Ada|ada@example/);
    }
  });

  test("customers: an address saved in the portal tells partners and the staff room, as REST did", async () => {
    const t = newTest();
    const s = await seed(t);
    await s.owner.as.mutation(api.customers.addAddress, { customerId: s.customerId, address: { ...ADDRESS, line1: "2 Side St" } });
    const events = await t.run(async (ctx) => await ctx.db.query("events").take(10));
    expect(events.map((e) => e.type)).toEqual(["booking.confirmed", "customer.updated"]);
    const push = await t.run(async (ctx) => await ctx.db.query("outbox").first());
    expect((push?.payload as { event: { data: unknown } }).event.data).toEqual({
      type: "customer.changed",
      businessId: s.businessId,
      customerId: s.customerId,
      aspects: ["addresses"],
    });
  });
});
