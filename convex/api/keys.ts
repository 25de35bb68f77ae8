/**
 * REST API keys of a business (owner only).
 *
 * - `create` returns the full key ONCE (`bk_test_…` / `bk_live_…`); only its SHA-256 is kept,
 *   with a visible prefix to recognise it.
 * - `list` shows keys without secrets; `revoke` stops a key at once.
 * - `rotate` issues a new key with the same name, mode and scopes; the old one keeps working
 *   until the overlap ends (default 24 h) so partners can deploy the new one without downtime.
 * - Scopes are per resource type and read/write (`vApiScope`); write includes read.
 * - `registerDemoKey` (internal) registers `DEMO_API_KEY` from the deployment env for a
 *   business with every scope; the demo seed calls it.
 *
 * Another business's key id is NOT_FOUND.
 */
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import { requireBusinessRole } from "../access";
import { env } from "../env";
import { appError } from "../errors";
import type { MutationCtx as RawMutationCtx } from "../_generated/server";
import { internalMutation, mutation, query, type MutationCtx, type QueryCtx } from "../functions";
import { requireText } from "../model/validation";
import { vApiScope } from "../schema";
import { allScopes, generateApiKey, hashApiKey, keyPrefix, modeOfKey, normalizeScopes, type ApiScope } from "./apiKeyFormat";

export const DEFAULT_ROTATION_OVERLAP_HOURS = 24;
const MAX_ROTATION_OVERLAP_HOURS = 7 * 24;
const MAX_KEYS_PER_BUSINESS = 100;

const vMode = v.union(v.literal("test"), v.literal("live"));

const vKeyView = v.object({
  apiKeyId: v.id("apiKeys"),
  name: v.string(),
  prefix: v.string(),
  mode: vMode,
  scopes: v.array(vApiScope),
  status: v.union(v.literal("active"), v.literal("revoked"), v.literal("expired")),
  expiresAt: v.union(v.number(), v.null()),
  lastUsedAt: v.union(v.number(), v.null()),
  createdAt: v.number(),
});

function keyView(key: Doc<"apiKeys">, now: number) {
  const expired = key.status === "active" && key.expiresAt !== undefined && key.expiresAt <= now;
  return {
    apiKeyId: key._id,
    name: key.name,
    prefix: key.prefix,
    mode: key.mode,
    scopes: key.scopes,
    status: expired ? ("expired" as const) : key.status,
    expiresAt: key.expiresAt ?? null,
    lastUsedAt: key.lastUsedAt ?? null,
    createdAt: key.createdAt,
  };
}

function validScopes(scopes: ApiScope[]): ApiScope[] {
  const normalized = normalizeScopes(scopes);
  if (normalized.length === 0) throw appError("INVALID_ARGUMENT", "Give the key at least one scope.", { param: "scopes" });
  return normalized;
}

async function keyCount(ctx: QueryCtx, businessId: Id<"businesses">) {
  return (await ctx.db.query("apiKeys").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(MAX_KEYS_PER_BUSINESS)).length;
}

/** Inserts a key record for `key`; the caller returns the key to its creator once. */
async function insertKey(
  ctx: RawMutationCtx,
  fields: { businessId: Id<"businesses">; name: string; key: string; scopes: ApiScope[]; createdBy: Id<"users">; now: number },
) {
  const mode = modeOfKey(fields.key);
  if (mode === null) throw new Error("insertKey: malformed key");
  return await ctx.db.insert("apiKeys", {
    businessId: fields.businessId,
    name: fields.name,
    prefix: keyPrefix(fields.key),
    hash: await hashApiKey(fields.key),
    mode,
    scopes: fields.scopes,
    status: "active",
    createdAt: fields.now,
    createdBy: fields.createdBy,
  });
}

async function ownKey(ctx: MutationCtx | QueryCtx, apiKeyId: Id<"apiKeys">) {
  const key = await ctx.db.get("apiKeys", apiKeyId);
  if (key === null) throw appError("NOT_FOUND", "API key not found.", { param: "apiKeyId" });
  const access = await requireBusinessRole(ctx, key.businessId, "owner", { param: "apiKeyId", message: "API key not found." });
  return { key, access };
}

export const create = mutation({
  args: { businessId: v.id("businesses"), name: v.string(), mode: vMode, scopes: v.array(vApiScope) },
  returns: v.object({ apiKeyId: v.id("apiKeys"), key: v.string(), prefix: v.string() }),
  handler: async (ctx, args) => {
    const { user } = await requireBusinessRole(ctx, args.businessId, "owner");
    const name = requireText(args.name, "name", 100);
    const scopes = validScopes(args.scopes);
    if ((await keyCount(ctx, args.businessId)) >= MAX_KEYS_PER_BUSINESS) {
      throw appError("CONFLICT", `A business has at most ${MAX_KEYS_PER_BUSINESS} API keys; revoke unused ones.`);
    }
    const key = generateApiKey(args.mode);
    const apiKeyId = await insertKey(ctx, { businessId: args.businessId, name, key, scopes, createdBy: user._id, now: Date.now() });
    return { apiKeyId, key, prefix: keyPrefix(key) };
  },
});

/**
 * A key for the staff assistant's MCP server, made by any staff member for themself: only the
 * `assistant` scope, and it acts as its creator (their role, their business), so a provider's
 * key sees what the provider sees. The owner lists and revokes it with the other keys.
 */
export const createAssistantKey = mutation({
  args: { businessId: v.id("businesses"), name: v.string(), mode: v.optional(vMode) },
  returns: v.object({ apiKeyId: v.id("apiKeys"), key: v.string(), prefix: v.string() }),
  handler: async (ctx, args) => {
    const { user } = await requireBusinessRole(ctx, args.businessId, "staff");
    const name = requireText(args.name, "name", 100);
    if ((await keyCount(ctx, args.businessId)) >= MAX_KEYS_PER_BUSINESS) {
      throw appError("CONFLICT", `A business has at most ${MAX_KEYS_PER_BUSINESS} API keys; ask the owner to revoke unused ones.`);
    }
    const key = generateApiKey(args.mode ?? "live");
    const scopes: ApiScope[] = [{ resource: "assistant", access: "write" }];
    const apiKeyId = await insertKey(ctx, { businessId: args.businessId, name, key, scopes, createdBy: user._id, now: Date.now() });
    return { apiKeyId, key, prefix: keyPrefix(key) };
  },
});

export const list = query({
  args: { businessId: v.id("businesses") },
  returns: v.array(vKeyView),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "owner");
    const now = Date.now();
    const keys = await ctx.db
      .query("apiKeys")
      .withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
      .order("desc")
      .take(MAX_KEYS_PER_BUSINESS);
    return keys.map((k) => keyView(k, now));
  },
});

export const revoke = mutation({
  args: { apiKeyId: v.id("apiKeys") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { key } = await ownKey(ctx, args.apiKeyId);
    if (key.status !== "revoked") await ctx.db.patch("apiKeys", key._id, { status: "revoked" });
    return null;
  },
});

/** Renames a key or replaces its scopes (effective on the next request). */
export const update = mutation({
  args: { apiKeyId: v.id("apiKeys"), name: v.optional(v.string()), scopes: v.optional(v.array(vApiScope)) },
  returns: vKeyView,
  handler: async (ctx, args) => {
    const { key } = await ownKey(ctx, args.apiKeyId);
    if (key.status === "revoked") throw appError("CONFLICT", "This key is revoked.", { param: "apiKeyId" });
    const patch: Partial<Doc<"apiKeys">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 100);
    if (args.scopes !== undefined) patch.scopes = validScopes(args.scopes);
    await ctx.db.patch("apiKeys", key._id, patch);
    return keyView((await ctx.db.get("apiKeys", key._id))!, Date.now());
  },
});

/**
 * A new key with the same name, mode and scopes. The old key keeps working for
 * `overlapHours` (default 24, 0 = stop now), then stops.
 */
export const rotate = mutation({
  args: { apiKeyId: v.id("apiKeys"), overlapHours: v.optional(v.number()) },
  returns: v.object({ apiKeyId: v.id("apiKeys"), key: v.string(), prefix: v.string(), previousKeyExpiresAt: v.number() }),
  handler: async (ctx, args) => {
    const { key, access } = await ownKey(ctx, args.apiKeyId);
    const now = Date.now();
    if (key.status === "revoked" || (key.expiresAt !== undefined && key.expiresAt <= now)) {
      throw appError("CONFLICT", "Only an active key can be rotated.", { param: "apiKeyId" });
    }
    const overlapHours = args.overlapHours ?? DEFAULT_ROTATION_OVERLAP_HOURS;
    if (!Number.isFinite(overlapHours) || overlapHours < 0 || overlapHours > MAX_ROTATION_OVERLAP_HOURS) {
      throw appError("INVALID_ARGUMENT", `overlapHours must be between 0 and ${MAX_ROTATION_OVERLAP_HOURS}.`, { param: "overlapHours" });
    }
    const previousKeyExpiresAt = Math.min(key.expiresAt ?? Infinity, now + Math.round(overlapHours * 3_600_000));
    await ctx.db.patch("apiKeys", key._id, { expiresAt: previousKeyExpiresAt });
    const fresh = generateApiKey(key.mode);
    const apiKeyId = await insertKey(ctx, {
      businessId: key.businessId,
      name: key.name,
      key: fresh,
      scopes: key.scopes,
      // An assistant key acts as its creator: rotating it must not make it act as the owner.
      createdBy: key.scopes.some((s) => s.resource === "assistant") ? key.createdBy : access.user._id,
      now,
    });
    return { apiKeyId, key: fresh, prefix: keyPrefix(fresh), previousKeyExpiresAt };
  },
});

/**
 * Registers a known key for a business with every scope (idempotent). For the demo seed:
 * `registerDemoKeyFor(ctx, businessId)` inside `seed:demo`, or this internal mutation.
 */
export async function registerDemoKeyFor(ctx: RawMutationCtx, businessId: Id<"businesses">, key: string): Promise<Id<"apiKeys">> {
  if (modeOfKey(key) === null) throw new Error("DEMO_API_KEY must look like bk_test_<random> or bk_live_<random>");
  const hash = await hashApiKey(key);
  const existing = await ctx.db
    .query("apiKeys")
    .withIndex("by_hash", (q) => q.eq("hash", hash))
    .unique();
  if (existing !== null) {
    if (existing.businessId !== businessId) throw new Error("DEMO_API_KEY is already registered for another business");
    return existing._id;
  }
  const business = await ctx.db.get("businesses", businessId);
  if (business === null) throw new Error(`registerDemoKey: business ${businessId} does not exist`);
  return await insertKey(ctx, { businessId, name: "Demo key", key, scopes: allScopes(), createdBy: business.ownerId, now: Date.now() });
}

export const registerDemoKey = internalMutation({
  args: { businessId: v.id("businesses") },
  returns: v.union(v.id("apiKeys"), v.null()),
  handler: async (ctx, args) => {
    const key = env.demoApiKey();
    if (key === undefined) return null;
    return await registerDemoKeyFor(ctx, args.businessId, key);
  },
});
