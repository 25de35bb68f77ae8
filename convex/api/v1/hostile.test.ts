/**
 * Hostile requests a probe of the REST API sent (issue 13): tampered cursors on every list,
 * the headers every answer carries, the OpenAPI document's security marking, and unknown
 * keys (refused without writing anything of the platform's, failed authentications limited
 * per client address and per key prefix).
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { at, bookingScenario, freezeClock, TUESDAY } from "../../bookings.testkit";
import { aCatalogue, aCustomer, aProvider, aZone } from "../../test.builders";
import { newTest, type TestConvex } from "../../test.setup";
import { anApiKey, call, domainCounts, expectError, expectOk, setPlan } from "../api.testkit";
import { generateApiKey } from "../apiKeyFormat";
import { FAILED_AUTH_LIMITS } from "../gate";
import { apiRoutes } from "./routes";
import { zBooking } from "./schemas";

afterEach(() => {
  vi.useRealTimers();
});

const LISTS = [
  "/v1/bookings",
  "/v1/customers",
  "/v1/invoices",
  "/v1/events",
  "/v1/zones",
  "/v1/industries",
  "/v1/categories",
  "/v1/products",
  "/v1/extras",
  "/v1/resources",
] as const;

function base64Url(text: string): string {
  return Buffer.from(text, "utf8").toString("base64url");
}

/** Two of everything every list shows, so that `limit=1` gives a real next_cursor. */
async function twoOfEverything(t: TestConvex) {
  const s = await bookingScenario(t);
  const { key } = await anApiKey(t, s.businessId);
  // ~130 requests in a minute: above the standard tier's limit.
  await setPlan(t, s.businessId, "premium");
  await aZone(t, s.businessId, { name: "North" });
  await aCatalogue(t, s.businessId, { industryName: "Windows", categoryName: "Panes" });
  await aProvider(t, s.businessId, { name: "Second provider" });
  await aCustomer(t, s.businessId, { signedIn: false, name: "Second customer" });
  for (const time of ["09:00", "13:00"]) {
    expectOk(
      await call(t, "POST", "/v1/bookings", {
        key,
        body: { customerId: s.customer.customerId, zoneId: s.zoneId, cart: [{ productId: s.catalogue.productId, quantity: 1 }], start: at(TUESDAY, time) },
      }),
      201,
      zBooking,
    );
  }
  return { ...s, key };
}

describe("tampered cursors", { timeout: 180_000 }, () => {
  test("every list answers 400 INVALID_CURSOR, in the API's error format, to a cursor it did not issue", async () => {
    freezeClock();
    const t = newTest();
    const { key } = await twoOfEverything(t);
    for (const list of LISTS) {
      const first = await call(t, "GET", `${list}?limit=1`, { key });
      expect(first.status, list).toBe(200);
      const real: string = first.body.next_cursor;
      expect(real, `${list} has a second page`).toEqual(expect.any(String));
      const wrapper = JSON.parse(Buffer.from(real, "base64url").toString("utf8")) as { v: number; c: string; f: string };
      const tampered = [
        "garbage",
        "%00%01",
        base64Url(JSON.stringify({ hello: "world" })),
        encodeURIComponent(JSON.stringify({ v: 1, c: wrapper.c, f: wrapper.f })),
        "A".repeat(1_400),
        base64Url(JSON.stringify({ ...wrapper, c: "" })),
        base64Url(JSON.stringify({ ...wrapper, c: "garbage" })),
        base64Url(JSON.stringify({ ...wrapper, c: JSON.stringify({ a: [1, 2] }) })),
        base64Url(JSON.stringify({ ...wrapper, c: "x".repeat(1_400) })),
        base64Url(JSON.stringify({ ...wrapper, c: 42 })),
        base64Url(JSON.stringify({ ...wrapper, f: "other" })),
      ];
      for (const cursor of tampered) {
        const result = await call(t, "GET", `${list}?limit=1&cursor=${cursor}`, { key });
        const error = expectError(result, 400, "INVALID_CURSOR");
        expect(error.param, `${list} cursor=${cursor.slice(0, 40)}`).toBe("cursor");
      }
      // Its own cursor still works.
      expect((await call(t, "GET", `${list}?limit=1&cursor=${real}`, { key })).status, list).toBe(200);
    }
  });
});

describe("headers and the OpenAPI document", { timeout: 120_000 }, () => {
  test("every REST answer, success or error, says nosniff and no-store", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { key } = await anApiKey(t, s.businessId);
    const answers = [
      await call(t, "GET", "/v1/customers", { key }),
      await call(t, "GET", `/v1/customers/${s.customer.customerId}`, { key }),
      await call(t, "POST", "/v1/customers", { key, body: { name: "Ada" } }),
      await call(t, "GET", "/v1/customers"),
      await call(t, "GET", "/v1/nowhere", { key }),
      await call(t, "PUT", "/v1/customers", { key }),
      await call(t, "POST", "/v1/customers", { key, rawBody: "{", headers: { "Content-Type": "application/json" } }),
      await call(t, "GET", "/v1/openapi.json"),
    ];
    for (const answer of answers) {
      expect(answer.headers.get("x-content-type-options"), String(answer.status)).toBe("nosniff");
      expect(answer.headers.get("cache-control"), String(answer.status)).toBe("no-store");
    }
  });

  test("the document marks exactly the operations that answer without a key as public", async () => {
    const t = newTest();
    const doc = (await call(t, "GET", "/v1/openapi.json")).body;
    // No document-wide requirement for an operation to inherit by mistake: each says its own.
    expect(doc.security).toBeUndefined();
    const openApi = doc.paths["/v1/openapi.json"].get;
    expect(openApi.security).toEqual([]);
    expect(openApi.responses["401"]).toBeUndefined();
    for (const r of apiRoutes) {
      const op = doc.paths[r.path][r.method.toLowerCase()];
      expect(op.security, `${r.method} ${r.path}`).toEqual([{ apiKey: [] }]);
      const path = r.path.replace(/\{\w+\}/g, "x1");
      const answer = await call(t, r.method, path, r.method === "POST" || r.method === "PATCH" ? { body: {} } : {});
      expect(answer.status, `${r.method} ${r.path} without a key`).toBe(401);
    }
  });
});

describe("unknown API keys", { timeout: 120_000 }, () => {
  test("a well-formed unknown key is refused and changes nothing of the platform's", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const before = await domainCounts(t);
    const keysBefore = await t.run(async (ctx) => (await ctx.db.query("apiKeys").collect()).map((k) => ({ ...k })));
    for (let i = 0; i < 5; i++) {
      expectError(await call(t, "GET", "/v1/customers", { key: generateApiKey("test") }), 401, "UNAUTHENTICATED");
      expectError(
        await call(t, "POST", "/v1/bookings", { key: generateApiKey("live"), body: { customerId: s.customer.customerId, zoneId: s.zoneId, cart: [], start: 0 } }),
        401,
        "UNAUTHENTICATED",
      );
    }
    expect(await domainCounts(t)).toEqual(before);
    expect(await t.run(async (ctx) => (await ctx.db.query("apiKeys").collect()).map((k) => ({ ...k })))).toEqual(keysBefore);
    expect(await t.run(async (ctx) => (await ctx.db.query("idempotencyRecords").collect()).length)).toBe(0);
  });

  test("failed authentications are limited per client address: 429 with Retry-After, even for a good key, until the window passes", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2030-01-07T10:00:10Z"));
    const t = newTest();
    const s = await bookingScenario(t);
    const { key } = await anApiKey(t, s.businessId);
    const from = (address: string) => ({ "X-Forwarded-For": address });
    for (let i = 0; i < FAILED_AUTH_LIMITS.perAddress; i++) {
      expectError(await call(t, "GET", "/v1/customers", { key: generateApiKey("test"), headers: from("203.0.113.7") }), 401, "UNAUTHENTICATED");
    }
    const limited = await call(t, "GET", "/v1/customers", { key: generateApiKey("test"), headers: from("203.0.113.7") });
    expectError(limited, 429, "RATE_LIMITED");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    // A correct guess from that address is refused too: guessing is slow, not just noisy.
    expectError(await call(t, "GET", "/v1/customers", { key, headers: from("203.0.113.7") }), 429, "RATE_LIMITED");
    // Other addresses are not affected.
    expect((await call(t, "GET", "/v1/customers", { key, headers: from("198.51.100.2") })).status).toBe(200);
    vi.setSystemTime(Date.now() + retryAfter * 1_000 + 1_000);
    expect((await call(t, "GET", "/v1/customers", { key, headers: from("203.0.113.7") })).status).toBe(200);
  });

  test("failed authentications are limited per key prefix, whatever address they come from", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2030-01-07T10:00:10Z"));
    const t = newTest();
    const s = await bookingScenario(t);
    const { key } = await anApiKey(t, s.businessId);
    const prefix = key.slice(0, "bk_test_".length + 6);
    const guess = (i: number) => `${prefix}${String(i).padStart(26, "x")}`;
    for (let i = 0; i < FAILED_AUTH_LIMITS.perPrefix; i++) {
      expectError(await call(t, "GET", "/v1/customers", { key: guess(i), headers: { "X-Forwarded-For": `198.51.100.${i + 1}` } }), 401, "UNAUTHENTICATED");
    }
    const limited = await call(t, "GET", "/v1/customers", { key: guess(999), headers: { "X-Forwarded-For": "192.0.2.200" } });
    expectError(limited, 429, "RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Keys with other prefixes go on working.
    const other = await anApiKey(t, s.businessId);
    expect((await call(t, "GET", "/v1/customers", { key: other.key, headers: { "X-Forwarded-For": "192.0.2.200" } })).status).toBe(200);
  });
});
