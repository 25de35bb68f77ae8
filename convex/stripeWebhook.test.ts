/**
 * POST /stripe/webhook: signatures (built and checked with Stripe's own SDK), exactly-once
 * effects under duplicates and reordering, processing failures answered 5xx.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import type { Id } from "./_generated/dataModel";
import { newTest, type TestConvex } from "./test.setup";
import {
  aCharge,
  aPaymentIntent,
  aPendingPayment,
  anEvent,
  ingestDirect,
  paymentScenario,
  postEvent,
  signedHeader,
  uid,
  type PaymentScenario,
} from "./stripeWebhook.testkit";

afterEach(() => {
  vi.useRealTimers();
});

async function state(t: TestConvex, s: PaymentScenario, paymentId: Id<"payments">) {
  return await t.run(async (ctx) => ({
    payment: (await ctx.db.get("payments", paymentId))!,
    invoice: (await ctx.db.get("invoices", s.invoiceId))!,
    booking: (await ctx.db.get("bookings", s.bookingId))!,
    stripeEvents: (await ctx.db.query("stripeEvents").collect()).filter((e) => e.type !== "watermark").length,
    events: (await ctx.db.query("events").collect()).map((e) => e.type),
  }));
}

function succeeded(pi: string, amount: number, paymentId: string, created?: number) {
  return anEvent("payment_intent.succeeded", aPaymentIntent({ id: pi, amount, paymentId, status: "succeeded" }), created);
}

describe("signature verification", () => {
  test("a correctly signed event is applied; invalid, stale, missing and wrong-secret signatures get 400 and change nothing", async () => {
    const t = newTest();
    const s = await paymentScenario(t);
    const paymentId = await aPendingPayment(t, s);
    const event = succeeded(uid("pi"), s.invoice.depositMinor, paymentId);
    const body = JSON.stringify(event);

    const missing = await postEvent(t, event, { header: null });
    expect(missing.status).toBe(400);
    expect(JSON.stringify(missing.json)).toMatch(/Missing Stripe-Signature/);

    const wrongSecret = await postEvent(t, event, { secret: "whsec_someone_else_secret" });
    expect(wrongSecret.status).toBe(400);
    expect(JSON.stringify(wrongSecret.json)).toMatch(/Invalid Stripe signature/);

    const stale = await postEvent(t, event, { timestamp: Math.floor(Date.now() / 1000) - 301 });
    expect(stale.status).toBe(400);
    expect(JSON.stringify(stale.json)).toMatch(/Stale Stripe signature/);

    // Signed for one body, sent with another (tampered amount).
    const tampered = await postEvent(t, event, { header: await signedHeader(body), body: body.replace(`"amount":${s.invoice.depositMinor}`, '"amount":1') });
    expect(tampered.status).toBe(400);

    const garbage = await postEvent(t, event, { header: "t=123,v1=deadbeef" });
    expect(garbage.status).toBe(400);

    let now = await state(t, s, paymentId);
    expect(now.payment.status).toBe("requires_payment");
    expect(now.stripeEvents).toBe(0);
    expect(now.invoice.amountPaidMinor).toBe(0);

    // Within tolerance (299 s old) is accepted.
    const ok = await postEvent(t, event, { timestamp: Math.floor(Date.now() / 1000) - 299 });
    expect(ok.status).toBe(200);
    expect(ok.json.status).toBe("applied");
    now = await state(t, s, paymentId);
    expect(now.payment.status).toBe("succeeded");
    expect(now.stripeEvents).toBe(1);
  });

  test("a signature dated in the future beyond the tolerance gets 400 and changes nothing; slight clock skew is accepted", async () => {
    // The clock stands still, so the margins (301 s, 299 s) hold however long a request takes
    // on a busy machine (the backend reads the same clock).
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() });
    const t = newTest();
    const s = await paymentScenario(t);
    const paymentId = await aPendingPayment(t, s);
    const event = succeeded(uid("pi"), s.invoice.depositMinor, paymentId);
    const nowSeconds = () => Math.floor(Date.now() / 1000);

    for (const ahead of [301, 400, 3_600, 10 * 365 * 86_400]) {
      const future = await postEvent(t, event, { timestamp: nowSeconds() + ahead });
      expect(future.status, `+${ahead} s`).toBe(400);
      expect(future.json).toMatchObject({ error: { code: "invalid_signature", message: expect.stringMatching(/dated in the future/) } });
    }
    // The last t= wins, as in Stripe's SDK: a fresh first t= does not excuse a future signed one.
    const body = JSON.stringify(event);
    const signedAhead = await signedHeader(body, { timestamp: nowSeconds() + 3_600 });
    const doubled = await postEvent(t, event, { header: `t=${nowSeconds()},${signedAhead}` });
    expect(doubled.status).toBe(400);

    let now = await state(t, s, paymentId);
    expect(now.payment.status).toBe("requires_payment");
    expect(now.stripeEvents).toBe(0);

    const skewed = await postEvent(t, event, { timestamp: nowSeconds() + 299 });
    expect(skewed.status).toBe(200);
    now = await state(t, s, paymentId);
    expect(now.payment.status).toBe("succeeded");
  });

  test("a verified event whose object lacks required fields is a 400, not a 200", async () => {
    const t = newTest();
    const bad = anEvent("payment_intent.succeeded", { id: "pi_x", object: "payment_intent" });
    const res = await postEvent(t, bad);
    expect(res.status).toBe(400);
    expect(JSON.stringify(res.json)).toMatch(/malformed_event/);
  });
});

describe("exactly once", () => {
  test("duplicates are acknowledged without effect; checkout.session.completed + payment_intent.succeeded credit once and confirm the booking", async () => {
    const t = newTest();
    const s = await paymentScenario(t);
    const paymentId = await aPendingPayment(t, s);
    const pi = uid("pi");
    const completed = anEvent("checkout.session.completed", {
      id: uid("cs"),
      object: "checkout.session",
      mode: "payment",
      payment_status: "paid",
      payment_intent: pi,
      customer: "cus_test_1",
      subscription: null,
      amount_total: s.invoice.depositMinor,
      currency: "usd",
      metadata: { paymentId, bookingId: s.bookingId, businessId: s.businessId },
    });
    const intent = succeeded(pi, s.invoice.depositMinor, paymentId);

    expect((await postEvent(t, completed)).json.status).toBe("applied");
    expect((await postEvent(t, completed)).json.status).toBe("duplicate");
    expect((await postEvent(t, intent)).json.status).toBe("ignored");
    expect((await postEvent(t, intent)).json.status).toBe("duplicate");

    const now = await state(t, s, paymentId);
    expect(now.payment.status).toBe("succeeded");
    expect(now.payment.stripePaymentIntentId).toBe(pi);
    expect(now.invoice.amountPaidMinor).toBe(3_000);
    expect(now.invoice.status).toBe("open"); // deposit paid: partially paid, balance due
    expect(now.booking.status).toBe("CONFIRMED");
    expect(now.stripeEvents).toBe(2);
    expect(now.events.filter((e) => e === "payment.succeeded")).toHaveLength(1);
    const customer = await t.run((ctx) => ctx.db.get("customers", s.customer.customerId));
    expect(customer?.stripeCustomerId).toBe("cus_test_1");
  });

  test("paying the full amount marks the invoice paid and emits invoice.paid", async () => {
    const t = newTest();
    const s = await paymentScenario(t);
    const paymentId = await aPendingPayment(t, s, { amountMinor: 10_000, kind: "full" });
    await postEvent(t, succeeded(uid("pi"), 10_000, paymentId));
    const now = await state(t, s, paymentId);
    expect(now.invoice.status).toBe("paid");
    expect(now.invoice.paidAt).toBeTypeOf("number");
    expect(now.events).toContain("invoice.paid");
  });

  test("unknown event types are acknowledged and ignored", async () => {
    const t = newTest();
    const res = await postEvent(t, anEvent("customer.created", { id: "cus_1", object: "customer" }));
    expect(res.status).toBe(200);
    expect(res.json.status).toBe("ignored");
    expect(await t.run((ctx) => ctx.db.query("stripeEvents").collect())).toHaveLength(0);
  });
});

describe("out of order", () => {
  test("payment_failed arriving after succeeded does not downgrade", async () => {
    const t = newTest();
    const s = await paymentScenario(t);
    const paymentId = await aPendingPayment(t, s);
    const pi = uid("pi");
    const t0 = Math.floor(Date.now() / 1000);
    await postEvent(t, succeeded(pi, 3_000, paymentId, t0 + 10));
    const late = await postEvent(t, anEvent("payment_intent.payment_failed", aPaymentIntent({ id: pi, amount: 3_000, paymentId, status: "requires_payment_method", failure: "declined" }), t0));
    expect(late.status).toBe(200);
    expect(late.json.status).toBe("ignored");
    const now = await state(t, s, paymentId);
    expect(now.payment.status).toBe("succeeded");
    expect(now.booking.status).toBe("CONFIRMED");
  });

  test("a failure then a success on the same intent ends succeeded; a stale failure after a newer one is ignored", async () => {
    const t = newTest();
    const s = await paymentScenario(t);
    const paymentId = await aPendingPayment(t, s);
    const pi = uid("pi");
    const t0 = Math.floor(Date.now() / 1000);
    const fail = (created: number, msg: string) =>
      anEvent("payment_intent.payment_failed", aPaymentIntent({ id: pi, amount: 3_000, paymentId, status: "requires_payment_method", failure: msg }), created);
    expect((await postEvent(t, fail(t0 + 5, "newer decline"))).json.status).toBe("applied");
    expect((await postEvent(t, fail(t0, "older decline"))).json.status).toBe("ignored");
    let now = await state(t, s, paymentId);
    expect(now.payment.status).toBe("failed");
    expect(now.payment.failureReason).toBe("newer decline");
    expect(now.booking.status).toBe("PENDING_PAYMENT");
    expect(now.events).toContain("payment.failed");
    await postEvent(t, succeeded(pi, 3_000, paymentId, t0 + 20));
    now = await state(t, s, paymentId);
    expect(now.payment.status).toBe("succeeded");
    expect(now.payment.failureReason).toBeUndefined();
    expect(now.booking.status).toBe("CONFIRMED");
  });

  test("a charge.refunded that overtakes the success credits the payment first", async () => {
    const t = newTest();
    const s = await paymentScenario(t);
    const paymentId = await aPendingPayment(t, s, { paymentIntentId: "pi_overtaken" });
    await postEvent(t, anEvent("charge.refunded", aCharge({ paymentIntentId: "pi_overtaken", amount: 3_000, amountRefunded: 1_000 })));
    await postEvent(t, succeeded("pi_overtaken", 3_000, paymentId));
    const now = await state(t, s, paymentId);
    expect(now.payment.status).toBe("succeeded");
    expect(now.invoice.amountPaidMinor).toBe(3_000);
    expect(now.invoice.amountRefundedMinor).toBe(1_000);
    expect(now.invoice.status).toBe("partially_refunded");
  });
});

describe("processing failures", () => {
  test("a failure answers 500 and records nothing; Stripe's retry of the same event then succeeds", async () => {
    const t = newTest();
    const s = await paymentScenario(t);
    const paymentId = await aPendingPayment(t, s);
    const event = succeeded(uid("pi"), 3_000, paymentId);
    // Break our own data: the payment's invoice is gone.
    const invoiceCopy = await t.run(async (ctx) => {
      const invoice = (await ctx.db.get("invoices", s.invoiceId))!;
      await ctx.db.delete("invoices", s.invoiceId);
      return invoice;
    });
    const first = await postEvent(t, event);
    expect(first.status).toBe(500);
    expect(JSON.stringify(first.json)).toMatch(/processing_failed/);
    let now = await t.run(async (ctx) => ({
      payment: (await ctx.db.get("payments", paymentId))!,
      stripeEvents: await ctx.db.query("stripeEvents").collect(),
    }));
    expect(now.payment.status).toBe("requires_payment");
    expect(now.stripeEvents).toHaveLength(0);

    // An operator restores the invoice; Stripe retries the very same event.
    await t.run(async (ctx) => {
      const { _id, _creationTime, ...fields } = invoiceCopy;
      const restored = await ctx.db.insert("invoices", fields);
      await ctx.db.patch("payments", paymentId, { invoiceId: restored });
      await ctx.db.patch("bookings", s.bookingId, { invoiceId: restored });
    });
    const retry = await postEvent(t, event);
    expect(retry.status).toBe(200);
    expect(retry.json.status).toBe("applied");
    now = await t.run(async (ctx) => ({
      payment: (await ctx.db.get("payments", paymentId))!,
      stripeEvents: await ctx.db.query("stripeEvents").collect(),
    }));
    expect(now.payment.status).toBe("succeeded");
    expect(now.stripeEvents).toHaveLength(1);
  });
});

describe("replay: 1,000 events, each delivered three times, in shuffled order", () => {
  test("every effect happens exactly once and the final states are right", async () => {
    // Fake timers: work other modules schedule on confirmation (notifications) stays queued
    // instead of competing with the replay; this test is about the ingestion transactions.
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "setInterval", "clearInterval"] });
    const t = newTest();
    const s = await paymentScenario(t);
    const N = 200; // 200 payments × 5 events = 1,000 distinct events
    const ids: { bookingId: Id<"bookings">; invoiceId: Id<"invoices">; paymentId: Id<"payments"> }[] = [];
    for (let batch = 0; batch < N / 25; batch++) {
      ids.push(
        ...(await t.run(async (ctx) => {
          const template = (await ctx.db.get("bookings", s.bookingId))!;
          const invoiceTemplate = (await ctx.db.get("invoices", s.invoiceId))!;
          const out: { bookingId: Id<"bookings">; invoiceId: Id<"invoices">; paymentId: Id<"payments"> }[] = [];
          for (let i = 0; i < 25; i++) {
            const { _id, _creationTime, ...booking } = template;
            const bookingId = await ctx.db.insert("bookings", { ...booking, invoiceId: undefined });
            const { _id: _i, _creationTime: _c, ...invoice } = invoiceTemplate;
            const invoiceId = await ctx.db.insert("invoices", { ...invoice, bookingId, number: `INV-${batch}-${i}` });
            await ctx.db.patch("bookings", bookingId, { invoiceId });
            const paymentId = await ctx.db.insert("payments", {
              businessId: s.businessId,
              invoiceId,
              bookingId,
              customerId: s.customer.customerId,
              kind: "deposit",
              amountMinor: 3_000,
              currency: "USD",
              status: "requires_payment",
              provider: "stripe",
              createdAt: Date.now(),
              updatedAt: Date.now(),
            });
            out.push({ bookingId, invoiceId, paymentId });
          }
          return out;
        })),
      );
    }
    const t0 = Math.floor(Date.now() / 1000) - 100;
    const events = ids.flatMap(({ paymentId }, i) => {
      const pi = `pi_replay_${i}`;
      return [
        anEvent("payment_intent.payment_failed", aPaymentIntent({ id: pi, amount: 3_000, paymentId, status: "requires_payment_method", failure: "declined" }), t0),
        anEvent("checkout.session.completed", { id: `cs_replay_${i}`, object: "checkout.session", mode: "payment", payment_status: "paid", payment_intent: pi, customer: null, subscription: null, amount_total: 3_000, currency: "usd", metadata: { paymentId } }, t0 + 10),
        succeeded(pi, 3_000, paymentId, t0 + 10),
        anEvent("charge.refunded", aCharge({ paymentIntentId: pi, paymentId, amount: 3_000, amountRefunded: 500, refunds: [{ id: `re_${i}_a`, amount: 500 }] }), t0 + 20),
        anEvent("charge.refunded", aCharge({ paymentIntentId: pi, paymentId, amount: 3_000, amountRefunded: 1_200, refunds: [{ id: `re_${i}_b`, amount: 700 }, { id: `re_${i}_a`, amount: 500 }] }), t0 + 30),
      ];
    });
    expect(events).toHaveLength(1_000);
    // Deterministic shuffle (mulberry32) of three deliveries of each.
    let seed = 0x5eed;
    const random = () => {
      seed = (seed + 0x6d2b79f5) | 0;
      let x = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
      return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
    };
    const deliveries = [...events, ...events, ...events];
    for (let i = deliveries.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [deliveries[i], deliveries[j]] = [deliveries[j], deliveries[i]];
    }
    // Through the ingestion pipeline (signature verification, normalization, the internal
    // mutation); the HTTP wrapper around it is covered above. convex-test's t.fetch costs
    // ~6 ms per request on its own, which would make this test a benchmark of the mock.
    const statuses = new Map<string, number>();
    // Other modules log per confirmed booking (log-only notifications); 600 lines of noise.
    const quiet = vi.spyOn(console, "log").mockImplementation(() => {});
    const started = performance.now();
    for (const event of deliveries) {
      const res = await ingestDirect(t, event);
      expect(res.status).toBe(200);
      statuses.set(String(res.body.status), (statuses.get(String(res.body.status)) ?? 0) + 1);
    }
    const elapsed = Math.round(performance.now() - started);
    quiet.mockRestore();
    console.log(`replay: ${deliveries.length} deliveries in ${elapsed} ms`);
    expect(statuses.get("duplicate")).toBe(2_000);

    const rows = [];
    for (let i = 0; i < ids.length; i += 25) {
      rows.push(
        ...(await t.run(async (ctx) =>
          Promise.all(
            ids.slice(i, i + 25).map(async ({ bookingId, invoiceId, paymentId }) => ({
              booking: (await ctx.db.get("bookings", bookingId))!,
              invoice: (await ctx.db.get("invoices", invoiceId))!,
              payment: (await ctx.db.get("payments", paymentId))!,
              refunds: await ctx.db.query("refunds").withIndex("by_paymentId", (q) => q.eq("paymentId", paymentId)).collect(),
            })),
          ),
        )),
      );
    }
    const final = {
      rows,
      events: await t.run(async (ctx) => (await ctx.db.query("events").collect()).map((e) => ({ type: e.type }))),
      stripeEvents: await t.run(async (ctx) => (await ctx.db.query("stripeEvents").collect()).length),
    };
    expect(final.stripeEvents).toBe(1_000);
    for (const row of final.rows) {
      expect(row.payment.status).toBe("succeeded");
      expect(row.booking.status).toBe("CONFIRMED");
      expect(row.invoice.amountPaidMinor).toBe(3_000);
      expect(row.invoice.amountRefundedMinor).toBe(1_200);
      expect(row.invoice.status).toBe("partially_refunded");
      expect(row.refunds.map((r) => [r.stripeRefundId, r.amountMinor, r.status]).sort()).toEqual([
        [expect.stringMatching(/_a$/), 500, "succeeded"],
        [expect.stringMatching(/_b$/), 700, "succeeded"],
      ]);
    }
    const count = (type: string) => final.events.filter((e) => e.type === type).length;
    expect(count("payment.succeeded")).toBe(N);
    expect(count("refund.succeeded")).toBe(2 * N);
    expect(count("payment.failed")).toBeLessThanOrEqual(N);
  }, 300_000);
});
