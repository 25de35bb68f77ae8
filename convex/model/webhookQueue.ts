/**
 * The partner-webhook delivery queue: every attempt of a delivery is one action run by the
 * `webhookWorkpool` component (`@convex-dev/workpool`). The pool bounds how many partner
 * requests run at once and reports how each run ended to `webhookDelivery.attemptFinished`,
 * so an attempt whose action died (timeout, crash, backend restart) is recorded and retried
 * like a failed request instead of being left to the sweep.
 *
 * The retry schedule stays the platform's own (model/webhookPolicy.ts): the pool's own
 * retries are off. A later attempt waits in the scheduler until its `nextAttemptAt` and
 * enters the pool then (`webhookDelivery.startAttempt`), so its start time is the scheduler's,
 * exact and durable, and the pool only ever holds attempts that are due.
 */
import { Workpool } from "@convex-dev/workpool";
import { components, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";

/** Partner requests in flight at once, across every business. */
export const MAX_PARALLEL_DELIVERIES = 10;

export const webhookPool = new Workpool(components.webhookWorkpool, {
  maxParallelism: MAX_PARALLEL_DELIVERIES,
  retryActionsByDefault: false,
});

/** Queues an attempt of a delivery that is due now. */
export async function enqueueAttempt(ctx: MutationCtx, deliveryId: Id<"webhookDeliveries">): Promise<void> {
  await webhookPool.enqueueAction(ctx, internal.webhookDelivery.deliver, { deliveryId }, {
    onComplete: internal.webhookDelivery.attemptFinished,
    context: { deliveryId },
  });
}

/** An attempt at `at` (ms): queued now when due, else when the scheduler reaches `at`. */
export async function scheduleAttempt(ctx: MutationCtx, deliveryId: Id<"webhookDeliveries">, at: number): Promise<void> {
  if (at <= Date.now()) await enqueueAttempt(ctx, deliveryId);
  else await ctx.scheduler.runAt(at, internal.webhookDelivery.startAttempt, { deliveryId });
}
