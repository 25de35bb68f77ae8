/**
 * Refund requests: how much, against which payments. The money moves later, in
 * `refunds.submit` (Stripe's API, or a local charge.refunded through our own webhook), and
 * the refund becomes `succeeded` only when the charge.refunded event is ingested.
 */
import { cancellationFee, noShowFee, type CancellationPolicy } from "../../domain/policies";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { appError } from "../errors";
import type { Actor, BusinessPolicies } from "../schema";

export function domainCancellationPolicy(p: BusinessPolicies["cancellation"]): CancellationPolicy {
  return {
    freeCancellationHours: p.freeUntilHours,
    lateCancellationFeeMinor: p.lateFeeFlatMinor,
    lateCancellationFeeBp: p.lateFeePercentBp,
    noShowFeeMinor: p.noShowFeeFlatMinor,
    noShowFeeBp: p.noShowFeePercentBp,
  };
}

export type RefundBalance = {
  paidMinor: number;
  refundedMinor: number;
  pendingMinor: number;
  /** Paid − refunded − pending: the most any new refund may be. */
  refundableMinor: number;
  payments: { payment: Doc<"payments">; refundableMinor: number }[];
};

export async function refundBalance(ctx: QueryCtx, invoice: Doc<"invoices">): Promise<RefundBalance> {
  const payments = (
    await ctx.db
      .query("payments")
      .withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id))
      .take(100)
  ).filter((p) => p.status === "succeeded");
  const refunds = await ctx.db
    .query("refunds")
    .withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id))
    .take(500);
  const live = refunds.filter((r) => r.status !== "failed");
  const byPayment = payments.map((payment) => {
    const used = live.filter((r) => r.paymentId === payment._id).reduce((s, r) => s + r.amountMinor, 0);
    return { payment, refundableMinor: Math.max(0, payment.amountMinor - used) };
  });
  const paidMinor = payments.reduce((s, p) => s + p.amountMinor, 0);
  const refundedMinor = refunds.filter((r) => r.status === "succeeded").reduce((s, r) => s + r.amountMinor, 0);
  const pendingMinor = refunds.filter((r) => r.status === "pending").reduce((s, r) => s + r.amountMinor, 0);
  return {
    paidMinor,
    refundedMinor,
    pendingMinor,
    refundableMinor: Math.max(0, paidMinor - refundedMinor - pendingMinor),
    payments: byPayment,
  };
}

/**
 * What the cancellation policy says the customer gets back in total for this booking
 * (before subtracting earlier refunds): paid − the fee recorded at cancellation, or the
 * no-show fee, or the fee for cancelling now.
 */
export function policyRefundTotal(
  booking: Doc<"bookings">,
  business: Doc<"businesses">,
  paidMinor: number,
  now: number,
): { refundMinor: number; reason: string } {
  const policy = domainCancellationPolicy(business.policies.cancellation);
  const facts = { startsAt: booking.start, totalMinor: booking.quote.totalMinor, paidMinor };
  if (booking.cancellation) {
    return {
      refundMinor: Math.max(0, paidMinor - booking.cancellation.feeMinor),
      reason: booking.cancellation.feeMinor > 0 ? "Cancelled: paid minus the cancellation fee" : "Cancelled free of charge",
    };
  }
  if (booking.status === "NO_SHOW") {
    const d = noShowFee(policy, facts);
    return { refundMinor: d.refundMinor, reason: d.reason };
  }
  if (booking.status === "COMPLETED") return { refundMinor: 0, reason: "The service was completed; give an amount to refund" };
  const d = cancellationFee(policy, facts, now);
  return { refundMinor: d.refundMinor, reason: d.reason };
}

export type RefundRequest = {
  invoiceId: Id<"invoices">;
  /** Absent = computed from the cancellation policy. */
  amountMinor?: number;
  reason: string;
  actor: Actor;
  now: number;
  /** Refund only this payment (automatic refunds of one payment). */
  onlyPaymentId?: Id<"payments">;
  /** Throw when there is nothing to refund (public callers); internal callers get 0. */
  requireAmount?: boolean;
};

export type RefundPlan = { totalMinor: number; refunds: { refundId: Id<"refunds">; paymentId: Id<"payments">; amountMinor: number }[]; policyReason?: string };

/** Creates pending refund rows (at most what is refundable) and schedules their submission. */
export async function requestRefund(ctx: MutationCtx, req: RefundRequest): Promise<RefundPlan> {
  const invoice = await ctx.db.get("invoices", req.invoiceId);
  if (invoice === null) throw appError("NOT_FOUND", "Invoice not found.", { param: "invoiceId" });
  const balance = await refundBalance(ctx, invoice);
  let wanted: number;
  let policyReason: string | undefined;
  if (req.amountMinor !== undefined) {
    if (!Number.isSafeInteger(req.amountMinor) || req.amountMinor <= 0) {
      throw appError("INVALID_ARGUMENT", "amountMinor must be a positive integer number of minor units.", { param: "amountMinor" });
    }
    if (req.amountMinor > balance.refundableMinor) {
      throw appError(
        "POLICY_VIOLATION",
        `At most ${balance.refundableMinor} ${invoice.currency} (minor units) can be refunded: paid ${balance.paidMinor}, refunded ${balance.refundedMinor}, pending ${balance.pendingMinor}.`,
        { param: "amountMinor", details: { refundableMinor: balance.refundableMinor } },
      );
    }
    wanted = req.amountMinor;
  } else {
    const booking = await ctx.db.get("bookings", invoice.bookingId);
    const business = await ctx.db.get("businesses", invoice.businessId);
    if (booking === null || business === null) throw appError("NOT_FOUND", "Booking not found.", { param: "invoiceId" });
    const policy = policyRefundTotal(booking, business, balance.paidMinor, req.now);
    policyReason = policy.reason;
    wanted = Math.min(balance.refundableMinor, Math.max(0, policy.refundMinor - balance.refundedMinor - balance.pendingMinor));
  }
  if (wanted === 0) {
    if (req.requireAmount) {
      throw appError("POLICY_VIOLATION", `Nothing to refund${policyReason ? `: ${policyReason}` : ""}.`, { param: "amountMinor" });
    }
    return { totalMinor: 0, refunds: [], policyReason };
  }

  const plan: RefundPlan = { totalMinor: 0, refunds: [], policyReason };
  let left = wanted;
  const candidates = balance.payments.filter((p) => req.onlyPaymentId === undefined || p.payment._id === req.onlyPaymentId);
  // Newest payment first, so a balance payment is refunded before the deposit.
  for (const { payment, refundableMinor } of [...candidates].reverse()) {
    if (left === 0) break;
    const amountMinor = Math.min(left, refundableMinor);
    if (amountMinor === 0) continue;
    const refundId = await ctx.db.insert("refunds", {
      businessId: invoice.businessId,
      paymentId: payment._id,
      invoiceId: invoice._id,
      amountMinor,
      currency: invoice.currency,
      reason: req.reason,
      status: "pending",
      requestedBy: req.actor,
      createdAt: req.now,
    });
    await ctx.scheduler.runAfter(0, internal.refunds.submit, { refundId });
    plan.refunds.push({ refundId, paymentId: payment._id, amountMinor });
    plan.totalMinor += amountMinor;
    left -= amountMinor;
  }
  if (left > 0) throw new Error(`requestRefund: ${left} could not be allocated to payments`);
  return plan;
}
