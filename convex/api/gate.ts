/**
 * Who may make a REST request, in the transaction that serves it: `admit` resolves the
 * presented key (by SHA-256) to its business and scopes, limits failed authentications and
 * counts the request in the key's rate-limit window, all on the `@convex-dev/rate-limiter`
 * component (the unit of contention is a key, an address or a key prefix, never a global
 * counter). The generic `authorize` mutation and the one-transaction commands
 * (`api/commands.ts`) both call it, so every route is admitted by the same rules.
 *
 * Failed authentications (unknown, revoked or expired keys) are limited per client address
 * and per key prefix (the visible first characters of a key): over either limit every
 * request from that address or for that prefix is refused with RATE_LIMITED until the window
 * passes, before the key is even looked up, so guessing is slow and refusing a guess reads
 * one or two limiter rows and writes nothing. An unknown key writes nothing of the
 * platform's data; its only write is its failure count.
 *
 * Plain module: no registered functions. The clock is the HTTP action's `now`.
 */
import { MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { components } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { rateTierForPlan, type RateTier } from "../plans";
import { hasScope, type ApiScope } from "./apiKeyFormat";

export const RATE_WINDOW_MS = MINUTE;
export const RATE_LIMITS: Record<RateTier, number> = { standard: 100, professional: 500, enterprise: 2_000 };
export const LAST_USED_RESOLUTION_MS = 60_000;
/** Failed authentications allowed per minute from one client address / for one key prefix. */
export const FAILED_AUTH_LIMITS = { perAddress: 20, perPrefix: 10 } as const;

/** One named limit per tier; `start: 0` aligns every key's window to the minute. */
function fixedWindow(rate: number) {
  return { kind: "fixed window" as const, rate, period: RATE_WINDOW_MS, start: 0 };
}
const LIMITS = {
  standard: fixedWindow(RATE_LIMITS.standard),
  professional: fixedWindow(RATE_LIMITS.professional),
  enterprise: fixedWindow(RATE_LIMITS.enterprise),
  failedAuthByAddress: fixedWindow(FAILED_AUTH_LIMITS.perAddress),
  failedAuthByPrefix: fixedWindow(FAILED_AUTH_LIMITS.perPrefix),
};
const rateLimiter = new RateLimiter(components.rateLimiter, LIMITS);

export type Rate = { limit: number; remaining: number; resetAt: number };

/** What the HTTP action knows about a request before anything is read. */
export type Presented = {
  keyHash: string;
  /** `keyPrefix` of the presented key ("bk_test_3fa9c1"). */
  keyPrefix: string;
  /** The client's address as the platform's front proxy saw it ("unknown" without one). */
  clientAddress: string;
  scope: ApiScope;
  now: number;
};

export type RefusalCode = "UNAUTHENTICATED" | "BUSINESS_NOT_ACTIVE" | "RATE_LIMITED" | "FORBIDDEN";

export type Admission =
  | { ok: true; apiKeyId: Id<"apiKeys">; businessId: Id<"businesses">; rate: Rate }
  | { ok: false; code: RefusalCode; message: string; rate?: Rate; retryAfterMs?: number };

const INVALID_KEY = "The API key is invalid, revoked or expired.";

function retryIn(ms: number): string {
  return `retry in ${Math.max(1, Math.ceil(ms / 1_000))} s`;
}

/** RATE_LIMITED when the address or the prefix has used up its failed authentications. */
async function failureLimitReached(ctx: MutationCtx, p: Presented): Promise<Admission | null> {
  const byAddress = await rateLimiter.check(ctx, "failedAuthByAddress", { key: p.clientAddress });
  const byPrefix = await rateLimiter.check(ctx, "failedAuthByPrefix", { key: p.keyPrefix });
  if (byAddress.ok && byPrefix.ok) return null;
  const retryAfterMs = Math.max(byAddress.retryAfter ?? 0, byPrefix.retryAfter ?? 0);
  return { ok: false, code: "RATE_LIMITED", message: `Too many failed authentications; ${retryIn(retryAfterMs)}.`, retryAfterMs };
}

async function countFailure(ctx: MutationCtx, p: Presented): Promise<void> {
  await rateLimiter.limit(ctx, "failedAuthByAddress", { key: p.clientAddress });
  await rateLimiter.limit(ctx, "failedAuthByPrefix", { key: p.keyPrefix });
}

/**
 * Admits a request or says why not. Writes: the failure count for a bad key; the key's
 * window (and `lastUsedAt`, at most once a minute) for a good one. Requests over the key's
 * limit are not counted.
 */
export async function admit(ctx: MutationCtx, p: Presented): Promise<Admission> {
  const exhausted = await failureLimitReached(ctx, p);
  if (exhausted !== null) return exhausted;

  const key = await ctx.db
    .query("apiKeys")
    .withIndex("by_hash", (q) => q.eq("hash", p.keyHash))
    .unique();
  const business = key === null ? null : await ctx.db.get("businesses", key.businessId);
  if (
    key === null ||
    key.status !== "active" ||
    (key.expiresAt !== undefined && key.expiresAt <= p.now) ||
    business === null ||
    business.status === "DELETED"
  ) {
    await countFailure(ctx, p);
    return { ok: false, code: "UNAUTHENTICATED", message: INVALID_KEY };
  }
  if (business.status === "SUSPENDED") {
    return { ok: false, code: "BUSINESS_NOT_ACTIVE", message: `${business.name} is suspended; its API keys are paused.` };
  }

  const tier = rateTierForPlan(business.plan);
  const limit = RATE_LIMITS[tier];
  const status = await rateLimiter.limit(ctx, tier, { key: key._id });
  if (!status.ok) {
    const rate = { limit, remaining: 0, resetAt: p.now + status.retryAfter };
    return {
      ok: false,
      code: "RATE_LIMITED",
      message: `Rate limit of ${limit} requests per minute reached; ${retryIn(status.retryAfter)}.`,
      rate,
      retryAfterMs: status.retryAfter,
    };
  }
  // The key's window as the limiter now holds it (start of window, tokens left).
  const window = await ctx.runQuery(components.rateLimiter.lib.getValue, { name: tier, key: key._id, config: LIMITS[tier] });
  const rate = { limit, remaining: Math.max(0, Math.floor(window.value)), resetAt: window.ts + RATE_WINDOW_MS };
  if (key.lastUsedAt === undefined || p.now - key.lastUsedAt >= LAST_USED_RESOLUTION_MS) {
    await ctx.db.patch("apiKeys", key._id, { lastUsedAt: p.now });
  }
  if (!hasScope(key.scopes, p.scope)) {
    return { ok: false, code: "FORBIDDEN", message: `This API key lacks the ${p.scope.resource}:${p.scope.access} scope.`, rate };
  }
  return { ok: true, apiKeyId: key._id, businessId: key.businessId, rate };
}
