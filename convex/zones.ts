/**
 * Service zones: where a business works, what it charges there (trip charge, price
 * multiplier, minimum) and which tax applies. An address resolves to a zone by postal code
 * first, then by boundary polygon.
 *
 * Postal codes are stored one row per (zone, normalised entry) in `zonePostalCodes`, so
 * resolving reads a handful of index entries. An entry is a full code ("10001",
 * "SW1A 1AA"), an area code ("SW1A", "K1A": matches every code in it), or a prefix ending in
 * "*" ("100*"). Normalisation is the domain module's (`domain/zones.ts`). A code may belong
 * to one zone of a business only, so resolution is never ambiguous.
 *
 * Zones are never hard-deleted (bookings and addresses point at them): `setActive(false)`
 * takes one out of service.
 */
import { v } from "convex/values";
import { isDomainError, normalizePostalCode, pointInPolygon, postalArea } from "../domain";
import type { Doc, Id } from "./_generated/dataModel";
import { accessTo, getBusinessOrThrow, requireBusinessRole, requireDocRole, requireStaffOrAdmin, requireUser } from "./access";
import { appError } from "./errors";
import type { QueryCtx as RawQueryCtx } from "./_generated/server";
import { mutation, query, type MutationCtx, type QueryCtx } from "./functions";
import { emitEvent } from "./model/events";
import { invalid, requireInt, requireText } from "./model/validation";
import { vLatLng, vPolygon, vZonePricing } from "./schema";

export const MAX_POSTAL_CODES_PER_ZONE = 2_000;
export const MAX_ZONES_PER_BUSINESS = 200;
const MAX_POLYGONS = 50;
const MAX_POINTS = 2_000;

type Polygon = Doc<"zones">["boundaries"][number];
type LatLng = { lat: number; lng: number };

// ---------------------------------------------------------------------------------------
// Pure validation
// ---------------------------------------------------------------------------------------

/** Normalises one zone entry (full code, area code or "PREFIX*"). */
export function normalizeZoneEntry(entry: string, param: string): string {
  const trimmed = entry.trim().toUpperCase();
  if (trimmed.endsWith("*")) {
    const prefix = trimmed.slice(0, -1).replace(/[\s-]/g, "");
    if (!/^[A-Z0-9]{1,9}$/.test(prefix)) throw invalid(param, `${param}: a prefix entry is 1-9 letters or digits followed by "*".`);
    return `${prefix}*`;
  }
  try {
    const normalized = normalizePostalCode(trimmed);
    if (!/^[A-Z0-9 ]{2,10}$/.test(normalized)) throw invalid(param, `${param}: "${entry}" is not a postal code.`);
    return normalized;
  } catch (error) {
    if (isDomainError(error)) throw invalid(param, `${param}: ${error.message}`);
    throw error;
  }
}

export function normalizeZoneEntries(entries: readonly string[], param = "postalCodes"): string[] {
  if (entries.length > MAX_POSTAL_CODES_PER_ZONE) {
    throw invalid(param, `A zone lists at most ${MAX_POSTAL_CODES_PER_ZONE} postal codes.`);
  }
  return [...new Set(entries.map((entry, i) => normalizeZoneEntry(entry, `${param}[${i}]`)))];
}

/**
 * The stored entries that would cover an address's postal code, most specific first:
 * the full code, its area (UK outward code, Canadian FSA), then prefixes ("1000*", "100*"…).
 */
export function postalCandidates(postalCode: string, country?: string, param = "postalCode"): string[] {
  let normalized: string;
  try {
    normalized = normalizePostalCode(postalCode, country);
  } catch (error) {
    if (isDomainError(error)) throw invalid(param, error.message);
    throw error;
  }
  const candidates = [normalized];
  const area = postalArea(normalized);
  if (area !== normalized) candidates.push(area);
  const compact = normalized.replace(/\s/g, "");
  for (let length = Math.min(compact.length, 9); length >= 1; length--) candidates.push(`${compact.slice(0, length)}*`);
  return candidates;
}

function validPoint(point: LatLng, param: string): LatLng {
  if (!Number.isFinite(point.lat) || point.lat < -90 || point.lat > 90) throw invalid(`${param}.lat`, "lat must be between -90 and 90.");
  if (!Number.isFinite(point.lng) || point.lng < -180 || point.lng > 180) throw invalid(`${param}.lng`, "lng must be between -180 and 180.");
  return point;
}

function validRing(ring: LatLng[], param: string): LatLng[] {
  const points = ring.map((p, i) => validPoint(p, `${param}[${i}]`));
  // A closing point equal to the first is allowed and dropped.
  const last = points[points.length - 1];
  if (points.length > 1 && last.lat === points[0].lat && last.lng === points[0].lng) points.pop();
  const distinct = new Set(points.map((p) => `${p.lat},${p.lng}`));
  if (distinct.size < 3) throw invalid(param, `${param} needs at least 3 distinct points.`);
  if (points.length > MAX_POINTS) throw invalid(param, `${param} has more than ${MAX_POINTS} points.`);
  // Twice the signed area; zero means all points are on one line.
  let area2 = 0;
  for (let i = 0; i < points.length; i++) {
    const a = points[i];
    const b = points[(i + 1) % points.length];
    area2 += a.lng * b.lat - b.lng * a.lat;
  }
  if (area2 === 0) throw invalid(param, `${param} encloses no area.`);
  return points;
}

export function validateBoundaries(boundaries: Polygon[], param = "boundaries"): Polygon[] {
  if (boundaries.length > MAX_POLYGONS) throw invalid(param, `At most ${MAX_POLYGONS} polygons per zone.`);
  return boundaries.map((polygon, i) => ({
    outer: validRing(polygon.outer, `${param}[${i}].outer`),
    ...(polygon.holes ? { holes: polygon.holes.map((hole, h) => validRing(hole, `${param}[${i}].holes[${h}]`)) } : {}),
  }));
}

export function validatePricing(pricing: Doc<"zones">["pricing"], param = "pricing") {
  requireInt(pricing.tripChargeMinor, `${param}.tripChargeMinor`, 0, 100_000_000);
  requireInt(pricing.priceMultiplierBp, `${param}.priceMultiplierBp`, 1, 100_000);
  requireInt(pricing.minimumMinor, `${param}.minimumMinor`, 0, 100_000_000);
  return pricing;
}

// ---------------------------------------------------------------------------------------
// Resolution (used by customers.ts and the booking functions)
// ---------------------------------------------------------------------------------------

export type ZoneAddress = { postalCode?: string; country?: string; location?: LatLng };

/**
 * The active zone of the business that serves an address, or null. Postal code first
 * (most specific entry wins), then polygons. A malformed postal code or location throws
 * INVALID_ARGUMENT naming `param`.
 */
export async function resolveZoneFor(
  ctx: Pick<RawQueryCtx, "db">,
  businessId: Id<"businesses">,
  address: ZoneAddress,
  param = "postalCode",
): Promise<Doc<"zones"> | null> {
  if (address.postalCode !== undefined && address.postalCode.trim() !== "") {
    for (const candidate of postalCandidates(address.postalCode, address.country, param)) {
      const rows = await ctx.db
        .query("zonePostalCodes")
        .withIndex("by_businessId_and_postalCode", (q) => q.eq("businessId", businessId).eq("postalCode", candidate))
        .take(10);
      for (const row of rows) {
        const zone = await ctx.db.get("zones", row.zoneId);
        if (zone !== null && zone.active) return zone;
      }
    }
  }
  if (address.location !== undefined) {
    const location = validPoint(address.location, "location");
    const zones = await ctx.db
      .query("zones")
      .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
      .take(MAX_ZONES_PER_BUSINESS);
    for (const zone of zones) {
      if (zone.active && zone.boundaries.some((polygon) => pointInPolygon(location, polygon))) return zone;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Writes (manager and up)
// ---------------------------------------------------------------------------------------

async function replacePostalCodes(ctx: MutationCtx, zone: { _id: Id<"zones">; businessId: Id<"businesses"> }, entries: string[]) {
  // Refuse codes another zone of the business already claims (before writing anything).
  for (const [i, postalCode] of entries.entries()) {
    const taken = await ctx.db
      .query("zonePostalCodes")
      .withIndex("by_businessId_and_postalCode", (q) => q.eq("businessId", zone.businessId).eq("postalCode", postalCode))
      .take(10);
    const other = taken.find((row) => row.zoneId !== zone._id);
    if (other !== undefined) {
      const otherZone = await ctx.db.get("zones", other.zoneId);
      throw appError("CONFLICT", `${postalCode} already belongs to the zone "${otherZone?.name ?? "?"}".`, {
        param: `postalCodes[${i}]`,
      });
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

export const create = mutation({
  args: {
    businessId: v.id("businesses"),
    name: v.string(),
    postalCodes: v.array(v.string()),
    boundaries: v.array(vPolygon),
    pricing: vZonePricing,
    taxRateBp: v.number(),
    taxInclusive: v.boolean(),
  },
  returns: v.id("zones"),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "manager");
    const name = requireText(args.name, "name", 120);
    const postalCodes = normalizeZoneEntries(args.postalCodes);
    const boundaries = validateBoundaries(args.boundaries);
    if (postalCodes.length === 0 && boundaries.length === 0) {
      throw invalid("postalCodes", "A zone needs postal codes or a boundary polygon.");
    }
    const pricing = validatePricing(args.pricing);
    const taxRateBp = requireInt(args.taxRateBp, "taxRateBp", 0, 10_000);
    const count = (
      await ctx.db
        .query("zones")
        .withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
        .take(MAX_ZONES_PER_BUSINESS)
    ).length;
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
    await zoneEvent(ctx, (await ctx.db.get("zones", zoneId))!, "zone.created");
    return zoneId;
  },
});

/** Changes the given fields; `postalCodes` replaces the whole set. */
export const update = mutation({
  args: {
    zoneId: v.id("zones"),
    name: v.optional(v.string()),
    postalCodes: v.optional(v.array(v.string())),
    boundaries: v.optional(v.array(vPolygon)),
    pricing: v.optional(vZonePricing),
    taxRateBp: v.optional(v.number()),
    taxInclusive: v.optional(v.boolean()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { doc: zone } = await requireDocRole(ctx, await ctx.db.get("zones", args.zoneId), "manager", "zoneId", "Zone not found.");
    const patch: Partial<Doc<"zones">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.boundaries !== undefined) patch.boundaries = validateBoundaries(args.boundaries);
    if (args.pricing !== undefined) patch.pricing = validatePricing(args.pricing);
    if (args.taxRateBp !== undefined) patch.taxRateBp = requireInt(args.taxRateBp, "taxRateBp", 0, 10_000);
    if (args.taxInclusive !== undefined) patch.taxInclusive = args.taxInclusive;
    const postalCodes = args.postalCodes === undefined ? undefined : normalizeZoneEntries(args.postalCodes);
    const boundaries = patch.boundaries ?? zone.boundaries;
    if (postalCodes !== undefined && postalCodes.length === 0 && boundaries.length === 0) {
      throw invalid("postalCodes", "A zone needs postal codes or a boundary polygon.");
    }
    if (postalCodes === undefined && boundaries.length === 0) {
      const anyCode = await ctx.db.query("zonePostalCodes").withIndex("by_zoneId", (q) => q.eq("zoneId", zone._id)).first();
      if (anyCode === null) throw invalid("boundaries", "A zone needs postal codes or a boundary polygon.");
    }
    if (postalCodes !== undefined) await replacePostalCodes(ctx, zone, postalCodes);
    await ctx.db.patch("zones", zone._id, patch);
    await zoneEvent(ctx, (await ctx.db.get("zones", zone._id))!, "zone.updated");
    return null;
  },
});

/** Takes a zone out of service (or back in); zones are never hard-deleted. */
export const setActive = mutation({
  args: { zoneId: v.id("zones"), active: v.boolean() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { doc: zone } = await requireDocRole(ctx, await ctx.db.get("zones", args.zoneId), "manager", "zoneId", "Zone not found.");
    if (zone.active === args.active) return null;
    await ctx.db.patch("zones", zone._id, { active: args.active });
    await zoneEvent(ctx, { ...zone, active: args.active }, args.active ? "zone.activated" : "zone.deactivated");
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
});

/** Every zone of the business, active or not (staff and platform admins). */
export const list = query({
  args: { businessId: v.id("businesses") },
  returns: v.array(vZone),
  handler: async (ctx, { businessId }) => {
    await requireStaffOrAdmin(ctx, businessId);
    return await ctx.db
      .query("zones")
      .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
      .take(MAX_ZONES_PER_BUSINESS);
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
    const rows = await ctx.db
      .query("zonePostalCodes")
      .withIndex("by_zoneId", (q) => q.eq("zoneId", zoneId))
      .take(MAX_POSTAL_CODES_PER_ZONE);
    return { zone, postalCodes: rows.map((r) => r.postalCode).sort() };
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
    const zones = await ctx.db
      .query("zones")
      .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
      .take(MAX_ZONES_PER_BUSINESS);
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
