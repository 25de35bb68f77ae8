/**
 * Helpers for the REST API tests (two dots: not deployed): a business with an API key, and
 * `call` to send a request through `t.fetch` and read the JSON answer.
 */
import { expect } from "vitest";
import type { z } from "zod";
import type { Id } from "../_generated/dataModel";
import { aBusiness, aBusinessScenario } from "../test.builders";
import type { TestConvex } from "../test.setup";
import type { Plan } from "../schema";
import { allScopes, generateApiKey, hashApiKey, keyPrefix, type ApiScope } from "./apiKeyFormat";

export type ApiKey = { key: string; apiKeyId: Id<"apiKeys"> };

/** Registers a key for the business straight in the database (as `keys.create` would). */
export async function anApiKey(
  t: TestConvex,
  businessId: Id<"businesses">,
  opts: { scopes?: ApiScope[]; expiresAt?: number; status?: "active" | "revoked" } = {},
): Promise<ApiKey> {
  const key = generateApiKey("test");
  const hash = await hashApiKey(key);
  const apiKeyId = await t.run(async (ctx) => {
    const business = (await ctx.db.get("businesses", businessId))!;
    return await ctx.db.insert("apiKeys", {
      businessId,
      name: "Test key",
      prefix: keyPrefix(key),
      hash,
      mode: "test",
      scopes: opts.scopes ?? allScopes(),
      status: opts.status ?? "active",
      ...(opts.expiresAt !== undefined ? { expiresAt: opts.expiresAt } : {}),
      createdAt: Date.now(),
      createdBy: business.ownerId,
    });
  });
  return { key, apiKeyId };
}

export async function setPlan(t: TestConvex, businessId: Id<"businesses">, plan: Plan) {
  await t.run((ctx) => ctx.db.patch("businesses", businessId, { plan }));
}

/** A business with an all-scopes key. */
export async function anApiBusiness(t: TestConvex) {
  const biz = await aBusiness(t);
  return { ...biz, ...(await anApiKey(t, biz.businessId)) };
}

/** The full scenario (zone, catalogue, provider, customer) with an all-scopes key. */
export async function anApiScenario(t: TestConvex, opts: Parameters<typeof aBusinessScenario>[1] = {}) {
  const scenario = await aBusinessScenario(t, opts);
  return { ...scenario, ...(await anApiKey(t, scenario.businessId)) };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON
export type ApiResult = { status: number; body: any; headers: Headers };

export async function call(
  t: TestConvex,
  method: string,
  path: string,
  opts: { key?: string | null; body?: unknown; rawBody?: string; headers?: Record<string, string>; idempotencyKey?: string } = {},
): Promise<ApiResult> {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.key) headers.Authorization = `Bearer ${opts.key}`;
  if (opts.idempotencyKey !== undefined) headers["Idempotency-Key"] = opts.idempotencyKey;
  let body: string | undefined = opts.rawBody;
  if (opts.body !== undefined) {
    body = JSON.stringify(opts.body);
    headers["Content-Type"] ??= "application/json";
  }
  const response = await t.fetch(path, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = null;
  if (text !== "") parsed = JSON.parse(text);
  return { status: response.status, body: parsed, headers: response.headers };
}

/** Asserts the one error format, and returns the error. */
export function expectError(result: ApiResult, status: number, code: string) {
  expect({ status: result.status, code: result.body?.error?.code }).toEqual({ status, code });
  expect(typeof result.body.error.message).toBe("string");
  expect(result.body.error.request_id).toMatch(/^req_[0-9a-f]{24}$/);
  expect(Object.keys(result.body)).toEqual(["error"]);
  return result.body.error as { code: string; message: string; param?: string; request_id: string };
}

/** Asserts a success status and that the body matches the documented response schema. */
export function expectOk<T extends z.ZodType>(result: ApiResult, status: number, schema: T): z.output<T> {
  if (result.status !== status) throw new Error(`expected ${status}, got ${result.status}: ${JSON.stringify(result.body)}`);
  const parsed = schema.safeParse(result.body);
  if (!parsed.success) throw new Error(`response does not match its schema: ${JSON.stringify(parsed.error.issues.slice(0, 3))}`);
  return result.body as z.output<T>;
}

/** Counts of the domain tables a rejected request must not change. */
export async function domainCounts(t: TestConvex) {
  const tables = [
    "customers",
    "customerAddresses",
    "bookings",
    "bookingAssignments",
    "bookingStatusHistory",
    "invoices",
    "events",
    "outbox",
    "resourceDays",
  ] as const;
  return await t.run(async (ctx) => {
    const out: Record<string, number> = {};
    for (const table of tables) out[table] = (await ctx.db.query(table).collect()).length;
    return out;
  });
}
