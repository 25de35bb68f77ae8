/**
 * POST /stripe/webhook: Stripe event ingestion.
 *
 * 1. Verify the signature over the RAW body with Stripe's SDK (constructEventAsync,
 *    SubtleCrypto, 300 s tolerance either way). Missing / invalid / stale / dated ahead → 400,
 *    nothing recorded.
 * 2. Normalize the event to one typed effect (`model/stripeEvents.ts`); types we do not handle
 *    are acknowledged (200) and ignored.
 * 3. `processEvent` (internal mutation) records the event id in `stripeEvents` and applies the
 *    effect in the same transaction: a duplicate delivery finds the id and changes nothing.
 * 4. Any processing failure → 500 (nothing committed), so Stripe retries. Never 200 on failure.
 */
import type { HttpRouter } from "convex/server";
import { v, type Infer } from "convex/values";
import { internal } from "./_generated/api";
import { httpAction } from "./_generated/server";
import { env } from "./env";
import { internalMutation } from "./functions";
import { applyStripeEffect } from "./model/stripeApply";
import { MalformedStripeEvent, normalizeStripeEvent, vStripeEffect, type StripeEffect } from "./model/stripeEvents";
import { verifyStripeSignature } from "./model/stripeSignature";

export const STRIPE_WEBHOOK_PATH = "/stripe/webhook";

const vProcessResult = v.object({
  status: v.union(v.literal("applied"), v.literal("ignored"), v.literal("duplicate")),
  note: v.string(),
});

export const processEvent = internalMutation({
  args: {
    eventId: v.string(),
    type: v.string(),
    /** Stripe's `created`, in seconds. */
    created: v.number(),
    effect: vStripeEffect,
  },
  returns: vProcessResult,
  handler: async (ctx, args) => {
    const seen = await ctx.db
      .query("stripeEvents")
      .withIndex("by_eventId", (q) => q.eq("eventId", args.eventId))
      .unique();
    if (seen !== null) return { status: "duplicate" as const, note: `already processed at ${new Date(seen.processedAt).toISOString()}` };
    const result = await applyStripeEffect(ctx, { id: args.eventId, type: args.type, createdMs: args.created * 1000 }, args.effect);
    await ctx.db.insert("stripeEvents", {
      eventId: args.eventId,
      type: args.type,
      created: args.created * 1000,
      processedAt: Date.now(),
    });
    return { status: result.outcome, note: result.note };
  },
});

export type ProcessArgs = { eventId: string; type: string; created: number; effect: StripeEffect };
export type ProcessResult = Infer<typeof vProcessResult>;
export type IngestResult = { status: number; body: Record<string, unknown> };

/**
 * The whole ingestion pipeline minus the Request/Response plumbing: verify → normalize →
 * process. `process` runs `processEvent` (the HTTP action passes `ctx.runMutation`; tests and
 * the benchmark may drive it directly).
 */
export async function ingestStripeWebhook(
  process: (args: ProcessArgs) => Promise<ProcessResult>,
  rawBody: string,
  signatureHeader: string | null,
  secret: string,
): Promise<IngestResult> {
  const verified = await verifyStripeSignature(rawBody, signatureHeader, secret);
  if (!verified.ok) return { status: 400, body: { error: { code: "invalid_signature", message: verified.message } } };

  let normalized;
  try {
    normalized = normalizeStripeEvent(verified.event);
  } catch (error) {
    if (error instanceof MalformedStripeEvent) {
      return { status: 400, body: { error: { code: "malformed_event", message: error.message } } };
    }
    throw error;
  }
  if (normalized.effect === null) {
    return { status: 200, body: { received: true, id: normalized.id, status: "ignored", note: `event type ${normalized.type} is not handled` } };
  }
  try {
    const result = await process({ eventId: normalized.id, type: normalized.type, created: normalized.created, effect: normalized.effect });
    return { status: 200, body: { received: true, id: normalized.id, ...result } };
  } catch (error) {
    // Nothing was committed (the mutation rolled back); 5xx makes Stripe deliver it again.
    console.error(`stripe webhook: processing ${normalized.type} ${normalized.id} failed`, error);
    const message = error instanceof Error ? error.message : String(error);
    return { status: 500, body: { error: { code: "processing_failed", message: `Processing failed; Stripe will retry. ${message}` } } };
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

export const stripeWebhook = httpAction(async (ctx, request) => {
  let secret: string;
  try {
    secret = env.stripeWebhookSecret();
  } catch (error) {
    console.error("stripe webhook: misconfigured", error);
    return json(500, { error: { code: "misconfigured", message: "The webhook signing secret is not configured." } });
  }
  const rawBody = await request.text();
  const result = await ingestStripeWebhook(
    (args) => ctx.runMutation(internal.stripeWebhook.processEvent, args),
    rawBody,
    request.headers.get("stripe-signature"),
    secret,
  );
  return json(result.status, result.body);
});

export function registerStripeRoutes(http: HttpRouter): void {
  http.route({ path: STRIPE_WEBHOOK_PATH, method: "POST", handler: stripeWebhook });
}
