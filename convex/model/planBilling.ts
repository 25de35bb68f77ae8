/**
 * Per-visit billing of recurring plans against a saved card (docs/PLANS.md, "Billing").
 *
 * 1. Saving the card. When the plan is booked the customer saves a card for off-session use:
 *    a Stripe Checkout Session in `setup` mode (Stripe creates the SetupIntent and hosts the
 *    card form), or offline the local test checkout's setup page. Each attempt is a
 *    `planCardSetups` row; `setup_intent.succeeded` (webhook) stores the card as a
 *    `paymentMethods` row (Stripe reference only) and makes the plan's billing `active`.
 * 2. Charging a visit. As BookingKoala does by default ("charge when the booking is marked
 *    complete"), a visit is charged when it is COMPLETED (`onVisitCompleted`, from the one
 *    transition path): an off-session PaymentIntent (`off_session: true, confirm: true`) for
 *    what the invoice still owes, one `payments` row per try (`offSession.attempt`).
 *    Charging after the work is done means skipped, moved, re-priced or fee-carrying visits
 *    are charged exactly what their invoice says, and nothing has to be refunded for a visit
 *    that did not happen.
 * 3. Failure. `payment_intent.payment_failed` for such a payment schedules the next try
 *    (after 1 day, then 3 days); after MAX_CHARGE_ATTEMPTS the plan's billing becomes
 *    `card_update_needed` and the customer gets the "card needs updating" message with a link
 *    to the plan page, where saving a new card (step 1 again) charges every visit still owed.
 *
 * Plain module: no registered functions (those are in convex/planBilling.ts).
 */
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { minorToDecimalString } from "../../domain/money";
import { env } from "../env";
import { customerAddress, customerChannel, queueNotification } from "./notify";
import type { StripeEffect } from "./stripeEvents";

export const MAX_CHARGE_ATTEMPTS = 3;
const HOUR_MS = 3_600_000;
/** Wait before try 2 and before try 3. */
export const RETRY_DELAYS_MS = [24 * HOUR_MS, 72 * HOUR_MS];

/**
 * Local test cards, as Stripe's test cards behave: 4242 charges, 0341 ("attaches to a
 * customer, but charges fail") saves fine and then declines every off-session charge.
 */
export const LOCAL_TEST_CARDS = {
  good: { brand: "visa", last4: "4242" },
  declining: { brand: "visa", last4: "0341" },
} as const;

export function isDecliningLocalCard(method: Pick<Doc<"paymentMethods">, "last4" | "stripePaymentMethodId">): boolean {
  return method.stripePaymentMethodId.includes("_local") && method.last4 === LOCAL_TEST_CARDS.declining.last4;
}

type Outcome = { outcome: "applied" | "ignored"; note: string };

// ---------------------------------------------------------------------------------------
// Saving a card
// ---------------------------------------------------------------------------------------

/** A new card-saving attempt for the plan; earlier open ones can no longer complete. */
export async function openCardSetup(
  ctx: MutationCtx,
  series: Doc<"recurringSeries">,
  provider: "stripe" | "local_test",
  sessionId: string | undefined,
  now: number,
): Promise<Doc<"planCardSetups">> {
  const earlier = await ctx.db
    .query("planCardSetups")
    .withIndex("by_seriesId", (q) => q.eq("seriesId", series._id))
    .order("desc")
    .take(20);
  for (const row of earlier) if (row.status === "open") await ctx.db.patch("planCardSetups", row._id, { status: "canceled" });
  const id = await ctx.db.insert("planCardSetups", {
    businessId: series.businessId,
    seriesId: series._id,
    customerId: series.customerId,
    provider,
    status: "open",
    ...(sessionId ? { stripeCheckoutSessionId: sessionId } : {}),
    createdAt: now,
  });
  return (await ctx.db.get("planCardSetups", id))!;
}

async function findCardSetup(ctx: QueryCtx, effect: Extract<StripeEffect, { kind: "setup_succeeded" }>) {
  const bySetupIntent = await ctx.db
    .query("planCardSetups")
    .withIndex("by_stripeSetupIntentId", (q) => q.eq("stripeSetupIntentId", effect.setupIntentId))
    .first();
  if (bySetupIntent !== null) return bySetupIntent;
  const id = effect.cardSetupId === undefined ? null : ctx.db.normalizeId("planCardSetups", effect.cardSetupId);
  return id === null ? null : await ctx.db.get("planCardSetups", id);
}

/**
 * `setup_intent.succeeded`: the card is saved for the plan (a `paymentMethods` row, the
 * plan's billing active) and every completed visit still owed is charged on it now.
 */
export async function applySetupSucceeded(ctx: MutationCtx, effect: Extract<StripeEffect, { kind: "setup_succeeded" }>): Promise<Outcome> {
  const setup = await findCardSetup(ctx, effect);
  if (setup === null) return { outcome: "ignored", note: "setup intent does not belong to a plan of ours" };
  if (setup.status === "succeeded") return { outcome: "ignored", note: "card already saved" };
  const series = await ctx.db.get("recurringSeries", setup.seriesId);
  const customer = await ctx.db.get("customers", setup.customerId);
  if (series === null || customer === null) return { outcome: "ignored", note: "the plan no longer exists" };
  if (effect.stripeCustomerId && customer.stripeCustomerId === undefined) {
    await ctx.db.patch("customers", customer._id, { stripeCustomerId: effect.stripeCustomerId });
  }
  const existing = await ctx.db
    .query("paymentMethods")
    .withIndex("by_stripePaymentMethodId", (q) => q.eq("stripePaymentMethodId", effect.paymentMethodId))
    .first();
  const card = effect.card ?? {};
  let paymentMethodId: Id<"paymentMethods">;
  if (existing !== null && existing.customerId === customer._id) {
    paymentMethodId = existing._id;
  } else {
    for (const other of await ctx.db
      .query("paymentMethods")
      .withIndex("by_customerId", (q) => q.eq("customerId", customer._id))
      .take(50)) {
      if (other.isDefault) await ctx.db.patch("paymentMethods", other._id, { isDefault: false });
    }
    paymentMethodId = await ctx.db.insert("paymentMethods", {
      businessId: customer.businessId,
      customerId: customer._id,
      stripePaymentMethodId: effect.paymentMethodId,
      ...(card.brand ? { brand: card.brand } : {}),
      ...(card.last4 ? { last4: card.last4 } : {}),
      ...(card.expMonth ? { expMonth: card.expMonth } : {}),
      ...(card.expYear ? { expYear: card.expYear } : {}),
      isDefault: true,
    });
  }
  await ctx.db.patch("planCardSetups", setup._id, { status: "succeeded", stripeSetupIntentId: effect.setupIntentId });
  await ctx.db.patch("recurringSeries", series._id, { billing: { status: "active", paymentMethodId } });
  let charging = 0;
  for (const visit of await owedVisits(ctx, series._id)) {
    await ctx.scheduler.runAfter(0, internal.planBilling.chargeVisit, { bookingId: visit._id });
    charging++;
  }
  return { outcome: "applied", note: `card saved for plan ${series._id}${charging > 0 ? `; charging ${charging} visit(s) owed` : ""}` };
}

/** Completed visits of the plan whose invoice still owes money and that have no charge under way. */
async function owedVisits(ctx: QueryCtx, seriesId: Id<"recurringSeries">) {
  const visits = await ctx.db
    .query("bookings")
    .withIndex("by_seriesId", (q) => q.eq("seriesId", seriesId))
    .take(600);
  const owed: Doc<"bookings">[] = [];
  for (const visit of visits) {
    if (visit.status !== "COMPLETED") continue;
    const invoice = await invoiceOfVisit(ctx, visit);
    if (invoice !== null && dueOn(invoice) > 0) owed.push(visit);
  }
  return owed;
}

async function invoiceOfVisit(ctx: QueryCtx, booking: Doc<"bookings">) {
  return await ctx.db
    .query("invoices")
    .withIndex("by_bookingId", (q) => q.eq("bookingId", booking._id))
    .first();
}

function dueOn(invoice: Doc<"invoices">): number {
  if (invoice.status !== "open" && invoice.status !== "draft") return 0;
  return Math.max(0, invoice.totalMinor - invoice.amountPaidMinor);
}

// ---------------------------------------------------------------------------------------
// Charging a visit
// ---------------------------------------------------------------------------------------

/** From the one transition path: a plan visit that is COMPLETED is charged on the plan's card. */
export async function onVisitCompleted(ctx: Pick<MutationCtx, "scheduler">, booking: Pick<Doc<"bookings">, "_id" | "seriesId">) {
  if (booking.seriesId === undefined) return;
  await ctx.scheduler.runAfter(0, internal.planBilling.chargeVisit, { bookingId: booking._id });
}

export type VisitCharge =
  | { status: "skip"; reason: string }
  | {
      status: "charge";
      paymentId: Id<"payments">;
      provider: "stripe" | "local_test";
      attempt: number;
      amountMinor: number;
      currency: string;
      stripeCustomerId: string | null;
      stripePaymentMethodId: string;
      declines: boolean;
      metadata: Record<string, string>;
    };

/**
 * The payment row for the next try at charging a completed visit on the plan's saved card,
 * or why there is nothing to charge (no card, nothing owed, a try under way).
 */
export async function prepareVisitCharge(ctx: MutationCtx, bookingId: Id<"bookings">, provider: "stripe" | "local_test", now: number): Promise<VisitCharge> {
  const booking = await ctx.db.get("bookings", bookingId);
  if (booking === null || booking.seriesId === undefined) return { status: "skip", reason: "not a plan visit" };
  if (booking.status !== "COMPLETED") return { status: "skip", reason: `the visit is ${booking.status}` };
  const series = await ctx.db.get("recurringSeries", booking.seriesId);
  if (series === null || series.billing?.status !== "active" || series.billing.paymentMethodId === undefined) {
    return { status: "skip", reason: "the plan has no card to charge" };
  }
  const method = await ctx.db.get("paymentMethods", series.billing.paymentMethodId);
  if (method === null) return { status: "skip", reason: "the saved card is gone" };
  const invoice = await invoiceOfVisit(ctx, booking);
  if (invoice === null || dueOn(invoice) === 0) return { status: "skip", reason: "nothing is owed on the visit" };
  const tries = await ctx.db
    .query("payments")
    .withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id))
    .take(100);
  if (tries.some((p) => p.status === "processing" || (p.status === "requires_payment" && p.offSession !== undefined))) {
    return { status: "skip", reason: "a charge is under way" };
  }
  const failedOnThisCard = tries.filter((p) => p.status === "failed" && p.offSession?.paymentMethodId === method._id).length;
  if (failedOnThisCard >= MAX_CHARGE_ATTEMPTS) return { status: "skip", reason: "this card was declined too often; waiting for a new one" };
  const customer = (await ctx.db.get("customers", booking.customerId))!;
  const attempt = failedOnThisCard + 1;
  const amountMinor = dueOn(invoice);
  const paymentId = await ctx.db.insert("payments", {
    businessId: booking.businessId,
    invoiceId: invoice._id,
    bookingId: booking._id,
    customerId: booking.customerId,
    kind: invoice.amountPaidMinor === 0 ? "full" : "balance",
    amountMinor,
    currency: invoice.currency,
    status: "requires_payment",
    provider,
    offSession: { seriesId: series._id, attempt, paymentMethodId: method._id },
    createdAt: now,
    updatedAt: now,
  });
  return {
    status: "charge",
    paymentId,
    provider,
    attempt,
    amountMinor,
    currency: invoice.currency,
    stripeCustomerId: customer.stripeCustomerId ?? null,
    stripePaymentMethodId: method.stripePaymentMethodId,
    declines: isDecliningLocalCard(method),
    metadata: { businessId: booking.businessId, bookingId: booking._id, paymentId, seriesId: series._id, offSession: "true" },
  };
}

/**
 * After an off-session try failed (`payment_intent.payment_failed`, or Stripe refused the
 * request): the next try is scheduled, or after the last one the customer is asked to
 * update the card.
 */
export async function afterVisitChargeFailed(ctx: MutationCtx, payment: Doc<"payments">, now: number) {
  if (payment.offSession === undefined) return;
  const { attempt, seriesId } = payment.offSession;
  if (attempt < MAX_CHARGE_ATTEMPTS) {
    await ctx.scheduler.runAfter(RETRY_DELAYS_MS[attempt - 1], internal.planBilling.chargeVisit, { bookingId: payment.bookingId });
    return;
  }
  const series = await ctx.db.get("recurringSeries", seriesId);
  if (series === null || series.billing?.status !== "active" || series.billing.paymentMethodId !== payment.offSession.paymentMethodId) return;
  await ctx.db.patch("recurringSeries", series._id, { billing: { ...series.billing, status: "card_update_needed", cardUpdateRequestedAt: now } });
  const customer = await ctx.db.get("customers", series.customerId);
  const business = await ctx.db.get("businesses", series.businessId);
  if (customer === null || business === null) return;
  const channel = customerChannel(customer) ?? "email";
  await queueNotification(ctx, {
    businessId: business._id,
    customerId: customer._id,
    bookingId: payment.bookingId,
    templateKey: "card_update_needed",
    channel,
    to: customerAddress(customer, channel),
    vars: {
      customerName: customer.name,
      businessName: business.name,
      amountDue: `${minorToDecimalString(payment.amountMinor, payment.currency.toUpperCase())} ${payment.currency.toUpperCase()}`,
      updateUrl: `${env.portalUrl()}/plans/${series._id}?card=update`,
    },
  });
}
