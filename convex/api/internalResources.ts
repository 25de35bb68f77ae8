/**
 * Bookable resources for the REST API, scoped to the API key's business: the REST adapters
 * of the resource commands in `model/resourceCommands.ts` (the API key is the actor; its
 * scope was checked by the router). Linking a resource to a staff member (a person) stays
 * in the portal.
 */
import { v } from "convex/values";
import { internalMutation, internalQuery } from "../functions";
import { apiKeyActor } from "../model/actor";
import { createResource, updateResource, vMoveAffected, vResourceFields, vResourcePatchFields } from "../model/resourceCommands";
import { vResourceKind } from "../schema";
import { decodeCursor, listFingerprint, paginateFrom, toListPage } from "./v1/pagination";
import { presentResource } from "./v1/present";
import { ownDoc, vApiCaller } from "./tenant";

export const list = internalQuery({
  args: { ...vApiCaller, active: v.optional(v.boolean()), kind: v.optional(vResourceKind), limit: v.number(), cursor: v.optional(v.string()) },
  handler: async (ctx, args) => {
    const fingerprint = listFingerprint({ list: "resources", active: args.active, kind: args.kind });
    const { active, kind } = args;
    const query = ctx.db
      .query("resources")
      .withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
      // eslint-disable-next-line @convex-dev/no-filter-in-query -- narrows an index range of this business during pagination
      .filter((q) =>
        q.and(
          active === undefined ? true : q.eq(q.field("active"), active),
          kind === undefined ? true : q.eq(q.field("kind"), kind),
        ),
      );
    const result = await paginateFrom(query, args.limit, decodeCursor(args.cursor, fingerprint));
    return toListPage(result, presentResource, fingerprint);
  },
});

export const get = internalQuery({
  args: { ...vApiCaller, resourceId: v.string() },
  handler: async (ctx, args) => presentResource(await ownDoc(ctx, "resources", args.businessId, args.resourceId, "resourceId")),
});

export const create = internalMutation({
  args: { ...vApiCaller, ...vResourceFields, zoneIds: v.array(v.string()), productIds: v.array(v.string()) },
  handler: async (ctx, args) => {
    const { businessId, apiKeyId, ...settings } = args;
    return presentResource(await createResource(ctx, await apiKeyActor(ctx, { businessId, apiKeyId }), businessId, settings));
  },
});

export const update = internalMutation({
  args: {
    ...vApiCaller,
    resourceId: v.string(),
    ...vResourcePatchFields,
    zoneIds: v.optional(v.array(v.string())),
    productIds: v.optional(v.array(v.string())),
    moveAffected: v.optional(vMoveAffected),
  },
  handler: async (ctx, args) => {
    const { businessId, apiKeyId, resourceId, moveAffected, ...patch } = args;
    const actor = await apiKeyActor(ctx, { businessId, apiKeyId });
    const { resource } = await updateResource(ctx, actor, resourceId, patch, moveAffected ? { moveAffected } : undefined, Date.now());
    return presentResource(resource);
  },
});
