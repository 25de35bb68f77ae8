import { describe, expect, test } from "vitest";
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
import { logOnlyTransport, transportFor } from "./notifications";

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

  test("every channel goes through the clearly named log-only transport", () => {
    for (const channel of ["email", "sms", "whatsapp"] as const) expect(transportFor(channel)).toBe(logOnlyTransport);
    expect(logOnlyTransport.name).toBe("log-only");
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
  test("renders the built-in template in the business's zone and logs it as sent", async () => {
    const t = newTest();
    const { customer, booking } = await scenario(t);
    const { bookingId } = await booking(Date.UTC(2030, 0, 15, 14, 0)); // 09:00 in New York
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    const row = await t.run((ctx) => ctx.db.get("notifications", id));
    expect(row).toMatchObject({ status: "sent", channel: "email", customerId: customer.customerId, providerMessageId: `log-only:${id}` });
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
    expect(await t.run((ctx) => ctx.db.get("notifications", sms))).toMatchObject({ channel: "sms", to: "+12125550123", status: "sent" });
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
    expect(await t.run((ctx) => ctx.db.get("notifications", cancelled))).toMatchObject({ status: "sent" });
    expect((await t.run((ctx) => ctx.db.get("notifications", cancelled)))?.body).toContain("$12.50");
    const [enRoute] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "provider_en_route" });
    expect((await t.run((ctx) => ctx.db.get("notifications", enRoute)))?.subject).toBe("Pat is on the way");
    const [moved] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_rescheduled" });
    expect((await t.run((ctx) => ctx.db.get("notifications", moved)))?.status).toBe("sent");
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
  test("queued rows from other modules are delivered or failed; managers read the log", async () => {
    const t = newTest();
    const { biz } = await scenario(t);
    const base = { businessId: biz.businessId, templateKey: "payment_failed" as const, channel: "email" as const, body: "b", createdAt: Date.now() };
    const good = await t.run((ctx) => ctx.db.insert("notifications", { ...base, to: "owner@example.test", status: "queued" }));
    const bad = await t.run((ctx) => ctx.db.insert("notifications", { ...base, to: "", status: "queued" }));
    expect(await t.mutation(internal.notifications.deliverQueued, {})).toBe(2);
    expect((await t.run((ctx) => ctx.db.get("notifications", good)))?.status).toBe("sent");
    expect((await t.run((ctx) => ctx.db.get("notifications", bad)))?.status).toBe("failed");
    const log = await biz.owner.as.query(api.notifications.log, { businessId: biz.businessId, paginationOpts: { numItems: 10, cursor: null } });
    expect(log.page.map((n) => n._id).sort()).toEqual([good, bad].sort());
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
    expect(preview).toEqual({ source: "business", locale: "en-US", subject: "Tomorrow!", body: "See you Alex Sample" });
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
    expect(preview).toEqual({ source: "platform", locale: "en", subject: undefined, body: "Platform: 9:00 AM" });
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
