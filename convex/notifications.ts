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
import { internal } from "./_generated/api";
import type { Doc, Id } from "./_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "./_generated/server";
import { accessTo, requireBusinessRole, requireCustomerAccess, requireUser } from "./access";
import { appError } from "./errors";
import { internalMutation, mutation, query } from "./functions";
import { notifyBooking, vExtraVars } from "./model/bookingNotify";
import { invoiceDocument, vInvoiceDocument } from "./model/invoicePdf";
import { forgetSecret, requeueNotification, retryDelay, revealSecret } from "./model/notify";
import { sendDueReminders as sendReminders } from "./model/reminders";
import { vChannel, vNotificationStatus, vTemplateKey } from "./schema";

type Ctx = Pick<RawMutationCtx, "db" | "scheduler">;

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

/**
 * For the cron (every 5 minutes): sends the reminders due now, in each business's time zone
 * (model/reminders.ts: 24 h = same wall-clock time the local day before, 2 h = two hours
 * before), once per booking and start. `more`: the run hit its budget; run again soon.
 */
export const sendDueReminders = internalMutation({
  args: { now: v.optional(v.number()) },
  returns: v.object({ reminder_24h: v.number(), reminder_2h: v.number(), more: v.boolean() }),
  handler: async (ctx, args) => await sendReminders(ctx, args.now ?? Date.now()),
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
    const text = await revealSecret(ctx, row);
    if (text === null) {
      await ctx.db.patch("notifications", row._id, { status: "failed", error: "The one-time code in this message expired before it could be sent." });
      return null;
    }
    await ctx.db.patch("notifications", row._id, { status: "sending", attempts: (row.attempts ?? 0) + 1, lastAttemptAt: now, nextAttemptAt: undefined });
    const invoices = [];
    for (const attachment of row.attachments ?? []) {
      const invoice = await ctx.db.get("invoices", attachment.invoiceId);
      if (invoice !== null) invoices.push(await invoiceDocument(ctx, invoice, row.locale));
    }
    return { channel: row.channel, to: row.to, subject: text.subject, body: text.body, invoices };
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
      await forgetSecret(ctx, row);
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
    await requireBusinessRole(ctx, row.businessId, "manager", { param: "notificationId", message: "Notification not found." });
    await requeueNotification(ctx, row);
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

/** At most this many rows of one page are looked at per filter match (filters on top of the index). */
const LOG_PAGE_MAX = 100;

/**
 * The business's notification log, newest first (manager and up), each row with its
 * customer's name. Filters: `customerId`, `status`, `channel`, `templateKey` (any
 * combination; the first given picks the index, the others narrow it). Another business's
 * customer is answered as NOT_FOUND.
 */
export const log = query({
  args: {
    businessId: v.id("businesses"),
    paginationOpts: paginationOptsValidator,
    customerId: v.optional(v.id("customers")),
    status: v.optional(vNotificationStatus),
    channel: v.optional(vChannel),
    templateKey: v.optional(vTemplateKey),
  },
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "manager");
    if (args.customerId !== undefined && (await ctx.db.get("customers", args.customerId))?.businessId !== args.businessId) {
      throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
    }
    if (args.paginationOpts.numItems < 1 || args.paginationOpts.numItems > LOG_PAGE_MAX) {
      throw appError("INVALID_ARGUMENT", `paginationOpts.numItems must be between 1 and ${LOG_PAGE_MAX}.`, { param: "paginationOpts.numItems" });
    }
    const { businessId, customerId, status, channel, templateKey } = args;
    const table = ctx.db.query("notifications");
    const indexed =
      customerId !== undefined
        ? table.withIndex("by_customerId_and_createdAt", (q) => q.eq("customerId", customerId))
        : status !== undefined
        ? table.withIndex("by_businessId_and_status_and_createdAt", (q) => q.eq("businessId", businessId).eq("status", status))
        : channel !== undefined
          ? table.withIndex("by_businessId_and_channel_and_createdAt", (q) => q.eq("businessId", businessId).eq("channel", channel))
          : templateKey !== undefined
            ? table.withIndex("by_businessId_and_templateKey_and_createdAt", (q) => q.eq("businessId", businessId).eq("templateKey", templateKey))
            : table.withIndex("by_businessId_and_createdAt", (q) => q.eq("businessId", businessId));
    // A second or third filter narrows the first one's index range (one business's rows,
    // or one customer's): a page may come back short, never wrong, and the cursor moves on.
    // eslint-disable-next-line @convex-dev/no-filter-in-query
    const narrowed = indexed.filter((q) =>
      q.and(
        customerId === undefined || status === undefined ? true : q.eq(q.field("status"), status),
        channel === undefined ? true : q.eq(q.field("channel"), channel),
        templateKey === undefined ? true : q.eq(q.field("templateKey"), templateKey),
      ),
    );
    const page = await narrowed.order("desc").paginate(args.paginationOpts);
    const names = new Map<Id<"customers">, string>();
    for (const row of page.page) {
      if (row.customerId === undefined || names.has(row.customerId)) continue;
      names.set(row.customerId, (await ctx.db.get("customers", row.customerId))?.name ?? "");
    }
    return { ...page, page: page.page.map((row) => ({ ...row, customerName: row.customerId === undefined ? undefined : names.get(row.customerId) })) };
  },
});

/** How many rows wait for a retry and how many failed (each counted up to 100), for the log's header. */
export const logCounts = query({
  args: { businessId: v.id("businesses") },
  returns: v.object({ failed: v.number(), retrying: v.number() }),
  handler: async (ctx, { businessId }) => {
    await requireBusinessRole(ctx, businessId, "manager");
    const count = async (status: "failed" | "queued") =>
      (
        await ctx.db
          .query("notifications")
          .withIndex("by_businessId_and_status_and_createdAt", (q) => q.eq("businessId", businessId).eq("status", status))
          .take(100)
      ).filter((row) => status === "failed" || (row.attempts ?? 0) > 0).length;
    return { failed: await count("failed"), retrying: await count("queued") };
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
