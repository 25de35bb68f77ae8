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
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { anApiKey, call, type ApiResult } from "./api/api.testkit";
import { newTest, type TestConvex } from "./test.setup";
import { aBusiness, aManager, aStaffMember, aUser, expectAppError, type TestUser } from "./test.builders";

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
const VOLATILE = new Set(["_creationTime", "createdAt", "secret", "expiresAt", "nextAttemptAt", "lastAttemptAt", "timestamp"]);

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

/** Every document id in the deployment now. */
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
type Case = { command: string; portal: Door; rest: Door; differs?: Record<string, string[]> };

/** Leaves out fields a case documents as meant to differ between the doors. */
function without(snap: Snapshot, differs: Record<string, string[]> = {}): Snapshot {
  const out: Snapshot = { ...snap };
  for (const [table, fields] of Object.entries(differs)) {
    out[table] = (snap[table] as Record<string, unknown>[]).map((doc) => Object.fromEntries(Object.entries(doc).filter(([k]) => !fields.includes(k))));
  }
  return out;
}

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

  // Catalogue
  {
    command: "create industry",
    portal: (t, s) => s.owner.as.mutation(api.catalogue.createIndustry, { businessId: s.businessId, name: "Window care", description: "Inside and out" }),
    rest: async (t, s) => ok(await call(t, "POST", "/v1/industries", { key: s.key, body: { name: "Window care", description: "Inside and out" } }), 201),
  },
  {
    command: "update industry (slug, deactivate)",
    portal: (t, s) => s.owner.as.mutation(api.catalogue.updateIndustry, { industryId: s.industryId, slug: "home-cleaning", active: false }),
    rest: async (t, s) => ok(await call(t, "PATCH", `/v1/industries/${s.industryId}`, { key: s.key, body: { slug: "home-cleaning", active: false } })),
  },
  {
    command: "create category",
    portal: (t, s) => s.owner.as.mutation(api.catalogue.createCategory, { industryId: s.industryId, name: "Deep cleaning", sortOrder: 2 }),
    rest: async (t, s) => ok(await call(t, "POST", "/v1/categories", { key: s.key, body: { industryId: s.industryId, name: "Deep cleaning", sortOrder: 2 } }), 201),
  },
  {
    command: "update category",
    portal: (t, s) => s.owner.as.mutation(api.catalogue.updateCategory, { categoryId: s.categoryId, name: "Homes" }),
    rest: async (t, s) => ok(await call(t, "PATCH", `/v1/categories/${s.categoryId}`, { key: s.key, body: { name: "Homes" } })),
  },
  {
    command: "remove empty category",
    portal: (t, s) => s.owner.as.mutation(api.catalogue.removeCategory, { categoryId: s.emptyCategoryId }),
    rest: async (t, s) => ok(await call(t, "DELETE", `/v1/categories/${s.emptyCategoryId}`, { key: s.key })),
  },
  {
    command: "create product",
    portal: (t, s) =>
      s.owner.as.mutation(api.catalogue.createProduct, { categoryId: s.categoryId, name: "Move-out clean", priceMinor: 25_000, durationMinutes: 240, quantity: QUANTITY }),
    rest: async (t, s) =>
      ok(await call(t, "POST", "/v1/products", { key: s.key, body: { categoryId: s.categoryId, name: "Move-out clean", priceMinor: 25_000, durationMinutes: 240, quantity: QUANTITY } }), 201),
  },
  {
    command: "update product (move category, price, retire)",
    portal: (t, s) => s.owner.as.mutation(api.catalogue.updateProduct, { productId: s.productId, categoryId: s.emptyCategoryId, priceMinor: 12_000, active: false }),
    rest: async (t, s) =>
      ok(await call(t, "PATCH", `/v1/products/${s.productId}`, { key: s.key, body: { categoryId: s.emptyCategoryId, priceMinor: 12_000, active: false } })),
  },
  {
    command: "create extra",
    portal: (t, s) =>
      s.owner.as.mutation(api.catalogue.createExtra, {
        industryId: s.industryId,
        name: "Balcony",
        priceMinor: 1_500,
        durationMinutes: 20,
        pricing: "per_quantity",
        maxQuantity: 3,
        productIds: [s.productId],
      }),
    rest: async (t, s) =>
      ok(
        await call(t, "POST", "/v1/extras", {
          key: s.key,
          body: { industryId: s.industryId, name: "Balcony", priceMinor: 1_500, durationMinutes: 20, pricing: "per_quantity", maxQuantity: 3, productIds: [s.productId] },
        }),
        201,
      ),
  },
  {
    command: "update extra",
    portal: (t, s) => s.owner.as.mutation(api.catalogue.updateExtra, { extraId: s.extraId, priceMinor: 2_500, productIds: [s.productId] }),
    rest: async (t, s) => ok(await call(t, "PATCH", `/v1/extras/${s.extraId}`, { key: s.key, body: { priceMinor: 2_500, productIds: [s.productId] } })),
  },
  // Customers
  {
    command: "create customer",
    portal: (t, s) =>
      s.owner.as.mutation(api.customers.create, { businessId: s.businessId, name: "Ada Lovelace", email: "ADA@example.com", phone: "+1 (415) 555-0123", tags: ["VIP"] }),
    rest: async (t, s) =>
      ok(await call(t, "POST", "/v1/customers", { key: s.key, body: { name: "Ada Lovelace", email: "ADA@example.com", phone: "+1 (415) 555-0123", tags: ["VIP"] } }), 201),
  },
  {
    command: "update customer",
    portal: (t, s) => s.owner.as.mutation(api.customers.update, { customerId: s.customerId, name: "Casey King", email: "casey.king@example.test", locale: "en-gb" }),
    rest: async (t, s) =>
      ok(await call(t, "PATCH", `/v1/customers/${s.customerId}`, { key: s.key, body: { name: "Casey King", email: "casey.king@example.test", locale: "en-gb" } })),
  },
  {
    command: "add address (becomes the default)",
    portal: (t, s) => s.owner.as.mutation(api.customers.addAddress, { customerId: s.customerId, label: "Office", address: { ...ADDRESS, line1: "9 Work Ave" }, isDefault: true }),
    rest: async (t, s) =>
      ok(await call(t, "POST", `/v1/customers/${s.customerId}/addresses`, { key: s.key, body: { label: "Office", address: { ...ADDRESS, line1: "9 Work Ave" }, isDefault: true } }), 201),
  },
  {
    command: "update address (outside every zone)",
    portal: (t, s) => s.owner.as.mutation(api.customers.updateAddress, { addressId: s.addressId, address: { ...ADDRESS, postalCode: "94103", city: "San Francisco" } }),
    rest: async (t, s) =>
      ok(
        await call(t, "PATCH", `/v1/customers/${s.customerId}/addresses/${s.addressId}`, {
          key: s.key,
          body: { address: { ...ADDRESS, postalCode: "94103", city: "San Francisco" } },
        }),
      ),
  },
  {
    command: "remove address",
    portal: (t, s) => s.owner.as.mutation(api.customers.removeAddress, { addressId: s.addressId }),
    rest: async (t, s) => ok(await call(t, "DELETE", `/v1/customers/${s.customerId}/addresses/${s.addressId}`, { key: s.key })),
  },
  // Webhook endpoints
  {
    command: "create webhook endpoint",
    portal: (t, s) => s.owner.as.mutation(api.webhooks.createEndpoint, { businessId: s.businessId, url: "https://crm.example/in", eventTypes: ["customer.*", "customer.*"] }),
    rest: async (t, s) => ok(await call(t, "POST", "/v1/webhook_endpoints", { key: s.key, body: { url: "https://crm.example/in", eventTypes: ["customer.*", "customer.*"] } }), 201),
  },
  {
    command: "update webhook endpoint (url, filters, description)",
    portal: (t, s) =>
      s.owner.as.mutation(api.webhooks.updateEndpoint, { endpointId: s.endpointId, url: "https://partner.example/v2", eventTypes: ["booking.*"], description: "v2" }),
    rest: async (t, s) =>
      ok(await call(t, "PATCH", `/v1/webhook_endpoints/${s.endpointId}`, { key: s.key, body: { url: "https://partner.example/v2", eventTypes: ["booking.*"], description: "v2" } })),
  },
  {
    command: "disable webhook endpoint",
    portal: (t, s) => s.owner.as.mutation(api.webhooks.updateEndpoint, { endpointId: s.endpointId, status: "disabled" }),
    rest: async (t, s) => ok(await call(t, "PATCH", `/v1/webhook_endpoints/${s.endpointId}`, { key: s.key, body: { status: "disabled" } })),
    // The one intended difference: the endpoint says who switched it off.
    differs: { webhookEndpoints: ["disabledReason"] },
  },
  {
    command: "rotate webhook secret",
    portal: (t, s) => s.owner.as.mutation(api.webhooks.rotateSecret, { endpointId: s.endpointId }),
    rest: async (t, s) => ok(await call(t, "POST", `/v1/webhook_endpoints/${s.endpointId}/rotate_secret`, { key: s.key, body: {} })),
  },
  {
    command: "delete webhook endpoint",
    portal: (t, s) => s.owner.as.mutation(api.webhooks.deleteEndpoint, { endpointId: s.endpointId }),
    rest: async (t, s) => ok(await call(t, "DELETE", `/v1/webhook_endpoints/${s.endpointId}`, { key: s.key })),
  },
  {
    command: "replay an event to every matching endpoint",
    portal: (t, s) => s.owner.as.mutation(api.webhooks.replay, { eventId: s.eventId }),
    rest: async (t, s) => ok(await call(t, "POST", `/v1/events/${s.eventId}/replay`, { key: s.key, body: {} })),
  },
];

describe("entity commands: the portal and the REST API leave the same state", { timeout: 120_000 }, () => {
  test.each(cases)("$command", async ({ portal, rest, differs }) => {
    const outcomes = [];
    for (const door of [portal, rest]) {
      const t = newTest();
      const s = await seed(t);
      const before = await snapshot(t);
      const idsBefore = await knownIds(t); // documents the command deletes are still named by its events
      await door(t, s);
      const after = await snapshot(t);
      // The command did something: a test that compares two no-ops proves nothing.
      expect(JSON.stringify(after)).not.toBe(JSON.stringify(before));
      outcomes.push(normalize(without(after, differs), [...idsBefore, ...(await knownIds(t))]));
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

// ---------------------------------------------------------------------------------------
// The command checks its actor itself (not only the router in front of it)
// ---------------------------------------------------------------------------------------

describe("actors", { timeout: 120_000 }, () => {
  const zone = { name: "Queens", postalCodes: ["113*"], boundaries: [], pricing: PRICING, taxRateBp: 0, taxInclusive: false };

  test("an API key without the write scope, a revoked key and another business's key write nothing", async () => {
    const t = newTest();
    const s = await seed(t);
    const other = await aBusiness(t);
    const readOnly = await anApiKey(t, s.businessId, { scopes: [{ resource: "zones", access: "read" }] });
    const revoked = await anApiKey(t, s.businessId, { status: "revoked" });
    const foreign = await anApiKey(t, other.businessId);
    const create = (apiKeyId: Id<"apiKeys">) => t.mutation(internal.api.internalZones.create, { businessId: s.businessId, apiKeyId, ...zone });
    await expectAppError(create(readOnly.apiKeyId), "FORBIDDEN");
    await expectAppError(create(revoked.apiKeyId), "UNAUTHENTICATED");
    await expectAppError(create(foreign.apiKeyId), "UNAUTHENTICATED");
    // A valid key of another business reaches none of this business's documents.
    await expectAppError(
      t.mutation(internal.api.internalZones.update, { businessId: other.businessId, apiKeyId: foreign.apiKeyId, zoneId: s.zoneId, name: "Mine" }),
      "NOT_FOUND",
      "zoneId",
    );
    await expectAppError(
      t.mutation(internal.api.internalCustomers.addAddress, { businessId: other.businessId, apiKeyId: foreign.apiKeyId, customerId: s.customerId, address: ADDRESS }),
      "NOT_FOUND",
      "customerId",
    );
    expect(await eventTypes(t)).toEqual(["booking.confirmed"]);
  });

  test("people: staff may not change zones, a manager may not register endpoints, outsiders see NOT_FOUND", async () => {
    const t = newTest();
    const s = await seed(t);
    const staff = await aStaffMember(t, s.businessId);
    const manager = await aManager(t, s.businessId);
    const outsider = await aUser(t);
    await expectAppError(staff.as.mutation(api.zones.create, { businessId: s.businessId, ...zone }), "FORBIDDEN");
    await expectAppError(manager.as.mutation(api.webhooks.createEndpoint, { businessId: s.businessId, url: "https://x.example", eventTypes: [] }), "FORBIDDEN");
    await expectAppError(outsider.as.mutation(api.zones.update, { zoneId: s.zoneId, name: "Mine" }), "NOT_FOUND", "zoneId");
    await expectAppError(outsider.as.mutation(api.catalogue.removeCategory, { categoryId: s.emptyCategoryId }), "NOT_FOUND", "categoryId");
    await expectAppError(outsider.as.mutation(api.customers.removeAddress, { addressId: s.addressId }), "NOT_FOUND", "addressId");
    await expectAppError(outsider.as.mutation(api.webhooks.replay, { eventId: s.eventId }), "NOT_FOUND", "eventId");
    expect(await eventTypes(t)).toEqual(["booking.confirmed"]);
  });
});
