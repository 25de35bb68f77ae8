/**
 * Stripe webhook signatures through Stripe's own SDK: verification for ingestion, signing for
 * the offline test checkout, local refunds, scripts and tests. SubtleCrypto only, so this
 * runs in Convex's default runtime (HTTP actions), in Node and in the edge runtime alike.
 */
import Stripe from "stripe";

/**
 * Seconds an event's signature timestamp may differ from our clock (Stripe's default), both
 * ways: Stripe's SDK only refuses old timestamps, so a signature dated ahead (a replay kept for
 * later, or a clock far off) is refused here.
 */
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
    const signedAt = signedTimestampOf(header);
    if (signedAt - Math.floor(nowMs / 1000) > STRIPE_SIGNATURE_TOLERANCE_SECONDS) {
      return {
        ok: false,
        message: `Stripe signature dated in the future: timestamp is more than ${STRIPE_SIGNATURE_TOLERANCE_SECONDS} s ahead of our clock.`,
      };
    }
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

/** The header's `t=` as Stripe's SDK reads it (the last one wins); only called once the SDK verified it. */
function signedTimestampOf(header: string): number {
  let timestamp = -1;
  for (const item of header.split(",")) {
    const [key, value] = item.split("=");
    if (key === "t") timestamp = parseInt(value, 10);
  }
  return timestamp;
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
