/**
 * Bookable resources for the REST API, scoped to the API key's business. Weekly hours are
 * checked by resources.ts's `validateWeeklyHours`; its scalar checks are private there and
 * restated here. Linking a resource to a staff member (a person) stays in the portal.
 */
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import { appError } from "../errors";
import { internalMutation, internalQuery } from "../functions";
import { invalid, requireDistinct, requireInt, requireText } from "../model/validation";
import { validateWeeklyHours } from "../resources";
import { vResourceKind, vWeeklyHours } from "../schema";
import { decodeCursor, listFingerprint, toListPage } from "./v1/pagination";
import { presentResource } from "./v1/present";
import { ownDoc, ownIds, vApiCaller } from "./tenant";

const MAX_RESOURCES = 500;

type Scalars = Partial<{
  name: string;
  capacity: number;
  priority: number;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  maxBookingsPerDay: number;
  color: string;
}>;

function validateScalars(args: Scalars) {
  const out: Partial<Doc<"resources">> = {};
  if (args.name !== undefined) out.name = requireText(args.name, "name", 120);
  if (args.capacity !== undefined) out.capacity = requireInt(args.capacity, "capacity", 1, 10_000);
  if (args.priority !== undefined) out.priority = requireInt(args.priority, "priority", 0, 10_000);
  if (args.bufferBeforeMinutes !== undefined) out.bufferBeforeMinutes = requireInt(args.bufferBeforeMinutes, "bufferBeforeMinutes", 0, 720);
  if (args.bufferAfterMinutes !== undefined) out.bufferAfterMinutes = requireInt(args.bufferAfterMinutes, "bufferAfterMinutes", 0, 720);
  if (args.maxBookingsPerDay !== undefined) out.maxBookingsPerDay = requireInt(args.maxBookingsPerDay, "maxBookingsPerDay", 1, 1_000);
  if (args.color !== undefined) {
    if (!/^#[0-9a-fA-F]{6}$/.test(args.color)) throw invalid("color", 'color must be "#RRGGBB".');
    out.color = args.color;
  }
  return out;
}

export const list = internalQuery({
  args: { ...vApiCaller, active: v.optional(v.boolean()), kind: v.optional(vResourceKind), limit: v.number(), cursor: v.optional(v.string()) },
  handler: async (ctx, args) => {
    const fingerprint = listFingerprint({ list: "resources", active: args.active, kind: args.kind });
    const { active, kind } = args;
    const result = await ctx.db
      .query("resources")
      .withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
      // eslint-disable-next-line @convex-dev/no-filter-in-query -- narrows an index range of this business during pagination
      .filter((q) =>
        q.and(
          active === undefined ? true : q.eq(q.field("active"), active),
          kind === undefined ? true : q.eq(q.field("kind"), kind),
        ),
      )
      .paginate({ numItems: args.limit, cursor: decodeCursor(args.cursor, fingerprint) });
    return toListPage(result, presentResource, fingerprint);
  },
});

export const get = internalQuery({
  args: { ...vApiCaller, resourceId: v.string() },
  handler: async (ctx, args) => presentResource(await ownDoc(ctx, "resources", args.businessId, args.resourceId, "resourceId")),
});

export const create = internalMutation({
  args: {
    ...vApiCaller,
    kind: vResourceKind,
    name: v.string(),
    capacity: v.number(),
    priority: v.number(),
    weeklyHours: vWeeklyHours,
    bufferBeforeMinutes: v.number(),
    bufferAfterMinutes: v.number(),
    maxBookingsPerDay: v.optional(v.number()),
    zoneIds: v.array(v.string()),
    productIds: v.array(v.string()),
    color: v.optional(v.string()),
  },
  handler: async (ctx, args) => {
    const scalars = validateScalars(args);
    const weeklyHours = validateWeeklyHours(args.weeklyHours);
    const zoneIds = await ownIds(ctx, "zones", args.businessId, requireDistinct(args.zoneIds, "zoneIds"), "zoneIds");
    const productIds = await ownIds(ctx, "products", args.businessId, requireDistinct(args.productIds, "productIds"), "productIds");
    const count = (await ctx.db.query("resources").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId)).take(MAX_RESOURCES)).length;
    if (count >= MAX_RESOURCES) throw appError("CONFLICT", `At most ${MAX_RESOURCES} resources per business.`);
    const id = await ctx.db.insert("resources", {
      businessId: args.businessId,
      kind: args.kind,
      name: scalars.name!,
      capacity: scalars.capacity!,
      priority: scalars.priority!,
      active: true,
      weeklyHours,
      bufferBeforeMinutes: scalars.bufferBeforeMinutes!,
      bufferAfterMinutes: scalars.bufferAfterMinutes!,
      maxBookingsPerDay: scalars.maxBookingsPerDay,
      zoneIds,
      productIds,
      color: scalars.color,
    });
    return presentResource((await ctx.db.get("resources", id))!);
  },
});

export const update = internalMutation({
  args: {
    ...vApiCaller,
    resourceId: v.string(),
    kind: v.optional(vResourceKind),
    name: v.optional(v.string()),
    capacity: v.optional(v.number()),
    priority: v.optional(v.number()),
    weeklyHours: v.optional(vWeeklyHours),
    bufferBeforeMinutes: v.optional(v.number()),
    bufferAfterMinutes: v.optional(v.number()),
    maxBookingsPerDay: v.optional(v.union(v.number(), v.null())),
    zoneIds: v.optional(v.array(v.string())),
    productIds: v.optional(v.array(v.string())),
    color: v.optional(v.string()),
    active: v.optional(v.boolean()),
  },
  handler: async (ctx, args) => {
    const doc = await ownDoc(ctx, "resources", args.businessId, args.resourceId, "resourceId");
    const { maxBookingsPerDay, ...rest } = args;
    const patch = validateScalars({ ...rest, maxBookingsPerDay: maxBookingsPerDay ?? undefined });
    if (maxBookingsPerDay === null) patch.maxBookingsPerDay = undefined;
    if (args.kind !== undefined) patch.kind = args.kind;
    if (args.active !== undefined) patch.active = args.active;
    if (args.weeklyHours !== undefined) patch.weeklyHours = validateWeeklyHours(args.weeklyHours);
    if (args.zoneIds !== undefined) patch.zoneIds = await ownIds(ctx, "zones", args.businessId, requireDistinct(args.zoneIds, "zoneIds"), "zoneIds");
    if (args.productIds !== undefined) {
      patch.productIds = await ownIds(ctx, "products", args.businessId, requireDistinct(args.productIds, "productIds"), "productIds");
    }
    await ctx.db.patch("resources", doc._id, patch);
    return presentResource((await ctx.db.get("resources", doc._id))!);
  },
});
