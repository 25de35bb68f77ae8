/**
 * Payment events in the shape the invoices party accepts (`party/messages.ts`):
 * `payment.status_changed`, also seen as is by partner webhooks. Invoice changes go through
 * `emitInvoiceChange` (model/bookingEvents.ts).
 */
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { emitEvent as emit, rooms } from "./events";

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
