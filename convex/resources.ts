/**
 * Bookable resources: providers (staff), rooms, chairs, desks. Each has a capacity, weekly
 * working hours (local wall clock in the business's time zone), date overrides (closed, or
 * other hours, on one local date), time off (instant ranges), buffers, a per-day limit and
 * the zones / products it serves (empty = all).
 *
 * The portal's adapters of the resource commands in `model/resourceCommands.ts`, plus the
 * reads. Managers and owners write everything. Staff read every resource of their business
 * (the dispatch board needs them) and manage the TIME OFF of their own resource (a provider
 * books their own leave); their hours and overrides stay with managers, who plan coverage.
 *
 * A change that hits booked jobs is refused with CONFLICT until the caller says where they
 * go (`moveAffected`), after reviewing them with `previewScheduleChange`.
 */
import { v } from "convex/values";
import type { Id } from "./_generated/dataModel";
import { requireBusinessRole, requireStaffOrAdmin } from "./access";
import { appError } from "./errors";
import { mutation, query, type QueryCtx } from "./functions";
import { userActor } from "./model/actor";
import {
  addTimeOff as addTimeOffCommand,
  createResource,
  linkResourceUser,
  previewScheduleChange as previewCommand,
  removeDateOverride as removeDateOverrideCommand,
  removeTimeOff as removeTimeOffCommand,
  resolutionArgs,
  resolutionOf,
  setDateOverride as setDateOverrideCommand,
  updateResource,
  vResourceFields,
  vResourcePatchFields,
} from "./model/resourceCommands";
import { invalid, requireLocalDate } from "./model/validation";
import { vBookingStatus, vLocalTimeRange, vResourceKind, vWeeklyHours } from "./schema";

const MAX_RESOURCES = 500;

const settingsArgs = { ...vResourceFields, zoneIds: v.array(v.id("zones")), productIds: v.array(v.id("products")) };
const patchArgs = { ...vResourcePatchFields, zoneIds: v.optional(v.array(v.id("zones"))), productIds: v.optional(v.array(v.id("products"))) };

// ---------------------------------------------------------------------------------------
// Resources (manager and up)
// ---------------------------------------------------------------------------------------

export const create = mutation({
  args: { businessId: v.id("businesses"), userId: v.optional(v.id("users")), ...settingsArgs },
  returns: v.id("resources"),
  handler: async (ctx, args) => {
    const { businessId, ...settings } = args;
    return (await createResource(ctx, userActor(ctx), businessId, settings))._id;
  },
});

export const update = mutation({
  args: { resourceId: v.id("resources"), ...patchArgs, ...resolutionArgs },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { resourceId, moveAffected, confirmedBookingIds, ...patch } = args;
    const actor = userActor(ctx);
    await updateResource(ctx, actor, resourceId, patch, resolutionOf({ moveAffected, confirmedBookingIds }), Date.now());
    return null;
  },
});

/** Links the resource to a staff member (the provider it is), or unlinks it with null. */
export const linkUser = mutation({
  args: { resourceId: v.id("resources"), userId: v.union(v.id("users"), v.null()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    await linkResourceUser(ctx, userActor(ctx), args.resourceId, args.userId);
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Date overrides (manager and up)
// ---------------------------------------------------------------------------------------

/** Sets one local date's hours (or closes it), replacing any earlier override of that date. */
export const setDateOverride = mutation({
  args: { resourceId: v.id("resources"), date: v.string(), closed: v.boolean(), hours: v.array(vLocalTimeRange), ...resolutionArgs },
  returns: v.id("resourceDateOverrides"),
  handler: async (ctx, args) => {
    const { moveAffected, confirmedBookingIds, ...override } = args;
    const actor = userActor(ctx);
    return (await setDateOverrideCommand(ctx, actor, override, resolutionOf({ moveAffected, confirmedBookingIds }), Date.now())).overrideId;
  },
});

export const removeDateOverride = mutation({
  args: { resourceId: v.id("resources"), date: v.string(), ...resolutionArgs },
  returns: v.boolean(),
  handler: async (ctx, args) => {
    const { moveAffected, confirmedBookingIds, ...which } = args;
    const actor = userActor(ctx);
    return (await removeDateOverrideCommand(ctx, actor, which, resolutionOf({ moveAffected, confirmedBookingIds }), Date.now())).removed;
  },
});

// ---------------------------------------------------------------------------------------
// Time off (manager and up, or the staff member whose resource it is)
// ---------------------------------------------------------------------------------------

export const addTimeOff = mutation({
  args: { resourceId: v.id("resources"), start: v.number(), end: v.number(), reason: v.optional(v.string()), ...resolutionArgs },
  returns: v.id("timeOff"),
  handler: async (ctx, args) => {
    const { moveAffected, confirmedBookingIds, ...timeOff } = args;
    const actor = userActor(ctx);
    return (await addTimeOffCommand(ctx, actor, timeOff, resolutionOf({ moveAffected, confirmedBookingIds }), Date.now())).timeOffId;
  },
});

export const removeTimeOff = mutation({
  args: { timeOffId: v.id("timeOff") },
  returns: v.null(),
  handler: async (ctx, args) => {
    await removeTimeOffCommand(ctx, userActor(ctx), args.timeOffId);
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Preview: which booked jobs a schedule change would hit
// ---------------------------------------------------------------------------------------

const vScheduleChange = v.union(
  v.object({ kind: v.literal("time_off"), resourceId: v.id("resources"), start: v.number(), end: v.number() }),
  v.object({ kind: v.literal("date_override"), resourceId: v.id("resources"), date: v.string(), closed: v.boolean(), hours: v.array(vLocalTimeRange) }),
  v.object({ kind: v.literal("remove_date_override"), resourceId: v.id("resources"), date: v.string() }),
  v.object({ kind: v.literal("settings"), resourceId: v.id("resources"), patch: v.object(patchArgs) }),
);

/**
 * The booked jobs a schedule change would hit (soonest first), why each could no longer be
 * done, and who could take it instead. Computed with the same check the change's mutation
 * runs; nothing is written.
 */
export const previewScheduleChange = query({
  args: { change: vScheduleChange },
  returns: v.array(
    v.object({
      bookingId: v.id("bookings"),
      start: v.number(),
      end: v.number(),
      status: vBookingStatus,
      customerName: v.string(),
      serviceName: v.string(),
      reason: v.string(),
      suggestedResourceId: v.optional(v.id("resources")),
      suggestedResourceName: v.optional(v.string()),
    }),
  ),
  handler: async (ctx, args) => {
    return await previewCommand(ctx, userActor(ctx), args.change, Date.now());
  },
});

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

const vResource = v.object({
  _id: v.id("resources"),
  _creationTime: v.number(),
  businessId: v.id("businesses"),
  kind: vResourceKind,
  name: v.string(),
  userId: v.optional(v.id("users")),
  capacity: v.number(),
  priority: v.number(),
  active: v.boolean(),
  weeklyHours: vWeeklyHours,
  bufferBeforeMinutes: v.number(),
  bufferAfterMinutes: v.number(),
  maxBookingsPerDay: v.optional(v.number()),
  zoneIds: v.array(v.id("zones")),
  productIds: v.array(v.id("products")),
  color: v.optional(v.string()),
});

/** Every resource of the business (staff and platform admins). */
export const list = query({
  args: { businessId: v.id("businesses"), includeInactive: v.optional(v.boolean()) },
  returns: v.array(vResource),
  handler: async (ctx, args) => {
    await requireStaffOrAdmin(ctx, args.businessId);
    const all = await ctx.db
      .query("resources")
      .withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
      .take(MAX_RESOURCES);
    return args.includeInactive ? all : all.filter((r) => r.active);
  },
});

async function readableResource(ctx: QueryCtx, resourceId: Id<"resources">) {
  const resource = await ctx.db.get("resources", resourceId);
  if (resource === null) throw appError("NOT_FOUND", "Resource not found.", { param: "resourceId" });
  try {
    await requireStaffOrAdmin(ctx, resource.businessId);
  } catch (error) {
    const data = (error as { data?: { code?: string } }).data;
    if (data?.code === "NOT_FOUND") throw appError("NOT_FOUND", "Resource not found.", { param: "resourceId" });
    throw error;
  }
  return resource;
}

export const get = query({
  args: { resourceId: v.id("resources") },
  returns: vResource,
  handler: async (ctx, args) => readableResource(ctx, args.resourceId),
});

/** The viewer's own resource in a business (a provider's schedule), or null. */
export const mine = query({
  args: { businessId: v.id("businesses") },
  returns: v.union(vResource, v.null()),
  handler: async (ctx, args) => {
    const access = await requireBusinessRole(ctx, args.businessId, "staff");
    const resourceId = access.membership.resourceId;
    if (resourceId === undefined) return null;
    const resource = await ctx.db.get("resources", resourceId);
    return resource !== null && resource.userId === access.user._id ? resource : null;
  },
});

/** Date overrides in [from, to] (local dates, inclusive), at most 400. */
export const dateOverrides = query({
  args: { resourceId: v.id("resources"), from: v.string(), to: v.string() },
  returns: v.array(v.object({ date: v.string(), closed: v.boolean(), hours: v.array(vLocalTimeRange) })),
  handler: async (ctx, args) => {
    const resource = await readableResource(ctx, args.resourceId);
    const from = requireLocalDate(args.from, "from");
    const to = requireLocalDate(args.to, "to");
    if (to < from) throw invalid("to", "to must not be before from.");
    const rows = await ctx.db
      .query("resourceDateOverrides")
      .withIndex("by_resourceId_and_date", (q) => q.eq("resourceId", resource._id).gte("date", from).lte("date", to))
      .take(400);
    return rows.map((r) => ({ date: r.date, closed: r.closed, hours: r.hours }));
  },
});

/** Time off that ends after `from` (and starts before `to`, when given), soonest first, at most 200. */
export const timeOff = query({
  args: { resourceId: v.id("resources"), from: v.number(), to: v.optional(v.number()) },
  returns: v.array(v.object({ _id: v.id("timeOff"), start: v.number(), end: v.number(), reason: v.optional(v.string()) })),
  handler: async (ctx, args) => {
    const resource = await readableResource(ctx, args.resourceId);
    const rows = await ctx.db
      .query("timeOff")
      .withIndex("by_resourceId_and_end", (q) => q.eq("resourceId", resource._id).gt("end", args.from))
      .take(200);
    return rows
      .filter((r) => args.to === undefined || r.start < args.to)
      .map((r) => ({ _id: r._id, start: r.start, end: r.end, reason: r.reason }));
  },
});
