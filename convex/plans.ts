/**
 * Business plans (free / basic / pro / premium) as Stripe subscriptions.
 *
 * `startUpgrade` (the owner) moves the business to another plan:
 * - to a paid plan without a subscription: Stripe Checkout in subscription mode (or, offline,
 *   the local test checkout page), with `subscription_data.metadata = {businessId, plan}`;
 * - between paid plans with a live subscription: the subscription's item is swapped in place
 *   (prorated);
 * - to free: the subscription is cancelled.
 * In every case the plan itself changes only when the `customer.subscription.*` event is
 * ingested (`model/stripeApply.ts` sets `businesses.plan` and `planStatus`).
 *
 * Customers' recurring plans (weekly cleaning, …) are NOT Stripe subscriptions: each
 * occurrence is its own booking with its own invoice, paid per occurrence (deposit at
 * booking, balance after the visit). Occurrences differ in price (extras, reschedules,
 * frequency discounts, skipped visits), which per-occurrence charges follow exactly and a
 * fixed subscription price would not; cancelling a series needs no proration either. The
 * webhook still keeps `customerSubscriptions` rows in step if a subscription is ever
 * attached to one.
 */
import { v, type Infer } from "convex/values";
import { internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import type { QueryCtx as RawQueryCtx } from "./_generated/server";
import { env } from "./env";
import { appError } from "./errors";
import { action, internalQuery, query } from "./functions";
import { requireBusinessRole } from "./access";
import { userByTokenIdentifier } from "./model/accountIdentity";
import { localPlanLink, planLocalEvents } from "./model/stripeLocalPlans";
import { postSignedEvents } from "./model/stripeLocalEvents";
import { PLAN_CATALOGUE, PLAN_CURRENCY, planRank, rateTierForPlan, type RateTier } from "./model/stripePlans";
import { vPlan, type Plan } from "./schema";
import { siteUrl, stripeClient, stripeCurrency } from "./stripe";
import { STRIPE_WEBHOOK_PATH } from "./stripeWebhook";

export { rateTierForPlan, type RateTier };

const vBilling = v.object({
  businessId: v.id("businesses"),
  name: v.string(),
  ownerEmail: v.union(v.string(), v.null()),
  plan: vPlan,
  planStatus: v.union(v.string(), v.null()),
  stripeCustomerId: v.union(v.string(), v.null()),
  stripeSubscriptionId: v.union(v.string(), v.null()),
});

/** The business's billing facts, after checking that the caller (by token) is its owner. */
export const billingForOwner = internalQuery({
  args: { businessId: v.id("businesses"), tokenIdentifier: v.string() },
  returns: vBilling,
  handler: async (ctx, args) => {
    const user = await userByTokenIdentifier(ctx, args.tokenIdentifier);
    if (user === null) throw appError("UNAUTHENTICATED", "Your account is not set up yet: call users:store first.");
    const identity = { tokenIdentifier: args.tokenIdentifier, subject: user._id, issuer: "convex" };
    await requireBusinessRole({ ...ctx, viewer: { identity, user } }, args.businessId, "owner");
    return await billingOf(ctx, args.businessId);
  },
});

/** Billing facts for the local checkout page (its link is signed; see stripeLocalPlans). */
export const billingForLocalCheckout = internalQuery({
  args: { businessId: v.id("businesses") },
  returns: v.union(vBilling, v.null()),
  handler: async (ctx, args) => {
    const business = await ctx.db.get("businesses", args.businessId);
    return business === null ? null : await billingOf(ctx, args.businessId);
  },
});

async function billingOf(ctx: RawQueryCtx, businessId: Id<"businesses">) {
  const business = (await ctx.db.get("businesses", businessId))!;
  const owner = await ctx.db.get("users", business.ownerId);
  return {
    businessId,
    name: business.name,
    ownerEmail: owner?.email ?? null,
    plan: business.plan,
    planStatus: business.planStatus ?? null,
    stripeCustomerId: business.stripeCustomerId ?? null,
    stripeSubscriptionId: business.stripeSubscriptionId ?? null,
  };
}

/** The plan, its status and rate tier, and the catalogue (owner and managers). */
export const current = query({
  args: { businessId: v.id("businesses") },
  returns: v.object({
    plan: vPlan,
    planStatus: v.union(v.string(), v.null()),
    rateTier: v.union(v.literal("standard"), v.literal("professional"), v.literal("enterprise")),
    catalogue: v.array(v.object({ plan: vPlan, name: v.string(), monthlyMinor: v.number(), currency: v.string() })),
  }),
  handler: async (ctx, args) => {
    const { business } = await requireBusinessRole(ctx, args.businessId, "manager");
    return {
      plan: business.plan,
      planStatus: business.planStatus ?? null,
      rateTier: rateTierForPlan(business.plan),
      catalogue: (Object.keys(PLAN_CATALOGUE) as Plan[]).map((plan) => ({
        plan,
        name: PLAN_CATALOGUE[plan].name,
        monthlyMinor: PLAN_CATALOGUE[plan].monthlyMinor,
        currency: PLAN_CURRENCY,
      })),
    };
  },
});

const vUpgradeResult = v.union(
  /** Go to this URL to pay (Stripe Checkout or the local test page). */
  v.object({ kind: v.literal("checkout"), url: v.string() }),
  /** The subscription was changed or cancelled; the plan follows when Stripe's event arrives. */
  v.object({ kind: v.literal("pending_event"), subscriptionId: v.string() }),
);

export const startUpgrade = action({
  args: { businessId: v.id("businesses"), plan: vPlan },
  returns: vUpgradeResult,
  handler: async (ctx, args): Promise<Infer<typeof vUpgradeResult>> => {
    if (ctx.identity === null) throw appError("UNAUTHENTICATED", "Sign in to change the plan.");
    const billing: Infer<typeof vBilling> = await ctx.runQuery(internal.plans.billingForOwner, {
      businessId: args.businessId,
      tokenIdentifier: ctx.identity.tokenIdentifier,
    });
    const live = billing.stripeSubscriptionId !== null && billing.plan !== "free";
    if (billing.plan === args.plan && (args.plan === "free" || billing.planStatus === "active" || billing.planStatus === "trialing")) {
      throw appError("CONFLICT", `The business is already on the ${args.plan} plan.`, { param: "plan" });
    }
    if (args.plan === "free" && !live) throw appError("CONFLICT", "The business has no paid plan to cancel.", { param: "plan" });

    const stripe = stripeClient();
    if (stripe === null) {
      // Offline: the local test page for new subscriptions; direct signed events otherwise.
      if (!live && args.plan !== "free") {
        return { kind: "checkout" as const, url: await localPlanLink(siteUrl(), args.businessId, args.plan, env.stripeWebhookSecret()) };
      }
      const events = planLocalEvents(billing, args.plan, "succeeded");
      const results = await postSignedEvents(`${siteUrl()}${STRIPE_WEBHOOK_PATH}`, env.stripeWebhookSecret(), events);
      const failed = results.find((r) => r.status < 200 || r.status >= 300);
      if (failed) throw new Error(`Local ${failed.type} was refused by /stripe/webhook: ${failed.status} ${failed.body}`);
      return { kind: "pending_event" as const, subscriptionId: billing.stripeSubscriptionId! };
    }

    if (live) {
      const subscriptionId = billing.stripeSubscriptionId!;
      if (args.plan === "free") {
        await stripe.subscriptions.cancel(subscriptionId, {}, { idempotencyKey: `plan_cancel_${subscriptionId}` });
        return { kind: "pending_event" as const, subscriptionId };
      }
      const subscription = await stripe.subscriptions.retrieve(subscriptionId);
      const item = subscription.items.data[0];
      if (!item) throw new Error(`Subscription ${subscriptionId} has no items`);
      const product = typeof item.price.product === "string" ? item.price.product : item.price.product.id;
      await stripe.subscriptions.update(
        subscriptionId,
        {
          items: [
            {
              id: item.id,
              price_data: {
                currency: stripeCurrency(PLAN_CURRENCY),
                product,
                unit_amount: PLAN_CATALOGUE[args.plan].monthlyMinor,
                recurring: { interval: "month" },
              },
            },
          ],
          metadata: { businessId: args.businessId, plan: args.plan },
          proration_behavior: planRank(args.plan) > planRank(billing.plan) ? "always_invoice" : "create_prorations",
        },
        { idempotencyKey: `plan_change_${subscriptionId}_${args.plan}_${Math.floor(Date.now() / 3_600_000)}` },
      );
      return { kind: "pending_event" as const, subscriptionId };
    }

    const metadata = { businessId: args.businessId, plan: args.plan };
    const portal = env.portalUrl();
    const session = await stripe.checkout.sessions.create(
      {
        mode: "subscription",
        ...(billing.stripeCustomerId ? { customer: billing.stripeCustomerId } : billing.ownerEmail ? { customer_email: billing.ownerEmail } : {}),
        client_reference_id: args.businessId,
        line_items: [
          {
            quantity: 1,
            price_data: {
              currency: stripeCurrency(PLAN_CURRENCY),
              unit_amount: PLAN_CATALOGUE[args.plan].monthlyMinor,
              recurring: { interval: "month" },
              product_data: { name: `${PLAN_CATALOGUE[args.plan].name} plan` },
            },
          },
        ],
        metadata,
        subscription_data: { metadata },
        success_url: `${portal}/settings/billing?plan=${args.plan}&result=succeeded`,
        cancel_url: `${portal}/settings/billing?plan=${args.plan}&result=canceled`,
      },
      { idempotencyKey: `plan_checkout_${args.businessId}_${args.plan}_${Math.floor(Date.now() / 3_600_000)}` },
    );
    if (!session.url) throw new Error(`Stripe returned checkout session ${session.id} without a URL`);
    return { kind: "checkout" as const, url: session.url };
  },
});
