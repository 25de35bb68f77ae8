/**
 * Taking payment for a booking's invoice.
 *
 * `startCheckout` (the booking's customer) creates a `payments` row for what is due now
 * (the deposit before confirmation, else the full amount or the balance) and returns where
 * to pay:
 * - with STRIPE_SECRET_KEY: a Stripe Checkout Session (idempotency key from the payment id,
 *   metadata businessId/bookingId/paymentId on the session and its PaymentIntent, the Stripe
 *   customer created once and stored on `customers.stripeCustomerId`);
 * - without it (the offline default): the LOCAL TEST CHECKOUT page (`localCheckout.ts`),
 *   which produces real-format signed Stripe events through our own /stripe/webhook.
 *
 * The payment's status changes only through ingested Stripe events (`stripeWebhook.ts`),
 * except that releasing an unpaid booking cancels its attempts still awaiting payment
 * (`model/stripeCheckout.ts`), after which `expireCheckoutSession` expires their Stripe
 * Checkout Sessions so Stripe stops taking money for them.
 * A failed payment leaves the booking PENDING_PAYMENT; calling `startCheckout` again opens a
 * new attempt (a new payment row), while an attempt still awaiting payment is reused.
 */
import { v } from "convex/values";
import { doc } from "convex-helpers/validators";
import Stripe from "stripe";
import { PAYABLE_AFTER_STATUSES } from "../domain/bookingStatus";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import { appError } from "./errors";
import { action, internalAction, internalMutation, internalQuery, query } from "./functions";
import { userByTokenIdentifier } from "./model/accountIdentity";
import { loadBookingForViewer } from "./model/bookingAccess";
import { localId } from "./model/stripeLocalEvents";
import schema from "./schema";
import { createStripeCustomer, isStripeConfigured, siteUrl, stripeClient, stripeCurrency } from "./stripe";
import { env } from "./env";

const vPayment = doc(schema, "payments");

const vCheckout = v.object({
  paymentId: v.id("payments"),
  provider: v.union(v.literal("stripe"), v.literal("local_test")),
  url: v.string(),
  amountMinor: v.number(),
  currency: v.string(),
  kind: v.union(v.literal("deposit"), v.literal("full"), v.literal("balance"), v.literal("fee")),
});

const PRE_CONFIRMATION = new Set<Doc<"bookings">["status"]>(["PENDING_PAYMENT"]);
const PAYABLE_AFTER = new Set<Doc<"bookings">["status"]>(PAYABLE_AFTER_STATUSES);

/** What is due on an invoice now, and as what kind of payment. */
export function amountDue(
  booking: Pick<Doc<"bookings">, "status">,
  invoice: Pick<Doc<"invoices">, "totalMinor" | "depositMinor" | "amountPaidMinor">,
): { kind: "deposit" | "full" | "balance"; amountMinor: number } {
  const outstanding = invoice.totalMinor - invoice.amountPaidMinor;
  if (invoice.amountPaidMinor === 0) {
    if (PRE_CONFIRMATION.has(booking.status) && invoice.depositMinor > 0 && invoice.depositMinor < invoice.totalMinor) {
      return { kind: "deposit", amountMinor: invoice.depositMinor };
    }
    return { kind: "full", amountMinor: outstanding };
  }
  return { kind: "balance", amountMinor: outstanding };
}

type Prepared = {
  paymentId: Id<"payments">;
  reused: boolean;
  provider: "stripe" | "local_test";
  sessionId: string | null;
  amountMinor: number;
  currency: string;
  kind: "deposit" | "full" | "balance" | "fee";
  businessId: Id<"businesses">;
  bookingId: Id<"bookings">;
  invoiceNumber: string;
  businessName: string;
  customer: { customerId: Id<"customers">; name: string; email: string | null; stripeCustomerId: string | null };
};

const vKind = v.union(v.literal("deposit"), v.literal("full"), v.literal("balance"), v.literal("fee"));
const vPrepared = v.object({
  paymentId: v.id("payments"),
  reused: v.boolean(),
  provider: v.union(v.literal("stripe"), v.literal("local_test")),
  sessionId: v.union(v.string(), v.null()),
  amountMinor: v.number(),
  currency: v.string(),
  kind: vKind,
  businessId: v.id("businesses"),
  bookingId: v.id("bookings"),
  invoiceNumber: v.string(),
  businessName: v.string(),
  customer: v.object({
    customerId: v.id("customers"),
    name: v.string(),
    email: v.union(v.string(), v.null()),
    stripeCustomerId: v.union(v.string(), v.null()),
  }),
});

/**
 * Checks the caller and the booking, then creates (or reuses) the payment row. Called by
 * `startCheckout` with the token identifier of its verified caller.
 */
export const prepareCheckout = internalMutation({
  args: { bookingId: v.id("bookings"), tokenIdentifier: v.string() },
  returns: vPrepared,
  handler: async (ctx, args): Promise<Prepared> => {
    const user = await userByTokenIdentifier(ctx, args.tokenIdentifier);
    if (user === null) throw appError("UNAUTHENTICATED", "Your account is not set up yet: call users:store first.");
    const booking = await ctx.db.get("bookings", args.bookingId);
    const notFound = () => appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
    if (booking === null) throw notFound();
    const customer = await ctx.db.get("customers", booking.customerId);
    if (customer === null || customer.userId !== user._id) throw notFound();
    const business = await ctx.db.get("businesses", booking.businessId);
    if (business === null || business.status === "DELETED") throw notFound();
    if (booking.status === "HELD") {
      throw appError("INVALID_TRANSITION", "Confirm the booking first (bookings.confirm); then pay.", { param: "bookingId" });
    }
    if (!PRE_CONFIRMATION.has(booking.status) && !PAYABLE_AFTER.has(booking.status)) {
      throw appError("INVALID_TRANSITION", `A ${booking.status.toLowerCase()} booking cannot be paid.`, { param: "bookingId" });
    }
    if (booking.holdExpiresAt !== undefined && booking.status === "PENDING_PAYMENT" && booking.holdExpiresAt <= Date.now()) {
      throw appError("HOLD_EXPIRED", "The time to pay for this booking has run out; book again.", { param: "bookingId" });
    }
    const invoice = booking.invoiceId
      ? await ctx.db.get("invoices", booking.invoiceId)
      : await ctx.db
          .query("invoices")
          .withIndex("by_bookingId", (q) => q.eq("bookingId", booking._id))
          .first();
    if (invoice === null) throw appError("CONFLICT", "This booking has no invoice yet.", { param: "bookingId" });
    if (invoice.status !== "open" && invoice.status !== "draft") {
      throw appError("CONFLICT", `The invoice is ${invoice.status.replace("_", " ")}; nothing to pay.`, { param: "bookingId" });
    }
    const provider = isStripeConfigured() ? ("stripe" as const) : ("local_test" as const);
    const due = amountDue(booking, invoice);
    if (due.amountMinor <= 0) throw appError("CONFLICT", "Nothing is due on this invoice.", { param: "bookingId" });

    const base = {
      businessId: booking.businessId,
      bookingId: booking._id,
      invoiceNumber: invoice.number,
      businessName: business.name,
      currency: invoice.currency,
      customer: {
        customerId: customer._id,
        name: customer.name,
        email: customer.email ?? null,
        stripeCustomerId: customer.stripeCustomerId ?? null,
      },
    };
    const attempts = await ctx.db
      .query("payments")
      .withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id))
      .order("desc")
      .take(50);
    if (attempts.some((p) => p.status === "processing")) {
      throw appError("CONFLICT", "A payment for this invoice is being processed; wait for its result.", { param: "bookingId" });
    }
    const open = attempts.find(
      (p) => p.status === "requires_payment" && p.provider === provider && p.amountMinor === due.amountMinor && p.kind === due.kind,
    );
    if (open) {
      return { ...base, paymentId: open._id, reused: true, provider, sessionId: open.stripeCheckoutSessionId ?? null, amountMinor: open.amountMinor, kind: open.kind };
    }
    // Older unpaid attempts (other amount or provider) can no longer be completed.
    const now = Date.now();
    for (const stale of attempts.filter((p) => p.status === "requires_payment")) {
      await ctx.db.patch("payments", stale._id, { status: "canceled", updatedAt: now });
    }
    const sessionId = provider === "local_test" ? localId("cs") : undefined;
    const paymentId = await ctx.db.insert("payments", {
      businessId: booking.businessId,
      invoiceId: invoice._id,
      bookingId: booking._id,
      customerId: customer._id,
      kind: due.kind,
      amountMinor: due.amountMinor,
      currency: invoice.currency,
      status: "requires_payment",
      provider,
      ...(sessionId ? { stripeCheckoutSessionId: sessionId } : {}),
      createdAt: now,
      updatedAt: now,
    });
    return { ...base, paymentId, reused: false, provider, sessionId: sessionId ?? null, amountMinor: due.amountMinor, kind: due.kind };
  },
});

export const setStripeCustomer = internalMutation({
  args: { customerId: v.id("customers"), stripeCustomerId: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const customer = await ctx.db.get("customers", args.customerId);
    if (customer === null) throw new Error(`customer ${args.customerId} vanished`);
    if (customer.stripeCustomerId === undefined) await ctx.db.patch("customers", args.customerId, { stripeCustomerId: args.stripeCustomerId });
    return null;
  },
});

export const attachCheckoutSession = internalMutation({
  args: { paymentId: v.id("payments"), sessionId: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const payment = await ctx.db.get("payments", args.paymentId);
    if (payment === null) throw new Error(`payment ${args.paymentId} vanished`);
    if (payment.stripeCheckoutSessionId !== args.sessionId) {
      await ctx.db.patch("payments", args.paymentId, { stripeCheckoutSessionId: args.sessionId, updatedAt: Date.now() });
    }
    return null;
  },
});

export const startCheckout = action({
  args: { bookingId: v.id("bookings") },
  returns: vCheckout,
  handler: async (ctx, args) => {
    if (ctx.identity === null) throw appError("UNAUTHENTICATED", "Sign in to pay.");
    const prepared: Prepared = await ctx.runMutation(internal.payments.prepareCheckout, {
      bookingId: args.bookingId,
      tokenIdentifier: ctx.identity.tokenIdentifier,
    });
    const result = {
      paymentId: prepared.paymentId,
      provider: prepared.provider,
      amountMinor: prepared.amountMinor,
      currency: prepared.currency,
      kind: prepared.kind,
    };
    if (prepared.provider === "local_test") {
      return { ...result, url: `${siteUrl()}/local-checkout?session=${encodeURIComponent(prepared.sessionId!)}` };
    }

    const stripe = stripeClient();
    if (stripe === null) throw new Error("STRIPE_SECRET_KEY disappeared between two steps of startCheckout");
    let stripeCustomerId = prepared.customer.stripeCustomerId;
    if (stripeCustomerId === null) {
      stripeCustomerId = await createStripeCustomer(stripe, prepared.customer, prepared.businessId);
      await ctx.runMutation(internal.payments.setStripeCustomer, {
        customerId: prepared.customer.customerId,
        stripeCustomerId,
      });
    }
    const metadata = { businessId: prepared.businessId, bookingId: prepared.bookingId, paymentId: prepared.paymentId };
    const portal = env.portalUrl();
    const session = await stripe.checkout.sessions.create(
      {
        mode: "payment",
        customer: stripeCustomerId,
        client_reference_id: prepared.paymentId,
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: stripeCurrency(prepared.currency),
              unit_amount: prepared.amountMinor,
              product_data: { name: `${prepared.businessName}: invoice ${prepared.invoiceNumber} (${prepared.kind})` },
            },
          },
        ],
        metadata,
        payment_intent_data: { metadata },
        success_url: `${portal}/bookings/${prepared.bookingId}?payment=succeeded`,
        cancel_url: `${portal}/bookings/${prepared.bookingId}?payment=canceled`,
      },
      { idempotencyKey: `checkout_${prepared.paymentId}` },
    );
    if (!session.url) throw new Error(`Stripe returned checkout session ${session.id} without a URL`);
    await ctx.runMutation(internal.payments.attachCheckoutSession, { paymentId: prepared.paymentId, sessionId: session.id });
    return { ...result, url: session.url };
  },
});

/** Payments of a booking, newest first: the booking's customer, assigned staff, managers, owner. */
export const listForBooking = query({
  args: { bookingId: v.id("bookings") },
  returns: v.array(vPayment),
  handler: async (ctx, args) => {
    const { booking } = await loadBookingForViewer(ctx, args.bookingId, "read");
    const invoice = await ctx.db
      .query("invoices")
      .withIndex("by_bookingId", (q) => q.eq("bookingId", booking._id))
      .first();
    if (invoice === null) return [];
    return await ctx.db
      .query("payments")
      .withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id))
      .order("desc")
      .take(50);
  },
});

/** One payment, for the portal's "payment result" view. */
export const get = query({
  args: { paymentId: v.id("payments") },
  returns: vPayment,
  handler: async (ctx, args) => {
    const payment = await ctx.db.get("payments", args.paymentId);
    if (payment === null) throw appError("NOT_FOUND", "Payment not found.", { param: "paymentId" });
    await loadBookingForViewer(ctx, payment.bookingId, "read");
    return payment;
  },
});

// ---------------------------------------------------------------------------------------
// Closing a released booking's Stripe Checkout Session (scheduled)
// ---------------------------------------------------------------------------------------

const MAX_EXPIRE_ATTEMPTS = 6;

export const checkoutSessionOf = internalQuery({
  args: { paymentId: v.id("payments") },
  returns: v.union(v.null(), v.object({ sessionId: v.string(), status: v.string() })),
  handler: async (ctx, args) => {
    const payment = await ctx.db.get("payments", args.paymentId);
    if (payment === null || payment.provider !== "stripe" || payment.stripeCheckoutSessionId === undefined) return null;
    return { sessionId: payment.stripeCheckoutSessionId, status: payment.status };
  },
});

/**
 * Expires the Stripe Checkout Session of a payment attempt that was cancelled because its
 * booking was released, so the customer can no longer pay on it. A session Stripe will not
 * expire (already completed or expired) needs nothing more: if it was paid, the payment's
 * events reach the webhook and the late payment is settled there. Network and Stripe-side
 * failures are retried with backoff.
 */
export const expireCheckoutSession = internalAction({
  args: { paymentId: v.id("payments"), attempt: v.optional(v.number()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    const session = await ctx.runQuery(internal.payments.checkoutSessionOf, { paymentId: args.paymentId });
    if (session === null || session.status !== "canceled") return null;
    const attempt = args.attempt ?? 1;
    const retry = async (why: string) => {
      if (attempt >= MAX_EXPIRE_ATTEMPTS) {
        console.error(`checkout session ${session.sessionId} of payment ${args.paymentId} could not be expired: ${why}`);
        return;
      }
      console.warn(`checkout session ${session.sessionId}: attempt ${attempt} to expire failed (${why}); retrying`);
      await ctx.scheduler.runAfter(60_000 * 2 ** (attempt - 1), internal.payments.expireCheckoutSession, {
        paymentId: args.paymentId,
        attempt: attempt + 1,
      });
    };
    const stripe = stripeClient();
    if (stripe === null) {
      await retry("STRIPE_SECRET_KEY is not configured for a Stripe checkout");
      return null;
    }
    try {
      await stripe.checkout.sessions.expire(session.sessionId, {}, { idempotencyKey: `expire_${session.sessionId}` });
    } catch (error) {
      if (error instanceof Stripe.errors.StripeInvalidRequestError) {
        console.info(`checkout session ${session.sessionId} is no longer open (${error.message}); nothing to expire`);
        return null;
      }
      await retry(error instanceof Error ? error.message : String(error));
    }
    return null;
  },
});
