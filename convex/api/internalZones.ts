/**
 * Zones for the REST API, scoped to the API key's business. Validation and resolution are
 * zones.ts's exported functions (`normalizeZoneEntries`, `validateBoundaries`,
 * `validatePricing`, `resolveZoneFor`); the postal-code replacement and the event are
 * private there and restated here (refactor wanted: `model/zones.ts` with
 * `createZone(ctx, businessId, input)` / `updateZone(ctx, zone, patch)`).
 */
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../errors";
import { internalMutation, internalQuery } from "../functions";
import { emitEvent } from "../model/events";
import { invalid, requireInt, requireText } from "../model/validation";
import { vLatLng, vPolygon, vZonePricing } from "../schema";
import { MAX_POSTAL_CODES_PER_ZONE, MAX_ZONES_PER_BUSINESS, normalizeZoneEntries, resolveZoneFor, validateBoundaries, validatePricing } from "../zones";
import { decodeCursor, listFingerprint, toListPage } from "./v1/pagination";
import { presentZone } from "./v1/present";
import { ownDoc, vApiCaller } from "./tenant";

async function postalCodesOf(ctx: Pick<QueryCtx, "db">, zoneId: Id<"zones">) {
  const rows = await ctx.db
    .query("zonePostalCodes")
    .withIndex("by_zoneId", (q) => q.eq("zoneId", zoneId))
    .take(MAX_POSTAL_CODES_PER_ZONE);
  return rows.map((r) => r.postalCode).sort();
}

async function replacePostalCodes(ctx: MutationCtx, zone: { _id: Id<"zones">; businessId: Id<"businesses"> }, entries: string[]) {
  for (const [i, postalCode] of entries.entries()) {
    const taken = await ctx.db
      .query("zonePostalCodes")
      .withIndex("by_businessId_and_postalCode", (q) => q.eq("businessId", zone.businessId).eq("postalCode", postalCode))
      .take(10);
    const other = taken.find((row) => row.zoneId !== zone._id);
    if (other !== undefined) {
      const otherZone = await ctx.db.get("zones", other.zoneId);
      throw appError("CONFLICT", `${postalCode} already belongs to the zone "${otherZone?.name ?? "?"}".`, { param: `postalCodes[${i}]` });
    }
  }
  const existing = await ctx.db
    .query("zonePostalCodes")
    .withIndex("by_zoneId", (q) => q.eq("zoneId", zone._id))
    .take(MAX_POSTAL_CODES_PER_ZONE + 1);
  const wanted = new Set(entries);
  const kept = new Set<string>();
  for (const row of existing) {
    if (wanted.has(row.postalCode) && !kept.has(row.postalCode)) kept.add(row.postalCode);
    else await ctx.db.delete("zonePostalCodes", row._id);
  }
  for (const postalCode of entries) {
    if (!kept.has(postalCode)) await ctx.db.insert("zonePostalCodes", { businessId: zone.businessId, zoneId: zone._id, postalCode });
  }
}

async function zoneEvent(ctx: MutationCtx, zone: Doc<"zones">, type: string) {
  await emitEvent(ctx, {
    businessId: zone.businessId,
    type,
    entity: { table: "zones", id: zone._id },
    data: { zoneId: zone._id, name: zone.name, active: zone.active },
    rooms: [],
  });
}

export const list = internalQuery({
  args: { ...vApiCaller, active: v.optional(v.boolean()), limit: v.number(), cursor: v.optional(v.string()) },
  handler: async (ctx, args) => {
    const fingerprint = listFingerprint({ list: "zones", active: args.active });
    const base = ctx.db.query("zones").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId));
    const active = args.active;
    // eslint-disable-next-line @convex-dev/no-filter-in-query -- narrows an index range of this business during pagination
    const query = active === undefined ? base : base.filter((q) => q.eq(q.field("active"), active));
    const result = await query.paginate({ numItems: args.limit, cursor: decodeCursor(args.cursor, fingerprint) });
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
  handler: async (ctx, args) => {
    if ((args.postalCode === undefined || args.postalCode.trim() === "") && args.location === undefined) {
      throw invalid("postalCode", "Give a postal code, or lat and lng.");
    }
    const zone = await resolveZoneFor(ctx, args.businessId, {
      postalCode: args.postalCode,
      country: args.country,
      location: args.location,
    });
    return { object: "zone_resolution" as const, zone: zone === null ? null : presentZone(zone) };
  },
});

export const create = internalMutation({
  args: {
    ...vApiCaller,
    name: v.string(),
    postalCodes: v.array(v.string()),
    boundaries: v.array(vPolygon),
    pricing: vZonePricing,
    taxRateBp: v.number(),
    taxInclusive: v.boolean(),
  },
  handler: async (ctx, args) => {
    const name = requireText(args.name, "name", 120);
    const postalCodes = normalizeZoneEntries(args.postalCodes);
    const boundaries = validateBoundaries(args.boundaries);
    if (postalCodes.length === 0 && boundaries.length === 0) throw invalid("postalCodes", "A zone needs postal codes or a boundary polygon.");
    const pricing = validatePricing(args.pricing);
    const taxRateBp = requireInt(args.taxRateBp, "taxRateBp", 0, 10_000);
    const count = (await ctx.db.query("zones").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId)).take(MAX_ZONES_PER_BUSINESS)).length;
    if (count >= MAX_ZONES_PER_BUSINESS) throw appError("CONFLICT", `A business has at most ${MAX_ZONES_PER_BUSINESS} zones.`);
    const zoneId = await ctx.db.insert("zones", {
      businessId: args.businessId,
      name,
      active: true,
      boundaries,
      pricing,
      taxRateBp,
      taxInclusive: args.taxInclusive,
    });
    await replacePostalCodes(ctx, { _id: zoneId, businessId: args.businessId }, postalCodes);
    const zone = (await ctx.db.get("zones", zoneId))!;
    await zoneEvent(ctx, zone, "zone.created");
    return presentZone(zone, await postalCodesOf(ctx, zoneId));
  },
});

export const update = internalMutation({
  args: {
    ...vApiCaller,
    zoneId: v.string(),
    name: v.optional(v.string()),
    postalCodes: v.optional(v.array(v.string())),
    boundaries: v.optional(v.array(vPolygon)),
    pricing: v.optional(vZonePricing),
    taxRateBp: v.optional(v.number()),
    taxInclusive: v.optional(v.boolean()),
    active: v.optional(v.boolean()),
  },
  handler: async (ctx, args) => {
    const zone = await ownDoc(ctx, "zones", args.businessId, args.zoneId, "zoneId");
    const patch: Partial<Doc<"zones">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.boundaries !== undefined) patch.boundaries = validateBoundaries(args.boundaries);
    if (args.pricing !== undefined) patch.pricing = validatePricing(args.pricing);
    if (args.taxRateBp !== undefined) patch.taxRateBp = requireInt(args.taxRateBp, "taxRateBp", 0, 10_000);
    if (args.taxInclusive !== undefined) patch.taxInclusive = args.taxInclusive;
    if (args.active !== undefined) patch.active = args.active;
    const postalCodes = args.postalCodes === undefined ? undefined : normalizeZoneEntries(args.postalCodes);
    const boundaries = patch.boundaries ?? zone.boundaries;
    const codesAfter = postalCodes ?? (await postalCodesOf(ctx, zone._id));
    if (codesAfter.length === 0 && boundaries.length === 0) throw invalid("postalCodes", "A zone needs postal codes or a boundary polygon.");
    if (postalCodes !== undefined) await replacePostalCodes(ctx, zone, postalCodes);
    await ctx.db.patch("zones", zone._id, patch);
    const updated = (await ctx.db.get("zones", zone._id))!;
    const type =
      args.active !== undefined && args.active !== zone.active && Object.keys(patch).length === 1
        ? args.active
          ? "zone.activated"
          : "zone.deactivated"
        : "zone.updated";
    await zoneEvent(ctx, updated, type);
    return presentZone(updated, await postalCodesOf(ctx, zone._id));
  },
});
