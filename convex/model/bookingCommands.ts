/**
 * The booking commands: the one body of every change to a booking's life cycle (hold,
 * confirm, reschedule, cancel, field status, notes), whichever door it came through. The
 * portal's Convex functions (`bookings.ts`) and the REST handlers (`api/internalBookings.ts`)
 * are thin adapters: they authenticate, load the booking the caller may act on, build a
 * `BookingActor` and call one command here, then present the result.
 *
 * Each command checks what the actor may do, applies the domain rules (state machine, time
 * rules, policies, slot checks), writes the change with its history, and emits the same
 * events (PartyKit pushes and partner webhooks through the outbox), customer notifications and
 * refund requests for every actor.
 *
 * Plain module: no registered functions.
 */
import {
  DEFAULT_EN_ROUTE_LEAD_MINUTES,
  fieldStatusTiming,
  isIn,
  MOVABLE_STATUSES,
  nextStatuses,
  type ActorRole,
  type FieldStatus,
} from "../../domain/bookingStatus";
import { localDateOf, MINUTE_MS, wallClockText } from "../../domain/time";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import type { Access } from "../access";
import { hasScope } from "../api/apiKeyFormat";
import { appError } from "../errors";
import type { Actor } from "../schema";
import { createBooking, placementRequestFor, requireBookableBusiness } from "./bookingCreate";
import { emitBookingChange, emitInvoiceChange, notifyCustomer } from "./bookingEvents";
import { cancellationDecision, invoiceOf, noShowDecision, rescheduleVerdict } from "./bookingPolicy";
import type { ApiKeyActor } from "./actor";
import type { PricedCart } from "./bookingPricing";
import {
  assignmentsOf,
  autoAssign,
  checkManualCapacity,
  MAX_BOOKING_SPAN_MINUTES,
  placeOnResource,
  releaseAssignments,
  slotUnavailable,
} from "./bookingSlots";
import { recordSameStatus, transition } from "./bookingTransitions";
import { emitEvent } from "./events";
import { depositFor, issueInvoice } from "./invoiceLines";
import { closeOpenCheckouts } from "./stripeCheckout";
import { refundBalance, requestRefund } from "./stripeRefunds";

export const MAX_NOTES = 2000;
export const MAX_REASON = 500;

// ---------------------------------------------------------------------------------------
// Actors
// ---------------------------------------------------------------------------------------

/**
 * Who is acting, as the commands need it:
 * - `actor`: recorded in the history, the cancellation and refund requests;
 * - `domainRole`: the role the state machine knows;
 * - `actingFor`: whose rules and fees apply (the customer's notice and fees, or the business's);
 * - `authority`: what the actor may do for the business (a provider only works their jobs;
 *   a manager, owner or integration runs the business's bookings);
 * - `resourceId`: the provider the actor works as (acting on an offered job accepts it).
 */
export type BookingActor = {
  actor: Actor;
  domainRole: ActorRole;
  actingFor: "customer" | "business";
  authority: "customer" | "staff" | "manager" | "system";
  resourceId?: Id<"resources">;
};

/** A signed-in person's access to the booking's business. Platform admins only read. */
export function bookingActorOf(access: Access): BookingActor {
  const actor: Actor = { role: access.role, userId: access.user._id };
  switch (access.role) {
    case "customer":
      return { actor, domainRole: "customer", actingFor: "customer", authority: "customer" };
    case "staff":
      return { actor, domainRole: "staff", actingFor: "business", authority: "staff", resourceId: access.membership.resourceId };
    case "manager":
    case "owner":
      return { actor, domainRole: access.role, actingFor: "business", authority: "manager", resourceId: access.membership.resourceId };
    case "platform_admin":
      throw appError("FORBIDDEN", "Platform admins cannot change a business's bookings.");
  }
}

/** A person booking for themself, who may be new to the business (no customer record yet). */
export function customerActor(actor: Actor): BookingActor {
  return { actor, domainRole: "customer", actingFor: "customer", authority: "customer" };
}

/**
 * An API key (authenticated in this transaction by `model/actor.apiKeyActor`): an integration
 * acts for the business (the state machine's "manager"), under the customer's rules and fees
 * when it books for a customer (`actingFor: "customer"`). Needs the bookings write scope.
 */
export function bookingActorOfKey(key: ApiKeyActor, actingFor: "customer" | "business"): BookingActor {
  if (!hasScope(key.scopes, { resource: "bookings", access: "write" })) {
    throw appError("FORBIDDEN", "This API key may not change bookings (it needs the bookings write scope).");
  }
  return { actor: { role: "api", apiKeyId: key.apiKeyId }, domainRole: "manager", actingFor, authority: "manager" };
}

export const SYSTEM_BOOKING_ACTOR: BookingActor = { actor: { role: "system" }, domainRole: "system", actingFor: "business", authority: "system" };

const byCustomer = (who: BookingActor) => who.actingFor === "customer";

/** Confirm, reschedule and cancel: the customer themself or the business's management, not a provider. */
function requireBookingOwnerOrManager(who: BookingActor) {
  if (who.authority === "staff") throw appError("FORBIDDEN", "Only a manager or the owner can do this.");
}

function requireTextLimit(value: string | undefined, max: number, param: string, what: string) {
  if (value !== undefined && value.length > max) {
    throw appError("INVALID_ARGUMENT", `${what} is limited to ${max} characters.`, { param });
  }
}

// ---------------------------------------------------------------------------------------
// Hold and confirm
// ---------------------------------------------------------------------------------------

export type HoldInput = {
  business: Doc<"businesses">;
  zone: Doc<"zones">;
  customer: Doc<"customers">;
  priced: PricedCart;
  start: number;
  source: Doc<"bookings">["source"];
  address?: Doc<"bookings">["address"];
  customerNotes?: string;
  /** Confirm in the same transaction (a partner booking in one call). */
  confirm?: boolean;
};

/** Holds the slot for `holdMinutes` (released by `bookings.expireHold`), or holds and confirms. */
export async function holdBooking(ctx: MutationCtx, who: BookingActor, input: HoldInput, now: number): Promise<Doc<"bookings">> {
  requireTextLimit(input.customerNotes, MAX_NOTES, "customerNotes", "Notes are");
  const holdExpiresAt = now + input.business.policies.booking.holdMinutes * MINUTE_MS;
  const booking = await createBooking(ctx, {
    business: input.business,
    zone: input.zone,
    customer: input.customer,
    priced: input.priced,
    start: input.start,
    status: "HELD",
    source: input.source,
    actor: who.actor,
    mode: byCustomer(who) ? "customer" : "staff",
    now,
    frequency: "once",
    address: input.address,
    customerNotes: input.customerNotes,
    holdExpiresAt,
  });
  if (input.confirm) {
    await confirmHeld(ctx, who, booking, input.business, now, true);
  } else {
    await ctx.scheduler.runAt(holdExpiresAt, internal.bookings.expireHold, { bookingId: booking._id });
    await emitBookingChange(ctx, booking, "held");
  }
  return (await ctx.db.get("bookings", booking._id))!;
}

export type ConfirmResult = { booking: Doc<"bookings">; invoice: Doc<"invoices"> };

/** HELD → PENDING_PAYMENT (a deposit is due, with a payment window as long as the hold) or CONFIRMED; issues the invoice. */
export async function confirmBooking(ctx: MutationCtx, who: BookingActor, booking: Doc<"bookings">, now: number): Promise<ConfirmResult> {
  requireBookingOwnerOrManager(who);
  const business = (await ctx.db.get("businesses", booking.businessId))!;
  return await confirmHeld(ctx, who, booking, business, now);
}

/** `placedNow`: held and confirmed in one command, so the availability rooms have not heard of it yet. */
async function confirmHeld(
  ctx: MutationCtx,
  who: BookingActor,
  booking: Doc<"bookings">,
  business: Doc<"businesses">,
  now: number,
  placedNow = false,
): Promise<ConfirmResult> {
  if (booking.status !== "HELD") {
    throw appError("INVALID_TRANSITION", `The booking is ${statusWords(booking.status)}, not held.`, { param: "bookingId" });
  }
  requireLiveHold(booking, now);
  const depositMinor = depositFor(booking.quote.totalMinor, business.policies.booking.depositBp);
  const to = depositMinor > 0 ? "PENDING_PAYMENT" : "CONFIRMED";
  // A payment window as long as the hold: unpaid bookings are released like holds.
  const paymentDeadline = now + business.policies.booking.holdMinutes * MINUTE_MS;
  const updated = await transition(ctx, booking, to, who, now, {
    patch: { holdExpiresAt: to === "PENDING_PAYMENT" ? paymentDeadline : undefined },
  });
  if (to === "PENDING_PAYMENT") await ctx.scheduler.runAt(paymentDeadline, internal.bookings.expireHold, { bookingId: booking._id });
  const invoice = await issueInvoice(ctx, updated, business, now);
  await emitBookingChange(ctx, (await ctx.db.get("bookings", booking._id))!, "confirmed", { from: "HELD", ...(placedNow ? { availabilityChanged: true } : {}) });
  await emitInvoiceChange(ctx, invoice, "issued");
  if (to === "CONFIRMED") await notifyCustomer(ctx, booking._id, "booking_confirmed", true);
  return { booking: (await ctx.db.get("bookings", booking._id))!, invoice };
}

function requireLiveHold(booking: Doc<"bookings">, now: number) {
  if (booking.status === "HELD" && booking.holdExpiresAt !== undefined && booking.holdExpiresAt <= now) {
    throw appError("HOLD_EXPIRED", "The hold on this time has expired; pick a slot again.", { param: "bookingId" });
  }
}

// ---------------------------------------------------------------------------------------
// Reschedule
// ---------------------------------------------------------------------------------------

export async function reschedulePreview(ctx: QueryCtx, who: BookingActor, booking: Doc<"bookings">, now: number) {
  const business = (await ctx.db.get("businesses", booking.businessId))!;
  const verdict = rescheduleVerdict(business, booking, await invoiceOf(ctx, booking), byCustomer(who), now);
  const movable = isIn(MOVABLE_STATUSES, booking.status);
  return {
    allowed: verdict.allowed && movable,
    feeMinor: verdict.feeMinor,
    reason: movable ? verdict.reason : `A ${statusWords(booking.status)} booking cannot be rescheduled`,
  };
}

export type RescheduleResult = { booking: Doc<"bookings">; feeMinor: number; resourceIds: Id<"resources">[] };

/**
 * Moves a booking to `start` atomically: releases its assignments and places it again (the
 * same provider when free, under the business's dispatch policy), charging the late fee the
 * policy sets when the customer moves it. Any failure rolls every step back.
 */
export async function rescheduleBooking(
  ctx: MutationCtx,
  who: BookingActor,
  booking: Doc<"bookings">,
  input: { start: number; expectedFeeMinor?: number },
  now: number,
): Promise<RescheduleResult> {
  requireBookingOwnerOrManager(who);
  if (!isIn(MOVABLE_STATUSES, booking.status)) {
    throw appError("INVALID_TRANSITION", `A ${statusWords(booking.status)} booking cannot be rescheduled.`, { param: "bookingId" });
  }
  requireLiveHold(booking, now);
  if (input.start === booking.start) throw appError("INVALID_ARGUMENT", "The booking is already at that time.", { param: "start" });
  const business = await requireBookableBusiness(ctx, booking.businessId);
  const invoice = await invoiceOf(ctx, booking);
  const verdict = rescheduleVerdict(business, booking, invoice, byCustomer(who), now);
  if (!verdict.allowed) throw appError("POLICY_VIOLATION", verdict.reason, { param: "bookingId" });
  if (input.expectedFeeMinor !== undefined && input.expectedFeeMinor !== verdict.feeMinor) {
    throw appError("POLICY_VIOLATION", `The reschedule fee is now ${verdict.feeMinor}; confirm again.`, {
      param: "expectedFeeMinor",
      details: { feeMinor: verdict.feeMinor },
    });
  }
  const windowMinutes = business.policies.booking.arrivalWindowMinutes;
  const spanMinutes = booking.quote.durationMinutes + windowMinutes;
  if (spanMinutes > MAX_BOOKING_SPAN_MINUTES) throw appError("INVALID_ARGUMENT", "The booking is too long to schedule.");

  const previousResourceIds = booking.assignedResourceIds;
  await releaseAssignments(ctx, booking._id);
  const request = placementRequestFor(business, booking, input.start, byCustomer(who) ? "customer" : "staff", now, booking._id);
  const resourceIds = await placeAgain(ctx, business, request, booking._id, previousResourceIds);
  await ctx.db.patch("bookings", booking._id, {
    start: input.start,
    end: input.start + spanMinutes * MINUTE_MS,
    localDate: localDateOf(input.start, business.timeZone),
    arrivalWindowEnd: windowMinutes > 0 ? input.start + windowMinutes * MINUTE_MS : undefined,
    rescheduleCount: booking.rescheduleCount + 1,
    assignedResourceIds: resourceIds,
  });
  if (verdict.feeMinor > 0 && invoice !== null) await addRescheduleFee(ctx, invoice, verdict.feeMinor);
  await recordSameStatus(ctx, booking, who.actor, now, `rescheduled from ${wallClockText(booking.start, business.timeZone)}`);
  const updated = (await ctx.db.get("bookings", booking._id))!;
  await emitBookingChange(ctx, updated, "rescheduled", {
    previous: { start: booking.start, end: booking.end, localDate: booking.localDate },
    previousResourceIds,
  });
  if (booking.status !== "HELD") await notifyCustomer(ctx, booking._id, "booking_rescheduled");
  return { booking: updated, feeMinor: verdict.feeMinor, resourceIds };
}

/** Places a moved booking: manual dispatch keeps its providers (or checks capacity), otherwise auto-assign preferring them. */
async function placeAgain(
  ctx: MutationCtx,
  business: Doc<"businesses">,
  request: ReturnType<typeof placementRequestFor>,
  bookingId: Id<"bookings">,
  previousResourceIds: Id<"resources">[],
): Promise<Id<"resources">[]> {
  const policy = business.policies.booking.autoAssign;
  if (policy !== "manual") {
    const placed = await autoAssign(ctx, request, bookingId, { policy, preferred: previousResourceIds });
    if ("failure" in placed) throw slotUnavailable(placed.failure);
    return [placed.resource._id];
  }
  if (previousResourceIds.length === 0) {
    await checkManualCapacity(ctx, request);
    return [];
  }
  for (const resourceId of previousResourceIds) {
    const resource = await ctx.db.get("resources", resourceId);
    if (resource === null) throw slotUnavailable("The assigned provider is no longer available.");
    await placeOnResource(ctx, request, resource, bookingId, "accepted");
  }
  return previousResourceIds;
}

export async function addRescheduleFee(ctx: MutationCtx, invoice: Doc<"invoices">, feeMinor: number) {
  await ctx.db.patch("invoices", invoice._id, {
    lines: [...invoice.lines, { kind: "fee", description: "Late reschedule fee", quantity: 1, unitAmountMinor: feeMinor, amountMinor: feeMinor }],
    totalMinor: invoice.totalMinor + feeMinor,
    status: invoice.status === "paid" ? "open" : invoice.status,
  });
  await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "updated");
}

// ---------------------------------------------------------------------------------------
// Cancel
// ---------------------------------------------------------------------------------------

/** What cancelling now would cost and give back: the panel shows this, `cancelBooking` applies it. */
export async function cancellationPreview(ctx: QueryCtx, who: BookingActor, booking: Doc<"bookings">, now: number) {
  const business = (await ctx.db.get("businesses", booking.businessId))!;
  return cancellationDecision(business, booking, await invoiceOf(ctx, booking), byCustomer(who), now);
}

/** An unpaid invoice with nothing owed any more is voided. */
export async function voidUnpaidInvoice(ctx: MutationCtx, booking: Doc<"bookings">, feeMinor: number) {
  const invoice = await invoiceOf(ctx, booking);
  if (invoice === null || invoice.status === "void") return;
  if (invoice.amountPaidMinor === 0 && feeMinor === 0) {
    await ctx.db.patch("invoices", invoice._id, { status: "void" });
    await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "voided");
  }
}

/**
 * Cancels under the cancellation policy (fees only when the customer cancels), frees the time,
 * and refunds in the same transaction what the decision promised (`refundMinor`, the amount
 * the cancellation panel showed); the money moves in `refunds.submit`.
 */
export async function cancelBooking(
  ctx: MutationCtx,
  who: BookingActor,
  booking: Doc<"bookings">,
  input: { reason?: string; expectedFeeMinor?: number; /** false: no "cancelled" message (the caller sends one for several). */ notify?: boolean },
  now: number,
) {
  requireBookingOwnerOrManager(who);
  requireTextLimit(input.reason, MAX_REASON, "reason", "The reason is");
  const business = (await ctx.db.get("businesses", booking.businessId))!;
  const invoice = await invoiceOf(ctx, booking);
  const decision = cancellationDecision(business, booking, invoice, byCustomer(who), now);
  if (input.expectedFeeMinor !== undefined && input.expectedFeeMinor !== decision.feeMinor) {
    throw appError("POLICY_VIOLATION", `The cancellation fee is now ${decision.feeMinor}; confirm again.`, {
      param: "expectedFeeMinor",
      details: { feeMinor: decision.feeMinor },
    });
  }
  const released = await releaseAssignments(ctx, booking._id);
  const updated = await transition(ctx, booking, "CANCELLED", who, now, {
    reason: input.reason,
    patch: {
      holdExpiresAt: undefined,
      assignedResourceIds: [],
      cancellation: { at: now, actor: who.actor, reason: input.reason, feeMinor: decision.feeMinor },
    },
  });
  await voidUnpaidInvoice(ctx, updated, decision.feeMinor);
  await closeOpenCheckouts(ctx, updated, now);
  // What the decision promised, within what the payments recorded on the invoice can give back
  // (refunds already pending are not asked for twice).
  const refundMinor = invoice === null ? 0 : Math.min(decision.refundMinor, (await refundBalance(ctx, invoice)).refundableMinor);
  if (invoice !== null && refundMinor > 0) {
    await requestRefund(ctx, {
      invoiceId: invoice._id,
      amountMinor: refundMinor,
      reason: decision.feeMinor > 0 ? "Booking cancelled: paid minus the cancellation fee" : "Booking cancelled",
      actor: who.actor,
      now,
    });
  }
  await emitBookingChange(ctx, updated, "cancelled", { from: booking.status, resourceIds: released.map((a) => a.resourceId) });
  if (booking.status !== "HELD" && input.notify !== false) await notifyCustomer(ctx, booking._id, "booking_cancelled");
  return { booking: updated, decision };
}

// ---------------------------------------------------------------------------------------
// Field statuses
// ---------------------------------------------------------------------------------------

export function enRouteLeadMinutes(business: Doc<"businesses">): number {
  return business.policies.booking.enRouteLeadMinutes ?? DEFAULT_EN_ROUTE_LEAD_MINUTES;
}

export type FieldStatusOption = {
  status: FieldStatus;
  /** Instant from which the status may be set without an override; null = any time. */
  notBefore: number | null;
  /** Why it is not available before `notBefore`. */
  reason: string | null;
};

/**
 * The field statuses the actor may set on the booking next, each with the time it becomes
 * available (the same rules `changeFieldStatus` applies). Time-independent, so a screen can
 * compare `notBefore` with its own clock.
 */
export function fieldStatusOptions(business: Doc<"businesses">, who: BookingActor, booking: Doc<"bookings">): FieldStatusOption[] {
  const policy = { enRouteLeadMinutes: enRouteLeadMinutes(business), timeZone: business.timeZone };
  const options: FieldStatusOption[] = [];
  for (const status of nextStatuses(booking.status, who.domainRole)) {
    if (status !== "CONFIRMED" && status !== "EN_ROUTE" && status !== "IN_PROGRESS" && status !== "COMPLETED" && status !== "NO_SHOW") continue;
    // Asked at the earliest instant: a refusal tells when it opens.
    const timing = fieldStatusTiming(status, { startsAt: booking.start }, policy, Number.MIN_SAFE_INTEGER);
    options.push(timing.ok ? { status, notBefore: null, reason: null } : { status, notBefore: timing.notBefore, reason: timing.reason });
  }
  return options;
}

export type FieldStatusInput = {
  status: FieldStatus;
  note?: string;
  /** A manager setting a status before its time says why; recorded in the history. */
  overrideReason?: string;
};

/**
 * Sets a field status (en route, in progress, completed, no-show, back to confirmed) under the
 * state machine and the time rules: en route from the business's lead time before the arrival
 * window, the rest from the start. A manager may set one earlier with a reason.
 */
export async function changeFieldStatus(ctx: MutationCtx, who: BookingActor, booking: Doc<"bookings">, input: FieldStatusInput, now: number) {
  if (who.authority === "customer") throw appError("FORBIDDEN", "Only the business's staff can update a job's status.");
  requireTextLimit(input.note, MAX_REASON, "note", "The note is");
  requireTextLimit(input.overrideReason, MAX_REASON, "overrideReason", "The reason is");
  const business = (await ctx.db.get("businesses", booking.businessId))!;
  const overrideReason = input.overrideReason?.trim();
  if (input.overrideReason !== undefined && !overrideReason) {
    throw appError("INVALID_ARGUMENT", "Say why the status is set before its time.", { param: "overrideReason" });
  }
  let reason = input.note;
  const timing = fieldStatusTiming(input.status, { startsAt: booking.start }, { enRouteLeadMinutes: enRouteLeadMinutes(business), timeZone: business.timeZone }, now);
  // A no-show before the start is refused by the state machine itself, override or not.
  const overridable = input.status !== "NO_SHOW" && nextStatuses(booking.status, who.domainRole).includes(input.status);
  if (!timing.ok && overridable) {
    if (overrideReason === undefined) {
      throw appError("TOO_EARLY", timing.reason, {
        param: "status",
        details: { notBefore: timing.notBefore, overridable: who.authority === "manager" },
      });
    }
    if (who.authority !== "manager") throw appError("FORBIDDEN", "Only a manager or the owner can set a status before its time.", { param: "overrideReason" });
    reason = `Set before its time by ${who.actor.role === "api" ? "an integration" : `the ${who.actor.role}`}: ${overrideReason}${input.note ? ` (note: ${input.note})` : ""}`;
  }
  let patch: Partial<Doc<"bookings">> = {};
  let feeMinor: number | undefined;
  if (input.status === "NO_SHOW") {
    feeMinor = noShowDecision(business, booking, await invoiceOf(ctx, booking)).feeMinor;
    patch = { cancellation: { at: now, actor: who.actor, reason: input.note ?? "no_show", feeMinor } };
  }
  const updated = await transition(ctx, booking, input.status, who, now, { reason, patch });
  await acceptOwnOffer(ctx, who, booking._id);
  // The rest of the reserved time becomes free again once the job is over.
  const released = input.status === "COMPLETED" || input.status === "NO_SHOW" ? await releaseAssignments(ctx, booking._id) : [];
  await emitBookingChange(ctx, updated, "status_changed", {
    from: booking.status,
    availabilityChanged: released.length > 0,
    resourceIds: released.map((a) => a.resourceId),
  });
  if (input.status === "EN_ROUTE") await notifyCustomer(ctx, booking._id, "provider_en_route");
  if (input.status === "COMPLETED") await notifyCustomer(ctx, booking._id, "review_request", true);
  return { booking: updated, feeMinor };
}

/** The provider acting on a job offered to them accepts it. */
async function acceptOwnOffer(ctx: MutationCtx, who: BookingActor, bookingId: Id<"bookings">) {
  if (who.resourceId === undefined) return;
  for (const assignment of await assignmentsOf(ctx, bookingId)) {
    if (assignment.status === "offered" && assignment.resourceId === who.resourceId) {
      await ctx.db.patch("bookingAssignments", assignment._id, { status: "accepted" });
    }
  }
}

// ---------------------------------------------------------------------------------------
// Notes
// ---------------------------------------------------------------------------------------

/** Replaces the customer's notes (null or blank clears them). */
export async function updateCustomerNotes(ctx: MutationCtx, who: BookingActor, booking: Doc<"bookings">, customerNotes: string | null) {
  requireBookingOwnerOrManager(who);
  requireTextLimit(customerNotes ?? undefined, MAX_NOTES, "customerNotes", "Notes are");
  const notes = customerNotes === null || customerNotes.trim() === "" ? undefined : customerNotes;
  await ctx.db.patch("bookings", booking._id, { customerNotes: notes });
  // Event log and partner webhooks only: the PartyKit booking rooms carry summaries without notes.
  await emitEvent(ctx, {
    businessId: booking.businessId,
    type: "booking.updated",
    entity: { table: "bookings", id: booking._id },
    data: { bookingId: booking._id, fields: ["customerNotes"] },
    rooms: [],
  });
  return (await ctx.db.get("bookings", booking._id))!;
}

const STATUS_WORDS: Record<Doc<"bookings">["status"], string> = {
  HELD: "held",
  PENDING_PAYMENT: "unpaid",
  CONFIRMED: "confirmed",
  EN_ROUTE: "en route",
  IN_PROGRESS: "in progress",
  COMPLETED: "completed",
  CANCELLED: "cancelled",
  NO_SHOW: "no-show",
};

function statusWords(status: Doc<"bookings">["status"]): string {
  return STATUS_WORDS[status];
}
