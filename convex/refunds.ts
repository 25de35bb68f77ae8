/**
 * Refunds of an invoice's payments.
 *
 * `create` (owner / manager) and `createForCancellation` (internal, for the booking module's
 * cancellation) write PENDING refund rows in one transaction: the amount is the one given or,
 * when absent, what the cancellation policy leaves to the customer (`domain/policies.ts`),
 * never more than paid − refunded − pending. `submit` (scheduled) then moves the money:
 * - with STRIPE_SECRET_KEY: a Stripe refund (idempotency key `refund_<refundId>`);
 * - offline: the events Stripe sends for it (`refund.created` + `charge.refunded`, real
 *   format), signed with STRIPE_WEBHOOK_SECRET and POSTed to our /stripe/webhook.
 * Either way the refund becomes `succeeded`, the invoice partially_refunded / refunded and
 * the customer gets a refund receipt only when those events are ingested.
 */
import { v } from "convex/values";
import { doc } from "convex-helpers/validators";
import Stripe from "stripe";
import { internal } from "./_generated/api";
import { requireBusinessRole } from "./access";
import { env } from "./env";
import { appError } from "./errors";
import { internalAction, internalMutation, internalQuery, mutation, query } from "./functions";
import { actorOf } from "./model/bookingAccess";
import { localId, postSignedEvents, refundEvents } from "./model/stripeLocalEvents";
import { policyRefundTotal, refundBalance, requestRefund } from "./model/stripeRefunds";
import schema from "./schema";
import { siteUrl, stripeClient } from "./stripe";
import { STRIPE_WEBHOOK_PATH } from "./stripeWebhook";

const vRefund = doc(schema, "refunds");
const vRefundPlan = v.object({
  totalMinor: v.number(),
  refunds: v.array(v.object({ refundId: v.id("refunds"), paymentId: v.id("payments"), amountMinor: v.number() })),
  policyReason: v.optional(v.string()),
});
const MAX_REASON = 500;
const MAX_SUBMIT_ATTEMPTS = 6;

export const create = mutation({
  args: {
    invoiceId: v.id("invoices"),
    /** Absent = the amount the cancellation policy allows. */
    amountMinor: v.optional(v.number()),
    reason: v.string(),
  },
  returns: vRefundPlan,
  handler: async (ctx, args) => {
    const invoice = await ctx.db.get("invoices", args.invoiceId);
    if (invoice === null) throw appError("NOT_FOUND", "Invoice not found.", { param: "invoiceId" });
    const access = await requireBusinessRole(ctx, invoice.businessId, "manager");
    const reason = args.reason.trim();
    if (reason.length === 0 || reason.length > MAX_REASON) {
      throw appError("INVALID_ARGUMENT", `Give a reason of 1–${MAX_REASON} characters.`, { param: "reason" });
    }
    return await requestRefund(ctx, {
      invoiceId: invoice._id,
      amountMinor: args.amountMinor,
      reason,
      actor: actorOf(access),
      now: Date.now(),
      requireAmount: true,
    });
  },
});

/**
 * For the booking module: refunds what the policy leaves to the customer of a cancelled
 * booking (paid − the fee recorded in `booking.cancellation`). Returns 0 when nothing is due.
 * Inside a mutation, calling `requestRefund` from model/stripeRefunds.ts directly keeps it in
 * the caller's transaction.
 */
export const createForCancellation = internalMutation({
  args: { bookingId: v.id("bookings"), reason: v.optional(v.string()) },
  returns: vRefundPlan,
  handler: async (ctx, args) => {
    const invoice = await ctx.db
      .query("invoices")
      .withIndex("by_bookingId", (q) => q.eq("bookingId", args.bookingId))
      .first();
    if (invoice === null) return { totalMinor: 0, refunds: [] };
    return await requestRefund(ctx, {
      invoiceId: invoice._id,
      reason: args.reason ?? "Booking cancelled",
      actor: { role: "system" },
      now: Date.now(),
    });
  },
});

/** What a refund by policy would be now, and the most that can be refunded (manager+). */
export const preview = query({
  args: { invoiceId: v.id("invoices") },
  returns: v.object({
    paidMinor: v.number(),
    refundedMinor: v.number(),
    pendingMinor: v.number(),
    refundableMinor: v.number(),
    policyRefundMinor: v.number(),
    policyReason: v.string(),
    currency: v.string(),
  }),
  handler: async (ctx, args) => {
    const invoice = await ctx.db.get("invoices", args.invoiceId);
    if (invoice === null) throw appError("NOT_FOUND", "Invoice not found.", { param: "invoiceId" });
    const { business } = await requireBusinessRole(ctx, invoice.businessId, "manager");
    const booking = await ctx.db.get("bookings", invoice.bookingId);
    if (booking === null) throw appError("NOT_FOUND", "Booking not found.", { param: "invoiceId" });
    const balance = await refundBalance(ctx, invoice);
    const policy = policyRefundTotal(booking, business, balance.paidMinor, Date.now());
    return {
      paidMinor: balance.paidMinor,
      refundedMinor: balance.refundedMinor,
      pendingMinor: balance.pendingMinor,
      refundableMinor: balance.refundableMinor,
      policyRefundMinor: Math.min(balance.refundableMinor, Math.max(0, policy.refundMinor - balance.refundedMinor - balance.pendingMinor)),
      policyReason: policy.reason,
      currency: invoice.currency,
    };
  },
});

/** Refunds of an invoice, newest first: staff (manager+) of the business or the invoice's customer. */
export const listForInvoice = query({
  args: { invoiceId: v.id("invoices") },
  returns: v.array(vRefund),
  handler: async (ctx, args) => {
    const invoice = await ctx.db.get("invoices", args.invoiceId);
    const notFound = () => appError("NOT_FOUND", "Invoice not found.", { param: "invoiceId" });
    if (invoice === null) throw notFound();
    const customer = await ctx.db.get("customers", invoice.customerId);
    const user = ctx.viewer?.user;
    if (!(user && customer?.userId === user._id)) await requireBusinessRole(ctx, invoice.businessId, "manager");
    return await ctx.db
      .query("refunds")
      .withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id))
      .order("desc")
      .take(100);
  },
});

// ---------------------------------------------------------------------------------------
// Submission (scheduled)
// ---------------------------------------------------------------------------------------

const vSubmitInfo = v.object({
  refundId: v.id("refunds"),
  status: v.string(),
  amountMinor: v.number(),
  currency: v.string(),
  provider: v.union(v.literal("stripe"), v.literal("local_test")),
  paymentId: v.id("payments"),
  invoiceId: v.id("invoices"),
  businessId: v.id("businesses"),
  paymentIntentId: v.union(v.string(), v.null()),
  stripeRefundId: v.union(v.string(), v.null()),
  paymentAmountMinor: v.number(),
  succeededForPaymentMinor: v.number(),
});

export const submitInfo = internalQuery({
  args: { refundId: v.id("refunds") },
  returns: v.union(vSubmitInfo, v.null()),
  handler: async (ctx, args) => {
    const refund = await ctx.db.get("refunds", args.refundId);
    if (refund === null) return null;
    const payment = await ctx.db.get("payments", refund.paymentId);
    if (payment === null) return null;
    const siblings = await ctx.db
      .query("refunds")
      .withIndex("by_paymentId", (q) => q.eq("paymentId", payment._id))
      .take(500);
    return {
      refundId: refund._id,
      status: refund.status,
      amountMinor: refund.amountMinor,
      currency: refund.currency,
      provider: payment.provider,
      paymentId: payment._id,
      invoiceId: refund.invoiceId,
      businessId: refund.businessId,
      paymentIntentId: payment.stripePaymentIntentId ?? null,
      stripeRefundId: refund.stripeRefundId ?? null,
      paymentAmountMinor: payment.amountMinor,
      succeededForPaymentMinor: siblings.filter((r) => r.status === "succeeded").reduce((s, r) => s + r.amountMinor, 0),
    };
  },
});

export const recordSubmission = internalMutation({
  args: {
    refundId: v.id("refunds"),
    stripeRefundId: v.optional(v.string()),
    failure: v.optional(v.string()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const refund = await ctx.db.get("refunds", args.refundId);
    if (refund === null) return null;
    if (args.stripeRefundId && refund.stripeRefundId === undefined) {
      await ctx.db.patch("refunds", refund._id, { stripeRefundId: args.stripeRefundId });
    }
    if (args.failure !== undefined && refund.status === "pending") {
      await ctx.db.patch("refunds", refund._id, { status: "failed", reason: `${refund.reason ?? ""} [failed: ${args.failure.slice(0, 300)}]`.trim() });
      console.error(`refund ${refund._id} failed: ${args.failure}`);
    }
    return null;
  },
});

export const submit = internalAction({
  args: { refundId: v.id("refunds"), attempt: v.optional(v.number()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    const info = await ctx.runQuery(internal.refunds.submitInfo, { refundId: args.refundId });
    if (info === null || info.status !== "pending") return null;
    const attempt = args.attempt ?? 1;
    const retry = async (why: string) => {
      if (attempt >= MAX_SUBMIT_ATTEMPTS) {
        await ctx.runMutation(internal.refunds.recordSubmission, { refundId: info.refundId, failure: why });
        return;
      }
      console.warn(`refund ${info.refundId}: attempt ${attempt} failed (${why}); retrying`);
      await ctx.scheduler.runAfter(60_000 * 2 ** (attempt - 1), internal.refunds.submit, { refundId: info.refundId, attempt: attempt + 1 });
    };

    if (info.provider === "local_test") {
      if (info.paymentIntentId === null) {
        await ctx.runMutation(internal.refunds.recordSubmission, { refundId: info.refundId, failure: "payment has no PaymentIntent" });
        return null;
      }
      const stripeRefundId = info.stripeRefundId ?? localId("re");
      await ctx.runMutation(internal.refunds.recordSubmission, { refundId: info.refundId, stripeRefundId });
      const events = refundEvents(
        {
          chargeId: `ch_${info.paymentIntentId.slice(3)}`,
          paymentIntentId: info.paymentIntentId,
          currency: info.currency,
          amountCaptured: info.paymentAmountMinor,
          amountRefunded: Math.min(info.paymentAmountMinor, info.succeededForPaymentMinor + info.amountMinor),
          refund: { id: stripeRefundId, amount: info.amountMinor, metadata: { refundId: info.refundId } },
          metadata: { businessId: info.businessId, paymentId: info.paymentId },
        },
        Math.floor(Date.now() / 1000),
      );
      const results = await postSignedEvents(`${siteUrl()}${STRIPE_WEBHOOK_PATH}`, env.stripeWebhookSecret(), events);
      const refused = results.find((r) => r.status < 200 || r.status >= 300);
      if (refused) await retry(`webhook answered ${refused.status} to ${refused.type}: ${refused.body}`);
      return null;
    }

    const stripe = stripeClient();
    if (stripe === null) {
      await retry("STRIPE_SECRET_KEY is not configured for a Stripe payment");
      return null;
    }
    if (info.paymentIntentId === null) {
      await ctx.runMutation(internal.refunds.recordSubmission, { refundId: info.refundId, failure: "payment has no PaymentIntent" });
      return null;
    }
    try {
      const refund = await stripe.refunds.create(
        {
          payment_intent: info.paymentIntentId,
          amount: info.amountMinor,
          metadata: { refundId: info.refundId, paymentId: info.paymentId, invoiceId: info.invoiceId, businessId: info.businessId },
        },
        { idempotencyKey: `refund_${info.refundId}` },
      );
      const failed = refund.status === "failed" || refund.status === "canceled";
      await ctx.runMutation(internal.refunds.recordSubmission, {
        refundId: info.refundId,
        stripeRefundId: refund.id,
        ...(failed ? { failure: refund.failure_reason ?? `Stripe refund ${refund.status}` } : {}),
      });
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError || error instanceof Stripe.errors.StripeCardError) {
        // Stripe refused the request itself (e.g. already fully refunded): retrying cannot help.
        await ctx.runMutation(internal.refunds.recordSubmission, { refundId: info.refundId, failure: error.message });
        return null;
      }
      await retry(error instanceof Error ? error.message : String(error));
    }
    return null;
  },
});
