"use node";
/**
 * The channel transports: one interface (`ChannelTransport`), one adapter per provider.
 *
 * - email → SMTP through nodemailer (SMTP_URL, SMTP_FROM). Locally `npm start` and the test
 *   stack point SMTP_URL at maildev, a real SMTP server with an inbox UI.
 * - SMS / WhatsApp → Twilio's Messages REST API when TWILIO_ACCOUNT_SID is set (with
 *   TWILIO_AUTH_TOKEN and TWILIO_SMS_FROM / TWILIO_WHATSAPP_FROM).
 * - SMS / WhatsApp without Twilio, when TEXT_MESSAGE_INBOX=smtp (local development only):
 *   mailed over SMTP to the same catcher, to `<digits>@sms.inbox.localhost` or
 *   `<digits>@whatsapp.inbox.localhost`, subject "SMS to +…", so a person reads every text the
 *   platform sent beside its email. The row names the transport ("local-inbox"): nothing
 *   claims a phone received it.
 * - a channel with none of these configured fails with a message naming the variables to set.
 *
 * `send` never throws for a delivery failure: it reports it, saying whether a retry may help.
 * Node only (nodemailer needs sockets): imported from "use node" actions.
 */
import nodemailer, { type Transporter } from "nodemailer";
import { env } from "../env";
import type { Channel } from "../templates";

export type OutgoingAttachment = { filename: string; contentType: string; content: Uint8Array };
export type OutgoingMessage = {
  channel: Channel;
  to: string;
  subject?: string;
  text: string;
  attachments: OutgoingAttachment[];
  /** Sent as the Message-ID's local part / idempotency hint (the notification's id). */
  reference: string;
};
export type SendOutcome =
  | { ok: true; transport: string; providerMessageId: string }
  | { ok: false; transport: string; error: string; retryable: boolean };

export interface ChannelTransport {
  readonly name: string;
  send(message: OutgoingMessage): Promise<SendOutcome>;
}

type Source = Record<string, string | undefined>;

// ---------------------------------------------------------------------------------------
// Email over SMTP
// ---------------------------------------------------------------------------------------

const transporters = new Map<string, Transporter>();
function transporter(url: string): Transporter {
  let t = transporters.get(url);
  if (t === undefined) {
    t = nodemailer.createTransport({ url, connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 });
    transporters.set(url, t);
  }
  return t;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}

/** The plain-text body as simple HTML: paragraphs, line breaks, links. */
export function textToHtml(text: string): string {
  const paragraphs = text.split(/\n{2,}/).map((p) =>
    escapeHtml(p)
      .replace(/https?:\/\/[^\s<]+/g, (url) => `<a href="${url}">${url}</a>`)
      .replace(/\n/g, "<br>"),
  );
  return `<!doctype html><html><body style="font-family:system-ui,sans-serif;line-height:1.5;color:#1a1a1f">${paragraphs.map((p) => `<p>${p}</p>`).join("")}</body></html>`;
}

type SmtpError = Error & { code?: string; responseCode?: number };

/** 4xx replies and connection trouble are temporary; 5xx replies and bad envelopes are not. */
export function smtpRetryable(error: SmtpError): boolean {
  if (typeof error.responseCode === "number") return error.responseCode < 500;
  return !["EENVELOPE", "EAUTH", "EMESSAGE", "EPROTOCOL"].includes(error.code ?? "");
}

export function smtpTransport(url: string, from: string, name = "smtp"): ChannelTransport {
  return {
    name,
    async send(message) {
      try {
        const info = await transporter(url).sendMail({
          from,
          to: message.to,
          subject: message.subject ?? "",
          text: message.text,
          html: textToHtml(message.text),
          headers: { "X-Notification-Id": message.reference },
          attachments: message.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, content: Buffer.from(a.content) })),
        });
        const rejected = (info.rejected ?? []).map((r: string | { address: string }) => (typeof r === "string" ? r : r.address));
        if (rejected.length > 0) return { ok: false, transport: name, error: `The mail server refused ${rejected.join(", ")}.`, retryable: false };
        return { ok: true, transport: name, providerMessageId: info.messageId };
      } catch (error) {
        const e = error as SmtpError;
        return { ok: false, transport: name, error: `SMTP: ${e.message}`, retryable: smtpRetryable(e) };
      }
    },
  };
}

// ---------------------------------------------------------------------------------------
// SMS and WhatsApp through Twilio
// ---------------------------------------------------------------------------------------

type TwilioConfig = NonNullable<ReturnType<typeof env.twilio>>;

export function twilioTransport(config: TwilioConfig, channel: "sms" | "whatsapp"): ChannelTransport | string {
  const from = channel === "sms" ? config.smsFrom : config.whatsappFrom;
  if (from === undefined) return `${channel === "sms" ? "TWILIO_SMS_FROM" : "TWILIO_WHATSAPP_FROM"} is not set: Twilio has no sender for ${channel === "sms" ? "SMS" : "WhatsApp"}.`;
  return {
    name: "twilio",
    async send(message) {
      const form = new URLSearchParams();
      form.set("To", channel === "whatsapp" ? `whatsapp:${message.to}` : message.to);
      if (from.startsWith("MG")) form.set("MessagingServiceSid", from);
      else form.set("From", channel === "whatsapp" ? `whatsapp:${from}` : from);
      form.set("Body", message.text);
      let response: Response;
      try {
        response = await fetch(`${config.apiUrl}/2010-04-01/Accounts/${config.accountSid}/Messages.json`, {
          method: "POST",
          headers: {
            Authorization: `Basic ${Buffer.from(`${config.accountSid}:${config.authToken}`).toString("base64")}`,
            "Content-Type": "application/x-www-form-urlencoded",
          },
          body: form,
          signal: AbortSignal.timeout(30_000),
        });
      } catch (error) {
        return { ok: false, transport: "twilio", error: `Twilio unreachable: ${(error as Error).message}`, retryable: true };
      }
      const body = (await response.json().catch(() => ({}))) as { sid?: string; message?: string; code?: number };
      if (response.ok && body.sid) return { ok: true, transport: "twilio", providerMessageId: body.sid };
      const detail = body.message ? `${body.message}${body.code ? ` (Twilio error ${body.code})` : ""}` : `HTTP ${response.status}`;
      return { ok: false, transport: "twilio", error: `Twilio: ${detail}`, retryable: response.status === 429 || response.status >= 500 };
    },
  };
}

// ---------------------------------------------------------------------------------------
// The local text-message inbox (SMS / WhatsApp mailed to the SMTP catcher)
// ---------------------------------------------------------------------------------------

/** The catcher address a text to `phone` is mailed to: "+15551234567" → "15551234567@sms.inbox.localhost". */
export function localInboxAddress(channel: "sms" | "whatsapp", phone: string): string {
  return `${phone.replace(/\D/g, "")}@${channel}.inbox.localhost`;
}

function localTextInbox(url: string, from: string, channel: "sms" | "whatsapp"): ChannelTransport {
  const mail = smtpTransport(url, from, "local-inbox");
  return {
    name: "local-inbox",
    send: (message) =>
      mail.send({
        ...message,
        to: localInboxAddress(channel, message.to),
        subject: `${channel === "sms" ? "SMS" : "WhatsApp"} to ${message.to}`,
      }),
  };
}

// ---------------------------------------------------------------------------------------
// Choosing the transport
// ---------------------------------------------------------------------------------------

/** The channel's transport, or why there is none (a message naming what to configure). */
export function transportFor(channel: Channel, source?: Source): ChannelTransport | string {
  const smtpUrl = env.smtpUrl(source);
  const from = env.smtpFrom(source);
  if (channel === "email") {
    if (smtpUrl === undefined || from === undefined) return "Email is not configured: set SMTP_URL and SMTP_FROM on the deployment.";
    return smtpTransport(smtpUrl, from);
  }
  const twilio = env.twilio(source);
  if (twilio !== undefined) return twilioTransport(twilio, channel);
  if (env.textMessageInbox(source) === "smtp") {
    if (smtpUrl === undefined || from === undefined) return "TEXT_MESSAGE_INBOX=smtp needs SMTP_URL and SMTP_FROM (the local SMTP catcher).";
    return localTextInbox(smtpUrl, from, channel);
  }
  return `${channel === "sms" ? "SMS" : "WhatsApp"} is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and ${channel === "sms" ? "TWILIO_SMS_FROM" : "TWILIO_WHATSAPP_FROM"} on the deployment.`;
}
