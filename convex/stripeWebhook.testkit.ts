/**
 * Helpers for the payments / refunds / plans / webhooks tests. Two dots: never deployed.
 *
 * Events are built in Stripe's format and signed with Stripe's own SDK
 * (`generateTestHeaderStringAsync`), then POSTed to the real HTTP route through `t.fetch`.
 * `routeFetch` stands in for the network: requests the functions make to our own site
 * (the local checkout and local refunds POST to /stripe/webhook) are routed to `t.fetch`,
 * anything else to a handler the test supplies (a partner's endpoint).
 */
import Stripe from "stripe";
import { vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import { ingestStripeWebhook } from "./stripeWebhook";
import { issueInvoice } from "./model/invoiceLines";
import { stripeEvent, type StripeEventJson } from "./model/stripeLocalEvents";
import type { TestConvex } from "./test.setup";
import { aBooking, aBusinessScenario } from "./test.builders";

export const WEBHOOK_SECRET = "whsec_test_secret";

export async function signedHeader(payload: string, opts: { secret?: string; timestamp?: number } = {}) {
  return await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret: opts.secret ?? WEBHOOK_SECRET,
    timestamp: opts.timestamp ?? Math.floor(Date.now() / 1000),
    cryptoProvider: Stripe.createSubtleCryptoProvider(),
  });
}

export async function postEvent(
  t: TestConvex,
  event: StripeEventJson | Record<string, unknown>,
  opts: { secret?: string; timestamp?: number; header?: string | null; body?: string } = {},
) {
  const body = opts.body ?? JSON.stringify(event);
  const header = opts.header === undefined ? await signedHeader(body, opts) : opts.header;
  const headers: Record<string, string> = { "content-type": "application/json" };
  if (header !== null) headers["stripe-signature"] = header;
  const response = await t.fetch("/stripe/webhook", { method: "POST", headers, body });
  return { status: response.status, json: (await response.json()) as Record<string, unknown> };
}

/** The ingestion pipeline without the HTTP layer (signature check included), for bulk replays. */
export async function ingestDirect(t: TestConvex, event: StripeEventJson | Record<string, unknown>) {
  const body = JSON.stringify(event);
  return await ingestStripeWebhook(
    (args) => t.mutation(internal.stripeWebhook.processEvent, args),
    body,
    await signedHeader(body),
    WEBHOOK_SECRET,
  );
}

/** `payments.startCheckout` as `as`; the local test checkout's page path and session id. */
export async function startLocalCheckout(as: ReturnType<TestConvex["withIdentity"]>, bookingId: Id<"bookings">) {
  const result = await as.action(api.payments.startCheckout, { bookingId });
  const url = new URL(result.url);
  return { ...result, path: url.pathname + url.search, session: url.searchParams.get("session")! };
}

/** Presses Pay or Fail on the local test checkout (the form POST), without following the redirect. */
export async function pressLocalCheckout(t: TestConvex, session: string, outcome: "pay" | "fail") {
  return await t.fetch("/local-checkout/complete", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ session, outcome }).toString(),
    redirect: "manual",
  });
}

export type PartnerHandler = (url: string, init: RequestInit) => Promise<Response> | Response;

/** Routes our own site's URLs to `t.fetch`; everything else to `partner` (or refuses). */
export function routeFetch(t: TestConvex, partner?: PartnerHandler) {
  const original = globalThis.fetch;
  const stub = vi.fn(async (input: string | URL | Request, init: RequestInit = {}) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
    const parsed = new URL(url);
    if (parsed.origin === "http://127.0.0.1:3211" && (parsed.pathname === "/stripe/webhook" || parsed.pathname.startsWith("/local-checkout"))) {
      return await t.fetch(parsed.pathname + parsed.search, init);
    }
    if (partner) return await partner(url, init);
    throw new Error(`unexpected fetch ${url}`);
  });
  globalThis.fetch = stub as typeof fetch;
  return { stub, restore: () => (globalThis.fetch = original) };
}

/**
 * A PENDING_PAYMENT booking with its invoice ($100 total; deposit `depositBp` of it, default
 * 30 %), starting `startInHours` from now.
 */
export async function paymentScenario(t: TestConvex, opts: { depositBp?: number; startInHours?: number; totalMinor?: number } = {}) {
  const s = await aBusinessScenario(t, {
    policies: {
      booking: { depositBp: opts.depositBp ?? 3_000 },
      cancellation: { freeUntilHours: 24, lateFeeFlatMinor: 0, lateFeePercentBp: 5_000 },
    },
  });
  const { bookingId } = await aBooking(t, {
    businessId: s.businessId,
    customerId: s.customer.customerId,
    zoneId: s.zoneId,
    industryId: s.catalogue.industryId,
    status: "PENDING_PAYMENT",
    start: Date.now() + (opts.startInHours ?? 72) * 3_600_000,
    totalMinor: opts.totalMinor ?? 10_000,
  });
  const invoice = await t.run(async (ctx) => {
    const booking = (await ctx.db.get("bookings", bookingId))!;
    const business = (await ctx.db.get("businesses", s.businessId))!;
    return await issueInvoice(ctx, booking, business, Date.now());
  });
  return { ...s, bookingId, invoiceId: invoice._id, invoice };
}

export type PaymentScenario = Awaited<ReturnType<typeof paymentScenario>>;

/** A payment row as `startCheckout` leaves it, written directly (no action round trip). */
export async function aPendingPayment(
  t: TestConvex,
  s: PaymentScenario,
  opts: { amountMinor?: number; kind?: Doc<"payments">["kind"]; paymentIntentId?: string; provider?: "stripe" | "local_test" } = {},
): Promise<Id<"payments">> {
  return await t.run((ctx) =>
    ctx.db.insert("payments", {
      businessId: s.businessId,
      invoiceId: s.invoiceId,
      bookingId: s.bookingId,
      customerId: s.customer.customerId,
      kind: opts.kind ?? "deposit",
      amountMinor: opts.amountMinor ?? s.invoice.depositMinor,
      currency: "USD",
      status: "requires_payment",
      provider: opts.provider ?? "stripe",
      ...(opts.paymentIntentId ? { stripePaymentIntentId: opts.paymentIntentId } : {}),
      createdAt: Date.now(),
      updatedAt: Date.now(),
    }),
  );
}

let seq = 0;
export function uid(prefix: string) {
  seq += 1;
  return `${prefix}_test${seq}${Math.random().toString(36).slice(2, 8)}`;
}

/** A Stripe event with a fresh id, `created` given in seconds. */
export function anEvent(type: string, object: Record<string, unknown>, created = Math.floor(Date.now() / 1000)) {
  return { ...stripeEvent(type, object, created), id: uid("evt") };
}

export function aPaymentIntent(opts: {
  id: string;
  amount: number;
  paymentId?: string;
  status?: string;
  failure?: string;
}) {
  return {
    id: opts.id,
    object: "payment_intent",
    amount: opts.amount,
    amount_received: opts.status === "succeeded" ? opts.amount : 0,
    currency: "usd",
    customer: null,
    status: opts.status ?? "succeeded",
    metadata: opts.paymentId ? { paymentId: opts.paymentId } : {},
    last_payment_error: opts.failure ? { message: opts.failure, code: "card_declined" } : null,
  };
}

export function aCharge(opts: {
  paymentIntentId: string;
  amount: number;
  amountRefunded: number;
  paymentId?: string;
  refunds?: { id: string; amount: number; refundId?: string }[];
}) {
  return {
    id: `ch_${opts.paymentIntentId.slice(3)}`,
    object: "charge",
    amount: opts.amount,
    amount_refunded: opts.amountRefunded,
    currency: "usd",
    payment_intent: opts.paymentIntentId,
    metadata: opts.paymentId ? { paymentId: opts.paymentId } : {},
    refunds: opts.refunds
      ? {
          object: "list",
          data: opts.refunds.map((r) => ({ id: r.id, object: "refund", amount: r.amount, status: "succeeded", metadata: r.refundId ? { refundId: r.refundId } : {} })),
        }
      : undefined,
  };
}

export function aSubscription(opts: { id: string; customer: string; status: string; plan?: string; businessId?: string }) {
  return {
    id: opts.id,
    object: "subscription",
    customer: opts.customer,
    status: opts.status,
    metadata: { ...(opts.businessId ? { businessId: opts.businessId } : {}), ...(opts.plan ? { plan: opts.plan } : {}) },
    items: { object: "list", data: [{ id: `si_${opts.id}`, current_period_end: 1_900_000_000, price: { lookup_key: opts.plan ? `plan_${opts.plan}` : null, metadata: {} } }] },
  };
}

export async function errorOf(promise: Promise<unknown>): Promise<{ code?: string; param?: string; message?: string } | null> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (error === null) return null;
  const data = (error as { data?: { code?: string; param?: string } }).data;
  return data ?? { message: String(error) };
}
