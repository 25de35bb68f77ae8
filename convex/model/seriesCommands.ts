/**
 * Managing a recurring plan (`recurringSeries`) after it was booked: skipping one visit,
 * previewing what cancelling the rest would cost, and the alternative time offered for a
 * visit that cannot be placed. Visits are ordinary bookings, so skipping one is the booking
 * cancel command (`cancelBooking`: the same policy, fees, refunds and notifications) on a
 * visit of the plan; placement checks are `findFit`, the same path single bookings take.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../errors";
import { localDateOf } from "../../domain/time";
import { cancelBooking, type BookingActor } from "./bookingCommands";
import { placementRequestFor } from "./bookingCreate";
import { cancellationDecision, invoiceOf } from "./bookingPolicy";
import { findFit, type RuleMode } from "./bookingSlots";

const MAX_PLAN_VISITS = 600;
/** How far from the plan's time an alternative is looked for, on the same day. */
const ALTERNATIVE_RANGE_MINUTES = 180;
const UPCOMING = new Set<Doc<"bookings">["status"]>(["HELD", "PENDING_PAYMENT", "CONFIRMED"]);

export const SKIP_REASON = "skipped (recurring plan)";

/** The visits of a plan, in time order. */
export async function planVisits(ctx: Pick<QueryCtx, "db">, seriesId: Id<"recurringSeries">) {
  const visits = await ctx.db
    .query("bookings")
    .withIndex("by_seriesId", (q) => q.eq("seriesId", seriesId))
    .take(MAX_PLAN_VISITS);
  return visits.sort((a, b) => a.start - b.start);
}

/** Whether a visit is still ahead and booked (what skip and cancel act on). */
export function isUpcomingVisit(booking: Doc<"bookings">, now: number) {
  return booking.start > now && UPCOMING.has(booking.status);
}

/**
 * The nearest start on the same local day (alternating later / earlier, in the business's
 * slot steps, up to three hours away) at which the visit fits, or null.
 */
export async function alternativeStart(
  ctx: QueryCtx,
  business: Doc<"businesses">,
  shape: Pick<Doc<"bookings">, "zoneId" | "items" | "quote">,
  start: number,
  mode: RuleMode,
  now: number,
): Promise<number | null> {
  const step = Math.max(5, business.policies.booking.slotStepMinutes);
  const day = localDateOf(start, business.timeZone);
  for (let offset = step; offset <= ALTERNATIVE_RANGE_MINUTES; offset += step) {
    for (const candidate of [start + offset * 60_000, start - offset * 60_000]) {
      if (candidate <= now || localDateOf(candidate, business.timeZone) !== day) continue;
      const fit = await findFit(ctx, { ...placementRequestFor(business, shape, candidate, mode, now), ignoreHorizon: true });
      if (fit.ok) return candidate;
    }
  }
  return null;
}

/** Skips one upcoming visit of an active plan: the booking is cancelled under the policy. */
export async function skipVisit(
  ctx: MutationCtx,
  who: BookingActor,
  series: Doc<"recurringSeries">,
  bookingId: Id<"bookings">,
  expectedFeeMinor: number | undefined,
  now: number,
) {
  const booking = await ctx.db.get("bookings", bookingId);
  if (booking === null || booking.seriesId !== series._id) throw appError("NOT_FOUND", "This visit is not part of the plan.", { param: "bookingId" });
  if (series.status === "cancelled") throw appError("INVALID_TRANSITION", "The plan is cancelled.", { param: "seriesId" });
  if (!isUpcomingVisit(booking, now)) throw appError("INVALID_TRANSITION", "Only an upcoming visit can be skipped.", { param: "bookingId" });
  return await cancelBooking(ctx, who, booking, { reason: SKIP_REASON, expectedFeeMinor }, now);
}

/** What cancelling the plan now costs: the fee of each upcoming visit under the policy. */
export async function planCancellationPreview(ctx: QueryCtx, series: Doc<"recurringSeries">, byCustomer: boolean, now: number) {
  const business = (await ctx.db.get("businesses", series.businessId))!;
  const visits = [];
  let feeMinor = 0;
  for (const booking of await planVisits(ctx, series._id)) {
    if (!isUpcomingVisit(booking, now)) continue;
    const decision = cancellationDecision(business, booking, await invoiceOf(ctx, booking), byCustomer, now);
    visits.push({ bookingId: booking._id, start: booking.start, feeMinor: decision.feeMinor });
    feeMinor += decision.feeMinor;
  }
  return { visits, feeMinor, currency: business.currency };
}
