/**
 * Zones for the REST API: authenticate the key → actor → the zone command or read helper →
 * present. The rules are `model/zones.ts` and `model/zoneCommands.ts`, shared with the
 * portal's `zones.ts`.
 */
import { v } from "convex/values";
import { internalMutation, internalQuery } from "../functions";
import { apiKeyActor } from "../model/actor";
import { createZone, updateZone, zoneFields, zonePatchFields, type ZoneWithCodes } from "../model/zoneCommands";
import { postalCodesOf, resolveZoneFor } from "../model/zones";
import { invalid } from "../model/validation";
import { vLatLng } from "../schema";
import { decodeCursor, listFingerprint, paginateFrom, toListPage } from "./v1/pagination";
import { presentZone } from "./v1/present";
import { ownDoc, vApiCaller } from "./tenant";

const present = ({ zone, postalCodes }: ZoneWithCodes) => presentZone(zone, postalCodes);

export const list = internalQuery({
  args: { ...vApiCaller, active: v.optional(v.boolean()), limit: v.number(), cursor: v.optional(v.string()) },
  handler: async (ctx, args) => {
    const fingerprint = listFingerprint({ list: "zones", active: args.active });
    const base = ctx.db.query("zones").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId));
    const active = args.active;
    // eslint-disable-next-line @convex-dev/no-filter-in-query -- narrows an index range of this business during pagination
    const query = active === undefined ? base : base.filter((q) => q.eq(q.field("active"), active));
    const result = await paginateFrom(query, args.limit, decodeCursor(args.cursor, fingerprint));
    return toListPage(result, (z) => presentZone(z), fingerprint);
  },
});

export const get = internalQuery({
  args: { ...vApiCaller, zoneId: v.string() },
  handler: async (ctx, args) => {
    const zone = await ownDoc(ctx, "zones", args.businessId, args.zoneId, "zoneId");
    return presentZone(zone, await postalCodesOf(ctx, zone._id));
  },
});

/** Which active zone serves a postal code or a location (null when none). */
export const resolve = internalQuery({
  args: { ...vApiCaller, postalCode: v.optional(v.string()), country: v.optional(v.string()), location: v.optional(vLatLng) },
  handler: async (ctx, { businessId, postalCode, country, location }) => {
    if ((postalCode === undefined || postalCode.trim() === "") && location === undefined) {
      throw invalid("postalCode", "Give a postal code, or lat and lng.");
    }
    const zone = await resolveZoneFor(ctx, businessId, { postalCode, country, location });
    return { object: "zone_resolution" as const, zone: zone === null ? null : presentZone(zone) };
  },
});

export const create = internalMutation({
  args: { ...vApiCaller, ...zoneFields },
  handler: async (ctx, { businessId, apiKeyId, ...input }) =>
    present(await createZone(ctx, await apiKeyActor(ctx, { businessId, apiKeyId }), businessId, input)),
});

export const update = internalMutation({
  args: { ...vApiCaller, zoneId: v.string(), ...zonePatchFields },
  handler: async (ctx, { businessId, apiKeyId, zoneId, ...input }) =>
    present(await updateZone(ctx, await apiKeyActor(ctx, { businessId, apiKeyId }), zoneId, input)),
});
