/**
 * The owner's report totals, kept by `@convex-dev/aggregate` as invoices change (a trigger on
 * the `invoices` table, registered in functions.ts, so every mutation keeps them in step):
 *
 * - `invoiceRevenue`: per business, keyed by the day money moved (`paidAt`, else `issuedAt`),
 *   summing collected minus refunded; a range sum gives the revenue of any period in O(log n).
 * - `invoiceOutstanding`: per business, summing what is still owed (total − paid).
 *
 * Void invoices count zero in both (they stay in the aggregates, so a void → paid change is
 * an ordinary replace).
 */
import { TableAggregate } from "@convex-dev/aggregate";
import { components } from "../_generated/api";
import type { DataModel, Doc, Id } from "../_generated/dataModel";

type InvoiceAggregate = { Namespace: Id<"businesses">; Key: number; DataModel: DataModel; TableName: "invoices" };

export function collectedMinor(invoice: Doc<"invoices">): number {
  return invoice.status === "void" ? 0 : invoice.amountPaidMinor - invoice.amountRefundedMinor;
}

export function outstandingMinor(invoice: Doc<"invoices">): number {
  return invoice.status === "void" ? 0 : Math.max(0, invoice.totalMinor - invoice.amountPaidMinor);
}

export const invoiceRevenue = new TableAggregate<InvoiceAggregate>(components.invoiceRevenue, {
  namespace: (invoice) => invoice.businessId,
  sortKey: (invoice) => invoice.paidAt ?? invoice.issuedAt,
  sumValue: collectedMinor,
});

export const invoiceOutstanding = new TableAggregate<InvoiceAggregate>(components.invoiceOutstanding, {
  namespace: (invoice) => invoice.businessId,
  sortKey: (invoice) => invoice.issuedAt,
  sumValue: outstandingMinor,
});
