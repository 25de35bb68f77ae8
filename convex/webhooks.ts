/**
 * Partner webhooks, the owner's side: endpoints registered by a business's owner, the
 * delivery log (deliveries and their attempts) and replay.
 *
 * Deliveries themselves (fan-out, the signed Standard Webhooks POST, retries with backoff,
 * disabling an endpoint that has failed for days, the cron sweep) run on the
 * `webhookWorkpool` component: see webhookDelivery.ts and model/webhookQueue.ts.
 */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { doc } from "convex-helpers/validators";
import type { Doc, Id } from "./_generated/dataModel";
import { requireBusinessRole } from "./access";
import { appError } from "./errors";
import { mutation, query } from "./functions";
import { userActor } from "./model/actor";
import {
  createWebhookEndpoint,
  deleteWebhookEndpoint,
  endpointFields,
  endpointPatchFields,
  endpointsOf,
  replayEvent,
  rotateWebhookEndpointSecret,
  updateWebhookEndpoint,
} from "./model/webhookEndpointCommands";
import { secretHint } from "./model/webhookSigning";
import schema from "./schema";

const vDelivery = doc(schema, "webhookDeliveries");
const vAttempt = doc(schema, "webhookAttempts");

const vEndpointView = v.object({
  endpointId: v.id("webhookEndpoints"),
  url: v.string(),
  description: v.union(v.string(), v.null()),
  eventTypes: v.array(v.string()),
  status: v.union(v.literal("enabled"), v.literal("disabled")),
  disabledReason: v.union(v.string(), v.null()),
  failingSince: v.union(v.number(), v.null()),
  secrets: v.array(v.object({ hint: v.string(), createdAt: v.number(), expiresAt: v.union(v.number(), v.null()) })),
  createdAt: v.number(),
});

function endpointView(e: Doc<"webhookEndpoints">) {
  return {
    endpointId: e._id,
    url: e.url,
    description: e.description ?? null,
    eventTypes: e.eventTypes,
    status: e.status,
    disabledReason: e.disabledReason ?? null,
    failingSince: e.failingSince ?? null,
    secrets: e.secrets.map((s) => ({ hint: secretHint(s.secret), createdAt: s.createdAt, expiresAt: s.expiresAt ?? null })),
    createdAt: e.createdAt,
  };
}

type Ctx = Parameters<typeof requireBusinessRole>[0];

async function endpointForOwner(ctx: Ctx, endpointId: Id<"webhookEndpoints">, minimum: "owner" | "manager" = "owner") {
  const endpoint = await ctx.db.get("webhookEndpoints", endpointId);
  if (endpoint === null) throw appError("NOT_FOUND", "Webhook endpoint not found.", { param: "endpointId" });
  try {
    await requireBusinessRole(ctx, endpoint.businessId, minimum);
  } catch (error) {
    // Outsiders learn nothing about foreign endpoint ids.
    if (error instanceof Error && "data" in error && (error as { data: { code?: string } }).data?.code === "NOT_FOUND") {
      throw appError("NOT_FOUND", "Webhook endpoint not found.", { param: "endpointId" });
    }
    throw error;
  }
  return endpoint;
}

// ---------------------------------------------------------------------------------------
// Endpoints (owner)
// ---------------------------------------------------------------------------------------

/** Registers an endpoint. The signing secret is returned once, here, and never again. */
export const createEndpoint = mutation({
  args: { businessId: v.id("businesses"), ...endpointFields },
  returns: v.object({ endpointId: v.id("webhookEndpoints"), secret: v.string() }),
  handler: async (ctx, { businessId, ...input }) => {
    const { endpoint, secret } = await createWebhookEndpoint(ctx, userActor(ctx), businessId, input);
    return { endpointId: endpoint._id, secret };
  },
});

export const updateEndpoint = mutation({
  args: { endpointId: v.id("webhookEndpoints"), ...endpointPatchFields },
  returns: vEndpointView,
  handler: async (ctx, { endpointId, ...input }) => endpointView(await updateWebhookEndpoint(ctx, userActor(ctx), endpointId, input)),
});

export const deleteEndpoint = mutation({
  args: { endpointId: v.id("webhookEndpoints") },
  returns: v.null(),
  handler: async (ctx, { endpointId }) => {
    await deleteWebhookEndpoint(ctx, userActor(ctx), endpointId);
    return null;
  },
});

/**
 * A new secret, returned once. The previous secrets stay valid for 24 h, during which every
 * delivery carries one signature per valid secret.
 */
export const rotateSecret = mutation({
  args: { endpointId: v.id("webhookEndpoints") },
  returns: v.object({ secret: v.string(), previousSecretsExpireAt: v.number() }),
  handler: async (ctx, { endpointId }) => {
    const { secret, previousSecretsExpireAt } = await rotateWebhookEndpointSecret(ctx, userActor(ctx), endpointId);
    return { secret, previousSecretsExpireAt };
  },
});

export const listEndpoints = query({
  args: { businessId: v.id("businesses") },
  returns: v.array(vEndpointView),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "manager");
    return (await endpointsOf(ctx, args.businessId)).map(endpointView);
  },
});

// ---------------------------------------------------------------------------------------
// Delivery log (portal)
// ---------------------------------------------------------------------------------------

export const listDeliveries = query({
  args: { endpointId: v.id("webhookEndpoints"), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(
    v.object({ delivery: vDelivery, eventType: v.union(v.string(), v.null()) }),
  ),
  handler: async (ctx, args) => {
    await endpointForOwner(ctx, args.endpointId, "manager");
    const page = await ctx.db
      .query("webhookDeliveries")
      .withIndex("by_endpointId_and_createdAt", (q) => q.eq("endpointId", args.endpointId))
      .order("desc")
      .paginate(args.paginationOpts);
    const rows = await Promise.all(
      page.page.map(async (delivery) => ({ delivery, eventType: (await ctx.db.get("events", delivery.eventId))?.type ?? null })),
    );
    return { ...page, page: rows };
  },
});

export const listAttempts = query({
  args: { deliveryId: v.id("webhookDeliveries") },
  returns: v.array(vAttempt),
  handler: async (ctx, args) => {
    const delivery = await ctx.db.get("webhookDeliveries", args.deliveryId);
    if (delivery === null) throw appError("NOT_FOUND", "Delivery not found.", { param: "deliveryId" });
    await requireBusinessRole(ctx, delivery.businessId, "manager");
    return await ctx.db
      .query("webhookAttempts")
      .withIndex("by_deliveryId", (q) => q.eq("deliveryId", args.deliveryId))
      .take(100);
  },
});

/** Sends an event again (a new delivery with the same `webhook-id`): see `replayEvent`. */
export const replay = mutation({
  args: { eventId: v.id("events"), endpointId: v.optional(v.id("webhookEndpoints")) },
  returns: v.array(v.id("webhookDeliveries")),
  handler: async (ctx, { eventId, endpointId }) => (await replayEvent(ctx, userActor(ctx), eventId, endpointId)).deliveries.map((d) => d.id),
});
