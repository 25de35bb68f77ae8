/**
 * Applies a booking status change through the domain state machine and records it in
 * `bookingStatusHistory`. Every status change of a booking goes through `transition`.
 */
import { canTransition, type ActorRole } from "../../domain/bookingStatus";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "../_generated/server";
import { appError } from "../errors";
import type { Actor, BookingStatus } from "../schema";
import { onVisitCompleted } from "./planBilling";

/** Records the booking's first status (creation). */
export async function recordCreated(
  ctx: RawMutationCtx,
  booking: Pick<Doc<"bookings">, "_id" | "businessId" | "status">,
  actor: Actor,
  at: number,
  reason?: string,
) {
  await ctx.db.insert("bookingStatusHistory", {
    businessId: booking.businessId,
    bookingId: booking._id,
    to: booking.status,
    at,
    actor,
    reason,
  });
}

/**
 * Checks `from → to` for `domainRole` with the domain's `canTransition` (INVALID_TRANSITION
 * with its reason when refused), patches the booking with `to` and `patch`, and appends the
 * history row. Returns the updated booking.
 */
export async function transition(
  ctx: RawMutationCtx,
  booking: Doc<"bookings">,
  to: BookingStatus,
  who: { domainRole: ActorRole; actor: Actor },
  now: number,
  options: { reason?: string; patch?: Partial<Doc<"bookings">> } = {},
): Promise<Doc<"bookings">> {
  const verdict = canTransition(booking.status, to, who.domainRole, { now, startsAt: booking.start });
  if (!verdict.ok) {
    throw appError("INVALID_TRANSITION", verdict.reason, { param: "status", details: { from: booking.status, to } });
  }
  await ctx.db.patch("bookings", booking._id, { ...options.patch, status: to });
  await ctx.db.insert("bookingStatusHistory", {
    businessId: booking.businessId,
    bookingId: booking._id,
    from: booking.status,
    to,
    at: now,
    actor: who.actor,
    reason: options.reason,
  });
  // A recurring plan's visit is charged on the plan's saved card once it is done.
  if (to === "COMPLETED") await onVisitCompleted(ctx, booking);
  return (await ctx.db.get("bookings", booking._id))!;
}

/** A history row for a change that keeps the status (a reschedule, a reassignment). */
export async function recordSameStatus(ctx: RawMutationCtx, booking: Doc<"bookings">, actor: Actor, at: number, reason: string) {
  await ctx.db.insert("bookingStatusHistory", {
    businessId: booking.businessId,
    bookingId: booking._id,
    from: booking.status,
    to: booking.status,
    at,
    actor,
    reason,
  });
}
