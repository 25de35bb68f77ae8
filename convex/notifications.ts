/**
 * Notifications: templates rendered for one recipient, logged in `notifications` and
 * delivered by the channel's transport (email over SMTP, SMS/WhatsApp through Twilio or the
 * local inbox; see model/notifyTransports.ts). Every module queues through
 * `queueNotification` (model/notify.ts) inside its own mutation.
 *
 * Internal entry points:
 * - `notifyBookingEvent({ bookingId, templateKey })`: for the booking functions
 *   (confirmation, reschedule, cancellation, receipt with the invoice PDF, review request,
 *   en route…), on the customer's channel (their preference, else email, else SMS);
 * - `sendDueReminders({})`: for the cron; sends reminder_24h and reminder_2h once per
 *   booking (deduplicated through `notifications.by_bookingId_and_templateKey`);
 * - `startAttempt` / `finishAttempt`: the delivery action's claim and result (retries with
 *   growing waits for temporary failures);
 * - `deliverQueued({})`: the cron sweep that re-schedules queued rows whose run was lost.
 *
 * Portal: the owner's notification log (`log`), a customer's history (`forCustomer`), a
 * booking's (`forBooking`), and `retry` for a failed row (manager and up).
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { bookingTitle, formatMoney } from "../domain";
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "./_generated/server";
import { accessTo, requireBusinessRole, requireCustomerAccess, requireUser } from "./access";
import { appError } from "./errors";
import { env } from "./env";
import { internalMutation, mutation, query } from "./functions";
import { invoiceDocument, vInvoiceDocument } from "./model/invoicePdf";
import {
  customerAddress,
  customerChannel,
  queueNotification,
  requeueNotification,
  retryDelay,
  type NotificationAttachment,
} from "./model/notify";
import type { Channel, TemplateKey } from "./templates";
import { vChannel, vTemplateKey } from "./schema";

type Ctx = Pick<RawMutationCtx, "db" | "scheduler">;

function formatDate(instant: number, timeZone: string, locale: string) {
  return new Intl.DateTimeFormat(locale, { timeZone, dateStyle: "full" }).format(instant);
}
function formatTime(instant: number, timeZone: string, locale: string) {
  return new Intl.DateTimeFormat(locale, { timeZone, timeStyle: "short" }).format(instant);
}

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

const vExtraVars = v.object({
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
  // The receipt carries the invoice as a PDF (rendered when the email is sent).
  const attachments: NotificationAttachment[] | undefined =
    templateKey === "payment_receipt" && invoice !== null ? [{ kind: "invoice_pdf", invoiceId: invoice._id }] : undefined;
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
        attachments: channel === "email" ? attachments : undefined,
      }),
    );
  }
  return ids;
}

/**
 * Tells the booking's customer about something that happened to it. Called by the booking
 * functions in the same transaction as the change. `once: true` skips it when a
 * notification with this key was already logged for the booking.
 */
export const notifyBookingEvent = internalMutation({
  args: {
    bookingId: v.id("bookings"),
    templateKey: vTemplateKey,
    channels: v.optional(v.array(vChannel)),
    extra: v.optional(vExtraVars),
    once: v.optional(v.boolean()),
  },
  returns: v.array(v.id("notifications")),
  handler: async (ctx, args) => {
    const booking = await ctx.db.get("bookings", args.bookingId);
    if (booking === null) throw appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
    if (args.once) {
      const already = await ctx.db
        .query("notifications")
        .withIndex("by_bookingId_and_templateKey", (q) => q.eq("bookingId", booking._id).eq("templateKey", args.templateKey))
        .first();
      if (already !== null) return [];
    }
    return await notifyBooking(ctx, booking, args.templateKey, args.channels, args.extra);
  },
});

const HOUR = 3_600_000;
const MAX_BUSINESSES_PER_RUN = 1_000;
const MAX_SENDS_PER_RUN = 200;

/** The reminder windows: start in (now + after, now + until], booked at least `until` ahead. */
export const REMINDERS: { key: "reminder_24h" | "reminder_2h"; after: number; until: number }[] = [
  { key: "reminder_24h", after: 2 * HOUR, until: 24 * HOUR },
  { key: "reminder_2h", after: 0, until: 2 * HOUR },
];

/**
 * For the cron (every few minutes): sends reminder_24h to CONFIRMED bookings starting in
 * (2 h, 24 h] and reminder_2h to those starting in (0, 2 h], each once per booking. A
 * booking made inside a window (e.g. 5 hours ahead) gets no reminder for that window: its
 * confirmation has just told the customer. At most 200 sends per run; `more` says the
 * cron should run again soon.
 */
export const sendDueReminders = internalMutation({
  args: { now: v.optional(v.number()) },
  returns: v.object({ reminder_24h: v.number(), reminder_2h: v.number(), more: v.boolean() }),
  handler: async (ctx, args) => {
    const now = args.now ?? Date.now();
    const sent = { reminder_24h: 0, reminder_2h: 0 };
    let budget = MAX_SENDS_PER_RUN;
    const businesses = await ctx.db
      .query("businesses")
      .withIndex("by_status", (q) => q.eq("status", "ACTIVE"))
      .take(MAX_BUSINESSES_PER_RUN);
    for (const business of businesses) {
      for (const reminder of REMINDERS) {
        const due = await ctx.db
          .query("bookings")
          .withIndex("by_businessId_and_status_and_start", (q) =>
            q.eq("businessId", business._id).eq("status", "CONFIRMED").gt("start", now + reminder.after).lte("start", now + reminder.until),
          )
          .take(MAX_SENDS_PER_RUN);
        for (const booking of due) {
          if (booking.createdAt > booking.start - reminder.until) continue;
          const already = await ctx.db
            .query("notifications")
            .withIndex("by_bookingId_and_templateKey", (q) => q.eq("bookingId", booking._id).eq("templateKey", reminder.key))
            .first();
          if (already !== null) continue;
          if (budget === 0) return { ...sent, more: true };
          await notifyBooking(ctx, booking, reminder.key);
          sent[reminder.key]++;
          budget--;
        }
      }
    }
    return { ...sent, more: false };
  },
});

// ---------------------------------------------------------------------------------------
// Delivery attempts (called by notifySend.deliver)
// ---------------------------------------------------------------------------------------

/** A "sending" row older than this lost its action (crash, restart): its attempt counts as failed. */
const STALE_ATTEMPT_MS = 10 * 60_000;

/**
 * Claims the next attempt of a queued row: marks it "sending" and returns what to send
 * (with the invoices to attach as PDF); null when the row is not queued any more (already
 * sent, failed, or another run claimed it).
 */
export const startAttempt = internalMutation({
  args: { notificationId: v.id("notifications") },
  returns: v.union(
    v.null(),
    v.object({
      channel: vChannel,
      to: v.string(),
      subject: v.optional(v.string()),
      body: v.string(),
      invoices: v.array(vInvoiceDocument),
    }),
  ),
  handler: async (ctx, { notificationId }) => {
    const row = await ctx.db.get("notifications", notificationId);
    if (row === null || row.status !== "queued") return null;
    const now = Date.now();
    await ctx.db.patch("notifications", row._id, { status: "sending", attempts: (row.attempts ?? 0) + 1, lastAttemptAt: now, nextAttemptAt: undefined });
    const invoices = [];
    for (const attachment of row.attachments ?? []) {
      const invoice = await ctx.db.get("invoices", attachment.invoiceId);
      if (invoice !== null) invoices.push(await invoiceDocument(ctx, invoice, row.locale));
    }
    return { channel: row.channel, to: row.to, subject: row.subject, body: row.body, invoices };
  },
});

const vOutcome = v.union(
  v.object({ ok: v.literal(true), transport: v.string(), providerMessageId: v.string() }),
  v.object({ ok: v.literal(false), transport: v.string(), error: v.string(), retryable: v.boolean() }),
);

async function recordFailure(ctx: Ctx, row: Doc<"notifications">, error: string, retryable: boolean, transport?: string) {
  const delay = retryable ? retryDelay(row.attempts ?? 1) : null;
  if (delay === null) {
    await ctx.db.patch("notifications", row._id, { status: "failed", error, transport });
    return;
  }
  const nextAttemptAt = Date.now() + delay;
  await ctx.db.patch("notifications", row._id, { status: "queued", error, transport, nextAttemptAt });
  await ctx.scheduler.runAt(nextAttemptAt, internal.notifySend.deliver, { notificationId: row._id });
}

/** Records an attempt's result: sent; or queued again for a later attempt; or failed for good. */
export const finishAttempt = internalMutation({
  args: { notificationId: v.id("notifications"), outcome: vOutcome },
  returns: v.null(),
  handler: async (ctx, { notificationId, outcome }) => {
    const row = await ctx.db.get("notifications", notificationId);
    if (row === null || row.status !== "sending") return null;
    if (outcome.ok) {
      await ctx.db.patch("notifications", row._id, {
        status: "sent",
        sentAt: Date.now(),
        providerMessageId: outcome.providerMessageId,
        transport: outcome.transport,
        error: undefined,
      });
    } else {
      await recordFailure(ctx, row, outcome.error, outcome.retryable, outcome.transport);
    }
    return null;
  },
});

/**
 * The cron's safety net (every minute): schedules queued rows whose run is overdue by more
 * than a minute (a lost scheduled run), and counts attempts stuck in "sending" for ten
 * minutes as failed attempts (then retried or failed). Returns how many rows it touched.
 */
export const deliverQueued = internalMutation({
  args: { now: v.optional(v.number()) },
  returns: v.number(),
  handler: async (ctx, args) => {
    const now = args.now ?? Date.now();
    let touched = 0;
    const queued = await ctx.db
      .query("notifications")
      .withIndex("by_status", (q) => q.eq("status", "queued"))
      .take(100);
    for (const row of queued) {
      if ((row.nextAttemptAt ?? row.createdAt) > now - 60_000) continue;
      await ctx.scheduler.runAfter(0, internal.notifySend.deliver, { notificationId: row._id });
      touched++;
    }
    const sending = await ctx.db
      .query("notifications")
      .withIndex("by_status", (q) => q.eq("status", "sending"))
      .take(100);
    for (const row of sending) {
      if ((row.lastAttemptAt ?? row.createdAt) > now - STALE_ATTEMPT_MS) continue;
      await recordFailure(ctx, row, "The delivery attempt did not finish (interrupted).", true, row.transport);
      touched++;
    }
    return touched;
  },
});

/** Sends a failed notification again (manager and up), with a fresh set of attempts. */
export const retry = mutation({
  args: { notificationId: v.id("notifications") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const row = await ctx.db.get("notifications", args.notificationId);
    if (row === null || row.businessId === undefined) throw appError("NOT_FOUND", "Notification not found.", { param: "notificationId" });
    await requireBusinessRole(ctx, row.businessId, "manager");
    await requeueNotification(ctx, row);
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

/** The business's notification log, newest first (manager and up). */
export const log = query({
  args: { businessId: v.id("businesses"), paginationOpts: paginationOptsValidator },
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "manager");
    return await ctx.db
      .query("notifications")
      .withIndex("by_businessId_and_createdAt", (q) => q.eq("businessId", args.businessId))
      .order("desc")
      .paginate(args.paginationOpts);
  },
});

/** What was sent to one customer, newest first (managers of the business; the customer themself). */
export const forCustomer = query({
  args: { customerId: v.id("customers"), paginationOpts: paginationOptsValidator },
  handler: async (ctx, args) => {
    await requireCustomerAccess(ctx, args.customerId, { minimumStaffRole: "manager" });
    return await ctx.db
      .query("notifications")
      .withIndex("by_customerId_and_createdAt", (q) => q.eq("customerId", args.customerId))
      .order("desc")
      .paginate(args.paginationOpts);
  },
});

/** What was sent about one booking (staff of its business). */
export const forBooking = query({
  args: { bookingId: v.id("bookings") },
  handler: async (ctx, args) => {
    requireUser(ctx);
    const booking = await ctx.db.get("bookings", args.bookingId);
    const access = booking === null ? null : await accessTo(ctx, booking.businessId);
    if (booking === null || access === null || access.role === "customer" || access.role === "platform_admin") {
      throw appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
    }
    return await ctx.db
      .query("notifications")
      .withIndex("by_bookingId_and_templateKey", (q) => q.eq("bookingId", booking._id))
      .take(100);
  },
});
