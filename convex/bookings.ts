/**
 * The booking life cycle: hold → confirm (→ pending payment → paid) → field statuses →
 * completed, plus reschedule, cancel and hold expiry. Rules come from `domain/` (state
 * machine, policies, slot checks); the no-double-booking placement lives in
 * `model/bookingSlots.ts`.
 */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { doc } from "convex-helpers/validators";
import { localDateOf, MINUTE_MS } from "../domain/time";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "./_generated/server";
import { accessTo, requireBusinessRole, requireCustomerAccess, requireUser } from "./access";
import { appError } from "./errors";
import { internalMutation, mutation, query } from "./functions";
import { loadBookingForViewer, SYSTEM_ACTOR, type BookingAccess } from "./model/bookingAccess";
import {
  assertInstant,
  createBooking,
  placementRequestFor,
  requireBookableBusiness,
  requireZone,
  resolveBookingCustomer,
} from "./model/bookingCreate";
import { emitBookingChange, emitInvoiceChange, notifyCustomer } from "./model/bookingEvents";
import { cancellationDecision, invoiceOf, noShowDecision, rescheduleVerdict } from "./model/bookingPolicy";
import { priceCart } from "./model/bookingPricing";
import {
  assignmentsOf,
  autoAssign,
  checkManualCapacity,
  MAX_BOOKING_SPAN_MINUTES,
  placeOnResource,
  releaseAssignments,
  slotUnavailable,
} from "./model/bookingSlots";
import { transition } from "./model/bookingTransitions";
import { closeOpenCheckouts, EXPIRED_REASON } from "./model/stripeCheckout";
import { refundBalance, requestRefund } from "./model/stripeRefunds";
import { depositFor, issueInvoice } from "./model/invoiceLines";
import schema, { vAddress, vBookingStatus, vCartItem } from "./schema";

const vBooking = doc(schema, "bookings");
const MAX_NOTES = 2000;
const MAX_REASON = 500;

const vFeeDecision = v.object({
  feeMinor: v.number(),
  refundMinor: v.number(),
  outstandingFeeMinor: v.number(),
  isFree: v.boolean(),
  reason: v.string(),
});

function requireBusinessSide(who: BookingAccess, minimum: "manager" | "staff") {
  const role = who.access.role;
  if (role === "customer") return;
  if (role === "platform_admin") throw appError("FORBIDDEN", "Platform admins cannot change a business's bookings.");
  if (minimum === "manager" && role === "staff") {
    throw appError("FORBIDDEN", "Only a manager or the owner can do this.");
  }
}

async function voidUnpaidInvoice(ctx: RawMutationCtx, booking: Doc<"bookings">, feeMinor: number) {
  const invoice = await invoiceOf(ctx, booking);
  if (invoice === null || invoice.status === "void") return;
  if (invoice.amountPaidMinor === 0 && feeMinor === 0) {
    await ctx.db.patch("invoices", invoice._id, { status: "void" });
    await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "voided");
  }
}

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
    if (args.customerNotes !== undefined && args.customerNotes.length > MAX_NOTES) {
      throw appError("INVALID_ARGUMENT", `Notes are limited to ${MAX_NOTES} characters.`, { param: "customerNotes" });
    }
    const business = await requireBookableBusiness(ctx, args.businessId);
    const access = await accessTo(ctx, business._id);
    const zone = await requireZone(ctx, business, args.zoneId);
    const priced = await priceCart(ctx, business, zone, args.cart);
    const who = await resolveBookingCustomer(ctx, access, user, business, args.customerId, now);
    const holdExpiresAt = now + business.policies.booking.holdMinutes * MINUTE_MS;
    const booking = await createBooking(ctx, {
      business,
      zone,
      customer: who.customer,
      priced,
      start: args.start,
      status: "HELD",
      source: who.source,
      actor: who.actor,
      mode: who.mode,
      now,
      frequency: "once",
      address: args.address,
      customerNotes: args.customerNotes,
      holdExpiresAt,
    });
    await ctx.scheduler.runAt(holdExpiresAt, internal.bookings.expireHold, { bookingId: booking._id });
    await emitBookingChange(ctx, booking, "held");
    return { bookingId: booking._id, holdExpiresAt, quote: booking.quote };
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
    const who = await loadBookingForViewer(ctx, args.bookingId, "write");
    requireBusinessSide(who, "manager");
    const { booking } = who;
    const now = Date.now();
    if (booking.status !== "HELD") {
      throw appError("INVALID_TRANSITION", `The booking is ${booking.status.toLowerCase()}, not held.`, { param: "bookingId" });
    }
    if (booking.holdExpiresAt !== undefined && booking.holdExpiresAt <= now) {
      throw appError("HOLD_EXPIRED", "The hold on this time has expired; pick a slot again.", { param: "bookingId" });
    }
    const business = (await ctx.db.get("businesses", booking.businessId))!;
    const depositMinor = depositFor(booking.quote.totalMinor, business.policies.booking.depositBp);
    const to: "PENDING_PAYMENT" | "CONFIRMED" = depositMinor > 0 ? "PENDING_PAYMENT" : "CONFIRMED";
    // A payment window as long as the hold: unpaid bookings are released like holds.
    const paymentDeadline = now + business.policies.booking.holdMinutes * MINUTE_MS;
    const updated = await transition(ctx, booking, to, { domainRole: who.domainRole!, actor: who.actor }, now, {
      patch: { holdExpiresAt: to === "PENDING_PAYMENT" ? paymentDeadline : undefined },
    });
    if (to === "PENDING_PAYMENT") {
      await ctx.scheduler.runAt(paymentDeadline, internal.bookings.expireHold, { bookingId: booking._id });
    }
    const invoice = await issueInvoice(ctx, updated, business, now);
    await emitBookingChange(ctx, (await ctx.db.get("bookings", booking._id))!, "confirmed", { from: "HELD" });
    await emitInvoiceChange(ctx, invoice, "issued");
    if (to === "CONFIRMED") await notifyCustomer(ctx, booking._id, "booking_confirmed", true);
    return { status: to, invoiceId: invoice._id, depositMinor: invoice.depositMinor, totalMinor: invoice.totalMinor };
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
    for (const status of ["HELD", "PENDING_PAYMENT"] as const) {
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

const MOVABLE: ReadonlyArray<Doc<"bookings">["status"]> = ["HELD", "PENDING_PAYMENT", "CONFIRMED"];

export const reschedulePreview = query({
  args: { bookingId: v.id("bookings") },
  returns: v.object({ allowed: v.boolean(), feeMinor: v.number(), reason: v.string() }),
  handler: async (ctx, args) => {
    const who = await loadBookingForViewer(ctx, args.bookingId, "read");
    const business = (await ctx.db.get("businesses", who.booking.businessId))!;
    const verdict = rescheduleVerdict(business, who.booking, await invoiceOf(ctx, who.booking), who.access.role === "customer", Date.now());
    return { allowed: verdict.allowed, feeMinor: verdict.feeMinor, reason: verdict.reason };
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
    const who = await loadBookingForViewer(ctx, args.bookingId, "write");
    requireBusinessSide(who, "manager");
    assertInstant(args.start, "start");
    const { booking } = who;
    const now = Date.now();
    if (!MOVABLE.includes(booking.status)) {
      throw appError("INVALID_TRANSITION", `A ${booking.status.toLowerCase()} booking cannot be rescheduled.`, { param: "bookingId" });
    }
    if (booking.status === "HELD" && booking.holdExpiresAt !== undefined && booking.holdExpiresAt <= now) {
      throw appError("HOLD_EXPIRED", "The hold on this time has expired; pick a slot again.", { param: "bookingId" });
    }
    if (args.start === booking.start) throw appError("INVALID_ARGUMENT", "The booking is already at that time.", { param: "start" });
    const business = await requireBookableBusiness(ctx, booking.businessId);
    const byCustomer = who.access.role === "customer";
    const invoice = await invoiceOf(ctx, booking);
    const verdict = rescheduleVerdict(business, booking, invoice, byCustomer, now);
    if (!verdict.allowed) throw appError("POLICY_VIOLATION", verdict.reason, { param: "bookingId" });
    if (args.expectedFeeMinor !== undefined && args.expectedFeeMinor !== verdict.feeMinor) {
      throw appError("POLICY_VIOLATION", `The reschedule fee is now ${verdict.feeMinor}; confirm again.`, {
        param: "expectedFeeMinor",
        details: { feeMinor: verdict.feeMinor },
      });
    }

    // Move atomically: release the old assignments, place at the new time (same provider
    // when free), all in this transaction. A failure rolls every step back.
    const previousResourceIds = booking.assignedResourceIds;
    await releaseAssignments(ctx, booking._id);
    const request = placementRequestFor(business, booking, args.start, byCustomer ? "customer" : "staff", now, booking._id);
    let resourceIds: Id<"resources">[] = [];
    const policy = business.policies.booking.autoAssign;
    if (policy === "manual") {
      if (previousResourceIds.length > 0) {
        for (const resourceId of previousResourceIds) {
          const resource = await ctx.db.get("resources", resourceId);
          if (resource === null) throw slotUnavailable("The assigned provider is no longer available.");
          await placeOnResource(ctx, request, resource, booking._id, "accepted");
        }
        resourceIds = previousResourceIds;
      } else {
        await checkManualCapacity(ctx, request);
      }
    } else {
      const placed = await autoAssign(ctx, request, booking._id, { policy, preferred: previousResourceIds });
      if ("failure" in placed) throw slotUnavailable(placed.failure);
      resourceIds = [placed.resource._id];
    }
    const spanMinutes = booking.quote.durationMinutes + business.policies.booking.arrivalWindowMinutes;
    if (spanMinutes > MAX_BOOKING_SPAN_MINUTES) throw appError("INVALID_ARGUMENT", "The booking is too long to schedule.");
    const windowMinutes = business.policies.booking.arrivalWindowMinutes;
    const patch = {
      start: args.start,
      end: args.start + spanMinutes * MINUTE_MS,
      localDate: localDateOf(args.start, business.timeZone),
      arrivalWindowEnd: windowMinutes > 0 ? args.start + windowMinutes * MINUTE_MS : undefined,
      rescheduleCount: booking.rescheduleCount + 1,
      assignedResourceIds: resourceIds,
    };
    await ctx.db.patch("bookings", booking._id, patch);
    if (verdict.feeMinor > 0 && invoice !== null) {
      await ctx.db.patch("invoices", invoice._id, {
        lines: [
          ...invoice.lines,
          { kind: "fee", description: "Late reschedule fee", quantity: 1, unitAmountMinor: verdict.feeMinor, amountMinor: verdict.feeMinor },
        ],
        totalMinor: invoice.totalMinor + verdict.feeMinor,
        status: invoice.status === "paid" ? "open" : invoice.status,
      });
      await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "updated");
    }
    await ctx.db.insert("bookingStatusHistory", {
      businessId: booking.businessId,
      bookingId: booking._id,
      from: booking.status,
      to: booking.status,
      at: now,
      actor: who.actor,
      reason: `rescheduled from ${new Date(booking.start).toISOString()}`,
    });
    const updated = (await ctx.db.get("bookings", booking._id))!;
    await emitBookingChange(ctx, updated, "rescheduled", {
      previous: { start: booking.start, end: booking.end, localDate: booking.localDate },
      previousResourceIds,
    });
    if (booking.status !== "HELD") await notifyCustomer(ctx, booking._id, "booking_rescheduled");
    return { start: updated.start, end: updated.end, feeMinor: verdict.feeMinor, resourceIds };
  },
});

export const cancellationPreview = query({
  args: { bookingId: v.id("bookings") },
  returns: vFeeDecision,
  handler: async (ctx, args) => {
    const who = await loadBookingForViewer(ctx, args.bookingId, "read");
    const business = (await ctx.db.get("businesses", who.booking.businessId))!;
    return cancellationDecision(business, who.booking, await invoiceOf(ctx, who.booking), who.access.role === "customer", Date.now());
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
    const who = await loadBookingForViewer(ctx, args.bookingId, "write");
    requireBusinessSide(who, "manager");
    if (args.reason !== undefined && args.reason.length > MAX_REASON) {
      throw appError("INVALID_ARGUMENT", `The reason is limited to ${MAX_REASON} characters.`, { param: "reason" });
    }
    const { booking } = who;
    const now = Date.now();
    const business = (await ctx.db.get("businesses", booking.businessId))!;
    const invoice = await invoiceOf(ctx, booking);
    const decision = cancellationDecision(business, booking, invoice, who.access.role === "customer", now);
    if (args.expectedFeeMinor !== undefined && args.expectedFeeMinor !== decision.feeMinor) {
      throw appError("POLICY_VIOLATION", `The cancellation fee is now ${decision.feeMinor}; confirm again.`, {
        param: "expectedFeeMinor",
        details: { feeMinor: decision.feeMinor },
      });
    }
    const released = await releaseAssignments(ctx, booking._id);
    const updated = await transition(ctx, booking, "CANCELLED", { domainRole: who.domainRole!, actor: who.actor }, now, {
      reason: args.reason,
      patch: {
        holdExpiresAt: undefined,
        assignedResourceIds: [],
        cancellation: { at: now, actor: who.actor, reason: args.reason, feeMinor: decision.feeMinor },
      },
    });
    await voidUnpaidInvoice(ctx, updated, decision.feeMinor);
    await closeOpenCheckouts(ctx, updated, now);
    // The refund the cancellation panel promised, within what the invoice's payments can give back.
    const refundMinor = invoice === null ? 0 : Math.min(decision.refundMinor, (await refundBalance(ctx, invoice)).refundableMinor);
    if (invoice !== null && refundMinor > 0) {
      await requestRefund(ctx, { invoiceId: invoice._id, amountMinor: refundMinor, reason: "Booking cancelled", actor: who.actor, now });
    }
    await emitBookingChange(ctx, updated, "cancelled", { from: booking.status, resourceIds: released.map((a) => a.resourceId) });
    if (booking.status !== "HELD") await notifyCustomer(ctx, booking._id, "booking_cancelled");
    return decision;
  },
});

// ---------------------------------------------------------------------------------------
// Field statuses (staff)
// ---------------------------------------------------------------------------------------

export const vFieldStatus = v.union(
  v.literal("CONFIRMED"),
  v.literal("EN_ROUTE"),
  v.literal("IN_PROGRESS"),
  v.literal("COMPLETED"),
  v.literal("NO_SHOW"),
);

export const setStatus = mutation({
  args: { bookingId: v.id("bookings"), status: vFieldStatus, note: v.optional(v.string()) },
  returns: v.object({ status: vBookingStatus, feeMinor: v.optional(v.number()) }),
  handler: async (ctx, args) => {
    const who = await loadBookingForViewer(ctx, args.bookingId, "write");
    if (who.access.role === "customer") throw appError("FORBIDDEN", "Only the business's staff can update a job's status.");
    if (args.note !== undefined && args.note.length > MAX_REASON) {
      throw appError("INVALID_ARGUMENT", `The note is limited to ${MAX_REASON} characters.`, { param: "note" });
    }
    const { booking } = who;
    const now = Date.now();
    let feeMinor: number | undefined;
    let patch: Partial<Doc<"bookings">> = {};
    if (args.status === "NO_SHOW") {
      const business = (await ctx.db.get("businesses", booking.businessId))!;
      feeMinor = noShowDecision(business, booking, await invoiceOf(ctx, booking)).feeMinor;
      patch = { cancellation: { at: now, actor: who.actor, reason: args.note ?? "no_show", feeMinor } };
    }
    const updated = await transition(ctx, booking, args.status, { domainRole: who.domainRole!, actor: who.actor }, now, {
      reason: args.note,
      patch,
    });
    // The provider acting on an offered job accepts it.
    for (const assignment of await assignmentsOf(ctx, booking._id)) {
      if (assignment.status === "offered" && who.access.role !== "platform_admin" && "membership" in who.access) {
        if (who.access.membership.resourceId === assignment.resourceId) await ctx.db.patch("bookingAssignments", assignment._id, { status: "accepted" });
      }
    }
    let released: Doc<"bookingAssignments">[] = [];
    if (args.status === "COMPLETED" || args.status === "NO_SHOW") {
      // The rest of the reserved time becomes free again.
      released = await releaseAssignments(ctx, booking._id);
    }
    await emitBookingChange(ctx, updated, "status_changed", {
      from: booking.status,
      availabilityChanged: released.length > 0,
      resourceIds: released.map((a) => a.resourceId),
    });
    if (args.status === "EN_ROUTE") await notifyCustomer(ctx, booking._id, "provider_en_route");
    if (args.status === "COMPLETED") await notifyCustomer(ctx, booking._id, "review_request", true);
    return { status: updated.status, feeMinor };
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
