/**
 * Stripe webhook signatures through Stripe's own SDK: verification for ingestion, signing for
 * the offline test checkout, local refunds, scripts and tests. SubtleCrypto only, so this
 * runs in Convex's default runtime (HTTP actions), in Node and in the edge runtime alike.
 */
import Stripe from "stripe";

/** Seconds an event's signature timestamp may lag behind our clock (Stripe's default). */
export const STRIPE_SIGNATURE_TOLERANCE_SECONDS = 300;

const cryptoProvider = Stripe.createSubtleCryptoProvider();

export type VerifyResult = { ok: true; event: unknown } | { ok: false; message: string };

/**
 * Verifies `stripe-signature` over the raw body (never a re-serialized object) and returns
 * the parsed event, or a message that says what was wrong.
 */
export async function verifyStripeSignature(
  rawBody: string,
  header: string | null,
  secret: string,
  nowMs: number = Date.now(),
): Promise<VerifyResult> {
  if (header === null || header.trim() === "") return { ok: false, message: "Missing Stripe-Signature header." };
  try {
    const event = await Stripe.webhooks.constructEventAsync(
      rawBody,
      header,
      secret,
      STRIPE_SIGNATURE_TOLERANCE_SECONDS,
      cryptoProvider,
      nowMs,
    );
    return { ok: true, event };
  } catch (error) {
    if (error instanceof Stripe.errors.StripeSignatureVerificationError) {
      const first = error.message.split("\n")[0].trim();
      const stale = /tolerance/i.test(first);
      return {
        ok: false,
        message: stale
          ? `Stale Stripe signature: timestamp is more than ${STRIPE_SIGNATURE_TOLERANCE_SECONDS} s old.`
          : `Invalid Stripe signature: ${first}`,
      };
    }
    if (error instanceof SyntaxError) return { ok: false, message: "Body is not valid JSON." };
    throw error;
  }
}

/** A `Stripe-Signature` header for `payload`, as Stripe would send it. */
export async function signStripePayload(payload: string, secret: string, timestampSeconds?: number): Promise<string> {
  return await Stripe.webhooks.generateTestHeaderStringAsync({
    payload,
    secret,
    timestamp: timestampSeconds ?? Math.floor(Date.now() / 1000),
    cryptoProvider,
  });
}
