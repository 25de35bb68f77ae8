/**
 * The recurring plan commands (`recurringSeries`): the one body of creating a plan,
 * changing it from some visit on (time, day or frequency: "this and all future"), moving one
 * visit, skipping one visit,
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
import { isDomainError } from "../../domain/errors";
import { seriesOccurrences, type Occurrence } from "../../domain/recurrence";
import { isValidLocalDate, localDateOf, parseLocalTime } from "../../domain/time";
import type { Actor, CartItem } from "../schema";
import { addRescheduleFee, cancelBooking, rescheduleBooking, voidUnpaidInvoice, type BookingActor } from "./bookingCommands";
import { createBooking, placementRequestFor, requireBookableBusiness, requireZone } from "./bookingCreate";
import { emitBookingChange, emitInvoiceChange, notifyCustomer } from "./bookingEvents";
import { discountFor, priceCart, ruleOf, type PricedCart, type Recurrence } from "./bookingPricing";
import { cancellationDecision, invoiceOf, rescheduleVerdict } from "./bookingPolicy";
import { findFit, releaseAssignments, type RuleMode } from "./bookingSlots";
import { transition } from "./bookingTransitions";
import { issueInvoice } from "./invoiceLines";

const MAX_PLAN_VISITS = 600;
/** How far from the plan's time an alternative is looked for, on the same day. */
const ALTERNATIVE_RANGE_MINUTES = 180;
const UPCOMING = new Set<Doc<"bookings">["status"]>(["HELD", "PENDING_PAYMENT", "CONFIRMED"]);

export const SKIP_REASON = "skipped (recurring plan)";
/** The reason on a visit replaced by a plan change (a new visit at the new time or frequency). */
export const PLAN_CHANGED_REASON = "plan changed";

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
  excludeBookingId?: Id<"bookings">,
): Promise<number | null> {
  const step = Math.max(5, business.policies.booking.slotStepMinutes);
  const day = localDateOf(start, business.timeZone);
  for (let offset = step; offset <= ALTERNATIVE_RANGE_MINUTES; offset += step) {
    for (const candidate of [start + offset * 60_000, start - offset * 60_000]) {
      if (candidate <= now || localDateOf(candidate, business.timeZone) !== day) continue;
      const fit = await findFit(ctx, { ...placementRequestFor(business, shape, candidate, mode, now, excludeBookingId), ignoreHorizon: true });
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

/** The plan's frequency as the reports and the portal name it: weekly, every_2_weeks, monthly, … */
export function planFrequencyKey(series: Pick<Doc<"recurringSeries">, "frequency" | "interval">): string {
  if (series.frequency === "every_n_weeks") return series.interval === 1 ? "weekly" : `every_${series.interval}_weeks`;
  return series.frequency;
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
  const offset = series.indexOffset ?? 0;
  const priced = await priceCart(ctx, business, zone, series.cart, discountFor(recurrence, { zone }));
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
  const shape = { zoneId: zone._id, items: priced.items, quote: priced.storedQuote };
  const placements: Placement[] = [];
  for (const occurrence of due) {
    const fit = occurrence.start > now ? await findFit(ctx, { ...placementRequestFor(business, shape, occurrence.start, "customer", now), ignoreHorizon: true }) : null;
    if (fit === null || !fit.ok) result.passedOver++;
    else placements.push({ index: offset + occurrence.index, date: occurrence.date, start: occurrence.start });
  }
  const booked = await placeVisits(ctx, {
    business,
    zone,
    customer,
    seriesId: series._id,
    frequency: series.frequency,
    placements,
    pricedFor: () => priced,
    actor: { role: "system" },
    mode: "customer",
    now,
    address: visits.at(-1)?.address,
  });
  result.booked = booked.length;
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

// ---------------------------------------------------------------------------------------
// Placing visits: creating a plan, and the plan's visits from one date on
// ---------------------------------------------------------------------------------------

/** Most visits placed in one call (a year of weekly visits). */
export const MAX_SERIES_OCCURRENCES = 52;

export type PlanInput = {
  businessId: Id<"businesses">;
  zoneId: Id<"zones">;
  cart: CartItem[];
  recurrence: Recurrence;
  /** Local date of the first visit and local start time, in the business's zone. */
  startDate: string;
  localTime: string;
  occurrences: number;
};

/** A visit that cannot be placed, why, and the nearest same-day start that fits (when there is one). */
export type PlanConflict = { index: number; date: string; start: number; code: string; reason: string; alternative?: number };
type Placement = { index: number; date: string; start: number };

/** The prices of a plan's visits: the frequency discount on each, none on the first when the business says so. */
async function planPrices(
  ctx: QueryCtx,
  business: Doc<"businesses">,
  zone: Doc<"zones">,
  cart: CartItem[],
  recurrence: Recurrence,
  firstIndex: number,
) {
  const ongoing = discountFor(recurrence, { zone });
  const priced = await priceCart(ctx, business, zone, cart, ongoing);
  const first = discountFor(recurrence, { zone, business, visitIndex: firstIndex });
  const firstPriced = first.discountBp === ongoing.discountBp ? priced : await priceCart(ctx, business, zone, cart, first);
  return {
    discountBp: ongoing.discountBp,
    firstVisitDiscountBp: first.discountBp,
    priced,
    firstPriced,
    /** The price of the visit numbered `index` in the plan as a whole. */
    pricedFor: (index: number) => (index === firstIndex ? firstPriced : priced),
  };
}

function requireLocalDate(value: string, param: string) {
  if (!isValidLocalDate(value)) throw appError("INVALID_ARGUMENT", `${param} must be a date YYYY-MM-DD.`, { param });
}

function requireLocalTime(value: string, param: string) {
  try {
    parseLocalTime(value);
  } catch {
    throw appError("INVALID_ARGUMENT", `${param} must be a time HH:MM.`, { param });
  }
}

function occurrencesOf(spec: Parameters<typeof seriesOccurrences>[0]): Occurrence[] {
  try {
    return seriesOccurrences(spec);
  } catch (error) {
    if (isDomainError(error)) throw appError("INVALID_ARGUMENT", error.message, { param: "recurrence" });
    throw error;
  }
}

/** Whether the visit fits at `start`; if not, why and the nearest same-day alternative. */
async function judgeVisit(
  ctx: QueryCtx,
  business: Doc<"businesses">,
  shape: Pick<Doc<"bookings">, "zoneId" | "items" | "quote">,
  occurrence: Placement,
  mode: RuleMode,
  now: number,
  excludeBookingId?: Id<"bookings">,
): Promise<PlanConflict | null> {
  if (occurrence.start <= now) {
    return { index: occurrence.index, date: occurrence.date, start: occurrence.start, code: "IN_THE_PAST", reason: "This time has passed" };
  }
  const fit = await findFit(ctx, { ...placementRequestFor(business, shape, occurrence.start, mode, now, excludeBookingId), ignoreHorizon: true });
  if (fit.ok) return null;
  const alternative = await alternativeStart(ctx, business, shape, occurrence.start, mode, now, excludeBookingId);
  return {
    index: occurrence.index,
    date: occurrence.date,
    start: occurrence.start,
    code: fit.code,
    reason: fit.reason,
    ...(alternative === null ? {} : { alternative }),
  };
}

/** Where each visit goes under `onConflict`: as planned, at the alternative time, or left out. */
function placementsUnder(
  fitting: Placement[],
  conflicts: PlanConflict[],
  onConflict: "skip" | "fail" | "alternative",
): Placement[] {
  const placements = [...fitting];
  if (onConflict === "alternative") {
    for (const c of conflicts) if (c.alternative !== undefined) placements.push({ index: c.index, date: c.date, start: c.alternative });
  }
  return placements.sort((a, b) => a.start - b.start);
}

/**
 * Dry run of a new plan: every visit checked against availability (the same `findFit` single
 * bookings take), with the reason and an alternative for those that do not fit.
 */
export async function planSeries(ctx: QueryCtx, args: PlanInput, mode: RuleMode, now: number) {
  requireLocalDate(args.startDate, "startDate");
  requireLocalTime(args.localTime, "localTime");
  if (!Number.isInteger(args.occurrences) || args.occurrences < 2 || args.occurrences > MAX_SERIES_OCCURRENCES) {
    throw appError("INVALID_ARGUMENT", `A series has 2 to ${MAX_SERIES_OCCURRENCES} occurrences.`, { param: "occurrences" });
  }
  const business = await requireBookableBusiness(ctx, args.businessId);
  const zone = await requireZone(ctx, business, args.zoneId);
  const prices = await planPrices(ctx, business, zone, args.cart, args.recurrence, 0);
  const occurrences = occurrencesOf({
    timeZone: business.timeZone,
    startDate: args.startDate,
    startTime: args.localTime,
    durationMinutes: prices.priced.quote.durationMinutes + business.policies.booking.arrivalWindowMinutes,
    rule: ruleOf(args.recurrence)!,
    count: args.occurrences,
  });
  const fitting: Placement[] = [];
  const conflicts: PlanConflict[] = [];
  const shape = { zoneId: zone._id, items: prices.priced.items, quote: prices.priced.storedQuote };
  for (const occurrence of occurrences) {
    const conflict = await judgeVisit(ctx, business, shape, occurrence, mode, now);
    if (conflict === null) fitting.push({ index: occurrence.index, date: occurrence.date, start: occurrence.start });
    else conflicts.push(conflict);
  }
  return { business, zone, ...prices, occurrences, fitting, conflicts };
}

/** Books each placement as a confirmed visit of the plan with its invoice, through the single-booking path. */
async function placeVisits(
  ctx: MutationCtx,
  input: {
    business: Doc<"businesses">;
    zone: Doc<"zones">;
    customer: Doc<"customers">;
    seriesId: Id<"recurringSeries">;
    frequency: Doc<"recurringSeries">["frequency"];
    placements: Placement[];
    pricedFor: (index: number) => PricedCart;
    actor: Actor;
    mode: RuleMode;
    now: number;
    address?: Doc<"bookings">["address"];
    customerNotes?: string;
  },
) {
  const booked: { index: number; date: string; start: number; bookingId: Id<"bookings"> }[] = [];
  for (const placement of input.placements) {
    // Checked in this same transaction, so this placement succeeds; if it did not, the whole
    // change would roll back rather than be half written.
    const booking = await createBooking(ctx, {
      business: input.business,
      zone: input.zone,
      customer: input.customer,
      priced: input.pricedFor(placement.index),
      start: placement.start,
      status: "CONFIRMED",
      source: "series",
      actor: input.actor,
      mode: input.mode,
      now: input.now,
      frequency: input.frequency,
      seriesId: input.seriesId,
      occurrenceIndex: placement.index,
      address: input.address,
      customerNotes: input.customerNotes,
    });
    const invoice = await issueInvoice(ctx, booking, input.business, input.now);
    await emitBookingChange(ctx, booking, "confirmed", { availabilityChanged: true });
    await emitInvoiceChange(ctx, invoice, "issued");
    booked.push({ index: placement.index, date: placement.date, start: placement.start, bookingId: booking._id });
  }
  return booked;
}

function frequencyFields(recurrence: Recurrence) {
  return { frequency: recurrence.frequency, interval: recurrence.frequency === "every_n_weeks" ? recurrence.interval : 1 };
}

/**
 * Creates the plan and books its visits. Visits that cannot be placed: "fail" refuses the
 * plan (nothing written), "skip" leaves them out, "alternative" books the offered same-day
 * time where there is one. One confirmation for the plan (its first visit).
 */
export async function createPlan(
  ctx: MutationCtx,
  who: { customer: Doc<"customers">; mode: RuleMode; actor: Actor },
  args: PlanInput & { onConflict: "skip" | "fail" | "alternative"; address?: Doc<"bookings">["address"]; customerNotes?: string },
  now: number,
) {
  if (args.customerNotes !== undefined && args.customerNotes.length > 2000) {
    throw appError("INVALID_ARGUMENT", "Notes are limited to 2000 characters.", { param: "customerNotes" });
  }
  const plan = await planSeries(ctx, args, who.mode, now);
  if (plan.conflicts.length > 0 && (args.onConflict === "fail" || plan.fitting.length === 0)) {
    throw appError(
      "SLOT_UNAVAILABLE",
      plan.fitting.length === 0 ? "None of the occurrences is available." : `${plan.conflicts.length} of ${plan.occurrences.length} occurrences are not available.`,
      { param: "startDate", details: { conflicts: plan.conflicts } },
    );
  }
  const seriesId = await ctx.db.insert("recurringSeries", {
    businessId: plan.business._id,
    customerId: who.customer._id,
    zoneId: plan.zone._id,
    industryId: plan.priced.industryId,
    ...frequencyFields(args.recurrence),
    startDate: args.startDate,
    localTime: args.localTime,
    occurrences: args.occurrences,
    cart: args.cart,
    discountBp: plan.discountBp,
    status: "active",
    billing: { status: "needs_card" },
    createdAt: now,
  });
  const booked = await placeVisits(ctx, {
    business: plan.business,
    zone: plan.zone,
    customer: who.customer,
    seriesId,
    frequency: args.recurrence.frequency,
    placements: placementsUnder(plan.fitting, plan.conflicts, args.onConflict),
    pricedFor: plan.pricedFor,
    actor: who.actor,
    mode: who.mode,
    now,
    address: args.address,
    customerNotes: args.customerNotes,
  });
  await notifyCustomer(ctx, booked[0].bookingId, "booking_confirmed", true);
  return { seriesId, discountBp: plan.discountBp, firstVisitDiscountBp: plan.firstVisitDiscountBp, booked, conflicts: plan.conflicts };
}

/** Cancels every upcoming visit still booked (fees under the policy, checked against what was shown) and closes the plan. */
export async function cancelPlan(
  ctx: MutationCtx,
  who: BookingActor,
  series: Doc<"recurringSeries">,
  input: { reason?: string; expectedFeeMinor?: number },
  now: number,
) {
  if (input.reason !== undefined && input.reason.length > 500) {
    throw appError("INVALID_ARGUMENT", "The reason is limited to 500 characters.", { param: "reason" });
  }
  if (series.status === "cancelled") throw appError("INVALID_TRANSITION", "The series is already cancelled.", { param: "seriesId" });
  const preview = await planCancellationPreview(ctx, series, who.actingFor === "customer", now);
  if (input.expectedFeeMinor !== undefined && preview.feeMinor !== input.expectedFeeMinor) {
    throw appError("POLICY_VIOLATION", `The cancellation fee is now ${preview.feeMinor}; confirm again.`, {
      param: "expectedFeeMinor",
      details: { feeMinor: preview.feeMinor },
    });
  }
  const reason = input.reason ?? "series cancelled";
  let feeMinor = 0;
  for (const visit of preview.visits) {
    const booking = (await ctx.db.get("bookings", visit.bookingId))!;
    // One message for the plan, not one per visit.
    feeMinor += (await cancelBooking(ctx, who, booking, { reason, notify: false }, now)).decision.feeMinor;
  }
  await ctx.db.patch("recurringSeries", series._id, { status: "cancelled" });
  if (preview.visits.length > 0) await notifyCustomer(ctx, preview.visits[0].bookingId, "booking_cancelled");
  return { cancelled: preview.visits.length, feeMinor };
}

/** Loads a visit of the plan that is still ahead (what skip, move and change act on). */
async function upcomingVisitOf(ctx: QueryCtx, series: Doc<"recurringSeries">, bookingId: Id<"bookings">, now: number, param = "bookingId") {
  const booking = await ctx.db.get("bookings", bookingId);
  if (booking === null || booking.seriesId !== series._id) throw appError("NOT_FOUND", "This visit is not part of the plan.", { param });
  if (!isUpcomingVisit(booking, now)) throw appError("INVALID_TRANSITION", "Only an upcoming visit can be changed.", { param });
  return booking;
}

/** Moves ONE visit of the plan (the rest keep their times): the booking reschedule command, its policy and fee. */
export async function rescheduleVisit(
  ctx: MutationCtx,
  who: BookingActor,
  series: Doc<"recurringSeries">,
  bookingId: Id<"bookings">,
  input: { start: number; expectedFeeMinor?: number },
  now: number,
) {
  if (series.status === "cancelled") throw appError("INVALID_TRANSITION", "The plan is cancelled.", { param: "seriesId" });
  const booking = await upcomingVisitOf(ctx, series, bookingId, now);
  return await rescheduleBooking(ctx, who, booking, input, now);
}

// ---------------------------------------------------------------------------------------
// Changing the plan from one visit on: time, day or frequency ("this and all future")
// ---------------------------------------------------------------------------------------

export type PlanChange = {
  /** The first visit that changes (default: the next one); every later visit changes with it. */
  fromBookingId?: Id<"bookings">;
  /** The new local date of that visit (default: its own date) and the new local time (default: the plan's). */
  startDate?: string;
  localTime?: string;
  /** The new frequency (default: the plan's). */
  recurrence?: Recurrence;
};

/**
 * What happens to each visit: `keep` (same time, same price), `move` (an existing visit goes to
 * a new time: the reschedule policy's fee), `reprice` (same time, new frequency's price),
 * `drop` (no new visit takes its place: the cancellation policy's fee), `add` (a new visit).
 */
export type ChangeRow = {
  action: "keep" | "move" | "reprice" | "drop" | "add";
  bookingId?: Id<"bookings">;
  previousStart?: number;
  index?: number;
  date?: string;
  start?: number;
  feeMinor: number;
  feeReason?: string;
  conflict?: PlanConflict;
};

/**
 * The new visits from the pivot on and what becomes of the current ones, with the fees the
 * policy sets and the visits that cannot be placed (reason, alternative), before anything changes.
 */
export async function planChangePreview(ctx: QueryCtx, who: BookingActor, series: Doc<"recurringSeries">, change: PlanChange, now: number) {
  if (series.status !== "active") throw appError("INVALID_TRANSITION", `The plan is ${series.status}; only an active plan can be changed.`, { param: "seriesId" });
  if (change.startDate !== undefined) requireLocalDate(change.startDate, "startDate");
  if (change.localTime !== undefined) requireLocalTime(change.localTime, "localTime");
  const business = await requireBookableBusiness(ctx, series.businessId);
  const zone = await requireZone(ctx, business, series.zoneId);
  const upcoming = (await planVisits(ctx, series._id)).filter((b) => isUpcomingVisit(b, now));
  const pivot =
    change.fromBookingId === undefined ? upcoming[0] : await upcomingVisitOf(ctx, series, change.fromBookingId, now, "fromBookingId");
  if (pivot === undefined) throw appError("INVALID_TRANSITION", "The plan has no upcoming visit to change.", { param: "seriesId" });
  const affected = upcoming.filter((b) => b.start >= pivot.start);
  const recurrence = change.recurrence ?? recurrenceOf(series);
  const rule = ruleOf(recurrence)!;
  const sameFrequency = frequencyFields(recurrence).frequency === series.frequency && frequencyFields(recurrence).interval === series.interval;
  const localTime = change.localTime ?? series.localTime;
  const startDate = change.startDate ?? pivot.localDate;
  if (sameFrequency && localTime === series.localTime && startDate === pivot.localDate) {
    throw appError("INVALID_ARGUMENT", "Nothing changes: give a new time, date or frequency.", { param: "localTime" });
  }
  const indexOffset = pivot.occurrenceIndex ?? 0;
  const prices = await planPrices(ctx, business, zone, series.cart, recurrence, indexOffset === 0 ? 0 : -1);
  const lastDate = [affected.at(-1)!.localDate, startDate].sort().at(-1)!;
  const occurrences = occurrencesOf({
    timeZone: business.timeZone,
    startDate,
    startTime: localTime,
    durationMinutes: prices.priced.quote.durationMinutes + business.policies.booking.arrivalWindowMinutes,
    rule,
    // The same frequency: every current visit moves (as many new ones); a new frequency: the
    // new visits cover the time the current ones did.
    ...(sameFrequency ? { count: Math.min(affected.length, MAX_SERIES_OCCURRENCES) } : { until: lastDate }),
  }).slice(0, MAX_SERIES_OCCURRENCES);
  if (occurrences[0].start <= now) throw appError("INVALID_ARGUMENT", "The new first visit would be in the past.", { param: "startDate" });

  // Pair the new visits with the current ones: the one on the same day first, then in order.
  const pairOf = new Map<number, Doc<"bookings">>();
  const unpaired = new Set(affected.map((b) => b._id));
  for (const o of occurrences) {
    const sameDay = affected.find((b) => b.localDate === o.date && unpaired.has(b._id));
    if (sameDay) {
      pairOf.set(o.index, sameDay);
      unpaired.delete(sameDay._id);
    }
  }
  for (const o of occurrences) {
    if (pairOf.has(o.index)) continue;
    const next = affected.find((b) => unpaired.has(b._id));
    if (next === undefined) break;
    pairOf.set(o.index, next);
    unpaired.delete(next._id);
  }
  const byCustomer = who.actingFor === "customer";
  const shape = { zoneId: zone._id, items: prices.priced.items, quote: prices.priced.storedQuote };
  const rows: ChangeRow[] = [];
  for (const o of occurrences) {
    const old = pairOf.get(o.index);
    const placement = { index: indexOffset + o.index, date: o.date, start: o.start };
    const base = { index: placement.index, date: o.date, start: o.start };
    if (old !== undefined && old.start === o.start && sameFrequency) {
      rows.push({ action: "keep", bookingId: old._id, previousStart: old.start, ...base, feeMinor: 0 });
      continue;
    }
    const sameDayOld = affected.find((b) => b.localDate === o.date);
    const conflict = await judgeVisit(ctx, business, shape, placement, byCustomer ? "customer" : "staff", now, sameDayOld?._id);
    if (old === undefined) {
      rows.push({ action: "add", ...base, feeMinor: 0, ...(conflict ? { conflict } : {}) });
      continue;
    }
    const moved = old.start !== o.start;
    const verdict = moved ? rescheduleVerdict(business, old, await invoiceOf(ctx, old), byCustomer, now) : null;
    if (verdict !== null && !verdict.allowed) {
      throw appError("POLICY_VIOLATION", `The visit of ${old.localDate} cannot be moved: ${verdict.reason}.`, { param: "fromBookingId" });
    }
    rows.push({
      action: moved ? "move" : "reprice",
      bookingId: old._id,
      previousStart: old.start,
      ...base,
      feeMinor: verdict?.feeMinor ?? 0,
      ...(verdict ? { feeReason: verdict.reason } : {}),
      ...(conflict ? { conflict } : {}),
    });
  }
  for (const old of affected.filter((b) => unpaired.has(b._id))) {
    const decision = cancellationDecision(business, old, await invoiceOf(ctx, old), byCustomer, now);
    rows.push({ action: "drop", bookingId: old._id, previousStart: old.start, feeMinor: decision.feeMinor, feeReason: decision.reason });
  }
  return {
    business,
    zone,
    customerId: series.customerId,
    rows,
    feeMinor: rows.reduce((sum, r) => sum + r.feeMinor, 0),
    currency: business.currency,
    recurrence,
    startDate,
    localTime,
    indexOffset,
    occurrenceCount: occurrences.length,
    discountBp: prices.discountBp,
    totalPerVisitMinor: prices.priced.quote.totalMinor,
    pricedFor: prices.pricedFor,
  };
}

/** The preview without the loaded documents, as queries return it. */
export function presentChangePreview(preview: Awaited<ReturnType<typeof planChangePreview>>) {
  const { business: _b, zone: _z, pricedFor: _p, customerId: _c, ...rest } = preview;
  return rest;
}

/**
 * Applies a plan change: the current visits from the pivot on that do not stay as they are
 * are cancelled for the business (no cancellation fee, no message each), the new ones booked
 * at the new frequency's price, and the fees shown by the preview charged (a moved visit's
 * late-reschedule fee on its new visit's invoice, a dropped visit's cancellation fee on its own).
 * The plan restarts its rule at the pivot, so the daily extension continues from the new times.
 */
export async function changePlan(
  ctx: MutationCtx,
  who: BookingActor,
  series: Doc<"recurringSeries">,
  change: PlanChange,
  input: { onConflict: "skip" | "fail" | "alternative"; expectedFeeMinor?: number },
  now: number,
) {
  const preview = await planChangePreview(ctx, who, series, change, now);
  if (input.expectedFeeMinor !== undefined && input.expectedFeeMinor !== preview.feeMinor) {
    throw appError("POLICY_VIOLATION", `The fee for this change is now ${preview.feeMinor}; confirm again.`, {
      param: "expectedFeeMinor",
      details: { feeMinor: preview.feeMinor },
    });
  }
  const conflicts = preview.rows.flatMap((r) => (r.conflict ? [r.conflict] : []));
  if (conflicts.length > 0 && input.onConflict === "fail") {
    throw appError("SLOT_UNAVAILABLE", `${conflicts.length} of the new visits are not available.`, { param: "localTime", details: { conflicts } });
  }
  const asBusiness: BookingActor = { ...who, actingFor: "business" };
  let cancelled = 0;
  for (const row of preview.rows) {
    if (row.action === "keep" || row.action === "add" || row.bookingId === undefined) continue;
    const booking = (await ctx.db.get("bookings", row.bookingId))!;
    if (row.action === "drop") {
      await cancelBooking(ctx, who, booking, { reason: PLAN_CHANGED_REASON, notify: false }, now);
    } else {
      // Moved or re-priced: its new visit replaces it; the move's fee goes on the new visit.
      const released = await releaseAssignments(ctx, booking._id);
      const updated = await transition(ctx, booking, "CANCELLED", asBusiness, now, {
        reason: PLAN_CHANGED_REASON,
        patch: { assignedResourceIds: [], cancellation: { at: now, actor: who.actor, reason: PLAN_CHANGED_REASON, feeMinor: 0 } },
      });
      await voidUnpaidInvoice(ctx, updated, 0);
      await emitBookingChange(ctx, updated, "cancelled", { from: booking.status, resourceIds: released.map((a) => a.resourceId) });
    }
    cancelled++;
  }
  const placements: Placement[] = [];
  const feeOf = new Map<number, number>();
  for (const row of preview.rows) {
    if (row.action === "keep" || row.action === "drop" || row.start === undefined) continue;
    const start = row.conflict === undefined ? row.start : input.onConflict === "alternative" ? row.conflict.alternative : undefined;
    if (start === undefined) continue;
    placements.push({ index: row.index!, date: row.date!, start });
    if (row.feeMinor > 0) feeOf.set(row.index!, row.feeMinor);
  }
  const customer = (await ctx.db.get("customers", series.customerId))!;
  const previousVisit = (await planVisits(ctx, series._id)).at(-1);
  const booked = await placeVisits(ctx, {
    business: preview.business,
    zone: preview.zone,
    customer,
    seriesId: series._id,
    frequency: preview.recurrence.frequency,
    placements: placements.sort((a, b) => a.start - b.start),
    pricedFor: preview.pricedFor,
    actor: who.actor,
    mode: who.actingFor === "customer" ? "customer" : "staff",
    now,
    address: previousVisit?.address,
    customerNotes: previousVisit?.customerNotes,
  });
  for (const visit of booked) {
    const fee = feeOf.get(visit.index);
    const invoice = fee === undefined ? null : await invoiceOf(ctx, (await ctx.db.get("bookings", visit.bookingId))!);
    if (fee !== undefined && invoice !== null) await addRescheduleFee(ctx, invoice, fee);
  }
  await ctx.db.patch("recurringSeries", series._id, {
    ...frequencyFields(preview.recurrence),
    startDate: preview.startDate,
    localTime: preview.localTime,
    occurrences: preview.occurrenceCount,
    indexOffset: preview.indexOffset,
    discountBp: preview.discountBp,
  });
  if (booked.length > 0) await notifyCustomer(ctx, booked[0].bookingId, "booking_rescheduled");
  return { cancelled, booked, conflicts, feeMinor: preview.feeMinor };
}
