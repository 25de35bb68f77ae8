/**
 * A booking's customer notifications: the {{placeholders}} of a booking's messages
 * (`bookingVars`, in the recipient's locale and the business's time zone) and
 * `notifyBooking`, which queues one on the customer's channel (their preference, else email,
 * else SMS) through `queueNotification`. The confirmation and the receipt carry the invoice
 * as a PDF (rendered when the email is sent).
 */
import { v } from "convex/values";
import { bookingTitle, formatMoney } from "../../domain";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "../_generated/server";
import { env } from "../env";
import type { Channel, TemplateKey } from "../templates";
import { formatDate, formatTime } from "./messageFormat";
import { customerAddress, customerChannel, queueNotification, type NotificationAttachment } from "./notify";

type Ctx = Pick<RawMutationCtx, "db" | "scheduler">;

/** Templates whose email carries the booking's invoice as a PDF. */
export const INVOICE_ATTACHED: readonly TemplateKey[] = ["booking_confirmed", "payment_receipt"];

/** The {{placeholders}} of a booking's messages, in the recipient's locale and the business's zone. */
export function bookingVars(
  business: Doc<"businesses">,
  customer: Doc<"customers">,
  booking: Doc<"bookings">,
  locale: string,
  portalUrl: string,
): Record<string, string> {
  const tz = business.timeZone;
  const time =
    booking.arrivalWindowEnd !== undefined && booking.arrivalWindowEnd > booking.start
      ? `${formatTime(booking.start, tz, locale)} – ${formatTime(booking.arrivalWindowEnd, tz, locale)}`
      : formatTime(booking.start, tz, locale);
  const manageUrl = `${portalUrl}/b/${business.slug}/bookings/${booking._id}`;
  return {
    customerName: customer.name,
    businessName: business.name,
    serviceName: bookingTitle(booking.items, "booking"),
    bookingDate: formatDate(booking.start, tz, locale),
    bookingTime: time,
    totalAmount: formatMoney(booking.quote.totalMinor, booking.quote.currency, locale),
    manageUrl,
    reviewUrl: `${manageUrl}/review`,
  };
}

export const vExtraVars = v.object({
  previousStart: v.optional(v.number()),
  cancellationFeeMinor: v.optional(v.number()),
  amountPaidMinor: v.optional(v.number()),
  amountRefundedMinor: v.optional(v.number()),
  amountDueMinor: v.optional(v.number()),
  invoiceNumber: v.optional(v.string()),
  providerName: v.optional(v.string()),
});

/**
 * In-transaction twin of `notifyBookingEvent`, for booking mutations that want the
 * notification logged atomically with their change (no scheduler hop).
 */
export async function notifyBooking(
  ctx: Ctx,
  booking: Doc<"bookings">,
  templateKey: TemplateKey,
  channels?: Channel[],
  extra: {
    previousStart?: number;
    cancellationFeeMinor?: number;
    amountPaidMinor?: number;
    amountRefundedMinor?: number;
    amountDueMinor?: number;
    invoiceNumber?: string;
    providerName?: string;
  } = {},
) {
  const business = await ctx.db.get("businesses", booking.businessId);
  const customer = await ctx.db.get("customers", booking.customerId);
  if (business === null || customer === null) throw new Error(`notifyBooking: booking ${booking._id} has no business or customer`);
  const locale = customer.locale ?? business.locale;
  const vars = bookingVars(business, customer, booking, locale, env.portalUrl());
  const currency = booking.quote.currency;
  if (extra.previousStart !== undefined) {
    vars.previousDate = formatDate(extra.previousStart, business.timeZone, locale);
    vars.previousTime = formatTime(extra.previousStart, business.timeZone, locale);
  }
  // Values not passed in `extra` come from the booking, its invoice and its provider.
  const invoice = booking.invoiceId === undefined ? null : await ctx.db.get("invoices", booking.invoiceId);
  const provider = booking.assignedResourceIds.length === 0 ? null : await ctx.db.get("resources", booking.assignedResourceIds[0]);
  const cancellationFee = extra.cancellationFeeMinor ?? booking.cancellation?.feeMinor;
  const amountPaid = extra.amountPaidMinor ?? invoice?.amountPaidMinor;
  const amountRefunded = extra.amountRefundedMinor ?? invoice?.amountRefundedMinor;
  const amountDue = extra.amountDueMinor ?? (invoice ? Math.max(0, invoice.totalMinor - invoice.amountPaidMinor) : undefined);
  const invoiceNumber = extra.invoiceNumber ?? invoice?.number;
  const providerName = extra.providerName ?? provider?.name;
  if (cancellationFee !== undefined) vars.cancellationFee = formatMoney(cancellationFee, currency, locale);
  if (amountPaid !== undefined) vars.amountPaid = formatMoney(amountPaid, currency, locale);
  if (amountRefunded !== undefined) vars.amountRefunded = formatMoney(amountRefunded, currency, locale);
  if (amountDue !== undefined) vars.amountDue = formatMoney(amountDue, currency, locale);
  if (invoiceNumber !== undefined) vars.invoiceNumber = invoiceNumber;
  if (providerName !== undefined) vars.providerName = providerName;
  // The confirmation and the receipt carry the invoice as a PDF (rendered when the email is sent).
  const attachments: NotificationAttachment[] | undefined =
    INVOICE_ATTACHED.includes(templateKey) && invoice !== null && invoice.status !== "void" && invoice.status !== "draft"
      ? [{ kind: "invoice_pdf", invoiceId: invoice._id }]
      : undefined;
  // Nobody reachable (no address, or every channel opted out): one row on the likeliest
  // channel records why nothing was sent.
  const chosen = channels ?? [customerChannel(customer) ?? customer.preferredChannel ?? (customer.phone && !customer.email ? "sms" : "email")];
  const ids: Id<"notifications">[] = [];
  for (const channel of chosen) {
    ids.push(
      await queueNotification(ctx, {
        businessId: business._id,
        templateKey,
        channel,
        to: customerAddress(customer, channel),
        locale,
        vars,
        customerId: customer._id,
        userId: customer.userId,
        bookingId: booking._id,
        bookingStart: booking.start,
        attachments: channel === "email" ? attachments : undefined,
      }),
    );
  }
  return ids;
}
