/**
 * Notifications: templates rendered for one recipient and handed to a channel transport,
 * every attempt written to the `notifications` log.
 *
 * One interface (`ChannelTransport`) covers email, SMS and WhatsApp. This project ships only
 * `logOnlyTransport`: it delivers nothing to anyone, it records the message in the log as
 * "sent" (and prints one line), which is what a machine with no email/SMS provider can
 * honestly do. A real provider (SendGrid, Twilio…) would be a transport whose `send` runs
 * in an action: rows stay "queued" and `deliverQueued` hands them over.
 *
 * Internal entry points:
 * - `notifyBookingEvent({ bookingId, templateKey })`: for the booking functions
 *   (confirmation, reschedule, cancellation, receipt, review request, en route…);
 * - `sendDueReminders({})`: for the cron; sends reminder_24h and reminder_2h once per
 *   booking (deduplicated through `notifications.by_bookingId_and_templateKey`);
 * - `deliverQueued({})`: sends rows other modules inserted as "queued".
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { bookingTitle, formatMoney } from "../domain";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "./_generated/server";
import { accessTo, requireBusinessRole, requireUser } from "./access";
import { appError } from "./errors";
import { env } from "./env";
import { internalMutation, query } from "./functions";
import { renderTemplate, resolveTemplate, type Channel, type TemplateKey } from "./templates";
import { vChannel, vTemplateKey } from "./schema";

// ---------------------------------------------------------------------------------------
// Channels
// ---------------------------------------------------------------------------------------

export type OutgoingMessage = { channel: Channel; to: string; subject?: string; body: string };
export type TransportResult = { ok: true; providerMessageId: string } | { ok: false; error: string };

/** One interface for every channel. `send` must not throw for a delivery failure: it reports it. */
export interface ChannelTransport {
  readonly name: string;
  send(message: OutgoingMessage, notificationId: Id<"notifications">): TransportResult;
}

/**
 * Records the message as sent without delivering it anywhere. The name says so on purpose:
 * nothing reaches a real inbox or phone through this transport.
 */
export const logOnlyTransport: ChannelTransport = {
  name: "log-only",
  send(message, notificationId) {
    console.log(`[notifications:log-only] ${message.channel} to ${message.to}: ${message.subject ?? message.body.slice(0, 80)}`);
    return { ok: true, providerMessageId: `log-only:${notificationId}` };
  },
};

/** The transport of a channel. No email/SMS/WhatsApp provider is configured: log-only for all. */
export function transportFor(_channel: Channel): ChannelTransport {
  return logOnlyTransport;
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+[1-9]\d{6,14}$/;

/** Whether `to` is an address the channel can deliver to. */
export function isDeliverableAddress(channel: Channel, to: string): boolean {
  return channel === "email" ? EMAIL.test(to) : PHONE.test(to);
}

// ---------------------------------------------------------------------------------------
// Sending
// ---------------------------------------------------------------------------------------

type Ctx = Pick<RawMutationCtx, "db">;

export type SendArgs = {
  business: Doc<"businesses">;
  templateKey: TemplateKey;
  channel: Channel;
  /** Empty when the recipient has no address for the channel: logged as failed. */
  to: string;
  locale: string;
  vars: Record<string, string>;
  customerId?: Id<"customers">;
  userId?: Id<"users">;
  bookingId?: Id<"bookings">;
};

/** Renders, logs and hands one message to the channel's transport. Returns the log row. */
export async function sendNotification(ctx: Ctx, args: SendArgs): Promise<Id<"notifications">> {
  const template = await resolveTemplate(ctx, args.business, args.templateKey, args.channel, args.locale);
  const subject = template?.subject === undefined ? undefined : renderTemplate(template.subject, args.vars);
  const body = template === null ? null : renderTemplate(template.body, args.vars);
  const missing = [...new Set([...(subject?.missing ?? []), ...(body?.missing ?? [])])];
  let error: string | undefined;
  if (template === null) error = `No ${args.channel} template for ${args.templateKey}.`;
  else if (missing.length > 0) error = `No value for ${missing.map((m) => `{{${m}}}`).join(", ")}.`;
  else if (!isDeliverableAddress(args.channel, args.to)) {
    error = args.to === "" ? `The recipient has no ${args.channel === "email" ? "email address" : "phone number"}.` : `"${args.to}" is not a valid ${args.channel} address.`;
  }
  const now = Date.now();
  const id = await ctx.db.insert("notifications", {
    businessId: args.business._id,
    customerId: args.customerId,
    userId: args.userId,
    bookingId: args.bookingId,
    templateKey: args.templateKey,
    channel: args.channel,
    to: args.to,
    subject: subject?.text,
    body: body?.text ?? "",
    status: error === undefined ? "queued" : "failed",
    error,
    createdAt: now,
  });
  if (error === undefined) await deliver(ctx, (await ctx.db.get("notifications", id))!);
  return id;
}

async function deliver(ctx: Ctx, row: Doc<"notifications">) {
  const result = transportFor(row.channel).send({ channel: row.channel, to: row.to, subject: row.subject, body: row.body }, row._id);
  if (result.ok) await ctx.db.patch("notifications", row._id, { status: "sent", sentAt: Date.now(), providerMessageId: result.providerMessageId, error: undefined });
  else await ctx.db.patch("notifications", row._id, { status: "failed", error: result.error });
}

/** Email when the customer has one, else SMS when they have a phone, else email (logged as failed). */
export function defaultChannels(customer: Doc<"customers">): Channel[] {
  if (customer.email) return ["email"];
  if (customer.phone) return ["sms"];
  return ["email"];
}

function addressFor(customer: Doc<"customers">, channel: Channel): string {
  return (channel === "email" ? customer.email : customer.phone) ?? "";
}

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
  const ids: Id<"notifications">[] = [];
  for (const channel of channels ?? defaultChannels(customer)) {
    ids.push(
      await sendNotification(ctx, {
        business,
        templateKey,
        channel,
        to: addressFor(customer, channel),
        locale,
        vars,
        customerId: customer._id,
        userId: customer.userId,
        bookingId: booking._id,
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

/** Hands rows that other modules logged as "queued" to their transport (oldest first, 100 a run). */
export const deliverQueued = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const queued = await ctx.db
      .query("notifications")
      .withIndex("by_status", (q) => q.eq("status", "queued"))
      .take(100);
    for (const row of queued) {
      if (!isDeliverableAddress(row.channel, row.to)) {
        await ctx.db.patch("notifications", row._id, { status: "failed", error: `"${row.to}" is not a valid ${row.channel} address.` });
      } else {
        await deliver(ctx, row);
      }
    }
    return queued.length;
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
