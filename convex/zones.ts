/**
 * Service zones, the portal's door: where a business works, what it charges there (trip
 * charge, price multiplier, minimum) and which tax applies. An address resolves to a zone by
 * postal code first, then by boundary polygon.
 *
 * The rules live once in `model/zones.ts` (validation, resolution, reads) and
 * `model/zoneCommands.ts` (changes); these functions authenticate the person, call the
 * command and present its result, like the REST API's `api/internalZones.ts`.
 *
 * Zones are never hard-deleted (bookings and addresses point at them): `setActive(false)`
 * takes one out of service.
 */
import { v } from "convex/values";
import type { Id } from "./_generated/dataModel";
import { accessTo, getBusinessOrThrow, requireStaffOrAdmin, requireUser } from "./access";
import { appError } from "./errors";
import { mutation, query, type QueryCtx } from "./functions";
import { userActor } from "./model/actor";
import { createZone, setZoneFrequencyDiscounts, updateZone, zoneFields, zonePatchFields } from "./model/zoneCommands";
import { DEFAULT_FREQUENCY_DISCOUNTS } from "./model/bookingPricing";
import { postalCodesOf, resolveZoneFor, zonesOf } from "./model/zones";
import { invalid } from "./model/validation";
import { vFrequencyDiscount, vLatLng, vPolygon, vZonePricing } from "./schema";

function omitActive<T extends { active: unknown }>({ active: _active, ...rest }: T): Omit<T, "active"> {
  return rest;
}

export const create = mutation({
  args: { businessId: v.id("businesses"), ...zoneFields },
  returns: v.id("zones"),
  handler: async (ctx, { businessId, ...input }) => (await createZone(ctx, userActor(ctx), businessId, input)).zone._id,
});

/** Changes the given fields; `postalCodes` replaces the whole set. */
export const update = mutation({
  // Going in or out of service is `setActive` in the portal.
  args: { zoneId: v.id("zones"), ...omitActive(zonePatchFields) },
  returns: v.null(),
  handler: async (ctx, { zoneId, ...input }) => {
    await updateZone(ctx, userActor(ctx), zoneId, input);
    return null;
  },
});

/** The zone's frequency discounts for recurring plans (managers and the owner); `null` = the default table. */
export const setFrequencyDiscounts = mutation({
  args: { zoneId: v.id("zones"), frequencyDiscounts: v.union(v.array(vFrequencyDiscount), v.null()) },
  returns: v.null(),
  handler: async (ctx, { zoneId, frequencyDiscounts }) => {
    await setZoneFrequencyDiscounts(ctx, userActor(ctx), zoneId, frequencyDiscounts);
    return null;
  },
});

/** The table a zone without its own discounts uses (for the owner's editor). */
export const defaultFrequencyDiscounts = query({
  args: {},
  returns: v.array(vFrequencyDiscount),
  handler: async (ctx) => {
    requireUser(ctx);
    return DEFAULT_FREQUENCY_DISCOUNTS;
  },
});

/** Takes a zone out of service (or back in); zones are never hard-deleted. */
export const setActive = mutation({
  args: { zoneId: v.id("zones"), active: v.boolean() },
  returns: v.null(),
  handler: async (ctx, { zoneId, active }) => {
    await updateZone(ctx, userActor(ctx), zoneId, { active });
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

const vZone = v.object({
  _id: v.id("zones"),
  _creationTime: v.number(),
  businessId: v.id("businesses"),
  name: v.string(),
  active: v.boolean(),
  boundaries: v.array(vPolygon),
  pricing: vZonePricing,
  taxRateBp: v.number(),
  taxInclusive: v.boolean(),
  frequencyDiscounts: v.optional(v.array(vFrequencyDiscount)),
});

/** Every zone of the business, active or not (staff and platform admins). */
export const list = query({
  args: { businessId: v.id("businesses") },
  returns: v.array(vZone),
  handler: async (ctx, { businessId }) => {
    await requireStaffOrAdmin(ctx, businessId);
    return await zonesOf(ctx, businessId);
  },
});

/** One zone with its postal code entries (staff and platform admins). */
export const get = query({
  args: { zoneId: v.id("zones") },
  returns: v.object({ zone: vZone, postalCodes: v.array(v.string()) }),
  handler: async (ctx, { zoneId }) => {
    requireUser(ctx);
    const zone = await ctx.db.get("zones", zoneId);
    const access = zone === null ? null : await accessTo(ctx, zone.businessId);
    if (zone === null || access === null || access.role === "customer") {
      throw appError("NOT_FOUND", "Zone not found.", { param: "zoneId" });
    }
    return { zone, postalCodes: await postalCodesOf(ctx, zoneId) };
  },
});

/** The business must be ACTIVE for the public; its staff may also use a non-active one. */
async function publicBusiness(ctx: QueryCtx, businessId: Id<"businesses">) {
  const business = await getBusinessOrThrow(ctx, businessId);
  if (business.status !== "ACTIVE") {
    const access = await accessTo(ctx, businessId);
    if (access === null || access.role === "customer") throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
  }
  return business;
}

/** Names of the active zones, for the portal's "where we work" (public). */
export const listActive = query({
  args: { businessId: v.id("businesses") },
  returns: v.array(v.object({ zoneId: v.id("zones"), name: v.string() })),
  handler: async (ctx, { businessId }) => {
    await publicBusiness(ctx, businessId);
    const zones = await zonesOf(ctx, businessId);
    return zones.filter((z) => z.active).map((z) => ({ zoneId: z._id, name: z.name }));
  },
});

/** Which zone serves an address (public): postal code first, then location; null if none. */
export const resolve = query({
  args: {
    businessId: v.id("businesses"),
    postalCode: v.optional(v.string()),
    country: v.optional(v.string()),
    location: v.optional(vLatLng),
  },
  returns: v.union(v.object({ zoneId: v.id("zones"), name: v.string() }), v.null()),
  handler: async (ctx, args) => {
    await publicBusiness(ctx, args.businessId);
    if ((args.postalCode === undefined || args.postalCode.trim() === "") && args.location === undefined) {
      throw invalid("postalCode", "Give a postal code or a location.");
    }
    const zone = await resolveZoneFor(ctx, args.businessId, args);
    return zone === null ? null : { zoneId: zone._id, name: zone.name };
  },
});
