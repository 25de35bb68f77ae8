/**
 * Partner-webhook delivery (the worker side of webhooks.ts).
 *
 * Flow: an event is written to `events` → `fanOutEvent` (model/webhookFanout.ts) inserts a
 * pending `webhookDeliveries` row per matching enabled endpoint and queues its first attempt
 * on the `webhookWorkpool` component (model/webhookQueue.ts) → the pool runs `deliver`, which
 * claims the row, POSTs the JSON signed per Standard Webhooks, and `recordAttempt` logs the
 * attempt (`webhookAttempts`, the owner's delivery log) and either marks it succeeded or sets
 * the next retry (model/webhookPolicy.ts: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h, 14 h ×4,
 * ±10 % jitter, about 3.5 days); a retry waits in the scheduler and enters the pool when due
 * (`startAttempt`). `attemptFinished` hears from the pool how each run ended and records an
 * action that died before recording (crash, timeout, restart) as a failed attempt.
 *
 * An endpoint gets `failingSince` at its first failure (cleared by any success) and is
 * disabled, with a notification to the owner, when a failure arrives after it has been
 * failing continuously for 3 days.
 *
 * Fan-out trigger: `emitEvent` fans out in the transaction of the event itself; the `sweep`
 * cron (every minute) is the safety net: it fans out events of the last `SWEEP_WINDOW_MS` for
 * businesses with endpoints, idempotently, and re-queues deliveries whose attempt never
 * reported back.
 */
import { vOnCompleteArgs } from "@convex-dev/workpool";
import { v, type Infer } from "convex/values";
import { doc } from "convex-helpers/validators";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "./_generated/server";
import { internalAction, internalMutation, internalQuery } from "./functions";
import { fanOutEvent } from "./model/webhookFanout";
import { DISABLE_AFTER_FAILING_MS, isSuccessStatus, liveSecrets, retryDelayMs } from "./model/webhookPolicy";
import { enqueueAttempt, scheduleAttempt } from "./model/webhookQueue";
import { webhookHeaders } from "./model/webhookSigning";
import schema from "./schema";

const vDelivery = doc(schema, "webhookDeliveries");
const REQUEST_TIMEOUT_MS = 15_000;
const EXCERPT_BYTES = 1024;
/** A claimed delivery is not handed out again for this long (the request's own timeout + slack). */
const CLAIM_LEASE_MS = 60_000;
export const SWEEP_WINDOW_MS = 15 * 60_000;

/** Fans one event out (idempotent). */
export const fanOut = internalMutation({
  args: { eventId: v.id("events") },
  returns: v.number(),
  handler: async (ctx, args) => await fanOutEvent(ctx, args.eventId),
});

const vClaim = v.union(
  v.object({
    ok: v.literal(true),
    url: v.string(),
    secrets: v.array(v.string()),
    msgId: v.string(),
    body: v.string(),
  }),
  v.object({ ok: v.literal(false), reason: v.string() }),
);

/** A retry whose time has come enters the delivery pool (see model/webhookQueue.ts). */
export const startAttempt = internalMutation({
  args: { deliveryId: v.id("webhookDeliveries") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const delivery = await ctx.db.get("webhookDeliveries", args.deliveryId);
    if (delivery !== null && delivery.status === "pending") await enqueueAttempt(ctx, delivery._id);
    return null;
  },
});

/** Takes a due delivery for one attempt (a short lease so that the sweep does not double it). */
export const claimDelivery = internalMutation({
  args: { deliveryId: v.id("webhookDeliveries") },
  returns: vClaim,
  handler: async (ctx, args) => {
    const delivery = await ctx.db.get("webhookDeliveries", args.deliveryId);
    if (delivery === null || delivery.status !== "pending") return { ok: false as const, reason: "not pending" };
    const now = Date.now();
    if (delivery.nextAttemptAt > now) return { ok: false as const, reason: "not due" };
    const endpoint = await ctx.db.get("webhookEndpoints", delivery.endpointId);
    const event = await ctx.db.get("events", delivery.eventId);
    if (endpoint === null || endpoint.status !== "enabled" || event === null) {
      await ctx.db.patch("webhookDeliveries", delivery._id, { status: "abandoned" });
      return { ok: false as const, reason: endpoint === null ? "endpoint deleted" : event === null ? "event deleted" : "endpoint disabled" };
    }
    const secrets = liveSecrets(endpoint.secrets, now).map((s) => s.secret);
    await ctx.db.patch("webhookDeliveries", delivery._id, { nextAttemptAt: now + CLAIM_LEASE_MS });
    const body = JSON.stringify({
      id: event._id,
      type: event.type,
      timestamp: new Date(event.createdAt).toISOString(),
      businessId: event.businessId,
      entity: event.entity,
      data: event.data,
    });
    return { ok: true as const, url: endpoint.url, secrets, msgId: `msg_${event._id}`, body };
  },
});

async function notifyOwner(ctx: RawMutationCtx, endpoint: Doc<"webhookEndpoints">, reason: string) {
  const business = await ctx.db.get("businesses", endpoint.businessId);
  if (business === null) return;
  const owner = await ctx.db.get("users", business.ownerId);
  const body = `Your webhook endpoint ${endpoint.url} was disabled: ${reason}. Fix it, then re-enable it in Settings → Webhooks; use replay to resend missed events.`;
  if (!owner?.email) {
    console.warn(`webhook endpoint ${endpoint._id} disabled; owner has no email. ${body}`);
    return;
  }
  await ctx.db.insert("notifications", {
    businessId: business._id,
    userId: owner._id,
    // No dedicated template key exists for this yet; "payment_failed" is the closest
    // operational alert. See the report: a `webhook_disabled` template key is requested.
    templateKey: "payment_failed",
    channel: "email",
    to: owner.email,
    subject: "A webhook endpoint was disabled",
    body,
    status: "queued",
    createdAt: Date.now(),
  });
}

const vAttemptArgs = v.object({
  deliveryId: v.id("webhookDeliveries"),
  at: v.number(),
  latencyMs: v.number(),
  statusCode: v.optional(v.number()),
  responseExcerpt: v.optional(v.string()),
  error: v.optional(v.string()),
});
const vAttemptOutcome = v.object({ status: v.string(), nextAttemptAt: v.union(v.number(), v.null()) });

/** Logs one attempt and applies the policy: succeeded, retry later, failed or abandoned. */
export const recordAttempt = internalMutation({
  args: vAttemptArgs,
  returns: vAttemptOutcome,
  handler: async (ctx, args) => await applyAttempt(ctx, args),
});

async function applyAttempt(ctx: RawMutationCtx, args: Infer<typeof vAttemptArgs>): Promise<Infer<typeof vAttemptOutcome>> {
  const delivery = await ctx.db.get("webhookDeliveries", args.deliveryId);
  if (delivery === null) return { status: "missing", nextAttemptAt: null };
  await ctx.db.insert("webhookAttempts", {
    businessId: delivery.businessId,
    deliveryId: delivery._id,
    at: args.at,
    latencyMs: args.latencyMs,
    ...(args.statusCode !== undefined ? { statusCode: args.statusCode } : {}),
    ...(args.responseExcerpt !== undefined ? { responseExcerpt: args.responseExcerpt.slice(0, EXCERPT_BYTES) } : {}),
    ...(args.error !== undefined ? { error: args.error.slice(0, EXCERPT_BYTES) } : {}),
  });
  const attempts = delivery.attempts + 1;
  const now = Date.now();
  const endpoint = await ctx.db.get("webhookEndpoints", delivery.endpointId);
  const ok = args.error === undefined && args.statusCode !== undefined && isSuccessStatus(args.statusCode);
  if (ok) {
    await ctx.db.patch("webhookDeliveries", delivery._id, { status: "succeeded", attempts, lastAttemptAt: args.at });
    if (endpoint?.failingSince !== undefined) await ctx.db.patch("webhookEndpoints", endpoint._id, { failingSince: undefined });
    return { status: "succeeded", nextAttemptAt: null };
  }
  if (endpoint !== null && endpoint.status === "enabled") {
    const failingSince = endpoint.failingSince ?? args.at;
    if (endpoint.failingSince === undefined) await ctx.db.patch("webhookEndpoints", endpoint._id, { failingSince });
    if (now - failingSince >= DISABLE_AFTER_FAILING_MS) {
      const reason = `every delivery failed for ${Math.round((now - failingSince) / 3_600_000)} hours (last: ${args.statusCode ? `HTTP ${args.statusCode}` : (args.error ?? "error")})`;
      await ctx.db.patch("webhookEndpoints", endpoint._id, { status: "disabled", disabledReason: reason });
      await notifyOwner(ctx, endpoint, reason);
      await ctx.db.patch("webhookDeliveries", delivery._id, { status: "abandoned", attempts, lastAttemptAt: args.at });
      return { status: "abandoned", nextAttemptAt: null };
    }
  }
  const delay = retryDelayMs(attempts);
  if (delay === null || endpoint === null || endpoint.status !== "enabled") {
    await ctx.db.patch("webhookDeliveries", delivery._id, { status: "failed", attempts, lastAttemptAt: args.at });
    return { status: "failed", nextAttemptAt: null };
  }
  const nextAttemptAt = now + delay;
  await ctx.db.patch("webhookDeliveries", delivery._id, { attempts, lastAttemptAt: args.at, nextAttemptAt });
  await scheduleAttempt(ctx, delivery._id, nextAttemptAt);
  return { status: "pending", nextAttemptAt };
}

async function readExcerpt(response: Response): Promise<string> {
  const text = await response.text();
  const bytes = new TextEncoder().encode(text);
  if (bytes.length <= EXCERPT_BYTES) return text;
  return new TextDecoder().decode(bytes.slice(0, EXCERPT_BYTES)).replace(/\uFFFD+$/, "");
}

/** One delivery attempt: claim, sign, POST, record. */
export const deliver = internalAction({
  args: { deliveryId: v.id("webhookDeliveries") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const claim = await ctx.runMutation(internal.webhookDelivery.claimDelivery, { deliveryId: args.deliveryId });
    if (!claim.ok) return null;
    const at = Date.now();
    const headers = await webhookHeaders(claim.secrets, claim.msgId, Math.floor(at / 1000), claim.body);
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), REQUEST_TIMEOUT_MS);
    let outcome: { statusCode?: number; responseExcerpt?: string; error?: string };
    try {
      const response = await fetch(claim.url, {
        method: "POST",
        headers: { ...headers, "content-type": "application/json", "user-agent": "booking-platform-webhooks/1" },
        body: claim.body,
        redirect: "manual",
        signal: controller.signal,
      });
      outcome = { statusCode: response.status, responseExcerpt: await readExcerpt(response) };
    } catch (error) {
      // The failure is recorded as an attempt and retried; it is not swallowed.
      outcome = { error: controller.signal.aborted ? `timed out after ${REQUEST_TIMEOUT_MS} ms` : error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
    await ctx.runMutation(internal.webhookDelivery.recordAttempt, { deliveryId: args.deliveryId, at, latencyMs: Date.now() - at, ...outcome });
    return null;
  },
});

/**
 * The cron safety net (every minute): re-queues deliveries whose claimed attempt never
 * reported back (its lease ran out) and fans out recent events of businesses that have
 * endpoints (in case a fan-out was missed). Both idempotent.
 */
export const sweep = internalMutation({
  args: {},
  returns: v.object({ rescheduled: v.number(), fannedOut: v.number() }),
  handler: async (ctx) => {
    const now = Date.now();
    const overdue = await ctx.db
      .query("webhookDeliveries")
      .withIndex("by_status_and_nextAttemptAt", (q) => q.eq("status", "pending").lt("nextAttemptAt", now - CLAIM_LEASE_MS))
      .take(200);
    for (const delivery of overdue) {
      await ctx.db.patch("webhookDeliveries", delivery._id, { nextAttemptAt: now });
      await enqueueAttempt(ctx, delivery._id);
    }
    // Businesses with enabled endpoints (the table is small: ≤ 20 endpoints per business).
    const endpoints = await ctx.db.query("webhookEndpoints").take(2_000);
    const businesses = new Set(endpoints.filter((e) => e.status === "enabled").map((e) => e.businessId));
    let fannedOut = 0;
    for (const businessId of businesses) {
      const events = await ctx.db
        .query("events")
        .withIndex("by_businessId_and_createdAt", (q) => q.eq("businessId", businessId).gte("createdAt", now - SWEEP_WINDOW_MS))
        .take(500);
      for (const event of events) fannedOut += await fanOutEvent(ctx, event._id);
    }
    return { rescheduled: overdue.length, fannedOut };
  },
});

/**
 * How each queued attempt ended, from the workpool. A request that failed was already
 * recorded by `deliver` itself; an action that died before recording (timed out, crashed,
 * lost in a restart) is recorded here as a failed attempt, which queues the retry.
 */
export const attemptFinished = internalMutation({
  args: vOnCompleteArgs(v.object({ deliveryId: v.id("webhookDeliveries") })),
  returns: v.null(),
  handler: async (ctx, { context, result }) => {
    if (result.kind !== "failed") return null;
    const delivery = await ctx.db.get("webhookDeliveries", context.deliveryId);
    if (delivery === null || delivery.status !== "pending") return null;
    const at = Date.now();
    await applyAttempt(ctx, { deliveryId: delivery._id, at, latencyMs: 0, error: `the delivery worker failed: ${result.error}` });
    return null;
  },
});

/** Deliveries of one event (for the portal's event detail and for tests). */
export const deliveriesForEvent = internalQuery({
  args: { eventId: v.id("events") },
  returns: v.array(vDelivery),
  handler: async (ctx, args) =>
    await ctx.db
      .query("webhookDeliveries")
      .withIndex("by_eventId", (q) => q.eq("eventId", args.eventId))
      .take(100),
});
