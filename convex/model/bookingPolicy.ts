/**
 * The business's cancellation and reschedule policies as the domain reads them, and the fee
 * decisions for one booking. Fees are charged only when the customer acts; the business
 * cancelling or moving its own booking never charges the customer.
 */
import {
  cancellationFee,
  noShowFee,
  rescheduleDecision,
  type CancellationPolicy,
  type FeeDecision,
  type RescheduleDecision,
} from "../../domain/policies";
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx as RawQueryCtx } from "../_generated/server";

export function domainPolicy(policies: Doc<"businesses">["policies"]): CancellationPolicy {
  return {
    freeCancellationHours: policies.cancellation.freeUntilHours,
    lateCancellationFeeMinor: policies.cancellation.lateFeeFlatMinor,
    lateCancellationFeeBp: policies.cancellation.lateFeePercentBp,
    noShowFeeMinor: policies.cancellation.noShowFeeFlatMinor,
    noShowFeeBp: policies.cancellation.noShowFeePercentBp,
    freeRescheduleHours: policies.reschedule.freeUntilHours,
    lateRescheduleFeeMinor: policies.reschedule.lateFeeFlatMinor,
    maxReschedules: policies.reschedule.maxReschedules,
  };
}

export async function invoiceOf(ctx: RawQueryCtx, booking: Doc<"bookings">): Promise<Doc<"invoices"> | null> {
  return await ctx.db
    .query("invoices")
    .withIndex("by_bookingId", (q) => q.eq("bookingId", booking._id))
    .first();
}

function policyBooking(booking: Doc<"bookings">, invoice: Doc<"invoices"> | null) {
  return {
    startsAt: booking.start,
    totalMinor: booking.quote.totalMinor,
    paidMinor: invoice ? Math.max(0, invoice.amountPaidMinor - invoice.amountRefundedMinor) : 0,
    rescheduleCount: booking.rescheduleCount,
  };
}

export function cancellationDecision(
  business: Doc<"businesses">,
  booking: Doc<"bookings">,
  invoice: Doc<"invoices"> | null,
  byCustomer: boolean,
  now: number,
): FeeDecision {
  const paidMinor = policyBooking(booking, invoice).paidMinor;
  if (booking.status === "HELD") {
    return { feeMinor: 0, refundMinor: paidMinor, outstandingFeeMinor: 0, isFree: true, reason: "A hold can be released at no cost" };
  }
  if (!byCustomer) {
    return { feeMinor: 0, refundMinor: paidMinor, outstandingFeeMinor: 0, isFree: true, reason: "Cancelled by the business; no fee" };
  }
  return cancellationFee(domainPolicy(business.policies), policyBooking(booking, invoice), now);
}

export function rescheduleVerdict(
  business: Doc<"businesses">,
  booking: Doc<"bookings">,
  invoice: Doc<"invoices"> | null,
  byCustomer: boolean,
  now: number,
): RescheduleDecision {
  if (!byCustomer || booking.status === "HELD") {
    if (now >= booking.start && byCustomer) {
      return { allowed: false, feeMinor: 0, reason: "A booking cannot be rescheduled once it has started" };
    }
    return { allowed: true, feeMinor: 0, isFree: true, reason: byCustomer ? "A hold can be moved at no cost" : "Moved by the business; no fee" };
  }
  return rescheduleDecision(domainPolicy(business.policies), policyBooking(booking, invoice), now);
}

export function noShowDecision(business: Doc<"businesses">, booking: Doc<"bookings">, invoice: Doc<"invoices"> | null): FeeDecision {
  return noShowFee(domainPolicy(business.policies), policyBooking(booking, invoice));
}
