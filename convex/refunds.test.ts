/**
 * Refunds: amounts from the cancellation policy, caps, roles, and the offline path (a
 * real-format charge.refunded through /stripe/webhook) that makes them succeed.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import { newTest, type TestConvex } from "./test.setup";
import { aPaymentIntent, aPendingPayment, anEvent, errorOf, paymentScenario, postEvent, routeFetch, type PaymentScenario } from "./stripeWebhook.testkit";

let restore: (() => void) | null = null;
afterEach(() => {
  restore?.();
  restore = null;
  vi.useRealTimers();
});

/** A booking paid in full ($100) through the local provider, starting in `startInHours`. */
async function paidBooking(t: TestConvex, startInHours: number) {
  const s = await paymentScenario(t, { startInHours });
  const paymentId = await aPendingPayment(t, s, { amountMinor: 10_000, kind: "full", provider: "local_test", paymentIntentId: `pi_local_${startInHours}` });
  const res = await postEvent(t, anEvent("payment_intent.succeeded", aPaymentIntent({ id: `pi_local_${startInHours}`, amount: 10_000, paymentId, status: "succeeded" })));
  expect(res.status).toBe(200);
  return { ...s, paymentId };
}

async function invoiceOf(t: TestConvex, s: PaymentScenario) {
  return await t.run(async (ctx) => ({
    invoice: (await ctx.db.get("invoices", s.invoiceId))!,
    refunds: await ctx.db.query("refunds").withIndex("by_invoiceId", (q) => q.eq("invoiceId", s.invoiceId)).collect(),
    events: (await ctx.db.query("events").collect()).map((e) => e.type),
  }));
}

const settle = (t: TestConvex) => t.finishAllScheduledFunctions(vi.runAllTimers);

describe("refunds by policy", () => {
  test("inside the late window the policy keeps its fee (50 %); the refund succeeds through charge.refunded", async () => {
    vi.useFakeTimers();
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await paidBooking(t, 12);
    const preview = await s.manager.as.query(api.refunds.preview, { invoiceId: s.invoiceId });
    expect(preview).toMatchObject({ paidMinor: 10_000, refundableMinor: 10_000, policyRefundMinor: 5_000 });

    const plan = await s.manager.as.mutation(api.refunds.create, { invoiceId: s.invoiceId, reason: "Customer asked" });
    expect(plan.totalMinor).toBe(5_000);
    let state = await invoiceOf(t, s);
    expect(state.refunds.map((r) => r.status)).toEqual(["pending"]);
    expect(state.invoice.amountRefundedMinor).toBe(0);

    await settle(t);
    state = await invoiceOf(t, s);
    expect(state.refunds.map((r) => [r.status, r.amountMinor])).toEqual([["succeeded", 5_000]]);
    expect(state.refunds[0].stripeRefundId).toMatch(/^re_local/);
    expect(state.invoice.amountRefundedMinor).toBe(5_000);
    expect(state.invoice.status).toBe("partially_refunded");
    expect(state.events).toContain("refund.succeeded");

    // Never more than paid − refunded.
    expect((await errorOf(s.manager.as.mutation(api.refunds.create, { invoiceId: s.invoiceId, amountMinor: 5_001, reason: "more" })))?.code).toBe("POLICY_VIOLATION");
    await s.owner.as.mutation(api.refunds.create, { invoiceId: s.invoiceId, amountMinor: 5_000, reason: "goodwill" });
    // While that one is pending nothing more can be requested.
    expect((await errorOf(s.owner.as.mutation(api.refunds.create, { invoiceId: s.invoiceId, amountMinor: 1, reason: "x" })))?.code).toBe("POLICY_VIOLATION");
    await settle(t);
    state = await invoiceOf(t, s);
    expect(state.invoice.amountRefundedMinor).toBe(10_000);
    expect(state.invoice.status).toBe("refunded");
    expect((await errorOf(s.owner.as.mutation(api.refunds.create, { invoiceId: s.invoiceId, reason: "policy" })))?.code).toBe("POLICY_VIOLATION");
  });

  test("before the cut-off the policy refunds everything", async () => {
    const t = newTest();
    const s = await paidBooking(t, 72);
    const preview = await s.manager.as.query(api.refunds.preview, { invoiceId: s.invoiceId });
    expect(preview.policyRefundMinor).toBe(10_000);
  });

  test("the cancellation hook refunds paid minus the fee recorded at cancellation", async () => {
    vi.useFakeTimers();
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await paidBooking(t, 12);
    await t.run((ctx) =>
      ctx.db.patch("bookings", s.bookingId, { status: "CANCELLED", cancellation: { at: Date.now(), actor: { role: "customer" }, feeMinor: 2_500 } }),
    );
    const plan = await t.mutation(internal.refunds.createForCancellation, { bookingId: s.bookingId });
    expect(plan.totalMinor).toBe(7_500);
    // Asking again while pending adds nothing.
    expect((await t.mutation(internal.refunds.createForCancellation, { bookingId: s.bookingId })).totalMinor).toBe(0);
    await settle(t);
    const state = await invoiceOf(t, s);
    expect(state.invoice.amountRefundedMinor).toBe(7_500);
  });

  test("only the owner and managers refund; bad input is refused", async () => {
    const t = newTest();
    const s = await paidBooking(t, 72);
    const customerTry = await errorOf(s.customer.as!.mutation(api.refunds.create, { invoiceId: s.invoiceId, reason: "me" }));
    expect(["FORBIDDEN", "NOT_FOUND"]).toContain(customerTry?.code);
    expect((await errorOf(s.provider.as.mutation(api.refunds.create, { invoiceId: s.invoiceId, reason: "x" })))?.code).toBe("FORBIDDEN");
    expect((await errorOf(s.manager.as.mutation(api.refunds.create, { invoiceId: s.invoiceId, amountMinor: 10.5, reason: "x" })))?.code).toBe("INVALID_ARGUMENT");
    expect((await errorOf(s.manager.as.mutation(api.refunds.create, { invoiceId: s.invoiceId, amountMinor: -1, reason: "x" })))?.code).toBe("INVALID_ARGUMENT");
    expect((await errorOf(s.manager.as.mutation(api.refunds.create, { invoiceId: s.invoiceId, reason: " " })))?.code).toBe("INVALID_ARGUMENT");
    const rows = await t.run((ctx) => ctx.db.query("refunds").collect());
    expect(rows).toHaveLength(0);
  });

  test("money taken for a booking cancelled meanwhile goes straight back", async () => {
    vi.useFakeTimers();
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await paymentScenario(t);
    const paymentId = await aPendingPayment(t, s, { provider: "local_test", paymentIntentId: "pi_local_late" });
    await t.run((ctx) => ctx.db.patch("bookings", s.bookingId, { status: "CANCELLED" }));
    await postEvent(t, anEvent("payment_intent.succeeded", aPaymentIntent({ id: "pi_local_late", amount: 3_000, paymentId, status: "succeeded" })));
    await settle(t);
    const state = await invoiceOf(t, s);
    expect(state.invoice.amountPaidMinor).toBe(3_000);
    expect(state.invoice.amountRefundedMinor).toBe(3_000);
    expect(state.invoice.status).toBe("refunded");
  });
});
