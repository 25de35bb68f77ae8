/**
 * The REST API's per-request bookkeeping, called by the HTTP action (`api/v1/router.ts`):
 *
 * - `authorize`: admits a request (`gate.ts`: key by SHA-256, failed-authentication limits
 *   per client address and key prefix, the key's rate-limit window) for routes whose work
 *   is a query or several calls. Routes whose work is one command admit, record their
 *   Idempotency-Key and run the command in one transaction instead (`api/commands.ts`).
 * - `beginIdempotency` / `completeIdempotency` / `releaseIdempotency`: the `Idempotency-Key`
 *   protocol for the other POST routes. "In flight" is committed in its own mutation before
 *   the operation runs, the response after it, so a concurrent duplicate sees
 *   IDEMPOTENCY_IN_FLIGHT and a later one gets the first response replayed.
 * - `purgeExpiredIdempotencyRecords`: the daily cron's clean-up.
 *
 * The clock is the HTTP action's `now` argument (tests move it with fake timers).
 */
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { vApiScope } from "../schema";
import { admit } from "./gate";

export const IDEMPOTENCY_TTL_MS = 24 * 3_600_000;
/** An "in flight" record older than this is taken to be abandoned (its request died). */
export const IDEMPOTENCY_IN_FLIGHT_LEASE_MS = 2 * 60_000;
const PURGE_BATCH = 500;

export const vRate = v.object({ limit: v.number(), remaining: v.number(), resetAt: v.number() });
export const vPresented = { keyHash: v.string(), keyPrefix: v.string(), clientAddress: v.string(), scope: vApiScope, now: v.number() };
export const vRefusal = v.object({
  ok: v.literal(false),
  code: v.union(v.literal("UNAUTHENTICATED"), v.literal("BUSINESS_NOT_ACTIVE"), v.literal("RATE_LIMITED"), v.literal("FORBIDDEN")),
  message: v.string(),
  rate: v.optional(vRate),
  retryAfterMs: v.optional(v.number()),
});

export const authorize = internalMutation({
  args: vPresented,
  returns: v.union(v.object({ ok: v.literal(true), apiKeyId: v.id("apiKeys"), businessId: v.id("businesses"), rate: vRate }), vRefusal),
  handler: async (ctx, args) => await admit(ctx, args),
});

// ---------------------------------------------------------------------------------------
// Idempotency-Key
// ---------------------------------------------------------------------------------------

export type IdempotencyDecision =
  | { kind: "proceed"; existing: Doc<"idempotencyRecords"> | null }
  | { kind: "replay"; response: { status: number; body: string } }
  | { kind: "mismatch" }
  | { kind: "in_flight" };

export async function idempotencyRecord(ctx: Pick<QueryCtx, "db">, apiKeyId: Id<"apiKeys">, key: string) {
  return await ctx.db
    .query("idempotencyRecords")
    .withIndex("by_apiKeyId_and_key", (q) => q.eq("apiKeyId", apiKeyId).eq("key", key))
    .unique();
}

/** What a request with this Idempotency-Key does, given the key's record (if any). */
export function idempotencyDecision(existing: Doc<"idempotencyRecords"> | null, requestHash: string, now: number): IdempotencyDecision {
  if (existing === null) return { kind: "proceed", existing };
  const abandoned = existing.status === "in_flight" && existing.createdAt + IDEMPOTENCY_IN_FLIGHT_LEASE_MS <= now;
  if (existing.expiresAt <= now || abandoned) return { kind: "proceed", existing };
  if (existing.requestHash !== requestHash) return { kind: "mismatch" };
  if (existing.status === "in_flight" || existing.response === undefined) return { kind: "in_flight" };
  return { kind: "replay", response: existing.response };
}

export function freshIdempotencyFields(requestHash: string, now: number) {
  return { requestHash, createdAt: now, expiresAt: now + IDEMPOTENCY_TTL_MS };
}

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
    const decision = idempotencyDecision(await idempotencyRecord(ctx, args.apiKeyId, args.key), args.requestHash, args.now);
    if (decision.kind !== "proceed") return decision;
    const fresh = { ...freshIdempotencyFields(args.requestHash, args.now), status: "in_flight" as const, response: undefined };
    if (decision.existing === null) await ctx.db.insert("idempotencyRecords", { apiKeyId: args.apiKeyId, key: args.key, ...fresh });
    else await ctx.db.patch("idempotencyRecords", decision.existing._id, fresh);
    return { kind: "proceed" as const };
  },
});

export const completeIdempotency = internalMutation({
  args: { apiKeyId: v.id("apiKeys"), key: v.string(), requestHash: v.string(), response: vStoredResponse },
  returns: v.null(),
  handler: async (ctx, args) => {
    const record = await idempotencyRecord(ctx, args.apiKeyId, args.key);
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
    const record = await idempotencyRecord(ctx, args.apiKeyId, args.key);
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

