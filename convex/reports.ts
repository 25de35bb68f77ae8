/**
 * The owner's reports: revenue per local day and what is still outstanding, read from the
 * invoice aggregates (model/invoiceTotals.ts) instead of loading invoices, so the cost does
 * not grow with the number of invoices.
 */
import { v } from "convex/values";
import { addDays, isValidLocalDate, localMinutesToInstant } from "../domain/time";
import { requireBusinessRole } from "./access";
import { appError } from "./errors";
import { query } from "./functions";
import { invoiceOutstanding, invoiceRevenue } from "./model/invoiceTotals";
import { isUpcomingVisit, planFrequencyKey } from "./model/seriesCommands";
import { vPlanBillingStatus } from "./schema";

const MAX_DAYS = 92;

export const revenue = query({
  args: { businessId: v.id("businesses"), lastDay: v.string(), days: v.number() },
  returns: v.object({
    days: v.array(v.object({ date: v.string(), collectedMinor: v.number() })),
    outstandingMinor: v.number(),
  }),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "manager");
    if (!isValidLocalDate(args.lastDay)) throw appError("INVALID_ARGUMENT", "lastDay must be a date like 2026-03-02.", { param: "lastDay" });
    if (!Number.isInteger(args.days) || args.days < 1 || args.days > MAX_DAYS) {
      throw appError("INVALID_ARGUMENT", `days must be a whole number from 1 to ${MAX_DAYS}.`, { param: "days" });
    }
    const business = await ctx.db.get("businesses", args.businessId);
    if (business === null) throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
    const dates = Array.from({ length: args.days }, (_, i) => addDays(args.lastDay, i - args.days + 1));
    const sums = await invoiceRevenue.sumBatch(
      ctx,
      dates.map((date) => ({
        namespace: args.businessId,
        bounds: {
          lower: { key: localMinutesToInstant(date, 0, business.timeZone), inclusive: true },
          upper: { key: localMinutesToInstant(date, 1440, business.timeZone), inclusive: false },
        },
      })),
    );
    return {
      days: dates.map((date, i) => ({ date, collectedMinor: sums[i] })),
      outstandingMinor: await invoiceOutstanding.sum(ctx, { namespace: args.businessId }),
    };
  },
});

/** Plans listed at most (active and paused, newest first). */
const MAX_PLANS = 200;
/** Visits read for the revenue split, at most. */
const MAX_REVENUE_VISITS = 5_000;
const FREQUENCY_ORDER = ["once", "weekly", "every_2_weeks", "every_4_weeks", "monthly"];

/**
 * Recurring customers: every plan that is not cancelled with its customer, frequency,
 * billing state and next visits; and revenue per frequency (one-off, weekly, every 2 / 4
 * weeks, monthly …) over the `days` days ending `lastDay`: what was collected on the visits of
 * those days (paid minus refunded) and what they were booked for.
 */
export const recurring = query({
  args: { businessId: v.id("businesses"), lastDay: v.string(), days: v.number() },
  returns: v.object({
    activePlans: v.number(),
    recurringCustomers: v.number(),
    plans: v.array(
      v.object({
        seriesId: v.id("recurringSeries"),
        customerId: v.id("customers"),
        customerName: v.string(),
        frequency: v.string(),
        status: v.string(),
        localTime: v.string(),
        discountBp: v.number(),
        billing: v.union(vPlanBillingStatus, v.null()),
        upcomingVisits: v.number(),
        nextVisits: v.array(v.object({ bookingId: v.id("bookings"), start: v.number(), totalMinor: v.number() })),
      }),
    ),
    revenue: v.array(v.object({ frequency: v.string(), visits: v.number(), bookedMinor: v.number(), collectedMinor: v.number() })),
    currency: v.string(),
  }),
  handler: async (ctx, args) => {
    const { business } = await requireBusinessRole(ctx, args.businessId, "manager");
    if (!isValidLocalDate(args.lastDay)) throw appError("INVALID_ARGUMENT", "lastDay must be a date like 2026-03-02.", { param: "lastDay" });
    if (!Number.isInteger(args.days) || args.days < 1 || args.days > MAX_DAYS) {
      throw appError("INVALID_ARGUMENT", `days must be a whole number from 1 to ${MAX_DAYS}.`, { param: "days" });
    }
    const now = Date.now();
    const series = await ctx.db
      .query("recurringSeries")
      .withIndex("by_businessId", (q) => q.eq("businessId", business._id))
      .order("desc")
      .take(MAX_PLANS);
    const keyOf = new Map<string, string>(series.map((p) => [p._id, planFrequencyKey(p)]));
    const plans = [];
    for (const plan of series.filter((p) => p.status !== "cancelled")) {
      const customer = await ctx.db.get("customers", plan.customerId);
      const visits = (
        await ctx.db
          .query("bookings")
          .withIndex("by_seriesId", (q) => q.eq("seriesId", plan._id))
          .take(600)
      )
        .filter((b) => isUpcomingVisit(b, now))
        .sort((a, b) => a.start - b.start);
      plans.push({
        seriesId: plan._id,
        customerId: plan.customerId,
        customerName: customer?.name ?? "",
        frequency: keyOf.get(plan._id)!,
        status: plan.status,
        localTime: plan.localTime,
        discountBp: plan.discountBp,
        billing: plan.billing?.status ?? null,
        upcomingVisits: visits.length,
        nextVisits: visits.slice(0, 3).map((b) => ({ bookingId: b._id, start: b.start, totalMinor: b.quote.totalMinor })),
      });
    }
    const from = localMinutesToInstant(addDays(args.lastDay, 1 - args.days), 0, business.timeZone);
    const to = localMinutesToInstant(args.lastDay, 1440, business.timeZone);
    const visits = await ctx.db
      .query("bookings")
      .withIndex("by_businessId_and_start", (q) => q.eq("businessId", business._id).gte("start", from).lt("start", to))
      .take(MAX_REVENUE_VISITS);
    const revenue = new Map<string, { frequency: string; visits: number; bookedMinor: number; collectedMinor: number }>();
    for (const visit of visits) {
      if (visit.status === "HELD") continue;
      const frequency = visit.seriesId === undefined ? "once" : (keyOf.get(visit.seriesId) ?? visit.frequency);
      const row = revenue.get(frequency) ?? { frequency, visits: 0, bookedMinor: 0, collectedMinor: 0 };
      const invoice = visit.invoiceId ? await ctx.db.get("invoices", visit.invoiceId) : null;
      if (visit.status !== "CANCELLED") {
        row.visits++;
        row.bookedMinor += invoice?.totalMinor ?? visit.quote.totalMinor;
      }
      row.collectedMinor += invoice === null ? 0 : invoice.amountPaidMinor - invoice.amountRefundedMinor;
      revenue.set(frequency, row);
    }
    const rank = (k: string) => (FREQUENCY_ORDER.includes(k) ? FREQUENCY_ORDER.indexOf(k) : FREQUENCY_ORDER.length);
    return {
      activePlans: plans.filter((p) => p.status === "active").length,
      recurringCustomers: new Set(plans.map((p) => p.customerId)).size,
      plans,
      revenue: [...revenue.values()].sort((a, b) => rank(a.frequency) - rank(b.frequency) || a.frequency.localeCompare(b.frequency)),
      currency: business.currency,
    };
  },
});
