/**
 * Partner webhook endpoints and the event log for the REST API, scoped to the API key's
 * business. Endpoint rules (URL, event-type filters, secrets, 24 h secret overlap on
 * rotation) are the webhooks engineer's pure `model/webhookPolicy.ts` and
 * `model/webhookSigning.ts`; replay enqueues through `model/webhookFanout.ts` like
 * webhooks.replay. (webhooks.ts keeps its small validators private; the cap of 20 endpoints
 * per business is restated here.)
 */
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { appError } from "../errors";
import { internalMutation, internalQuery } from "../functions";
import { enabledEndpoints, enqueueDelivery } from "../model/webhookFanout";
import { checkEndpointUrl, checkEventTypeFilters, matchesEventType, SECRET_ROTATION_GRACE_MS } from "../model/webhookPolicy";
import { generateWebhookSecret } from "../model/webhookSigning";
import { decodeCursor, listFingerprint, toListPage } from "./v1/pagination";
import { presentEvent, presentWebhookEndpoint } from "./v1/present";
import { ownDoc, vApiCaller } from "./tenant";

const MAX_ENDPOINTS = 20;
const MAX_DESCRIPTION = 500;

function validUrl(url: string) {
  const check = checkEndpointUrl(url);
  if (!check.ok) throw appError("INVALID_ARGUMENT", check.message, { param: "url" });
  return check.url;
}

function validFilters(eventTypes: string[]) {
  const check = checkEventTypeFilters(eventTypes);
  if (!check.ok) throw appError("INVALID_ARGUMENT", check.message, { param: "eventTypes" });
  return check.filters;
}

function validDescription(description: string | undefined) {
  if (description !== undefined && description.length > MAX_DESCRIPTION) {
    throw appError("INVALID_ARGUMENT", `The description is limited to ${MAX_DESCRIPTION} characters.`, { param: "description" });
  }
  return description;
}

// ---------------------------------------------------------------------------------------
// Webhook endpoints
// ---------------------------------------------------------------------------------------

export const listEndpoints = internalQuery({
  args: { ...vApiCaller },
  handler: async (ctx, args) => {
    const rows = await ctx.db
      .query("webhookEndpoints")
      .withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
      .take(MAX_ENDPOINTS * 3);
    return { object: "list" as const, data: rows.map(presentWebhookEndpoint), has_more: false, next_cursor: null };
  },
});

export const getEndpoint = internalQuery({
  args: { ...vApiCaller, endpointId: v.string() },
  handler: async (ctx, args) => presentWebhookEndpoint(await ownDoc(ctx, "webhookEndpoints", args.businessId, args.endpointId, "endpointId")),
});

export const createEndpoint = internalMutation({
  args: { ...vApiCaller, url: v.string(), description: v.optional(v.string()), eventTypes: v.array(v.string()) },
  handler: async (ctx, args) => {
    const url = validUrl(args.url);
    const eventTypes = validFilters(args.eventTypes);
    const description = validDescription(args.description);
    const existing = await ctx.db
      .query("webhookEndpoints")
      .withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
      .take(MAX_ENDPOINTS + 1);
    if (existing.length >= MAX_ENDPOINTS) throw appError("POLICY_VIOLATION", `At most ${MAX_ENDPOINTS} webhook endpoints per business.`);
    const now = Date.now();
    const secret = generateWebhookSecret();
    const id = await ctx.db.insert("webhookEndpoints", {
      businessId: args.businessId,
      url,
      ...(description !== undefined ? { description } : {}),
      eventTypes,
      secrets: [{ secret, createdAt: now }],
      status: "enabled",
      createdAt: now,
    });
    return { ...presentWebhookEndpoint((await ctx.db.get("webhookEndpoints", id))!), secret };
  },
});

export const updateEndpoint = internalMutation({
  args: {
    ...vApiCaller,
    endpointId: v.string(),
    url: v.optional(v.string()),
    description: v.optional(v.string()),
    eventTypes: v.optional(v.array(v.string())),
    status: v.optional(v.union(v.literal("enabled"), v.literal("disabled"))),
  },
  handler: async (ctx, args) => {
    const endpoint = await ownDoc(ctx, "webhookEndpoints", args.businessId, args.endpointId, "endpointId");
    const patch: Partial<Doc<"webhookEndpoints">> = {};
    if (args.url !== undefined) patch.url = validUrl(args.url);
    if (args.description !== undefined) patch.description = validDescription(args.description);
    if (args.eventTypes !== undefined) patch.eventTypes = validFilters(args.eventTypes);
    if (args.status === "enabled" && endpoint.status !== "enabled") {
      Object.assign(patch, { status: "enabled", disabledReason: undefined, failingSince: undefined });
    } else if (args.status === "disabled" && endpoint.status !== "disabled") {
      Object.assign(patch, { status: "disabled", disabledReason: "Disabled through the API" });
    }
    await ctx.db.patch("webhookEndpoints", endpoint._id, patch);
    return presentWebhookEndpoint((await ctx.db.get("webhookEndpoints", endpoint._id))!);
  },
});

export const deleteEndpoint = internalMutation({
  args: { ...vApiCaller, endpointId: v.string() },
  handler: async (ctx, args) => {
    const endpoint = await ownDoc(ctx, "webhookEndpoints", args.businessId, args.endpointId, "endpointId");
    await ctx.db.delete("webhookEndpoints", endpoint._id);
    return { id: endpoint._id, object: "webhook_endpoint", deleted: true as const };
  },
});

/** A new signing secret (returned once); the previous ones stay valid for 24 h. */
export const rotateEndpointSecret = internalMutation({
  args: { ...vApiCaller, endpointId: v.string() },
  handler: async (ctx, args) => {
    const endpoint = await ownDoc(ctx, "webhookEndpoints", args.businessId, args.endpointId, "endpointId");
    const now = Date.now();
    const expiresAt = now + SECRET_ROTATION_GRACE_MS;
    const secret = generateWebhookSecret();
    const kept = endpoint.secrets
      .filter((s) => s.expiresAt === undefined || s.expiresAt > now)
      .map((s) => ({ ...s, expiresAt: Math.min(s.expiresAt ?? expiresAt, expiresAt) }));
    await ctx.db.patch("webhookEndpoints", endpoint._id, { secrets: [...kept, { secret, createdAt: now }] });
    return { ...presentWebhookEndpoint((await ctx.db.get("webhookEndpoints", endpoint._id))!), secret, previousSecretsExpireAt: expiresAt };
  },
});

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

export const listEvents = internalQuery({
  args: {
    ...vApiCaller,
    type: v.optional(v.string()),
    from: v.optional(v.number()),
    to: v.optional(v.number()),
    order: v.union(v.literal("asc"), v.literal("desc")),
    limit: v.number(),
    cursor: v.optional(v.string()),
  },
  handler: async (ctx, args) => {
    const { from, to, type, businessId } = args;
    if (from !== undefined && to !== undefined && to < from) throw appError("INVALID_ARGUMENT", "`to` is before `from`.", { param: "to" });
    const fingerprint = listFingerprint({ list: "events", type, from, to, order: args.order });
    const cursor = decodeCursor(args.cursor, fingerprint);
    const query =
      type === undefined
        ? ctx.db.query("events").withIndex("by_businessId_and_createdAt", (q) => {
            const base = q.eq("businessId", businessId);
            const lower = from === undefined ? base : base.gte("createdAt", from);
            return to === undefined ? lower : lower.lt("createdAt", to);
          })
        : ctx.db.query("events").withIndex("by_businessId_and_type_and_createdAt", (q) => {
            const base = q.eq("businessId", businessId).eq("type", type);
            const lower = from === undefined ? base : base.gte("createdAt", from);
            return to === undefined ? lower : lower.lt("createdAt", to);
          });
    return toListPage(await query.order(args.order).paginate({ numItems: args.limit, cursor }), presentEvent, fingerprint);
  },
});

export const getEvent = internalQuery({
  args: { ...vApiCaller, eventId: v.string() },
  handler: async (ctx, args) => presentEvent(await ownDoc(ctx, "events", args.businessId, args.eventId, "eventId")),
});

/** Sends an event again, to one endpoint or to every enabled endpoint whose filters match. */
export const replayEvent = internalMutation({
  args: { ...vApiCaller, eventId: v.string(), endpointId: v.optional(v.string()) },
  handler: async (ctx: MutationCtx, args) => {
    const event = await ownDoc(ctx, "events", args.businessId, args.eventId, "eventId");
    let targets: Doc<"webhookEndpoints">[];
    if (args.endpointId !== undefined) {
      const endpoint = await ownDoc(ctx, "webhookEndpoints", args.businessId, args.endpointId, "endpointId");
      if (endpoint.status !== "enabled") throw appError("CONFLICT", "The endpoint is disabled; enable it first.", { param: "endpointId" });
      targets = [endpoint];
    } else {
      targets = (await enabledEndpoints(ctx, event.businessId)).filter((e) => matchesEventType(e.eventTypes, event.type));
    }
    const now = Date.now();
    const deliveries = [];
    for (const endpoint of targets) deliveries.push({ id: await enqueueDelivery(ctx, event, endpoint, now), endpointId: endpoint._id });
    return { object: "event_replay" as const, eventId: event._id, deliveries };
  },
});
