/**
 * The Twilio adapter against a local fake of Twilio's Messages API, over real HTTP: the
 * request is checked as Twilio checks it (POST /2010-04-01/Accounts/{AccountSid}/Messages.json,
 * HTTP Basic auth with the account SID and auth token, a form-encoded body with To, From or
 * MessagingServiceSid, and Body) and answered as Twilio answers (201 with the Message resource;
 * errors as JSON with code, message, more_info, status). Runs through the whole pipeline:
 * notifyBookingEvent → notifySend.deliver → the transport → the notification's row.
 */
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test, vi } from "vitest";
import { freeLoopbackPort } from "../scripts/maildev";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { MAX_ATTEMPTS } from "./model/notify";
import { deliverAll, deliverNext, fakeClock } from "./notify.testkit";
import { aBooking, aBusiness, aCatalogue, aCustomer, aZone } from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";

const ACCOUNT_SID = `AC${"0123456789abcdef".repeat(2)}`;
const AUTH_TOKEN = "fake-twilio-auth-token";
const SMS_FROM = "+15005550006";
const WHATSAPP_FROM = "+14155238886";
const SERVICE_SID = `MG${"fedcba9876543210".repeat(2)}`;

type Received = { method: string; path: string; authorization: string | undefined; contentType: string | undefined; form: Record<string, string> };
type Reply = { status: number; body: Record<string, unknown> };

/** A fake of Twilio's Messages endpoint: checks what Twilio checks, records every request. */
class FakeTwilio {
  received: Received[] = [];
  /** Replies to hand out before answering normally (201), one per request. */
  queued: Reply[] = [];
  private server: Server | null = null;
  url = "";

  async start() {
    const port = await freeLoopbackPort();
    this.server = createServer((req, res) => void this.handle(req).then(({ status, body }) => res.writeHead(status, { "Content-Type": "application/json" }).end(JSON.stringify(body))));
    await new Promise<void>((resolve) => this.server!.listen(port, "127.0.0.1", resolve));
    this.url = `http://127.0.0.1:${port}`;
  }

  async stop() {
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async handle(req: IncomingMessage): Promise<Reply> {
    let raw = "";
    for await (const chunk of req) raw += chunk;
    const form = Object.fromEntries(new URLSearchParams(raw));
    this.received.push({ method: req.method ?? "", path: req.url ?? "", authorization: req.headers.authorization, contentType: req.headers["content-type"], form });
    const error = (status: number, code: number, message: string): Reply => ({
      status,
      body: { code, message, more_info: `https://www.twilio.com/docs/errors/${code}`, status },
    });
    if (req.method !== "POST" || req.url !== `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`) return error(404, 20404, "The requested resource was not found");
    const expected = `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64")}`;
    if (req.headers.authorization !== expected) return error(401, 20003, "Authenticate");
    if (!req.headers["content-type"]?.startsWith("application/x-www-form-urlencoded")) return error(400, 20001, "Content-Type must be form-encoded");
    if (!form.To) return error(400, 21604, "A 'To' phone number is required.");
    if (!form.From && !form.MessagingServiceSid) return error(400, 21603, "A 'From' phone number is required.");
    if (!form.Body) return error(400, 21602, "Message body is required.");
    const next = this.queued.shift();
    if (next) return next;
    const sid = `SM${String(this.received.length).padStart(32, "0")}`;
    return {
      status: 201,
      body: {
        sid,
        account_sid: ACCOUNT_SID,
        to: form.To,
        from: form.From ?? null,
        messaging_service_sid: form.MessagingServiceSid ?? null,
        body: form.Body,
        status: "queued",
        direction: "outbound-api",
        api_version: "2010-04-01",
        error_code: null,
        error_message: null,
        uri: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages/${sid}.json`,
      },
    };
  }
}

describe("Twilio adapter against a fake Messages API", { timeout: 60_000 }, () => {
  const twilio = new FakeTwilio();
  const setKeys: string[] = [];
  beforeAll(() => twilio.start());
  afterAll(() => twilio.stop());
  beforeEach(() => {
    twilio.received = [];
    twilio.queued = [];
  });
  afterEach(() => {
    vi.useRealTimers();
    for (const key of setKeys.splice(0)) delete process.env[key];
  });

  /** A backend whose deployment env points Twilio at the fake. */
  function twilioTest(extra: Record<string, string> = {}) {
    const vars = {
      TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      TWILIO_SMS_FROM: SMS_FROM,
      TWILIO_WHATSAPP_FROM: WHATSAPP_FROM,
      TWILIO_API_URL: twilio.url,
      ...extra,
    };
    // The mock engine's actions read process.env; the local engine gets the deployment env.
    for (const [key, value] of Object.entries(vars)) {
      process.env[key] = value;
      setKeys.push(key);
    }
    fakeClock();
    return newTest(vars);
  }

  async function textCustomer(t: TestConvex, channel: "sms" | "whatsapp", phone = "+12125550147") {
    const biz = await aBusiness(t, { name: "Sparkle" });
    const { zoneId } = await aZone(t, biz.businessId);
    const cat = await aCatalogue(t, biz.businessId);
    const customer = await aCustomer(t, biz.businessId, { name: "Ann", phone });
    await t.run((ctx) => ctx.db.patch("customers", customer.customerId, { preferredChannel: channel }));
    const { bookingId } = await aBooking(t, { businessId: biz.businessId, customerId: customer.customerId, zoneId, industryId: cat.industryId, start: Date.UTC(2030, 0, 15, 14, 0) });
    return { biz, customer, bookingId };
  }
  const row = (t: TestConvex, id: Id<"notifications">) => t.run((ctx) => ctx.db.get("notifications", id));
  /** Runs scheduled work until the row has made `attempts` attempts and is not mid-attempt. */
  async function attemptsReach(t: TestConvex, id: Id<"notifications">, attempts: number) {
    for (let i = 0; i < 10; i++) {
      const current = await row(t, id);
      if ((current?.attempts ?? 0) >= attempts && current?.status !== "sending") return;
      await deliverNext(t);
    }
    throw new Error(`notification ${id} did not reach ${attempts} attempts`);
  }

  test("an SMS is POSTed form-encoded with Basic auth; the Message SID is kept", async () => {
    const t = twilioTest();
    const { bookingId } = await textCustomer(t, "sms");
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    await deliverAll(t);
    expect(twilio.received).toHaveLength(1);
    const [request] = twilio.received;
    expect(request).toMatchObject({
      method: "POST",
      path: `/2010-04-01/Accounts/${ACCOUNT_SID}/Messages.json`,
      authorization: `Basic ${Buffer.from(`${ACCOUNT_SID}:${AUTH_TOKEN}`).toString("base64")}`,
    });
    expect(request.contentType).toMatch(/^application\/x-www-form-urlencoded/);
    expect(Object.keys(request.form).sort()).toEqual(["Body", "From", "To"]);
    expect(request.form).toMatchObject({ To: "+12125550147", From: SMS_FROM });
    expect(request.form.Body).toMatch(/^Sparkle: your .+ on Tuesday, January 15, 2030 at 9:00\sAM is confirmed\. Manage: http/);
    expect(await row(t, id)).toMatchObject({ status: "sent", transport: "twilio", attempts: 1, providerMessageId: `SM${"1".padStart(32, "0")}` });
  });

  test("WhatsApp goes to whatsapp:+… from the WhatsApp sender; a messaging service SID is sent as MessagingServiceSid", async () => {
    const t = twilioTest({ TWILIO_SMS_FROM: SERVICE_SID });
    const wa = await textCustomer(t, "whatsapp");
    const [waId] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId: wa.bookingId, templateKey: "booking_confirmed" });
    await deliverAll(t);
    expect(twilio.received[0].form).toMatchObject({ To: "whatsapp:+12125550147", From: `whatsapp:${WHATSAPP_FROM}` });
    expect(await row(t, waId)).toMatchObject({ channel: "whatsapp", status: "sent", transport: "twilio" });

    const sms = await textCustomer(t, "sms", "+12125550148");
    const [smsId] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId: sms.bookingId, templateKey: "booking_confirmed" });
    await deliverAll(t);
    expect(twilio.received[1].form).toMatchObject({ To: "+12125550148", MessagingServiceSid: SERVICE_SID });
    expect(twilio.received[1].form.From).toBeUndefined();
    expect(await row(t, smsId)).toMatchObject({ status: "sent" });
  });

  test("a 500 or 429 from Twilio is retried after a wait, then sent; the log shows the attempts and the last error until then", async () => {
    const t = twilioTest();
    const { biz, customer, bookingId } = await textCustomer(t, "sms");
    twilio.queued.push(
      { status: 500, body: { code: 20500, message: "Internal Server Error", more_info: "https://www.twilio.com/docs/errors/20500", status: 500 } },
      { status: 429, body: { code: 20429, message: "Too Many Requests", more_info: "https://www.twilio.com/docs/errors/20429", status: 429 } },
    );
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    await deliverNext(t);
    expect(await row(t, id)).toMatchObject({ status: "queued", attempts: 1, error: "Twilio: Internal Server Error (Twilio error 20500)", nextAttemptAt: Date.now() + 60_000 });
    // What the owner sees on the customer's page meanwhile.
    const history = await biz.owner.as.query(api.notifications.forCustomer, { customerId: customer.customerId, paginationOpts: { numItems: 5, cursor: null } });
    expect(history.page[0]).toMatchObject({ _id: id, status: "queued", attempts: 1, error: "Twilio: Internal Server Error (Twilio error 20500)" });
    await attemptsReach(t, id, 2);
    expect(await row(t, id)).toMatchObject({ status: "queued", attempts: 2, error: "Twilio: Too Many Requests (Twilio error 20429)" });
    await deliverAll(t);
    expect(await row(t, id)).toMatchObject({ status: "sent", attempts: 3, transport: "twilio" });
    expect((await row(t, id))?.error).toBeUndefined();
    expect(twilio.received).toHaveLength(3);
  });

  test("a 4xx Twilio refuses (bad number, wrong credentials) fails at once with Twilio's message; the owner's retry sends it again", async () => {
    const t = twilioTest();
    const { biz, bookingId } = await textCustomer(t, "sms");
    twilio.queued.push({ status: 400, body: { code: 21211, message: "The 'To' number +12125550147 is not a valid phone number.", more_info: "https://www.twilio.com/docs/errors/21211", status: 400 } });
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    await deliverAll(t);
    expect(await row(t, id)).toMatchObject({ status: "failed", attempts: 1, error: "Twilio: The 'To' number +12125550147 is not a valid phone number. (Twilio error 21211)" });
    const failed = await biz.owner.as.query(api.notifications.log, { businessId: biz.businessId, status: "failed", paginationOpts: { numItems: 5, cursor: null } });
    expect(failed.page.map((r) => r._id)).toEqual([id]);

    await biz.owner.as.mutation(api.notifications.retry, { notificationId: id });
    await deliverAll(t);
    expect(await row(t, id)).toMatchObject({ status: "sent", attempts: 1 });

    // Wrong credentials: Twilio's 401, not retried.
    const wrong = twilioTest({ TWILIO_AUTH_TOKEN: "not-the-token" });
    const other = await textCustomer(wrong, "sms");
    const [denied] = await wrong.mutation(internal.notifications.notifyBookingEvent, { bookingId: other.bookingId, templateKey: "booking_confirmed" });
    await deliverAll(wrong);
    expect(await row(wrong, denied)).toMatchObject({ status: "failed", attempts: 1, error: "Twilio: Authenticate (Twilio error 20003)" });
  });

  test("Twilio unreachable: retried with growing waits until the last attempt", async () => {
    const t = twilioTest({ TWILIO_API_URL: `http://127.0.0.1:${await freeLoopbackPort()}` });
    const { bookingId } = await textCustomer(t, "sms");
    const [id] = await t.mutation(internal.notifications.notifyBookingEvent, { bookingId, templateKey: "booking_confirmed" });
    await deliverAll(t);
    const final = await row(t, id);
    expect(final).toMatchObject({ status: "failed", attempts: MAX_ATTEMPTS });
    expect(final?.error).toMatch(/^Twilio unreachable: /);
  });
});
