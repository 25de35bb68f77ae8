/**
 * The LOCAL TEST CHECKOUT: what stands in for Stripe Checkout when no STRIPE_SECRET_KEY is
 * configured (the offline default). No money moves.
 *
 *   GET  /local-checkout?session=cs_local…            a booking payment
 *   GET  /local-checkout?setup=cs_local…              saving a card for a recurring plan
 *        (outcome=save: test card 4242; outcome=save_declining: test card 0341, which saves
 *        but declines every charge, like Stripe's 4000 0000 0000 0341)
 *   GET  /local-checkout?plan=…&business=…&exp=…&sig=… a plan subscription (signed link)
 *   POST /local-checkout/complete   form: session | plan link fields, outcome=pay|fail
 *
 * Pressing Pay or Fail builds the real-format Stripe events Stripe would send
 * (checkout.session.completed + payment_intent.succeeded, or payment_intent.payment_failed;
 * customer.subscription.created + invoice.paid for plans), signs them with the local
 * STRIPE_WEBHOOK_SECRET through Stripe's SDK and POSTs them to our own /stripe/webhook, so
 * the very same ingestion path runs offline. Then it redirects to the portal with the result.
 *
 * Like a Stripe Checkout Session that was expired, the page refuses to take a payment for a
 * booking that was released or cancelled (even before the expiry job ran), with the reason
 * and a way back to the booking (`checkoutRefusal` in model/stripeCheckout.ts).
 */
import type { HttpRouter } from "convex/server";
import { v } from "convex/values";
import { minorToDecimalString } from "../domain/money";
import { internal } from "./_generated/api";
import { httpAction } from "./_generated/server";
import { env } from "./env";
import { internalQuery } from "./functions";
import { localId, paymentFailedEvent, paymentSucceededEvents, postSignedEvents, setupSucceededEvents, type StripeEventJson } from "./model/stripeLocalEvents";
import { LOCAL_TEST_CARDS } from "./model/planBilling";
import { checkoutRefusal } from "./model/stripeCheckout";
import { planLocalEvents, verifyLocalPlanLink } from "./model/stripeLocalPlans";
import { PLAN_CATALOGUE, PLAN_CURRENCY, isPlan } from "./model/stripePlans";
import { isStripeConfigured, siteUrl } from "./stripe";
import { STRIPE_WEBHOOK_PATH } from "./stripeWebhook";

export const LOCAL_CHECKOUT_PATH = "/local-checkout";

const vSession = v.object({
  paymentId: v.id("payments"),
  bookingId: v.id("bookings"),
  businessId: v.id("businesses"),
  businessName: v.string(),
  invoiceNumber: v.string(),
  kind: v.string(),
  status: v.string(),
  amountMinor: v.number(),
  currency: v.string(),
  paymentIntentId: v.union(v.string(), v.null()),
  stripeCustomerId: v.union(v.string(), v.null()),
  /** Why this checkout can no longer be paid, or null. */
  refusal: v.union(v.null(), v.object({ title: v.string(), message: v.string() })),
});

/** The local test payment behind a session id (random, unguessable), or null. */
export const sessionInfo = internalQuery({
  args: { sessionId: v.string() },
  returns: v.union(vSession, v.null()),
  handler: async (ctx, args) => {
    const payment = await ctx.db
      .query("payments")
      .withIndex("by_stripeCheckoutSessionId", (q) => q.eq("stripeCheckoutSessionId", args.sessionId))
      .first();
    if (payment === null || payment.provider !== "local_test") return null;
    const [business, invoice, customer, booking] = await Promise.all([
      ctx.db.get("businesses", payment.businessId),
      ctx.db.get("invoices", payment.invoiceId),
      ctx.db.get("customers", payment.customerId),
      ctx.db.get("bookings", payment.bookingId),
    ]);
    if (booking === null) return null;
    return {
      paymentId: payment._id,
      bookingId: payment.bookingId,
      businessId: payment.businessId,
      businessName: business?.name ?? "",
      invoiceNumber: invoice?.number ?? "",
      kind: payment.kind,
      status: payment.status,
      amountMinor: payment.amountMinor,
      currency: payment.currency,
      paymentIntentId: payment.stripePaymentIntentId ?? null,
      stripeCustomerId: customer?.stripeCustomerId ?? null,
      refusal: checkoutRefusal({ paymentStatus: payment.status, booking, now: Date.now() }),
    };
  },
});

/** The open card-saving attempt behind a setup session id (random, unguessable), or null. */
export const setupInfo = internalQuery({
  args: { sessionId: v.string() },
  returns: v.union(
    v.null(),
    v.object({
      cardSetupId: v.id("planCardSetups"),
      seriesId: v.id("recurringSeries"),
      businessId: v.id("businesses"),
      businessName: v.string(),
      status: v.string(),
      stripeCustomerId: v.union(v.string(), v.null()),
    }),
  ),
  handler: async (ctx, args) => {
    const setup = await ctx.db
      .query("planCardSetups")
      .withIndex("by_stripeCheckoutSessionId", (q) => q.eq("stripeCheckoutSessionId", args.sessionId))
      .first();
    if (setup === null || setup.provider !== "local_test") return null;
    const [business, customer] = await Promise.all([ctx.db.get("businesses", setup.businessId), ctx.db.get("customers", setup.customerId)]);
    return {
      cardSetupId: setup._id,
      seriesId: setup.seriesId,
      businessId: setup.businessId,
      businessName: business?.name ?? "",
      status: setup.status,
      stripeCustomerId: customer?.stripeCustomerId ?? null,
    };
  },
});

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

function page(status: number, title: string, body: string): Response {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1"><link rel="icon" href="data:,">
<title>${escapeHtml(title)}</title>
<style>
 body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;color:#1f2937}
 .banner{background:#fef3c7;border:2px dashed #d97706;padding:.75rem 1rem;border-radius:.5rem;font-weight:700;color:#92400e}
 .amount{font-size:2rem;font-weight:700;margin:1rem 0}
 form{display:inline-block;margin-right:.5rem}
 button{font-size:1rem;padding:.6rem 1.4rem;border-radius:.4rem;border:0;cursor:pointer}
 .pay{background:#16a34a;color:#fff}.fail{background:#dc2626;color:#fff}
 dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem}
</style></head>
<body><p class="banner" data-testid="test-mode-banner">LOCAL TEST CHECKOUT — Test mode — no real payment. No card is charged; no money moves.</p>
${body}</body></html>`;
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
}

function money(amountMinor: number, currency: string): string {
  return `${minorToDecimalString(amountMinor, currency.toUpperCase())} ${currency.toUpperCase()}`;
}

function hidden(fields: Record<string, string>): string {
  return Object.entries(fields)
    .map(([name, value]) => `<input type="hidden" name="${escapeHtml(name)}" value="${escapeHtml(value)}">`)
    .join("");
}

function buttons(fields: Record<string, string>, payLabel: string): string {
  const action = `${LOCAL_CHECKOUT_PATH}/complete`;
  return `<form method="post" action="${action}">${hidden({ ...fields, outcome: "pay" })}<button class="pay" type="submit">${escapeHtml(payLabel)}</button></form>
<form method="post" action="${action}">${hidden({ ...fields, outcome: "fail" })}<button class="fail" type="submit">Fail (card declined)</button></form>`;
}

/** 409: this checkout takes no payment, why, and the way back to the booking. */
function closedPage(refusal: { title: string; message: string }, bookingId: string): Response {
  const back = `${env.portalUrl()}/bookings/${encodeURIComponent(bookingId)}`;
  return page(
    409,
    refusal.title,
    `<h1>${escapeHtml(refusal.title)}</h1><p data-testid="checkout-refused">${escapeHtml(refusal.message)}</p><p><a href="${escapeHtml(back)}">Back to your booking</a></p>`,
  );
}

const DISABLED = () =>
  page(404, "Not available", "<h1>Local test checkout is off</h1><p>Stripe is configured (STRIPE_SECRET_KEY); payments go through Stripe Checkout.</p>");

export const checkoutPage = httpAction(async (ctx, request) => {
  if (isStripeConfigured()) return DISABLED();
  const url = new URL(request.url);
  const sessionId = url.searchParams.get("session");
  if (sessionId) {
    const session = await ctx.runQuery(internal.localCheckout.sessionInfo, { sessionId });
    if (session === null) return page(404, "Unknown checkout", "<h1>Checkout not found</h1><p>This test checkout session does not exist.</p>");
    if (session.refusal) return closedPage(session.refusal, session.bookingId);
    return page(
      200,
      "Test checkout",
      `<h1>${escapeHtml(session.businessName)}</h1>
<dl><dt>Invoice</dt><dd>${escapeHtml(session.invoiceNumber)}</dd><dt>Payment</dt><dd>${escapeHtml(session.kind)}</dd></dl>
<p class="amount">${escapeHtml(money(session.amountMinor, session.currency))}</p>
${buttons({ session: sessionId }, "Pay (test)")}`,
    );
  }
  const setupSession = url.searchParams.get("setup");
  if (setupSession) {
    const setup = await ctx.runQuery(internal.localCheckout.setupInfo, { sessionId: setupSession });
    if (setup === null) return page(404, "Unknown checkout", "<h1>Checkout not found</h1><p>This test card setup does not exist.</p>");
    if (setup.status !== "open") return page(409, "Closed", "<h1>This card setup is closed</h1><p>Start again from your plan page.</p>");
    const action = `${LOCAL_CHECKOUT_PATH}/complete`;
    const form = (outcome: string, label: string, cls: string) =>
      `<form method="post" action="${action}">${hidden({ setup: setupSession, outcome })}<button class="${cls}" type="submit">${escapeHtml(label)}</button></form>`;
    return page(
      200,
      "Save a card",
      `<h1>${escapeHtml(setup.businessName)}</h1>
<p>Save a card for your recurring plan. Each visit is charged on it once it is done; nothing is charged now.</p>
${form("save", `Save test card •••• ${LOCAL_TEST_CARDS.good.last4}`, "pay")}
${form("save_declining", `Save test card •••• ${LOCAL_TEST_CARDS.declining.last4} (charges will be declined)`, "fail")}`,
    );
  }

  const plan = url.searchParams.get("plan");
  if (plan) {
    const link = {
      plan,
      business: url.searchParams.get("business") ?? "",
      exp: url.searchParams.get("exp") ?? "",
      sig: url.searchParams.get("sig") ?? "",
    };
    if (!isPlan(plan) || !(await verifyLocalPlanLink(link, env.stripeWebhookSecret()))) {
      return page(403, "Invalid link", "<h1>Invalid or expired link</h1><p>Start the plan change again from the portal.</p>");
    }
    return page(
      200,
      "Test subscription",
      `<h1>${escapeHtml(PLAN_CATALOGUE[plan].name)} plan</h1>
<p class="amount">${escapeHtml(money(PLAN_CATALOGUE[plan].monthlyMinor, PLAN_CURRENCY))} / month</p>
${buttons(link, "Subscribe (test)")}`,
    );
  }
  return page(400, "Bad request", "<h1>Missing session</h1>");
});

async function deliver(events: StripeEventJson[]): Promise<Response | null> {
  const results = await postSignedEvents(`${siteUrl()}${STRIPE_WEBHOOK_PATH}`, env.stripeWebhookSecret(), events);
  const failed = results.find((r) => r.status < 200 || r.status >= 300);
  if (!failed) return null;
  return page(
    502,
    "Webhook refused",
    `<h1>The webhook refused the test event</h1><p>${escapeHtml(failed.type)} → HTTP ${failed.status}</p><pre>${escapeHtml(failed.body)}</pre>`,
  );
}

function redirect(location: string): Response {
  return new Response(null, { status: 303, headers: { location } });
}

export const completeCheckout = httpAction(async (ctx, request) => {
  if (isStripeConfigured()) return DISABLED();
  const form = new URLSearchParams(await request.text());
  const outcome = form.get("outcome");
  const portal = env.portalUrl();
  const nowSeconds = Math.floor(Date.now() / 1000);

  const setupSession = form.get("setup");
  if (setupSession) {
    if (outcome !== "save" && outcome !== "save_declining") return page(400, "Bad request", "<h1>outcome must be save or save_declining</h1>");
    const setup = await ctx.runQuery(internal.localCheckout.setupInfo, { sessionId: setupSession });
    if (setup === null) return page(404, "Unknown checkout", "<h1>Checkout not found</h1>");
    if (setup.status !== "open") return page(409, "Closed", "<h1>This card setup is closed</h1>");
    const card = outcome === "save" ? LOCAL_TEST_CARDS.good : LOCAL_TEST_CARDS.declining;
    const refused = await deliver(
      setupSucceededEvents(
        {
          sessionId: setupSession,
          setupIntentId: localId("seti"),
          paymentMethodId: localId("pm"),
          stripeCustomerId: setup.stripeCustomerId ?? localId("cus"),
          card: { ...card, expMonth: 12, expYear: new Date().getUTCFullYear() + 3 },
          metadata: { businessId: setup.businessId, seriesId: setup.seriesId, cardSetupId: setup.cardSetupId },
        },
        nowSeconds,
      ),
    );
    if (refused) return refused;
    return redirect(`${portal}/plans/${setup.seriesId}?card=saved`);
  }
  if (outcome !== "pay" && outcome !== "fail") return page(400, "Bad request", "<h1>outcome must be pay or fail</h1>");

  const sessionId = form.get("session");
  if (sessionId) {
    const session = await ctx.runQuery(internal.localCheckout.sessionInfo, { sessionId });
    if (session === null) return page(404, "Unknown checkout", "<h1>Checkout not found</h1>");
    if (session.refusal) return closedPage(session.refusal, session.bookingId);
    // One PaymentIntent per session, as in Stripe: a retry after a decline reuses it.
    const paymentIntentId = session.paymentIntentId ?? localId("pi");
    const facts = {
      sessionId,
      paymentIntentId,
      chargeId: `ch_${paymentIntentId.slice(3)}`,
      amountMinor: session.amountMinor,
      currency: session.currency,
      stripeCustomerId: session.stripeCustomerId ?? undefined,
      metadata: { businessId: session.businessId, bookingId: session.bookingId, paymentId: session.paymentId },
    };
    const events = outcome === "pay" ? paymentSucceededEvents(facts, nowSeconds) : [paymentFailedEvent(facts, nowSeconds, "Your card was declined. (test)")];
    const refused = await deliver(events);
    if (refused) return refused;
    return redirect(`${portal}/bookings/${session.bookingId}?payment=${outcome === "pay" ? "succeeded" : "failed"}`);
  }

  const plan = form.get("plan");
  if (plan) {
    const link = { plan, business: form.get("business") ?? "", exp: form.get("exp") ?? "", sig: form.get("sig") ?? "" };
    if (!isPlan(plan) || !(await verifyLocalPlanLink(link, env.stripeWebhookSecret()))) {
      return page(403, "Invalid link", "<h1>Invalid or expired link</h1>");
    }
    const businessId = await ctx.runQuery(internal.localCheckout.normalizeBusinessId, { businessId: link.business });
    if (businessId === null) return page(404, "Unknown business", "<h1>Business not found</h1>");
    const billing = await ctx.runQuery(internal.plans.billingForLocalCheckout, { businessId });
    if (billing === null) return page(404, "Unknown business", "<h1>Business not found</h1>");
    const refused = await deliver(planLocalEvents(billing, plan, outcome === "pay" ? "succeeded" : "failed"));
    if (refused) return refused;
    return redirect(`${portal}/settings/billing?plan=${plan}&result=${outcome === "pay" ? "succeeded" : "failed"}`);
  }
  return page(400, "Bad request", "<h1>Missing session</h1>");
});

export const normalizeBusinessId = internalQuery({
  args: { businessId: v.string() },
  returns: v.union(v.id("businesses"), v.null()),
  handler: async (ctx, args) => ctx.db.normalizeId("businesses", args.businessId),
});

export function registerLocalCheckoutRoutes(http: HttpRouter): void {
  http.route({ path: LOCAL_CHECKOUT_PATH, method: "GET", handler: checkoutPage });
  http.route({ path: `${LOCAL_CHECKOUT_PATH}/complete`, method: "POST", handler: completeCheckout });
}
