/**
 * Money follows the booking: journeys through the real functions (hold → confirm → checkout
 * → local test checkout / Stripe events → /stripe/webhook), on a fixed clock.
 *   - a refund requested for a cancelled booking is submitted, comes back as refund.created +
 *     charge.refunded through the webhook, lands on the invoice and is receipted, exactly once;
 *   - a payment window that runs out closes the checkout (local page refuses; Stripe session
 *     expired through the API);
 *   - a payment that still arrives for a released booking reinstates it when its time is free,
 *     else is refunded in full; for a booking the customer cancelled it is refunded.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { requestRefund } from "./model/stripeRefunds";
import { TUESDAY, at, bookingScenario, freezeClock, type Policies, type Scenario } from "./bookings.testkit";
import { aCustomer } from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";
import { aPaymentIntent, anEvent, postEvent, pressLocalCheckout, routeFetch, startLocalCheckout, type PartnerHandler } from "./stripeWebhook.testkit";

const MINUTE = 60_000;
/** Each journey runs a dozen functions and webhook round trips: more than the default 5 s on a loaded machine. */
const JOURNEY = { timeout: 60_000 };
let restore: (() => void) | null = null;
beforeEach(() => freezeClock());
afterEach(() => {
  restore?.();
  restore = null;
  vi.useRealTimers();
  delete process.env.STRIPE_SECRET_KEY;
});

const settle = (t: TestConvex) => t.finishAllScheduledFunctions(vi.runAllTimers);

/** A scenario whose customer pays a 30 % deposit and may cancel free until 24 h before. */
async function scenario(t: TestConvex, policies: Policies = {}) {
  return await bookingScenario(t, {
    policies: {
      ...policies,
      booking: { depositBp: 3_000, ...policies.booking },
      cancellation: { freeUntilHours: 24, ...policies.cancellation },
    },
  });
}

/** Hold + confirm by the customer: a PENDING_PAYMENT booking with its invoice. */
async function reserve(s: Scenario, start = at(TUESDAY, "10:00"), as = s.customer.as) {
  const { bookingId } = await as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start });
  const { invoiceId } = await as.mutation(api.bookings.confirm, { bookingId });
  return { bookingId, invoiceId };
}

const localCheckout = (s: Scenario, bookingId: Id<"bookings">) => startLocalCheckout(s.customer.as, bookingId);
const press = pressLocalCheckout;

async function state(t: TestConvex, bookingId: Id<"bookings">) {
  return await t.run(async (ctx) => {
    const booking = (await ctx.db.get("bookings", bookingId))!;
    const invoice = (await ctx.db.query("invoices").withIndex("by_bookingId", (q) => q.eq("bookingId", bookingId)).first())!;
    return {
      booking,
      invoice,
      payments: await ctx.db.query("payments").withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id)).collect(),
      refunds: await ctx.db.query("refunds").withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoice._id)).collect(),
      assignments: (await ctx.db.query("bookingAssignments").withIndex("by_bookingId", (q) => q.eq("bookingId", bookingId)).collect()).filter(
        (a) => a.status === "offered" || a.status === "accepted",
      ),
      stripeEvents: (await ctx.db.query("stripeEvents").collect()).map((e) => e.type),
      notifications: (await ctx.db.query("notifications").collect()).filter((n) => n.bookingId === bookingId),
      history: (await ctx.db.query("bookingStatusHistory").withIndex("by_bookingId", (q) => q.eq("bookingId", bookingId)).collect()).map(
        (h) => `${h.from ?? ""}→${h.to}`,
      ),
    };
  });
}

/** A payment_intent.succeeded for one of our payments, as Stripe sends it after the customer paid. */
async function stripePaid(t: TestConvex, paymentId: Id<"payments">, amount: number) {
  const event = anEvent("payment_intent.succeeded", aPaymentIntent({ id: `pi_late_${paymentId}`, amount, paymentId, status: "succeeded" }));
  const res = await postEvent(t, event);
  expect(res.status, JSON.stringify(res.json)).toBe(200);
  return { result: res.json, event };
}

describe("a refund for a cancelled booking", JOURNEY, () => {
  test("is submitted, comes back as refund.created + charge.refunded through the webhook, lands on the invoice and is receipted", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await scenario(t);
    const { bookingId, invoiceId } = await reserve(s);
    const c = await localCheckout(s, bookingId);
    expect((await press(t, c.session, "pay")).status).toBe(303);
    await s.customer.as.mutation(api.bookings.cancel, { bookingId, expectedFeeMinor: 0 });

    // The cancel command asked for its decision's refundMinor, in its transaction.
    const requested = await t.run((ctx) => ctx.db.query("refunds").withIndex("by_invoiceId", (q) => q.eq("invoiceId", invoiceId)).collect());
    expect(requested.map((r) => [r.status, r.amountMinor, r.requestedBy.role])).toEqual([["pending", 3_000, "customer"]]);
    await settle(t);

    const after = await state(t, bookingId);
    expect(after.refunds.map((r) => [r.status, r.amountMinor])).toEqual([["succeeded", 3_000]]);
    expect(after.refunds[0].stripeRefundId).toMatch(/^re_local/);
    expect(after.stripeEvents).toEqual(expect.arrayContaining(["refund.created", "charge.refunded"]));
    expect(after.invoice).toMatchObject({ amountPaidMinor: 3_000, amountRefundedMinor: 3_000, status: "refunded" });
    // Logged and handed to delivery (convex/notifications.test.ts follows them to the SMTP inbox).
    const receipts = after.notifications.map((n) => n.templateKey);
    expect(receipts).toEqual(expect.arrayContaining(["payment_receipt", "refund_receipt"]));
    expect(after.notifications.find((n) => n.templateKey === "refund_receipt")?.body).toContain("We refunded $30.00");
    expect(after.notifications.filter((n) => n.templateKey === "refund_receipt")).toHaveLength(1);

    // The customer sees the refund on their invoice.
    const refunds = await s.customer.as.query(api.refunds.listForInvoice, { invoiceId });
    expect(refunds.map((r) => [r.status, r.amountMinor])).toEqual([["succeeded", 3_000]]);
  });

  test("refund events apply once: a redelivery is a duplicate, a later event about the same refund changes nothing", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await scenario(t);
    const { bookingId, invoiceId } = await reserve(s);
    const c = await localCheckout(s, bookingId);
    await press(t, c.session, "pay");
    const plan = await t.run((ctx) => requestRefund(ctx, { invoiceId, amountMinor: 1_000, reason: "goodwill", actor: { role: "system" }, now: Date.now() }));
    const refundId = plan.refunds[0].refundId;
    await t.run((ctx) => ctx.db.patch("refunds", refundId, { stripeRefundId: "re_test_once" }));
    const created = anEvent("refund.created", {
      id: "re_test_once",
      object: "refund",
      amount: 1_000,
      currency: "usd",
      status: "succeeded",
      charge: "ch_x",
      payment_intent: "pi_x",
      metadata: { refundId },
    });
    expect((await postEvent(t, created)).json).toMatchObject({ status: "applied" });
    expect((await postEvent(t, created)).json).toMatchObject({ status: "duplicate" });
    const updated = { ...created, id: `${created.id}_later`, type: "refund.updated" };
    expect((await postEvent(t, updated)).json).toMatchObject({ status: "ignored" });
    const after = await state(t, bookingId);
    expect(after.invoice).toMatchObject({ amountRefundedMinor: 1_000, status: "partially_refunded" });
    expect(after.refunds.map((r) => r.status)).toEqual(["succeeded"]);

    // A refund that fails after it succeeded comes off the invoice again.
    const failed = anEvent("refund.failed", { ...created.data.object, status: "failed", failure_reason: "expired_or_canceled_card" });
    expect((await postEvent(t, failed)).json).toMatchObject({ status: "applied" });
    const reversed = await state(t, bookingId);
    expect(reversed.invoice).toMatchObject({ amountRefundedMinor: 0, status: "open" });
    expect(reversed.refunds[0].status).toBe("failed");
    expect(reversed.refunds[0].reason).toContain("expired_or_canceled_card");
    // An unsigned refund event is refused before anything is read.
    expect((await postEvent(t, anEvent("refund.created", created.data.object), { header: null })).status).toBe(400);
  });
});

describe("a payment window that runs out closes the checkout", JOURNEY, () => {
  test("local test checkout: the page refuses with the reason and takes no money, even before the expiry job ran", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await scenario(t);
    const { bookingId } = await reserve(s);
    const c = await localCheckout(s, bookingId);
    expect((await t.fetch(c.path)).status).toBe(200);

    // Past the deadline, the job not run yet: refused already.
    vi.setSystemTime(Date.now() + 11 * MINUTE);
    const early = await t.fetch(c.path);
    expect(early.status).toBe(409);
    expect(await early.text()).toContain("The time to pay for this booking ran out");

    await settle(t);
    const page = await t.fetch(c.path);
    expect(page.status).toBe(409);
    const html = await page.text();
    expect(html).toContain("The time to pay for this booking ran out, so the booking was released. You have not been charged.");
    expect(html).toContain(`http://127.0.0.1:5173/bookings/${bookingId}`);
    expect(html).not.toContain('value="pay"');

    const res = await press(t, c.session, "pay");
    expect(res.status).toBe(409);
    const after = await state(t, bookingId);
    expect(after.booking.status).toBe("CANCELLED");
    expect(after.payments.map((p) => p.status)).toEqual(["canceled"]);
    expect(after.stripeEvents).toEqual([]);
    expect(after.invoice).toMatchObject({ status: "void", amountPaidMinor: 0 });
  });

  test("cancelling an unpaid booking closes its open checkout the same way", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await scenario(t);
    const { bookingId } = await reserve(s);
    const c = await localCheckout(s, bookingId);
    await s.customer.as.mutation(api.bookings.cancel, { bookingId, expectedFeeMinor: 0 });
    const page = await t.fetch(c.path);
    expect(page.status).toBe(409);
    expect(await page.text()).toContain("This booking was cancelled, so there is nothing to pay. You have not been charged.");
    expect((await press(t, c.session, "pay")).status).toBe(409);
    const after = await state(t, bookingId);
    expect(after.payments.map((p) => p.status)).toEqual(["canceled"]);
    expect(after.invoice).toMatchObject({ status: "void", amountPaidMinor: 0 });
  });

  test("Stripe: the Checkout Session is expired through Stripe's API, once, with an idempotency key", async () => {
    const calls: { url: string; method: string; idempotencyKey: string | null }[] = [];
    const stripeApi: PartnerHandler = (url, init) => {
      if (!url.startsWith("https://api.stripe.com/")) return new Response("{}", { status: 200 }); // realtime pushes
      const headers = new Headers(init.headers);
      calls.push({ url, method: init.method ?? "GET", idempotencyKey: headers.get("idempotency-key") });
      return new Response(JSON.stringify({ id: "cs_test_expire", object: "checkout.session", status: "expired" }), {
        status: 200,
        headers: { "content-type": "application/json", "request-id": "req_test" },
      });
    };
    process.env.STRIPE_SECRET_KEY = "sk_test_platform";
    const t = newTest({ STRIPE_SECRET_KEY: "sk_test_platform" });
    restore = routeFetch(t, stripeApi).restore;
    const s = await scenario(t);
    const { bookingId, invoiceId } = await reserve(s);
    const paymentId = await t.run((ctx) =>
      ctx.db.insert("payments", {
        businessId: s.businessId,
        invoiceId,
        bookingId,
        customerId: s.customer.customerId,
        kind: "deposit",
        amountMinor: 3_000,
        currency: "USD",
        status: "requires_payment",
        provider: "stripe",
        stripeCheckoutSessionId: "cs_test_expire",
        createdAt: Date.now(),
        updatedAt: Date.now(),
      }),
    );
    vi.advanceTimersByTime(11 * MINUTE);
    await settle(t);
    expect(calls).toEqual([{ url: "https://api.stripe.com/v1/checkout/sessions/cs_test_expire/expire", method: "POST", idempotencyKey: "expire_cs_test_expire" }]);
    const after = await state(t, bookingId);
    expect(after.payments.find((p) => p._id === paymentId)?.status).toBe("canceled");
  });
});

/** A booking whose customer opened the checkout and let the payment window run out. */
async function releasedUnpaid(t: TestConvex) {
  restore = routeFetch(t).restore;
  const s = await scenario(t);
  const { bookingId } = await reserve(s);
  const c = await localCheckout(s, bookingId);
  vi.advanceTimersByTime(11 * MINUTE);
  await settle(t);
  return { s, bookingId, c };
}

describe("a payment that still arrives for a released booking", JOURNEY, () => {
  test("reinstates it when its time is still free: placed again, confirmed, invoice reopened, no refund", async () => {
    const t = newTest();
    const { s, bookingId, c } = await releasedUnpaid(t);
    expect((await state(t, bookingId)).booking.status).toBe("CANCELLED");

    // Stripe completed the payment in the seconds before its session was expired.
    const { result } = await stripePaid(t, c.paymentId, 3_000);
    expect(String(result.note)).toContain("reinstated");
    await settle(t);
    const after = await state(t, bookingId);
    expect(after.booking.status).toBe("CONFIRMED");
    expect(after.booking.cancellation).toBeUndefined();
    expect(after.booking.assignedResourceIds).toEqual([s.provider.resourceId]);
    expect(after.assignments).toHaveLength(1);
    expect(after.history).toEqual(["→HELD", "HELD→PENDING_PAYMENT", "PENDING_PAYMENT→CANCELLED", "CANCELLED→CONFIRMED"]);
    expect(after.invoice).toMatchObject({ status: "open", amountPaidMinor: 3_000, amountRefundedMinor: 0 });
    expect(after.refunds).toEqual([]);
    expect(after.notifications.map((n) => n.templateKey)).toEqual(expect.arrayContaining(["payment_receipt", "booking_confirmed"]));
    // The slot is taken again.
    const bob = await aCustomer(t, s.businessId);
    await expect(reserve(s, at(TUESDAY, "10:00"), bob.as)).rejects.toThrow(/not available|No resource is free/);
  });

  test("is refunded in full, with a real refund row, when its time was taken meanwhile", async () => {
    const t = newTest();
    const { s, bookingId, c } = await releasedUnpaid(t);
    const bob = await aCustomer(t, s.businessId);
    await reserve(s, at(TUESDAY, "10:00"), bob.as);

    await stripePaid(t, c.paymentId, 3_000);
    await settle(t);
    const after = await state(t, bookingId);
    expect(after.booking.status).toBe("CANCELLED");
    expect(after.refunds.map((r) => [r.status, r.amountMinor, r.paymentId])).toEqual([["succeeded", 3_000, c.paymentId]]);
    expect(after.refunds[0].reason).toContain("its time was taken meanwhile");
    expect(after.invoice).toMatchObject({ amountPaidMinor: 3_000, amountRefundedMinor: 3_000, status: "refunded" });
    expect(after.notifications.map((n) => n.templateKey)).toEqual(expect.arrayContaining(["payment_receipt", "refund_receipt"]));
  });

  test("a booking the customer cancelled is never reinstated: the late payment goes back", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await scenario(t);
    const { bookingId } = await reserve(s);
    const c = await localCheckout(s, bookingId);
    await s.customer.as.mutation(api.bookings.cancel, { bookingId, expectedFeeMinor: 0 });
    const { event } = await stripePaid(t, c.paymentId, 3_000);
    await settle(t);
    const after = await state(t, bookingId);
    expect(after.booking.status).toBe("CANCELLED");
    expect(after.refunds.map((r) => [r.status, r.amountMinor])).toEqual([["succeeded", 3_000]]);
    expect(after.invoice.amountRefundedMinor).toBe(3_000);
    // A redelivery of the payment event changes nothing more.
    expect((await postEvent(t, event)).json).toMatchObject({ status: "duplicate" });
    await settle(t);
    expect((await state(t, bookingId)).refunds).toHaveLength(1);
  });
});
