/**
 * Invoices from bookings.
 *
 * Lines are rebuilt from the booking alone (its frozen items and quote), so an invoice never
 * depends on catalogue prices that changed after the hold: products (quantity × unit price),
 * extras, the frequency discount (negative), trip charge, minimum top-up and, when prices
 * exclude tax, the tax line. The lines sum exactly to the quote's total; tax-inclusive
 * quotes carry no tax line (the tax is inside the prices) and report it in `taxMinor`.
 *
 * Numbering without a global counter: an invoice number is
 * `INV-<customer code>-<n>` where the customer code is a 40-bit hash of the customer id
 * (8 base-32 characters) and `n` is that customer's own sequence, read from their latest
 * invoice through `invoices.by_customerId`. Two invoices can only race for the same number
 * when they are for the same customer, in which case both transactions read the same index
 * range, Convex's OCC makes one retry and it takes the next number. Invoices of different
 * customers never touch a shared document, so invoicing scales with bookings.
 */
import { applyBasisPoints } from "../../domain/money";
import { formatRate } from "../../domain/pricing";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx, QueryCtx as RawQueryCtx } from "../_generated/server";
import type { InvoiceLine } from "../schema";

const FREQUENCY_LABEL: Record<Doc<"bookings">["frequency"], string> = {
  once: "Discount",
  weekly: "Weekly discount",
  every_n_weeks: "Recurring discount",
  monthly: "Monthly discount",
};

/** Tax is exclusive exactly when adding it to the pre-tax amount gives the total. */
export function isTaxExclusive(quote: Doc<"bookings">["quote"]): boolean {
  const pretax = quote.subtotalMinor - quote.discountMinor + quote.tripChargeMinor + quote.minimumTopUpMinor;
  return quote.taxMinor === 0 || pretax + quote.taxMinor === quote.totalMinor;
}

export function invoiceLinesFor(
  booking: Pick<Doc<"bookings">, "items" | "quote" | "frequency">,
  taxRateBp?: number,
): InvoiceLine[] {
  const lines: InvoiceLine[] = [];
  for (const item of booking.items) {
    lines.push({
      kind: "product",
      description: item.name,
      quantity: item.quantity,
      unitAmountMinor: item.unitPriceMinor,
      amountMinor: item.unitPriceMinor * item.quantity,
    });
    for (const extra of item.extras) {
      lines.push({
        kind: "extra",
        description: extra.name,
        quantity: extra.quantity,
        unitAmountMinor: extra.quantity > 0 ? Math.round(extra.amountMinor / extra.quantity) : extra.amountMinor,
        amountMinor: extra.amountMinor,
      });
    }
  }
  const q = booking.quote;
  const single = (kind: InvoiceLine["kind"], description: string, amountMinor: number): InvoiceLine => ({
    kind,
    description,
    quantity: 1,
    unitAmountMinor: amountMinor,
    amountMinor,
  });
  if (q.discountMinor > 0) lines.push(single("discount", FREQUENCY_LABEL[booking.frequency], -q.discountMinor));
  if (q.tripChargeMinor > 0) lines.push(single("trip_charge", "Trip charge", q.tripChargeMinor));
  if (q.minimumTopUpMinor > 0) lines.push(single("minimum", "Minimum booking charge", q.minimumTopUpMinor));
  if (q.taxMinor > 0 && isTaxExclusive(q)) {
    lines.push(single("tax", taxRateBp === undefined ? "Tax" : `Tax (${formatRate(taxRateBp)})`, q.taxMinor));
  }
  const sum = lines.reduce((total, line) => total + line.amountMinor, 0);
  if (sum !== q.totalMinor) {
    // An internal inconsistency between the frozen items and the quote: never issue it.
    throw new Error(`Invoice lines sum to ${sum}, but the booking total is ${q.totalMinor}`);
  }
  return lines;
}

export function depositFor(totalMinor: number, depositBp: number): number {
  return Math.min(totalMinor, Math.max(0, applyBasisPoints(totalMinor, depositBp)));
}

const BASE32 = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/** 40-bit FNV-1a based code of an id, 8 Crockford base-32 characters. */
export function customerCode(customerId: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < customerId.length; i++) {
    const c = customerId.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
  }
  let value = BigInt(h1) * 256n + BigInt(h2 & 0xff);
  let out = "";
  for (let i = 0; i < 8; i++) {
    out = BASE32[Number(value & 31n)] + out;
    value >>= 5n;
  }
  return out;
}

export function formatInvoiceNumber(customerId: string, sequence: number): string {
  return `INV-${customerCode(customerId)}-${String(sequence).padStart(4, "0")}`;
}

export function sequenceOf(number: string): number {
  const match = /-(\d+)$/.exec(number);
  return match ? Number(match[1]) : 0;
}

/** The next number in the customer's own sequence (see the header). */
export async function nextInvoiceNumber(ctx: RawQueryCtx, customerId: Id<"customers">): Promise<string> {
  const latest = await ctx.db
    .query("invoices")
    .withIndex("by_customerId", (q) => q.eq("customerId", customerId))
    .order("desc")
    .first();
  return formatInvoiceNumber(customerId, (latest ? sequenceOf(latest.number) : 0) + 1);
}

/**
 * Issues the booking's invoice (1:1; idempotent: returns the existing one). The caller emits
 * the event.
 */
export async function issueInvoice(
  ctx: RawMutationCtx,
  booking: Doc<"bookings">,
  business: Doc<"businesses">,
  now: number,
): Promise<Doc<"invoices">> {
  const existing = await ctx.db
    .query("invoices")
    .withIndex("by_bookingId", (q) => q.eq("bookingId", booking._id))
    .first();
  if (existing !== null) return existing;
  const zone = await ctx.db.get("zones", booking.zoneId);
  const lines = invoiceLinesFor(booking, zone?.taxRateBp);
  const q = booking.quote;
  const invoiceId = await ctx.db.insert("invoices", {
    businessId: booking.businessId,
    bookingId: booking._id,
    customerId: booking.customerId,
    number: await nextInvoiceNumber(ctx, booking.customerId),
    status: "open",
    currency: q.currency,
    lines,
    subtotalMinor: q.subtotalMinor,
    discountMinor: q.discountMinor,
    taxMinor: q.taxMinor,
    totalMinor: q.totalMinor,
    depositMinor: depositFor(q.totalMinor, business.policies.booking.depositBp),
    amountPaidMinor: 0,
    amountRefundedMinor: 0,
    issuedAt: now,
  });
  await ctx.db.patch("bookings", booking._id, { invoiceId });
  return (await ctx.db.get("invoices", invoiceId))!;
}
