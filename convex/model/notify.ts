/**
 * The one entry point for sending a notification: `queueNotification(ctx, {...})`, called
 * inside the caller's mutation. It renders the template (business override → platform
 * default → built-in, in the recipient's locale), writes the `notifications` row "queued" in
 * the same transaction and schedules its delivery (`notifySend.deliver`, a Node action that
 * hands it to the channel's transport: SMTP for email, Twilio or the local inbox for SMS and
 * WhatsApp). A rolled-back mutation therefore never notifies anyone.
 *
 * Rows that cannot be sent are still written, so the log shows why: "failed" (no template,
 * a placeholder without a value, an address the channel cannot deliver to) or "skipped" (the
 * customer opted out of the channel). Neither is retried.
 *
 * A secret value (an account's one-time code: `secret`) never reaches the log: the row's
 * subject and body show it as SECRET_MASK, and the value waits in `notificationSecrets`
 * until delivery puts it back into the text it hands to the transport (`revealSecret`). It is
 * deleted once the message is sent, or when it expires (a code is worthless after its 15
 * minutes; `purgeExpiredSecrets`, hourly); a message whose secret is gone is not sent.
 *
 * Delivery (see notifications.ts `startAttempt` / `finishAttempt`): up to MAX_ATTEMPTS tries
 * with growing waits between them for failures the provider says are temporary; the cron
 * sweep re-schedules rows whose scheduled run was lost.
 */
import type { Infer } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "../_generated/server";
import { appError } from "../errors";
import { vNotificationAttachment } from "../schema";
import { renderTemplate, resolveTemplate, type Channel, type TemplateKey } from "../templates";

export type NotificationAttachment = Infer<typeof vNotificationAttachment>;

export type QueueNotificationArgs = {
  /** null / absent: a message of no business (account codes): platform templates only. */
  businessId?: Id<"businesses"> | null;
  templateKey: TemplateKey;
  channel: Channel;
  /** Email address, or a +E.164 phone number for SMS and WhatsApp. Empty: logged as failed. */
  to: string;
  /** Default: the customer's locale, else the business's, else English. */
  locale?: string;
  /** Values of the template's {{placeholders}}. */
  vars: Record<string, string>;
  bookingId?: Id<"bookings">;
  /** The booking's start this message is about (reminders are sent once per start). */
  bookingStart?: number;
  /** The customer it goes to: their opt-out is honoured and the row shows in their history. */
  customerId?: Id<"customers">;
  userId?: Id<"users">;
  attachments?: NotificationAttachment[];
  /**
   * A value the log must not show (a one-time code): the placeholder `var` is rendered as
   * SECRET_MASK in the row, and the value is sent but kept only until `expiresAt`.
   */
  secret?: { var: string; value: string; expiresAt: number };
};

/** What the log shows in place of a secret value (a one-time code). */
export const SECRET_MASK = "••••••";

type Ctx = Pick<RawMutationCtx, "db" | "scheduler">;

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const PHONE = /^\+[1-9]\d{6,14}$/;

/** Whether `to` is an address the channel can deliver to. */
export function isDeliverableAddress(channel: Channel, to: string): boolean {
  return channel === "email" ? EMAIL.test(to) : PHONE.test(to);
}

/** Attempts before a temporary failure becomes final, and the wait before each retry. */
export const MAX_ATTEMPTS = 5;
const MINUTE = 60_000;
export const RETRY_DELAYS_MS = [1 * MINUTE, 5 * MINUTE, 30 * MINUTE, 120 * MINUTE];

/** The wait before attempt `attempts + 1`, or null when no attempt is left. */
export function retryDelay(attempts: number): number | null {
  if (attempts >= MAX_ATTEMPTS) return null;
  return RETRY_DELAYS_MS[Math.min(attempts - 1, RETRY_DELAYS_MS.length - 1)] ?? RETRY_DELAYS_MS[0];
}

function addressOf(customer: Doc<"customers">, channel: Channel): string | undefined {
  return channel === "email" ? customer.email : customer.phone;
}

/**
 * The channel a customer gets messages on: their preferred one when they have an address
 * for it and did not opt out of it, else email, else SMS; null when every channel they have
 * an address for is opted out (or they have none).
 */
export function customerChannel(customer: Doc<"customers">): Channel | null {
  const optedOut = new Set(customer.optedOutChannels ?? []);
  const usable = (channel: Channel) => !optedOut.has(channel) && Boolean(addressOf(customer, channel));
  if (customer.preferredChannel !== undefined && usable(customer.preferredChannel)) return customer.preferredChannel;
  for (const channel of ["email", "sms"] as const) if (usable(channel)) return channel;
  return null;
}

/** The customer's address on a channel ("" when they have none). */
export function customerAddress(customer: Doc<"customers">, channel: Channel): string {
  return addressOf(customer, channel) ?? "";
}

/** Why this message cannot be sent, or undefined when it can. */
function problemOf(channel: Channel, to: string): string | undefined {
  if (isDeliverableAddress(channel, to)) return undefined;
  if (to === "") return `The recipient has no ${channel === "email" ? "email address" : "phone number"}.`;
  return `"${to}" is not a valid ${channel === "email" ? "email address" : "phone number (+ and country code)"}.`;
}

/**
 * Renders and logs one message for one recipient and schedules its delivery. Returns the
 * `notifications` row (queued, or failed/skipped with the reason in `error`).
 */
export async function queueNotification(ctx: Ctx, args: QueueNotificationArgs): Promise<Id<"notifications">> {
  const business = args.businessId ? await ctx.db.get("businesses", args.businessId) : null;
  if (args.businessId && business === null) throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
  const customer = args.customerId === undefined ? null : await ctx.db.get("customers", args.customerId);
  if (args.customerId !== undefined && customer === null) throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
  if (customer !== null && business !== null && customer.businessId !== business._id) {
    throw appError("INVALID_ARGUMENT", "The customer belongs to another business.", { param: "customerId" });
  }
  const to = args.to.trim();
  const locale = args.locale ?? customer?.locale ?? business?.locale ?? "en";

  const template = await resolveTemplate(ctx, business, args.templateKey, args.channel, locale);
  const vars = args.secret === undefined ? args.vars : { ...args.vars, [args.secret.var]: SECRET_MASK };
  const subject = template?.subject === undefined ? undefined : renderTemplate(template.subject, vars);
  const body = template === null ? null : renderTemplate(template.body, vars);
  const missing = [...new Set([...(subject?.missing ?? []), ...(body?.missing ?? [])])];

  let status: "queued" | "failed" | "skipped" = "queued";
  let error: string | undefined;
  if (customer?.optedOutChannels?.includes(args.channel)) {
    status = "skipped";
    error = `The customer opted out of ${args.channel === "email" ? "email" : args.channel === "sms" ? "SMS" : "WhatsApp"} messages.`;
  } else if (template === null) {
    status = "failed";
    error = `No ${args.channel} template for ${args.templateKey}.`;
  } else if (missing.length > 0) {
    status = "failed";
    error = `No value for ${missing.map((m) => `{{${m}}}`).join(", ")}.`;
  } else {
    error = problemOf(args.channel, to);
    if (error !== undefined) status = "failed";
  }
  if (args.attachments?.length && args.channel !== "email" && status === "queued") {
    status = "failed";
    error = `A ${args.channel} message cannot carry attachments.`;
  }

  const id = await ctx.db.insert("notifications", {
    ...(business === null ? {} : { businessId: business._id }),
    customerId: customer?._id,
    userId: args.userId ?? customer?.userId,
    bookingId: args.bookingId,
    bookingStart: args.bookingStart,
    templateKey: args.templateKey,
    channel: args.channel,
    to,
    locale: template?.locale ?? locale,
    subject: subject?.text,
    body: body?.text ?? "",
    attachments: args.attachments?.length ? args.attachments : undefined,
    status,
    error,
    attempts: 0,
    createdAt: Date.now(),
    ...(args.secret === undefined ? {} : { hidesSecret: true }),
  });
  if (args.secret !== undefined && status === "queued") {
    await ctx.db.insert("notificationSecrets", { notificationId: id, value: args.secret.value, expiresAt: args.secret.expiresAt });
  }
  if (status === "queued") await ctx.scheduler.runAfter(0, internal.notifySend.deliver, { notificationId: id });
  return id;
}

async function secretOf(ctx: Pick<RawMutationCtx, "db">, notificationId: Id<"notifications">) {
  return await ctx.db
    .query("notificationSecrets")
    .withIndex("by_notificationId", (q) => q.eq("notificationId", notificationId))
    .first();
}

/**
 * The subject and body to send: the row's own, with its secret put back when it hides one;
 * null when the secret is gone (sent already, or expired): then there is nothing to send.
 */
export async function revealSecret(
  ctx: Pick<RawMutationCtx, "db">,
  row: Doc<"notifications">,
): Promise<{ subject: string | undefined; body: string } | null> {
  if (row.hidesSecret !== true) return { subject: row.subject, body: row.body };
  const secret = await secretOf(ctx, row._id);
  if (secret === null || secret.expiresAt <= Date.now()) return null;
  return { subject: row.subject?.replaceAll(SECRET_MASK, secret.value), body: row.body.replaceAll(SECRET_MASK, secret.value) };
}

/** Deletes the secret of a message once it is sent (nobody needs it any more). */
export async function forgetSecret(ctx: Pick<RawMutationCtx, "db">, row: Doc<"notifications">): Promise<void> {
  if (row.hidesSecret !== true) return;
  const secret = await secretOf(ctx, row._id);
  if (secret !== null) await ctx.db.delete("notificationSecrets", secret._id);
}

/** Deletes secrets past their expiry (hourly, with the account codes), a batch at a time; returns how many. */
export async function purgeExpiredSecrets(ctx: Pick<RawMutationCtx, "db">, now: number, limit = 500): Promise<number> {
  const expired = await ctx.db
    .query("notificationSecrets")
    .withIndex("by_expiresAt", (q) => q.lt("expiresAt", now))
    .take(limit);
  for (const secret of expired) await ctx.db.delete("notificationSecrets", secret._id);
  return expired.length;
}

/** Puts a failed row back in the queue for a fresh set of attempts (the owner's "Retry"). */
export async function requeueNotification(ctx: Ctx, row: Doc<"notifications">): Promise<void> {
  if (row.status !== "failed") throw appError("CONFLICT", "Only a failed notification can be retried.", { param: "notificationId" });
  const problem = problemOf(row.channel, row.to);
  if (problem !== undefined) throw appError("CONFLICT", problem, { param: "notificationId" });
  if (row.body === "") throw appError("CONFLICT", row.error ?? "This notification has nothing to send.", { param: "notificationId" });
  if ((await revealSecret(ctx, row)) === null) {
    throw appError("CONFLICT", "The one-time code in this message has expired: the person must ask for a new one.", { param: "notificationId" });
  }
  await ctx.db.patch("notifications", row._id, { status: "queued", attempts: 0, nextAttemptAt: undefined, error: undefined });
  await ctx.scheduler.runAfter(0, internal.notifySend.deliver, { notificationId: row._id });
}
