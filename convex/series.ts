/**
 * Recurring series (weekly, every N weeks, monthly) with a frequency discount: the portal's
 * doors to the plan commands (model/seriesCommands.ts), which hold every rule.
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
import type { Id } from "./_generated/dataModel";
import { accessTo, requireCustomerAccess, requireUser } from "./access";
import { appError } from "./errors";
import { internalMutation, mutation, query, type QueryCtx } from "./functions";
import { requireBookableBusiness, requireZone, resolveBookingCustomer } from "./model/bookingCreate";
import { discountFor, vRecurrence, type Recurrence } from "./model/bookingPricing";
import type { RuleMode } from "./model/bookingSlots";
import { bookingActorOf } from "./model/bookingCommands";
import {
  cancelPlan,
  changePlan,
  createPlan,
  extendPlan,
  MAX_SERIES_OCCURRENCES,
  pausePlan,
  planCancellationPreview,
  planChangePreview,
  planSeries,
  presentChangePreview,
  rescheduleVisit as reschedulePlanVisit,
  resumePlan,
  PLAN_CHANGED_REASON,
  SKIP_REASON,
  skipVisit,
} from "./model/seriesCommands";
import { vAddress, vBookingStatus, vCartItem, vPlanBillingStatus } from "./schema";

export { MAX_SERIES_OCCURRENCES };

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
const vOnConflict = v.union(v.literal("skip"), v.literal("fail"), v.literal("alternative"));

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
    /** The first visit's discount and price: 0 / full when the business leaves the first visit undiscounted. */
    firstVisitDiscountBp: v.number(),
    firstVisitTotalMinor: v.number(),
    fitting: v.array(vPlanned),
    conflicts: v.array(vConflict),
  }),
  handler: async (ctx, args) => {
    requireUser(ctx);
    const plan = await planSeries(ctx, args, await modeFor(ctx, args.businessId), Date.now());
    return {
      discountBp: plan.discountBp,
      totalPerOccurrenceMinor: plan.priced.quote.totalMinor,
      firstVisitDiscountBp: plan.firstVisitDiscountBp,
      firstVisitTotalMinor: plan.firstPriced.quote.totalMinor,
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
    onConflict: vOnConflict,
    address: v.optional(vAddress),
    customerNotes: v.optional(v.string()),
  },
  returns: v.object({
    seriesId: v.id("recurringSeries"),
    discountBp: v.number(),
    firstVisitDiscountBp: v.number(),
    booked: v.array(v.object({ index: v.number(), date: v.string(), start: v.number(), bookingId: v.id("bookings") })),
    conflicts: v.array(vConflict),
  }),
  handler: async (ctx, args) => {
    const user = requireUser(ctx);
    const now = Date.now();
    const business = await requireBookableBusiness(ctx, args.businessId);
    const access = await accessTo(ctx, business._id);
    const who = await resolveBookingCustomer(ctx, access, user, business, args.customerId, now);
    const { customerId: _customerId, ...input } = args;
    return await createPlan(ctx, who, input, now);
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
        /** Replaced by a visit at the plan's new time or frequency ("this and all future"). */
        replaced: v.boolean(),
        /** What its invoice has been paid, and whether the last charge on the saved card failed. */
        paidMinor: v.number(),
        chargeFailed: v.boolean(),
      }),
    ),
    /** Per-visit billing on a saved card: its state and the card (brand, last 4). */
    billing: v.union(
      v.null(),
      v.object({ status: vPlanBillingStatus, card: v.union(v.null(), v.object({ brand: v.string(), last4: v.string() })) }),
    ),
  }),
  handler: async (ctx, args) => {
    const { series } = await loadSeriesForViewer(ctx, args.seriesId, "read");
    const bookings = await ctx.db
      .query("bookings")
      .withIndex("by_seriesId", (q) => q.eq("seriesId", series._id))
      .take(MAX_SERIES_BOOKINGS);
    const payments = new Map<string, { paidMinor: number; chargeFailed: boolean }>();
    for (const b of bookings) {
      const invoice = b.invoiceId ? await ctx.db.get("invoices", b.invoiceId) : null;
      const last = invoice === null ? null : await ctx.db.query("payments").withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id)).order("desc").first();
      payments.set(b._id, { paidMinor: invoice?.amountPaidMinor ?? 0, chargeFailed: last?.status === "failed" && last.offSession !== undefined });
    }
    const method = series.billing?.paymentMethodId ? await ctx.db.get("paymentMethods", series.billing.paymentMethodId) : null;
    return {
      billing:
        series.billing === undefined
          ? null
          : { status: series.billing.status, card: method === null ? null : { brand: method.brand ?? "card", last4: method.last4 ?? "····" } },
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
          replaced: b.cancellation?.reason === PLAN_CHANGED_REASON,
          ...payments.get(b._id)!,
        }))
        .sort((a, b) => a.start - b.start),
    };
  },
});

/** The frequencies a plan can have, with the discount each one gets. */
export const frequencyOptions = query({
  args: { businessId: v.id("businesses"), /** The zone the customer is in: its own discounts. */ zoneId: v.optional(v.id("zones")) },
  returns: v.array(
    v.object({ key: v.string(), label: v.string(), recurrence: vRecurrence, discountBp: v.number(), firstVisitDiscountBp: v.number() }),
  ),
  handler: async (ctx, args) => {
    const business = await requireBookableBusiness(ctx, args.businessId);
    const zone = args.zoneId === undefined ? null : await requireZone(ctx, business, args.zoneId);
    const options: { key: string; label: string; recurrence: Recurrence }[] = [
      { key: "weekly", label: "Every week", recurrence: { frequency: "weekly" } },
      { key: "every_2_weeks", label: "Every 2 weeks", recurrence: { frequency: "every_n_weeks", interval: 2 } },
      { key: "every_4_weeks", label: "Every 4 weeks", recurrence: { frequency: "every_n_weeks", interval: 4 } },
      { key: "monthly", label: "Every month", recurrence: { frequency: "monthly" } },
    ];
    return options.map((o) => ({
      ...o,
      discountBp: discountFor(o.recurrence, { zone }).discountBp,
      firstVisitDiscountBp: discountFor(o.recurrence, { zone, business, visitIndex: 0 }).discountBp,
    }));
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

/** Cancels every upcoming visit still booked (fees as `cancelPreview` showed) and closes the plan. */
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
    return await cancelPlan(ctx, bookingActorOf(access), series, { reason: args.reason, expectedFeeMinor: args.expectedFeeMinor }, Date.now());
  },
});

/** Moves one visit of the plan only (the others keep their times), under the reschedule policy. */
export const rescheduleVisit = mutation({
  args: { seriesId: v.id("recurringSeries"), bookingId: v.id("bookings"), start: v.number(), expectedFeeMinor: v.optional(v.number()) },
  returns: v.object({ feeMinor: v.number(), start: v.number() }),
  handler: async (ctx, args) => {
    const { series, access } = await loadSeriesForViewer(ctx, args.seriesId, "write");
    const result = await reschedulePlanVisit(ctx, bookingActorOf(access), series, args.bookingId, { start: args.start, expectedFeeMinor: args.expectedFeeMinor }, Date.now());
    return { feeMinor: result.feeMinor, start: result.booking.start };
  },
});

const vPlanChange = {
  seriesId: v.id("recurringSeries"),
  /** The first visit that changes (default: the next one); all later visits change with it. */
  fromBookingId: v.optional(v.id("bookings")),
  /** That visit's new local date (default: its own) and the plan's new local time (default: unchanged). */
  startDate: v.optional(v.string()),
  localTime: v.optional(v.string()),
  /** The plan's new frequency (default: unchanged). */
  recurrence: v.optional(vRecurrence),
};

/** "This and all future" / a new frequency or time: what becomes of every visit, the fees, the conflicts. */
export const changePreview = query({
  args: vPlanChange,
  returns: v.object({
    rows: v.array(
      v.object({
        action: v.union(v.literal("keep"), v.literal("move"), v.literal("reprice"), v.literal("drop"), v.literal("add")),
        bookingId: v.optional(v.id("bookings")),
        previousStart: v.optional(v.number()),
        index: v.optional(v.number()),
        date: v.optional(v.string()),
        start: v.optional(v.number()),
        feeMinor: v.number(),
        feeReason: v.optional(v.string()),
        conflict: v.optional(vConflict),
      }),
    ),
    feeMinor: v.number(),
    currency: v.string(),
    recurrence: vRecurrence,
    startDate: v.string(),
    localTime: v.string(),
    indexOffset: v.number(),
    occurrenceCount: v.number(),
    discountBp: v.number(),
    totalPerVisitMinor: v.number(),
  }),
  handler: async (ctx, args) => {
    const { series, access } = await loadSeriesForViewer(ctx, args.seriesId, "read");
    const { seriesId: _s, ...change } = args;
    return presentChangePreview(await planChangePreview(ctx, bookingActorOf(access), series, change, Date.now()));
  },
});

/** Applies the change `changePreview` showed (its fee checked): future visits re-placed at the new time or frequency. */
export const change = mutation({
  args: { ...vPlanChange, onConflict: vOnConflict, expectedFeeMinor: v.optional(v.number()) },
  returns: v.object({
    cancelled: v.number(),
    booked: v.array(v.object({ index: v.number(), date: v.string(), start: v.number(), bookingId: v.id("bookings") })),
    conflicts: v.array(vConflict),
    feeMinor: v.number(),
  }),
  handler: async (ctx, args) => {
    const { series, access } = await loadSeriesForViewer(ctx, args.seriesId, "write");
    const { seriesId: _s, onConflict, expectedFeeMinor, ...change } = args;
    return await changePlan(ctx, bookingActorOf(access), series, change, { onConflict, expectedFeeMinor }, Date.now());
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
