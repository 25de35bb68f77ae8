import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { aBusiness, aCustomer, aZone } from "./test.builders";
import { newTest } from "./test.setup";
import { TUESDAY, WEDNESDAY, at, bookingScenario, expectCode, freezeClock, type Scenario } from "./bookings.testkit";
import { customerCode, formatInvoiceNumber, invoiceLinesFor, isTaxExclusive } from "./model/invoiceLines";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

async function confirmedInvoice(s: Scenario, start: number, opts: { zoneId?: Id<"zones">; who?: Scenario["customer"]; cart?: Scenario["cart"] } = {}) {
  const who = opts.who ?? s.customer;
  const { bookingId } = await who.as.mutation(api.bookings.hold, {
    businessId: s.businessId,
    zoneId: opts.zoneId ?? s.zoneId,
    cart: opts.cart ?? s.cart,
    start,
  });
  const { invoiceId } = await who.as.mutation(api.bookings.confirm, { bookingId });
  return { bookingId, invoiceId };
}

describe("invoice generation", () => {
  test.each([
    ["tax exclusive with trip charge and minimum", { tripChargeMinor: 1_500, minimumMinor: 20_000 }, 825, false],
    ["tax inclusive", { tripChargeMinor: 0, minimumMinor: 0 }, 2_000, true],
    ["price multiplier", { tripChargeMinor: 999, minimumMinor: 0, priceMultiplierBp: 11_250 }, 0, false],
  ])("%s: lines sum exactly to the total; deposit per policy", async (_label, pricing, taxRateBp, taxInclusive) => {
    const t = newTest();
    const s = await bookingScenario(t, { policies: { booking: { depositBp: 3_333 } } });
    const { zoneId } = await aZone(t, s.businessId, { name: "Priced", pricing, taxRateBp, taxInclusive });
    const cart = [{ productId: s.catalogue.productId, quantity: 3, extras: [{ extraId: s.catalogue.extraId, quantity: 1 }] }];
    const { invoiceId, bookingId } = await confirmedInvoice(s, at(TUESDAY, "09:00"), { zoneId, cart });
    const invoice = await s.customer.as.query(api.invoices.get, { invoiceId });
    const booking = await t.run((ctx) => ctx.db.get("bookings", bookingId));
    expect(invoice.lines.reduce((sum, l) => sum + l.amountMinor, 0)).toBe(invoice.totalMinor);
    expect(invoice.totalMinor).toBe(booking!.quote.totalMinor);
    for (const line of invoice.lines) expect(line.amountMinor).toBe(line.unitAmountMinor * line.quantity);
    expect(invoice.depositMinor).toBe(Math.round((invoice.totalMinor * 3_333) / 10_000));
    expect(invoice.lines.some((l) => l.kind === "tax")).toBe(!taxInclusive && taxRateBp > 0);
    expect(invoice.lines.map((l) => l.kind)).toContain("extra");
    expect(invoice.status).toBe("open");
    expect(booking?.invoiceId).toBe(invoiceId);
  });

  test("the pure line builder refuses items that do not add up to the quote", () => {
    const booking = {
      frequency: "once" as const,
      items: [{ productId: "p" as Id<"products">, name: "X", quantity: 2, unitPriceMinor: 1_000, durationMinutes: 60, extras: [] }],
      quote: { currency: "USD", subtotalMinor: 2_000, discountMinor: 0, tripChargeMinor: 0, minimumTopUpMinor: 0, taxMinor: 100, totalMinor: 2_100, durationMinutes: 60 },
    };
    expect(isTaxExclusive(booking.quote)).toBe(true);
    expect(invoiceLinesFor(booking, 500).map((l) => l.amountMinor)).toEqual([2_000, 100]);
    expect(() => invoiceLinesFor({ ...booking, quote: { ...booking.quote, totalMinor: 2_200, taxMinor: 200 } })).not.toThrow();
    expect(() => invoiceLinesFor({ ...booking, quote: { ...booking.quote, subtotalMinor: 2_500, totalMinor: 2_600 } })).toThrow(/sum to/);
  });

  test("numbers follow each customer's own sequence; no shared counter document", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    const a1 = await confirmedInvoice(s, at(TUESDAY, "09:00"));
    const b1 = await confirmedInvoice(s, at(TUESDAY, "11:30"), { who: bob });
    const a2 = await confirmedInvoice(s, at(WEDNESDAY, "09:00"));
    const numbers = await t.run(async (ctx) =>
      Promise.all([a1, b1, a2].map(async (x) => (await ctx.db.get("invoices", x.invoiceId))!.number)),
    );
    expect(numbers).toEqual([
      formatInvoiceNumber(s.customer.customerId, 1),
      formatInvoiceNumber(bob.customerId, 1),
      formatInvoiceNumber(s.customer.customerId, 2),
    ]);
    expect(customerCode(s.customer.customerId)).not.toBe(customerCode(bob.customerId));
    expect(customerCode(s.customer.customerId)).toMatch(/^[0-9A-Z]{8}$/);
  });
});

describe("invoice reads", () => {
  test("the customer and managers read it; another customer, a provider and other tenants cannot", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { invoiceId, bookingId } = await confirmedInvoice(s, at(TUESDAY, "09:00"));
    expect((await s.customer.as.query(api.invoices.get, { invoiceId }))._id).toBe(invoiceId);
    expect((await s.manager.as.query(api.invoices.getForBooking, { bookingId }))?._id).toBe(invoiceId);
    expect((await s.owner.as.query(api.invoices.get, { invoiceId }))._id).toBe(invoiceId);
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    await expectCode(bob.as.query(api.invoices.get, { invoiceId }), "NOT_FOUND", "invoiceId");
    await expectCode(bob.as.query(api.invoices.getForBooking, { bookingId }), "NOT_FOUND");
    await expectCode(s.provider.as.query(api.invoices.get, { invoiceId }), "FORBIDDEN");
    await expectCode((await aBusiness(t)).owner.as.query(api.invoices.get, { invoiceId }), "NOT_FOUND");
    await expectCode(t.query(api.invoices.get, { invoiceId }), "UNAUTHENTICATED");
  });

  test("listForBusiness pages newest first and filters by status; listForCustomer shows one customer's", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const bob = await aCustomer(t, s.businessId, { name: "Bob" });
    const first = await confirmedInvoice(s, at(TUESDAY, "09:00"));
    vi.advanceTimersByTime(1_000);
    const second = await confirmedInvoice(s, at(TUESDAY, "11:30"), { who: bob });
    vi.advanceTimersByTime(1_000);
    const third = await confirmedInvoice(s, at(WEDNESDAY, "09:00"));
    await s.customer.as.mutation(api.bookings.cancel, { bookingId: third.bookingId });
    const page = await s.manager.as.query(api.invoices.listForBusiness, { businessId: s.businessId, paginationOpts: { numItems: 2, cursor: null } });
    expect(page.page.map((i) => i._id)).toEqual([third.invoiceId, second.invoiceId]);
    const rest = await s.manager.as.query(api.invoices.listForBusiness, {
      businessId: s.businessId,
      paginationOpts: { numItems: 2, cursor: page.continueCursor },
    });
    expect(rest.page.map((i) => i._id)).toEqual([first.invoiceId]);
    const voided = await s.manager.as.query(api.invoices.listForBusiness, {
      businessId: s.businessId,
      status: "void",
      paginationOpts: { numItems: 10, cursor: null },
    });
    expect(voided.page.map((i) => i._id)).toEqual([third.invoiceId]);
    const mine = await bob.as.query(api.invoices.listForCustomer, { customerId: bob.customerId, paginationOpts: { numItems: 10, cursor: null } });
    expect(mine.page.map((i) => i._id)).toEqual([second.invoiceId]);
    await expectCode(bob.as.query(api.invoices.listForCustomer, { customerId: s.customer.customerId, paginationOpts: { numItems: 10, cursor: null } }), "NOT_FOUND");
    await expectCode(s.customer.as.query(api.invoices.listForBusiness, { businessId: s.businessId, paginationOpts: { numItems: 10, cursor: null } }), "FORBIDDEN");
  });

  test("voidInvoice: only open, unpaid invoices of bookings that no longer stand", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { invoiceId, bookingId } = await confirmedInvoice(s, at(TUESDAY, "09:00"));
    await expectCode(s.manager.as.mutation(api.invoices.voidInvoice, { invoiceId }), "INVALID_TRANSITION");
    await expectCode(s.customer.as.mutation(api.invoices.voidInvoice, { invoiceId }), "FORBIDDEN");
    await t.run(async (ctx) => {
      await ctx.db.patch("bookings", bookingId, { status: "CANCELLED" });
    });
    expect(await s.manager.as.mutation(api.invoices.voidInvoice, { invoiceId })).toEqual({ status: "void" });
    const events = await t.run(async (ctx) => (await ctx.db.query("events").collect()).map((e) => e.type));
    expect(events).toContain("invoice.voided");
    expect(events).toContain("invoice.issued");
  });
});
