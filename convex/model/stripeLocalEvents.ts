/**
 * Real-format Stripe events for the offline default (no STRIPE_SECRET_KEY): the local test
 * checkout page, local refunds and local plan changes build these, sign them with the local
 * STRIPE_WEBHOOK_SECRET through Stripe's SDK and POST them to our own /stripe/webhook, so the
 * exact ingestion path that serves Stripe also serves the offline mode. The shapes follow
 * Stripe's API objects (only the fields a real event always carries plus what we read).
 *
 * Ids are random like Stripe's (`evt_…`, `pi_…`) and carry a `_local` marker so they can never
 * be mistaken for live objects.
 */
import { signStripePayload } from "./stripeSignature";

export const LOCAL_API_VERSION = "2026-10-28.endive";

export function localId(prefix: string): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  const body = Array.from(bytes, (b) => b.toString(36).padStart(2, "0")).join("").slice(0, 24);
  return `${prefix}_local${body}`;
}

export type StripeEventJson = {
  id: string;
  object: "event";
  api_version: string;
  created: number;
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
  data: { object: Record<string, unknown>; previous_attributes?: Record<string, unknown> };
};

export function stripeEvent(type: string, object: Record<string, unknown>, createdSeconds: number): StripeEventJson {
  return {
    id: localId("evt"),
    object: "event",
    api_version: LOCAL_API_VERSION,
    created: createdSeconds,
    livemode: false,
    pending_webhooks: 1,
    request: { id: null, idempotency_key: null },
    type,
    data: { object },
  };
}

export type LocalPaymentFacts = {
  sessionId: string;
  paymentIntentId: string;
  chargeId: string;
  amountMinor: number;
  currency: string;
  stripeCustomerId?: string;
  metadata: Record<string, string>;
};

function paymentIntent(f: LocalPaymentFacts, status: string, created: number, extra: Record<string, unknown> = {}) {
  return {
    id: f.paymentIntentId,
    object: "payment_intent",
    amount: f.amountMinor,
    amount_received: status === "succeeded" ? f.amountMinor : 0,
    currency: f.currency.toLowerCase(),
    customer: f.stripeCustomerId ?? null,
    created,
    livemode: false,
    status,
    latest_charge: status === "succeeded" ? f.chargeId : null,
    metadata: f.metadata,
    last_payment_error: null,
    payment_method_types: ["card"],
    ...extra,
  };
}

/** checkout.session.completed + payment_intent.succeeded, as Stripe sends for a paid session. */
export function paymentSucceededEvents(f: LocalPaymentFacts, createdSeconds: number): StripeEventJson[] {
  const session = {
    id: f.sessionId,
    object: "checkout.session",
    mode: "payment",
    status: "complete",
    payment_status: "paid",
    payment_intent: f.paymentIntentId,
    customer: f.stripeCustomerId ?? null,
    subscription: null,
    amount_total: f.amountMinor,
    amount_subtotal: f.amountMinor,
    currency: f.currency.toLowerCase(),
    livemode: false,
    metadata: f.metadata,
    url: null,
    created: createdSeconds,
  };
  return [
    stripeEvent("checkout.session.completed", session, createdSeconds),
    stripeEvent("payment_intent.succeeded", paymentIntent(f, "succeeded", createdSeconds), createdSeconds),
  ];
}

export function paymentFailedEvent(f: LocalPaymentFacts, createdSeconds: number, message: string): StripeEventJson {
  return stripeEvent(
    "payment_intent.payment_failed",
    paymentIntent(f, "requires_payment_method", createdSeconds, {
      last_payment_error: { type: "card_error", code: "card_declined", decline_code: "generic_decline", message },
    }),
    createdSeconds,
  );
}

/**
 * What Stripe sends for an off-session PaymentIntent confirmed at creation on a saved card
 * (`off_session: true, confirm: true`): `payment_intent.succeeded`, or
 * `payment_intent.payment_failed` with the decline in `last_payment_error`.
 */
export function offSessionPaymentEvent(
  f: Omit<LocalPaymentFacts, "sessionId"> & { paymentMethodId: string },
  outcome: "succeeded" | "failed",
  createdSeconds: number,
): StripeEventJson {
  const facts = { ...f, sessionId: "" };
  const extra = { payment_method: f.paymentMethodId, confirmation_method: "automatic", setup_future_usage: null };
  if (outcome === "succeeded") return stripeEvent("payment_intent.succeeded", paymentIntent(facts, "succeeded", createdSeconds, extra), createdSeconds);
  return stripeEvent(
    "payment_intent.payment_failed",
    paymentIntent(facts, "requires_payment_method", createdSeconds, {
      ...extra,
      last_payment_error: {
        type: "card_error",
        code: "card_declined",
        decline_code: "generic_decline",
        message: "Your card was declined. (test card 0341)",
        payment_method: { id: f.paymentMethodId, object: "payment_method" },
      },
    }),
    createdSeconds,
  );
}

/**
 * What Stripe sends when a Checkout Session in setup mode completes: checkout.session.completed
 * and setup_intent.succeeded (its PaymentMethod expanded here, so the card's brand and last 4
 * are known offline).
 */
export function setupSucceededEvents(
  f: {
    sessionId: string;
    setupIntentId: string;
    paymentMethodId: string;
    stripeCustomerId: string;
    card: { brand: string; last4: string; expMonth: number; expYear: number };
    metadata: Record<string, string>;
  },
  createdSeconds: number,
): StripeEventJson[] {
  const session = {
    id: f.sessionId,
    object: "checkout.session",
    mode: "setup",
    status: "complete",
    payment_status: "no_payment_required",
    payment_intent: null,
    setup_intent: f.setupIntentId,
    customer: f.stripeCustomerId,
    subscription: null,
    amount_total: null,
    currency: null,
    livemode: false,
    metadata: f.metadata,
    url: null,
    created: createdSeconds,
  };
  const setupIntent = {
    id: f.setupIntentId,
    object: "setup_intent",
    status: "succeeded",
    usage: "off_session",
    customer: f.stripeCustomerId,
    livemode: false,
    created: createdSeconds,
    metadata: f.metadata,
    payment_method: {
      id: f.paymentMethodId,
      object: "payment_method",
      type: "card",
      customer: f.stripeCustomerId,
      card: { brand: f.card.brand, last4: f.card.last4, exp_month: f.card.expMonth, exp_year: f.card.expYear, funding: "credit", country: "US" },
    },
    payment_method_types: ["card"],
  };
  return [stripeEvent("checkout.session.completed", session, createdSeconds), stripeEvent("setup_intent.succeeded", setupIntent, createdSeconds)];
}

export type LocalRefundFacts = {
  chargeId: string;
  paymentIntentId: string;
  currency: string;
  amountCaptured: number;
  /** Cumulative amount refunded on the charge after this refund. */
  amountRefunded: number;
  refund: { id: string; amount: number; metadata: Record<string, string> };
  metadata: Record<string, string>;
};

function refundObject(f: LocalRefundFacts, createdSeconds: number) {
  return {
    id: f.refund.id,
    object: "refund",
    amount: f.refund.amount,
    balance_transaction: null,
    charge: f.chargeId,
    created: createdSeconds,
    currency: f.currency.toLowerCase(),
    destination_details: { type: "card", card: { type: "refund", reference_status: "pending", reference_type: "acquirer_reference_number" } },
    metadata: f.refund.metadata,
    payment_intent: f.paymentIntentId,
    reason: "requested_by_customer",
    receipt_number: null,
    source_transfer_reversal: null,
    status: "succeeded",
    transfer_reversal: null,
  };
}

/**
 * What Stripe sends for a card refund that succeeds at once: `refund.created` (the refund,
 * with the metadata it was created with) and `charge.refunded` (the charge with its
 * cumulative `amount_refunded`; since API version 2022-11-15 a charge no longer embeds its
 * refunds list).
 */
export function refundEvents(f: LocalRefundFacts, createdSeconds: number): StripeEventJson[] {
  const charge = {
    id: f.chargeId,
    object: "charge",
    amount: f.amountCaptured,
    amount_captured: f.amountCaptured,
    amount_refunded: f.amountRefunded,
    refunded: f.amountRefunded >= f.amountCaptured,
    captured: true,
    paid: true,
    status: "succeeded",
    currency: f.currency.toLowerCase(),
    payment_intent: f.paymentIntentId,
    livemode: false,
    metadata: f.metadata,
    created: createdSeconds,
  };
  return [stripeEvent("refund.created", refundObject(f, createdSeconds), createdSeconds), stripeEvent("charge.refunded", charge, createdSeconds)];
}

export type LocalSubscriptionFacts = {
  subscriptionId: string;
  stripeCustomerId: string;
  status: string;
  plan: string;
  unitAmountMinor: number;
  currency: string;
  currentPeriodEndSeconds: number;
  metadata: Record<string, string>;
};

export function subscriptionEvent(
  action: "created" | "updated" | "deleted",
  f: LocalSubscriptionFacts,
  createdSeconds: number,
): StripeEventJson {
  const subscription = {
    id: f.subscriptionId,
    object: "subscription",
    customer: f.stripeCustomerId,
    status: f.status,
    currency: f.currency.toLowerCase(),
    livemode: false,
    created: createdSeconds,
    cancel_at_period_end: false,
    canceled_at: action === "deleted" ? createdSeconds : null,
    ended_at: action === "deleted" ? createdSeconds : null,
    metadata: f.metadata,
    items: {
      object: "list",
      data: [
        {
          id: `si_${f.subscriptionId.slice(4)}`,
          object: "subscription_item",
          current_period_end: f.currentPeriodEndSeconds,
          current_period_start: f.currentPeriodEndSeconds - 30 * 86_400,
          quantity: 1,
          price: {
            id: `price_local_${f.plan}`,
            object: "price",
            lookup_key: `plan_${f.plan}`,
            unit_amount: f.unitAmountMinor,
            currency: f.currency.toLowerCase(),
            recurring: { interval: "month", interval_count: 1 },
            metadata: { plan: f.plan },
          },
        },
      ],
      has_more: false,
    },
  };
  return stripeEvent(`customer.subscription.${action}`, subscription, createdSeconds);
}

export function subscriptionCheckoutCompletedEvent(
  f: { sessionId: string; subscriptionId: string; stripeCustomerId: string; amountMinor: number; currency: string; metadata: Record<string, string> },
  createdSeconds: number,
): StripeEventJson {
  return stripeEvent(
    "checkout.session.completed",
    {
      id: f.sessionId,
      object: "checkout.session",
      mode: "subscription",
      status: "complete",
      payment_status: "paid",
      payment_intent: null,
      customer: f.stripeCustomerId,
      subscription: f.subscriptionId,
      amount_total: f.amountMinor,
      currency: f.currency.toLowerCase(),
      livemode: false,
      metadata: f.metadata,
      created: createdSeconds,
    },
    createdSeconds,
  );
}

export function subscriptionInvoiceEvent(
  action: "paid" | "payment_failed",
  f: { subscriptionId: string; stripeCustomerId: string; amountMinor: number; currency: string; metadata: Record<string, string> },
  createdSeconds: number,
): StripeEventJson {
  const paid = action === "paid";
  return stripeEvent(
    `invoice.${action}`,
    {
      id: localId("in"),
      object: "invoice",
      customer: f.stripeCustomerId,
      status: paid ? "paid" : "open",
      amount_due: f.amountMinor,
      amount_paid: paid ? f.amountMinor : 0,
      amount_remaining: paid ? 0 : f.amountMinor,
      currency: f.currency.toLowerCase(),
      livemode: false,
      created: createdSeconds,
      metadata: {},
      parent: {
        type: "subscription_details",
        subscription_details: { subscription: f.subscriptionId, metadata: f.metadata },
      },
    },
    createdSeconds,
  );
}

export type PostResult = { eventId: string; type: string; status: number; body: string };

/**
 * Signs each event with the webhook secret through Stripe's SDK and POSTs it to `url`, in
 * order. Returns every response; the caller decides what a non-2xx means for it.
 */
export async function postSignedEvents(url: string, secret: string, events: StripeEventJson[]): Promise<PostResult[]> {
  const results: PostResult[] = [];
  for (const event of events) {
    const payload = JSON.stringify(event, null, 2);
    const signature = await signStripePayload(payload, secret);
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "stripe-signature": signature },
      body: payload,
    });
    results.push({ eventId: event.id, type: event.type, status: response.status, body: (await response.text()).slice(0, 1024) });
  }
  return results;
}
