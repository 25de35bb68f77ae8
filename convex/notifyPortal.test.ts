/**
 * What owners, managers and customers see of notifications: the log with its filters and
 * retry, the template editor's live preview and validation, invoice PDFs behind access
 * checks, and reminders at the right moment in the business's time zone (fake clock, across
 * DST changes).
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { reminderDueAt, dueReminder } from "./model/reminders";
import { aBooking, aBusiness, aCatalogue, aCustomer, aManager, aProvider, aZone, expectAppError } from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";

const HOUR = 3_600_000;
const MINUTE = 60_000;
const NY = "America/New_York";

async function scenario(t: TestConvex, opts: { timeZone?: string; locale?: string } = {}) {
  const biz = await aBusiness(t, { name: "Sparkle", timeZone: opts.timeZone });
  const { zoneId } = await aZone(t, biz.businessId);
  const cat = await aCatalogue(t, biz.businessId);
  const customer = await aCustomer(t, biz.businessId, { name: "Ann", locale: opts.locale });
  const booking = async (start: number, createdAt?: number) => {
    const b = await aBooking(t, { businessId: biz.businessId, customerId: customer.customerId, zoneId, industryId: cat.industryId, start, timeZone: opts.timeZone });
    if (createdAt !== undefined) await t.run((ctx) => ctx.db.patch("bookings", b.bookingId, { createdAt }));
    return b.bookingId;
  };
  return { biz, customer, booking, zoneId, industryId: cat.industryId };
}

async function anInvoice(t: TestConvex, bookingId: Id<"bookings">, number = "SPK-0007") {
  return await t.run(async (ctx) => {
    const b = (await ctx.db.get("bookings", bookingId))!;
    const id = await ctx.db.insert("invoices", {
      businessId: b.businessId, bookingId, customerId: b.customerId, number, status: "open", currency: "USD",
      lines: [{ kind: "product", description: "Standard clean", quantity: 1, unitAmountMinor: 10_000, amountMinor: 10_000 }],
      subtotalMinor: 10_000, discountMinor: 0, taxMinor: 0, totalMinor: 10_000, depositMinor: 0, amountPaidMinor: 0, amountRefundedMinor: 0,
      issuedAt: Date.now(),
    });
    await ctx.db.patch("bookings", bookingId, { invoiceId: id });
    return id;
  });
}

const reminders = (t: TestConvex, bookingId: Id<"bookings">) =>
  t.run(async (ctx) =>
    (await ctx.db.query("notifications").withIndex("by_bookingId_and_templateKey", (q) => q.eq("bookingId", bookingId)).collect())
      .filter((n) => n.templateKey.startsWith("reminder_"))
      .map((n) => ({ key: n.templateKey, at: n.createdAt })),
  );

describe("reminders in the business's time zone", () => {
  afterEach(() => vi.useRealTimers());

  test("24 h = same wall-clock time the local day before: 23 h before a spring-forward Sunday, 25 h before a fall-back one", () => {
    // Sunday 8 March 2026, 09:00 EDT (clocks went forward at 02:00 that morning).
    const springSunday = Date.UTC(2026, 2, 8, 13, 0);
    expect(reminderDueAt("reminder_24h", springSunday, NY)).toBe(Date.UTC(2026, 2, 7, 14, 0)); // Sat 09:00 EST
    expect(springSunday - reminderDueAt("reminder_24h", springSunday, NY)).toBe(23 * HOUR);
    // Sunday 1 November 2026, 09:00 EST (clocks went back at 02:00).
    const fallSunday = Date.UTC(2026, 10, 1, 14, 0);
    expect(fallSunday - reminderDueAt("reminder_24h", fallSunday, NY)).toBe(25 * HOUR);
    // Monday 9 March 02:30 EDT: 02:30 did not exist on Sunday, the reminder goes at 03:30 EDT.
    const earlyMonday = Date.UTC(2026, 2, 9, 6, 30);
    expect(reminderDueAt("reminder_24h", earlyMonday, NY)).toBe(Date.UTC(2026, 2, 8, 7, 30));
    // The 2 h one is elapsed time, whatever the zone.
    expect(reminderDueAt("reminder_2h", springSunday, NY)).toBe(springSunday - 2 * HOUR);
    // In UTC nothing shifts.
    expect(springSunday - reminderDueAt("reminder_24h", springSunday, "UTC")).toBe(24 * HOUR);
  });

  test("dueReminder: nothing before its moment, the 2 h one wins once due, nothing for a booking made after the moment", () => {
    const start = Date.UTC(2026, 2, 8, 13, 0);
    const old = { start, createdAt: start - 7 * 24 * HOUR };
    expect(dueReminder(old, start - 23 * HOUR - MINUTE, NY)).toBeNull();
    expect(dueReminder(old, start - 23 * HOUR, NY)).toBe("reminder_24h");
    expect(dueReminder(old, start - 2 * HOUR, NY)).toBe("reminder_2h");
    expect(dueReminder(old, start, NY)).toBeNull();
    expect(dueReminder({ start, createdAt: start - 10 * HOUR }, start - 3 * HOUR, NY)).toBeNull();
    expect(dueReminder({ start, createdAt: start - 10 * HOUR }, start - HOUR, NY)).toBe("reminder_2h");
  });

  test("the cron, on a fake clock, sends the 24 h reminder at the local time across spring-forward and the 2 h one on time", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.UTC(2026, 2, 8, 13, 0); // Sunday 09:00 EDT
    vi.setSystemTime(start - 5 * 24 * HOUR);
    const t = newTest();
    const { booking } = await scenario(t, { timeZone: NY });
    const bookingId = await booking(start);
    const cron = () => t.mutation(internal.notifications.sendDueReminders, {});

    // 24 hours before (Saturday 10:00 EST) is an hour too early: 09:00 Saturday is 23 h before.
    vi.setSystemTime(start - 24 * HOUR);
    expect(await cron()).toEqual({ reminder_24h: 0, reminder_2h: 0, more: false });
    vi.setSystemTime(start - 23 * HOUR - 5 * MINUTE);
    expect(await cron()).toEqual({ reminder_24h: 0, reminder_2h: 0, more: false });
    vi.setSystemTime(start - 23 * HOUR);
    expect(await cron()).toEqual({ reminder_24h: 1, reminder_2h: 0, more: false });
    vi.setSystemTime(start - 23 * HOUR + 5 * MINUTE);
    expect(await cron()).toEqual({ reminder_24h: 0, reminder_2h: 0, more: false });
    vi.setSystemTime(start - 2 * HOUR - MINUTE);
    expect(await cron()).toEqual({ reminder_24h: 0, reminder_2h: 0, more: false });
    vi.setSystemTime(start - 2 * HOUR);
    expect(await cron()).toEqual({ reminder_24h: 0, reminder_2h: 1, more: false });
    expect(await reminders(t, bookingId)).toEqual([
      { key: "reminder_24h", at: start - 23 * HOUR },
      { key: "reminder_2h", at: start - 2 * HOUR },
    ]);
    const row = await t.run(async (ctx) => (await ctx.db.query("notifications").withIndex("by_bookingId_and_templateKey", (q) => q.eq("bookingId", bookingId).eq("templateKey", "reminder_24h")).first())!);
    expect(row.body).toContain("Sunday, March 8, 2026 at 9:00");
  });

  test("25 h ahead before a fall-back Sunday, in another zone too; a moved booking is reminded again for its new time", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const start = Date.UTC(2026, 10, 1, 14, 0); // Sunday 1 Nov 09:00 EST
    vi.setSystemTime(start - 5 * 24 * HOUR);
    const t = newTest();
    const ny = await scenario(t, { timeZone: NY });
    const nyBooking = await ny.booking(start);
    // São Paulo has no DST: exactly 24 h, at 09:00 local the day before.
    const sp = await scenario(t, { timeZone: "America/Sao_Paulo", locale: "pt-BR" });
    const spStart = Date.UTC(2026, 10, 1, 12, 0); // 09:00 in São Paulo
    const spBooking = await sp.booking(spStart);

    // Saturday 31 October 12:00 UTC: 09:00 in São Paulo, 08:00 in New York (still EDT).
    vi.setSystemTime(spStart - 24 * HOUR);
    expect(await t.mutation(internal.notifications.sendDueReminders, {})).toEqual({ reminder_24h: 1, reminder_2h: 0, more: false });
    expect(await reminders(t, nyBooking)).toEqual([]);
    // An hour later it is 09:00 in New York: 25 hours before Sunday's 09:00 EST.
    vi.setSystemTime(start - 25 * HOUR);
    expect(await t.mutation(internal.notifications.sendDueReminders, {})).toEqual({ reminder_24h: 1, reminder_2h: 0, more: false });
    expect((await reminders(t, nyBooking)).map((r) => r.key)).toEqual(["reminder_24h"]);
    const spRow = await t.run(async (ctx) => (await ctx.db.query("notifications").withIndex("by_bookingId_and_templateKey", (q) => q.eq("bookingId", spBooking)).first())!);
    expect(spRow.subject).toMatch(/^Lembrete: .* amanhã às 09:00$/);

    // The New York booking moves a day later: its 24 h reminder is due again, for the new start.
    await t.run((ctx) => ctx.db.patch("bookings", nyBooking, { start: start + 24 * HOUR, end: start + 26 * HOUR }));
    vi.setSystemTime(start);
    expect(await t.mutation(internal.notifications.sendDueReminders, {})).toEqual({ reminder_24h: 1, reminder_2h: 0, more: false });
    expect((await reminders(t, nyBooking)).map((r) => r.key)).toEqual(["reminder_24h", "reminder_24h"]);
  });
});

describe("the notification log", () => {
  afterEach(() => vi.useRealTimers());

  test("filters by status, channel and template; names the customer; counts failed and retrying; managers only", async () => {
    // A still clock: queued rows stay queued (no delivery runs) while the test reads them.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now: Date.UTC(2029, 11, 1) });
    const t = newTest();
    const { biz, customer, booking } = await scenario(t);
    const other = await aBusiness(t);
    const bookingId = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const [confirmed] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    const [failedSms] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "review_request", channels: ["sms"] });
    const [retrying] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_rescheduled" });
    await t.run((ctx) => ctx.db.patch("notifications", retrying, { attempts: 2, error: "SMTP: 421 try later", nextAttemptAt: Date.now() + 5 * MINUTE }));

    const page = (filters: Record<string, string> = {}) =>
      biz.owner.as.query(api.notifications.log, { businessId: biz.businessId, paginationOpts: { numItems: 20, cursor: null }, ...filters });
    const all = await page();
    expect(all.page.map((r) => r._id).sort()).toEqual([confirmed, failedSms, retrying].sort());
    expect(all.page.every((r) => r.customerName === "Ann")).toBe(true);
    expect((await page({ status: "failed" })).page.map((r) => [r._id, r.error])).toEqual([[failedSms, "The recipient has no phone number."]]);
    expect((await page({ channel: "sms" })).page.map((r) => r._id)).toEqual([failedSms]);
    expect((await page({ templateKey: "booking_confirmed" })).page.map((r) => r._id)).toEqual([confirmed]);
    expect((await page({ status: "queued", channel: "email", templateKey: "booking_rescheduled" })).page.map((r) => r._id)).toEqual([retrying]);
    expect((await page({ status: "queued", channel: "sms" })).page).toEqual([]);
    // By customer, alone or with the other filters; another business's customer is unknown here.
    const bo = await aCustomer(t, biz.businessId, { name: "Bo" });
    expect((await page({ customerId: customer.customerId })).page.map((r) => r._id).sort()).toEqual([confirmed, failedSms, retrying].sort());
    expect((await page({ customerId: customer.customerId, status: "failed", channel: "sms" })).page.map((r) => r._id)).toEqual([failedSms]);
    expect((await page({ customerId: customer.customerId, templateKey: "booking_confirmed" })).page.map((r) => r._id)).toEqual([confirmed]);
    expect((await page({ customerId: bo.customerId })).page).toEqual([]);
    const outsider = await aCustomer(t, other.businessId, { name: "Cy" });
    await expectAppError(page({ customerId: outsider.customerId }), "NOT_FOUND", "customerId");
    expect(await biz.owner.as.query(api.notifications.logCounts, { businessId: biz.businessId })).toEqual({ failed: 1, retrying: 1 });

    // The customer's own history, as staff see it on the customer's page and as the customer does.
    const history = await biz.owner.as.query(api.notifications.forCustomer, { customerId: customer.customerId, paginationOpts: { numItems: 10, cursor: null } });
    expect(history.page).toHaveLength(3);
    expect((await customer.as.query(api.notifications.forCustomer, { customerId: customer.customerId, paginationOpts: { numItems: 10, cursor: null } })).page).toHaveLength(3);

    const provider = await aProvider(t, biz.businessId);
    await expectAppError(provider.as.query(api.notifications.log, { businessId: biz.businessId, paginationOpts: { numItems: 5, cursor: null } }), "FORBIDDEN");
    await expectAppError(other.owner.as.query(api.notifications.log, { businessId: biz.businessId, paginationOpts: { numItems: 5, cursor: null } }), "NOT_FOUND", "businessId");
    await expectAppError(other.owner.as.query(api.notifications.forCustomer, { customerId: customer.customerId, paginationOpts: { numItems: 5, cursor: null } }), "NOT_FOUND", "customerId");
    await expectAppError(customer.as.query(api.notifications.log, { businessId: biz.businessId, paginationOpts: { numItems: 5, cursor: null } }), "FORBIDDEN");
    await expectAppError(page({ status: "sent" }).then(() => biz.owner.as.query(api.notifications.log, { businessId: biz.businessId, paginationOpts: { numItems: 500, cursor: null } })), "INVALID_ARGUMENT", "paginationOpts.numItems");
    // Retry: only failed rows, only by the business's managers.
    await expectAppError(other.owner.as.mutation(api.notifications.retry, { notificationId: confirmed }), "NOT_FOUND", "notificationId");
    await expectAppError(biz.owner.as.mutation(api.notifications.retry, { notificationId: confirmed }), "CONFLICT", "notificationId");
  });
});

describe("the template editor", () => {
  test("live preview of a draft with sample data in the locale; unknown placeholders named; save, then reset to default", async () => {
    const t = newTest();
    const biz = await aBusiness(t, { name: "Sparkle" });
    const manager = await aManager(t, biz.businessId);
    const base = { businessId: biz.businessId, key: "booking_confirmed" as const, channel: "email" as const };

    const es = await manager.as.query(api.templates.preview, { ...base, locale: "es" });
    expect(es).toMatchObject({ source: "built_in", locale: "es", subject: "Tu reserva con Sparkle está confirmada", problems: [] });
    expect(es?.body).toContain("martes, 3 de marzo de 2026");
    expect(es?.body).toMatch(/120[.,]00/);

    const draft = await manager.as.query(api.templates.preview, { ...base, locale: "pt-BR", subject: "Confirmado, {{customerName}}", body: "Dia {{bookingDate}} às {{bookingTime}}. {{coupon}}" });
    expect(draft).toMatchObject({ source: "draft", locale: "pt-BR", subject: "Confirmado, Alex Sample" });
    expect(draft?.body).toContain("terça-feira, 3 de março de 2026 às 09:00");
    expect(draft?.problems).toEqual([{ field: "body", message: expect.stringMatching(/^Unknown placeholder \{\{coupon\}\} for booking_confirmed; allowed: customerName, /) }]);
    const noSubject = await manager.as.query(api.templates.preview, { ...base, locale: "en", subject: " ", body: "Hi" });
    expect(noSubject?.problems).toEqual([{ field: "subject", message: "subject must not be empty." }]);
    const sms = await manager.as.query(api.templates.preview, { ...base, channel: "sms", locale: "en", body: "{{businessName}}: see you {{bookingTime}" });
    expect(sms?.problems).toEqual([{ field: "body", message: "body has an unclosed {{placeholder}}." }]);
    // Saving what the preview flags is refused, naming the field.
    await expectAppError(manager.as.mutation(api.templates.upsert, { ...base, locale: "pt-BR", subject: "Oi", body: "{{coupon}}" }), "INVALID_ARGUMENT", "body");

    const editor0 = await manager.as.query(api.templates.editor, { ...base, locale: "pt-BR" });
    expect(editor0).toMatchObject({ overrideId: null, current: { source: "built_in", locale: "pt-BR" }, fallback: { source: "built_in" } });
    expect(editor0.placeholders).toContain("manageUrl");
    const id = await manager.as.mutation(api.templates.upsert, { ...base, locale: "pt-BR", subject: "Confirmado, {{customerName}}", body: "Até {{bookingDate}}!" });
    const editor1 = await manager.as.query(api.templates.editor, { ...base, locale: "pt-BR" });
    expect(editor1).toMatchObject({ overrideId: id, current: { source: "business", body: "Até {{bookingDate}}!" }, fallback: { source: "built_in", locale: "pt-BR" } });
    expect((await manager.as.query(api.templates.preview, { ...base, locale: "pt-BR" }))?.body).toBe("Até terça-feira, 3 de março de 2026!");
    await manager.as.mutation(api.templates.remove, { templateId: id });
    expect((await manager.as.query(api.templates.editor, { ...base, locale: "pt-BR" })).overrideId).toBeNull();

    const provider = await aProvider(t, biz.businessId);
    await expectAppError(provider.as.query(api.templates.editor, { ...base, locale: "en" }), "FORBIDDEN");
    const other = await aBusiness(t);
    await expectAppError(other.owner.as.query(api.templates.preview, { ...base, locale: "en" }), "NOT_FOUND", "businessId");
    await expectAppError(manager.as.query(api.templates.preview, { ...base, locale: "not a locale" }), "INVALID_ARGUMENT", "locale");
  });
});

describe("invoice PDFs", () => {
  test("the customer and the owner download it; other customers, providers and other businesses cannot; over HTTP with a bearer token", async () => {
    const t = newTest();
    const { biz, customer, booking } = await scenario(t, { locale: "es-MX" });
    const bookingId = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const invoiceId = await anInvoice(t, bookingId);
    const { PDFDocument } = await import("pdf-lib");

    const mine = await customer.as.action(api.invoiceFiles.pdf, { invoiceId });
    expect(mine.filename).toBe("invoice-SPK-0007.pdf");
    const parsed = await PDFDocument.load(new Uint8Array(mine.pdf));
    expect(parsed.getTitle()).toBe("Factura SPK-0007");
    const owners = await biz.owner.as.action(api.invoiceFiles.pdf, { invoiceId, locale: "en-US" });
    expect((await PDFDocument.load(new Uint8Array(owners.pdf))).getTitle()).toBe("Invoice SPK-0007");

    const stranger = await aCustomer(t, biz.businessId, { name: "Bo" });
    await expectAppError(stranger.as.action(api.invoiceFiles.pdf, { invoiceId }), "NOT_FOUND", "invoiceId");
    const provider = await aProvider(t, biz.businessId);
    await expectAppError(provider.as.action(api.invoiceFiles.pdf, { invoiceId }), "FORBIDDEN");
    const other = await aBusiness(t);
    await expectAppError(other.owner.as.action(api.invoiceFiles.pdf, { invoiceId }), "NOT_FOUND", "invoiceId");
    await expectAppError(biz.owner.as.action(api.invoiceFiles.pdf, { invoiceId, locale: "??" }), "INVALID_ARGUMENT", "locale");

    const http = await customer.as.fetch(`/invoices/pdf?invoiceId=${invoiceId}`);
    expect(http.status).toBe(200);
    expect(http.headers.get("content-type")).toBe("application/pdf");
    expect(http.headers.get("content-disposition")).toBe('attachment; filename="invoice-SPK-0007.pdf"');
    expect(new TextDecoder().decode(new Uint8Array(await http.arrayBuffer()).slice(0, 5))).toBe("%PDF-");
    const anonymous = await t.fetch(`/invoices/pdf?invoiceId=${invoiceId}`);
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toEqual({ error: { code: "UNAUTHENTICATED", message: "Sign in to continue." } });
    const theirs = await stranger.as.fetch(`/invoices/pdf?invoiceId=${invoiceId}`);
    expect(theirs.status).toBe(404);
    const garbage = await customer.as.fetch(`/invoices/pdf?invoiceId=nope`);
    expect(garbage.status).toBe(404);
    const missing = await customer.as.fetch(`/invoices/pdf`);
    expect(missing.status).toBe(422);
    expect((await missing.json()).error.param).toBe("invoiceId");

    // The portal (PORTAL_URL's origin) may fetch it from the browser; other origins get no CORS.
    const portal = "http://127.0.0.1:5173";
    const preflight = await t.fetch(`/invoices/pdf?invoiceId=${invoiceId}`, { method: "OPTIONS", headers: { Origin: portal, "Access-Control-Request-Headers": "authorization" } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(portal);
    expect(preflight.headers.get("access-control-allow-headers")).toBe("Authorization");
    const fromPortal = await customer.as.fetch(`/invoices/pdf?invoiceId=${invoiceId}`, { headers: { Origin: portal } });
    expect(fromPortal.headers.get("access-control-allow-origin")).toBe(portal);
    expect(fromPortal.headers.get("access-control-expose-headers")).toBe("Content-Disposition");
    const elsewhere = await customer.as.fetch(`/invoices/pdf?invoiceId=${invoiceId}`, { headers: { Origin: "https://evil.example" } });
    expect(elsewhere.headers.get("access-control-allow-origin")).toBeNull();
    const deniedFromPortal = await t.fetch(`/invoices/pdf?invoiceId=${invoiceId}`, { headers: { Origin: portal } });
    expect(deniedFromPortal.status).toBe(401);
    expect(deniedFromPortal.headers.get("access-control-allow-origin")).toBe(portal);
  });

  test("the confirmation email carries the invoice as a PDF once the booking has one; SMS never do", async () => {
    const t = newTest();
    const { booking } = await scenario(t);
    const bookingId = await booking(Date.UTC(2030, 0, 15, 14, 0));
    const [before] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    expect((await t.run((ctx) => ctx.db.get("notifications", before)))?.attachments).toBeUndefined();
    const invoiceId = await anInvoice(t, bookingId);
    const [withPdf] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    expect((await t.run((ctx) => ctx.db.get("notifications", withPdf)))?.attachments).toEqual([{ kind: "invoice_pdf", invoiceId }]);
    const [cancelled] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "review_request" });
    expect((await t.run((ctx) => ctx.db.get("notifications", cancelled)))?.attachments).toBeUndefined();
  });
});
