/**
 * The end of a booking's payment window, and money that arrives after it.
 *
 * - `closeOpenCheckouts`: when an unpaid booking is released (its hold or payment deadline
 *   ran out), its checkouts awaiting payment are cancelled in the same transaction; Stripe
 *   Checkout Sessions are then expired through Stripe's API (`payments.expireCheckoutSession`),
 *   and the local test checkout refuses to take a payment (`checkoutRefusal`).
 * - `settleLatePayment`: a payment Stripe still completed for a cancelled booking (the
 *   customer paid in the seconds before the session was expired) either reinstates the
 *   booking, when the system released it for non-payment and its time is still free (placed
 *   by the same code that places every booking), or is refunded: in full for a released
 *   booking, minus any cancellation fee still owed for one the customer cancelled.
 */
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { SYSTEM_ACTOR } from "./bookingAccess";
import { placementRequestFor } from "./bookingCreate";
import { emitBookingChange, emitInvoiceChange, notifyCustomer } from "./bookingEvents";
import { invoiceOf } from "./bookingPolicy";
import { assignmentsOf, autoAssign, findFit, slotUnavailable } from "./bookingSlots";
import { transition } from "./bookingTransitions";
import { emitPaymentStatus } from "./stripePaymentEvents";
import { refundBalance, requestRefund } from "./stripeRefunds";

/** The cancellation reason the hold-expiry job records. */
export const EXPIRED_REASON = "expired";

/** Whether the system released this booking because it was not paid in time. */
export function wasReleasedUnpaid(booking: Pick<Doc<"bookings">, "status" | "cancellation">): boolean {
  return booking.status === "CANCELLED" && booking.cancellation?.reason === EXPIRED_REASON && booking.cancellation.actor.role === "system";
}

/**
 * Cancels the booking's payment attempts still awaiting payment and schedules the expiry of
 * their Stripe Checkout Sessions. Attempts Stripe is already processing are left to finish:
 * if they succeed, `settleLatePayment` handles the money. Returns how many were closed.
 */
export async function closeOpenCheckouts(ctx: MutationCtx, booking: Doc<"bookings">, now: number): Promise<number> {
  const invoice = await invoiceOf(ctx, booking);
  if (invoice === null) return 0;
  const attempts = await ctx.db
    .query("payments")
    .withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id))
    .take(50);
  let closed = 0;
  for (const payment of attempts) {
    if (payment.status !== "requires_payment") continue;
    await ctx.db.patch("payments", payment._id, { status: "canceled", updatedAt: now });
    await emitPaymentStatus(ctx, "payment.canceled", (await ctx.db.get("payments", payment._id))!);
    if (payment.provider === "stripe" && payment.stripeCheckoutSessionId !== undefined) {
      await ctx.scheduler.runAfter(0, internal.payments.expireCheckoutSession, { paymentId: payment._id });
    }
    closed++;
  }
  return closed;
}

export type CheckoutFacts = {
  paymentStatus: Doc<"payments">["status"];
  booking: Pick<Doc<"bookings">, "status" | "holdExpiresAt" | "cancellation">;
  now: number;
};

/**
 * Why a checkout can no longer take a payment, in words for the person at the checkout, or
 * null when it can. The booking decides first: a released or cancelled booking is never paid
 * through an old checkout, even if the expiry job has not run yet.
 */
export function checkoutRefusal({ paymentStatus, booking, now }: CheckoutFacts): { title: string; message: string } | null {
  const ranOut = { title: "Time to pay ran out", message: "The time to pay for this booking ran out, so the booking was released. You have not been charged. Please book again." };
  if (booking.status === "CANCELLED") {
    return wasReleasedUnpaid(booking) ? ranOut : { title: "Booking cancelled", message: "This booking was cancelled, so there is nothing to pay. You have not been charged." };
  }
  if (booking.status === "PENDING_PAYMENT" && booking.holdExpiresAt !== undefined && booking.holdExpiresAt <= now) return ranOut;
  if (booking.status === "NO_SHOW") return { title: "Checkout closed", message: "This booking can no longer be paid online." };
  switch (paymentStatus) {
    case "requires_payment":
    case "failed":
      return null;
    case "succeeded":
      return { title: "Already paid", message: "This payment has already been made. Nothing more to pay here." };
    case "processing":
      return { title: "Payment in progress", message: "This payment is being processed. Check your booking for the result." };
    case "canceled":
      return { title: "Checkout closed", message: "This checkout was closed. Start the payment again from your booking." };
  }
}

export type LatePaymentOutcome =
  | { outcome: "reinstated"; note: string }
  | { outcome: "refunded"; amountMinor: number; note: string };

/**
 * A payment succeeded for a CANCELLED booking (`payment` and `invoice` already record it).
 * Reinstates the booking when the system released it unpaid and its time is still free,
 * else refunds the payment (see the header).
 */
export async function settleLatePayment(
  ctx: MutationCtx,
  input: { booking: Doc<"bookings">; invoice: Doc<"invoices">; payment: Doc<"payments">; now: number },
): Promise<LatePaymentOutcome> {
  const { booking, invoice, payment, now } = input;
  const notReinstated = await reinstate(ctx, booking, invoice, now);
  if (notReinstated === null) return { outcome: "reinstated", note: "late payment reinstated the booking" };

  const balance = await refundBalance(ctx, invoice);
  const keepMinor = wasReleasedUnpaid(booking) ? 0 : (booking.cancellation?.feeMinor ?? 0);
  const dueBack = Math.max(0, balance.paidMinor - keepMinor - balance.refundedMinor - balance.pendingMinor);
  const ofThisPayment = balance.payments.find((p) => p.payment._id === payment._id)?.refundableMinor ?? 0;
  const amountMinor = Math.min(dueBack, ofThisPayment);
  if (amountMinor > 0) {
    await requestRefund(ctx, {
      invoiceId: invoice._id,
      amountMinor,
      reason: `Automatic refund: the payment arrived after the booking was cancelled (${notReinstated})`,
      actor: SYSTEM_ACTOR,
      now,
      onlyPaymentId: payment._id,
    });
  }
  return { outcome: "refunded", amountMinor, note: `late payment for a cancelled booking: ${notReinstated}; refunding ${amountMinor}` };
}

/** Puts a released booking back at its time; returns null when done, else why not. */
async function reinstate(ctx: MutationCtx, booking: Doc<"bookings">, invoice: Doc<"invoices">, now: number): Promise<string | null> {
  if (!wasReleasedUnpaid(booking)) return "it was cancelled on purpose";
  if (booking.start <= now) return "its time has passed";
  if (invoice.amountPaidMinor < invoice.depositMinor) return "the deposit is not covered";
  const business = await ctx.db.get("businesses", booking.businessId);
  if (business === null || business.status !== "ACTIVE") return "the business is not taking bookings";
  const request = placementRequestFor(business, booking, booking.start, "staff", now, booking._id);
  const fit = await findFit(ctx, request);
  if (!fit.ok) return "its time was taken meanwhile";

  let resourceIds = booking.assignedResourceIds;
  const policy = business.policies.booking.autoAssign;
  if (policy !== "manual") {
    // Prefer the provider it had before it was released.
    const previous = (await assignmentsOf(ctx, booking._id)).map((a) => a.resourceId);
    const placed = await autoAssign(ctx, request, booking._id, { policy, preferred: previous });
    if ("failure" in placed) throw slotUnavailable(placed.failure);
    resourceIds = [placed.resource._id];
  }
  const updated = await transition(ctx, booking, "CONFIRMED", { domainRole: "system", actor: SYSTEM_ACTOR }, now, {
    reason: "payment arrived after the booking was released; its time was still free",
    patch: { cancellation: undefined, holdExpiresAt: undefined, assignedResourceIds: resourceIds },
  });
  if (invoice.status === "void") {
    await ctx.db.patch("invoices", invoice._id, invoice.amountPaidMinor >= invoice.totalMinor ? { status: "paid", paidAt: now } : { status: "open" });
    await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "updated");
  }
  await emitBookingChange(ctx, updated, "confirmed", { from: "CANCELLED", availabilityChanged: true, resourceIds });
  await notifyCustomer(ctx, booking._id, "booking_confirmed", true);
  return null;
}
