/**
 * The booking life cycle: hold → confirm (→ pending payment → paid) → field statuses →
 * completed, plus reschedule, cancel and hold expiry. Rules come from `domain/` (state
 * machine, policies, slot checks); the no-double-booking placement lives in
 * `model/bookingSlots.ts`.
 */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { doc } from "convex-helpers/validators";
import { EXPIRING_STATUSES } from "../domain/bookingStatus";
import { internal } from "./_generated/api";
import type { Doc } from "./_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "./_generated/server";
import { accessTo, requireBusinessRole, requireCustomerAccess, requireUser, type Access } from "./access";
import { appError } from "./errors";
import { internalMutation, mutation, query } from "./functions";
import { loadBookingForViewer, SYSTEM_ACTOR } from "./model/bookingAccess";
import {
  cancelBooking,
  cancellationPreview as previewCancellation,
  changeFieldStatus,
  confirmBooking,
  customerActor,
  fieldStatusOptions,
  holdBooking,
  reschedulePreview as previewReschedule,
  rescheduleBooking,
  SYSTEM_BOOKING_ACTOR,
  bookingActorOf,
  voidUnpaidInvoice,
} from "./model/bookingCommands";
import { countBookingAttempt } from "./model/abuseLimits";
import { assertInstant, requireBookableBusiness, requireZone, resolveBookingCustomer } from "./model/bookingCreate";
import { emitBookingChange, emitInvoiceChange, notifyCustomer } from "./model/bookingEvents";
import { invoiceOf } from "./model/bookingPolicy";
import { priceCart } from "./model/bookingPricing";
import { assignmentsOf, releaseAssignments } from "./model/bookingSlots";
import { transition } from "./model/bookingTransitions";
import { closeOpenCheckouts, EXPIRED_REASON } from "./model/stripeCheckout";
import { issueInvoice } from "./model/invoiceLines";
import schema, { vAddress, vBookingStatus, vCartItem, vFieldStatus } from "./schema";

const vBooking = doc(schema, "bookings");
const vFeeDecision = v.object({
  feeMinor: v.number(),
  refundMinor: v.number(),
  outstandingFeeMinor: v.number(),
  isFree: v.boolean(),
  reason: v.string(),
});

// ---------------------------------------------------------------------------------------
// Hold and confirm
// ---------------------------------------------------------------------------------------

export const hold = mutation({
  args: {
    businessId: v.id("businesses"),
    zoneId: v.id("zones"),
    cart: v.array(vCartItem),
    start: v.number(),
    /** Only for managers/owners booking on behalf of a customer. */
    customerId: v.optional(v.id("customers")),
    address: v.optional(vAddress),
    customerNotes: v.optional(v.string()),
  },
  returns: v.object({ bookingId: v.id("bookings"), holdExpiresAt: v.number(), quote: vBooking.fields.quote }),
  handler: async (ctx, args) => {
    const user = requireUser(ctx);
    const now = Date.now();
    assertInstant(args.start, "start");
    const business = await requireBookableBusiness(ctx, args.businessId);
    const access = await accessTo(ctx, business._id);
    const zone = await requireZone(ctx, business, args.zoneId);
    const priced = await priceCart(ctx, business, zone, args.cart);
    const who = await resolveBookingCustomer(ctx, access, user, business, args.customerId, now);
    const actor = access === null || who.mode === "customer" ? customerActor(who.actor) : bookingActorOf(access);
    if (who.mode === "customer") await countBookingAttempt(ctx, who.customer._id);
    const booking = await holdBooking(
      ctx,
      actor,
      { business, zone, customer: who.customer, priced, start: args.start, source: who.source, address: args.address, customerNotes: args.customerNotes },
      now,
    );
    return { bookingId: booking._id, holdExpiresAt: booking.holdExpiresAt!, quote: booking.quote };
  },
});

export const confirm = mutation({
  args: { bookingId: v.id("bookings") },
  returns: v.object({
    status: vBookingStatus,
    invoiceId: v.id("invoices"),
    depositMinor: v.number(),
    totalMinor: v.number(),
  }),
  handler: async (ctx, args) => {
    const { booking, access } = await loadBookingForViewer(ctx, args.bookingId, "write");
    const { booking: confirmed, invoice } = await confirmBooking(ctx, bookingActorOf(access), booking, Date.now());
    return { status: confirmed.status, invoiceId: invoice._id, depositMinor: invoice.depositMinor, totalMinor: invoice.totalMinor };
  },
});

/**
 * Confirms a booking whose payment arrived (called by the payments module after it recorded
 * the payment on the invoice): HELD or PENDING_PAYMENT → CONFIRMED by the system, issuing the
 * invoice if the booking never had one. Idempotent for bookings already confirmed or further
 * along; refused for cancelled bookings so that the caller refunds the payment.
 */
export const markPaid = internalMutation({
  args: { bookingId: v.id("bookings"), paymentId: v.optional(v.id("payments")) },
  returns: v.object({ status: vBookingStatus, changed: v.boolean() }),
  handler: async (ctx, args) => {
    const booking = await ctx.db.get("bookings", args.bookingId);
    if (booking === null) throw appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
    if (args.paymentId !== undefined) {
      const payment = await ctx.db.get("payments", args.paymentId);
      if (payment === null || payment.bookingId !== booking._id) {
        throw appError("NOT_FOUND", "Payment not found for this booking.", { param: "paymentId" });
      }
    }
    if (booking.status !== "HELD" && booking.status !== "PENDING_PAYMENT") {
      if (booking.status === "CANCELLED" || booking.status === "NO_SHOW") {
        throw appError("INVALID_TRANSITION", "The booking was cancelled; refund this payment.", { param: "bookingId" });
      }
      return { status: booking.status, changed: false };
    }
    const now = Date.now();
    const business = (await ctx.db.get("businesses", booking.businessId))!;
    const existing = await invoiceOf(ctx, booking);
    if (existing !== null && existing.amountPaidMinor < existing.depositMinor) {
      throw appError("PAYMENT_REQUIRED", "The deposit has not been paid in full yet.", { param: "bookingId" });
    }
    const updated = await transition(ctx, booking, "CONFIRMED", { domainRole: "system", actor: SYSTEM_ACTOR }, now, {
      reason: "payment received",
      patch: { holdExpiresAt: undefined },
    });
    if (existing === null) {
      const invoice = await issueInvoice(ctx, updated, business, now);
      await emitInvoiceChange(ctx, invoice, "issued");
    }
    await emitBookingChange(ctx, (await ctx.db.get("bookings", booking._id))!, "confirmed", { from: booking.status });
    await notifyCustomer(ctx, booking._id, "booking_confirmed", true);
    return { status: "CONFIRMED" as const, changed: true };
  },
});

// ---------------------------------------------------------------------------------------
// Hold expiry: the scheduled job and the cron sweep both land here, idempotently
// ---------------------------------------------------------------------------------------

async function expireIfDue(ctx: RawMutationCtx, booking: Doc<"bookings">, now: number): Promise<boolean> {
  if (booking.status !== "HELD" && booking.status !== "PENDING_PAYMENT") return false;
  if (booking.holdExpiresAt === undefined || booking.holdExpiresAt > now) return false;
  const released = await releaseAssignments(ctx, booking._id);
  const updated = await transition(ctx, booking, "CANCELLED", { domainRole: "system", actor: SYSTEM_ACTOR }, now, {
    reason: booking.status === "HELD" ? "hold expired" : "payment not received in time",
    patch: {
      holdExpiresAt: undefined,
      assignedResourceIds: [],
      cancellation: { at: now, actor: SYSTEM_ACTOR, reason: EXPIRED_REASON, feeMinor: 0 },
    },
  });
  await voidUnpaidInvoice(ctx, updated, 0);
  await closeOpenCheckouts(ctx, updated, now);
  await emitBookingChange(ctx, updated, "expired", {
    from: booking.status,
    resourceIds: released.map((a) => a.resourceId),
  });
  return true;
}

export const expireHold = internalMutation({
  args: { bookingId: v.id("bookings") },
  returns: v.boolean(),
  handler: async (ctx, args) => {
    const booking = await ctx.db.get("bookings", args.bookingId);
    if (booking === null) return false;
    return await expireIfDue(ctx, booking, Date.now());
  },
});

const SWEEP_BATCH = 100;

export const sweepExpiredHolds = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const now = Date.now();
    let expired = 0;
    let more = false;
    for (const status of EXPIRING_STATUSES) {
      const due = await ctx.db
        .query("bookings")
        // The lower bound skips rows without an expiry (which sort first in the index).
        .withIndex("by_status_and_holdExpiresAt", (q) => q.eq("status", status).gt("holdExpiresAt", 0).lte("holdExpiresAt", now))
        .take(SWEEP_BATCH);
      if (due.length === SWEEP_BATCH) more = true;
      for (const booking of due) if (await expireIfDue(ctx, booking, now)) expired++;
    }
    if (more) await ctx.scheduler.runAfter(0, internal.bookings.sweepExpiredHolds, {});
    return expired;
  },
});

// ---------------------------------------------------------------------------------------
// Reschedule and cancel
// ---------------------------------------------------------------------------------------

export const reschedulePreview = query({
  args: { bookingId: v.id("bookings") },
  returns: v.object({ allowed: v.boolean(), feeMinor: v.number(), reason: v.string() }),
  handler: async (ctx, args) => {
    const { booking, access } = await loadBookingForViewer(ctx, args.bookingId, "read");
    return await previewReschedule(ctx, readerActor(access), booking, Date.now());
  },
});

export const reschedule = mutation({
  args: {
    bookingId: v.id("bookings"),
    start: v.number(),
    /** The fee the customer agreed to (from `reschedulePreview`); refused if it changed. */
    expectedFeeMinor: v.optional(v.number()),
  },
  returns: v.object({ start: v.number(), end: v.number(), feeMinor: v.number(), resourceIds: v.array(v.id("resources")) }),
  handler: async (ctx, args) => {
    const { booking, access } = await loadBookingForViewer(ctx, args.bookingId, "write");
    assertInstant(args.start, "start");
    const moved = await rescheduleBooking(ctx, bookingActorOf(access), booking, { start: args.start, expectedFeeMinor: args.expectedFeeMinor }, Date.now());
    return { start: moved.booking.start, end: moved.booking.end, feeMinor: moved.feeMinor, resourceIds: moved.resourceIds };
  },
});

export const cancellationPreview = query({
  args: { bookingId: v.id("bookings") },
  returns: vFeeDecision,
  handler: async (ctx, args) => {
    const { booking, access } = await loadBookingForViewer(ctx, args.bookingId, "read");
    return await previewCancellation(ctx, readerActor(access), booking, Date.now());
  },
});

export const cancel = mutation({
  args: {
    bookingId: v.id("bookings"),
    reason: v.optional(v.string()),
    /** The fee shown by `cancellationPreview`; refused if it changed since. */
    expectedFeeMinor: v.optional(v.number()),
  },
  returns: vFeeDecision,
  handler: async (ctx, args) => {
    const { booking, access } = await loadBookingForViewer(ctx, args.bookingId, "write");
    const { decision } = await cancelBooking(ctx, bookingActorOf(access), booking, { reason: args.reason, expectedFeeMinor: args.expectedFeeMinor }, Date.now());
    return decision;
  },
});

/** Previews are read by everyone who may see the booking; platform admins see the business's view (no customer fees). */
function readerActor(access: Access) {
  return access.role === "platform_admin" ? SYSTEM_BOOKING_ACTOR : bookingActorOf(access);
}

// ---------------------------------------------------------------------------------------
// Field statuses (staff)
// ---------------------------------------------------------------------------------------

export const setStatus = mutation({
  args: {
    bookingId: v.id("bookings"),
    status: vFieldStatus,
    note: v.optional(v.string()),
    /** A manager setting a status before its time (see `statusOptions`) says why; kept in the history. */
    overrideReason: v.optional(v.string()),
  },
  returns: v.object({ status: vBookingStatus, feeMinor: v.optional(v.number()) }),
  handler: async (ctx, args) => {
    const { booking, access } = await loadBookingForViewer(ctx, args.bookingId, "write");
    const result = await changeFieldStatus(
      ctx,
      bookingActorOf(access),
      booking,
      { status: args.status, note: args.note, overrideReason: args.overrideReason },
      Date.now(),
    );
    return { status: result.booking.status, feeMinor: result.feeMinor };
  },
});

/**
 * The field statuses the viewer may set on a job next, each with the instant it becomes
 * available (`notBefore`, null = now) and why not before, so the provider's screen can say why
 * a button is unavailable. Time-independent: the screen compares `notBefore` with its clock.
 */
export const statusOptions = query({
  args: { bookingId: v.id("bookings") },
  returns: v.object({
    options: v.array(v.object({ status: vFieldStatus, notBefore: v.union(v.number(), v.null()), reason: v.union(v.string(), v.null()) })),
    canOverride: v.boolean(),
  }),
  handler: async (ctx, args) => {
    const { booking, access } = await loadBookingForViewer(ctx, args.bookingId, "read");
    if (access.role === "customer" || access.role === "platform_admin") return { options: [], canOverride: false };
    const business = (await ctx.db.get("businesses", booking.businessId))!;
    const actor = bookingActorOf(access);
    return { options: fieldStatusOptions(business, actor, booking), canOverride: actor.authority === "manager" };
  },
});

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

const vHistoryEntry = doc(schema, "bookingStatusHistory");

export const get = query({
  args: { bookingId: v.id("bookings") },
  returns: v.object({
    booking: vBooking,
    resources: v.array(v.object({ resourceId: v.id("resources"), name: v.string(), status: v.string() })),
    history: v.array(vHistoryEntry),
    invoice: v.union(
      v.null(),
      v.object({ invoiceId: v.id("invoices"), number: v.string(), status: v.string(), totalMinor: v.number(), amountPaidMinor: v.number() }),
    ),
  }),
  handler: async (ctx, args) => {
    const { booking } = await loadBookingForViewer(ctx, args.bookingId, "read");
    const assignments = (await assignmentsOf(ctx, booking._id)).filter((a) => a.status === "offered" || a.status === "accepted");
    const resources = [];
    for (const a of assignments) {
      const resource = await ctx.db.get("resources", a.resourceId);
      if (resource !== null) resources.push({ resourceId: resource._id, name: resource.name, status: a.status });
    }
    const history = await ctx.db
      .query("bookingStatusHistory")
      .withIndex("by_bookingId", (q) => q.eq("bookingId", booking._id))
      .take(100);
    const invoice = await invoiceOf(ctx, booking);
    return {
      booking,
      resources,
      history,
      invoice: invoice && {
        invoiceId: invoice._id,
        number: invoice.number,
        status: invoice.status,
        totalMinor: invoice.totalMinor,
        amountPaidMinor: invoice.amountPaidMinor,
      },
    };
  },
});

export const listForCustomer = query({
  args: { customerId: v.id("customers"), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(vBooking),
  handler: async (ctx, args) => {
    await requireCustomerAccess(ctx, args.customerId, { minimumStaffRole: "manager" });
    return await ctx.db
      .query("bookings")
      .withIndex("by_customerId_and_start", (q) => q.eq("customerId", args.customerId))
      .order("desc")
      .paginate(args.paginationOpts);
  },
});

export const listForBusiness = query({
  args: {
    businessId: v.id("businesses"),
    paginationOpts: paginationOptsValidator,
    status: v.optional(vBookingStatus),
    /** Start instants, inclusive `from`, exclusive `to`. */
    from: v.optional(v.number()),
    to: v.optional(v.number()),
    order: v.optional(v.union(v.literal("asc"), v.literal("desc"))),
  },
  returns: paginationResultValidator(vBooking),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "manager");
    if (args.from !== undefined && args.to !== undefined && args.to < args.from) {
      throw appError("INVALID_ARGUMENT", "`to` is before `from`.", { param: "to" });
    }
    const { from, to } = args;
    const order = args.order ?? "asc";
    const status = args.status;
    const q =
      status === undefined
        ? ctx.db.query("bookings").withIndex("by_businessId_and_start", (q) => {
            const base = q.eq("businessId", args.businessId);
            const lower = from === undefined ? base : base.gte("start", from);
            return to === undefined ? lower : lower.lt("start", to);
          })
        : ctx.db.query("bookings").withIndex("by_businessId_and_status_and_start", (q) => {
            const base = q.eq("businessId", args.businessId).eq("status", status);
            const lower = from === undefined ? base : base.gte("start", from);
            return to === undefined ? lower : lower.lt("start", to);
          });
    return await q.order(order).paginate(args.paginationOpts);
  },
});
