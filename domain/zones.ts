/**
 * Service zones: which zone serves an address.
 *
 * Postal codes are normalised per country:
 * - US: digits only, ZIP+4 reduced to ZIP5 ("02139-4307" → "02139").
 * - GB: upper case with one space before the 3-character inward code ("sw1a1aa" → "SW1A 1AA");
 *   a zone entry that is an outward code ("SW1A") matches every postcode in it.
 * - CA: "A1A 1A1"; a zone entry that is a forward sortation area ("K1A") matches every code in it.
 * - Others: upper case, spaces and dashes removed.
 * Any zone entry ending in "*" is a prefix match on the normalised code (spaces ignored).
 *
 * `resolveZone` prefers a postal code match over a polygon match; among several matching
 * zones of the same kind the lowest `priority` (then id) wins.
 */
import { invalidArgument } from "./errors";

export interface LatLng {
  lat: number;
  lng: number;
}

/** An outer ring and optional holes; rings need not repeat their first point at the end. */
export interface BoundaryPolygon {
  outer: LatLng[];
  holes?: LatLng[][];
}

export interface ServiceZoneArea {
  id: string;
  /** ISO 3166-1 alpha-2 country the zone's postal codes belong to, e.g. "US", "GB", "CA". */
  country?: string;
  postalCodes?: string[];
  polygons?: BoundaryPolygon[];
  /** Lower wins when several zones match; default 0. */
  priority?: number;
}

export interface ZoneAddress {
  postalCode?: string;
  country?: string;
  location?: LatLng;
}

export type ZoneResolution =
  | { ok: true; zoneId: string; matchedBy: "postalCode" | "polygon" }
  | { ok: false; reason: string };

type PostalCountry = "US" | "GB" | "CA" | "OTHER";

function countryKind(country: string | undefined, code: string): PostalCountry {
  const upper = country?.toUpperCase();
  if (upper === "US" || upper === "GB" || upper === "CA") return upper;
  if (upper === "UK") return "GB";
  if (upper) return "OTHER";
  const compact = code.replace(/[\s-]/g, "").toUpperCase();
  if (/^\d{5}(\d{4})?$/.test(compact)) return "US";
  if (/^[A-Z]\d[A-Z]\d[A-Z]\d$/.test(compact)) return "CA";
  if (/^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$/.test(compact)) return "GB";
  return "OTHER";
}

/** Normalises a postal code for comparison; throws INVALID_ARGUMENT for malformed US/GB/CA codes. */
export function normalizePostalCode(code: string, country?: string): string {
  if (typeof code !== "string" || code.trim() === "") throw invalidArgument("Postal code must be a non-empty string");
  const compact = code.replace(/[\s-]/g, "").toUpperCase();
  switch (countryKind(country, code)) {
    case "US": {
      if (!/^\d{5}(\d{4})?$/.test(compact)) throw invalidArgument(`"${code}" is not a US ZIP code (12345 or 12345-6789)`);
      return compact.slice(0, 5);
    }
    case "CA": {
      if (!/^[A-Z]\d[A-Z]\d[A-Z]\d$/.test(compact)) throw invalidArgument(`"${code}" is not a Canadian postal code (A1A 1A1)`);
      return `${compact.slice(0, 3)} ${compact.slice(3)}`;
    }
    case "GB": {
      if (!/^[A-Z]{1,2}\d[A-Z\d]?\d[A-Z]{2}$/.test(compact)) throw invalidArgument(`"${code}" is not a UK postcode (e.g. SW1A 1AA)`);
      return `${compact.slice(0, -3)} ${compact.slice(-3)}`;
    }
    default:
      return compact;
  }
}

/** The part of a normalised code zones match by area: UK outward code, Canadian FSA. */
export function postalArea(normalized: string): string {
  const space = normalized.indexOf(" ");
  return space === -1 ? normalized : normalized.slice(0, space);
}

/** Whether one zone entry (full code, area code, or "PREFIX*") covers an address's code. */
export function postalCodeMatches(entry: string, code: string, country?: string): boolean {
  const normalizedCode = normalizePostalCode(code, country);
  const trimmed = entry.trim().toUpperCase();
  if (trimmed.endsWith("*")) {
    const prefix = trimmed.slice(0, -1).replace(/[\s-]/g, "");
    return normalizedCode.replace(/\s/g, "").startsWith(prefix);
  }
  const kind = countryKind(country, code);
  if ((kind === "GB" || kind === "CA") && !/\s/.test(trimmed) && trimmed.length <= 4) {
    if (trimmed === postalArea(normalizedCode)) return true;
  }
  try {
    return normalizePostalCode(entry, country ?? (kind === "OTHER" ? undefined : kind)) === normalizedCode;
  } catch {
    return false;
  }
}

function onSegment(p: LatLng, a: LatLng, b: LatLng): boolean {
  const cross = (b.lng - a.lng) * (p.lat - a.lat) - (b.lat - a.lat) * (p.lng - a.lng);
  if (Math.abs(cross) > 1e-12) return false;
  return (
    Math.min(a.lng, b.lng) <= p.lng && p.lng <= Math.max(a.lng, b.lng) &&
    Math.min(a.lat, b.lat) <= p.lat && p.lat <= Math.max(a.lat, b.lat)
  );
}

/** "inside", "outside" or "boundary" for one ring (even-odd ray casting along longitude). */
export function pointInRing(point: LatLng, ring: readonly LatLng[]): "inside" | "outside" | "boundary" {
  if (ring.length < 3) throw invalidArgument("A polygon ring needs at least 3 points");
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const a = ring[i];
    const b = ring[j];
    if (onSegment(point, a, b)) return "boundary";
    if (a.lat > point.lat !== b.lat > point.lat) {
      const lngAtLat = a.lng + ((point.lat - a.lat) / (b.lat - a.lat)) * (b.lng - a.lng);
      if (point.lng < lngAtLat) inside = !inside;
    }
  }
  return inside ? "inside" : "outside";
}

/**
 * Whether a point is in a polygon: inside the outer ring (its edge counts as inside) and not
 * strictly inside a hole (a hole's edge counts as inside the polygon). Planar lat/lng
 * geometry: fine for city-sized zones, not for zones crossing the antimeridian.
 */
export function pointInPolygon(point: LatLng, polygon: BoundaryPolygon): boolean {
  validatePoint(point);
  if (pointInRing(point, polygon.outer) === "outside") return false;
  return (polygon.holes ?? []).every((hole) => pointInRing(point, hole) !== "inside");
}

function validatePoint(point: LatLng): void {
  if (!Number.isFinite(point?.lat) || !Number.isFinite(point?.lng) || Math.abs(point.lat) > 90 || Math.abs(point.lng) > 180) {
    throw invalidArgument(`Location must have lat in [-90, 90] and lng in [-180, 180], got ${JSON.stringify(point)}`);
  }
}

function byPriority(a: ServiceZoneArea, b: ServiceZoneArea): number {
  return (a.priority ?? 0) - (b.priority ?? 0) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

export function resolveZone(address: ZoneAddress, zones: readonly ServiceZoneArea[]): ZoneResolution {
  if (!address.postalCode && !address.location) {
    return { ok: false, reason: "The address has neither a postal code nor a location" };
  }
  const ordered = [...zones].sort(byPriority);
  if (address.postalCode) {
    const code = address.postalCode;
    normalizePostalCode(code, address.country); // malformed codes are the caller's error, not "no zone"
    const match = ordered.find(
      (zone) =>
        (!zone.country || !address.country || zone.country.toUpperCase() === address.country.toUpperCase()) &&
        (zone.postalCodes ?? []).some((entry) => postalCodeMatches(entry, code, address.country ?? zone.country)),
    );
    if (match) return { ok: true, zoneId: match.id, matchedBy: "postalCode" };
  }
  if (address.location) {
    const location = address.location;
    validatePoint(location);
    const match = ordered.find((zone) => (zone.polygons ?? []).some((polygon) => pointInPolygon(location, polygon)));
    if (match) return { ok: true, zoneId: match.id, matchedBy: "polygon" };
  }
  const tried = [address.postalCode && `postal code ${address.postalCode}`, address.location && "location"].filter(Boolean).join(" or ");
  return { ok: false, reason: `No service zone covers this address (checked ${tried})` };
}
