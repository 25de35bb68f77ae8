/**
 * Invoices (read) and refunds (request, read) for the REST API, scoped to the API key's
 * business. Refund requests go through the payments engineer's `requestRefund`
 * (model/stripeRefunds.ts) with the API actor, exactly as refunds.create does for a manager.
 */
import { v } from "convex/values";
import { appError } from "../errors";
import { internalMutation, internalQuery } from "../functions";
import { requestRefund } from "../model/stripeRefunds";
import { vInvoiceStatus } from "../schema";
import { decodeCursor, listFingerprint, paginateFrom, toListPage } from "./v1/pagination";
import { presentInvoice, presentRefund } from "./v1/present";
import { apiActor, ownDoc, vApiCaller } from "./tenant";

const MAX_REASON = 500;

export const listInvoices = internalQuery({
  args: {
    ...vApiCaller,
    status: v.optional(vInvoiceStatus),
    customerId: v.optional(v.string()),
    from: v.optional(v.number()),
    to: v.optional(v.number()),
    order: v.union(v.literal("asc"), v.literal("desc")),
    limit: v.number(),
    cursor: v.optional(v.string()),
  },
  handler: async (ctx, args) => {
    const { from, to, status, businessId } = args;
    if (from !== undefined && to !== undefined && to < from) throw appError("INVALID_ARGUMENT", "`to` is before `from`.", { param: "to" });
    const fingerprint = listFingerprint({ list: "invoices", status, customerId: args.customerId, from, to, order: args.order });
    const cursor = decodeCursor(args.cursor, fingerprint);
    const customerId = args.customerId === undefined ? undefined : (await ownDoc(ctx, "customers", businessId, args.customerId, "customerId"))._id;
    let query = ctx.db.query("invoices").withIndex("by_businessId_and_issuedAt", (q) => {
      const base = q.eq("businessId", businessId);
      const lower = from === undefined ? base : base.gte("issuedAt", from);
      return to === undefined ? lower : lower.lt("issuedAt", to);
    });
    // eslint-disable-next-line @convex-dev/no-filter-in-query -- narrows an index range of this business during pagination
    if (status !== undefined) query = query.filter((q) => q.eq(q.field("status"), status));
    // eslint-disable-next-line @convex-dev/no-filter-in-query -- narrows an index range of this business during pagination
    if (customerId !== undefined) query = query.filter((q) => q.eq(q.field("customerId"), customerId));
    const result = await paginateFrom(query.order(args.order), args.limit, cursor);
    return toListPage(result, presentInvoice, fingerprint);
  },
});

export const getInvoice = internalQuery({
  args: { ...vApiCaller, invoiceId: v.string() },
  handler: async (ctx, args) => presentInvoice(await ownDoc(ctx, "invoices", args.businessId, args.invoiceId, "invoiceId")),
});

export const listRefunds = internalQuery({
  args: { ...vApiCaller, invoiceId: v.string() },
  handler: async (ctx, args) => {
    const invoice = await ownDoc(ctx, "invoices", args.businessId, args.invoiceId, "invoiceId");
    const refunds = await ctx.db
      .query("refunds")
      .withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id))
      .order("desc")
      .take(100);
    return { object: "list" as const, data: refunds.map(presentRefund), has_more: false, next_cursor: null };
  },
});

export const getRefund = internalQuery({
  args: { ...vApiCaller, refundId: v.string() },
  handler: async (ctx, args) => presentRefund(await ownDoc(ctx, "refunds", args.businessId, args.refundId, "refundId")),
});

export const createRefund = internalMutation({
  args: { ...vApiCaller, invoiceId: v.string(), amountMinor: v.optional(v.number()), reason: v.string() },
  handler: async (ctx, args) => {
    const invoice = await ownDoc(ctx, "invoices", args.businessId, args.invoiceId, "invoiceId");
    const reason = args.reason.trim();
    if (reason.length === 0 || reason.length > MAX_REASON) {
      throw appError("INVALID_ARGUMENT", `Give a reason of 1–${MAX_REASON} characters.`, { param: "reason" });
    }
    const plan = await requestRefund(ctx, {
      invoiceId: invoice._id,
      amountMinor: args.amountMinor,
      reason,
      actor: apiActor(args.apiKeyId),
      now: Date.now(),
      requireAmount: true,
    });
    const refunds = [];
    for (const r of plan.refunds) refunds.push(presentRefund((await ctx.db.get("refunds", r.refundId))!));
    return { object: "refund_request" as const, totalMinor: plan.totalMinor, policyReason: plan.policyReason ?? null, refunds };
  },
});
