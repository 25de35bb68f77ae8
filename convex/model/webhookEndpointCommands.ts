/**
 * Partner webhook endpoint commands: register, change, delete, rotate the signing secret,
 * and replay an event. One body each for the portal's `webhooks.ts` and the REST API's
 * `api/internalEvents.ts`. People need the owner role (managers may replay); API keys need
 * `webhooks:write` (`events:write` to replay). The delivery machinery (fan-out, attempts,
 * retries) is `webhookFanout.ts`, `webhookQueue.ts` and `../webhookDelivery.ts`.
 *
 * Plain module: no registered functions.
 */
import { v, type ObjectType } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../errors";
import { authorize, loadAuthorized, loadInBusiness, type CommandActor, type Permission } from "./actor";
import { enabledEndpoints, enqueueDelivery } from "./webhookFanout";
import { SECRET_ROTATION_GRACE_MS, checkEndpointUrl, checkEventTypeFilters, liveSecrets, matchesEventType } from "./webhookPolicy";
import { generateWebhookSecret } from "./webhookSigning";

export const MAX_ENDPOINTS = 20;
const MAX_DESCRIPTION = 500;

/** An endpoint's fields as both doors take them. */
export const endpointFields = {
  url: v.string(),
  description: v.optional(v.string()),
  /** Empty = every event type; "payment.*" = a family; exact types otherwise. */
  eventTypes: v.array(v.string()),
};
export const endpointPatchFields = {
  url: v.optional(v.string()),
  description: v.optional(v.string()),
  eventTypes: v.optional(v.array(v.string())),
  /** Re-enabling clears the failure state; disabling stops deliveries. */
  status: v.optional(v.union(v.literal("enabled"), v.literal("disabled"))),
};

const MANAGE_ENDPOINTS: Permission = { role: "owner", scope: { resource: "webhooks", access: "write" } };
const REPLAY_EVENTS: Permission = { role: "manager", scope: { resource: "events", access: "write" } };

function validatedUrl(url: string): string {
  const check = checkEndpointUrl(url);
  if (!check.ok) throw appError("INVALID_ARGUMENT", check.message, { param: "url" });
  return check.url;
}

function validatedFilters(eventTypes: string[]): string[] {
  const check = checkEventTypeFilters(eventTypes);
  if (!check.ok) throw appError("INVALID_ARGUMENT", check.message, { param: "eventTypes" });
  return check.filters;
}

function validatedDescription(description: string | undefined): string | undefined {
  if (description !== undefined && description.length > MAX_DESCRIPTION) {
    throw appError("INVALID_ARGUMENT", `The description is limited to ${MAX_DESCRIPTION} characters.`, { param: "description" });
  }
  return description;
}

/** Shown on a disabled endpoint: who switched it off. */
function disabledBy(actor: CommandActor): string {
  switch (actor.kind) {
    case "user":
      return "Disabled by the owner";
    case "api_key":
      return "Disabled through the API";
    case "system":
      return "Disabled by the platform";
  }
}

/** The business's endpoints (at most 20 are ever registered). */
export async function endpointsOf(ctx: Pick<QueryCtx, "db">, businessId: Id<"businesses">) {
  return await ctx.db
    .query("webhookEndpoints")
    .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
    .take(MAX_ENDPOINTS * 3);
}

/** Registers an endpoint. The signing secret is returned once, here, and never again. */
export async function createWebhookEndpoint(
  ctx: MutationCtx,
  actor: CommandActor,
  businessId: Id<"businesses">,
  input: ObjectType<typeof endpointFields>,
): Promise<{ endpoint: Doc<"webhookEndpoints">; secret: string }> {
  await authorize(ctx, actor, businessId, MANAGE_ENDPOINTS);
  const url = validatedUrl(input.url);
  const eventTypes = validatedFilters(input.eventTypes);
  const description = validatedDescription(input.description);
  if ((await endpointsOf(ctx, businessId)).length >= MAX_ENDPOINTS) {
    throw appError("POLICY_VIOLATION", `At most ${MAX_ENDPOINTS} webhook endpoints per business.`);
  }
  const now = Date.now();
  const secret = generateWebhookSecret();
  const endpointId = await ctx.db.insert("webhookEndpoints", {
    businessId,
    url,
    ...(description !== undefined ? { description } : {}),
    eventTypes,
    secrets: [{ secret, createdAt: now }],
    status: "enabled",
    createdAt: now,
  });
  return { endpoint: (await ctx.db.get("webhookEndpoints", endpointId))!, secret };
}

/** Re-enabling clears the failure state; disabling stops deliveries. */
export async function updateWebhookEndpoint(
  ctx: MutationCtx,
  actor: CommandActor,
  endpointId: string,
  input: ObjectType<typeof endpointPatchFields>,
) {
  const { doc: endpoint } = await loadAuthorized(ctx, actor, "webhookEndpoints", endpointId, "endpointId", MANAGE_ENDPOINTS);
  const patch: Partial<Doc<"webhookEndpoints">> = {};
  if (input.url !== undefined) patch.url = validatedUrl(input.url);
  if (input.description !== undefined) patch.description = validatedDescription(input.description);
  if (input.eventTypes !== undefined) patch.eventTypes = validatedFilters(input.eventTypes);
  if (input.status === "enabled" && endpoint.status !== "enabled") {
    Object.assign(patch, { status: "enabled", disabledReason: undefined, failingSince: undefined });
  } else if (input.status === "disabled" && endpoint.status !== "disabled") {
    Object.assign(patch, { status: "disabled", disabledReason: disabledBy(actor) });
  }
  await ctx.db.patch("webhookEndpoints", endpoint._id, patch);
  return (await ctx.db.get("webhookEndpoints", endpoint._id))!;
}

/** Deliveries and attempts stay as the log; pending ones are abandoned by the worker. */
export async function deleteWebhookEndpoint(ctx: MutationCtx, actor: CommandActor, endpointId: string) {
  const { doc: endpoint } = await loadAuthorized(ctx, actor, "webhookEndpoints", endpointId, "endpointId", MANAGE_ENDPOINTS);
  await ctx.db.delete("webhookEndpoints", endpoint._id);
  return endpoint;
}

/**
 * A new secret, returned once. The previous secrets stay valid for 24 h, during which every
 * delivery carries one signature per valid secret.
 */
export async function rotateWebhookEndpointSecret(ctx: MutationCtx, actor: CommandActor, endpointId: string) {
  const { doc: endpoint } = await loadAuthorized(ctx, actor, "webhookEndpoints", endpointId, "endpointId", MANAGE_ENDPOINTS);
  const now = Date.now();
  const previousSecretsExpireAt = now + SECRET_ROTATION_GRACE_MS;
  const secret = generateWebhookSecret();
  const kept = liveSecrets(endpoint.secrets, now).map((s) => ({ ...s, expiresAt: Math.min(s.expiresAt ?? previousSecretsExpireAt, previousSecretsExpireAt) }));
  await ctx.db.patch("webhookEndpoints", endpoint._id, { secrets: [...kept, { secret, createdAt: now }] });
  return { endpoint: (await ctx.db.get("webhookEndpoints", endpoint._id))!, secret, previousSecretsExpireAt };
}

/**
 * Sends an event again: to one endpoint, or to every enabled endpoint whose filters match.
 * Each replay is a new delivery (with its own attempts) carrying the same `webhook-id`, so
 * receivers that de-duplicate still can.
 */
export async function replayEvent(ctx: MutationCtx, actor: CommandActor, eventId: string, endpointId?: string) {
  const { doc: event } = await loadAuthorized(ctx, actor, "events", eventId, "eventId", REPLAY_EVENTS);
  let targets: Doc<"webhookEndpoints">[];
  if (endpointId !== undefined) {
    const endpoint = await loadInBusiness(ctx, "webhookEndpoints", event.businessId, endpointId, "endpointId");
    if (endpoint.status !== "enabled") throw appError("CONFLICT", "The endpoint is disabled; enable it first.", { param: "endpointId" });
    targets = [endpoint];
  } else {
    targets = (await enabledEndpoints(ctx, event.businessId)).filter((e) => matchesEventType(e.eventTypes, event.type));
  }
  const now = Date.now();
  const deliveries: { id: Id<"webhookDeliveries">; endpointId: Id<"webhookEndpoints"> }[] = [];
  for (const endpoint of targets) deliveries.push({ id: await enqueueDelivery(ctx, event, endpoint, now), endpointId: endpoint._id });
  return { event, deliveries };
}
