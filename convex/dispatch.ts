/**
 * Dispatch: the board (providers' jobs of one local day on a timeline plus the unassigned
 * queue), manual assignment and reassignment by dispatchers, offers accepted or declined by
 * providers, and the provider's own day.
 *
 * Assignments go through `model/bookingSlots.placeOnResource`, the same serialization point
 * as bookings, so a dispatcher can never put a job on a resource that is not free: the
 * mutation fails with SLOT_UNAVAILABLE and nothing changes.
 */
import { v } from "convex/values";
import { ASSIGNABLE_STATUSES, ON_BOARD_STATUSES, UPCOMING_STATUSES } from "../domain/bookingStatus";
import { localDayRange, todayIn, weekdayOf, isValidLocalDate } from "../domain/time";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx as RawMutationCtx, QueryCtx as RawQueryCtx } from "./_generated/server";
import { requireBusinessRole, type Access } from "./access";
import { appError } from "./errors";
import { mutation, query } from "./functions";
import { loadBookingForViewer, staffResourceId } from "./model/bookingAccess";
import { placementRequestFor, requireBookableBusiness } from "./model/bookingCreate";
import { emitBookingChange } from "./model/bookingEvents";
import {
  assignmentsOf,
  autoAssign,
  isActiveAssignment,
  MAX_BUSY_SPAN_MS,
  MAX_RESOURCES,
  placeOnResource,
  releaseAssignments,
} from "./model/bookingSlots";
import { vBookingStatus } from "./schema";

const MAX_JOBS_PER_DAY = 1000;
const ASSIGNABLE: ReadonlyArray<Doc<"bookings">["status"]> = ASSIGNABLE_STATUSES;
const LIVE: ReadonlyArray<Doc<"bookings">["status"]> = UPCOMING_STATUSES;
const ON_BOARD: ReadonlyArray<Doc<"bookings">["status"]> = ON_BOARD_STATUSES;

const vJob = v.object({
  bookingId: v.id("bookings"),
  status: vBookingStatus,
  start: v.number(),
  end: v.number(),
  arrivalWindowEnd: v.optional(v.number()),
  busyStart: v.optional(v.number()),
  busyEnd: v.optional(v.number()),
  assignmentStatus: v.optional(v.union(v.literal("offered"), v.literal("accepted"))),
  zoneId: v.id("zones"),
  customerId: v.id("customers"),
  customerName: v.string(),
  serviceName: v.string(),
  totalMinor: v.number(),
  address: v.optional(v.string()),
});

function requireDate(date: string) {
  if (!isValidLocalDate(date)) throw appError("INVALID_ARGUMENT", "`date` must be a date YYYY-MM-DD.", { param: "date" });
}

function addressLine(address: Doc<"bookings">["address"]): string | undefined {
  if (address === undefined) return undefined;
  return [address.line1, address.line2, address.city, address.postalCode].filter(Boolean).join(", ");
}

async function jobOf(
  ctx: RawQueryCtx,
  booking: Doc<"bookings">,
  assignment: Doc<"bookingAssignments"> | null,
  names: Map<string, string>,
) {
  let customerName = names.get(booking.customerId);
  if (customerName === undefined) {
    customerName = (await ctx.db.get("customers", booking.customerId))?.name ?? "Unknown customer";
    names.set(booking.customerId, customerName);
  }
  return {
    bookingId: booking._id,
    status: booking.status,
    start: booking.start,
    end: booking.end,
    ...(booking.arrivalWindowEnd !== undefined ? { arrivalWindowEnd: booking.arrivalWindowEnd } : {}),
    ...(assignment && isActiveAssignment(assignment)
      ? { busyStart: assignment.busyStart, busyEnd: assignment.busyEnd, assignmentStatus: assignment.status as "offered" | "accepted" }
      : {}),
    zoneId: booking.zoneId,
    customerId: booking.customerId,
    customerName,
    serviceName: booking.items.map((i) => i.name).join(", ") || "Service",
    totalMinor: booking.quote.totalMinor,
    ...(booking.address ? { address: addressLine(booking.address) } : {}),
  };
}

export const board = query({
  args: { businessId: v.id("businesses"), date: v.string() },
  returns: v.object({
    date: v.string(),
    timeZone: v.string(),
    dayStart: v.number(),
    dayEnd: v.number(),
    providers: v.array(
      v.object({
        resourceId: v.id("resources"),
        name: v.string(),
        kind: v.string(),
        color: v.optional(v.string()),
        hours: v.array(v.object({ start: v.string(), end: v.string() })),
        jobs: v.array(vJob),
      }),
    ),
    unassigned: v.array(vJob),
  }),
  handler: async (ctx, args) => {
    const access = await requireBusinessRole(ctx, args.businessId, "manager");
    requireDate(args.date);
    const business = access.business;
    const range = localDayRange(args.date, business.timeZone);
    const resources = (
      await ctx.db
        .query("resources")
        .withIndex("by_businessId", (q) => q.eq("businessId", business._id))
        .take(MAX_RESOURCES)
    ).filter((r) => r.active);
    const assignments = (
      await ctx.db
        .query("bookingAssignments")
        .withIndex("by_businessId_and_localDate", (q) => q.eq("businessId", business._id).eq("localDate", args.date))
        .take(MAX_JOBS_PER_DAY)
    ).filter(isActiveAssignment);
    const bookings = await ctx.db
      .query("bookings")
      .withIndex("by_businessId_and_localDate", (q) => q.eq("businessId", business._id).eq("localDate", args.date))
      .take(MAX_JOBS_PER_DAY);
    const names = new Map<string, string>();
    const weekday = weekdayOf(args.date);
    const providers = [];
    for (const resource of resources) {
      const override = await ctx.db
        .query("resourceDateOverrides")
        .withIndex("by_resourceId_and_date", (q) => q.eq("resourceId", resource._id).eq("date", args.date))
        .unique();
      const hours = override
        ? override.closed
          ? []
          : override.hours
        : resource.weeklyHours.filter((h) => h.weekday === weekday).map((h) => ({ start: h.start, end: h.end }));
      const jobs = [];
      for (const booking of bookings) {
        if (!ON_BOARD.includes(booking.status) || !booking.assignedResourceIds.includes(resource._id)) continue;
        const assignment = assignments.find((a) => a.bookingId === booking._id && a.resourceId === resource._id) ?? null;
        jobs.push(await jobOf(ctx, booking, assignment, names));
      }
      jobs.sort((a, b) => a.start - b.start);
      providers.push({
        resourceId: resource._id,
        name: resource.name,
        kind: resource.kind,
        ...(resource.color ? { color: resource.color } : {}),
        hours,
        jobs,
      });
    }
    const unassigned = [];
    for (const booking of bookings) {
      if (LIVE.includes(booking.status) && booking.assignedResourceIds.length === 0) {
        unassigned.push(await jobOf(ctx, booking, null, names));
      }
    }
    unassigned.sort((a, b) => a.start - b.start);
    return { date: args.date, timeZone: business.timeZone, dayStart: range.start, dayEnd: range.end, providers, unassigned };
  },
});

async function loadResource(ctx: RawQueryCtx, businessId: Id<"businesses">, resourceId: Id<"resources">) {
  const resource = await ctx.db.get("resources", resourceId);
  if (resource === null || resource.businessId !== businessId) {
    throw appError("NOT_FOUND", "Resource not found.", { param: "resourceId" });
  }
  if (!resource.active) throw appError("INVALID_ARGUMENT", `${resource.name} is not active.`, { param: "resourceId" });
  return resource;
}

/** Places the booking on `resource` (accepted: a dispatcher's decision), replacing current ones. */
async function moveTo(
  ctx: RawMutationCtx,
  booking: Doc<"bookings">,
  resource: Doc<"resources">,
  now: number,
): Promise<Doc<"bookings">> {
  if (!ASSIGNABLE.includes(booking.status)) {
    throw appError("INVALID_TRANSITION", `A ${booking.status.toLowerCase()} booking cannot be assigned.`, { param: "bookingId" });
  }
  const business = await requireBookableBusiness(ctx, booking.businessId);
  const previous = booking.assignedResourceIds;
  await releaseAssignments(ctx, booking._id);
  const request = placementRequestFor(business, booking, booking.start, "staff", now, booking._id);
  await placeOnResource(ctx, request, resource, booking._id, "accepted");
  await ctx.db.patch("bookings", booking._id, { assignedResourceIds: [resource._id] });
  const updated = (await ctx.db.get("bookings", booking._id))!;
  await emitBookingChange(ctx, updated, "assigned", { previousResourceIds: previous });
  return updated;
}

const vAssignResult = v.object({ bookingId: v.id("bookings"), resourceIds: v.array(v.id("resources")) });

/** Assigns an unassigned booking from the queue. Refuses a resource that is not free. */
export const assign = mutation({
  args: { bookingId: v.id("bookings"), resourceId: v.id("resources") },
  returns: vAssignResult,
  handler: async (ctx, args) => {
    const { booking } = await loadBookingForViewer(ctx, args.bookingId, "write");
    await requireBusinessRole(ctx, booking.businessId, "manager");
    if (booking.assignedResourceIds.length > 0) {
      throw appError("CONFLICT", "The booking is already assigned; reassign it instead.", { param: "bookingId" });
    }
    const resource = await loadResource(ctx, booking.businessId, args.resourceId);
    const updated = await moveTo(ctx, booking, resource, Date.now());
    return { bookingId: updated._id, resourceIds: updated.assignedResourceIds };
  },
});

/** Moves a booking to another resource (same time). Refuses a resource that is not free. */
export const reassign = mutation({
  args: { bookingId: v.id("bookings"), resourceId: v.id("resources") },
  returns: vAssignResult,
  handler: async (ctx, args) => {
    const { booking } = await loadBookingForViewer(ctx, args.bookingId, "write");
    await requireBusinessRole(ctx, booking.businessId, "manager");
    const resource = await loadResource(ctx, booking.businessId, args.resourceId);
    if (booking.assignedResourceIds.length === 1 && booking.assignedResourceIds[0] === resource._id) {
      throw appError("INVALID_ARGUMENT", `The booking is already assigned to ${resource.name}.`, { param: "resourceId" });
    }
    const updated = await moveTo(ctx, booking, resource, Date.now());
    return { bookingId: updated._id, resourceIds: updated.assignedResourceIds };
  },
});

/** Returns a booking to the unassigned queue (manager+). */
export const unassign = mutation({
  args: { bookingId: v.id("bookings") },
  returns: vAssignResult,
  handler: async (ctx, args) => {
    const { booking } = await loadBookingForViewer(ctx, args.bookingId, "write");
    await requireBusinessRole(ctx, booking.businessId, "manager");
    if (!ASSIGNABLE.includes(booking.status)) {
      throw appError("INVALID_TRANSITION", `A ${booking.status.toLowerCase()} booking cannot be unassigned.`, { param: "bookingId" });
    }
    const released = await releaseAssignments(ctx, booking._id);
    await ctx.db.patch("bookings", booking._id, { assignedResourceIds: [] });
    await emitBookingChange(ctx, (await ctx.db.get("bookings", booking._id))!, "assigned", {
      previousResourceIds: released.map((a) => a.resourceId),
    });
    return { bookingId: booking._id, resourceIds: [] };
  },
});

/** The provider's own offered assignment of this booking (FORBIDDEN for anyone else). */
async function myOffer(ctx: RawQueryCtx, access: Access, booking: Doc<"bookings">) {
  const resourceId = staffResourceId(access);
  if (resourceId === null) throw appError("FORBIDDEN", "Only the provider the job is offered to can answer the offer.");
  const mine = (await assignmentsOf(ctx, booking._id)).find((a) => a.resourceId === resourceId && isActiveAssignment(a));
  if (mine === undefined) throw appError("FORBIDDEN", "This job is not offered to you.", { param: "bookingId" });
  return mine;
}

export const accept = mutation({
  args: { bookingId: v.id("bookings") },
  returns: v.object({ status: v.literal("accepted") }),
  handler: async (ctx, args) => {
    const { booking, access } = await loadBookingForViewer(ctx, args.bookingId, "write");
    const offer = await myOffer(ctx, access, booking);
    if (!ASSIGNABLE.includes(booking.status)) {
      throw appError("INVALID_TRANSITION", `The booking is ${booking.status.toLowerCase()}.`, { param: "bookingId" });
    }
    if (offer.status !== "accepted") {
      await ctx.db.patch("bookingAssignments", offer._id, { status: "accepted" });
      await emitBookingChange(ctx, booking, "assigned", {
        previousResourceIds: booking.assignedResourceIds,
        availabilityChanged: false,
      });
    }
    return { status: "accepted" as const };
  },
});

/**
 * The provider declines the job: their assignment is marked declined and the time freed;
 * the job goes to the next eligible free resource by the business's policy (never back to
 * anyone who declined it) or, with manual dispatch or nobody free, to the unassigned queue.
 */
export const decline = mutation({
  args: { bookingId: v.id("bookings"), reason: v.optional(v.string()) },
  returns: v.object({ resourceIds: v.array(v.id("resources")), queued: v.boolean() }),
  handler: async (ctx, args) => {
    const { booking, access } = await loadBookingForViewer(ctx, args.bookingId, "write");
    if (args.reason !== undefined && args.reason.length > 500) {
      throw appError("INVALID_ARGUMENT", "The reason is limited to 500 characters.", { param: "reason" });
    }
    const offer = await myOffer(ctx, access, booking);
    if (booking.status === "EN_ROUTE" || !ASSIGNABLE.includes(booking.status)) {
      throw appError("INVALID_TRANSITION", `A ${booking.status.toLowerCase()} job cannot be declined.`, { param: "bookingId" });
    }
    const now = Date.now();
    await releaseAssignments(ctx, booking._id, { only: offer.resourceId, as: "declined" });
    const declinedBy = new Set(
      (await assignmentsOf(ctx, booking._id)).filter((a) => a.status === "declined").map((a) => a.resourceId as string),
    );
    const business = (await ctx.db.get("businesses", booking.businessId))!;
    let resourceIds = booking.assignedResourceIds.filter((id) => id !== offer.resourceId);
    const policy = business.policies.booking.autoAssign;
    if (resourceIds.length === 0 && policy !== "manual" && business.status === "ACTIVE") {
      const request = placementRequestFor(business, booking, booking.start, "staff", now, booking._id);
      const placed = await autoAssign(ctx, request, booking._id, { policy, exclude: declinedBy });
      if (!("failure" in placed)) resourceIds = [placed.resource._id];
    }
    await ctx.db.patch("bookings", booking._id, { assignedResourceIds: resourceIds });
    await ctx.db.insert("bookingStatusHistory", {
      businessId: booking.businessId,
      bookingId: booking._id,
      from: booking.status,
      to: booking.status,
      at: now,
      actor: { role: access.role, userId: access.user._id },
      reason: `offer declined${args.reason ? `: ${args.reason}` : ""}`,
    });
    await emitBookingChange(ctx, (await ctx.db.get("bookings", booking._id))!, "assigned", {
      previousResourceIds: booking.assignedResourceIds,
    });
    return { resourceIds, queued: resourceIds.length === 0 };
  },
});

const MAX_NOTES_PER_CUSTOMER = 20;

/** The signed-in provider's jobs of one local day (default today) with staff-visible notes. */
export const myDay = query({
  args: { businessId: v.id("businesses"), date: v.optional(v.string()) },
  returns: v.object({
    date: v.string(),
    resourceId: v.id("resources"),
    jobs: v.array(
      v.object({
        job: vJob,
        customerPhone: v.optional(v.string()),
        customerNotes: v.optional(v.string()),
        staffNotes: v.array(v.object({ body: v.string(), createdAt: v.number() })),
      }),
    ),
  }),
  handler: async (ctx, args) => {
    const access = await requireBusinessRole(ctx, args.businessId, "staff");
    const resourceId = staffResourceId(access);
    if (resourceId === null) throw appError("FORBIDDEN", "You are not set up as a provider in this business.");
    const date = args.date ?? todayIn(Date.now(), access.business.timeZone);
    requireDate(date);
    const range = localDayRange(date, access.business.timeZone);
    // This resource's assignments of the day, released ones included: a finished job's time is
    // released but it stays on the provider's day.
    const assignments = (
      await ctx.db
        .query("bookingAssignments")
        .withIndex("by_resourceId_and_busyEnd", (q) =>
          q.eq("resourceId", resourceId).gt("busyEnd", range.start).lt("busyEnd", range.end + MAX_BUSY_SPAN_MS),
        )
        .take(MAX_JOBS_PER_DAY)
    ).filter((a) => a.localDate === date && a.status !== "declined");
    const names = new Map<string, string>();
    const jobs = [];
    const seen = new Set<string>();
    for (const assignment of assignments) {
      if (seen.has(assignment.bookingId)) continue;
      const booking = await ctx.db.get("bookings", assignment.bookingId);
      if (booking === null) continue;
      const stillMine = isActiveAssignment(assignment) || ((booking.status === "COMPLETED" || booking.status === "NO_SHOW") && booking.assignedResourceIds.includes(resourceId));
      if (!stillMine) continue;
      seen.add(booking._id);
      const customer = await ctx.db.get("customers", booking.customerId);
      const notes = await ctx.db
        .query("clientNotes")
        .withIndex("by_customerId", (q) => q.eq("customerId", booking.customerId))
        .order("desc")
        .take(MAX_NOTES_PER_CUSTOMER);
      jobs.push({
        job: await jobOf(ctx, booking, assignment, names),
        ...(customer?.phone ? { customerPhone: customer.phone } : {}),
        ...(booking.customerNotes ? { customerNotes: booking.customerNotes } : {}),
        staffNotes: notes.filter((n) => n.visibleToStaff).map((n) => ({ body: n.body, createdAt: n.createdAt })),
      });
    }
    jobs.sort((a, b) => a.job.start - b.job.start);
    return { date, resourceId, jobs };
  },
});
