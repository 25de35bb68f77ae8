/**
 * Zone commands: the one body of every zone change, whichever door it came through (the
 * portal's `zones.ts`, the REST API's `api/internalZones.ts`). Each takes an explicit actor,
 * checks it may act for the zone's business (managers and up; API keys with `zones:write`),
 * validates, writes, and emits the events partners subscribe to.
 *
 * Zones are never hard-deleted (bookings and addresses point at them): `active: false`
 * takes one out of service.
 *
 * Plain module: no registered functions.
 */
import { v, type ObjectType } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { appError } from "../errors";
import { authorize, loadAuthorized, type CommandActor, type Permission } from "./actor";
import { emitEvent } from "./events";
import { invalid, requireInt, requireText } from "./validation";
import { vPolygon, vZonePricing } from "../schema";
import { isDomainError } from "../../domain/errors";
import { validateFrequencyDiscounts, type FrequencyDiscount } from "../../domain/recurrence";
import {
  MAX_POSTAL_CODES_PER_ZONE,
  MAX_ZONES_PER_BUSINESS,
  normalizeZoneEntries,
  postalCodesOf,
  validateBoundaries,
  validatePricing,
  zonesOf,
} from "./zones";

const MANAGE_ZONES: Permission = { role: "manager", scope: { resource: "zones", access: "write" } };

/** The fields of a zone, as both doors take them (ids aside). */
export const zoneFields = {
  name: v.string(),
  postalCodes: v.array(v.string()),
  boundaries: v.array(vPolygon),
  pricing: vZonePricing,
  taxRateBp: v.number(),
  taxInclusive: v.boolean(),
};
/** A change: any of the fields, and `active` to take the zone out of service or back. */
export const zonePatchFields = {
  name: v.optional(v.string()),
  postalCodes: v.optional(v.array(v.string())),
  boundaries: v.optional(v.array(vPolygon)),
  pricing: v.optional(vZonePricing),
  taxRateBp: v.optional(v.number()),
  taxInclusive: v.optional(v.boolean()),
  active: v.optional(v.boolean()),
};
export type ZoneFields = ObjectType<typeof zoneFields>;
export type ZonePatch = ObjectType<typeof zonePatchFields>;
export type ZoneWithCodes = { zone: Doc<"zones">; postalCodes: string[] };

const NEEDS_AREA = "A zone needs postal codes or a boundary polygon.";

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

async function withCodes(ctx: MutationCtx, zoneId: Id<"zones">): Promise<ZoneWithCodes> {
  return { zone: (await ctx.db.get("zones", zoneId))!, postalCodes: await postalCodesOf(ctx, zoneId) };
}

export async function createZone(ctx: MutationCtx, actor: CommandActor, businessId: Id<"businesses">, input: ZoneFields): Promise<ZoneWithCodes> {
  await authorize(ctx, actor, businessId, MANAGE_ZONES);
  const name = requireText(input.name, "name", 120);
  const postalCodes = normalizeZoneEntries(input.postalCodes);
  const boundaries = validateBoundaries(input.boundaries);
  if (postalCodes.length === 0 && boundaries.length === 0) throw invalid("postalCodes", NEEDS_AREA);
  const pricing = validatePricing(input.pricing);
  const taxRateBp = requireInt(input.taxRateBp, "taxRateBp", 0, 10_000);
  if ((await zonesOf(ctx, businessId)).length >= MAX_ZONES_PER_BUSINESS) {
    throw appError("CONFLICT", `A business has at most ${MAX_ZONES_PER_BUSINESS} zones.`);
  }
  const zoneId = await ctx.db.insert("zones", { businessId, name, active: true, boundaries, pricing, taxRateBp, taxInclusive: input.taxInclusive });
  await replacePostalCodes(ctx, { _id: zoneId, businessId }, postalCodes);
  const created = await withCodes(ctx, zoneId);
  await zoneEvent(ctx, created.zone, "zone.created");
  return created;
}

/**
 * Changes the given fields; `postalCodes` replaces the whole set. Emits `zone.updated` when
 * any field other than `active` is given, and `zone.activated` / `zone.deactivated` when the
 * zone goes in or out of service, so partners filtering on either see every such change.
 */
export async function updateZone(ctx: MutationCtx, actor: CommandActor, zoneId: string, input: ZonePatch): Promise<ZoneWithCodes> {
  const { doc: zone } = await loadAuthorized(ctx, actor, "zones", zoneId, "zoneId", MANAGE_ZONES);
  const { active, ...fields } = input;
  const patch: Partial<Doc<"zones">> = {};
  if (fields.name !== undefined) patch.name = requireText(fields.name, "name", 120);
  if (fields.boundaries !== undefined) patch.boundaries = validateBoundaries(fields.boundaries);
  if (fields.pricing !== undefined) patch.pricing = validatePricing(fields.pricing);
  if (fields.taxRateBp !== undefined) patch.taxRateBp = requireInt(fields.taxRateBp, "taxRateBp", 0, 10_000);
  if (fields.taxInclusive !== undefined) patch.taxInclusive = fields.taxInclusive;
  const postalCodes = fields.postalCodes === undefined ? undefined : normalizeZoneEntries(fields.postalCodes);
  const boundaries = patch.boundaries ?? zone.boundaries;
  const codesAfter = postalCodes ?? (await postalCodesOf(ctx, zone._id));
  if (codesAfter.length === 0 && boundaries.length === 0) throw invalid(postalCodes === undefined ? "boundaries" : "postalCodes", NEEDS_AREA);
  const activeChanged = active !== undefined && active !== zone.active;
  if (activeChanged) patch.active = active;
  if (postalCodes !== undefined) await replacePostalCodes(ctx, zone, postalCodes);
  await ctx.db.patch("zones", zone._id, patch);
  const updated = await withCodes(ctx, zone._id);
  if (Object.values(fields).some((value) => value !== undefined)) await zoneEvent(ctx, updated.zone, "zone.updated");
  if (activeChanged) await zoneEvent(ctx, updated.zone, active ? "zone.activated" : "zone.deactivated");
  return updated;
}

/**
 * Sets the zone's frequency discounts for recurring plans (`null`: back to the default
 * table). Plans already booked keep the prices of their visits; new visits use the new table.
 */
export async function setZoneFrequencyDiscounts(
  ctx: MutationCtx,
  actor: CommandActor,
  zoneId: string,
  discounts: FrequencyDiscount[] | null,
): Promise<Doc<"zones">> {
  const { doc: zone } = await loadAuthorized(ctx, actor, "zones", zoneId, "zoneId", MANAGE_ZONES);
  let table: FrequencyDiscount[] | undefined;
  try {
    table = discounts === null ? undefined : validateFrequencyDiscounts(discounts);
  } catch (error) {
    if (isDomainError(error)) throw invalid(String(error.details?.field ?? "frequencyDiscounts"), error.message);
    throw error;
  }
  await ctx.db.patch("zones", zone._id, { frequencyDiscounts: table });
  const updated = (await ctx.db.get("zones", zone._id))!;
  await zoneEvent(ctx, updated, "zone.updated");
  return updated;
}
