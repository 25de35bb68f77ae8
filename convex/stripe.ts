/**
 * The Stripe API client. Created only inside actions (never in queries or mutations, which
 * cannot do network I/O) and only when STRIPE_SECRET_KEY is set; without it the platform
 * runs on the local test provider (`localCheckout.ts`).
 *
 * The client uses the fetch HTTP client and SubtleCrypto, so it runs in Convex's default
 * runtime without "use node".
 */
import Stripe from "stripe";
import { env } from "./env";

export type StripeClient = Stripe;

export function stripeClient(): Stripe | null {
  const key = env.stripeSecretKey();
  if (key === undefined) return null;
  return new Stripe(key, {
    httpClient: Stripe.createFetchHttpClient(),
    maxNetworkRetries: 2,
    appInfo: { name: "booking-platform" },
  });
}

export function isStripeConfigured(): boolean {
  return env.stripeSecretKey() !== undefined;
}

/**
 * Origin of this deployment's HTTP actions (Convex sets CONVEX_SITE_URL; the local backend
 * sets it to http://127.0.0.1:3211). Read here because env.ts does not list it yet.
 */
export function siteUrl(): string {
  // eslint-disable-next-line @convex-dev/no-process-env -- built-in CONVEX_SITE_URL; env.ts has no reader for it yet (requested)
  const value = typeof process === "undefined" ? undefined : process.env.CONVEX_SITE_URL;
  return (value && value.trim() !== "" ? value.trim() : "http://127.0.0.1:3211").replace(/\/+$/, "");
}

/** Stripe wants lower-case ISO currency codes. */
export function stripeCurrency(currency: string): string {
  return currency.toLowerCase();
}

/**
 * The Stripe customer for one of our customers, created once (the idempotency key is our
 * customer id, so a retry or a second caller gets the same one).
 */
export async function createStripeCustomer(
  stripe: Stripe,
  customer: { customerId: string; name: string; email: string | null },
  businessId: string,
): Promise<string> {
  const created = await stripe.customers.create(
    {
      name: customer.name,
      ...(customer.email ? { email: customer.email } : {}),
      metadata: { customerId: customer.customerId, businessId },
    },
    { idempotencyKey: `customer_${customer.customerId}` },
  );
  return created.id;
}
