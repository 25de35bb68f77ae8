import { afterAll, afterEach, beforeAll, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { aBooking, aBusiness, aCatalogue, aCustomer, aManager, aPlatformAdmin, aProvider, aZone, expectAppError } from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";
import {
  BUILT_IN_TEMPLATES,
  localeChain,
  placeholdersOf,
  renderTemplate,
  requireKnownPlaceholders,
  TEMPLATE_PLACEHOLDERS,
  type TemplateKey,
} from "./templates";
import { transportFor } from "./model/notifyTransports";
import { customerChannel, queueNotification, MAX_ATTEMPTS, SECRET_MASK } from "./model/notify";
import { freeLoopbackPort, startMaildev, type Maildev } from "../scripts/maildev";
import { deliverAll, deliverNext, fakeClock } from "./notify.testkit";

const HOUR = 3_600_000;

describe("rendering (pure)", () => {
  test("replaces placeholders, tolerates spaces, reports missing ones", () => {
    expect(renderTemplate("Hi {{name}}, see you {{ when }}.", { name: "Ann", when: "at 9" })).toEqual({ text: "Hi Ann, see you at 9.", missing: [] });
    expect(renderTemplate("{{a}}{{b}}{{a}}", { a: "x" })).toEqual({ text: "xx", missing: ["b"] });
    expect(renderTemplate("{{toString}}", {})).toEqual({ text: "", missing: ["toString"] });
    expect(renderTemplate("no placeholders {single}", {})).toEqual({ text: "no placeholders {single}", missing: [] });
    expect(placeholdersOf("{{a}} {{ b }} {{a}}")).toEqual(["a", "b"]);
  });

  test("locale chain: exact, language, business locale, English", () => {
    expect(localeChain("fr-CA", "de-DE")).toEqual(["fr-CA", "fr", "de-DE", "de", "en"]);
    expect(localeChain("en", "en-US")).toEqual(["en", "en-US"]);
  });

  test("a channel without a configured provider names what to set; nothing claims it was sent", () => {
    expect(transportFor("email", {})).toBe("Email is not configured: set SMTP_URL and SMTP_FROM on the deployment.");
    expect(transportFor("sms", {})).toMatch(/^SMS is not configured: set TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN and TWILIO_SMS_FROM/);
    expect(transportFor("whatsapp", { TEXT_MESSAGE_INBOX: "smtp" })).toMatch(/needs SMTP_URL and SMTP_FROM/);
    const smtp = { SMTP_URL: "smtp://127.0.0.1:2525", SMTP_FROM: "Bookings <bookings@example.test>" };
    expect(transportFor("email", smtp)).toMatchObject({ name: "smtp" });
    expect(transportFor("sms", { ...smtp, TEXT_MESSAGE_INBOX: "smtp" })).toMatchObject({ name: "local-inbox" });
    const twilio = { TWILIO_ACCOUNT_SID: `AC${"a".repeat(32)}`, TWILIO_AUTH_TOKEN: "token", TWILIO_SMS_FROM: "+15005550006" };
    expect(transportFor("sms", { ...twilio, TEXT_MESSAGE_INBOX: "smtp", ...smtp })).toMatchObject({ name: "twilio" });
    expect(transportFor("whatsapp", twilio)).toBe("TWILIO_WHATSAPP_FROM is not set: Twilio has no sender for WhatsApp.");
    expect(() => transportFor("email", { SMTP_URL: "http://mail" })).toThrow(/SMTP_URL: must start with smtp:\/\/ or smtps:\/\//);
    expect(() => transportFor("email", { SMTP_URL: "smtp://mail:25" })).toThrow(/SMTP_FROM: required but not set/);
  });
});

async function scenario(t: TestConvex, opts: { locale?: string; email?: string; phone?: string } = {}) {
  const biz = await aBusiness(t, { name: "Sparkle" });
  const { zoneId } = await aZone(t, biz.businessId);
  const cat = await aCatalogue(t, biz.businessId);
  const customer = await aCustomer(t, biz.businessId, { name: "Ann", locale: opts.locale, phone: opts.phone, email: opts.email });
  const booking = (start: number, over: { status?: "CONFIRMED" | "CANCELLED"; createdAt?: number } = {}) =>
    aBooking(t, { businessId: biz.businessId, customerId: customer.customerId, zoneId, industryId: cat.industryId, start, status: over.status }).then(async (b) => {
      if (over.createdAt !== undefined) await t.run((ctx) => ctx.db.patch("bookings", b.bookingId, { createdAt: over.createdAt! }));
      return b;
    });
  return { biz, customer, booking };
}

const logOf = (t: TestConvex, bookingId: Id<"bookings">) =>
  t.run((ctx) => ctx.db.query("notifications").withIndex("by_bookingId_and_templateKey", (q) => q.eq("bookingId", bookingId)).collect());

describe("notifyBookingEvent", () => {
  test("renders the built-in template in the business's zone and queues it for delivery", async () => {
    const t = newTest();
    const { customer, booking } = await scenario(t);
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0)); // 09:00 in New York
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    const row = await t.run((ctx) => ctx.db.get("notifications", id));
    expect(row).toMatchObject({ status: "queued", channel: "email", customerId: customer.customerId, attempts: 0 });
    expect(row?.to).toBe(customer.identity.email!.toLowerCase());
    expect(row?.subject).toBe("Your booking with Sparkle is confirmed");
    expect(row?.body).toContain("Tuesday, January 15, 2030 at 9:00");
    expect(row?.body).toContain("$100.00");
    expect(row?.body).toContain(`http://127.0.0.1:5173/b/`);
    expect(row?.body).not.toMatch(/\{\{/);
  });

  test("localised: a French customer gets the French template; the business override wins", async () => {
    const t = newTest();
    const { biz, booking } = await scenario(t, { locale: "fr-FR" });
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const [first] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    expect((await t.run((ctx) => ctx.db.get("notifications", first)))?.subject).toBe("Votre réservation chez Sparkle est confirmée");
    const manager = await aManager(t, biz.businessId);
    await manager.as.mutation(api.templates.upsert, { businessId: biz.businessId, key: "booking_confirmed", channel: "email", locale: "fr", subject: "C'est réservé, {{customerName}}", body: "À {{bookingTime}}." });
    const [second] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    expect(await t.run((ctx) => ctx.db.get("notifications", second))).toMatchObject({ subject: "C'est réservé, Ann", body: "À 09:00." });
  });

  test("SMS when there is only a phone; a customer with no contact is logged as failed", async () => {
    const t = newTest();
    const { biz, booking } = await scenario(t, { phone: "+12125550123" });
    await t.run(async (ctx) => {
      const c = await ctx.db.query("customers").withIndex("by_businessId", (q) => q.eq("businessId", biz.businessId)).first();
      await ctx.db.patch("customers", c!._id, { email: undefined });
    });
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const [sms] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_cancelled", extra: { cancellationFeeMinor: 2_500 } });
    expect(await t.run((ctx) => ctx.db.get("notifications", sms))).toMatchObject({ channel: "sms", to: "+12125550123", status: "queued" });
    expect((await t.run((ctx) => ctx.db.get("notifications", sms)))?.subject).toBeUndefined();
    expect((await t.run((ctx) => ctx.db.get("notifications", sms)))?.body).toContain("$25.00");
    const [failed] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed", channels: ["whatsapp", "email"] }).then((ids) => [ids[1]]);
    expect(await t.run((ctx) => ctx.db.get("notifications", failed))).toMatchObject({ channel: "email", status: "failed", error: "The recipient has no email address." });
  });

  test("values not passed come from the booking: cancellation fee, provider", async () => {
    const t = newTest();
    const { biz, booking } = await scenario(t);
    const provider = await aProvider(t, biz.businessId, { name: "Pat" });
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    await t.run((ctx) =>
      ctx.db.patch("bookings", bookingId, {
        assignedResourceIds: [provider.resourceId],
        status: "CANCELLED",
        cancellation: { at: Date.now(), actor: { role: "customer" }, feeMinor: 1_250 },
      }),
    );
    const [cancelled] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_cancelled" });
    expect(await t.run((ctx) => ctx.db.get("notifications", cancelled))).toMatchObject({ status: "queued" });
    expect((await t.run((ctx) => ctx.db.get("notifications", cancelled)))?.body).toContain("$12.50");
    const [enRoute] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "provider_en_route" });
    expect((await t.run((ctx) => ctx.db.get("notifications", enRoute)))?.subject).toBe("Pat is on the way");
    const [moved] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_rescheduled" });
    expect((await t.run((ctx) => ctx.db.get("notifications", moved)))?.status).toBe("queued");
  });

  test("a template whose placeholder has no value is not sent", async () => {
    const t = newTest();
    const { booking } = await scenario(t);
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    // booking_cancelled needs {{cancellationFee}}, which only `extra` provides.
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_cancelled" });
    expect(await t.run((ctx) => ctx.db.get("notifications", id))).toMatchObject({ status: "failed", error: "No value for {{cancellationFee}}." });
  });

  test("once: true deduplicates per booking and key", async () => {
    const t = newTest();
    const { booking } = await scenario(t);
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "review_request", once: true });
    expect(await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "review_request", once: true })).toEqual([]);
    expect(await logOf(t, bookingId)).toHaveLength(1);
  });
});

describe("sendDueReminders", () => {
  test("24 h and 2 h reminders, once per booking, only for CONFIRMED bookings", async () => {
    const t = newTest();
    const now = Date.UTC(2030, 0, 10, 12, 0);
    const { booking } = await scenario(t);
    const longAgo = now - 7 * 24 * HOUR;
    const in20h = await booking(now + 20 * HOUR, { createdAt: longAgo });
    const in90m = await booking(now + 90 * 60_000, { createdAt: longAgo });
    const in30h = await booking(now + 30 * HOUR, { createdAt: longAgo });
    const cancelled = await booking(now + 5 * HOUR, { status: "CANCELLED", createdAt: longAgo });
    const bookedLate = await booking(now + 5 * HOUR, { createdAt: now - HOUR });

    expect(await t.mutation(internal.notifications.sendDueReminders, { now })).toEqual({ reminder_24h: 1, reminder_2h: 1, more: false });
    expect((await logOf(t, in20h.bookingId)).map((n) => n.templateKey)).toEqual(["reminder_24h"]);
    expect((await logOf(t, in90m.bookingId)).map((n) => n.templateKey)).toEqual(["reminder_2h"]);
    for (const b of [in30h, cancelled, bookedLate]) expect(await logOf(t, b.bookingId)).toEqual([]);

    // Running again sends nothing new.
    expect(await t.mutation(internal.notifications.sendDueReminders, { now: now + 60_000 })).toEqual({ reminder_24h: 0, reminder_2h: 0, more: false });
    // Later, the 30 h booking enters the 24 h window and the 20 h one the 2 h window.
    expect(await t.mutation(internal.notifications.sendDueReminders, { now: now + 19 * HOUR })).toEqual({ reminder_24h: 1, reminder_2h: 1, more: false });
    expect((await logOf(t, in20h.bookingId)).map((n) => n.templateKey).sort()).toEqual(["reminder_24h", "reminder_2h"]);
    expect((await logOf(t, in30h.bookingId)).map((n) => n.templateKey)).toEqual(["reminder_24h"]);
  });

  test("skips businesses that are not ACTIVE", async () => {
    const t = newTest();
    const now = Date.UTC(2030, 0, 10, 12, 0);
    const { biz, booking } = await scenario(t);
    const b = await booking(now + 20 * HOUR, { createdAt: now - 100 * HOUR });
    await t.run((ctx) => ctx.db.patch("businesses", biz.businessId, { status: "SUSPENDED" }));
    expect(await t.mutation(internal.notifications.sendDueReminders, { now })).toEqual({ reminder_24h: 0, reminder_2h: 0, more: false });
    expect(await logOf(t, b.bookingId)).toEqual([]);
  });
});

describe("deliverQueued and the log", () => {
  afterEach(() => vi.useRealTimers());

  test("the sweep re-schedules queued rows whose run was lost and counts stuck attempts as failed", async () => {
    vi.useFakeTimers();
    const now = Date.UTC(2030, 0, 10, 12, 0);
    vi.setSystemTime(now);
    const t = newTest();
    const { biz } = await scenario(t);
    const base = { businessId: biz.businessId, templateKey: "payment_failed" as const, channel: "email" as const, body: "b", createdAt: now - 5 * 60_000 };
    const lost = await t.run((ctx) => ctx.db.insert("notifications", { ...base, to: "owner@example.test", status: "queued" }));
    const fresh = await t.run((ctx) => ctx.db.insert("notifications", { ...base, to: "owner@example.test", status: "queued", createdAt: now }));
    const stuck = await t.run((ctx) => ctx.db.insert("notifications", { ...base, to: "owner@example.test", status: "sending", attempts: 1, lastAttemptAt: now - 11 * 60_000 }));
    const lastTry = await t.run((ctx) => ctx.db.insert("notifications", { ...base, to: "owner@example.test", status: "sending", attempts: MAX_ATTEMPTS, lastAttemptAt: now - 11 * 60_000 }));
    expect(await t.mutation(internal.notifications.deliverQueued, { now })).toBe(3);
    const row = (id: Id<"notifications">) => t.run((ctx) => ctx.db.get("notifications", id));
    expect(await row(fresh)).toMatchObject({ status: "queued" });
    expect(await row(stuck)).toMatchObject({ status: "queued", nextAttemptAt: now + 60_000, error: "The delivery attempt did not finish (interrupted)." });
    expect(await row(lastTry)).toMatchObject({ status: "failed", error: "The delivery attempt did not finish (interrupted)." });
    const jobs = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    const delivering = jobs.filter((j) => /notifySend/.test(j.name)).map((j) => (j.args[0] as { notificationId: string }).notificationId);
    expect(delivering).toEqual(expect.arrayContaining([lost, stuck]));
    expect(delivering).not.toContain(lastTry);
    const log = await biz.owner.as.query(api.notifications.log, { businessId: biz.businessId, paginationOpts: { numItems: 10, cursor: null } });
    expect(log.page.map((n) => n._id).sort()).toEqual([lost, fresh, stuck, lastTry].sort());
  });
});

// ---------------------------------------------------------------------------------------
// Delivery: over SMTP into a real catcher (maildev), read back through its REST API
// ---------------------------------------------------------------------------------------

describe("delivery", { timeout: 60_000 }, () => {
  let mail: Maildev;
  const setKeys: string[] = [];
  beforeAll(async () => {
    mail = await startMaildev({ smtpPort: await freeLoopbackPort(), webPort: await freeLoopbackPort(), mailDir: `${process.env.TMPDIR ?? "/tmp"}/notify-test-${process.pid}-${Date.now()}` });
  }, 60_000);
  afterAll(async () => {
    await mail?.stop();
  });
  afterEach(() => {
    vi.useRealTimers();
    for (const key of setKeys.splice(0)) delete process.env[key];
  });

  /** A backend whose deployment env points email (and texts, through the local inbox) at the catcher. */
  function deliveringTest(extra: Record<string, string> = {}) {
    const vars = { SMTP_URL: mail.smtpUrl, SMTP_FROM: "Bookings <bookings@example.test>", TEXT_MESSAGE_INBOX: "smtp", ...extra };
    // The mock engine's actions read process.env; the local engine gets the deployment env.
    for (const [key, value] of Object.entries(vars)) {
      process.env[key] = value;
      setKeys.push(key);
    }
    fakeClock();
    return newTest(vars);
  }
  const row = (t: TestConvex, id: Id<"notifications">) => t.run((ctx) => ctx.db.get("notifications", id));
  const inboxWait = (to: string, subject: string) => mail.inbox.waitFor({ to, subject, timeoutMs: 15_000 });

  test("an account code is mailed in full while the log shows it masked, and the kept code is deleted once sent", async () => {
    const t = deliveringTest();
    const to = `code-${Date.now()}@example.test`;
    await t.mutation(internal.accounts.sendCode, { purpose: "verify", email: to, code: "493817" });
    await deliverAll(t);
    const [logged] = (await t.run((ctx) => ctx.db.query("notifications").collect())).filter((n) => n.to === to);
    expect(logged).toMatchObject({ status: "sent", transport: "smtp", hidesSecret: true, subject: `Your verification code: ${SECRET_MASK}` });
    expect(logged.body).toContain(SECRET_MASK);
    expect(`${logged.subject} ${logged.body}`).not.toContain("493817");
    const received = await inboxWait(to, "Your verification code: 493817");
    expect(received.text).toContain("Your verification code is 493817.");
    expect(await t.run((ctx) => ctx.db.query("notificationSecrets").collect())).toEqual([]);
  });

  test("a confirmation is mailed over SMTP; a receipt carries the invoice as a PDF", async () => {
    const t = deliveringTest();
    const { customer, booking } = await scenario(t, { email: `ann-${Date.now()}@example.test` });
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const [confirmation] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    await deliverAll(t);
    const sent = await row(t, confirmation);
    expect(sent).toMatchObject({ status: "sent", transport: "smtp", attempts: 1 });
    expect(sent?.providerMessageId).toMatch(/^<.+@example\.test>$/);
    const to = customer.identity.email!.toLowerCase();
    const received = await inboxWait(to, "Your booking with Sparkle is confirmed");
    expect(received.from).toEqual(["bookings@example.test"]);
    expect(received.text).toContain("Tuesday, January 15, 2030 at 9:00");
    expect(received.html).toContain("<a href=\"http://127.0.0.1:5173/b/");
    expect(received.headers["x-notification-id"]).toBe(confirmation);
    expect(received.attachments).toEqual([]);

    // The receipt: the booking's invoice rendered as a PDF and attached.
    const invoiceId = await t.run(async (ctx) => {
      const b = (await ctx.db.get("bookings", bookingId))!;
      const id = await ctx.db.insert("invoices", {
        businessId: b.businessId, bookingId, customerId: b.customerId, number: "SPK-0042", status: "paid", currency: "USD",
        lines: [{ kind: "product", description: "Standard clean", quantity: 1, unitAmountMinor: 10_000, amountMinor: 10_000 }],
        subtotalMinor: 10_000, discountMinor: 0, taxMinor: 0, totalMinor: 10_000, depositMinor: 0, amountPaidMinor: 10_000, amountRefundedMinor: 0,
        issuedAt: Date.now(), paidAt: Date.now(),
      });
      await ctx.db.patch("bookings", bookingId, { invoiceId: id });
      return id;
    });
    const [receipt] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "payment_receipt" });
    expect(await row(t, receipt)).toMatchObject({ status: "queued", attachments: [{ kind: "invoice_pdf", invoiceId }] });
    await deliverAll(t);
    expect(await row(t, receipt)).toMatchObject({ status: "sent" });
    const mailed = await inboxWait(to, "Receipt SPK-0042 from Sparkle");
    expect(mailed.attachments.map((a) => [a.filename, a.contentType])).toEqual([["invoice-SPK-0042.pdf", "application/pdf"]]);
    const pdf = await mailed.attachments[0].content();
    expect(new TextDecoder().decode(pdf.slice(0, 5))).toBe("%PDF-");
    const { PDFDocument } = await import("pdf-lib");
    const parsed = await PDFDocument.load(pdf);
    expect(parsed.getTitle()).toBe("Invoice SPK-0042");
    expect(parsed.getPageCount()).toBe(1);
  });

  test("without Twilio, an SMS lands in the local inbox, labelled as a text to that number", async () => {
    const t = deliveringTest();
    const phone = `+1212555${String(Date.now()).slice(-4)}`;
    const { biz, booking } = await scenario(t, { phone });
    await t.run(async (ctx) => {
      const c = await ctx.db.query("customers").withIndex("by_businessId", (q) => q.eq("businessId", biz.businessId)).first();
      await ctx.db.patch("customers", c!._id, { preferredChannel: "sms" });
    });
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    await deliverAll(t);
    expect(await row(t, id)).toMatchObject({ channel: "sms", to: phone, status: "sent", transport: "local-inbox" });
    const text = await inboxWait(`${phone.slice(1)}@sms.inbox.localhost`, `SMS to ${phone}`);
    expect(text.text).toMatch(/^Sparkle: your .+ is confirmed\. Manage: http/);
  });

  test("a temporary failure is retried after a wait, and sent once the server is back", async () => {
    const port = await freeLoopbackPort(); // nothing listens there yet: connection refused
    const t = deliveringTest({ SMTP_URL: `smtp://127.0.0.1:${port}` });
    const { customer, booking } = await scenario(t, { email: `retry-${Date.now()}@example.test` });
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    await deliverNext(t);
    const afterFirst = await row(t, id);
    expect(afterFirst).toMatchObject({ status: "queued", attempts: 1, nextAttemptAt: Date.now() + 60_000 });
    expect(afterFirst?.error).toMatch(/^SMTP: .*ECONNREFUSED/);

    const late = await startMaildev({ smtpPort: port, webPort: await freeLoopbackPort(), mailDir: `${process.env.TMPDIR ?? "/tmp"}/notify-late-${process.pid}-${Date.now()}` });
    try {
      await deliverAll(t);
      expect(await row(t, id)).toMatchObject({ status: "sent", attempts: 2 });
      expect((await row(t, id))?.error).toBeUndefined();
      await late.inbox.waitFor({ to: customer.identity.email!.toLowerCase(), subject: "confirmed", timeoutMs: 15_000 });
    } finally {
      await late.stop();
    }
  });

  test("temporary failures stop after the last attempt; a manager can retry a failed one", async () => {
    const port = await freeLoopbackPort();
    const t = deliveringTest({ SMTP_URL: `smtp://127.0.0.1:${port}` });
    const { biz, booking } = await scenario(t);
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    await deliverAll(t);
    expect(await row(t, id)).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS });
    const provider = await aProvider(t, biz.businessId);
    await expectAppError(provider.as.mutation(api.notifications.retry, { notificationId: id }), "FORBIDDEN");
    await biz.owner.as.mutation(api.notifications.retry, { notificationId: id });
    expect(await row(t, id)).toMatchObject({ status: "queued", attempts: 0 });
    await expectAppError(biz.owner.as.mutation(api.notifications.retry, { notificationId: id }), "CONFLICT", "notificationId");
  });

  test("email not configured: failed at once, saying what to set, no retries", async () => {
    fakeClock();
    const t = newTest();
    const { booking } = await scenario(t);
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    await deliverAll(t);
    expect(await row(t, id)).toMatchObject({ status: "failed", attempts: 1, error: "Email is not configured: set SMTP_URL and SMTP_FROM on the deployment." });
  });

  test("account codes belong to no business: platform templates, localised, mailed", async () => {
    const t = deliveringTest();
    const to = `new-user-${Date.now()}@example.test`;
    const id = await t.run((ctx) => queueNotification(ctx, { templateKey: "account_verify_code", channel: "email", to, locale: "pt-BR", vars: { code: "482913", expiresInMinutes: "15" } }));
    expect(await row(t, id)).toMatchObject({ status: "queued", locale: "pt-BR", subject: "Seu código de verificação: 482913" });
    expect((await row(t, id))?.businessId).toBeUndefined();
    await deliverAll(t);
    const received = await inboxWait(to, "482913");
    expect(received.text).toContain("Ele expira em 15 minutos.");
  });
});

describe("channel preference, opt-out and language", () => {
  test("the preferred channel wins when reachable; opted-out channels are never used", () => {
    const base = { _id: "c" as Id<"customers">, _creationTime: 0, businessId: "b" as Id<"businesses">, name: "A", tags: [], createdAt: 0 };
    expect(customerChannel({ ...base, email: "a@x.test", phone: "+12125550123" })).toBe("email");
    expect(customerChannel({ ...base, email: "a@x.test", phone: "+12125550123", preferredChannel: "whatsapp" })).toBe("whatsapp");
    expect(customerChannel({ ...base, email: "a@x.test", preferredChannel: "sms" })).toBe("email");
    expect(customerChannel({ ...base, email: "a@x.test", phone: "+12125550123", optedOutChannels: ["email"] })).toBe("sms");
    expect(customerChannel({ ...base, email: "a@x.test", optedOutChannels: ["email"] })).toBeNull();
    expect(customerChannel({ ...base })).toBeNull();
  });

  test("a customer who opted out gets a skipped row saying so, and no delivery is scheduled", async () => {
    vi.useFakeTimers();
    const t = newTest();
    const { biz, booking } = await scenario(t);
    await t.run(async (ctx) => {
      const c = await ctx.db.query("customers").withIndex("by_businessId", (q) => q.eq("businessId", biz.businessId)).first();
      await ctx.db.patch("customers", c!._id, { optedOutChannels: ["email"] });
    });
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    expect(await t.run((ctx) => ctx.db.get("notifications", id))).toMatchObject({ status: "skipped", error: "The customer opted out of email messages." });
    const jobs = await t.run((ctx) => ctx.db.system.query("_scheduled_functions").collect());
    expect(jobs.filter((j) => /notifySend/.test(j.name))).toEqual([]);
    vi.useRealTimers();
  });

  test("Spanish and Brazilian Portuguese customers get their language, amounts and dates", async () => {
    const t = newTest();
    for (const [locale, subject, date] of [
      ["es-MX", "Tu reserva con Sparkle está confirmada", "martes, 15 de enero de 2030"],
      ["pt-BR", "Seu agendamento com Sparkle está confirmado", "terça-feira, 15 de janeiro de 2030"],
    ] as const) {
      const { booking } = await scenario(t, { locale });
      const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0));
      const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
      const sent = await t.run((ctx) => ctx.db.get("notifications", id));
      expect(sent?.subject).toBe(subject);
      expect(sent?.body).toContain(date);
      expect(sent?.locale).toBe(locale === "pt-BR" ? "pt-BR" : "es");
    }
  });

  test("every template key has English, Spanish and Brazilian Portuguese texts", () => {
    for (const locale of ["en", "es", "pt-BR"]) expect(Object.keys(BUILT_IN_TEMPLATES[locale]).sort()).toEqual(Object.keys(TEMPLATE_PLACEHOLDERS).sort());
  });
});

describe("templates", () => {
  test("upsert validates placeholders, subjects and locales, and replaces by key/channel/locale", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const manager = await aManager(t, biz.businessId);
    const base = { businessId: biz.businessId, key: "reminder_24h" as const, channel: "email" as const, locale: "en-us" };
    await expectAppError(manager.as.mutation(api.templates.upsert, { ...base, subject: "Hi", body: "{{customerName}} {{secret}}" }), "INVALID_ARGUMENT", "body");
    await expectAppError(manager.as.mutation(api.templates.upsert, { ...base, subject: "{{nope}}", body: "x" }), "INVALID_ARGUMENT", "subject");
    await expectAppError(manager.as.mutation(api.templates.upsert, { ...base, body: "x" }), "INVALID_ARGUMENT", "subject");
    await expectAppError(manager.as.mutation(api.templates.upsert, { ...base, subject: "s", body: "{{customerName" }), "INVALID_ARGUMENT", "body");
    await expectAppError(manager.as.mutation(api.templates.upsert, { ...base, channel: "sms", subject: "s", body: "x" }), "INVALID_ARGUMENT", "subject");
    await expectAppError(manager.as.mutation(api.templates.upsert, { ...base, locale: "english please", subject: "s", body: "x" }), "INVALID_ARGUMENT", "locale");
    const id1 = await manager.as.mutation(api.templates.upsert, { ...base, subject: "Tomorrow", body: "{{ customerName }}, see you at {{bookingTime}}" });
    const id2 = await manager.as.mutation(api.templates.upsert, { ...base, subject: "Tomorrow!", body: "See you {{customerName}}" });
    expect(id2).toBe(id1);
    const list = await manager.as.query(api.templates.list, { businessId: biz.businessId });
    expect(list.map((r) => [r.locale, r.subject])).toEqual([["en-US", "Tomorrow!"]]);
    const preview = await manager.as.query(api.templates.preview, { businessId: biz.businessId, key: "reminder_24h", channel: "email", locale: "en-US" });
    expect(preview).toEqual({ source: "business", locale: "en-US", subject: "Tomorrow!", body: "See you Alex Sample", problems: [] });
    await manager.as.mutation(api.templates.remove, { templateId: id1 });
    expect((await manager.as.query(api.templates.preview, { businessId: biz.businessId, key: "reminder_24h", channel: "email", locale: "en-US" }))?.source).toBe("built_in");
  });

  test("platform defaults: admin-written, seeded once, used when the business has none", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const admin = await aPlatformAdmin(t);
    const inserted = await t.mutation(internal.templates.seedPlatformDefaults, {});
    expect(inserted).toBeGreaterThan(27);
    expect(await t.mutation(internal.templates.seedPlatformDefaults, {})).toBe(0);
    await admin.as.mutation(api.templates.upsertPlatformDefault, { key: "reminder_2h", channel: "sms", locale: "en", body: "Platform: {{bookingTime}}" });
    const preview = await biz.owner.as.query(api.templates.preview, { businessId: biz.businessId, key: "reminder_2h", channel: "sms", locale: "en-US" });
    expect(preview).toEqual({ source: "platform", locale: "en", subject: undefined, body: "Platform: 9:00 AM", problems: [] });
    await expectAppError(biz.owner.as.mutation(api.templates.remove, { templateId: (await t.run((ctx) => ctx.db.query("messageTemplates").first()))!._id }), "NOT_FOUND", "templateId");
  });

  test("every built-in template only uses its key's placeholders; English covers every key", () => {
    for (const [locale, templates] of Object.entries(BUILT_IN_TEMPLATES)) {
      for (const [key, template] of Object.entries(templates)) {
        for (const text of [template!.subject, template!.body, template!.short]) {
          expect(() => requireKnownPlaceholders(key as TemplateKey, text, `${locale}.${key}`)).not.toThrow();
        }
      }
    }
    expect(Object.keys(BUILT_IN_TEMPLATES.en).sort()).toEqual(Object.keys(TEMPLATE_PLACEHOLDERS).sort());
  });
});
