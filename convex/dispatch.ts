/**
 * Dispatch: the board (providers' jobs of one local day on a timeline, with their time off
 * and changed hours, plus the unassigned queue), "who can take this job", and the portal
 * adapters of the dispatch commands in `model/dispatchCommands.ts` (assign, reassign,
 * offer, auto-assign, unassign; accept and decline by providers), and the provider's day.
 *
 * Assignments go through `model/bookingSlots.placeOnResource`, the same serialization point
 * as bookings, so a dispatcher can never put a job on a resource that cannot take it: the
 * mutation fails with SLOT_UNAVAILABLE, saying why in words, and nothing changes.
 */
import { v } from "convex/values";
import { ON_BOARD_STATUSES, UPCOMING_STATUSES } from "../domain/bookingStatus";
import { bookingTitle, productNameOfLine } from "../domain/pricing";
import { addDays, localDayRange, todayIn, weekdayOf, isValidLocalDate } from "../domain/time";
import type { Doc } from "./_generated/dataModel";
import type { QueryCtx as RawQueryCtx } from "./_generated/server";
import { requireBusinessRole } from "./access";
import { appError } from "./errors";
import { mutation, query } from "./functions";
import { userActor } from "./model/actor";
import { staffResourceId } from "./model/bookingAccess";
import { activeResources, isActiveAssignment, MAX_BUSY_SPAN_MS, timeOffAround } from "./model/bookingSlots";
import {
  acceptOffer,
  assignBooking,
  autoAssignBooking,
  candidatesFor,
  declineOffer,
  offerBooking,
  reassignBooking,
  unassignBooking,
} from "./model/dispatchCommands";
import { vBookingStatus, vLatLng, vLocalTimeRange } from "./schema";

const MAX_JOBS_PER_DAY = 1000;
/** The week view reads fewer jobs a day than the board: it shows counts and blocks. */
const MAX_JOBS_PER_WEEK_DAY = 500;
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
  /** The address's coordinates when it has them (the board's map). */
  location: v.optional(vLatLng),
  /** The services booked, each once (the board's service filter). */
  productIds: v.array(v.id("products")),
  /** The recurring plan the job is a visit of, and how often it comes. */
  plan: v.optional(v.object({ seriesId: v.id("recurringSeries"), frequency: v.string() })),
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
    ...(booking.seriesId !== undefined ? { plan: { seriesId: booking.seriesId, frequency: booking.frequency } } : {}),
    serviceName: bookingTitle(booking.items),
    totalMinor: booking.quote.totalMinor,
    ...(booking.address ? { address: addressLine(booking.address) } : {}),
    ...(booking.address?.location ? { location: { lat: booking.address.location.lat, lng: booking.address.location.lng } } : {}),
    productIds: [...new Set(booking.items.map((i) => i.productId))],
  };
}

/** The provider's working hours of one local date: the date override when there is one. */
function hoursOfDate(resource: Doc<"resources">, date: string, override: Doc<"resourceDateOverrides"> | null) {
  if (override) return override.closed ? [] : override.hours;
  const weekday = weekdayOf(date);
  return resource.weeklyHours.filter((h) => h.weekday === weekday).map((h) => ({ start: h.start, end: h.end }));
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
        /** The day's hours differ from the weekly ones (a date override); closed = day off. */
        override: v.optional(v.object({ closed: v.boolean(), hours: v.array(vLocalTimeRange) })),
        /** Time off overlapping the day. */
        timeOff: v.array(v.object({ start: v.number(), end: v.number(), reason: v.optional(v.string()) })),
        jobs: v.array(vJob),
      }),
    ),
    unassigned: v.array(vJob),
    /** Names of the zones and services the day's jobs are in (the queue's filters). */
    zones: v.array(v.object({ zoneId: v.id("zones"), name: v.string() })),
    services: v.array(v.object({ productId: v.id("products"), name: v.string() })),
  }),
  handler: async (ctx, args) => {
    const access = await requireBusinessRole(ctx, args.businessId, "manager");
    requireDate(args.date);
    const business = access.business;
    const range = localDayRange(args.date, business.timeZone);
    const resources = await activeResources(ctx, business._id);
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
    const providers = [];
    for (const resource of resources) {
      const override = await ctx.db
        .query("resourceDateOverrides")
        .withIndex("by_resourceId_and_date", (q) => q.eq("resourceId", resource._id).eq("date", args.date))
        .unique();
      const hours = hoursOfDate(resource, args.date, override);
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
        ...(override ? { override: { closed: override.closed, hours: override.hours } } : {}),
        timeOff: await timeOffAround(ctx, resource._id, range.start, range.end),
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
    const onBoard = bookings.filter((b) => ON_BOARD.includes(b.status));
    const zones = [];
    for (const zoneId of new Set(onBoard.map((b) => b.zoneId))) {
      const zone = await ctx.db.get("zones", zoneId);
      if (zone !== null) zones.push({ zoneId, name: zone.name });
    }
    zones.sort((a, b) => a.name.localeCompare(b.name));
    const services = new Map<string, { productId: Doc<"products">["_id"]; name: string }>();
    for (const item of onBoard.flatMap((b) => b.items)) {
      if (!services.has(item.productId)) services.set(item.productId, { productId: item.productId, name: productNameOfLine(item.name) });
    }
    return {
      date: args.date,
      timeZone: business.timeZone,
      dayStart: range.start,
      dayEnd: range.end,
      providers,
      unassigned,
      zones,
      services: [...services.values()].sort((a, b) => a.name.localeCompare(b.name)),
    };
  },
});

/**
 * Seven days from `start` (managers): per provider and day their hours and jobs as blocks
 * (time and status only), and the unassigned jobs per day. The board's week view; a day
 * opens on the board.
 */
export const week = query({
  args: { businessId: v.id("businesses"), start: v.string() },
  returns: v.object({
    start: v.string(),
    timeZone: v.string(),
    days: v.array(v.object({ date: v.string(), dayStart: v.number(), dayEnd: v.number(), unassigned: v.number(), truncated: v.boolean() })),
    providers: v.array(
      v.object({
        resourceId: v.id("resources"),
        name: v.string(),
        color: v.optional(v.string()),
        days: v.array(
          v.object({
            date: v.string(),
            hours: v.array(vLocalTimeRange),
            timeOff: v.boolean(),
            jobs: v.array(v.object({ bookingId: v.id("bookings"), status: vBookingStatus, start: v.number(), end: v.number() })),
          }),
        ),
      }),
    ),
  }),
  handler: async (ctx, args) => {
    const access = await requireBusinessRole(ctx, args.businessId, "manager");
    if (!isValidLocalDate(args.start)) throw appError("INVALID_ARGUMENT", "`start` must be a date YYYY-MM-DD.", { param: "start" });
    const business = access.business;
    const dates = Array.from({ length: 7 }, (_, i) => addDays(args.start, i));
    const resources = await activeResources(ctx, business._id);
    const days = [];
    const bookingsOf = new Map<string, Doc<"bookings">[]>();
    for (const date of dates) {
      const range = localDayRange(date, business.timeZone);
      const bookings = await ctx.db
        .query("bookings")
        .withIndex("by_businessId_and_localDate", (q) => q.eq("businessId", business._id).eq("localDate", date))
        .take(MAX_JOBS_PER_WEEK_DAY + 1);
      bookingsOf.set(date, bookings.slice(0, MAX_JOBS_PER_WEEK_DAY));
      days.push({
        date,
        dayStart: range.start,
        dayEnd: range.end,
        unassigned: bookings.filter((b) => LIVE.includes(b.status) && b.assignedResourceIds.length === 0).length,
        truncated: bookings.length > MAX_JOBS_PER_WEEK_DAY,
      });
    }
    const weekStart = days[0].dayStart;
    const weekEnd = days[6].dayEnd;
    const providers = [];
    for (const resource of resources) {
      const overrides = await ctx.db
        .query("resourceDateOverrides")
        .withIndex("by_resourceId_and_date", (q) => q.eq("resourceId", resource._id).gte("date", dates[0]).lte("date", dates[6]))
        .take(7);
      const timeOff = await timeOffAround(ctx, resource._id, weekStart, weekEnd);
      providers.push({
        resourceId: resource._id,
        name: resource.name,
        ...(resource.color ? { color: resource.color } : {}),
        days: days.map((day) => ({
          date: day.date,
          hours: hoursOfDate(resource, day.date, overrides.find((o) => o.date === day.date) ?? null),
          timeOff: timeOff.some((t) => t.start < day.dayEnd && day.dayStart < t.end),
          jobs: bookingsOf
            .get(day.date)!
            .filter((b) => ON_BOARD.includes(b.status) && b.assignedResourceIds.includes(resource._id))
            .map((b) => ({ bookingId: b._id, status: b.status, start: b.start, end: b.end }))
            .sort((a, b) => a.start - b.start),
        })),
      });
    }
    return { start: args.start, timeZone: business.timeZone, days, providers };
  },
});

const vAssignResult = v.object({ bookingId: v.id("bookings"), resourceIds: v.array(v.id("resources")) });
const vMoveArgs = { bookingId: v.id("bookings"), resourceId: v.id("resources") };

/**
 * Who can take this job (managers): every active provider with whether they can take it at
 * its time and, for each that cannot, why in words. The same check the mutations run.
 */
export const candidates = query({
  args: { bookingId: v.id("bookings") },
  returns: v.object({
    bookingId: v.id("bookings"),
    movable: v.boolean(),
    reason: v.optional(v.string()),
    providers: v.array(
      v.object({
        resourceId: v.id("resources"),
        name: v.string(),
        canTake: v.boolean(),
        reason: v.optional(v.string()),
        code: v.optional(v.string()),
      }),
    ),
  }),
  handler: async (ctx, args) => candidatesFor(ctx, userActor(ctx), args.bookingId, Date.now()),
});

/** Assigns an unassigned booking from the queue. Refuses a resource that cannot take it. */
export const assign = mutation({
  args: vMoveArgs,
  returns: vAssignResult,
  handler: async (ctx, args) => assignBooking(ctx, userActor(ctx), args, Date.now()),
});

/** Moves a booking to another resource (same time). Refuses a resource that cannot take it. */
export const reassign = mutation({
  args: vMoveArgs,
  returns: vAssignResult,
  handler: async (ctx, args) => reassignBooking(ctx, userActor(ctx), args, Date.now()),
});

/** Offers a booking to one provider, who accepts or declines it (their time is held meanwhile). */
export const offer = mutation({
  args: vMoveArgs,
  returns: vAssignResult,
  handler: async (ctx, args) => offerBooking(ctx, userActor(ctx), args, Date.now()),
});

/** Gives the booking to the best free provider by the business's policy. */
export const autoAssign = mutation({
  args: { bookingId: v.id("bookings") },
  returns: vAssignResult,
  handler: async (ctx, args) => autoAssignBooking(ctx, userActor(ctx), args, Date.now()),
});

/** Returns a booking to the unassigned queue (manager+). */
export const unassign = mutation({
  args: { bookingId: v.id("bookings") },
  returns: vAssignResult,
  handler: async (ctx, args) => unassignBooking(ctx, userActor(ctx), args),
});

export const accept = mutation({
  args: { bookingId: v.id("bookings") },
  returns: v.object({ status: v.literal("accepted") }),
  handler: async (ctx, args) => acceptOffer(ctx, userActor(ctx), args),
});

/** The provider declines the job; it goes to the next free provider or the queue. */
export const decline = mutation({
  args: { bookingId: v.id("bookings"), reason: v.optional(v.string()) },
  returns: v.object({ resourceIds: v.array(v.id("resources")), queued: v.boolean() }),
  handler: async (ctx, args) => declineOffer(ctx, userActor(ctx), args, Date.now()),
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
