/**
 * Per-visit billing of recurring plans through the offline path that mirrors Stripe: the
 * card is saved on the local test checkout's setup page (setup_intent.succeeded through our
 * own signed /stripe/webhook), each COMPLETED visit is charged off-session
 * (payment_intent.succeeded / payment_failed through the same webhook), failures are retried
 * on a schedule, then the customer is asked to update the card; a new card pays what is owed.
 * Also: real-format Stripe events for the same steps, and the owner's recurring report.
 */
import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { aCustomer } from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";
import { TUESDAY, at, bookingScenario, expectCode, freezeClock, type Scenario } from "./bookings.testkit";
import { anEvent, postEvent, routeFetch } from "./stripeWebhook.testkit";
import { MAX_CHARGE_ATTEMPTS } from "./model/planBilling";

let restore: () => void = () => {};
beforeEach(() => freezeClock());
afterEach(() => {
  restore();
  vi.useRealTimers();
});

const settle = (t: TestConvex) => t.finishAllScheduledFunctions(vi.runAllTimers);

async function aPlan(t: TestConvex, s: Scenario, occurrences = 3) {
  return await s.customer.as.mutation(api.series.create, {
    businessId: s.businessId,
    zoneId: s.zoneId,
    cart: s.cart,
    recurrence: { frequency: "weekly" },
    startDate: TUESDAY,
    localTime: "10:00",
    occurrences,
    onConflict: "fail",
  });
}

/** The customer opens the card page from the plan and presses one of its buttons. */
async function saveCard(t: TestConvex, s: Scenario, seriesId: Id<"recurringSeries">, outcome: "save" | "save_declining") {
  const { url, provider } = await s.customer.as.action(api.planBilling.startCardSetup, { seriesId });
  expect(provider).toBe("local_test");
  const parsed = new URL(url);
  const page = await t.fetch(parsed.pathname + parsed.search);
  expect(page.status).toBe(200);
  expect(await page.text()).toContain("Save a card");
  const response = await t.fetch("/local-checkout/complete", {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ setup: parsed.searchParams.get("setup")!, outcome }).toString(),
    redirect: "manual",
  });
  expect(response.status).toBe(303);
  expect(response.headers.get("location")).toBe(`http://127.0.0.1:5173/plans/${seriesId}?card=saved`);
  await settle(t);
}

/** The provider does the visit: in progress at its time, then done. */
async function completeVisit(t: TestConvex, s: Scenario, bookingId: Id<"bookings">) {
  const booking = (await t.run((ctx) => ctx.db.get("bookings", bookingId)))!;
  vi.setSystemTime(booking.start + 60_000);
  await s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "IN_PROGRESS" });
  await s.provider.as.mutation(api.bookings.setStatus, { bookingId, status: "COMPLETED" });
}

async function paymentsOf(t: TestConvex, bookingId: Id<"bookings">) {
  const rows = await t.run((ctx) => ctx.db.query("payments").collect());
  return rows.filter((p) => p.bookingId === bookingId).sort((a, b) => a._creationTime - b._creationTime);
}

async function invoiceOf(t: TestConvex, bookingId: Id<"bookings">) {
  return (await t.run((ctx) => ctx.db.query("invoices").withIndex("by_bookingId", (q) => q.eq("bookingId", bookingId)).first()))!;
}

describe("per-visit billing on a saved card (local test checkout)", () => {
  test("the card is saved for the plan, each visit is charged off-session when it is done, once", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await bookingScenario(t);
    const { seriesId, booked } = await aPlan(t, s);
    expect((await s.customer.as.query(api.series.get, { seriesId })).billing).toEqual({ status: "needs_card", card: null });
    // Only the plan's customer saves a card for it.
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    await expectCode(bob.as.action(api.planBilling.startCardSetup, { seriesId }), "NOT_FOUND", "seriesId");
    await expectCode(s.manager.as.action(api.planBilling.startCardSetup, { seriesId }), "NOT_FOUND", "seriesId");

    await saveCard(t, s, seriesId, "save");
    const view = await s.customer.as.query(api.series.get, { seriesId });
    expect(view.billing).toEqual({ status: "active", card: { brand: "visa", last4: "4242" } });
    const methods = await t.run((ctx) => ctx.db.query("paymentMethods").collect());
    expect(methods.map((m) => [m.customerId, m.last4, m.isDefault, m.stripePaymentMethodId.startsWith("pm_local")])).toEqual([[s.customer.customerId, "4242", true, true]]);
    // Nothing is charged before a visit is done.
    expect(await paymentsOf(t, booked[0].bookingId)).toEqual([]);

    await completeVisit(t, s, booked[0].bookingId);
    await settle(t);
    const [payment] = await paymentsOf(t, booked[0].bookingId);
    expect(payment).toMatchObject({ status: "succeeded", amountMinor: 8_500, kind: "full", provider: "local_test", offSession: { seriesId, attempt: 1 } });
    expect(payment.stripePaymentIntentId).toMatch(/^pi_local/);
    expect(await invoiceOf(t, booked[0].bookingId)).toMatchObject({ status: "paid", amountPaidMinor: 8_500 });
    expect((await paymentsOf(t, booked[1].bookingId)).length).toBe(0);
    const receipts = await t.run((ctx) => ctx.db.query("notifications").collect());
    expect(receipts.some((n) => n.templateKey === "payment_receipt" && n.bookingId === booked[0].bookingId)).toBe(true);
    expect((await s.customer.as.query(api.series.get, { seriesId })).occurrences[0].paidMinor).toBe(8_500);
  });

  test("a declining card: tried again on a schedule, then the customer is asked to update it; a new card pays what is owed", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await bookingScenario(t);
    const { seriesId, booked } = await aPlan(t, s);
    await saveCard(t, s, seriesId, "save_declining");
    expect((await s.customer.as.query(api.series.get, { seriesId })).billing?.card?.last4).toBe("0341");

    await completeVisit(t, s, booked[0].bookingId);
    const completedAt = Date.now();
    await settle(t);
    const tries = await paymentsOf(t, booked[0].bookingId);
    expect(tries.map((p) => [p.status, p.offSession?.attempt])).toEqual([
      ["failed", 1],
      ["failed", 2],
      ["failed", 3],
    ]);
    expect(tries.length).toBe(MAX_CHARGE_ATTEMPTS);
    expect(tries[0].failureReason).toContain("declined");
    // The retries were scheduled a day, then three days after the failure before them.
    expect(tries[1].createdAt - completedAt).toBeGreaterThanOrEqual(24 * 3_600_000);
    expect(tries[2].createdAt - tries[1].createdAt).toBeGreaterThanOrEqual(72 * 3_600_000);
    const view = await s.customer.as.query(api.series.get, { seriesId });
    expect(view.billing?.status).toBe("card_update_needed");
    expect(view.occurrences[0].chargeFailed).toBe(true);
    expect(await invoiceOf(t, booked[0].bookingId)).toMatchObject({ status: "open", amountPaidMinor: 0 });
    const asked = (await t.run((ctx) => ctx.db.query("notifications").collect())).filter((n) => n.templateKey === "card_update_needed");
    expect(asked.map((n) => [n.customerId, n.bookingId])).toEqual([[s.customer.customerId, booked[0].bookingId]]);
    expect(asked[0].body).toContain(`/plans/${seriesId}?card=update`);

    // The customer saves a working card: the visit still owed is charged on it at once.
    await saveCard(t, s, seriesId, "save");
    const after = await paymentsOf(t, booked[0].bookingId);
    expect(after.map((p) => [p.status, p.offSession?.attempt])).toEqual([
      ["failed", 1],
      ["failed", 2],
      ["failed", 3],
      ["succeeded", 1],
    ]);
    expect(await invoiceOf(t, booked[0].bookingId)).toMatchObject({ status: "paid", amountPaidMinor: 8_500 });
    expect((await s.customer.as.query(api.series.get, { seriesId })).billing).toEqual({ status: "active", card: { brand: "visa", last4: "4242" } });
    const methods = await t.run((ctx) => ctx.db.query("paymentMethods").collect());
    expect(methods.map((m) => [m.last4, m.isDefault])).toEqual([
      ["0341", false],
      ["4242", true],
    ]);
  });

  test("without a saved card nothing is charged off-session; the visit is paid at checkout as any booking", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await bookingScenario(t);
    const { booked } = await aPlan(t, s, 2);
    await completeVisit(t, s, booked[0].bookingId);
    await settle(t);
    expect(await paymentsOf(t, booked[0].bookingId)).toEqual([]);
    const checkout = await s.customer.as.action(api.payments.startCheckout, { bookingId: booked[0].bookingId });
    expect(checkout.amountMinor).toBe(8_500);
  });
});

describe("the same steps as Stripe sends them", () => {
  test("setup_intent.succeeded (payment method as an id) saves the card; off-session payment_intent events settle the visit, exactly once", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await bookingScenario(t);
    const { seriesId, booked } = await aPlan(t, s, 2);
    // The setup attempt as startCardSetup leaves it with Stripe (a Checkout Session in setup mode).
    const cardSetupId = await t.run((ctx) =>
      ctx.db.insert("planCardSetups", {
        businessId: s.businessId,
        seriesId,
        customerId: s.customer.customerId,
        provider: "stripe",
        status: "open",
        stripeCheckoutSessionId: "cs_test_setup",
        createdAt: Date.now(),
      }),
    );
    const setupEvent = anEvent("setup_intent.succeeded", {
      id: "seti_test_1",
      object: "setup_intent",
      status: "succeeded",
      usage: "off_session",
      customer: "cus_test_1",
      payment_method: "pm_test_1",
      metadata: { cardSetupId, seriesId, businessId: s.businessId },
    });
    expect((await postEvent(t, setupEvent)).json).toMatchObject({ status: "applied" });
    expect((await postEvent(t, setupEvent)).json).toMatchObject({ status: "duplicate" });
    expect((await s.customer.as.query(api.series.get, { seriesId })).billing).toEqual({ status: "active", card: { brand: "card", last4: "····" } });
    expect((await t.run((ctx) => ctx.db.get("customers", s.customer.customerId)))!.stripeCustomerId).toBe("cus_test_1");

    // A visit charged off-session: the try as chargeVisit records it, then Stripe's events.
    await completeVisit(t, s, booked[0].bookingId);
    const prepared = await t.run(async (ctx) => {
      const { prepareVisitCharge } = await import("./model/planBilling");
      return await prepareVisitCharge(ctx, booked[0].bookingId, "stripe", Date.now());
    });
    expect(prepared).toMatchObject({ status: "charge", attempt: 1, amountMinor: 8_500, stripePaymentMethodId: "pm_test_1", stripeCustomerId: "cus_test_1" });
    if (prepared.status !== "charge") throw new Error("unreachable");
    const intent = {
      id: "pi_test_visit",
      object: "payment_intent",
      amount: 8_500,
      currency: "usd",
      customer: "cus_test_1",
      payment_method: "pm_test_1",
      metadata: prepared.metadata,
    };
    const failed = anEvent("payment_intent.payment_failed", {
      ...intent,
      status: "requires_payment_method",
      last_payment_error: { code: "card_declined", message: "Your card was declined." },
    });
    expect((await postEvent(t, failed)).json).toMatchObject({ status: "applied", note: "off-session charge 1 failed" });
    expect((await paymentsOf(t, booked[0].bookingId)).map((p) => p.status)).toEqual(["failed"]);
    const succeeded = anEvent("payment_intent.succeeded", { ...intent, id: "pi_test_visit2", status: "succeeded", amount_received: 8_500, metadata: { ...prepared.metadata } });
    // A later try (its own PaymentIntent) succeeds; delivered twice, applied once.
    const retry = await t.run(async (ctx) => {
      const { prepareVisitCharge } = await import("./model/planBilling");
      return await prepareVisitCharge(ctx, booked[0].bookingId, "stripe", Date.now());
    });
    if (retry.status !== "charge") throw new Error(`expected a retry, got ${retry.reason}`);
    expect(retry.attempt).toBe(2);
    const ok = { ...succeeded, data: { object: { ...succeeded.data.object, metadata: retry.metadata } } };
    expect((await postEvent(t, ok)).json).toMatchObject({ status: "applied" });
    expect((await postEvent(t, ok)).json).toMatchObject({ status: "duplicate" });
    expect(await invoiceOf(t, booked[0].bookingId)).toMatchObject({ status: "paid", amountPaidMinor: 8_500 });
    // A setup intent that is not ours is acknowledged and changes nothing.
    const stranger = anEvent("setup_intent.succeeded", { id: "seti_x", object: "setup_intent", status: "succeeded", customer: null, payment_method: "pm_x", metadata: {} });
    expect((await postEvent(t, stranger)).json).toMatchObject({ status: "ignored" });
    // Malformed: a setup_intent.succeeded without its payment method is refused (400).
    expect((await postEvent(t, anEvent("setup_intent.succeeded", { id: "seti_y", object: "setup_intent", status: "succeeded", metadata: {} }))).status).toBe(400);
  });
});

describe("the owner's recurring view", () => {
  test("recurring customers with their next visits, and revenue per frequency; managers and up only", async () => {
    const t = newTest();
    restore = routeFetch(t).restore;
    const s = await bookingScenario(t);
    const { seriesId, booked } = await aPlan(t, s);
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    await bob.as.mutation(api.series.create, {
      businessId: s.businessId,
      zoneId: s.zoneId,
      cart: s.cart,
      recurrence: { frequency: "every_n_weeks", interval: 2 },
      startDate: "2026-03-04",
      localTime: "10:00",
      occurrences: 2,
      onConflict: "fail",
    });
    await saveCard(t, s, seriesId, "save");
    await completeVisit(t, s, booked[0].bookingId);
    await settle(t);
    vi.setSystemTime(at("2026-03-03", "12:00"));

    const report = await s.owner.as.query(api.reports.recurring, { businessId: s.businessId, lastDay: "2026-03-31", days: 30 });
    expect([report.activePlans, report.recurringCustomers, report.currency]).toEqual([2, 2, "USD"]);
    const alice = report.plans.find((p) => p.customerId === s.customer.customerId)!;
    expect([alice.customerName, alice.frequency, alice.billing, alice.upcomingVisits]).toEqual(["Alice Customer", "weekly", "active", 2]);
    expect(alice.nextVisits.map((v) => v.start)).toEqual([at("2026-03-10", "10:00"), at("2026-03-17", "10:00")]);
    expect(report.plans.find((p) => p.customerName === "Bob")!.frequency).toBe("every_2_weeks");
    expect(report.revenue).toEqual([
      { frequency: "weekly", visits: 3, bookedMinor: 25_500, collectedMinor: 8_500 },
      { frequency: "every_2_weeks", visits: 2, bookedMinor: 18_000, collectedMinor: 0 },
    ]);
    await expectCode(s.customer.as.query(api.reports.recurring, { businessId: s.businessId, lastDay: "2026-03-31", days: 30 }), "FORBIDDEN");
    await expectCode(s.provider.as.query(api.reports.recurring, { businessId: s.businessId, lastDay: "2026-03-31", days: 30 }), "FORBIDDEN");
    await expectCode(s.owner.as.query(api.reports.recurring, { businessId: s.businessId, lastDay: "2026-3-31", days: 30 }), "INVALID_ARGUMENT", "lastDay");
    await expectCode(s.owner.as.query(api.reports.recurring, { businessId: s.businessId, lastDay: "2026-03-31", days: 0 }), "INVALID_ARGUMENT", "days");
  });
});
