/**
 * The offline stand-in for Stripe Billing: signed links to the local test checkout page for
 * plan upgrades, and the real-format events a plan change produces (checkout.session.completed,
 * customer.subscription.created/updated/deleted, invoice.paid / invoice.payment_failed).
 *
 * Links carry an HMAC (key: the local STRIPE_WEBHOOK_SECRET) over business, plan and expiry,
 * so nobody can mint an upgrade link for another business.
 */
import type { Plan } from "../schema";
import {
  localId,
  subscriptionCheckoutCompletedEvent,
  subscriptionEvent,
  subscriptionInvoiceEvent,
  type StripeEventJson,
} from "./stripeLocalEvents";
import { PLAN_CATALOGUE, PLAN_CURRENCY } from "./stripePlans";

const LINK_TTL_MS = 60 * 60_000;

async function hmacHex(secret: string, message: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", new TextEncoder().encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = new Uint8Array(await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(message)));
  return Array.from(mac, (b) => b.toString(16).padStart(2, "0")).join("");
}

export async function localPlanLink(site: string, businessId: string, plan: Plan, secret: string, now = Date.now()): Promise<string> {
  const exp = now + LINK_TTL_MS;
  const sig = await hmacHex(secret, `plan.${businessId}.${plan}.${exp}`);
  const q = new URLSearchParams({ plan, business: businessId, exp: String(exp), sig });
  return `${site}/local-checkout?${q.toString()}`;
}

export async function verifyLocalPlanLink(
  params: { plan: string; business: string; exp: string; sig: string },
  secret: string,
  now = Date.now(),
): Promise<boolean> {
  const exp = Number(params.exp);
  if (!Number.isFinite(exp) || exp < now) return false;
  const expected = await hmacHex(secret, `plan.${params.business}.${params.plan}.${params.exp}`);
  if (expected.length !== params.sig.length) return false;
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ params.sig.charCodeAt(i);
  return diff === 0;
}

export type LocalBilling = {
  businessId: string;
  plan: Plan;
  stripeCustomerId: string | null;
  stripeSubscriptionId: string | null;
};

/**
 * The events Stripe would send when the business moves to `plan`:
 * - no subscription yet → checkout.session.completed + customer.subscription.created +
 *   invoice.paid (or, when the card fails, subscription `incomplete` + invoice.payment_failed);
 * - a live subscription → customer.subscription.updated (paid plan) or .deleted (free).
 */
export function planLocalEvents(billing: LocalBilling, plan: Plan, outcome: "succeeded" | "failed", nowMs = Date.now()): StripeEventJson[] {
  const created = Math.floor(nowMs / 1000);
  const stripeCustomerId = billing.stripeCustomerId ?? localId("cus");
  const metadata = { businessId: billing.businessId, plan };
  const amount = PLAN_CATALOGUE[plan].monthlyMinor;
  const periodEnd = created + 30 * 86_400;
  if (billing.stripeSubscriptionId !== null && billing.plan !== "free") {
    const facts = {
      subscriptionId: billing.stripeSubscriptionId,
      stripeCustomerId,
      status: plan === "free" ? "canceled" : "active",
      plan: plan === "free" ? billing.plan : plan,
      unitAmountMinor: plan === "free" ? PLAN_CATALOGUE[billing.plan].monthlyMinor : amount,
      currency: PLAN_CURRENCY,
      currentPeriodEndSeconds: periodEnd,
      metadata: plan === "free" ? { businessId: billing.businessId, plan: billing.plan } : metadata,
    };
    return [subscriptionEvent(plan === "free" ? "deleted" : "updated", facts, created)];
  }
  const subscriptionId = localId("sub");
  const sessionId = localId("cs");
  const facts = {
    subscriptionId,
    stripeCustomerId,
    status: outcome === "succeeded" ? "active" : "incomplete",
    plan,
    unitAmountMinor: amount,
    currency: PLAN_CURRENCY,
    currentPeriodEndSeconds: periodEnd,
    metadata,
  };
  const invoiceFacts = { subscriptionId, stripeCustomerId, amountMinor: amount, currency: PLAN_CURRENCY, metadata };
  if (outcome === "failed") {
    return [subscriptionEvent("created", facts, created), subscriptionInvoiceEvent("payment_failed", invoiceFacts, created)];
  }
  return [
    subscriptionCheckoutCompletedEvent({ sessionId, subscriptionId, stripeCustomerId, amountMinor: amount, currency: PLAN_CURRENCY, metadata }, created),
    subscriptionEvent("created", facts, created),
    subscriptionInvoiceEvent("paid", invoiceFacts, created),
  ];
}

