"use node";
/**
 * Delivery of one queued notification (Node runtime: SMTP needs sockets). Scheduled by
 * `model/notify.ts queueNotification` and by the retry logic; safe to run twice: the
 * attempt is claimed in a mutation (`startAttempt`) that only hands out rows still queued.
 */
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { internalAction } from "./_generated/server";
import { renderInvoicePdf } from "./model/invoicePdf";
import { transportFor, type OutgoingAttachment, type SendOutcome } from "./model/notifyTransports";

export const deliver = internalAction({
  args: { notificationId: v.id("notifications") },
  returns: v.null(),
  handler: async (ctx, { notificationId }) => {
    const job = await ctx.runMutation(internal.notifications.startAttempt, { notificationId });
    if (job === null) return null;
    let outcome: SendOutcome;
    const transport = transportFor(job.channel);
    if (typeof transport === "string") {
      outcome = { ok: false, transport: "none", error: transport, retryable: false };
    } else {
      const attachments: OutgoingAttachment[] = [];
      for (const invoice of job.invoices) {
        attachments.push({ filename: invoice.filename, contentType: "application/pdf", content: await renderInvoicePdf(invoice) });
      }
      outcome = await transport.send({
        channel: job.channel,
        to: job.to,
        subject: job.subject,
        text: job.body,
        attachments,
        reference: notificationId,
      });
    }
    await ctx.runMutation(internal.notifications.finishAttempt, { notificationId, outcome });
    return null;
  },
});
