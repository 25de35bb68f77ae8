/**
 * Service zones, the parts every door shares: validation of postal-code entries, boundary
 * polygons and pricing; resolution of an address to the zone serving it; and the read
 * helpers. The state changes are `zoneCommands.ts`.
 *
 * Postal codes are stored one row per (zone, normalised entry) in `zonePostalCodes`, so
 * resolving reads a handful of index entries. An entry is a full code ("10001",
 * "SW1A 1AA"), an area code ("SW1A", "K1A": matches every code in it), or a prefix ending in
 * "*" ("100*"). Normalisation is the domain module's (`domain/zones.ts`). A code may belong
 * to one zone of a business only, so resolution is never ambiguous.
 *
 * Plain module: no registered functions.
 */
import { isDomainError, normalizePostalCode, pointInPolygon, postalArea } from "../../domain";
import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { invalid, requireInt } from "./validation";

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
  ctx: Pick<QueryCtx, "db">,
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
    for (const zone of await zonesOf(ctx, businessId)) {
      if (zone.active && zone.boundaries.some((polygon) => pointInPolygon(location, polygon))) return zone;
    }
  }
  return null;
}

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

/** Every zone of the business, active or not. */
export async function zonesOf(ctx: Pick<QueryCtx, "db">, businessId: Id<"businesses">) {
  return await ctx.db
    .query("zones")
    .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
    .take(MAX_ZONES_PER_BUSINESS);
}

/** The zone's postal-code entries, sorted. */
export async function postalCodesOf(ctx: Pick<QueryCtx, "db">, zoneId: Id<"zones">) {
  const rows = await ctx.db
    .query("zonePostalCodes")
    .withIndex("by_zoneId", (q) => q.eq("zoneId", zoneId))
    .take(MAX_POSTAL_CODES_PER_ZONE);
  return rows.map((r) => r.postalCode).sort();
}
