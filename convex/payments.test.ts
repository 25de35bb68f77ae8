/**
 * Taking payment offline, end to end: startCheckout → the LOCAL TEST CHECKOUT page → Pay /
 * Fail → real-format events signed with Stripe's SDK → POST /stripe/webhook → effects.
 */
import { afterEach, describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { amountDue } from "./payments";
import { newTest, type TestConvex } from "./test.setup";
import { errorOf, paymentScenario, pressLocalCheckout, routeFetch, startLocalCheckout, type PaymentScenario } from "./stripeWebhook.testkit";

let restore: (() => void) | null = null;
afterEach(() => {
  restore?.();
  restore = null;
});

const checkout = (_t: TestConvex, s: PaymentScenario) => startLocalCheckout(s.customer.as!, s.bookingId);
const press = pressLocalCheckout;

describe("amountDue", () => {
  test.each([
    ["PENDING_PAYMENT", 10_000, 3_000, 0, "deposit", 3_000],
    ["PENDING_PAYMENT", 10_000, 10_000, 0, "full", 10_000],
    ["PENDING_PAYMENT", 10_000, 0, 0, "full", 10_000],
    ["CONFIRMED", 10_000, 3_000, 3_000, "balance", 7_000],
    ["CONFIRMED", 10_000, 3_000, 0, "full", 10_000],
    ["COMPLETED", 10_000, 3_000, 10_000, "balance", 0],
  ] as const)("%s total %i deposit %i paid %i → %s %i", (status, totalMinor, depositMinor, amountPaidMinor, kind, amount) => {
    expect(amountDue({ status }, { totalMinor, depositMinor, amountPaidMinor })).toEqual({ kind, amountMinor: amount });
  });
});

describe("local test checkout", () => {
  test("Pay: the page is clearly test mode; pressing Pay confirms the booking through /stripe/webhook", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await paymentScenario(t);
    const c = await checkout(t, s);
    expect(c.provider).toBe("local_test");
    expect(c.kind).toBe("deposit");
    expect(c.amountMinor).toBe(3_000);
    expect(c.path).toMatch(/^\/local-checkout\?session=cs_local/);

    const pageRes = await t.fetch(c.path);
    expect(pageRes.status).toBe(200);
    const html = await pageRes.text();
    expect(html).toContain("Test mode — no real payment");
    expect(html).toContain("30.00 USD");
    expect(html).toContain('value="pay"');
    expect(html).toContain('value="fail"');

    // Starting again before paying reuses the same attempt.
    expect((await checkout(t, s)).paymentId).toBe(c.paymentId);

    const res = await press(t, c.session, "pay");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toBe(`http://127.0.0.1:5173/bookings/${s.bookingId}?payment=succeeded`);

    const after = await t.run(async (ctx) => ({
      payment: (await ctx.db.get("payments", c.paymentId))!,
      booking: (await ctx.db.get("bookings", s.bookingId))!,
      invoice: (await ctx.db.get("invoices", s.invoiceId))!,
      stripeEvents: (await ctx.db.query("stripeEvents").collect()).map((e) => e.type).sort(),
    }));
    expect(after.payment.status).toBe("succeeded");
    expect(after.payment.stripePaymentIntentId).toMatch(/^pi_local/);
    expect(after.booking.status).toBe("CONFIRMED");
    expect(after.invoice.amountPaidMinor).toBe(3_000);
    expect(after.stripeEvents).toEqual(["checkout.session.completed", "payment_intent.succeeded"]);

    // The page is closed once paid; pressing again changes nothing.
    expect((await t.fetch(c.path)).status).toBe(409);
    expect((await press(t, c.session, "pay")).status).toBe(409);

    // The balance is the next thing due.
    const balance = await checkout(t, s);
    expect(balance.kind).toBe("balance");
    expect(balance.amountMinor).toBe(7_000);
  });

  test("Fail: the payment fails, the booking stays PENDING_PAYMENT, and a new checkout is the retry path", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await paymentScenario(t);
    const first = await checkout(t, s);
    const res = await press(t, first.session, "fail");
    expect(res.status).toBe(303);
    expect(res.headers.get("location")).toContain("payment=failed");
    let state = await t.run(async (ctx) => ({ payment: (await ctx.db.get("payments", first.paymentId))!, booking: (await ctx.db.get("bookings", s.bookingId))! }));
    expect(state.payment.status).toBe("failed");
    expect(state.payment.failureReason).toMatch(/declined/);
    expect(state.booking.status).toBe("PENDING_PAYMENT");

    const retry = await checkout(t, s);
    expect(retry.paymentId).not.toBe(first.paymentId);
    expect((await press(t, retry.session, "pay")).status).toBe(303);
    state = await t.run(async (ctx) => ({ payment: (await ctx.db.get("payments", retry.paymentId))!, booking: (await ctx.db.get("bookings", s.bookingId))! }));
    expect(state.payment.status).toBe("succeeded");
    expect(state.booking.status).toBe("CONFIRMED");
  });

  test("only the booking's own customer can start a checkout", async () => {
    const t = newTest();
    const s = await paymentScenario(t);
    expect((await errorOf(t.action(api.payments.startCheckout, { bookingId: s.bookingId })))?.code).toBe("UNAUTHENTICATED");
    expect((await errorOf(s.manager.as.action(api.payments.startCheckout, { bookingId: s.bookingId })))?.code).toBe("NOT_FOUND");
    expect((await errorOf(s.owner.as.action(api.payments.startCheckout, { bookingId: s.bookingId })))?.code).toBe("NOT_FOUND");
  });

  test("unknown sessions get 404 and bad outcomes 400", async () => {
    const t = newTest();
    expect((await t.fetch("/local-checkout?session=cs_local_nope")).status).toBe(404);
    expect((await press(t, "cs_local_nope", "pay")).status).toBe(404);
    const bad = await t.fetch("/local-checkout/complete", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: "session=x&outcome=steal",
    });
    expect(bad.status).toBe(400);
  });
});
