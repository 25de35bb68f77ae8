/**
 * Invoices: one per booking, issued when the booking is confirmed (see
 * `model/invoiceLines.ts` for the lines, the deposit and the numbering without a global
 * counter). Status: open → paid (payments module) → partially_refunded / refunded
 * (refunds module); void when the booking is cancelled with nothing paid and no fee.
 *
 * Readers: the customer the invoice is for, the business's managers and owner, and the
 * platform admin; providers (staff) do not see invoices. Other tenants get NOT_FOUND.
 */
import { paginationOptsValidator, paginationResultValidator } from "convex/server";
import { v } from "convex/values";
import { doc } from "convex-helpers/validators";
import type { Doc, Id } from "./_generated/dataModel";
import { accessTo, atLeast, requireBusinessRole, requireCustomerAccess, requireUser } from "./access";
import { appError } from "./errors";
import { mutation, query, type QueryCtx } from "./functions";
import { emitInvoiceChange } from "./model/bookingEvents";
import { invoiceDocument, vInvoiceDocument } from "./model/invoicePdf";
import { requireLocale } from "./model/validation";
import schema, { vInvoiceStatus } from "./schema";

const vInvoice = doc(schema, "invoices");

async function loadInvoiceForViewer(ctx: QueryCtx, invoice: Doc<"invoices"> | null, param: string) {
  requireUser(ctx);
  const notFound = () => appError("NOT_FOUND", "Invoice not found.", { param });
  if (invoice === null) throw notFound();
  const access = await accessTo(ctx, invoice.businessId);
  if (access === null) throw notFound();
  if (access.role === "customer") {
    if (access.customer._id !== invoice.customerId) throw notFound();
  } else if (access.role === "staff") {
    throw appError("FORBIDDEN", "Only managers and the owner can see invoices.");
  }
  return { invoice, access };
}

export const get = query({
  args: { invoiceId: v.id("invoices") },
  returns: vInvoice,
  handler: async (ctx, args) => {
    const { invoice } = await loadInvoiceForViewer(ctx, await ctx.db.get("invoices", args.invoiceId), "invoiceId");
    return invoice;
  },
});

/**
 * What the invoice's PDF shows (`model/invoicePdf.ts`), for its readers only: the customer
 * it is for, the business's managers and owner, the platform admin. In the customer's
 * language unless `locale` is given. The portal downloads the PDF through
 * `invoiceFiles.pdf`; `GET /invoices/pdf?invoiceId=…` serves it to a bearer token.
 */
export const pdfDocument = query({
  // A string, not v.id: the HTTP route hands over what the URL says, and a malformed id is
  // answered like an unknown one (NOT_FOUND), here rather than by the caller guessing.
  args: { invoiceId: v.string(), locale: v.optional(v.string()) },
  returns: vInvoiceDocument,
  handler: async (ctx, args) => {
    const id = ctx.db.normalizeId("invoices", args.invoiceId);
    const { invoice } = await loadInvoiceForViewer(ctx, id === null ? null : await ctx.db.get("invoices", id), "invoiceId");
    return await invoiceDocument(ctx, invoice, args.locale === undefined ? undefined : requireLocale(args.locale));
  },
});

export const getForBooking = query({
  args: { bookingId: v.id("bookings") },
  returns: v.union(v.null(), vInvoice),
  handler: async (ctx, args) => {
    requireUser(ctx);
    const booking = await ctx.db.get("bookings", args.bookingId);
    if (booking === null) throw appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
    const access = await accessTo(ctx, booking.businessId);
    if (access === null || (access.role === "customer" && access.customer._id !== booking.customerId)) {
      throw appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
    }
    const invoice = await ctx.db
      .query("invoices")
      .withIndex("by_bookingId", (q) => q.eq("bookingId", booking._id))
      .first();
    if (invoice === null) return null;
    return (await loadInvoiceForViewer(ctx, invoice, "bookingId")).invoice;
  },
});

export const listForBusiness = query({
  args: {
    businessId: v.id("businesses"),
    paginationOpts: paginationOptsValidator,
    status: v.optional(vInvoiceStatus),
  },
  returns: paginationResultValidator(vInvoice),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "manager");
    const status = args.status;
    const q =
      status === undefined
        ? ctx.db.query("invoices").withIndex("by_businessId_and_issuedAt", (q) => q.eq("businessId", args.businessId))
        : ctx.db.query("invoices").withIndex("by_businessId_and_status", (q) => q.eq("businessId", args.businessId).eq("status", status));
    return await q.order("desc").paginate(args.paginationOpts);
  },
});

export const listForCustomer = query({
  args: { customerId: v.id("customers"), paginationOpts: paginationOptsValidator },
  returns: paginationResultValidator(vInvoice),
  handler: async (ctx, args) => {
    await requireCustomerAccess(ctx, args.customerId, { minimumStaffRole: "manager" });
    return await ctx.db
      .query("invoices")
      .withIndex("by_customerId", (q) => q.eq("customerId", args.customerId))
      .order("desc")
      .paginate(args.paginationOpts);
  },
});

/** Voids an unpaid invoice whose booking no longer stands (manager+). */
export const voidInvoice = mutation({
  args: { invoiceId: v.id("invoices") },
  returns: v.object({ status: vInvoiceStatus }),
  handler: async (ctx, args) => {
    const { invoice, access } = await loadInvoiceForViewer(ctx, await ctx.db.get("invoices", args.invoiceId), "invoiceId");
    if (!atLeast(access.role, "manager")) throw appError("FORBIDDEN", "Only managers and the owner can void invoices.");
    if (invoice.status === "void") return { status: "void" as const };
    if (invoice.amountPaidMinor > 0 || invoice.status !== "open") {
      throw appError("INVALID_TRANSITION", "Only an open invoice with nothing paid can be voided; refund it instead.", { param: "invoiceId" });
    }
    const booking = await ctx.db.get("bookings", invoice.bookingId as Id<"bookings">);
    if (booking !== null && booking.status !== "CANCELLED" && booking.status !== "NO_SHOW") {
      throw appError("INVALID_TRANSITION", "The booking still stands; cancel it first.", { param: "invoiceId" });
    }
    await ctx.db.patch("invoices", invoice._id, { status: "void" });
    await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "voided");
    return { status: "void" as const };
  },
});
