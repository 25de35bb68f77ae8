/** Zones, catalogue, resources, invoices, refunds, webhook endpoints and events over /v1/. */
import { afterEach, describe, expect, test, vi } from "vitest";
import { at, bookingScenario, freezeClock, TUESDAY } from "../../bookings.testkit";
import type { Id } from "../../_generated/dataModel";
import { newTest } from "../../test.setup";
import { anApiBusiness, anApiKey, call, expectError, expectOk } from "../api.testkit";
import {
  listOf,
  zBooking,
  zCategory,
  zDeleted,
  zEvent,
  zEventReplayResult,
  zExtra,
  zIndustry,
  zInvoice,
  zProduct,
  zRefund,
  zRefundRequest,
  zResource,
  zWebhookEndpoint,
  zZone,
  zZoneResolution,
} from "./schemas";

afterEach(() => {
  vi.useRealTimers();
});

describe("/v1/zones", { timeout: 120_000 }, () => {
  test("create, resolve, get, update, deactivate, list with filter; conflicts and isolation", async () => {
    const t = newTest();
    const { key } = await anApiBusiness(t);
    const other = await anApiBusiness(t);
    const zone = expectOk(
      await call(t, "POST", "/v1/zones", { key, body: { name: "Manhattan", postalCodes: ["10001", "100*"], pricing: { tripChargeMinor: 500, priceMultiplierBp: 10_000, minimumMinor: 0 } } }),
      201,
      zZone,
    );
    expect(zone.postalCodes).toEqual(["100*", "10001"]);
    const resolved = expectOk(await call(t, "GET", "/v1/zones/resolve?postalCode=10017&country=US", { key }), 200, zZoneResolution);
    expect(resolved.zone?.id).toBe(zone.id);
    expect(expectOk(await call(t, "GET", "/v1/zones/resolve?postalCode=90210", { key }), 200, zZoneResolution).zone).toBeNull();
    expectError(await call(t, "GET", "/v1/zones/resolve", { key }), 422, "INVALID_ARGUMENT");
    const clash = expectError(await call(t, "POST", "/v1/zones", { key, body: { name: "B", postalCodes: ["10001"] } }), 409, "CONFLICT");
    expect(clash.param).toBe("postalCodes[0]");
    expectError(await call(t, "POST", "/v1/zones", { key, body: { name: "Empty" } }), 422, "INVALID_ARGUMENT");
    const updated = expectOk(await call(t, "PATCH", `/v1/zones/${zone.id}`, { key, body: { postalCodes: ["10002"], taxRateBp: 825 } }), 200, zZone);
    expect(updated).toMatchObject({ postalCodes: ["10002"], taxRateBp: 825 });
    expectOk(await call(t, "PATCH", `/v1/zones/${zone.id}`, { key, body: { active: false } }), 200, zZone);
    expect(expectOk(await call(t, "GET", "/v1/zones/resolve?postalCode=10002", { key }), 200, zZoneResolution).zone).toBeNull();
    expect(expectOk(await call(t, "GET", "/v1/zones?active=true", { key }), 200, listOf(zZone, "x")).data).toEqual([]);
    expect(expectOk(await call(t, "GET", "/v1/zones?active=false", { key }), 200, listOf(zZone, "x")).data).toHaveLength(1);
    expect(expectOk(await call(t, "GET", `/v1/zones/${zone.id}`, { key }), 200, zZone).active).toBe(false);
    expectError(await call(t, "GET", `/v1/zones/${zone.id}`, { key: other.key }), 404, "NOT_FOUND");
    expectError(await call(t, "PATCH", `/v1/zones/${zone.id}`, { key: other.key, body: { name: "Mine" } }), 404, "NOT_FOUND");
    expect(expectOk(await call(t, "GET", "/v1/zones/resolve?postalCode=10002", { key: other.key }), 200, zZoneResolution).zone).toBeNull();
  });
});

describe("/v1 catalogue and resources", { timeout: 120_000 }, () => {
  test("industries → categories → products → extras, filters, retirement, isolation", async () => {
    const t = newTest();
    const { key } = await anApiBusiness(t);
    const other = await anApiBusiness(t);
    const industry = expectOk(await call(t, "POST", "/v1/industries", { key, body: { name: "Home Cleaning" } }), 201, zIndustry);
    expect(industry.slug).toBe("home-cleaning");
    expectError(await call(t, "POST", "/v1/industries", { key, body: { name: "Other", slug: "home-cleaning" } }), 409, "ALREADY_EXISTS");
    const category = expectOk(await call(t, "POST", "/v1/categories", { key, body: { industryId: industry.id, name: "Regular" } }), 201, zCategory);
    expectError(await call(t, "POST", "/v1/categories", { key: other.key, body: { industryId: industry.id, name: "X" } }), 404, "NOT_FOUND");
    const product = expectOk(
      await call(t, "POST", "/v1/products", { key, body: { categoryId: category.id, name: "Standard", priceMinor: 9_000, durationMinutes: 90 } }),
      201,
      zProduct,
    );
    expect(product).toMatchObject({ industryId: industry.id, active: true, quantity: { min: 1, max: 1, included: 1, unitLabel: null } });
    const badQuantity = expectError(
      await call(t, "POST", "/v1/products", {
        key,
        body: { categoryId: category.id, name: "Bad", priceMinor: 1, durationMinutes: 10, quantity: { min: 3, max: 2, step: 1, included: 2, extraUnitPriceMinor: 0, extraUnitDurationMinutes: 0 } },
      }),
      422,
      "INVALID_ARGUMENT",
    );
    expect(badQuantity.param).toBe("quantity.max");
    const extra = expectOk(
      await call(t, "POST", "/v1/extras", { key, body: { industryId: industry.id, name: "Fridge", priceMinor: 2_000, durationMinutes: 30, productIds: [product.id] } }),
      201,
      zExtra,
    );
    expect(extra.productIds).toEqual([product.id]);
    expectError(
      await call(t, "POST", "/v1/extras", { key, body: { industryId: industry.id, name: "Flat", priceMinor: 1, durationMinutes: 1, maxQuantity: 3 } }),
      422,
      "INVALID_ARGUMENT",
    );
    expectOk(await call(t, "PATCH", `/v1/products/${product.id}`, { key, body: { active: false, priceMinor: 9_500 } }), 200, zProduct);
    expect(expectOk(await call(t, "GET", "/v1/products?active=true", { key }), 200, listOf(zProduct, "x")).data).toEqual([]);
    expect(expectOk(await call(t, "GET", `/v1/products?categoryId=${category.id}`, { key }), 200, listOf(zProduct, "x")).data[0].priceMinor).toBe(9_500);
    expect(expectOk(await call(t, "GET", `/v1/extras?industryId=${industry.id}`, { key }), 200, listOf(zExtra, "x")).data).toHaveLength(1);
    expect(expectOk(await call(t, "GET", `/v1/categories?industryId=${industry.id}`, { key }), 200, listOf(zCategory, "x")).data).toHaveLength(1);
    expect(expectOk(await call(t, "GET", "/v1/industries", { key }), 200, listOf(zIndustry, "x")).data).toHaveLength(1);
    expectOk(await call(t, "PATCH", `/v1/industries/${industry.id}`, { key, body: { description: "All things clean" } }), 200, zIndustry);
    expectOk(await call(t, "PATCH", `/v1/extras/${extra.id}`, { key, body: { name: "Inside fridge" } }), 200, zExtra);
    expectOk(await call(t, "PATCH", `/v1/categories/${category.id}`, { key, body: { sortOrder: 3 } }), 200, zCategory);
    for (const path of [`/v1/industries/${industry.id}`, `/v1/categories/${category.id}`, `/v1/products/${product.id}`, `/v1/extras/${extra.id}`]) {
      expect((await call(t, "GET", path, { key })).status).toBe(200);
      expectError(await call(t, "GET", path, { key: other.key }), 404, "NOT_FOUND");
    }
    expectError(await call(t, "DELETE", `/v1/categories/${category.id}`, { key }), 409, "CONFLICT");
    const empty = expectOk(await call(t, "POST", "/v1/categories", { key, body: { industryId: industry.id, name: "Empty" } }), 201, zCategory);
    expectOk(await call(t, "DELETE", `/v1/categories/${empty.id}`, { key }), 200, zDeleted);
  });

  test("resources: create, update, list filters, foreign zone ids refused", async () => {
    const t = newTest();
    const { key } = await anApiBusiness(t);
    const other = await anApiBusiness(t);
    const theirZone = expectOk(await call(t, "POST", "/v1/zones", { key: other.key, body: { name: "Z", postalCodes: ["94110"] } }), 201, zZone);
    const hours = [{ weekday: 1, start: "09:00", end: "17:00" }];
    const room = expectOk(await call(t, "POST", "/v1/resources", { key, body: { kind: "room", name: "Room A", capacity: 4, weeklyHours: hours } }), 201, zResource);
    expect(room).toMatchObject({ capacity: 4, maxBookingsPerDay: null, active: true });
    const foreign = expectError(
      await call(t, "POST", "/v1/resources", { key, body: { kind: "room", name: "B", weeklyHours: hours, zoneIds: [theirZone.id] } }),
      404,
      "NOT_FOUND",
    );
    expect(foreign.param).toBe("zoneIds[0]");
    expectError(
      await call(t, "POST", "/v1/resources", { key, body: { kind: "room", name: "B", weeklyHours: [{ weekday: 1, start: "25:00", end: "26:00" }] } }),
      422,
      "INVALID_ARGUMENT",
    );
    expectOk(await call(t, "POST", "/v1/resources", { key, body: { kind: "desk", name: "Desk 1", weeklyHours: hours } }), 201, zResource);
    const updated = expectOk(await call(t, "PATCH", `/v1/resources/${room.id}`, { key, body: { active: false, maxBookingsPerDay: 3, color: "#aabbcc" } }), 200, zResource);
    expect(updated).toMatchObject({ active: false, maxBookingsPerDay: 3, color: "#aabbcc" });
    expect(expectOk(await call(t, "GET", "/v1/resources?kind=desk", { key }), 200, listOf(zResource, "x")).data.map((r) => r.name)).toEqual(["Desk 1"]);
    expect(expectOk(await call(t, "GET", "/v1/resources?active=false", { key }), 200, listOf(zResource, "x")).data.map((r) => r.id)).toEqual([room.id]);
    expect(expectOk(await call(t, "GET", `/v1/resources/${room.id}`, { key }), 200, zResource).id).toBe(room.id);
    expectError(await call(t, "GET", `/v1/resources/${room.id}`, { key: other.key }), 404, "NOT_FOUND");
  });
});

describe("/v1/invoices and /v1/refunds", { timeout: 120_000 }, () => {
  test("invoices list and get; a refund of a paid invoice; refunds listed; isolation", async () => {
    freezeClock();
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
    const { key } = await anApiKey(t, s.businessId);
    const other = await anApiBusiness(t);
    const booking = expectOk(
      await call(t, "POST", "/v1/bookings", {
        key,
        body: { customerId: s.customer.customerId, zoneId: s.zoneId, cart: [{ productId: s.catalogue.productId }], start: at(TUESDAY, "10:00") },
      }),
      201,
      zBooking,
    );
    const invoices = expectOk(await call(t, "GET", "/v1/invoices", { key }), 200, listOf(zInvoice, "x"));
    expect(invoices.data.map((i) => i.id)).toEqual([booking.invoiceId]);
    expect(expectOk(await call(t, "GET", `/v1/invoices?status=paid`, { key }), 200, listOf(zInvoice, "x")).data).toEqual([]);
    expect(expectOk(await call(t, "GET", `/v1/invoices?customerId=${s.customer.customerId}`, { key }), 200, listOf(zInvoice, "x")).data).toHaveLength(1);
    const invoice = expectOk(await call(t, "GET", `/v1/invoices/${booking.invoiceId}`, { key }), 200, zInvoice);
    expect(invoice).toMatchObject({ bookingId: booking.id, totalMinor: 10_000, status: "open" });
    expectError(await call(t, "GET", `/v1/invoices/${booking.invoiceId}`, { key: other.key }), 404, "NOT_FOUND");

    const nothing = expectError(
      await call(t, "POST", "/v1/refunds", { key, body: { invoiceId: booking.invoiceId, amountMinor: 100, reason: "Goodwill" } }),
      422,
      "POLICY_VIOLATION",
    );
    expect(nothing.param).toBe("amountMinor");
    // The customer paid (as the payments module records a succeeded payment).
    await t.run(async (ctx) => {
      const inv = (await ctx.db.get("invoices", booking.invoiceId as Id<"invoices">))!;
      await ctx.db.insert("payments", {
        businessId: inv.businessId,
        invoiceId: inv._id,
        bookingId: inv.bookingId,
        customerId: inv.customerId,
        kind: "full",
        amountMinor: 10_000,
        currency: "USD",
        status: "succeeded",
        provider: "local_test",
        createdAt: Date.now(),
        updatedAt: Date.now(),
      });
      await ctx.db.patch("invoices", inv._id, { amountPaidMinor: 10_000, status: "paid" });
    });
    const request = expectOk(
      await call(t, "POST", "/v1/refunds", { key, body: { invoiceId: booking.invoiceId, amountMinor: 2_500, reason: "Goodwill" } }),
      201,
      zRefundRequest,
    );
    expect(request.totalMinor).toBe(2_500);
    expect(request.refunds[0]).toMatchObject({ amountMinor: 2_500, status: "pending", reason: "Goodwill" });
    const stored = await t.run(async (ctx) => (await ctx.db.query("refunds").collect())[0]);
    expect(stored.requestedBy.role).toBe("api");
    expectError(
      await call(t, "POST", "/v1/refunds", { key, body: { invoiceId: booking.invoiceId, amountMinor: 9_000, reason: "Too much" } }),
      422,
      "POLICY_VIOLATION",
    );
    const refunds = expectOk(await call(t, "GET", `/v1/invoices/${booking.invoiceId}/refunds`, { key }), 200, listOf(zRefund, "x"));
    expect(refunds.data.map((r) => r.id)).toEqual([request.refunds[0].id]);
    expectOk(await call(t, "GET", `/v1/refunds/${request.refunds[0].id}`, { key }), 200, zRefund);
    expectError(await call(t, "GET", `/v1/refunds/${request.refunds[0].id}`, { key: other.key }), 404, "NOT_FOUND");
    expectError(
      await call(t, "POST", "/v1/refunds", { key: other.key, body: { invoiceId: booking.invoiceId, amountMinor: 100, reason: "x" } }),
      404,
      "NOT_FOUND",
    );
  });
});

describe("/v1/webhook_endpoints and /v1/events", { timeout: 120_000 }, () => {
  test("endpoints: create (secret once), list without secrets, update, rotate, delete; events: list, get, replay", async () => {
    freezeClock();
    const t = newTest();
    const { key } = await anApiBusiness(t);
    const other = await anApiBusiness(t);
    const created = expectOk(
      await call(t, "POST", "/v1/webhook_endpoints", { key, body: { url: "https://partner.example/hooks", eventTypes: ["customer.*"] } }),
      201,
      zWebhookEndpoint,
    );
    expect(created.secret).toMatch(/^whsec_/);
    expectError(await call(t, "POST", "/v1/webhook_endpoints", { key, body: { url: "http://partner.example/hooks" } }), 422, "INVALID_ARGUMENT");
    const list = expectOk(await call(t, "GET", "/v1/webhook_endpoints", { key }), 200, listOf(zWebhookEndpoint, "x"));
    expect(JSON.stringify(list)).not.toContain(created.secret!);
    expect(list.data.map((e) => e.id)).toEqual([created.id]);
    const disabled = expectOk(await call(t, "PATCH", `/v1/webhook_endpoints/${created.id}`, { key, body: { status: "disabled" } }), 200, zWebhookEndpoint);
    expect(disabled.status).toBe("disabled");
    expectOk(await call(t, "PATCH", `/v1/webhook_endpoints/${created.id}`, { key, body: { status: "enabled" } }), 200, zWebhookEndpoint);
    const rotated = expectOk(await call(t, "POST", `/v1/webhook_endpoints/${created.id}/rotate_secret`, { key }), 200, zWebhookEndpoint);
    expect(rotated.secret).not.toBe(created.secret);
    expect(rotated.previousSecretsExpireAt).toBe(Date.now() + 24 * 3_600_000);
    expectError(await call(t, "GET", `/v1/webhook_endpoints/${created.id}`, { key: other.key }), 404, "NOT_FOUND");

    await call(t, "POST", "/v1/customers", { key, body: { name: "Evented" } });
    await call(t, "POST", "/v1/customers", { key: other.key, body: { name: "Theirs" } });
    const events = expectOk(await call(t, "GET", "/v1/events", { key }), 200, listOf(zEvent, "x"));
    expect(events.data.map((e) => e.type)).toEqual(["customer.created"]);
    const event = events.data[0];
    expectOk(await call(t, "GET", `/v1/events/${event.id}`, { key }), 200, zEvent);
    expectError(await call(t, "GET", `/v1/events/${event.id}`, { key: other.key }), 404, "NOT_FOUND");
    expect(expectOk(await call(t, "GET", `/v1/events?from=${Date.now() + 1}`, { key }), 200, listOf(zEvent, "x")).data).toEqual([]);

    const replay = expectOk(await call(t, "POST", `/v1/events/${event.id}/replay`, { key, body: { endpointId: created.id } }), 200, zEventReplayResult);
    expect(replay.deliveries).toHaveLength(1);
    const all = expectOk(await call(t, "POST", `/v1/events/${event.id}/replay`, { key }), 200, zEventReplayResult);
    expect(all.deliveries.map((d) => d.endpointId)).toEqual([created.id]);
    const deliveries = await t.run((ctx) => ctx.db.query("webhookDeliveries").collect());
    // The delivery queued when the event was emitted, plus one per replay.
    expect(deliveries.filter((d) => d.eventId === event.id)).toHaveLength(3);
    expectError(await call(t, "POST", `/v1/events/${event.id}/replay`, { key: other.key, body: {} }), 404, "NOT_FOUND");

    expectOk(await call(t, "DELETE", `/v1/webhook_endpoints/${created.id}`, { key }), 200, zDeleted);
    expectError(await call(t, "GET", `/v1/webhook_endpoints/${created.id}`, { key }), 404, "NOT_FOUND");
  });
});
