/**
 * Partner webhook endpoints and the event log for the REST API: authenticate the key →
 * actor → the endpoint command (`model/webhookEndpointCommands.ts`, shared with the portal's
 * `webhooks.ts`) → present.
 */
import { v } from "convex/values";
import { appError } from "../errors";
import { internalMutation, internalQuery } from "../functions";
import { apiKeyActor } from "../model/actor";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  endpointFields,
  endpointPatchFields,
  endpointsOf,
  replayEvent as replayEventCommand,
  rotateWebhookEndpointSecret,
  updateWebhookEndpoint,
} from "../model/webhookEndpointCommands";
import { decodeCursor, listFingerprint, paginateFrom, toListPage } from "./v1/pagination";
import { presentEvent, presentWebhookEndpoint } from "./v1/present";
import { ownDoc, vApiCaller } from "./tenant";

// ---------------------------------------------------------------------------------------
// Webhook endpoints
// ---------------------------------------------------------------------------------------

export const listEndpoints = internalQuery({
  args: { ...vApiCaller },
  handler: async (ctx, args) => {
    const rows = await endpointsOf(ctx, args.businessId);
    return { object: "list" as const, data: rows.map(presentWebhookEndpoint), has_more: false, next_cursor: null };
  },
});

export const getEndpoint = internalQuery({
  args: { ...vApiCaller, endpointId: v.string() },
  handler: async (ctx, args) => presentWebhookEndpoint(await ownDoc(ctx, "webhookEndpoints", args.businessId, args.endpointId, "endpointId")),
});

export const createEndpoint = internalMutation({
  args: { ...vApiCaller, ...endpointFields },
  handler: async (ctx, { businessId, apiKeyId, ...input }) => {
    const { endpoint, secret } = await createWebhookEndpoint(ctx, await apiKeyActor(ctx, { businessId, apiKeyId }), businessId, input);
    return { ...presentWebhookEndpoint(endpoint), secret };
  },
});

export const updateEndpoint = internalMutation({
  args: { ...vApiCaller, endpointId: v.string(), ...endpointPatchFields },
  handler: async (ctx, { businessId, apiKeyId, endpointId, ...input }) =>
    presentWebhookEndpoint(await updateWebhookEndpoint(ctx, await apiKeyActor(ctx, { businessId, apiKeyId }), endpointId, input)),
});

export const deleteEndpoint = internalMutation({
  args: { ...vApiCaller, endpointId: v.string() },
  handler: async (ctx, { businessId, apiKeyId, endpointId }) => {
    const endpoint = await deleteWebhookEndpoint(ctx, await apiKeyActor(ctx, { businessId, apiKeyId }), endpointId);
    return { id: endpoint._id, object: "webhook_endpoint", deleted: true as const };
  },
});

/** A new signing secret (returned once); the previous ones stay valid for 24 h. */
export const rotateEndpointSecret = internalMutation({
  args: { ...vApiCaller, endpointId: v.string() },
  handler: async (ctx, { businessId, apiKeyId, endpointId }) => {
    const rotated = await rotateWebhookEndpointSecret(ctx, await apiKeyActor(ctx, { businessId, apiKeyId }), endpointId);
    return { ...presentWebhookEndpoint(rotated.endpoint), secret: rotated.secret, previousSecretsExpireAt: rotated.previousSecretsExpireAt };
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
    return toListPage(await paginateFrom(query.order(args.order), args.limit, cursor), presentEvent, fingerprint);
  },
});

export const getEvent = internalQuery({
  args: { ...vApiCaller, eventId: v.string() },
  handler: async (ctx, args) => presentEvent(await ownDoc(ctx, "events", args.businessId, args.eventId, "eventId")),
});

/** Sends an event again, to one endpoint or to every enabled endpoint whose filters match. */
export const replayEvent = internalMutation({
  args: { ...vApiCaller, eventId: v.string(), endpointId: v.optional(v.string()) },
  handler: async (ctx, { businessId, apiKeyId, eventId, endpointId }) => {
    const { event, deliveries } = await replayEventCommand(ctx, await apiKeyActor(ctx, { businessId, apiKeyId }), eventId, endpointId);
    return { object: "event_replay" as const, eventId: event._id, deliveries };
  },
});
