/**
 * Resource commands: create and update resources (providers, rooms, chairs, desks), link a
 * resource to a staff member, weekly hours, date overrides and time off. Each takes an
 * explicit actor (`model/actor.ts`); `convex/resources.ts` (portal) and
 * `convex/api/internalResources.ts` (REST) only authenticate, call them and present.
 *
 * Managers and owners write everything; API keys (scope checked by the REST layer) write
 * resources; a provider manages the time off of their own resource.
 *
 * A schedule change that would leave booked jobs outside the resource's time (time off, a
 * changed or removed date override, new weekly hours, other zones or services, deactivation)
 * is never applied silently: `scheduleImpact` lists the jobs it hits (the same check that
 * places work, run on the draft), and the command refuses with CONFLICT unless the caller
 * says where those jobs go: back to the unassigned queue, or to another provider who can
 * take them at the same time (the queue when nobody can). Moves keep the job's time, so the
 * customer's appointment does not change; they emit the usual assignment events and a
 * history row.
 */
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx, QueryCtx as RawQueryCtx } from "../_generated/server";
import { bookingTitle } from "../../domain/pricing";
import { addDays, DAY_MS, localDayRange } from "../../domain/time";
import { membershipOf } from "../access";
import { appError } from "../errors";
import { authorize, getById, loadAuthorized, loadInBusiness, type CommandActor, type Grant, type Permission } from "./actor";
import { placementRequestFor } from "./bookingCreate";
import { emitScheduleChanged, LIVE_GRID_DAYS } from "./availabilityGrid";
import { emitBookingChange } from "./bookingEvents";
import {
  activeAssignmentsAround,
  inspectResource,
  placeOnResource,
  pickResource,
  refusalInWords,
  releaseAssignments,
  type ScheduleDraft,
} from "./bookingSlots";
import { ASSIGNABLE_STATUSES, recordAssignmentChange } from "./dispatchCommands";
import { vResourceKind, vWeeklyHours } from "../schema";
import { invalid, optionalText, requireDistinct, requireInstant, requireInt, requireLocalDate, requireLocalTime, requireText } from "./validation";

const MAX_RESOURCES = 500;
const MAX_HOURS_ENTRIES = 50;
const MAX_TIME_OFF_SPAN_MS = 366 * DAY_MS;
/** How far ahead a change of weekly hours or settings is checked against booked jobs. */
const SETTINGS_IMPACT_DAYS = 400;
/** Most jobs one schedule change may move in one transaction. */
const MAX_AFFECTED = 100;

type WeeklyHours = Doc<"resources">["weeklyHours"];
type TimeRange = { start: string; end: string };

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/** Minutes of a local "HH:MM" range; an end at or before the start crosses midnight. */
function rangeMinutes(range: TimeRange, param: string): { start: number; end: number } {
  const start = requireLocalTime(range.start, `${param}.start`);
  const end = requireLocalTime(range.end, `${param}.end`, true);
  if (start === end) throw invalid(`${param}.end`, "A time range cannot be empty.");
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

/**
 * Argument validators of a resource's own fields, shared by every adapter; each adds the
 * zone and product ids in its own form (typed ids in the portal, strings over REST).
 */
export const vResourceFields = {
  name: v.string(),
  kind: vResourceKind,
  capacity: v.number(),
  priority: v.number(),
  weeklyHours: vWeeklyHours,
  bufferBeforeMinutes: v.number(),
  bufferAfterMinutes: v.number(),
  maxBookingsPerDay: v.optional(v.number()),
  color: v.optional(v.string()),
};

/** The same fields, each optional, for updates (`maxBookingsPerDay: null` clears the limit). */
export const vResourcePatchFields = {
  name: v.optional(v.string()),
  kind: v.optional(vResourceKind),
  capacity: v.optional(v.number()),
  priority: v.optional(v.number()),
  weeklyHours: v.optional(vWeeklyHours),
  bufferBeforeMinutes: v.optional(v.number()),
  bufferAfterMinutes: v.optional(v.number()),
  maxBookingsPerDay: v.optional(v.union(v.number(), v.null())),
  color: v.optional(v.string()),
  active: v.optional(v.boolean()),
};

export const vMoveAffected = v.union(v.literal("queue"), v.literal("other_provider"));

export type ResourceSettings = {
  name: string;
  kind: Doc<"resources">["kind"];
  capacity: number;
  priority: number;
  weeklyHours: WeeklyHours;
  bufferBeforeMinutes: number;
  bufferAfterMinutes: number;
  maxBookingsPerDay?: number;
  /** Ids as given (REST passes strings): each is checked to be the business's own. */
  zoneIds: string[];
  productIds: string[];
  color?: string;
};

export type ResourcePatch = Partial<Omit<ResourceSettings, "maxBookingsPerDay">> & {
  /** null clears the limit. */
  maxBookingsPerDay?: number | null;
  active?: boolean;
};

function validateScalars(args: ResourcePatch): Partial<Doc<"resources">> {
  const out: Partial<Doc<"resources">> = {};
  if (args.name !== undefined) out.name = requireText(args.name, "name", 120);
  if (args.kind !== undefined) out.kind = args.kind;
  if (args.capacity !== undefined) out.capacity = requireInt(args.capacity, "capacity", 1, 10_000);
  if (args.priority !== undefined) out.priority = requireInt(args.priority, "priority", 0, 10_000);
  if (args.bufferBeforeMinutes !== undefined) out.bufferBeforeMinutes = requireInt(args.bufferBeforeMinutes, "bufferBeforeMinutes", 0, 720);
  if (args.bufferAfterMinutes !== undefined) out.bufferAfterMinutes = requireInt(args.bufferAfterMinutes, "bufferAfterMinutes", 0, 720);
  if (args.maxBookingsPerDay === null) out.maxBookingsPerDay = undefined;
  else if (args.maxBookingsPerDay !== undefined) out.maxBookingsPerDay = requireInt(args.maxBookingsPerDay, "maxBookingsPerDay", 1, 1_000);
  if (args.color !== undefined) {
    if (!/^#[0-9a-fA-F]{6}$/.test(args.color)) throw invalid("color", 'color must be "#RRGGBB".');
    out.color = args.color;
  }
  if (args.active !== undefined) out.active = args.active;
  if (args.weeklyHours !== undefined) out.weeklyHours = validateWeeklyHours(args.weeklyHours);
  return out;
}

async function ownIdsOf<T extends "zones" | "products">(ctx: RawQueryCtx, table: T, businessId: Id<"businesses">, ids: string[], param: string) {
  const out: Id<T>[] = [];
  for (const [i, id] of requireDistinct(ids, param).entries()) out.push((await loadInBusiness(ctx, table, businessId, id, `${param}[${i}]`))._id as Id<T>);
  return out;
}

async function ownZoneAndProductIds(ctx: RawQueryCtx, businessId: Id<"businesses">, args: Pick<ResourcePatch, "zoneIds" | "productIds">) {
  const out: Partial<Doc<"resources">> = {};
  if (args.zoneIds !== undefined) out.zoneIds = await ownIdsOf(ctx, "zones", businessId, args.zoneIds, "zoneIds");
  if (args.productIds !== undefined) out.productIds = await ownIdsOf(ctx, "products", businessId, args.productIds, "productIds");
  return out;
}

/** The user must be on the staff and not already another resource of the business. */
async function requireLinkableUser(ctx: RawQueryCtx, businessId: Id<"businesses">, userId: Id<"users">, self?: Id<"resources">) {
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

/** Managers and owners (API keys with resources:write) plan resources and their hours. */
const MANAGE: Permission = { role: "manager", scope: { resource: "resources", access: "write" } };
/** Time off: staff too, for their own resource (checked by `requireOwnOrManaged`). */
const TIME_OFF: Permission = { role: "staff", scope: { resource: "resources", access: "write" } };

async function loadResource(ctx: RawQueryCtx, actor: CommandActor, resourceId: string, need: Permission = MANAGE) {
  const { doc, grant } = await loadAuthorized(ctx, actor, "resources", resourceId, "resourceId", need);
  return { resource: doc, grant };
}

/** A provider may only touch the time off of the resource that is theirs. */
function requireOwnOrManaged(grant: Grant, resource: Doc<"resources">) {
  if (grant.kind === "user" && grant.role === "staff" && resource.userId !== grant.access.user._id) {
    throw appError("FORBIDDEN", "This needs the manager role in the business.");
  }
}

async function loadResourceForTimeOff(ctx: RawQueryCtx, actor: CommandActor, resourceId: string) {
  const loaded = await loadResource(ctx, actor, resourceId, TIME_OFF);
  requireOwnOrManaged(loaded.grant, loaded.resource);
  return loaded;
}

// ---------------------------------------------------------------------------------------
// Which booked jobs a schedule change hits
// ---------------------------------------------------------------------------------------

export type AffectedJob = {
  bookingId: Id<"bookings">;
  start: number;
  end: number;
  status: Doc<"bookings">["status"];
  customerName: string;
  serviceName: string;
  /** Why the resource could no longer do it, in words ("time off", "not working Monday"). */
  reason: string;
  /** Who would take it if moved to another provider now; absent: the unassigned queue. */
  suggestedResourceId?: Id<"resources">;
  suggestedResourceName?: string;
};

/** Where the jobs a change hits go: the unassigned queue, or another provider who can take them. */
export type MoveAffected = "queue" | "other_provider";

export type Resolution = {
  moveAffected: MoveAffected;
  /** The jobs the person confirmed moving; a job hit that is not listed refuses the change. */
  confirmedBookingIds?: Id<"bookings">[];
};

/** Adapter arguments saying what to do with the booked jobs a schedule change hits. */
export const resolutionArgs = {
  moveAffected: v.optional(vMoveAffected),
  confirmedBookingIds: v.optional(v.array(v.id("bookings"))),
};

export function resolutionOf(args: { moveAffected?: MoveAffected; confirmedBookingIds?: Id<"bookings">[] }): Resolution | undefined {
  if (args.moveAffected === undefined) {
    if (args.confirmedBookingIds !== undefined) throw invalid("moveAffected", "Say where the affected jobs go.");
    return undefined;
  }
  return { moveAffected: args.moveAffected, ...(args.confirmedBookingIds ? { confirmedBookingIds: args.confirmedBookingIds } : {}) };
}

function assignPolicy(business: Doc<"businesses">): "priority" | "round_robin" {
  return business.policies.booking.autoAssign === "round_robin" ? "round_robin" : "priority";
}

/**
 * The jobs on `resource` in [from, to) that pass the check today and fail it under `draft`,
 * soonest first, with the reason in words and (for the preview) who could take each instead.
 */
export async function scheduleImpact(
  ctx: RawQueryCtx,
  resource: Doc<"resources">,
  draft: ScheduleDraft,
  range: { from: number; to: number },
  now: number,
  options: { suggest: boolean } = { suggest: true },
): Promise<AffectedJob[]> {
  const business = (await ctx.db.get("businesses", resource.businessId))!;
  const from = Math.max(range.from, now);
  if (range.to <= from) return [];
  const assignments = (await activeAssignmentsAround(ctx, resource._id, from, range.to)).filter((a) => a.busyStart < range.to);
  const affected: AffectedJob[] = [];
  const seen = new Set<string>();
  const productNames = new Map<string, string>();
  for (const assignment of assignments) {
    if (seen.has(assignment.bookingId)) continue;
    seen.add(assignment.bookingId);
    const booking = await ctx.db.get("bookings", assignment.bookingId);
    if (booking === null || !ASSIGNABLE_STATUSES.includes(booking.status) || booking.end <= now) continue;
    const request = placementRequestFor(business, booking, booking.start, "staff", now, booking._id);
    const after = await inspectResource(ctx, request, resource, draft);
    if (after.check.ok) continue;
    const before = await inspectResource(ctx, request, resource);
    if (!before.check.ok) continue;
    const customer = await ctx.db.get("customers", booking.customerId);
    const job: AffectedJob = {
      bookingId: booking._id,
      start: booking.start,
      end: booking.end,
      status: booking.status,
      customerName: customer?.name ?? "Unknown customer",
      serviceName: bookingTitle(booking.items),
      reason: await refusalInWords(ctx, request, after.check, productNames),
    };
    if (options.suggest) {
      const picked = await pickResource(ctx, request, { policy: assignPolicy(business), exclude: new Set([resource._id as string]) });
      if (!("failure" in picked)) Object.assign(job, { suggestedResourceId: picked.resource._id, suggestedResourceName: picked.resource.name });
    }
    affected.push(job);
    if (affected.length > MAX_AFFECTED) break;
  }
  return affected.sort((a, b) => a.start - b.start);
}

function describeJobs(jobs: AffectedJob[]): string {
  const names = jobs.slice(0, 3).map((j) => j.customerName);
  const more = jobs.length > 3 ? ` and ${jobs.length - 3} more` : "";
  return `${names.join(", ")}${more}`;
}

/**
 * Refuses the change while it hits jobs the caller did not say what to do with; returns
 * the resolution to apply otherwise.
 */
function requireResolution(affected: AffectedJob[], resolution: Resolution | undefined, what: string): Resolution | null {
  if (affected.length === 0) return null;
  if (affected.length > MAX_AFFECTED) {
    throw appError("CONFLICT", `This ${what} hits more than ${MAX_AFFECTED} booked jobs; change a shorter period at a time.`);
  }
  const count = affected.length === 1 ? "1 booked job" : `${affected.length} booked jobs`;
  const details = { affectedBookingIds: affected.map((j) => j.bookingId) };
  if (resolution === undefined) {
    throw appError("CONFLICT", `This ${what} overlaps ${count} (${describeJobs(affected)}). Review them, then confirm where they go.`, {
      param: "moveAffected",
      details,
    });
  }
  if (resolution.confirmedBookingIds !== undefined) {
    const confirmed = new Set<string>(resolution.confirmedBookingIds);
    const unconfirmed = affected.filter((j) => !confirmed.has(j.bookingId));
    if (unconfirmed.length > 0) {
      throw appError("CONFLICT", `Another job was booked meanwhile (${describeJobs(unconfirmed)}). Review the jobs again.`, {
        param: "confirmedBookingIds",
        details,
      });
    }
  }
  return resolution;
}

/**
 * Takes each affected job off `resource` (the change is already written) and gives it to
 * another provider who can take it at its time, or puts it in the unassigned queue.
 */
async function moveAffectedJobs(
  ctx: RawMutationCtx,
  actor: CommandActor,
  grant: Grant,
  resource: Doc<"resources">,
  affected: AffectedJob[],
  resolution: Resolution,
  why: string,
  now: number,
): Promise<{ bookingId: Id<"bookings">; resourceId: Id<"resources"> | null }[]> {
  const business = (await ctx.db.get("businesses", resource.businessId))!;
  const moved = [];
  for (const job of affected) {
    const booking = (await ctx.db.get("bookings", job.bookingId))!;
    await releaseAssignments(ctx, booking._id, { only: resource._id });
    let resourceIds = booking.assignedResourceIds.filter((id) => id !== resource._id);
    let to: Id<"resources"> | null = null;
    if (resolution.moveAffected === "other_provider" && resourceIds.length === 0 && business.status === "ACTIVE") {
      const request = placementRequestFor(business, booking, booking.start, "staff", now, booking._id);
      const picked = await pickResource(ctx, request, { policy: assignPolicy(business), exclude: new Set([resource._id as string]) });
      if (!("failure" in picked)) {
        await placeOnResource(ctx, request, picked.resource, booking._id, "offered");
        to = picked.resource._id;
        resourceIds = [to];
      }
    }
    await ctx.db.patch("bookings", booking._id, { assignedResourceIds: resourceIds });
    const where = to === null ? "to the unassigned queue" : "to another provider";
    await recordAssignmentChange(ctx, booking, actor, grant, `moved off ${resource.name}'s schedule (${why}): ${where}`, now);
    const updated = (await ctx.db.get("bookings", booking._id))!;
    // The job keeps its time, so the customer's appointment is unchanged: no notice is due.
    await emitBookingChange(ctx, updated, "assigned", { previousResourceIds: booking.assignedResourceIds });
    moved.push({ bookingId: booking._id, resourceId: to });
  }
  return moved;
}

export type Moved = { bookingId: Id<"bookings">; resourceId: Id<"resources"> | null }[];

// ---------------------------------------------------------------------------------------
// Schedule changes as drafts: one description for preview and command alike
// ---------------------------------------------------------------------------------------

export type ScheduleChange =
  | { kind: "time_off"; resourceId: string; start: number; end: number; reason?: string }
  | { kind: "date_override"; resourceId: string; date: string; closed: boolean; hours: TimeRange[] }
  | { kind: "remove_date_override"; resourceId: string; date: string }
  | { kind: "settings"; resourceId: string; patch: ResourcePatch };

type PlannedChange = {
  resource: Doc<"resources">;
  grant: Grant;
  draft: ScheduleDraft;
  range: { from: number; to: number };
  what: string;
  /** Validated values to write. */
  timeOff?: { start: number; end: number; reason?: string };
  override?: { date: string; closed: boolean; hours: TimeRange[] };
  patch?: Partial<Doc<"resources">>;
};

/** Validates a change and turns it into a draft with the time range it can affect. */
async function planChange(ctx: RawQueryCtx, actor: CommandActor, change: ScheduleChange, now: number): Promise<PlannedChange> {
  switch (change.kind) {
    case "time_off": {
      const { resource, grant } = await loadResourceForTimeOff(ctx, actor, change.resourceId);
      const start = requireInstant(change.start, "start");
      const end = requireInstant(change.end, "end");
      if (end <= start) throw invalid("end", "end must be after start.");
      if (end - start > MAX_TIME_OFF_SPAN_MS) throw invalid("end", "Time off spans at most a year; add several.");
      const reason = optionalText(change.reason, "reason", 500);
      return {
        resource,
        grant,
        draft: { addTimeOff: { start, end } },
        range: { from: start, to: end },
        what: "time off",
        timeOff: { start, end, ...(reason !== undefined ? { reason } : {}) },
      };
    }
    case "date_override":
    case "remove_date_override": {
      const { resource, grant } = await loadResource(ctx, actor, change.resourceId);
      const date = requireLocalDate(change.date);
      const business = (await ctx.db.get("businesses", resource.businessId))!;
      // Hours of the day before can run past midnight into this date.
      const range = { from: localDayRange(addDays(date, -1), business.timeZone).start, to: localDayRange(date, business.timeZone).end };
      if (change.kind === "remove_date_override") {
        return { resource, grant, draft: { override: { date, set: null } }, range, what: "return to the weekly hours" };
      }
      const hours = validateDayHours(change.hours);
      if (change.closed && hours.length > 0) throw invalid("hours", "A closed day has no hours.");
      if (!change.closed && hours.length === 0) throw invalid("hours", "Give the day's hours, or mark it closed.");
      return {
        resource,
        grant,
        draft: { override: { date, set: { closed: change.closed, hours } } },
        range,
        what: change.closed ? "day off" : "change of hours",
        override: { date, closed: change.closed, hours },
      };
    }
    case "settings": {
      const { resource, grant } = await loadResource(ctx, actor, change.resourceId);
      const patch = { ...validateScalars(change.patch), ...(await ownZoneAndProductIds(ctx, resource.businessId, change.patch)) };
      const changed = { ...resource, ...patch };
      // An inactive resource takes no work: every job it has is hit.
      const inactive = changed.active === false ? { ...changed, weeklyHours: [] } : changed;
      return {
        resource,
        grant,
        draft: { resource: inactive },
        range: { from: now, to: now + SETTINGS_IMPACT_DAYS * DAY_MS },
        what: patch.active === false ? "deactivation" : "schedule change",
        patch,
      };
    }
  }
}

function touchesSchedule(planned: PlannedChange): boolean {
  if (planned.patch === undefined) return true;
  const keys: (keyof Doc<"resources">)[] = ["weeklyHours", "zoneIds", "productIds", "active", "bufferBeforeMinutes", "bufferAfterMinutes", "maxBookingsPerDay", "capacity"];
  return keys.some((k) => k in planned.patch!);
}

/** Read-only: the booked jobs a schedule change would hit, with who could take each. */
export async function previewScheduleChange(ctx: RawQueryCtx, actor: CommandActor, change: ScheduleChange, now: number): Promise<AffectedJob[]> {
  const planned = await planChange(ctx, actor, change, now);
  if (!touchesSchedule(planned)) return [];
  return scheduleImpact(ctx, planned.resource, planned.draft, planned.range, now);
}

/** Checks the impact, writes the change, then moves the jobs it hit as resolved. */
async function applyScheduleChange(
  ctx: RawMutationCtx,
  actor: CommandActor,
  change: ScheduleChange,
  resolution: Resolution | undefined,
  now: number,
  write: (planned: PlannedChange) => Promise<void>,
): Promise<{ resource: Doc<"resources">; moved: Moved }> {
  const planned = await planChange(ctx, actor, change, now);
  const affected = touchesSchedule(planned)
    ? await scheduleImpact(ctx, planned.resource, planned.draft, planned.range, now, { suggest: false })
    : [];
  const resolved = requireResolution(affected, resolution, planned.what);
  await write(planned);
  const resource = (await ctx.db.get("resources", planned.resource._id))!;
  if (touchesSchedule(planned)) await emitScheduleChanged(ctx, [planned.resource, resource], planned.range, now);
  const moved = resolved === null ? [] : await moveAffectedJobs(ctx, actor, planned.grant, resource, affected, resolved, planned.what, now);
  return { resource, moved };
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

export async function createResource(
  ctx: RawMutationCtx,
  actor: CommandActor,
  businessId: Id<"businesses">,
  args: ResourceSettings & { userId?: Id<"users"> },
): Promise<Doc<"resources">> {
  await authorize(ctx, actor, businessId, MANAGE);
  const scalars = validateScalars(args);
  const ids = await ownZoneAndProductIds(ctx, businessId, args);
  const membership = args.userId === undefined ? null : await requireLinkableUser(ctx, businessId, args.userId);
  const count = (await ctx.db.query("resources").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(MAX_RESOURCES)).length;
  if (count >= MAX_RESOURCES) throw appError("CONFLICT", `At most ${MAX_RESOURCES} resources per business.`);
  const resourceId = await ctx.db.insert("resources", {
    businessId,
    kind: args.kind,
    name: scalars.name!,
    userId: args.userId,
    capacity: scalars.capacity!,
    priority: scalars.priority!,
    active: true,
    weeklyHours: scalars.weeklyHours!,
    bufferBeforeMinutes: scalars.bufferBeforeMinutes!,
    bufferAfterMinutes: scalars.bufferAfterMinutes!,
    maxBookingsPerDay: scalars.maxBookingsPerDay,
    zoneIds: ids.zoneIds!,
    productIds: ids.productIds!,
    color: scalars.color,
  });
  if (membership !== null) await ctx.db.patch("memberships", membership._id, { resourceId });
  const created = (await ctx.db.get("resources", resourceId))!;
  const now = Date.now();
  await emitScheduleChanged(ctx, [created], { from: now, to: now + LIVE_GRID_DAYS * DAY_MS }, now);
  return created;
}

/** Updates settings; weekly hours, zones, services or deactivation that hit booked jobs need a resolution. */
export async function updateResource(
  ctx: RawMutationCtx,
  actor: CommandActor,
  resourceId: string,
  patch: ResourcePatch,
  resolution: Resolution | undefined,
  now: number,
) {
  return applyScheduleChange(ctx, actor, { kind: "settings", resourceId, patch }, resolution, now, async (planned) => {
    await ctx.db.patch("resources", planned.resource._id, planned.patch!);
  });
}

/** Links the resource to a staff member (the provider it is), or unlinks it with null. */
export async function linkResourceUser(ctx: RawMutationCtx, actor: CommandActor, resourceId: string, userId: Id<"users"> | null) {
  const { resource } = await loadResource(ctx, actor, resourceId);
  const membership = userId === null ? null : await requireLinkableUser(ctx, resource.businessId, userId, resource._id);
  if (resource.userId !== undefined) {
    const previous = await membershipOf(ctx, resource.businessId, resource.userId);
    if (previous !== null && previous.resourceId === resource._id) await ctx.db.patch("memberships", previous._id, { resourceId: undefined });
  }
  await ctx.db.patch("resources", resource._id, { userId: userId ?? undefined });
  if (membership !== null) await ctx.db.patch("memberships", membership._id, { resourceId: resource._id });
}

/** Sets one local date's hours (or closes it), replacing any earlier override of that date. */
export async function setDateOverride(
  ctx: RawMutationCtx,
  actor: CommandActor,
  args: { resourceId: string; date: string; closed: boolean; hours: TimeRange[] },
  resolution: Resolution | undefined,
  now: number,
) {
  let overrideId: Id<"resourceDateOverrides"> | null = null;
  const result = await applyScheduleChange(ctx, actor, { kind: "date_override", ...args }, resolution, now, async (planned) => {
    const { date, closed, hours } = planned.override!;
    const existing = await findOverride(ctx, planned.resource._id, date);
    if (existing !== null) {
      await ctx.db.patch("resourceDateOverrides", existing._id, { closed, hours });
      overrideId = existing._id;
    } else {
      overrideId = await ctx.db.insert("resourceDateOverrides", { businessId: planned.resource.businessId, resourceId: planned.resource._id, date, closed, hours });
    }
  });
  return { overrideId: overrideId!, moved: result.moved };
}

async function findOverride(ctx: RawQueryCtx, resourceId: Id<"resources">, date: string) {
  return await ctx.db
    .query("resourceDateOverrides")
    .withIndex("by_resourceId_and_date", (q) => q.eq("resourceId", resourceId).eq("date", date))
    .unique();
}

/** Returns a date to the weekly hours; false when it had no override. */
export async function removeDateOverride(
  ctx: RawMutationCtx,
  actor: CommandActor,
  args: { resourceId: string; date: string },
  resolution: Resolution | undefined,
  now: number,
) {
  let removed = false;
  const result = await applyScheduleChange(ctx, actor, { kind: "remove_date_override", ...args }, resolution, now, async (planned) => {
    const existing = await findOverride(ctx, planned.resource._id, planned.draft.override!.date);
    if (existing !== null) {
      await ctx.db.delete("resourceDateOverrides", existing._id);
      removed = true;
    }
  });
  return { removed, moved: result.moved };
}

export async function addTimeOff(
  ctx: RawMutationCtx,
  actor: CommandActor,
  args: { resourceId: string; start: number; end: number; reason?: string },
  resolution: Resolution | undefined,
  now: number,
) {
  let timeOffId: Id<"timeOff"> | null = null;
  const result = await applyScheduleChange(ctx, actor, { kind: "time_off", ...args }, resolution, now, async (planned) => {
    timeOffId = await ctx.db.insert("timeOff", { businessId: planned.resource.businessId, resourceId: planned.resource._id, ...planned.timeOff! });
  });
  return { timeOffId: timeOffId!, moved: result.moved };
}

export async function removeTimeOff(ctx: RawMutationCtx, actor: CommandActor, timeOffId: string) {
  const timeOff = await getById(ctx, "timeOff", timeOffId);
  if (timeOff === null) throw appError("NOT_FOUND", "Time off not found.", { param: "timeOffId" });
  const grant = await authorize(ctx, actor, timeOff.businessId, TIME_OFF, { param: "timeOffId", message: "Time off not found." });
  requireOwnOrManaged(grant, (await ctx.db.get("resources", timeOff.resourceId))!);
  await ctx.db.delete("timeOff", timeOff._id);
  await emitScheduleChanged(ctx, [(await ctx.db.get("resources", timeOff.resourceId))!], { from: timeOff.start, to: timeOff.end }, Date.now());
}
