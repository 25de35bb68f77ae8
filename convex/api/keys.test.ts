import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../_generated/api";
import { expectCode } from "../bookings.testkit";
import { aBusiness, aManager } from "../test.builders";
import { newTest } from "../test.setup";
import { call, expectError } from "./api.testkit";
import { hashApiKey } from "./apiKeyFormat";
import { registerDemoKeyFor } from "./keys";

afterEach(() => {
  vi.useRealTimers();
});

const customersRW = [
  { resource: "customers" as const, access: "write" as const },
  { resource: "customers" as const, access: "read" as const },
];

describe("api/keys (owner)", { timeout: 120_000 }, () => {
  test("create returns the key once; only its hash and prefix are stored; list shows no secret", async () => {
    const t = newTest();
    const { businessId, owner } = await aBusiness(t);
    const created = await owner.as.mutation(api.api.keys.create, { businessId, name: "Partner", mode: "live", scopes: customersRW });
    expect(created.key).toMatch(/^bk_live_[A-Za-z0-9_-]{32}$/);
    expect(created.key.startsWith(created.prefix)).toBe(true);
    const stored = await t.run(async (ctx) => (await ctx.db.get("apiKeys", created.apiKeyId))!);
    expect(stored.hash).toBe(await hashApiKey(created.key));
    expect(JSON.stringify(stored)).not.toContain(created.key);
    expect(stored.scopes).toEqual([
      { resource: "customers", access: "read" },
      { resource: "customers", access: "write" },
    ]);
    const listed = await owner.as.query(api.api.keys.list, { businessId });
    expect(listed).toHaveLength(1);
    expect(JSON.stringify(listed)).not.toContain(created.key);
    expect(JSON.stringify(listed)).not.toContain(stored.hash);
    expect(listed[0]).toMatchObject({ prefix: created.prefix, mode: "live", status: "active", lastUsedAt: null });
    expect((await call(t, "GET", "/v1/customers", { key: created.key })).status).toBe(200);
    expect((await owner.as.query(api.api.keys.list, { businessId }))[0].lastUsedAt).not.toBeNull();
  });

  test("owner only: managers are FORBIDDEN, other businesses' owners NOT_FOUND; no scopes is invalid", async () => {
    const t = newTest();
    const { businessId, owner } = await aBusiness(t);
    const manager = await aManager(t, businessId);
    const other = await aBusiness(t);
    await expectCode(manager.as.mutation(api.api.keys.create, { businessId, name: "x", mode: "test", scopes: customersRW }), "FORBIDDEN");
    await expectCode(other.owner.as.mutation(api.api.keys.create, { businessId, name: "x", mode: "test", scopes: customersRW }), "NOT_FOUND");
    await expectCode(owner.as.mutation(api.api.keys.create, { businessId, name: "x", mode: "test", scopes: [] }), "INVALID_ARGUMENT", "scopes");
    const { apiKeyId } = await owner.as.mutation(api.api.keys.create, { businessId, name: "x", mode: "test", scopes: customersRW });
    await expectCode(other.owner.as.mutation(api.api.keys.revoke, { apiKeyId }), "NOT_FOUND", "apiKeyId");
    await expectCode(other.owner.as.query(api.api.keys.list, { businessId }), "NOT_FOUND");
  });

  test("revoke stops a key at once; update changes scopes on the next request", async () => {
    const t = newTest();
    const { businessId, owner } = await aBusiness(t);
    const { apiKeyId, key } = await owner.as.mutation(api.api.keys.create, { businessId, name: "x", mode: "test", scopes: customersRW });
    expect((await call(t, "GET", "/v1/customers", { key })).status).toBe(200);
    await owner.as.mutation(api.api.keys.update, { apiKeyId, scopes: [{ resource: "zones", access: "read" }] });
    expectError(await call(t, "GET", "/v1/customers", { key }), 403, "FORBIDDEN");
    expect((await call(t, "GET", "/v1/zones", { key })).status).toBe(200);
    await owner.as.mutation(api.api.keys.revoke, { apiKeyId });
    expectError(await call(t, "GET", "/v1/zones", { key }), 401, "UNAUTHENTICATED");
    expect((await owner.as.query(api.api.keys.list, { businessId }))[0].status).toBe("revoked");
  });

  test("rotate: a new key with the same scopes; the old one works until the overlap ends (default 24 h)", async () => {
    vi.useFakeTimers();
    vi.setSystemTime(Date.parse("2026-03-02T12:00:00Z"));
    const t = newTest();
    const { businessId, owner } = await aBusiness(t);
    const old = await owner.as.mutation(api.api.keys.create, { businessId, name: "Partner", mode: "test", scopes: customersRW });
    const rotated = await owner.as.mutation(api.api.keys.rotate, { apiKeyId: old.apiKeyId });
    expect(rotated.key).not.toBe(old.key);
    expect(rotated.previousKeyExpiresAt).toBe(Date.now() + 24 * 3_600_000);
    expect((await call(t, "GET", "/v1/customers", { key: old.key })).status).toBe(200);
    expect((await call(t, "GET", "/v1/customers", { key: rotated.key })).status).toBe(200);
    vi.setSystemTime(Date.now() + 24 * 3_600_000);
    expectError(await call(t, "GET", "/v1/customers", { key: old.key }), 401, "UNAUTHENTICATED");
    expect((await call(t, "GET", "/v1/customers", { key: rotated.key })).status).toBe(200);
    const list = await owner.as.query(api.api.keys.list, { businessId });
    expect(list.map((k) => k.status).sort()).toEqual(["active", "expired"]);
    await expectCode(owner.as.mutation(api.api.keys.rotate, { apiKeyId: old.apiKeyId }), "CONFLICT");
    const immediate = await owner.as.mutation(api.api.keys.rotate, { apiKeyId: rotated.apiKeyId, overlapHours: 0 });
    expectError(await call(t, "GET", "/v1/customers", { key: rotated.key }), 401, "UNAUTHENTICATED");
    expect((await call(t, "GET", "/v1/customers", { key: immediate.key })).status).toBe(200);
  });

  test("registerDemoKey registers the demo key with every scope, idempotently; without DEMO_API_KEY it does nothing", async () => {
    const t = newTest();
    const { businessId } = await aBusiness(t);
    const other = await aBusiness(t);
    const demo = "bk_test_demoDEMOdemoDEMOdemoDEMOdemo12";
    const first = await t.run((ctx) => registerDemoKeyFor(ctx, businessId, demo));
    const second = await t.run((ctx) => registerDemoKeyFor(ctx, businessId, demo));
    expect(second).toBe(first);
    await expect(t.run((ctx) => registerDemoKeyFor(ctx, other.businessId, demo))).rejects.toThrow();
    expect((await call(t, "GET", "/v1/bookings", { key: demo })).status).toBe(200);
    expect((await call(t, "POST", "/v1/customers", { key: demo, body: { name: "Demo" } })).status).toBe(201);
    // The test environment sets no DEMO_API_KEY.
    expect(await t.mutation(internal.api.keys.registerDemoKey, { businessId })).toBeNull();
  });
});
