/**
 * Stripe events, reduced to the few facts the platform acts on.
 *
 * The HTTP action verifies the signature, then `normalizeStripeEvent` turns the verified
 * event into one `StripeEffect` (or `null` for types we do not handle). Only the effect
 * crosses into the internal mutation, whose `args` validator (`vStripeEffect`) checks it
 * again, so the transaction never looks at an untyped Stripe payload.
 *
 * Field paths follow Stripe's current API (subscription periods on the items, an invoice's
 * subscription under `parent.subscription_details`) and fall back to the older places.
 */
import { v, type Infer } from "convex/values";
import { z } from "zod";

export const HANDLED_EVENT_TYPES = [
  "checkout.session.completed",
  "setup_intent.succeeded",
  "payment_intent.succeeded",
  "payment_intent.payment_failed",
  "charge.refunded",
  "refund.created",
  "refund.updated",
  "refund.failed",
  "customer.subscription.created",
  "customer.subscription.updated",
  "customer.subscription.deleted",
  "invoice.paid",
  "invoice.payment_failed",
] as const;
export type HandledEventType = (typeof HANDLED_EVENT_TYPES)[number];

export function isHandledEventType(type: string): type is HandledEventType {
  return (HANDLED_EVENT_TYPES as readonly string[]).includes(type);
}

const optStr = v.optional(v.string());

export const vStripeEffect = v.union(
  v.object({
    kind: v.literal("checkout_completed"),
    sessionId: v.string(),
    mode: v.union(v.literal("payment"), v.literal("subscription"), v.literal("setup")),
    /** "paid" | "unpaid" | "no_payment_required" */
    paymentStatus: v.string(),
    paymentId: optStr,
    businessId: optStr,
    paymentIntentId: optStr,
    stripeCustomerId: optStr,
    subscriptionId: optStr,
    amountTotal: v.optional(v.number()),
    currency: optStr,
  }),
  v.object({
    /** A card saved for off-session charges (a recurring plan's, model/planBilling.ts). */
    kind: v.literal("setup_succeeded"),
    setupIntentId: v.string(),
    paymentMethodId: v.string(),
    stripeCustomerId: optStr,
    /** Our `planCardSetups` row, from the SetupIntent's metadata. */
    cardSetupId: optStr,
    seriesId: optStr,
    card: v.optional(
      v.object({ brand: optStr, last4: optStr, expMonth: v.optional(v.number()), expYear: v.optional(v.number()) }),
    ),
  }),
  v.object({
    kind: v.literal("payment_succeeded"),
    paymentIntentId: v.string(),
    paymentId: optStr,
    amountReceived: v.number(),
    currency: v.string(),
    stripeCustomerId: optStr,
  }),
  v.object({
    kind: v.literal("payment_failed"),
    paymentIntentId: v.string(),
    paymentId: optStr,
    reason: optStr,
  }),
  v.object({
    kind: v.literal("charge_refunded"),
    chargeId: v.string(),
    paymentIntentId: optStr,
    paymentId: optStr,
    /** What the charge captured: a refunded charge proves the payment succeeded. */
    amountCaptured: v.number(),
    /** Cumulative amount refunded on the charge: order-independent by construction. */
    amountRefunded: v.number(),
    currency: v.string(),
    refunds: v.array(v.object({ id: v.string(), amount: v.number(), status: v.string(), refundId: optStr })),
  }),
  v.object({
    kind: v.literal("refund"),
    stripeRefundId: v.string(),
    /** pending | requires_action | succeeded | failed | canceled */
    status: v.string(),
    amount: v.number(),
    currency: v.string(),
    paymentIntentId: optStr,
    chargeId: optStr,
    /** Our refund row, from the metadata `refunds.submit` puts on every refund it creates. */
    refundId: optStr,
    paymentId: optStr,
    failureReason: optStr,
  }),
  v.object({
    kind: v.literal("subscription"),
    action: v.union(v.literal("created"), v.literal("updated"), v.literal("deleted")),
    subscriptionId: v.string(),
    stripeCustomerId: v.string(),
    status: v.string(),
    businessId: optStr,
    plan: optStr,
    currentPeriodEnd: v.optional(v.number()),
  }),
  v.object({
    kind: v.literal("subscription_invoice"),
    action: v.union(v.literal("paid"), v.literal("payment_failed")),
    invoiceId: v.string(),
    subscriptionId: optStr,
    stripeCustomerId: optStr,
    businessId: optStr,
    amountPaid: v.number(),
    amountDue: v.number(),
    currency: v.string(),
  }),
);
export type StripeEffect = Infer<typeof vStripeEffect>;

/** A verified event whose payload does not have the shape its type promises. */
export class MalformedStripeEvent extends Error {
  constructor(message: string) {
    super(message);
    this.name = "MalformedStripeEvent";
  }
}

const idOrObject = z.union([z.string(), z.object({ id: z.string() }).passthrough()]).nullish();
const idOf = (value: z.infer<typeof idOrObject>): string | undefined =>
  value == null ? undefined : typeof value === "string" ? value : value.id;
const metadata = z.record(z.string(), z.string()).nullish();
const meta = (m: z.infer<typeof metadata>, key: string): string | undefined => {
  const value = m?.[key];
  return value === undefined || value === "" ? undefined : value;
};

const zEnvelope = z.object({
  id: z.string().min(1),
  object: z.literal("event"),
  type: z.string().min(1),
  created: z.number().int(),
  data: z.object({ object: z.record(z.string(), z.unknown()) }),
});

const zCheckoutSession = z.object({
  id: z.string(),
  mode: z.enum(["payment", "subscription", "setup"]),
  payment_status: z.string(),
  payment_intent: idOrObject,
  customer: idOrObject,
  subscription: idOrObject,
  amount_total: z.number().int().nullish(),
  currency: z.string().nullish(),
  metadata,
});

const zPaymentIntent = z.object({
  id: z.string(),
  amount: z.number().int(),
  amount_received: z.number().int().nullish(),
  currency: z.string(),
  customer: idOrObject,
  metadata,
  last_payment_error: z.object({ message: z.string().nullish(), code: z.string().nullish() }).passthrough().nullish(),
});

/** A SetupIntent; `payment_method` is an id, or the PaymentMethod when expanded (then its card is read). */
const zSetupIntent = z.object({
  id: z.string(),
  status: z.string(),
  customer: idOrObject,
  metadata,
  payment_method: z.union([
    z.string(),
    z
      .object({
        id: z.string(),
        card: z
          .object({ brand: z.string().nullish(), last4: z.string().nullish(), exp_month: z.number().int().nullish(), exp_year: z.number().int().nullish() })
          .passthrough()
          .nullish(),
      })
      .passthrough(),
  ]),
});

const zCharge = z.object({
  id: z.string(),
  amount: z.number().int(),
  amount_captured: z.number().int().nullish(),
  payment_intent: idOrObject,
  amount_refunded: z.number().int(),
  currency: z.string(),
  metadata,
  refunds: z
    .object({
      data: z.array(
        z.object({ id: z.string(), amount: z.number().int(), status: z.string().nullish(), metadata }).passthrough(),
      ),
    })
    .passthrough()
    .nullish(),
});

const zRefund = z.object({
  id: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  status: z.string().nullish(),
  charge: idOrObject,
  payment_intent: idOrObject,
  failure_reason: z.string().nullish(),
  metadata,
});

const zPrice = z
  .object({ lookup_key: z.string().nullish(), metadata })
  .passthrough()
  .nullish();
const zSubscription = z.object({
  id: z.string(),
  customer: idOrObject,
  status: z.string(),
  metadata,
  current_period_end: z.number().int().nullish(),
  items: z
    .object({
      data: z.array(z.object({ current_period_end: z.number().int().nullish(), price: zPrice }).passthrough()),
    })
    .passthrough()
    .nullish(),
});

const zInvoice = z.object({
  id: z.string(),
  customer: idOrObject,
  subscription: idOrObject,
  amount_paid: z.number().int(),
  amount_due: z.number().int(),
  currency: z.string(),
  metadata,
  parent: z
    .object({
      subscription_details: z.object({ subscription: idOrObject, metadata }).passthrough().nullish(),
    })
    .passthrough()
    .nullish(),
});

function parse<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const result = schema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    throw new MalformedStripeEvent(`${what}: ${issue?.path.join(".") || "(root)"} ${issue?.message ?? "is invalid"}`);
  }
  return result.data;
}

/** The plan named by a subscription: its metadata, else the first price's lookup key / metadata. */
function planOf(sub: z.infer<typeof zSubscription>): string | undefined {
  const fromMeta = meta(sub.metadata, "plan");
  if (fromMeta) return fromMeta;
  const price = sub.items?.data[0]?.price;
  const lookup = price?.lookup_key ?? undefined;
  if (lookup) return lookup.replace(/^plan_/, "");
  return meta(price?.metadata, "plan");
}

export type NormalizedEvent = { id: string; type: string; created: number; effect: StripeEffect | null };

/**
 * Parses a verified event. Returns `effect: null` for types the platform does not handle;
 * throws `MalformedStripeEvent` when a handled type lacks the fields it needs.
 */
export function normalizeStripeEvent(raw: unknown): NormalizedEvent {
  const event = parse(zEnvelope, raw, "event");
  const base = { id: event.id, type: event.type, created: event.created };
  const object = event.data.object;
  if (!isHandledEventType(event.type)) return { ...base, effect: null };
  switch (event.type) {
    case "checkout.session.completed": {
      const s = parse(zCheckoutSession, object, event.type);
      return {
        ...base,
        effect: {
          kind: "checkout_completed",
          sessionId: s.id,
          mode: s.mode,
          paymentStatus: s.payment_status,
          paymentId: meta(s.metadata, "paymentId"),
          businessId: meta(s.metadata, "businessId"),
          paymentIntentId: idOf(s.payment_intent),
          stripeCustomerId: idOf(s.customer),
          subscriptionId: idOf(s.subscription),
          amountTotal: s.amount_total ?? undefined,
          currency: s.currency ?? undefined,
        },
      };
    }
    case "setup_intent.succeeded": {
      const si = parse(zSetupIntent, object, event.type);
      const method = typeof si.payment_method === "string" ? { id: si.payment_method, card: null } : si.payment_method;
      const card = method.card;
      return {
        ...base,
        effect: {
          kind: "setup_succeeded",
          setupIntentId: si.id,
          paymentMethodId: method.id,
          stripeCustomerId: idOf(si.customer),
          cardSetupId: meta(si.metadata, "cardSetupId"),
          seriesId: meta(si.metadata, "seriesId"),
          ...(card
            ? {
                card: {
                  brand: card.brand ?? undefined,
                  last4: card.last4 ?? undefined,
                  expMonth: card.exp_month ?? undefined,
                  expYear: card.exp_year ?? undefined,
                },
              }
            : {}),
        },
      };
    }
    case "payment_intent.succeeded": {
      const pi = parse(zPaymentIntent, object, event.type);
      return {
        ...base,
        effect: {
          kind: "payment_succeeded",
          paymentIntentId: pi.id,
          paymentId: meta(pi.metadata, "paymentId"),
          amountReceived: pi.amount_received ?? pi.amount,
          currency: pi.currency,
          stripeCustomerId: idOf(pi.customer),
        },
      };
    }
    case "payment_intent.payment_failed": {
      const pi = parse(zPaymentIntent, object, event.type);
      return {
        ...base,
        effect: {
          kind: "payment_failed",
          paymentIntentId: pi.id,
          paymentId: meta(pi.metadata, "paymentId"),
          reason: pi.last_payment_error?.message ?? pi.last_payment_error?.code ?? undefined,
        },
      };
    }
    case "charge.refunded": {
      const c = parse(zCharge, object, event.type);
      return {
        ...base,
        effect: {
          kind: "charge_refunded",
          chargeId: c.id,
          paymentIntentId: idOf(c.payment_intent),
          paymentId: meta(c.metadata, "paymentId"),
          amountCaptured: c.amount_captured ?? c.amount,
          amountRefunded: c.amount_refunded,
          currency: c.currency,
          refunds: (c.refunds?.data ?? []).map((r) => ({
            id: r.id,
            amount: r.amount,
            status: r.status ?? "succeeded",
            refundId: meta(r.metadata, "refundId"),
          })),
        },
      };
    }
    case "refund.created":
    case "refund.updated":
    case "refund.failed": {
      const r = parse(zRefund, object, event.type);
      return {
        ...base,
        effect: {
          kind: "refund",
          stripeRefundId: r.id,
          // refund.failed always reports a failed refund, whatever an older payload says.
          status: event.type === "refund.failed" ? "failed" : (r.status ?? "pending"),
          amount: r.amount,
          currency: r.currency,
          paymentIntentId: idOf(r.payment_intent),
          chargeId: idOf(r.charge),
          refundId: meta(r.metadata, "refundId"),
          paymentId: meta(r.metadata, "paymentId"),
          failureReason: r.failure_reason ?? undefined,
        },
      };
    }
    case "customer.subscription.created":
    case "customer.subscription.updated":
    case "customer.subscription.deleted": {
      const sub = parse(zSubscription, object, event.type);
      const customer = idOf(sub.customer);
      if (customer === undefined) throw new MalformedStripeEvent(`${event.type}: customer is missing`);
      const periodEnd = sub.items?.data[0]?.current_period_end ?? sub.current_period_end ?? undefined;
      return {
        ...base,
        effect: {
          kind: "subscription",
          action: event.type.slice("customer.subscription.".length) as "created" | "updated" | "deleted",
          subscriptionId: sub.id,
          stripeCustomerId: customer,
          status: sub.status,
          businessId: meta(sub.metadata, "businessId"),
          plan: planOf(sub),
          currentPeriodEnd: periodEnd === undefined ? undefined : periodEnd * 1000,
        },
      };
    }
    case "invoice.paid":
    case "invoice.payment_failed": {
      const inv = parse(zInvoice, object, event.type);
      const details = inv.parent?.subscription_details;
      return {
        ...base,
        effect: {
          kind: "subscription_invoice",
          action: event.type === "invoice.paid" ? "paid" : "payment_failed",
          invoiceId: inv.id,
          subscriptionId: idOf(details?.subscription) ?? idOf(inv.subscription),
          stripeCustomerId: idOf(inv.customer),
          businessId: meta(details?.metadata, "businessId") ?? meta(inv.metadata, "businessId"),
          amountPaid: inv.amount_paid,
          amountDue: inv.amount_due,
          currency: inv.currency,
        },
      };
    }
  }
}
