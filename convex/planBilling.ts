/**
 * Per-visit billing of recurring plans (the rules: model/planBilling.ts; docs/PLANS.md).
 *
 * - `startCardSetup` (the plan's customer): where to save a card for the plan's off-session
 *   charges: a Stripe Checkout Session in setup mode with STRIPE_SECRET_KEY, else the local
 *   test checkout's setup page (which can save a card that will be declined, for tests).
 * - `chargeVisit` (scheduled when a visit is COMPLETED, on each retry, and when a new card is
 *   saved): one off-session PaymentIntent for what the visit's invoice owes. With Stripe it is
 *   created with `off_session: true, confirm: true`; offline the same real-format event Stripe
 *   would send is signed and delivered to our own /stripe/webhook. Either way the outcome is
 *   applied only by the webhook (`payment_intent.succeeded` / `payment_intent.payment_failed`).
 */
import { v, type Infer } from "convex/values";
import Stripe from "stripe";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { env } from "./env";
import { appError } from "./errors";
import { action, internalAction, internalMutation } from "./functions";
import { openCardSetup, prepareVisitCharge, afterVisitChargeFailed, type VisitCharge } from "./model/planBilling";
import { localId, offSessionPaymentEvent, postSignedEvents } from "./model/stripeLocalEvents";
import { createStripeCustomer, isStripeConfigured, siteUrl, stripeClient } from "./stripe";
import { STRIPE_WEBHOOK_PATH } from "./stripeWebhook";
import { LOCAL_CHECKOUT_PATH } from "./localCheckout";

const vSetup = v.object({
  cardSetupId: v.id("planCardSetups"),
  seriesId: v.id("recurringSeries"),
  businessId: v.id("businesses"),
  provider: v.union(v.literal("stripe"), v.literal("local_test")),
  sessionId: v.union(v.string(), v.null()),
  currency: v.string(),
  customer: v.object({ customerId: v.id("customers"), name: v.string(), email: v.union(v.string(), v.null()), stripeCustomerId: v.union(v.string(), v.null()) }),
});

/** Checks that the caller (by token) is the plan's customer and opens a card-saving attempt. */
export const prepareCardSetup = internalMutation({
  args: { seriesId: v.id("recurringSeries"), tokenIdentifier: v.string() },
  returns: vSetup,
  handler: async (ctx, args) => {
    const user = await ctx.db
      .query("users")
      .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", args.tokenIdentifier))
      .unique();
    if (user === null) throw appError("UNAUTHENTICATED", "Your account is not set up yet: call users:store first.");
    const series = await ctx.db.get("recurringSeries", args.seriesId);
    const customer = series === null ? null : await ctx.db.get("customers", series.customerId);
    // Only the customer saves their own card: to the business's staff the plan is NOT_FOUND here.
    if (series === null || customer === null || customer.userId !== user._id) throw appError("NOT_FOUND", "Plan not found.", { param: "seriesId" });
    if (series.status === "cancelled") throw appError("INVALID_TRANSITION", "The plan is cancelled.", { param: "seriesId" });
    const provider = isStripeConfigured() ? ("stripe" as const) : ("local_test" as const);
    const setup = await openCardSetup(ctx, series, provider, provider === "local_test" ? localId("cs") : undefined, Date.now());
    return {
      cardSetupId: setup._id,
      seriesId: series._id,
      businessId: series.businessId,
      provider,
      sessionId: setup.stripeCheckoutSessionId ?? null,
      currency: (await ctx.db.get("businesses", series.businessId))?.currency ?? "USD",
      customer: { customerId: customer._id, name: customer.name, email: customer.email ?? null, stripeCustomerId: customer.stripeCustomerId ?? null },
    };
  },
});

export const attachSetupSession = internalMutation({
  args: { cardSetupId: v.id("planCardSetups"), sessionId: v.string(), stripeCustomerId: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const setup = await ctx.db.get("planCardSetups", args.cardSetupId);
    if (setup === null) throw new Error(`card setup ${args.cardSetupId} vanished`);
    await ctx.db.patch("planCardSetups", setup._id, { stripeCheckoutSessionId: args.sessionId });
    const customer = await ctx.db.get("customers", setup.customerId);
    if (customer !== null && customer.stripeCustomerId === undefined) await ctx.db.patch("customers", customer._id, { stripeCustomerId: args.stripeCustomerId });
    return null;
  },
});

/** Where the plan's customer saves (or replaces) the card its visits are charged on. */
export const startCardSetup = action({
  args: { seriesId: v.id("recurringSeries") },
  returns: v.object({ provider: v.union(v.literal("stripe"), v.literal("local_test")), url: v.string() }),
  handler: async (ctx, args): Promise<{ provider: "stripe" | "local_test"; url: string }> => {
    if (ctx.identity === null) throw appError("UNAUTHENTICATED", "Sign in to save a card.");
    const setup: Infer<typeof vSetup> = await ctx.runMutation(internal.planBilling.prepareCardSetup, { seriesId: args.seriesId, tokenIdentifier: ctx.identity.tokenIdentifier });
    if (setup.provider === "local_test") {
      return { provider: setup.provider, url: `${siteUrl()}${LOCAL_CHECKOUT_PATH}?setup=${encodeURIComponent(setup.sessionId!)}` };
    }
    const stripe = stripeClient();
    if (stripe === null) throw new Error("STRIPE_SECRET_KEY disappeared between two steps of startCardSetup");
    let stripeCustomerId = setup.customer.stripeCustomerId;
    if (stripeCustomerId === null) {
      stripeCustomerId = await createStripeCustomer(stripe, setup.customer, setup.businessId);
    }
    const metadata = { businessId: setup.businessId, seriesId: setup.seriesId, cardSetupId: setup.cardSetupId };
    const portal = env.portalUrl();
    const session = await stripe.checkout.sessions.create(
      {
        mode: "setup",
        customer: stripeCustomerId,
        // Setup mode with the payment methods enabled in the dashboard needs the currency they will charge in.
        currency: setup.currency.toLowerCase(),
        metadata,
        setup_intent_data: { metadata, description: "Card for your recurring plan's visits" },
        success_url: `${portal}/plans/${setup.seriesId}?card=saved`,
        cancel_url: `${portal}/plans/${setup.seriesId}?card=canceled`,
      },
      { idempotencyKey: `plan_card_setup_${setup.cardSetupId}` },
    );
    if (!session.url) throw new Error(`Stripe returned setup session ${session.id} without a URL`);
    await ctx.runMutation(internal.planBilling.attachSetupSession, { cardSetupId: setup.cardSetupId, sessionId: session.id, stripeCustomerId });
    return { provider: setup.provider, url: session.url };
  },
});

const vVisitCharge = v.union(
  v.object({ status: v.literal("skip"), reason: v.string() }),
  v.object({
    status: v.literal("charge"),
    paymentId: v.id("payments"),
    provider: v.union(v.literal("stripe"), v.literal("local_test")),
    attempt: v.number(),
    amountMinor: v.number(),
    currency: v.string(),
    stripeCustomerId: v.union(v.string(), v.null()),
    stripePaymentMethodId: v.string(),
    declines: v.boolean(),
    metadata: v.record(v.string(), v.string()),
  }),
);

export const prepareCharge = internalMutation({
  args: { bookingId: v.id("bookings") },
  returns: vVisitCharge,
  handler: async (ctx, args): Promise<VisitCharge> =>
    await prepareVisitCharge(ctx, args.bookingId, isStripeConfigured() ? "stripe" : "local_test", Date.now()),
});

/** The PaymentIntent of a try, or (Stripe refused the request itself) the try failed: retry or ask for a new card. */
export const recordCharge = internalMutation({
  args: { paymentId: v.id("payments"), paymentIntentId: v.optional(v.string()), failure: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    const payment = await ctx.db.get("payments", args.paymentId);
    if (payment === null) return null;
    if (args.paymentIntentId !== undefined && payment.stripePaymentIntentId === undefined) {
      await ctx.db.patch("payments", payment._id, { stripePaymentIntentId: args.paymentIntentId, updatedAt: Date.now() });
    }
    if (args.failure !== undefined && payment.status === "requires_payment") {
      await ctx.db.patch("payments", payment._id, { status: "failed", failureReason: args.failure.slice(0, 500), updatedAt: Date.now() });
      await afterVisitChargeFailed(ctx, (await ctx.db.get("payments", payment._id))!, Date.now());
    }
    return null;
  },
});

/** One off-session try at charging a completed plan visit (see the module comment). */
export const chargeVisit = internalAction({
  args: { bookingId: v.id("bookings") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const charge: VisitCharge = await ctx.runMutation(internal.planBilling.prepareCharge, { bookingId: args.bookingId });
    if (charge.status === "skip") return null;
    const paymentId: Id<"payments"> = charge.paymentId;
    if (charge.provider === "local_test") {
      const paymentIntentId = localId("pi");
      await ctx.runMutation(internal.planBilling.recordCharge, { paymentId, paymentIntentId });
      const event = offSessionPaymentEvent(
        {
          paymentIntentId,
          chargeId: `ch_${paymentIntentId.slice(3)}`,
          amountMinor: charge.amountMinor,
          currency: charge.currency,
          stripeCustomerId: charge.stripeCustomerId ?? undefined,
          paymentMethodId: charge.stripePaymentMethodId,
          metadata: charge.metadata,
        },
        charge.declines ? "failed" : "succeeded",
        Math.floor(Date.now() / 1000),
      );
      const [result] = await postSignedEvents(`${siteUrl()}${STRIPE_WEBHOOK_PATH}`, env.stripeWebhookSecret(), [event]);
      if (result.status < 200 || result.status >= 300) {
        await ctx.runMutation(internal.planBilling.recordCharge, { paymentId, failure: `webhook answered ${result.status}: ${result.body}` });
      }
      return null;
    }
    const stripe = stripeClient();
    if (stripe === null) {
      await ctx.runMutation(internal.planBilling.recordCharge, { paymentId, failure: "STRIPE_SECRET_KEY is not configured" });
      return null;
    }
    try {
      const intent = await stripe.paymentIntents.create(
        {
          amount: charge.amountMinor,
          currency: charge.currency.toLowerCase(),
          ...(charge.stripeCustomerId ? { customer: charge.stripeCustomerId } : {}),
          payment_method: charge.stripePaymentMethodId,
          off_session: true,
          confirm: true,
          metadata: charge.metadata,
        },
        { idempotencyKey: `plan_visit_${paymentId}` },
      );
      await ctx.runMutation(internal.planBilling.recordCharge, { paymentId, paymentIntentId: intent.id });
    } catch (error) {
      if (error instanceof Stripe.errors.StripeCardError) {
        // Declined (or authentication required): Stripe sends payment_intent.payment_failed,
        // which schedules the next try; here only the PaymentIntent is linked.
        const intentId = error.payment_intent?.id;
        await ctx.runMutation(internal.planBilling.recordCharge, intentId ? { paymentId, paymentIntentId: intentId } : { paymentId, failure: error.message });
        return null;
      }
      await ctx.runMutation(internal.planBilling.recordCharge, { paymentId, failure: error instanceof Error ? error.message : String(error) });
    }
    return null;
  },
});
