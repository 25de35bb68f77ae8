/**
 * Bookable resources: providers (staff), rooms, chairs, desks. Each has a capacity, weekly
 * working hours (local wall clock in the business's time zone), date overrides (closed, or
 * other hours, on one local date), time off (instant ranges), buffers, a per-day limit and
 * the zones / products it serves (empty = all).
 *
 * Managers and owners write everything. Staff read every resource of their business (the
 * dispatch board needs them) and manage the TIME OFF of their own resource (a provider
 * books their own leave); their hours and overrides stay with managers, who plan coverage.
 */
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { membershipOf, requireBusinessRole, requireDocRole, requireStaffOrAdmin, requireUser } from "./access";
import { appError } from "./errors";
import { mutation, query, type MutationCtx, type QueryCtx } from "./functions";
import {
  invalid,
  optionalText,
  requireDistinct,
  requireInstant,
  requireInt,
  requireLocalDate,
  requireLocalTime,
  requireText,
} from "./model/validation";
import { vLocalTimeRange, vResourceKind, vWeeklyHours } from "./schema";

const MAX_RESOURCES = 500;
const MAX_HOURS_ENTRIES = 50;
const MAX_TIME_OFF_SPAN_MS = 366 * 24 * 3_600_000;

type WeeklyHours = Doc<"resources">["weeklyHours"];
type TimeRange = { start: string; end: string };

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/** Minutes of a local "HH:MM" range; an end at or before the start crosses midnight. */
function rangeMinutes(range: TimeRange, param: string): { start: number; end: number } {
  const start = requireLocalTime(range.start, `${param}.start`);
  const end = requireLocalTime(range.end, `${param}.end`, true);
  if (start === end || (end === 1440 && start === 0 && false)) throw invalid(`${param}.end`, "A time range cannot be empty.");
  return { start, end: end <= start ? end + 1440 : end };
}

function requireNoOverlap(ranges: { start: number; end: number; param: string }[]) {
  const sorted = [...ranges].sort((a, b) => a.start - b.start);
  for (let i = 1; i < sorted.length; i++) {
    if (sorted[i].start < sorted[i - 1].end) throw invalid(sorted[i].param, "Time ranges on the same day overlap.");
  }
}

/** weekday 0 (Sunday) … 6, "HH:MM" times, no overlapping ranges on a weekday. */
export function validateWeeklyHours(hours: WeeklyHours, param = "weeklyHours"): WeeklyHours {
  if (hours.length > MAX_HOURS_ENTRIES) throw invalid(param, `At most ${MAX_HOURS_ENTRIES} ranges.`);
  // Place every range on a week-long minute line so overlaps across midnight are caught too.
  const placed = hours.map((h, i) => {
    const p = `${param}[${i}]`;
    requireInt(h.weekday, `${p}.weekday`, 0, 6);
    const { start, end } = rangeMinutes(h, p);
    return { start: h.weekday * 1440 + start, end: h.weekday * 1440 + end, param: p };
  });
  // A Saturday range crossing midnight wraps into Sunday morning.
  const wrapped = placed.filter((r) => r.end > 7 * 1440).map((r) => ({ start: r.start - 7 * 1440, end: r.end - 7 * 1440, param: r.param }));
  requireNoOverlap([...placed, ...wrapped]);
  return hours.map((h) => ({ weekday: h.weekday, start: h.start, end: h.end }));
}

export function validateDayHours(hours: TimeRange[], param = "hours"): TimeRange[] {
  if (hours.length > 12) throw invalid(param, "At most 12 ranges per day.");
  requireNoOverlap(hours.map((h, i) => ({ ...rangeMinutes(h, `${param}[${i}]`), param: `${param}[${i}]` })));
  return hours.map((h) => ({ start: h.start, end: h.end }));
}

async function requireOwnIds<T extends "zones" | "products">(
  ctx: MutationCtx,
  table: T,
  businessId: Id<"businesses">,
  ids: Id<T>[],
  param: string,
) {
  requireDistinct(ids, param);
  for (const [i, id] of ids.entries()) {
    const doc = table === "zones" ? await ctx.db.get("zones", id as Id<"zones">) : await ctx.db.get("products", id as Id<"products">);
    if (doc === null || doc.businessId !== businessId) throw appError("NOT_FOUND", `No such ${table.slice(0, -1)}.`, { param: `${param}[${i}]` });
  }
  return ids;
}

/** The user must be on the staff and not already another resource of the business. */
async function requireLinkableUser(ctx: MutationCtx, businessId: Id<"businesses">, userId: Id<"users">, self?: Id<"resources">) {
  const membership = await membershipOf(ctx, businessId, userId);
  if (membership === null) throw appError("NOT_FOUND", "This person is not on the staff.", { param: "userId" });
  const linked = await ctx.db
    .query("resources")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .take(50);
  if (linked.some((r) => r.businessId === businessId && r._id !== self)) {
    throw appError("ALREADY_EXISTS", "This person is already linked to another resource.", { param: "userId" });
  }
  return membership;
}

async function unlinkUser(ctx: MutationCtx, resource: Doc<"resources">) {
  if (resource.userId === undefined) return;
  const membership = await membershipOf(ctx, resource.businessId, resource.userId);
  if (membership !== null && membership.resourceId === resource._id) await ctx.db.patch("memberships", membership._id, { resourceId: undefined });
}

const settingsArgs = {
  name: v.string(),
  kind: vResourceKind,
  capacity: v.number(),
  priority: v.number(),
  weeklyHours: vWeeklyHours,
  bufferBeforeMinutes: v.number(),
  bufferAfterMinutes: v.number(),
  maxBookingsPerDay: v.optional(v.number()),
  zoneIds: v.array(v.id("zones")),
  productIds: v.array(v.id("products")),
  color: v.optional(v.string()),
};

function validateScalars(args: Partial<{ name: string; capacity: number; priority: number; bufferBeforeMinutes: number; bufferAfterMinutes: number; maxBookingsPerDay: number; color: string }>) {
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

// ---------------------------------------------------------------------------------------
// Resources (manager and up)
// ---------------------------------------------------------------------------------------

export const create = mutation({
  args: { businessId: v.id("businesses"), userId: v.optional(v.id("users")), ...settingsArgs },
  returns: v.id("resources"),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "manager");
    const scalars = validateScalars(args);
    const weeklyHours = validateWeeklyHours(args.weeklyHours);
    const zoneIds = await requireOwnIds(ctx, "zones", args.businessId, args.zoneIds, "zoneIds");
    const productIds = await requireOwnIds(ctx, "products", args.businessId, args.productIds, "productIds");
    const membership = args.userId === undefined ? null : await requireLinkableUser(ctx, args.businessId, args.userId);
    const count = (await ctx.db.query("resources").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId)).take(MAX_RESOURCES)).length;
    if (count >= MAX_RESOURCES) throw appError("CONFLICT", `At most ${MAX_RESOURCES} resources per business.`);
    const resourceId = await ctx.db.insert("resources", {
      businessId: args.businessId,
      kind: args.kind,
      name: scalars.name!,
      userId: args.userId,
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
    if (membership !== null) await ctx.db.patch("memberships", membership._id, { resourceId });
    return resourceId;
  },
});

export const update = mutation({
  args: {
    resourceId: v.id("resources"),
    name: v.optional(v.string()),
    kind: v.optional(vResourceKind),
    capacity: v.optional(v.number()),
    priority: v.optional(v.number()),
    weeklyHours: v.optional(vWeeklyHours),
    bufferBeforeMinutes: v.optional(v.number()),
    bufferAfterMinutes: v.optional(v.number()),
    maxBookingsPerDay: v.optional(v.union(v.number(), v.null())),
    zoneIds: v.optional(v.array(v.id("zones"))),
    productIds: v.optional(v.array(v.id("products"))),
    color: v.optional(v.string()),
    active: v.optional(v.boolean()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { doc } = await requireDocRole(ctx, await ctx.db.get("resources", args.resourceId), "manager", "resourceId", "Resource not found.");
    const { maxBookingsPerDay, ...rest } = args;
    const patch = validateScalars({ ...rest, maxBookingsPerDay: maxBookingsPerDay ?? undefined });
    if (maxBookingsPerDay === null) patch.maxBookingsPerDay = undefined;
    if (args.kind !== undefined) patch.kind = args.kind;
    if (args.active !== undefined) patch.active = args.active;
    if (args.weeklyHours !== undefined) patch.weeklyHours = validateWeeklyHours(args.weeklyHours);
    if (args.zoneIds !== undefined) patch.zoneIds = await requireOwnIds(ctx, "zones", doc.businessId, args.zoneIds, "zoneIds");
    if (args.productIds !== undefined) patch.productIds = await requireOwnIds(ctx, "products", doc.businessId, args.productIds, "productIds");
    await ctx.db.patch("resources", doc._id, patch);
    return null;
  },
});

/** Links the resource to a staff member (the provider it is), or unlinks it with null. */
export const linkUser = mutation({
  args: { resourceId: v.id("resources"), userId: v.union(v.id("users"), v.null()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { doc } = await requireDocRole(ctx, await ctx.db.get("resources", args.resourceId), "manager", "resourceId", "Resource not found.");
    const membership = args.userId === null ? null : await requireLinkableUser(ctx, doc.businessId, args.userId, doc._id);
    await unlinkUser(ctx, doc);
    await ctx.db.patch("resources", doc._id, { userId: args.userId ?? undefined });
    if (membership !== null) await ctx.db.patch("memberships", membership._id, { resourceId: doc._id });
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Date overrides (manager and up)
// ---------------------------------------------------------------------------------------

/** Sets one local date's hours (or closes it), replacing any earlier override of that date. */
export const setDateOverride = mutation({
  args: { resourceId: v.id("resources"), date: v.string(), closed: v.boolean(), hours: v.array(vLocalTimeRange) },
  returns: v.id("resourceDateOverrides"),
  handler: async (ctx, args) => {
    const { doc } = await requireDocRole(ctx, await ctx.db.get("resources", args.resourceId), "manager", "resourceId", "Resource not found.");
    const date = requireLocalDate(args.date);
    const hours = validateDayHours(args.hours);
    if (args.closed && hours.length > 0) throw invalid("hours", "A closed day has no hours.");
    if (!args.closed && hours.length === 0) throw invalid("hours", "Give the day's hours, or mark it closed.");
    const existing = await ctx.db
      .query("resourceDateOverrides")
      .withIndex("by_resourceId_and_date", (q) => q.eq("resourceId", doc._id).eq("date", date))
      .unique();
    if (existing !== null) {
      await ctx.db.patch("resourceDateOverrides", existing._id, { closed: args.closed, hours });
      return existing._id;
    }
    return await ctx.db.insert("resourceDateOverrides", { businessId: doc.businessId, resourceId: doc._id, date, closed: args.closed, hours });
  },
});

export const removeDateOverride = mutation({
  args: { resourceId: v.id("resources"), date: v.string() },
  returns: v.boolean(),
  handler: async (ctx, args) => {
    const { doc } = await requireDocRole(ctx, await ctx.db.get("resources", args.resourceId), "manager", "resourceId", "Resource not found.");
    const date = requireLocalDate(args.date);
    const existing = await ctx.db
      .query("resourceDateOverrides")
      .withIndex("by_resourceId_and_date", (q) => q.eq("resourceId", doc._id).eq("date", date))
      .unique();
    if (existing === null) return false;
    await ctx.db.delete("resourceDateOverrides", existing._id);
    return true;
  },
});

// ---------------------------------------------------------------------------------------
// Time off (manager and up, or the staff member whose resource it is)
// ---------------------------------------------------------------------------------------

/** Managers for any resource; a staff member only for the resource linked to them. */
async function requireTimeOffAccess(ctx: MutationCtx | QueryCtx, resourceId: Id<"resources">) {
  const user = requireUser(ctx);
  const resource = await ctx.db.get("resources", resourceId);
  if (resource === null) throw appError("NOT_FOUND", "Resource not found.", { param: "resourceId" });
  const membership = await membershipOf(ctx, resource.businessId, user._id);
  if (membership !== null && membership.role === "staff" && resource.userId === user._id) {
    const business = await ctx.db.get("businesses", resource.businessId);
    if (business === null || business.status === "DELETED") throw appError("NOT_FOUND", "Resource not found.", { param: "resourceId" });
    return resource;
  }
  await requireDocRole(ctx, resource, "manager", "resourceId", "Resource not found.");
  return resource;
}

export const addTimeOff = mutation({
  args: { resourceId: v.id("resources"), start: v.number(), end: v.number(), reason: v.optional(v.string()) },
  returns: v.id("timeOff"),
  handler: async (ctx, args) => {
    const resource = await requireTimeOffAccess(ctx, args.resourceId);
    const start = requireInstant(args.start, "start");
    const end = requireInstant(args.end, "end");
    if (end <= start) throw invalid("end", "end must be after start.");
    if (end - start > MAX_TIME_OFF_SPAN_MS) throw invalid("end", "Time off spans at most a year; add several.");
    const reason = optionalText(args.reason, "reason", 500);
    return await ctx.db.insert("timeOff", { businessId: resource.businessId, resourceId: resource._id, start, end, reason });
  },
});

export const removeTimeOff = mutation({
  args: { timeOffId: v.id("timeOff") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const timeOff = await ctx.db.get("timeOff", args.timeOffId);
    if (timeOff === null) throw appError("NOT_FOUND", "Time off not found.", { param: "timeOffId" });
    try {
      await requireTimeOffAccess(ctx, timeOff.resourceId);
    } catch (error) {
      // Never confirm that another tenant's time-off id exists: name the argument given.
      const data = (error as { data?: { code?: string } }).data;
      if (data?.code === "NOT_FOUND") throw appError("NOT_FOUND", "Time off not found.", { param: "timeOffId" });
      throw error;
    }
    await ctx.db.delete("timeOff", timeOff._id);
    return null;
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
