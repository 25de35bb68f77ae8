/**
 * The effects of Stripe events on our tables. Called only from
 * `stripeWebhook.processEvent`, inside the same transaction that records the event id, so
 * every event takes effect exactly once.
 *
 * Out-of-order safety:
 * - payments: `succeeded` is final and wins over `failed` whatever the arrival order; a
 *   `failed` older than the last applied event (`payments.lastEventAt`) is stale;
 * - refunds: `charge.refunded` carries the charge's CUMULATIVE `amount_refunded`, so an older
 *   event can only report less than we already know and changes nothing; `refund.created` /
 *   `refund.updated` / `refund.failed` name one refund (our row in its metadata) and its
 *   status: whichever of them and charge.refunded arrives first marks the row, the others
 *   find it done. A refund that fails after it succeeded is taken off the invoice again;
 * - subscriptions: applied only when the event is newer than the last one applied for the
 *   same subscription (a watermark row in `stripeEvents`, see `subscriptionWatermark`).
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internal } from "../_generated/api";
import { emitInvoiceChange } from "./bookingEvents";
import { emitEvent as emit } from "./events";
import { afterVisitChargeFailed, applySetupSucceeded } from "./planBilling";
import { settleLatePayment } from "./stripeCheckout";
import type { StripeEffect } from "./stripeEvents";
import { emitPaymentStatus } from "./stripePaymentEvents";
import { isPlan, planRank } from "./stripePlans";
import type { Plan } from "../schema";

export type ApplyOutcome = { outcome: "applied" | "ignored"; note: string };

type Effect<K extends StripeEffect["kind"]> = Extract<StripeEffect, { kind: K }>;
type EventMeta = { id: string; type: string; createdMs: number };

const applied = (note: string): ApplyOutcome => ({ outcome: "applied", note });
const ignored = (note: string): ApplyOutcome => ({ outcome: "ignored", note });

/** Invariant broken in our own data: the mutation throws, the webhook answers 5xx, Stripe retries. */
export class StripeProcessingError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StripeProcessingError";
  }
}

export async function applyStripeEffect(ctx: MutationCtx, event: EventMeta, effect: StripeEffect): Promise<ApplyOutcome> {
  switch (effect.kind) {
    case "checkout_completed":
      return effect.mode === "subscription"
        ? await applySubscriptionCheckout(ctx, event, effect)
        : await applyPaymentCheckout(ctx, event, effect);
    case "setup_succeeded":
      return await applySetupSucceeded(ctx, effect);
    case "payment_succeeded":
      return await applyPaymentSucceeded(ctx, event, effect);
    case "payment_failed":
      return await applyPaymentFailed(ctx, event, effect);
    case "charge_refunded":
      return await applyChargeRefunded(ctx, event, effect);
    case "refund":
      return await applyRefund(ctx, event, effect);
    case "subscription":
      return await applySubscription(ctx, event, effect);
    case "subscription_invoice":
      return await applySubscriptionInvoice(ctx, event, effect);
  }
}

// ---------------------------------------------------------------------------------------
// Payments
// ---------------------------------------------------------------------------------------

export async function findPayment(
  ctx: MutationCtx,
  refs: { paymentId?: string; paymentIntentId?: string; sessionId?: string },
): Promise<Doc<"payments"> | null> {
  if (refs.paymentId) {
    const id = ctx.db.normalizeId("payments", refs.paymentId);
    const payment = id ? await ctx.db.get("payments", id) : null;
    if (payment) return payment;
  }
  if (refs.paymentIntentId) {
    const payment = await ctx.db
      .query("payments")
      .withIndex("by_stripePaymentIntentId", (q) => q.eq("stripePaymentIntentId", refs.paymentIntentId))
      .first();
    if (payment) return payment;
  }
  if (refs.sessionId) {
    return await ctx.db
      .query("payments")
      .withIndex("by_stripeCheckoutSessionId", (q) => q.eq("stripeCheckoutSessionId", refs.sessionId))
      .first();
  }
  return null;
}

async function loadInvoiceAndBooking(ctx: MutationCtx, payment: Doc<"payments">) {
  const invoice = await ctx.db.get("invoices", payment.invoiceId);
  if (invoice === null) throw new StripeProcessingError(`Invoice ${payment.invoiceId} of payment ${payment._id} is missing`);
  const booking = await ctx.db.get("bookings", payment.bookingId);
  if (booking === null) throw new StripeProcessingError(`Booking ${payment.bookingId} of payment ${payment._id} is missing`);
  return { invoice, booking };
}

async function rememberStripeCustomer(ctx: MutationCtx, customerId: Id<"customers">, stripeCustomerId: string | undefined) {
  if (!stripeCustomerId) return;
  const customer = await ctx.db.get("customers", customerId);
  if (customer && customer.stripeCustomerId === undefined) await ctx.db.patch("customers", customerId, { stripeCustomerId });
}

async function applyPaymentCheckout(ctx: MutationCtx, event: EventMeta, effect: Effect<"checkout_completed">) {
  const payment = await findPayment(ctx, { paymentId: effect.paymentId, sessionId: effect.sessionId });
  if (payment === null) return ignored("checkout session does not belong to a payment of ours");
  await rememberStripeCustomer(ctx, payment.customerId, effect.stripeCustomerId);
  const links: Partial<Doc<"payments">> = {};
  if (payment.stripeCheckoutSessionId === undefined) links.stripeCheckoutSessionId = effect.sessionId;
  if (payment.stripePaymentIntentId === undefined && effect.paymentIntentId) links.stripePaymentIntentId = effect.paymentIntentId;
  if (Object.keys(links).length > 0) await ctx.db.patch("payments", payment._id, links);
  if (effect.paymentStatus === "paid") {
    if (effect.amountTotal === undefined) throw new StripeProcessingError("paid checkout session without amount_total");
    return await markSucceeded(ctx, { ...payment, ...links }, event, {
      paymentIntentId: effect.paymentIntentId,
      amountMinor: effect.amountTotal,
      currency: effect.currency,
    });
  }
  if (payment.status === "requires_payment") {
    await ctx.db.patch("payments", payment._id, { status: "processing", updatedAt: Date.now() });
    return applied("checkout completed, payment processing");
  }
  return ignored(`checkout completed while payment is ${payment.status}`);
}

async function applyPaymentSucceeded(ctx: MutationCtx, event: EventMeta, effect: Effect<"payment_succeeded">) {
  const payment = await findPayment(ctx, { paymentId: effect.paymentId, paymentIntentId: effect.paymentIntentId });
  if (payment === null) return ignored("payment intent does not belong to a payment of ours");
  await rememberStripeCustomer(ctx, payment.customerId, effect.stripeCustomerId);
  return await markSucceeded(ctx, payment, event, {
    paymentIntentId: effect.paymentIntentId,
    amountMinor: effect.amountReceived,
    currency: effect.currency,
  });
}

async function markSucceeded(
  ctx: MutationCtx,
  payment: Doc<"payments">,
  event: EventMeta,
  facts: { paymentIntentId?: string; amountMinor: number; currency?: string },
): Promise<ApplyOutcome> {
  const now = Date.now();
  if (payment.status === "succeeded") {
    if (payment.stripePaymentIntentId === undefined && facts.paymentIntentId) {
      await ctx.db.patch("payments", payment._id, { stripePaymentIntentId: facts.paymentIntentId });
    }
    return ignored("payment already succeeded");
  }
  if (facts.currency && facts.currency.toUpperCase() !== payment.currency.toUpperCase()) {
    throw new StripeProcessingError(`Payment ${payment._id} is in ${payment.currency} but Stripe reports ${facts.currency}`);
  }
  const { invoice, booking } = await loadInvoiceAndBooking(ctx, payment);
  const amountMinor = facts.amountMinor;
  await ctx.db.patch("payments", payment._id, {
    status: "succeeded",
    amountMinor,
    stripePaymentIntentId: payment.stripePaymentIntentId ?? facts.paymentIntentId,
    failureReason: undefined,
    lastEventAt: Math.max(payment.lastEventAt ?? 0, event.createdMs),
    updatedAt: now,
  });
  const amountPaidMinor = invoice.amountPaidMinor + amountMinor;
  const becomesPaid = (invoice.status === "open" || invoice.status === "draft") && amountPaidMinor >= invoice.totalMinor;
  await ctx.db.patch("invoices", invoice._id, {
    amountPaidMinor,
    ...(becomesPaid ? { status: "paid" as const, paidAt: now } : {}),
  });
  await emitPaymentStatus(ctx, "payment.succeeded", (await ctx.db.get("payments", payment._id))!);
  await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, becomesPaid ? "paid" : "updated");

  await ctx.scheduler.runAfter(0, internal.notifications.notifyBookingEvent, {
    bookingId: booking._id,
    templateKey: "payment_receipt",
    extra: { amountPaidMinor: amountMinor, invoiceNumber: invoice.number },
  });

  // The booking: confirm it once the deposit is covered. Money taken for a booking that was
  // cancelled meanwhile (its payment window ran out, or the customer cancelled) reinstates it
  // or goes back (model/stripeCheckout.ts).
  if (booking.status === "PENDING_PAYMENT" || booking.status === "HELD") {
    if (amountPaidMinor >= invoice.depositMinor) {
      await ctx.runMutation(internal.bookings.markPaid, { bookingId: booking._id, paymentId: payment._id });
    }
  } else if (booking.status === "CANCELLED" && payment.kind !== "fee") {
    const late = await settleLatePayment(ctx, {
      booking,
      invoice: (await ctx.db.get("invoices", invoice._id))!,
      payment: (await ctx.db.get("payments", payment._id))!,
      now,
    });
    return applied(`payment succeeded (${amountMinor} ${payment.currency}); ${late.note}`);
  }
  return applied(`payment succeeded (${amountMinor} ${payment.currency})`);
}

async function applyPaymentFailed(ctx: MutationCtx, event: EventMeta, effect: Effect<"payment_failed">) {
  const payment = await findPayment(ctx, { paymentId: effect.paymentId, paymentIntentId: effect.paymentIntentId });
  if (payment === null) return ignored("payment intent does not belong to a payment of ours");
  if (payment.status === "succeeded") return ignored("payment already succeeded; a failure cannot downgrade it");
  if (payment.lastEventAt !== undefined && event.createdMs < payment.lastEventAt) {
    return ignored("stale failure: a newer event was already applied");
  }
  const now = Date.now();
  const failureReason = effect.reason ?? "The payment failed.";
  await ctx.db.patch("payments", payment._id, {
    status: "failed",
    failureReason,
    stripePaymentIntentId: payment.stripePaymentIntentId ?? effect.paymentIntentId,
    lastEventAt: event.createdMs,
    updatedAt: now,
  });
  // The booking stays PENDING_PAYMENT; payments.startCheckout opens a new attempt. A plan
  // visit charged off-session is tried again later, then the customer is asked for a new card.
  const failed = (await ctx.db.get("payments", payment._id))!;
  await emitPaymentStatus(ctx, "payment.failed", failed);
  if (payment.status !== "failed") await afterVisitChargeFailed(ctx, failed, now);
  return applied(failed.offSession ? `off-session charge ${failed.offSession.attempt} failed` : "payment failed");
}

// ---------------------------------------------------------------------------------------
// Refunds
// ---------------------------------------------------------------------------------------

async function applyChargeRefunded(ctx: MutationCtx, event: EventMeta, effect: Effect<"charge_refunded">) {
  const found = await findPayment(ctx, { paymentId: effect.paymentId, paymentIntentId: effect.paymentIntentId });
  if (found === null) return ignored("charge does not belong to a payment of ours");
  if (found.status !== "succeeded") {
    // The refund overtook payment_intent.succeeded: a refunded charge was paid, so credit it first.
    await markSucceeded(ctx, found, event, {
      paymentIntentId: effect.paymentIntentId,
      amountMinor: effect.amountCaptured,
      currency: effect.currency,
    });
  }
  const payment = (await ctx.db.get("payments", found._id))!;
  const invoice = await ctx.db.get("invoices", payment.invoiceId);
  if (invoice === null) throw new StripeProcessingError(`Invoice ${payment.invoiceId} of payment ${payment._id} is missing`);
  const now = Date.now();
  const rows = await ctx.db
    .query("refunds")
    .withIndex("by_paymentId", (q) => q.eq("paymentId", payment._id))
    .take(500);
  let succeededSum = rows.filter((r) => r.status === "succeeded").reduce((sum, r) => sum + r.amountMinor, 0);
  const newlySucceeded: Doc<"refunds">[] = [];
  const markRow = async (row: Doc<"refunds">, stripeRefundId?: string) => {
    await ctx.db.patch("refunds", row._id, { status: "succeeded", ...(stripeRefundId && !row.stripeRefundId ? { stripeRefundId } : {}) });
    row.status = "succeeded";
    succeededSum += row.amountMinor;
    newlySucceeded.push(row);
  };

  // 1. Refunds listed on the charge, matched by Stripe id or by our metadata; listed refunds
  //    we never requested (made in the Stripe dashboard) are recorded under their Stripe id.
  for (const listed of effect.refunds) {
    if (listed.status !== "succeeded") continue;
    const row = rows.find((r) => r.stripeRefundId === listed.id || (listed.refundId !== undefined && r._id === listed.refundId));
    if (row) {
      if (row.status === "pending") await markRow(row, listed.id);
    } else if (listed.amount <= effect.amountRefunded - succeededSum) {
      const id = await ctx.db.insert("refunds", {
        businessId: payment.businessId,
        paymentId: payment._id,
        invoiceId: invoice._id,
        amountMinor: listed.amount,
        currency: payment.currency,
        reason: "Refunded in Stripe",
        status: "succeeded",
        stripeRefundId: listed.id,
        requestedBy: { role: "system" },
        createdAt: now,
      });
      const inserted = (await ctx.db.get("refunds", id))!;
      rows.push(inserted);
      succeededSum += inserted.amountMinor;
      newlySucceeded.push(inserted);
    }
  }
  // 2. What the cumulative total still reports beyond that: our pending refunds, oldest first.
  let remaining = effect.amountRefunded - succeededSum;
  for (const row of rows) {
    if (remaining <= 0) break;
    if (row.status === "pending" && row.amountMinor <= remaining) {
      await markRow(row);
      remaining -= row.amountMinor;
    }
  }
  // 3. Anything left was refunded outside the platform (e.g. in the Stripe dashboard).
  if (remaining > 0) {
    const id = await ctx.db.insert("refunds", {
      businessId: payment.businessId,
      paymentId: payment._id,
      invoiceId: invoice._id,
      amountMinor: remaining,
      currency: payment.currency,
      reason: "Refunded in Stripe",
      status: "succeeded",
      requestedBy: { role: "system" },
      createdAt: now,
    });
    newlySucceeded.push((await ctx.db.get("refunds", id))!);
  }
  if (newlySucceeded.length === 0) return ignored("refund total already known");

  const delta = await recordRefundsSucceeded(ctx, invoice, newlySucceeded);
  return applied(`refunded ${delta} ${payment.currency}`);
}

/**
 * Books refunds that just succeeded onto the invoice (amount refunded, status), emits
 * `refund.succeeded` for each and sends the customer a refund receipt. Returns their sum.
 */
async function recordRefundsSucceeded(ctx: MutationCtx, invoice: Doc<"invoices">, refunds: Doc<"refunds">[]): Promise<number> {
  const delta = refunds.reduce((sum, r) => sum + r.amountMinor, 0);
  const amountRefundedMinor = invoice.amountRefundedMinor + delta;
  await ctx.db.patch("invoices", invoice._id, { amountRefundedMinor, status: invoiceStatusAfterRefunds(invoice, amountRefundedMinor) });
  for (const refund of refunds) await emitRefundEvent(ctx, "refund.succeeded", refund, invoice, refund.reason ?? null);
  await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "updated");
  await ctx.scheduler.runAfter(0, internal.notifications.notifyBookingEvent, {
    bookingId: invoice.bookingId,
    templateKey: "refund_receipt",
    extra: { amountRefundedMinor: delta, invoiceNumber: invoice.number },
  });
  return delta;
}

/** refund.succeeded / refund.failed, for partner webhooks (no room: invoices rooms get the invoice). */
async function emitRefundEvent(ctx: MutationCtx, type: string, refund: Doc<"refunds">, invoice: Doc<"invoices">, reason: string | null) {
  await emit(ctx, {
    businessId: refund.businessId,
    type,
    entity: { table: "refunds", id: refund._id },
    data: {
      refundId: refund._id,
      paymentId: refund.paymentId,
      invoiceId: invoice._id,
      bookingId: invoice.bookingId,
      amountMinor: refund.amountMinor,
      currency: refund.currency.toUpperCase(),
      reason,
    },
    rooms: [],
  });
}

function invoiceStatusAfterRefunds(invoice: Doc<"invoices">, amountRefundedMinor: number): Doc<"invoices">["status"] {
  if (amountRefundedMinor > 0) return amountRefundedMinor >= invoice.amountPaidMinor ? "refunded" : "partially_refunded";
  if (invoice.status !== "refunded" && invoice.status !== "partially_refunded") return invoice.status;
  return invoice.amountPaidMinor >= invoice.totalMinor ? "paid" : "open";
}

/** refund.created / refund.updated / refund.failed: one refund and its status. */
async function applyRefund(ctx: MutationCtx, _event: EventMeta, effect: Effect<"refund">) {
  const row = await findRefund(ctx, effect);
  if (row === null) {
    // Not requested through the platform (e.g. made in the Stripe dashboard): the charge's
    // cumulative charge.refunded records it.
    return ignored("refund was not requested through the platform");
  }
  const payment = await ctx.db.get("payments", row.paymentId);
  if (payment === null) throw new StripeProcessingError(`Payment ${row.paymentId} of refund ${row._id} is missing`);
  const invoice = await ctx.db.get("invoices", row.invoiceId);
  if (invoice === null) throw new StripeProcessingError(`Invoice ${row.invoiceId} of refund ${row._id} is missing`);
  if (row.stripeRefundId === undefined) await ctx.db.patch("refunds", row._id, { stripeRefundId: effect.stripeRefundId });

  if (effect.status === "succeeded") {
    if (row.status !== "pending") return ignored(`refund already ${row.status}`);
    if (effect.amount !== row.amountMinor) {
      throw new StripeProcessingError(`Refund ${row._id} is for ${row.amountMinor} but Stripe reports ${effect.amount}`);
    }
    await ctx.db.patch("refunds", row._id, { status: "succeeded" });
    const delta = await recordRefundsSucceeded(ctx, invoice, [{ ...row, status: "succeeded" }]);
    return applied(`refunded ${delta} ${payment.currency}`);
  }
  if (effect.status === "failed" || effect.status === "canceled") {
    if (row.status === "failed") return ignored("refund already failed");
    const why = effect.failureReason ?? effect.status;
    await ctx.db.patch("refunds", row._id, { status: "failed", reason: `${row.reason ?? ""} [failed: ${why}]`.trim() });
    if (row.status === "succeeded") {
      // It was on the invoice already: take it off again.
      const amountRefundedMinor = Math.max(0, invoice.amountRefundedMinor - row.amountMinor);
      await ctx.db.patch("invoices", invoice._id, { amountRefundedMinor, status: invoiceStatusAfterRefunds(invoice, amountRefundedMinor) });
      await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "updated");
    }
    await emitRefundEvent(ctx, "refund.failed", row, invoice, why);
    return applied(`refund failed (${why})`);
  }
  return ignored(`refund is ${effect.status}`);
}

async function findRefund(ctx: MutationCtx, effect: Effect<"refund">): Promise<Doc<"refunds"> | null> {
  const byStripeId = await ctx.db
    .query("refunds")
    .withIndex("by_stripeRefundId", (q) => q.eq("stripeRefundId", effect.stripeRefundId))
    .first();
  if (byStripeId !== null) return byStripeId;
  const id = effect.refundId === undefined ? null : ctx.db.normalizeId("refunds", effect.refundId);
  return id === null ? null : await ctx.db.get("refunds", id);
}

// ---------------------------------------------------------------------------------------
// Business plans (subscriptions)
// ---------------------------------------------------------------------------------------

/**
 * The `created` of the newest subscription event applied for one subscription, kept as a
 * row of `stripeEvents` under a synthetic id (`watermark:subscription:<id>`): one indexed
 * read, no extra table. (A `planEventAt` field on businesses would say it more plainly.)
 */
async function subscriptionWatermark(ctx: MutationCtx, subscriptionId: string) {
  return await ctx.db
    .query("stripeEvents")
    .withIndex("by_eventId", (q) => q.eq("eventId", `watermark:subscription:${subscriptionId}`))
    .unique();
}

async function businessForSubscription(
  ctx: MutationCtx,
  refs: { businessId?: string; stripeCustomerId?: string },
): Promise<Doc<"businesses"> | null> {
  if (refs.businessId) {
    const id = ctx.db.normalizeId("businesses", refs.businessId);
    const business = id ? await ctx.db.get("businesses", id) : null;
    if (business) return business;
  }
  if (refs.stripeCustomerId) {
    return await ctx.db
      .query("businesses")
      .withIndex("by_stripeCustomerId", (q) => q.eq("stripeCustomerId", refs.stripeCustomerId))
      .first();
  }
  return null;
}

async function applySubscriptionCheckout(ctx: MutationCtx, _event: EventMeta, effect: Effect<"checkout_completed">) {
  const business = await businessForSubscription(ctx, { businessId: effect.businessId, stripeCustomerId: effect.stripeCustomerId });
  if (business === null) return ignored("subscription checkout does not belong to a business of ours");
  const patch: Partial<Doc<"businesses">> = {};
  if (effect.stripeCustomerId && business.stripeCustomerId !== effect.stripeCustomerId) patch.stripeCustomerId = effect.stripeCustomerId;
  if (effect.subscriptionId && business.stripeSubscriptionId === undefined) patch.stripeSubscriptionId = effect.subscriptionId;
  if (Object.keys(patch).length === 0) return ignored("subscription checkout already linked");
  await ctx.db.patch("businesses", business._id, patch);
  return applied("subscription checkout linked to the business");
}

/** Statuses in which a subscription grants its plan. */
const GRANTING = new Set(["active", "trialing", "past_due"]);

async function applySubscription(ctx: MutationCtx, event: EventMeta, effect: Effect<"subscription">) {
  const business = await businessForSubscription(ctx, effect);
  if (business === null) {
    // A customer's recurring plan billed as a Stripe subscription (see plans.ts): keep its row in step.
    const row = await ctx.db
      .query("customerSubscriptions")
      .withIndex("by_stripeSubscriptionId", (q) => q.eq("stripeSubscriptionId", effect.subscriptionId))
      .first();
    if (row === null) return ignored("subscription does not belong to a business or customer of ours");
    if (!(await advanceWatermark(ctx, effect.subscriptionId, event))) return ignored("stale subscription event");
    await ctx.db.patch("customerSubscriptions", row._id, {
      status: effect.action === "deleted" ? "canceled" : effect.status,
      ...(effect.currentPeriodEnd !== undefined ? { currentPeriodEnd: effect.currentPeriodEnd } : {}),
    });
    return applied(`customer subscription ${effect.status}`);
  }
  if (!(await advanceWatermark(ctx, effect.subscriptionId, event))) return ignored("stale subscription event");
  if (business.stripeSubscriptionId !== undefined && business.stripeSubscriptionId !== effect.subscriptionId) {
    // A business has one plan subscription; events about an older one must not touch the plan.
    if (effect.action === "deleted" || !GRANTING.has(effect.status)) return ignored("event about a replaced subscription");
  }
  let plan: Plan;
  let planStatus: string;
  if (effect.action === "deleted" || !GRANTING.has(effect.status)) {
    // incomplete / incomplete_expired / unpaid / canceled / paused: the paid plan is not in force.
    plan = effect.action === "deleted" || effect.status !== "incomplete" ? "free" : business.plan;
    planStatus = effect.action === "deleted" ? "canceled" : effect.status;
  } else {
    if (!effect.plan || !isPlan(effect.plan)) {
      throw new StripeProcessingError(`Subscription ${effect.subscriptionId} names no known plan (${String(effect.plan)})`);
    }
    plan = effect.plan;
    planStatus = effect.status;
  }
  const stripeSubscriptionId = effect.action === "deleted" && business.stripeSubscriptionId === effect.subscriptionId ? undefined : effect.subscriptionId;
  const changed =
    business.plan !== plan || business.planStatus !== planStatus || business.stripeSubscriptionId !== stripeSubscriptionId;
  await ctx.db.patch("businesses", business._id, {
    plan,
    planStatus,
    stripeSubscriptionId,
    stripeCustomerId: business.stripeCustomerId ?? effect.stripeCustomerId,
  });
  if (!changed) return ignored("plan already in this state");
  await emit(ctx, {
    businessId: business._id,
    type: "plan.changed",
    entity: { table: "businesses", id: business._id },
    data: {
      from: business.plan,
      to: plan,
      direction: planRank(plan) > planRank(business.plan) ? "upgrade" : planRank(plan) < planRank(business.plan) ? "downgrade" : "same",
      status: planStatus,
      subscriptionId: effect.subscriptionId,
      ...(effect.currentPeriodEnd !== undefined ? { currentPeriodEnd: effect.currentPeriodEnd } : {}),
    },
    rooms: [],
  });
  return applied(`plan ${business.plan} → ${plan} (${planStatus})`);
}

async function advanceWatermark(ctx: MutationCtx, subscriptionId: string, event: EventMeta): Promise<boolean> {
  const mark = await subscriptionWatermark(ctx, subscriptionId);
  if (mark !== null && event.createdMs < mark.created) return false;
  if (mark === null) {
    await ctx.db.insert("stripeEvents", {
      eventId: `watermark:subscription:${subscriptionId}`,
      type: "watermark",
      created: event.createdMs,
      processedAt: Date.now(),
    });
  } else {
    await ctx.db.patch("stripeEvents", mark._id, { created: event.createdMs, processedAt: Date.now() });
  }
  return true;
}

async function applySubscriptionInvoice(ctx: MutationCtx, _event: EventMeta, effect: Effect<"subscription_invoice">) {
  const business = await businessForSubscription(ctx, effect);
  if (business === null) return ignored("invoice does not belong to a business of ours");
  if (effect.subscriptionId && business.stripeSubscriptionId && effect.subscriptionId !== business.stripeSubscriptionId) {
    return ignored("invoice of a replaced subscription");
  }
  const type = effect.action === "paid" ? "plan.invoice_paid" : "plan.payment_failed";
  await emit(ctx, {
    businessId: business._id,
    type,
    entity: { table: "businesses", id: business._id },
    data: {
      stripeInvoiceId: effect.invoiceId,
      subscriptionId: effect.subscriptionId ?? null,
      plan: business.plan,
      amountPaidMinor: effect.amountPaid,
      amountDueMinor: effect.amountDue,
      currency: effect.currency.toUpperCase(),
    },
    rooms: [],
  });
  if (effect.action === "payment_failed") {
    // Tell the owner; Stripe's dunning retries the charge and sends customer.subscription.updated.
    const owner = await ctx.db.get("users", business.ownerId);
    await ctx.db.insert("notifications", {
      businessId: business._id,
      userId: business.ownerId,
      templateKey: "payment_failed",
      channel: "email",
      to: owner?.email ?? "",
      subject: `Payment for your ${business.plan} plan failed`,
      body: `We could not collect ${effect.amountDue} ${effect.currency.toUpperCase()} (minor units) for your ${business.plan} plan. Please update your payment method; your plan stays active while Stripe retries.`,
      status: "queued",
      createdAt: Date.now(),
    });
  }
  return applied(type);
}
