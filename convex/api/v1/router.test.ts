import { afterEach, describe, expect, test, vi } from "vitest";
import { ConvexError } from "convex/values";
import { newTest } from "../../test.setup";
import { anApiBusiness, anApiKey, call, domainCounts, expectError, expectOk, setPlan } from "../api.testkit";
import { classifyError } from "./errors";
import { apiRoutes } from "./routes";
import { requestHashOf } from "./router";
import { listOf, zCustomer, zZone } from "./schemas";

afterEach(() => {
  vi.useRealTimers();
});

describe("authentication", { timeout: 120_000 }, () => {
  test("missing, malformed, unknown, revoked and expired keys are 401 in the error format", async () => {
    const t = newTest();
    const { businessId } = await anApiBusiness(t);
    const revoked = await anApiKey(t, businessId, { status: "revoked" });
    const expired = await anApiKey(t, businessId, { expiresAt: Date.now() - 1 });
    const missing = await call(t, "GET", "/v1/customers");
    expectError(missing, 401, "UNAUTHENTICATED");
    expect(missing.headers.get("www-authenticate")).toContain("Bearer");
    expectError(await call(t, "GET", "/v1/customers", { headers: { Authorization: "Basic abc" } }), 401, "UNAUTHENTICATED");
    expectError(await call(t, "GET", "/v1/customers", { key: "not-a-key" }), 401, "UNAUTHENTICATED");
    expectError(await call(t, "GET", "/v1/customers", { key: "bk_test_" + "x".repeat(32) }), 401, "UNAUTHENTICATED");
    expectError(await call(t, "GET", "/v1/customers", { key: revoked.key }), 401, "UNAUTHENTICATED");
    expectError(await call(t, "GET", "/v1/customers", { key: expired.key }), 401, "UNAUTHENTICATED");
  });

  test("a suspended business's keys are paused (403); a deleted business's keys are invalid (401)", async () => {
    const t = newTest();
    const { key, businessId } = await anApiBusiness(t);
    await t.run((ctx) => ctx.db.patch("businesses", businessId, { status: "SUSPENDED" }));
    expectError(await call(t, "GET", "/v1/customers", { key }), 403, "BUSINESS_NOT_ACTIVE");
    await t.run((ctx) => ctx.db.patch("businesses", businessId, { status: "DELETED" }));
    expectError(await call(t, "GET", "/v1/customers", { key }), 401, "UNAUTHENTICATED");
  });

  test("lastUsedAt is written at most once a minute", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2026-03-02T12:00:00Z"));
    const t = newTest();
    const { key, apiKeyId } = await anApiBusiness(t);
    const lastUsed = () => t.run(async (ctx) => (await ctx.db.get("apiKeys", apiKeyId))!.lastUsedAt);
    await call(t, "GET", "/v1/customers", { key });
    const first = await lastUsed();
    expect(first).toBe(Date.now());
    vi.setSystemTime(Date.now() + 30_000);
    await call(t, "GET", "/v1/customers", { key });
    expect(await lastUsed()).toBe(first);
    vi.setSystemTime(Date.now() + 31_000);
    await call(t, "GET", "/v1/customers", { key });
    expect(await lastUsed()).toBe(Date.now());
  });
});

describe("transport errors", { timeout: 120_000 }, () => {
  test("unknown routes are 404 and wrong methods 405 with Allow, in the one format", async () => {
    const t = newTest();
    const { key } = await anApiBusiness(t);
    expectError(await call(t, "GET", "/v1/nothing", { key }), 404, "NOT_FOUND");
    expectError(await call(t, "GET", "/v1/customers/a/b/c", { key }), 404, "NOT_FOUND");
    const wrong = await call(t, "DELETE", "/v1/customers", { key });
    expectError(wrong, 405, "METHOD_NOT_ALLOWED");
    expect(wrong.headers.get("allow")).toBe("GET, POST");
    const put = await call(t, "PUT", "/v1/customers/abc", { key, body: {} });
    expectError(put, 405, "METHOD_NOT_ALLOWED");
    expect(put.headers.get("allow")).toBe("GET, PATCH");
    const resolve = await call(t, "PATCH", "/v1/zones/resolve", { key, body: {} });
    expect(resolve.headers.get("allow")).toBe("GET");
  });

  test("bodies: 415 unless JSON, 400 for malformed JSON, 413 over 1 MB, 422 for unknown query parameters", async () => {
    const t = newTest();
    const { key } = await anApiBusiness(t);
    const before = await domainCounts(t);
    expectError(
      await call(t, "POST", "/v1/customers", { key, rawBody: "name=x", headers: { "Content-Type": "application/x-www-form-urlencoded" } }),
      415,
      "UNSUPPORTED_MEDIA_TYPE",
    );
    expectError(await call(t, "POST", "/v1/customers", { key, rawBody: '{"name": "x"', headers: { "Content-Type": "application/json" } }), 400, "MALFORMED_JSON");
    const big = JSON.stringify({ name: "x", tags: ["a".repeat(1_100_000)] });
    expectError(await call(t, "POST", "/v1/customers", { key, rawBody: big, headers: { "Content-Type": "application/json" } }), 413, "PAYLOAD_TOO_LARGE");
    expectError(await call(t, "POST", "/v1/customers", { key, rawBody: "[1,2]", headers: { "Content-Type": "application/json" } }), 422, "INVALID_ARGUMENT");
    const unknownQuery = expectError(await call(t, "GET", "/v1/customers?colour=red", { key }), 422, "INVALID_ARGUMENT");
    expect(unknownQuery.param).toBe("colour");
    expect(await domainCounts(t)).toEqual(before);
    // charset and +json variants are JSON.
    expectOk(
      await call(t, "POST", "/v1/customers", { key, rawBody: '{"name":"x"}', headers: { "Content-Type": "application/json; charset=utf-8" } }),
      201,
      zCustomer,
    );
  });

  test("unexpected failures are 500 with a request id and no internals", () => {
    const internal = classifyError(new Error("db password is hunter2"), "req_1");
    expect(internal.status).toBe(500);
    expect(internal.unexpected).toBe(true);
    expect(JSON.stringify(internal.body)).not.toContain("hunter2");
    expect(internal.body.error).toMatchObject({ code: "INTERNAL", request_id: "req_1" });
    const domain = classifyError(new ConvexError({ code: "SLOT_UNAVAILABLE", message: "Taken.", param: "start" }), "req_2");
    expect(domain).toMatchObject({ status: 409, unexpected: false, body: { error: { code: "SLOT_UNAVAILABLE", param: "start" } } });
    const foreign = classifyError(new ConvexError({ code: "SOMETHING_ELSE", message: "?" }), "req_3");
    expect(foreign.status).toBe(500);
  });
});

describe("scopes", { timeout: 120_000 }, () => {
  test("read scopes allow reads only; write includes read; other resource types are 403", async () => {
    const t = newTest();
    const { businessId } = await anApiBusiness(t);
    const reader = await anApiKey(t, businessId, { scopes: [{ resource: "customers", access: "read" }] });
    const writer = await anApiKey(t, businessId, { scopes: [{ resource: "customers", access: "write" }] });
    expectOk(await call(t, "GET", "/v1/customers", { key: reader.key }), 200, listOf(zCustomer, "x"));
    const denied = expectError(await call(t, "POST", "/v1/customers", { key: reader.key, body: { name: "x" } }), 403, "FORBIDDEN");
    expect(denied.message).toContain("customers:write");
    expectOk(await call(t, "POST", "/v1/customers", { key: writer.key, body: { name: "x" } }), 201, zCustomer);
    expectOk(await call(t, "GET", "/v1/customers", { key: writer.key }), 200, listOf(zCustomer, "x"));
    expectError(await call(t, "GET", "/v1/zones", { key: writer.key }), 403, "FORBIDDEN");
    expectError(await call(t, "GET", "/v1/bookings", { key: reader.key }), 403, "FORBIDDEN");
  });
});

describe("rate limits", { timeout: 120_000 }, () => {
  test("Standard: 100 per minute per key, headers on every response, 429 with Retry-After, reset next minute", async () => {
    vi.useFakeTimers();
    const start = Date.parse("2026-03-02T12:00:10Z");
    vi.setSystemTime(start);
    const t = newTest();
    const { key, businessId } = await anApiBusiness(t);
    const other = await anApiKey(t, businessId);
    let last = await call(t, "GET", "/v1/zones", { key });
    expect(last.headers.get("ratelimit-limit")).toBe("100");
    expect(last.headers.get("ratelimit-remaining")).toBe("99");
    expect(last.headers.get("ratelimit-reset")).toBe("50");
    expect(last.headers.get("x-ratelimit-limit")).toBe("100");
    expect(last.headers.get("x-ratelimit-reset")).toBe(String(Date.parse("2026-03-02T12:01:00Z") / 1000));
    for (let i = 2; i <= 100; i++) last = await call(t, "GET", "/v1/zones", { key });
    expect(last.status).toBe(200);
    expect(last.headers.get("ratelimit-remaining")).toBe("0");
    vi.setSystemTime(start + 20_000);
    const limited = await call(t, "GET", "/v1/zones", { key });
    expectError(limited, 429, "RATE_LIMITED");
    expect(limited.headers.get("retry-after")).toBe("30");
    expect(limited.headers.get("ratelimit-remaining")).toBe("0");
    // Errors carry the headers too; another key has its own window.
    expect((await call(t, "GET", "/v1/nothing", { key: other.key })).status).toBe(404);
    const otherKey = await call(t, "GET", "/v1/zones", { key: other.key });
    expect(otherKey.status).toBe(200);
    expect(otherKey.headers.get("ratelimit-remaining")).toBe("99");
    vi.setSystemTime(start + 50_000);
    const reset = await call(t, "GET", "/v1/zones", { key });
    expect(reset.status).toBe(200);
    expect(reset.headers.get("ratelimit-remaining")).toBe("99");
    // The counters live in the rate-limiter component: the app writes no window documents.
    expect(await t.run((ctx) => ctx.db.query("rateLimitWindows").collect())).toEqual([]);
  });

  test("the tier follows the business's plan: pro → 500, premium → 2,000", async () => {
    const t = newTest();
    const { key, businessId } = await anApiBusiness(t);
    await setPlan(t, businessId, "pro");
    expect((await call(t, "GET", "/v1/zones", { key })).headers.get("ratelimit-limit")).toBe("500");
    await setPlan(t, businessId, "premium");
    expect((await call(t, "GET", "/v1/zones", { key })).headers.get("x-ratelimit-limit")).toBe("2000");
  });
});

describe("Idempotency-Key", { timeout: 120_000 }, () => {
  test("same key and body replays the first response; a different body is 422; other keys are independent", async () => {
    const t = newTest();
    const { key } = await anApiBusiness(t);
    const first = await call(t, "POST", "/v1/customers", { key, body: { name: "Ada", email: "ada@example.com" }, idempotencyKey: "abc-1" });
    const created = expectOk(first, 201, zCustomer);
    expect(first.headers.get("idempotent-replayed")).toBeNull();
    // Same body with other key order and spacing.
    const replay = await call(t, "POST", "/v1/customers", {
      key,
      rawBody: '{ "email": "ada@example.com",  "name": "Ada" }',
      headers: { "Content-Type": "application/json" },
      idempotencyKey: "abc-1",
    });
    expect(replay.status).toBe(201);
    expect(replay.body).toEqual(created);
    expect(replay.headers.get("idempotent-replayed")).toBe("true");
    const mismatch = expectError(
      await call(t, "POST", "/v1/customers", { key, body: { name: "Bob" }, idempotencyKey: "abc-1" }),
      422,
      "IDEMPOTENCY_MISMATCH",
    );
    expect(mismatch.param).toBe("Idempotency-Key");
    expect((await t.run((ctx) => ctx.db.query("customers").collect())).length).toBe(1);
    // Another API key may use the same Idempotency-Key independently.
    const { key: otherKey } = await anApiBusiness(t);
    expectOk(await call(t, "POST", "/v1/customers", { key: otherKey, body: { name: "Bob" }, idempotencyKey: "abc-1" }), 201, zCustomer);
  });

  test("a domain error is the request's answer and is replayed; a request in flight is 409", async () => {
    const t = newTest();
    const { key, apiKeyId } = await anApiBusiness(t);
    expectOk(await call(t, "POST", "/v1/customers", { key, body: { name: "A", email: "a@example.com" } }), 201, zCustomer);
    const body = { name: "B", email: "a@example.com" };
    expectError(await call(t, "POST", "/v1/customers", { key, body, idempotencyKey: "dup" }), 409, "ALREADY_EXISTS");
    const replayed = await call(t, "POST", "/v1/customers", { key, body, idempotencyKey: "dup" });
    expectError(replayed, 409, "ALREADY_EXISTS");
    expect(replayed.headers.get("idempotent-replayed")).toBe("true");
    // Validation failures happen before the key is recorded (nothing to replay).
    expectError(await call(t, "POST", "/v1/customers", { key, body: { nope: 1 }, idempotencyKey: "v" }), 422, "INVALID_ARGUMENT");
    expectOk(await call(t, "POST", "/v1/customers", { key, body: { name: "C" }, idempotencyKey: "v" }), 201, zCustomer);

    // A request recorded as in flight (as while its operation runs).
    const busyHash = await requestHashOf("POST", "/v1/customers", { name: "D" });
    await t.run((ctx) =>
      ctx.db.insert("idempotencyRecords", {
        apiKeyId,
        key: "busy",
        requestHash: busyHash,
        status: "in_flight",
        createdAt: Date.now(),
        expiresAt: Date.now() + 86_400_000,
      }),
    );
    expectError(await call(t, "POST", "/v1/customers", { key, body: { name: "D" }, idempotencyKey: "busy" }), 409, "IDEMPOTENCY_IN_FLIGHT");
    expectError(await call(t, "POST", "/v1/customers", { key, body: { name: "D" }, idempotencyKey: "" }), 422, "INVALID_ARGUMENT");
  });

  test("keys are kept 24 hours, then purged and reusable; abandoned in-flight records expire after their lease", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2026-03-02T12:00:00Z"));
    const t = newTest();
    const { key, apiKeyId } = await anApiBusiness(t);
    expectOk(await call(t, "POST", "/v1/customers", { key, body: { name: "A" }, idempotencyKey: "k" }), 201, zCustomer);
    const record = await t.run((ctx) => ctx.db.query("idempotencyRecords").first());
    expect(record!.expiresAt - record!.createdAt).toBe(24 * 3_600_000);
    vi.setSystemTime(Date.now() + 23 * 3_600_000);
    expect((await call(t, "POST", "/v1/customers", { key, body: { name: "A" }, idempotencyKey: "k" })).headers.get("idempotent-replayed")).toBe("true");
    vi.setSystemTime(Date.now() + 2 * 3_600_000);
    const { internal } = await import("../../_generated/api");
    expect(await t.mutation(internal.api.internalRequests.purgeExpiredIdempotencyRecords, {})).toBe(1);
    const again = await call(t, "POST", "/v1/customers", { key, body: { name: "A" }, idempotencyKey: "k" });
    expect(again.status).toBe(201);
    expect(again.headers.get("idempotent-replayed")).toBeNull();

    await t.run((ctx) =>
      ctx.db.insert("idempotencyRecords", {
        apiKeyId,
        key: "stuck",
        requestHash: "h",
        status: "in_flight",
        createdAt: Date.now() - 3 * 60_000,
        expiresAt: Date.now() + 86_400_000,
      }),
    );
    expectOk(await call(t, "POST", "/v1/customers", { key, body: { name: "E" }, idempotencyKey: "stuck" }), 201, zCustomer);
  });
});

describe("OpenAPI", { timeout: 120_000 }, () => {
  test("GET /v1/openapi.json is public and lists every route, parameter, body, response and error", async () => {
    const t = newTest();
    const res = await call(t, "GET", "/v1/openapi.json");
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toBe("3.1.0");
    for (const r of apiRoutes) {
      const op = doc.paths[r.path]?.[r.method.toLowerCase()];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op.operationId).toBe(r.operationId);
      expect(op.responses[String(r.status ?? 200)]).toBeDefined();
      expect(op.responses["401"]).toBeDefined();
      for (const name of [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1])) {
        expect(op.parameters.some((p: { name: string; in: string }) => p.name === name && p.in === "path")).toBe(true);
      }
      if (r.body) expect(op.requestBody.content["application/json"].schema).toBeDefined();
      if (r.method === "POST") expect(op.parameters.some((p: { name: string }) => p.name === "Idempotency-Key")).toBe(true);
    }
    // Every $ref resolves to a component.
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/([^"]+)"/g)].map((m) => m[1]);
    expect(refs.length).toBeGreaterThan(20);
    for (const ref of refs) expect(doc.components.schemas[ref], ref).toBeDefined();
    expect(doc.paths["/v1/bookings"].get.parameters.map((p: { name: string }) => p.name)).toEqual(
      expect.arrayContaining(["limit", "cursor", "status", "from", "to", "customerId", "zoneId", "resourceId", "order", "expand"]),
    );
    expect(doc.components.schemas.BookingCreate.properties.cart).toBeDefined();
    expect(doc.components.schemas.BookingCreate.required).not.toContain("confirm");
    expect(doc.paths["/v1/bookings"].post.responses["409"].description).toContain("SLOT_UNAVAILABLE");
  });

  test("a zone list is validated against its schema", async () => {
    const t = newTest();
    const { key } = await anApiBusiness(t);
    expectOk(await call(t, "GET", "/v1/zones", { key }), 200, listOf(zZone, "x"));
  });
});
