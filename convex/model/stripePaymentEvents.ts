/**
 * Payment and invoice events in the shapes the invoices party accepts (`party/messages.ts`):
 * `payment.status_changed` and `invoice.upserted`, also seen as is by partner webhooks.
 */
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { emitEvent as emit, rooms } from "./events";

const INVOICE_STATUS_LABEL = {
  draft: "DRAFT",
  open: "OPEN",
  paid: "PAID",
  partially_refunded: "PARTIALLY_REFUNDED",
  refunded: "REFUNDED",
  void: "VOID",
} as const;

const PAYMENT_STATUS_LABEL = {
  requires_payment: "REQUIRES_PAYMENT",
  processing: "PROCESSING",
  succeeded: "SUCCEEDED",
  failed: "FAILED",
  canceled: "CANCELED",
} as const;

/** A payment's status change, to the business's invoices room. */
export async function emitPaymentStatus(ctx: MutationCtx, type: string, payment: Doc<"payments">) {
  await emit(ctx, {
    businessId: payment.businessId,
    type,
    entity: { table: "payments", id: payment._id },
    data: {
      type: "payment.status_changed",
      businessId: payment.businessId,
      invoiceId: payment.invoiceId,
      paymentId: payment._id,
      status: PAYMENT_STATUS_LABEL[payment.status],
      amountMinor: payment.amountMinor,
      currency: payment.currency.toUpperCase(),
    },
    rooms: [rooms.invoices(payment.businessId)],
  });
}

/** Invoice changes in the `invoice.upserted` shape of the invoices party. */
export async function emitInvoiceUpsert(ctx: MutationCtx, type: string, invoice: Doc<"invoices">) {
  await emit(ctx, {
    businessId: invoice.businessId,
    type,
    entity: { table: "invoices", id: invoice._id },
    data: {
      type: "invoice.upserted",
      businessId: invoice.businessId,
      invoice: {
        invoiceId: invoice._id,
        bookingId: invoice.bookingId,
        customerId: invoice.customerId,
        status: INVOICE_STATUS_LABEL[invoice.status],
        currency: invoice.currency.toUpperCase(),
        totalMinor: invoice.totalMinor,
        amountPaidMinor: invoice.amountPaidMinor,
        amountRefundedMinor: invoice.amountRefundedMinor,
      },
    },
    rooms: [rooms.invoices(invoice.businessId)],
  });
}
