/**
 * Fan-out of platform events to partner webhook endpoints.
 *
 * `fanOutEvent` turns one `events` row into one pending `webhookDeliveries` row per enabled
 * endpoint of the event's business whose filters match, and queues the first attempt of
 * each on the delivery workpool (webhookQueue.ts). It is idempotent per (event, endpoint), so
 * it may run both in the transaction that emits the event and again from the cron safety net
 * (`webhookDelivery.sweep`).
 *
 * Businesses without endpoints pay one indexed read per event.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { matchesEventType } from "./webhookPolicy";
import { enqueueAttempt } from "./webhookQueue";

const MAX_ENDPOINTS_PER_BUSINESS = 50;

export async function enabledEndpoints(ctx: MutationCtx, businessId: Id<"businesses">) {
  const endpoints = await ctx.db
    .query("webhookEndpoints")
    .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
    .take(MAX_ENDPOINTS_PER_BUSINESS);
  return endpoints.filter((e) => e.status === "enabled");
}

export async function enqueueDelivery(
  ctx: MutationCtx,
  event: Doc<"events">,
  endpoint: Doc<"webhookEndpoints">,
  now: number,
): Promise<Id<"webhookDeliveries">> {
  const deliveryId = await ctx.db.insert("webhookDeliveries", {
    businessId: event.businessId,
    endpointId: endpoint._id,
    eventId: event._id,
    status: "pending",
    attempts: 0,
    nextAttemptAt: now,
    createdAt: now,
  });
  await enqueueAttempt(ctx, deliveryId);
  return deliveryId;
}

/** Queues deliveries of one event to every matching endpoint that does not have it yet. */
export async function fanOutEvent(ctx: MutationCtx, eventId: Id<"events">): Promise<number> {
  const event = await ctx.db.get("events", eventId);
  if (event === null) return 0;
  const endpoints = (await enabledEndpoints(ctx, event.businessId)).filter(
    (e) => e.createdAt <= event.createdAt && matchesEventType(e.eventTypes, event.type),
  );
  if (endpoints.length === 0) return 0;
  const existing = await ctx.db
    .query("webhookDeliveries")
    .withIndex("by_eventId", (q) => q.eq("eventId", eventId))
    .take(MAX_ENDPOINTS_PER_BUSINESS * 4);
  const done = new Set(existing.map((d) => d.endpointId));
  const now = Date.now();
  let queued = 0;
  for (const endpoint of endpoints) {
    if (done.has(endpoint._id)) continue;
    await enqueueDelivery(ctx, event, endpoint, now);
    queued += 1;
  }
  return queued;
}
