/**
 * The REST API's per-request bookkeeping, called by the HTTP action (`api/v1/router.ts`):
 *
 * - `authorize`: resolves the presented key (by SHA-256) to its business and scopes, counts
 *   the request against the key's fixed one-minute window of its plan's tier (the
 *   `@convex-dev/rate-limiter` component, windows aligned to the minute; the unit of contention
 *   is the key, never a global counter) and refreshes `lastUsedAt` at most once a minute.
 *   Requests over the limit are not counted.
 * - `beginIdempotency` / `completeIdempotency` / `releaseIdempotency`: the `Idempotency-Key`
 *   protocol. "In flight" is committed in its own mutation before the operation runs, the
 *   response after it, so a concurrent duplicate sees IDEMPOTENCY_IN_FLIGHT and a later one
 *   gets the first response replayed.
 * - `purgeExpiredIdempotencyRecords`: the daily cron's clean-up.
 *
 * The clock is the HTTP action's `now` argument (tests move it with fake timers).
 */
import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { v } from "convex/values";
import { components, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { internalMutation } from "../functions";
import { rateTierForPlan, type RateTier } from "../plans";
import { vApiScope } from "../schema";

export const RATE_WINDOW_MS = MINUTE;
export const RATE_LIMITS: Record<RateTier, number> = { standard: 100, professional: 500, enterprise: 2_000 };

/** One named limit per tier; `start: 0` aligns every key's window to the minute. */
function tierLimit(tier: RateTier) {
  return { kind: "fixed window" as const, rate: RATE_LIMITS[tier], period: RATE_WINDOW_MS, start: 0 };
}
const TIER_LIMITS = {
  standard: tierLimit("standard"),
  professional: tierLimit("professional"),
  enterprise: tierLimit("enterprise"),
};
const rateLimiter = new RateLimiter(components.rateLimiter, TIER_LIMITS);
export const LAST_USED_RESOLUTION_MS = 60_000;
export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** An "in flight" record older than this is taken to be abandoned (its request died). */
export const IDEMPOTENCY_IN_FLIGHT_LEASE_MS = 2 * 60_000;
const PURGE_BATCH = 500;

const vRate = v.object({ limit: v.number(), remaining: v.number(), resetAt: v.number() });

export const authorize = internalMutation({
  args: { keyHash: v.string(), now: v.number() },
  returns: v.union(
    v.object({
      ok: v.literal(true),
      apiKeyId: v.id("apiKeys"),
      businessId: v.id("businesses"),
      mode: v.union(v.literal("test"), v.literal("live")),
      scopes: v.array(vApiScope),
      rate: vRate,
      limited: v.boolean(),
    }),
    v.object({
      ok: v.literal(false),
      code: v.union(v.literal("UNAUTHENTICATED"), v.literal("BUSINESS_NOT_ACTIVE")),
      message: v.string(),
    }),
  ),
  handler: async (ctx, { keyHash, now }) => {
    const invalid = { ok: false as const, code: "UNAUTHENTICATED" as const, message: "The API key is invalid, revoked or expired." };
    const key = await ctx.db
      .query("apiKeys")
      .withIndex("by_hash", (q) => q.eq("hash", keyHash))
      .unique();
    if (key === null || key.status !== "active" || (key.expiresAt !== undefined && key.expiresAt <= now)) return invalid;
    const business = await ctx.db.get("businesses", key.businessId);
    if (business === null || business.status === "DELETED") return invalid;
    if (business.status === "SUSPENDED") {
      return { ok: false as const, code: "BUSINESS_NOT_ACTIVE" as const, message: `${business.name} is suspended; its API keys are paused.` };
    }

    const tier = rateTierForPlan(business.plan);
    const limit = RATE_LIMITS[tier];
    const status = await rateLimiter.limit(ctx, tier, { key: key._id });
    let rate: { limit: number; remaining: number; resetAt: number };
    if (status.ok) {
      // The key's window as the limiter now holds it (start of window, tokens left).
      const window = await ctx.runQuery(components.rateLimiter.lib.getValue, { name: tier, key: key._id, config: TIER_LIMITS[tier] });
      rate = { limit, remaining: Math.max(0, Math.floor(window.value)), resetAt: window.ts + RATE_WINDOW_MS };
      if (key.lastUsedAt === undefined || now - key.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
        await ctx.db.patch("apiKeys", key._id, { lastUsedAt: now });
      }
    } else {
      rate = { limit, remaining: 0, resetAt: Date.now() + status.retryAfter };
    }
    const limited = !status.ok;
    return {
      ok: true as const,
      apiKeyId: key._id,
      businessId: key.businessId,
      mode: key.mode,
      scopes: key.scopes,
      rate,
      limited,
    };
  },
});

const vStoredResponse = v.object({ status: v.number(), body: v.string() });

export const beginIdempotency = internalMutation({
  args: { apiKeyId: v.id("apiKeys"), key: v.string(), requestHash: v.string(), now: v.number() },
  returns: v.union(
    v.object({ kind: v.literal("proceed") }),
    v.object({ kind: v.literal("replay"), response: vStoredResponse }),
    v.object({ kind: v.literal("mismatch") }),
    v.object({ kind: v.literal("in_flight") }),
  ),
  handler: async (ctx, args) => {
    const existing = await ctx.db
      .query("idempotencyRecords")
      .withIndex("by_apiKeyId_and_key", (q) => q.eq("apiKeyId", args.apiKeyId).eq("key", args.key))
      .unique();
    const fresh = {
      requestHash: args.requestHash,
      status: "in_flight" as const,
      response: undefined,
      createdAt: args.now,
      expiresAt: args.now + IDEMPOTENCY_TTL_MS,
    };
    if (existing === null) {
      await ctx.db.insert("idempotencyRecords", { apiKeyId: args.apiKeyId, key: args.key, ...fresh });
      return { kind: "proceed" as const };
    }
    const abandoned = existing.status === "in_flight" && existing.createdAt + IDEMPOTENCY_IN_FLIGHT_LEASE_MS <= args.now;
    if (existing.expiresAt <= args.now || abandoned) {
      await ctx.db.patch("idempotencyRecords", existing._id, fresh);
      return { kind: "proceed" as const };
    }
    if (existing.requestHash !== args.requestHash) return { kind: "mismatch" as const };
    if (existing.status === "in_flight" || existing.response === undefined) return { kind: "in_flight" as const };
    return { kind: "replay" as const, response: existing.response };
  },
});

export const completeIdempotency = internalMutation({
  args: { apiKeyId: v.id("apiKeys"), key: v.string(), requestHash: v.string(), response: vStoredResponse },
  returns: v.null(),
  handler: async (ctx, args) => {
    const record = await ctx.db
      .query("idempotencyRecords")
      .withIndex("by_apiKeyId_and_key", (q) => q.eq("apiKeyId", args.apiKeyId).eq("key", args.key))
      .unique();
    // Only the request that holds the record completes it.
    if (record === null || record.status !== "in_flight" || record.requestHash !== args.requestHash) return null;
    await ctx.db.patch("idempotencyRecords", record._id, { status: "completed", response: args.response });
    return null;
  },
});

/** Forgets an in-flight record whose request failed unexpectedly, so the client may retry. */
export const releaseIdempotency = internalMutation({
  args: { apiKeyId: v.id("apiKeys"), key: v.string(), requestHash: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const record = await ctx.db
      .query("idempotencyRecords")
      .withIndex("by_apiKeyId_and_key", (q) => q.eq("apiKeyId", args.apiKeyId).eq("key", args.key))
      .unique();
    if (record !== null && record.status === "in_flight" && record.requestHash === args.requestHash) await ctx.db.delete("idempotencyRecords", record._id);
    return null;
  },
});

/** Deletes expired idempotency records in batches (the daily cron in crons.ts calls this). */
export const purgeExpiredIdempotencyRecords = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx): Promise<number> => {
    const now = Date.now();
    const expired = await ctx.db
      .query("idempotencyRecords")
      .withIndex("by_expiresAt", (q) => q.lte("expiresAt", now))
      .take(PURGE_BATCH);
    for (const record of expired) await ctx.db.delete("idempotencyRecords", record._id);
    if (expired.length === PURGE_BATCH) {
      await ctx.scheduler.runAfter(0, internal.api.internalRequests.purgeExpiredIdempotencyRecords, {});
    }
    return expired.length;
  },
});

export type AuthorizedKey = { apiKeyId: Id<"apiKeys">; businessId: Id<"businesses"> };
