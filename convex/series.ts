/**
 * Recurring series (weekly, every N weeks, monthly) with a frequency discount.
 *
 * Occurrences are computed in local wall-clock time by `domain/recurrence` (09:00 stays
 * 09:00 across DST). Every occurrence is checked against availability before anything is
 * written; the result reports which dates failed and why. With `onConflict: "fail"` any
 * conflict refuses the whole series (nothing is written); with `"skip"` the occurrences
 * that fit are booked and the others reported. Each occurrence is then placed through the
 * same no-double-booking path as a single booking, inside this one transaction.
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { isDomainError } from "../domain/errors";
import { seriesOccurrences, type Occurrence } from "../domain/recurrence";
import { isValidLocalDate, parseLocalTime } from "../domain/time";
import type { Doc, Id } from "./_generated/dataModel";
import type { QueryCtx as RawQueryCtx } from "./_generated/server";
import { accessTo, requireCustomerAccess, requireUser } from "./access";
import { appError } from "./errors";
import { internalMutation, mutation, query, type QueryCtx } from "./functions";
import { actorOf, domainRoleOf } from "./model/bookingAccess";
import {
  createBooking,
  placementRequestFor,
  requireBookableBusiness,
  requireZone,
  resolveBookingCustomer,
} from "./model/bookingCreate";
import { emitBookingChange, emitInvoiceChange, notifyCustomer } from "./model/bookingEvents";
import { cancellationDecision, invoiceOf } from "./model/bookingPolicy";
import { discountFor, priceCart, ruleOf, vRecurrence, type PricedCart, type Recurrence } from "./model/bookingPricing";
import { findFit, releaseAssignments, type RuleMode } from "./model/bookingSlots";
import { transition } from "./model/bookingTransitions";
import { issueInvoice } from "./model/invoiceLines";
import { bookingActorOf } from "./model/bookingCommands";
import { alternativeStart, extendPlan, pausePlan, planCancellationPreview, resumePlan, SKIP_REASON, skipVisit } from "./model/seriesCommands";
import { vAddress, vBookingStatus, vCartItem } from "./schema";

/** Occurrences booked in one call (a year of weekly visits). */
export const MAX_SERIES_OCCURRENCES = 52;

const vSeriesArgs = {
  businessId: v.id("businesses"),
  zoneId: v.id("zones"),
  cart: v.array(vCartItem),
  recurrence: vRecurrence,
  /** Local date of the first occurrence and local start time, in the business's zone. */
  startDate: v.string(),
  localTime: v.string(),
  occurrences: v.number(),
  /** Only for managers/owners booking on behalf of a customer. */
  customerId: v.optional(v.id("customers")),
};

/** A visit that cannot be placed, why, and the nearest same-day start that fits (when there is one). */
const vConflict = v.object({
  index: v.number(),
  date: v.string(),
  start: v.number(),
  code: v.string(),
  reason: v.string(),
  alternative: v.optional(v.number()),
});
const vPlanned = v.object({ index: v.number(), date: v.string(), start: v.number() });

type Plan = {
  business: Doc<"businesses">;
  zone: Doc<"zones">;
  priced: PricedCart;
  discountBp: number;
  occurrences: Occurrence[];
  fitting: Occurrence[];
  conflicts: { index: number; date: string; start: number; code: string; reason: string; alternative?: number }[];
};

function frequencyOf(recurrence: Recurrence): Doc<"recurringSeries">["frequency"] {
  return recurrence.frequency;
}

async function planSeries(
  ctx: RawQueryCtx,
  args: { businessId: Id<"businesses">; zoneId: Id<"zones">; cart: Doc<"recurringSeries">["cart"]; recurrence: Recurrence; startDate: string; localTime: string; occurrences: number },
  mode: RuleMode,
  now: number,
): Promise<Plan> {
  if (!isValidLocalDate(args.startDate)) throw appError("INVALID_ARGUMENT", "startDate must be a date YYYY-MM-DD.", { param: "startDate" });
  try {
    parseLocalTime(args.localTime);
  } catch {
    throw appError("INVALID_ARGUMENT", "localTime must be a time HH:MM.", { param: "localTime" });
  }
  if (!Number.isInteger(args.occurrences) || args.occurrences < 2 || args.occurrences > MAX_SERIES_OCCURRENCES) {
    throw appError("INVALID_ARGUMENT", `A series has 2 to ${MAX_SERIES_OCCURRENCES} occurrences.`, { param: "occurrences" });
  }
  const business = await requireBookableBusiness(ctx, args.businessId);
  const zone = await requireZone(ctx, business, args.zoneId);
  const discount = discountFor(args.recurrence);
  const priced = await priceCart(ctx, business, zone, args.cart, discount);
  const rule = ruleOf(args.recurrence)!;
  let occurrences: Occurrence[];
  try {
    occurrences = seriesOccurrences({
      timeZone: business.timeZone,
      startDate: args.startDate,
      startTime: args.localTime,
      durationMinutes: priced.quote.durationMinutes + business.policies.booking.arrivalWindowMinutes,
      rule,
      count: args.occurrences,
    });
  } catch (error) {
    if (isDomainError(error)) throw appError("INVALID_ARGUMENT", error.message, { param: "recurrence" });
    throw error;
  }
  const fitting: Occurrence[] = [];
  const conflicts: Plan["conflicts"] = [];
  const shape = { zoneId: zone._id, items: priced.items, quote: priced.storedQuote };
  for (const occurrence of occurrences) {
    const fit = await findFit(ctx, { ...placementRequestFor(business, shape, occurrence.start, mode, now), ignoreHorizon: true });
    if (fit.ok) {
      fitting.push(occurrence);
      continue;
    }
    const alternative = await alternativeStart(ctx, business, shape, occurrence.start, mode, now);
    conflicts.push({
      index: occurrence.index,
      date: occurrence.date,
      start: occurrence.start,
      code: fit.code,
      reason: fit.reason,
      ...(alternative === null ? {} : { alternative }),
    });
  }
  return { business, zone, priced, discountBp: discount.discountBp, occurrences, fitting, conflicts };
}

async function modeFor(ctx: QueryCtx, businessId: Id<"businesses">): Promise<RuleMode> {
  const access = await accessTo(ctx, businessId);
  return access !== null && (access.role === "owner" || access.role === "manager") ? "staff" : "customer";
}

/** Dry run: which occurrences would fit, and why the others would not. */
export const check = query({
  args: vSeriesArgs,
  returns: v.object({
    discountBp: v.number(),
    totalPerOccurrenceMinor: v.number(),
    fitting: v.array(vPlanned),
    conflicts: v.array(vConflict),
  }),
  handler: async (ctx, args) => {
    requireUser(ctx);
    const plan = await planSeries(ctx, args, await modeFor(ctx, args.businessId), Date.now());
    return {
      discountBp: plan.discountBp,
      totalPerOccurrenceMinor: plan.priced.quote.totalMinor,
      fitting: plan.fitting.map((o) => ({ index: o.index, date: o.date, start: o.start })),
      conflicts: plan.conflicts,
    };
  },
});

export const create = mutation({
  args: {
    ...vSeriesArgs,
    /**
     * Visits that cannot be placed: "fail" refuses the plan, "skip" leaves them out,
     * "alternative" books the offered same-day time where there is one (else leaves them out).
     */
    onConflict: v.union(v.literal("skip"), v.literal("fail"), v.literal("alternative")),
    address: v.optional(vAddress),
    customerNotes: v.optional(v.string()),
  },
  returns: v.object({
    seriesId: v.id("recurringSeries"),
    discountBp: v.number(),
    booked: v.array(v.object({ index: v.number(), date: v.string(), start: v.number(), bookingId: v.id("bookings") })),
    conflicts: v.array(vConflict),
  }),
  handler: async (ctx, args) => {
    const user = requireUser(ctx);
    const now = Date.now();
    if (args.customerNotes !== undefined && args.customerNotes.length > 2000) {
      throw appError("INVALID_ARGUMENT", "Notes are limited to 2000 characters.", { param: "customerNotes" });
    }
    const business = await requireBookableBusiness(ctx, args.businessId);
    const access = await accessTo(ctx, business._id);
    const who = await resolveBookingCustomer(ctx, access, user, business, args.customerId, now);
    const plan = await planSeries(ctx, args, who.mode, now);
    if (plan.conflicts.length > 0 && (args.onConflict === "fail" || plan.fitting.length === 0)) {
      throw appError(
        "SLOT_UNAVAILABLE",
        plan.fitting.length === 0
          ? "None of the occurrences is available."
          : `${plan.conflicts.length} of ${plan.occurrences.length} occurrences are not available.`,
        { param: "startDate", details: { conflicts: plan.conflicts } },
      );
    }
    const seriesId = await ctx.db.insert("recurringSeries", {
      businessId: business._id,
      customerId: who.customer._id,
      zoneId: plan.zone._id,
      industryId: plan.priced.industryId,
      frequency: frequencyOf(args.recurrence),
      interval: args.recurrence.frequency === "every_n_weeks" ? args.recurrence.interval : 1,
      startDate: args.startDate,
      localTime: args.localTime,
      occurrences: args.occurrences,
      cart: args.cart,
      discountBp: plan.discountBp,
      status: "active",
      createdAt: now,
    });
    const booked = [];
    const placements = plan.fitting.map((o) => ({ index: o.index, date: o.date, start: o.start }));
    if (args.onConflict === "alternative") {
      for (const c of plan.conflicts) if (c.alternative !== undefined) placements.push({ index: c.index, date: c.date, start: c.alternative });
      placements.sort((a, b) => a.start - b.start);
    }
    for (const occurrence of placements) {
      // Checked above in this same transaction (alternatives too), so this placement succeeds; if it did not,
      // the whole series would roll back rather than be half written.
      const booking = await createBooking(ctx, {
        business,
        zone: plan.zone,
        customer: who.customer,
        priced: plan.priced,
        start: occurrence.start,
        status: "CONFIRMED",
        source: "series",
        actor: who.actor,
        mode: who.mode,
        now,
        frequency: frequencyOf(args.recurrence),
        seriesId,
        occurrenceIndex: occurrence.index,
        address: args.address,
        customerNotes: args.customerNotes,
      });
      const invoice = await issueInvoice(ctx, booking, business, now);
      await emitBookingChange(ctx, (await ctx.db.get("bookings", booking._id))!, "confirmed", { availabilityChanged: true });
      await emitInvoiceChange(ctx, invoice, "issued");
      booked.push({ index: occurrence.index, date: occurrence.date, start: occurrence.start, bookingId: booking._id });
    }
    // One confirmation for the plan (its first visit), not one message per occurrence.
    await notifyCustomer(ctx, booked[0].bookingId, "booking_confirmed", true);
    return { seriesId, discountBp: plan.discountBp, booked, conflicts: plan.conflicts };
  },
});

async function loadSeriesForViewer(ctx: QueryCtx, seriesId: Id<"recurringSeries">, mode: "read" | "write") {
  requireUser(ctx);
  const series = await ctx.db.get("recurringSeries", seriesId);
  const notFound = () => appError("NOT_FOUND", "Series not found.", { param: "seriesId" });
  if (series === null) throw notFound();
  const access = await accessTo(ctx, series.businessId);
  if (access === null) throw notFound();
  if (access.role === "customer" && access.customer._id !== series.customerId) throw notFound();
  if (access.role === "staff") throw appError("FORBIDDEN", "Only a manager or the owner can manage a series.");
  if (access.role === "platform_admin" && mode === "write") throw appError("FORBIDDEN", "Platform admins cannot change bookings.");
  return { series, access };
}

const MAX_SERIES_BOOKINGS = 600;

export const get = query({
  args: { seriesId: v.id("recurringSeries") },
  returns: v.object({
    seriesId: v.id("recurringSeries"),
    businessId: v.id("businesses"),
    customerId: v.id("customers"),
    status: v.string(),
    frequency: v.string(),
    interval: v.number(),
    localTime: v.string(),
    discountBp: v.number(),
    occurrences: v.array(
      v.object({
        bookingId: v.id("bookings"),
        index: v.number(),
        start: v.number(),
        status: vBookingStatus,
        totalMinor: v.number(),
        currency: v.string(),
        skipped: v.boolean(),
      }),
    ),
  }),
  handler: async (ctx, args) => {
    const { series } = await loadSeriesForViewer(ctx, args.seriesId, "read");
    const bookings = await ctx.db
      .query("bookings")
      .withIndex("by_seriesId", (q) => q.eq("seriesId", series._id))
      .take(MAX_SERIES_BOOKINGS);
    return {
      seriesId: series._id,
      businessId: series.businessId,
      customerId: series.customerId,
      status: series.status,
      frequency: series.frequency,
      interval: series.interval,
      localTime: series.localTime,
      discountBp: series.discountBp,
      occurrences: bookings
        .map((b) => ({
          bookingId: b._id,
          index: b.occurrenceIndex ?? 0,
          start: b.start,
          status: b.status,
          totalMinor: b.quote.totalMinor,
          currency: b.quote.currency,
          skipped: b.cancellation?.reason === SKIP_REASON,
        }))
        .sort((a, b) => a.start - b.start),
    };
  },
});

/** The frequencies a plan can have, with the discount each one gets. */
export const frequencyOptions = query({
  args: { businessId: v.id("businesses") },
  returns: v.array(v.object({ key: v.string(), label: v.string(), recurrence: vRecurrence, discountBp: v.number() })),
  handler: async (ctx, args) => {
    await requireBookableBusiness(ctx, args.businessId);
    const options: { key: string; label: string; recurrence: Recurrence }[] = [
      { key: "weekly", label: "Every week", recurrence: { frequency: "weekly" } },
      { key: "every_2_weeks", label: "Every 2 weeks", recurrence: { frequency: "every_n_weeks", interval: 2 } },
      { key: "every_4_weeks", label: "Every 4 weeks", recurrence: { frequency: "every_n_weeks", interval: 4 } },
      { key: "monthly", label: "Every month", recurrence: { frequency: "monthly" } },
    ];
    return options.map((o) => ({ ...o, discountBp: discountFor(o.recurrence).discountBp }));
  },
});

/** The customer's plans (the customer themself, or managers and owners of the business). */
export const forCustomer = query({
  args: { customerId: v.id("customers") },
  returns: v.array(
    v.object({ seriesId: v.id("recurringSeries"), status: v.string(), frequency: v.string(), interval: v.number(), localTime: v.string(), discountBp: v.number() }),
  ),
  handler: async (ctx, args) => {
    const { customer } = await requireCustomerAccess(ctx, args.customerId, { minimumStaffRole: "manager" });
    const plans = await ctx.db
      .query("recurringSeries")
      .withIndex("by_customerId", (q) => q.eq("customerId", customer._id))
      .order("desc")
      .take(50);
    return plans.map((p) => ({ seriesId: p._id, status: p.status, frequency: p.frequency, interval: p.interval, localTime: p.localTime, discountBp: p.discountBp }));
  },
});

/** Skips one upcoming visit of the plan (cancelled under the cancellation policy; fee as previewed). */
export const skip = mutation({
  args: { seriesId: v.id("recurringSeries"), bookingId: v.id("bookings"), expectedFeeMinor: v.optional(v.number()) },
  returns: v.object({ feeMinor: v.number() }),
  handler: async (ctx, args) => {
    const { series, access } = await loadSeriesForViewer(ctx, args.seriesId, "write");
    const { decision } = await skipVisit(ctx, bookingActorOf(access), series, args.bookingId, args.expectedFeeMinor, Date.now());
    return { feeMinor: decision.feeMinor };
  },
});

/** What cancelling the plan now costs, per upcoming visit (shown before `cancel`). */
export const cancelPreview = query({
  args: { seriesId: v.id("recurringSeries") },
  returns: v.object({
    visits: v.array(v.object({ bookingId: v.id("bookings"), start: v.number(), feeMinor: v.number() })),
    feeMinor: v.number(),
    currency: v.string(),
  }),
  handler: async (ctx, args) => {
    const { series, access } = await loadSeriesForViewer(ctx, args.seriesId, "read");
    return await planCancellationPreview(ctx, series, access.role === "customer", Date.now());
  },
});

/** Cancels every future occurrence still booked and closes the series. */
export const cancel = mutation({
  args: {
    seriesId: v.id("recurringSeries"),
    reason: v.optional(v.string()),
    /** The total fee shown by `cancelPreview`; refused if it changed since. */
    expectedFeeMinor: v.optional(v.number()),
  },
  returns: v.object({ cancelled: v.number(), feeMinor: v.number() }),
  handler: async (ctx, args) => {
    const { series, access } = await loadSeriesForViewer(ctx, args.seriesId, "write");
    if (args.expectedFeeMinor !== undefined) {
      const preview = await planCancellationPreview(ctx, series, access.role === "customer", Date.now());
      if (preview.feeMinor !== args.expectedFeeMinor) {
        throw appError("POLICY_VIOLATION", `The cancellation fee is now ${preview.feeMinor}; confirm again.`, {
          param: "expectedFeeMinor",
          details: { feeMinor: preview.feeMinor },
        });
      }
    }
    if (args.reason !== undefined && args.reason.length > 500) {
      throw appError("INVALID_ARGUMENT", "The reason is limited to 500 characters.", { param: "reason" });
    }
    if (series.status === "cancelled") throw appError("INVALID_TRANSITION", "The series is already cancelled.", { param: "seriesId" });
    const now = Date.now();
    const business = (await ctx.db.get("businesses", series.businessId))!;
    const actor = actorOf(access);
    const domainRole = domainRoleOf(access)!;
    const byCustomer = access.role === "customer";
    const bookings = await ctx.db
      .query("bookings")
      .withIndex("by_seriesId", (q) => q.eq("seriesId", series._id))
      .take(MAX_SERIES_BOOKINGS);
    let cancelled = 0;
    let feeMinor = 0;
    for (const booking of bookings) {
      if (booking.start <= now) continue;
      if (booking.status !== "HELD" && booking.status !== "PENDING_PAYMENT" && booking.status !== "CONFIRMED") continue;
      const invoice = await invoiceOf(ctx, booking);
      const decision = cancellationDecision(business, booking, invoice, byCustomer, now);
      const released = await releaseAssignments(ctx, booking._id);
      const updated = await transition(ctx, booking, "CANCELLED", { domainRole, actor }, now, {
        reason: args.reason ?? "series cancelled",
        patch: {
          holdExpiresAt: undefined,
          assignedResourceIds: [],
          cancellation: { at: now, actor, reason: args.reason ?? "series cancelled", feeMinor: decision.feeMinor },
        },
      });
      if (invoice !== null && invoice.amountPaidMinor === 0 && decision.feeMinor === 0 && invoice.status !== "void") {
        await ctx.db.patch("invoices", invoice._id, { status: "void" });
        await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "voided");
      }
      await emitBookingChange(ctx, updated, "cancelled", { from: booking.status, resourceIds: released.map((a) => a.resourceId) });
      cancelled++;
      feeMinor += decision.feeMinor;
    }
    await ctx.db.patch("recurringSeries", series._id, { status: "cancelled" });
    return { cancelled, feeMinor };
  },
});

/** Pauses the plan: upcoming visits are cancelled under the policy (the fee `cancelPreview` shows), none are added. */
export const pause = mutation({
  args: { seriesId: v.id("recurringSeries"), expectedFeeMinor: v.optional(v.number()) },
  returns: v.object({ cancelled: v.number(), feeMinor: v.number() }),
  handler: async (ctx, args) => {
    const { series, access } = await loadSeriesForViewer(ctx, args.seriesId, "write");
    return await pausePlan(ctx, bookingActorOf(access), series, args.expectedFeeMinor, Date.now());
  },
});

/** Resumes a paused plan from its next occurrence, booking ahead to the horizon. */
export const resume = mutation({
  args: { seriesId: v.id("recurringSeries") },
  returns: v.object({ booked: v.number(), passedOver: v.number() }),
  handler: async (ctx, args) => {
    const { series } = await loadSeriesForViewer(ctx, args.seriesId, "write");
    return await resumePlan(ctx, series, Date.now());
  },
});

/** The daily cron: every active plan gets its visits booked up to the horizon, a page at a time. */
export const extendActivePlans = internalMutation({
  args: { paginationOpts: v.optional(paginationOptsValidator) },
  returns: v.object({ plans: v.number(), booked: v.number() }),
  handler: async (ctx, args) => {
    const now = Date.now();
    const page = await ctx.db
      .query("recurringSeries")
      .withIndex("by_status", (q) => q.eq("status", "active"))
      .paginate(args.paginationOpts ?? { numItems: 20, cursor: null });
    let booked = 0;
    for (const series of page.page) booked += (await extendPlan(ctx, series, now)).booked;
    if (!page.isDone) {
      await ctx.scheduler.runAfter(0, internal.series.extendActivePlans, { paginationOpts: { numItems: 20, cursor: page.continueCursor } });
    }
    return { plans: page.page.length, booked };
  },
});
