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
