/**
 * Managing a recurring plan (`recurringSeries`) after it was booked: skipping one visit,
 * previewing what cancelling the rest would cost, the alternative time offered for a
 * visit that cannot be placed, pausing and resuming, and extending an active plan as the
 * booking horizon moves (the daily cron: visits are kept booked as far ahead as the
 * business's `bookingHorizonDays`). Visits are ordinary bookings, so skipping one is the booking
 * cancel command (`cancelBooking`: the same policy, fees, refunds and notifications) on a
 * visit of the plan; placement checks are `findFit`, the same path single bookings take.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../errors";
import { seriesOccurrences } from "../../domain/recurrence";
import { localDateOf } from "../../domain/time";
import { cancelBooking, type BookingActor } from "./bookingCommands";
import { createBooking, placementRequestFor } from "./bookingCreate";
import { emitBookingChange, emitInvoiceChange } from "./bookingEvents";
import { discountFor, priceCart, ruleOf, type Recurrence } from "./bookingPricing";
import { cancellationDecision, invoiceOf } from "./bookingPolicy";
import { findFit, type RuleMode } from "./bookingSlots";
import { issueInvoice } from "./invoiceLines";

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

/** The plan's recurrence in the form the pricing and recurrence rules take. */
export function recurrenceOf(series: Doc<"recurringSeries">): Recurrence {
  switch (series.frequency) {
    case "every_n_weeks":
      return { frequency: "every_n_weeks", interval: series.interval };
    case "monthly":
      return { frequency: "monthly" };
    default:
      return { frequency: "weekly" };
  }
}

const DAY_MS = 86_400_000;
/** Occurrences looked at beyond the last planned one in one extension. */
const MAX_EXTENSION = 60;

/**
 * Books the plan's next visits up to the booking horizon (`now` + `bookingHorizonDays`) at
 * today's prices with the plan's frequency discount, through the same placement and booking
 * path as the first ones. Visits that do not fit (or fell in the past, e.g. while paused) are
 * passed over; `occurrences` moves past every one looked at, so none is tried twice.
 */
export async function extendPlan(ctx: MutationCtx, series: Doc<"recurringSeries">, now: number) {
  const result = { booked: 0, passedOver: 0 };
  if (series.status !== "active") return result;
  const business = await ctx.db.get("businesses", series.businessId);
  const zone = await ctx.db.get("zones", series.zoneId);
  const customer = await ctx.db.get("customers", series.customerId);
  if (business === null || business.status !== "ACTIVE" || zone === null || !zone.active || customer === null) return result;
  const recurrence = recurrenceOf(series);
  const priced = await priceCart(ctx, business, zone, series.cart, discountFor(recurrence));
  const horizonEnd = now + business.policies.booking.bookingHorizonDays * DAY_MS;
  const due = seriesOccurrences({
    timeZone: business.timeZone,
    startDate: series.startDate,
    startTime: series.localTime,
    durationMinutes: priced.quote.durationMinutes + business.policies.booking.arrivalWindowMinutes,
    rule: ruleOf(recurrence)!,
    count: series.occurrences + MAX_EXTENSION,
  }).filter((o) => o.index >= series.occurrences && o.start <= horizonEnd);
  if (due.length === 0) return result;
  const visits = await planVisits(ctx, series._id);
  const address = visits.at(-1)?.address;
  const shape = { zoneId: zone._id, items: priced.items, quote: priced.storedQuote };
  for (const occurrence of due) {
    const fit = occurrence.start > now ? await findFit(ctx, { ...placementRequestFor(business, shape, occurrence.start, "customer", now), ignoreHorizon: true }) : null;
    if (fit === null || !fit.ok) {
      result.passedOver++;
      continue;
    }
    const booking = await createBooking(ctx, {
      business,
      zone,
      customer,
      priced,
      start: occurrence.start,
      status: "CONFIRMED",
      source: "series",
      actor: { role: "system" },
      mode: "customer",
      now,
      frequency: series.frequency,
      seriesId: series._id,
      occurrenceIndex: occurrence.index,
      address,
    });
    const invoice = await issueInvoice(ctx, booking, business, now);
    await emitBookingChange(ctx, booking, "confirmed", { availabilityChanged: true });
    await emitInvoiceChange(ctx, invoice, "issued");
    result.booked++;
  }
  await ctx.db.patch("recurringSeries", series._id, { occurrences: due[due.length - 1].index + 1 });
  return result;
}

/** Pauses the plan: its upcoming visits are cancelled under the policy (fees as previewed) and no new ones are booked. */
export async function pausePlan(ctx: MutationCtx, who: BookingActor, series: Doc<"recurringSeries">, expectedFeeMinor: number | undefined, now: number) {
  if (series.status !== "active") throw appError("INVALID_TRANSITION", `The plan is ${series.status}; only an active plan can be paused.`, { param: "seriesId" });
  const preview = await planCancellationPreview(ctx, series, who.actingFor === "customer", now);
  if (expectedFeeMinor !== undefined && expectedFeeMinor !== preview.feeMinor) {
    throw appError("POLICY_VIOLATION", `The fee for the upcoming visits is now ${preview.feeMinor}; confirm again.`, {
      param: "expectedFeeMinor",
      details: { feeMinor: preview.feeMinor },
    });
  }
  let feeMinor = 0;
  for (const visit of preview.visits) {
    const booking = (await ctx.db.get("bookings", visit.bookingId))!;
    feeMinor += (await cancelBooking(ctx, who, booking, { reason: "plan paused" }, now)).decision.feeMinor;
  }
  await ctx.db.patch("recurringSeries", series._id, { status: "paused" });
  return { cancelled: preview.visits.length, feeMinor };
}

/** Resumes a paused plan from its next occurrence after now, booking ahead to the horizon. */
export async function resumePlan(ctx: MutationCtx, series: Doc<"recurringSeries">, now: number) {
  if (series.status !== "paused") throw appError("INVALID_TRANSITION", `The plan is ${series.status}; only a paused plan can be resumed.`, { param: "seriesId" });
  await ctx.db.patch("recurringSeries", series._id, { status: "active" });
  return await extendPlan(ctx, (await ctx.db.get("recurringSeries", series._id))!, now);
}
