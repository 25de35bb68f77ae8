/**
 * Property-based fuzzing of request bodies: every invalid body for booking and customer
 * creation gets a 4xx in the one error format, never a 5xx, and writes nothing.
 */
import fc from "fast-check";
import { afterEach, describe, expect, test, vi } from "vitest";
import { at, bookingScenario, freezeClock, TUESDAY } from "../../bookings.testkit";
import { newTest, type TestConvex } from "../../test.setup";
import { anApiKey, call, domainCounts, setPlan, type ApiResult } from "../api.testkit";
import { zBookingCreate, zCustomerCreate } from "./schemas";

afterEach(() => {
  vi.useRealTimers();
});

function expectClientError(result: ApiResult, body: unknown) {
  const context = JSON.stringify(body).slice(0, 300);
  expect(result.status, context).not.toBe(429);
  expect(result.status, context).toBeGreaterThanOrEqual(400);
  expect(result.status, context).toBeLessThan(500);
  expect(Object.keys(result.body), context).toEqual(["error"]);
  expect(typeof result.body.error.code).toBe("string");
  expect(typeof result.body.error.message).toBe("string");
  expect(result.body.error.request_id).toMatch(/^req_/);
}

const junk = fc.oneof(
  fc.jsonValue({ maxDepth: 3 }),
  fc.string({ maxLength: 30 }),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constant(null),
  fc.array(fc.string({ maxLength: 5 }), { maxLength: 3 }),
);

async function send(t: TestConvex, key: string, path: string, body: unknown) {
  return await call(t, "POST", path, { key, rawBody: JSON.stringify(body), headers: { "Content-Type": "application/json" } });
}

describe("fuzzing request bodies", { timeout: 120_000 }, () => {
  test("POST /v1/customers: invalid bodies are 4xx and write nothing", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { key } = await anApiKey(t, s.businessId);
    await setPlan(t, s.businessId, "premium"); // 2,000/min: the fuzzing must reach validation, not the rate limit
    const before = await domainCounts(t);

    const valid = { name: "Ada", email: "ada@example.com" };
    const schemaInvalid = fc
      .oneof(
        junk,
        fc.dictionary(fc.string({ maxLength: 8 }), junk, { maxKeys: 5 }),
        fc.record({ field: fc.constantFrom("name", "email", "phone", "locale", "timeZone", "tags", "address"), value: junk }).map(({ field, value }) => ({
          ...valid,
          [field]: value,
        })),
        fc.record({ extra: fc.string({ minLength: 1, maxLength: 10 }), value: junk }).map(({ extra, value }) => ({ ...valid, [`x_${extra}`]: value })),
      )
      .filter((body) => !zCustomerCreate.safeParse(body).success);
    const domainInvalid = fc.oneof(
      fc.stringMatching(/^\s{0,5}$/).map((name) => ({ name })),
      // A blank email (empty or only spaces) means "no email" and is accepted; anything else without "@" is not an email.
      fc.string({ maxLength: 20 }).filter((e) => !e.includes("@")).map((email) => ({ ...valid, email: email.trim() === "" ? "x" : email })),
      fc.stringMatching(/^[a-z]{1,12}$/).map((phone) => ({ ...valid, phone })),
      fc.stringMatching(/^[a-z]{3,10}$/).map((zone) => ({ ...valid, timeZone: `Nowhere/${zone}` })),
      fc.stringMatching(/^[!?#]{1,5}$/).map((locale) => ({ ...valid, locale })),
      fc.stringMatching(/^[A-Z]{3}$/).map((country) => ({ ...valid, address: { line1: "1 A St", city: "X", postalCode: "10001", country: country.slice(0, 2) + "!" } })),
    );

    await fc.assert(
      fc.asyncProperty(fc.oneof(schemaInvalid, domainInvalid), async (body) => {
        expectClientError(await send(t, key, "/v1/customers", body), body);
      }),
      { numRuns: 120 },
    );
    expect(await domainCounts(t)).toEqual(before);
  }, 120_000);

  test("POST /v1/bookings: invalid bodies are 4xx and write nothing", async () => {
    freezeClock();
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
    const { key } = await anApiKey(t, s.businessId);
    await setPlan(t, s.businessId, "premium"); // 2,000/min: the fuzzing must reach validation, not the rate limit
    const before = await domainCounts(t);
    const valid = {
      customerId: s.customer.customerId as string,
      zoneId: s.zoneId as string,
      cart: [{ productId: s.catalogue.productId as string, quantity: 1 }],
      start: at(TUESDAY, "10:00"),
    };
    const fields = ["customerId", "zoneId", "cart", "start", "address", "addressId", "customerNotes", "confirm", "actingFor"];
    const schemaInvalid = fc
      .oneof(
        junk,
        fc.dictionary(fc.string({ maxLength: 8 }), junk, { maxKeys: 6 }),
        fc.record({ field: fc.constantFrom(...fields), value: junk }).map(({ field, value }) => ({ ...valid, [field]: value })),
        fc.constantFrom(...fields.slice(0, 4)).map((field) => {
          const copy: Record<string, unknown> = { ...valid };
          delete copy[field];
          return copy;
        }),
        fc.array(fc.record({ productId: junk, quantity: junk, extras: junk }), { maxLength: 3 }).map((cart) => ({ ...valid, cart })),
      )
      .filter((body) => !zBookingCreate.safeParse(body).success);
    const id = fc.stringMatching(/^[a-z0-9]{1,40}$/);
    const domainInvalid = fc.oneof(
      id.map((customerId) => ({ ...valid, customerId })),
      id.map((zoneId) => ({ ...valid, zoneId })),
      id.map((productId) => ({ ...valid, cart: [{ productId, quantity: 1 }] })),
      id.map((extraId) => ({ ...valid, cart: [{ productId: valid.cart[0].productId, quantity: 1, extras: [{ extraId }] }] })),
      fc.integer({ min: 6, max: 10_000 }).map((quantity) => ({ ...valid, cart: [{ productId: valid.cart[0].productId, quantity }] })),
      fc.integer({ min: 946_684_800_000, max: Date.now() - 60_000 }).map((start) => ({ ...valid, start })),
      fc.integer({ min: Date.now() + 400 * 86_400_000, max: 7_000_000_000_000 }).map((start) => ({ ...valid, start })),
      id.map((addressId) => ({ ...valid, addressId })),
      fc.stringMatching(/^[a-z]{3}$/).map((country) => ({ ...valid, address: { line1: "1 A St", city: "X", postalCode: "10001", country: country.slice(0, 2) + "1" } })),
    );

    await fc.assert(
      fc.asyncProperty(fc.oneof(schemaInvalid, domainInvalid), async (body) => {
        expectClientError(await send(t, key, "/v1/bookings", body), body);
      }),
      { numRuns: 150 },
    );
    expect(await domainCounts(t)).toEqual(before);
    // The valid body still books: the fuzzing did not break the scenario.
    expect((await send(t, key, "/v1/bookings", valid)).status).toBe(201);
  }, 120_000);

  test("concurrent duplicates with one Idempotency-Key create one customer", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { key } = await anApiKey(t, s.businessId);
    const before = (await domainCounts(t)).customers;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => call(t, "POST", "/v1/customers", { key, body: { name: "Once" }, idempotencyKey: "same" })),
    );
    for (const r of results) {
      if (r.status !== 201) expect(r.body.error.code).toBe("IDEMPOTENCY_IN_FLIGHT");
    }
    expect(results.some((r) => r.status === 201)).toBe(true);
    const ids = new Set(results.filter((r) => r.status === 201).map((r) => r.body.id));
    expect(ids.size).toBe(1);
    expect((await domainCounts(t)).customers).toBe(before + 1);
  });
});
