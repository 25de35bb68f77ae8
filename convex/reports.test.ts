import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import { withTriggers } from "./functions";
import { TUESDAY, WEDNESDAY, at, bookingScenario, expectCode, freezeClock, type Scenario } from "./bookings.testkit";
import { newTest, type TestConvex } from "./test.setup";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

async function confirmedInvoice(s: Scenario, start: number) {
  const { bookingId } = await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start });
  const { invoiceId } = await s.customer.as.mutation(api.bookings.confirm, { bookingId });
  return { bookingId, invoiceId };
}

/** A payment arriving (as the Stripe path writes it: through the mutation builders' triggers). */
async function pay(t: TestConvex, invoiceId: Id<"invoices">, paidAt: number, refundedMinor = 0) {
  await t.run(async (ctx) => {
    const { db } = withTriggers(ctx);
    const invoice = (await db.get("invoices", invoiceId))!;
    await db.patch("invoices", invoiceId, { amountPaidMinor: invoice.totalMinor, amountRefundedMinor: refundedMinor, status: "paid", paidAt });
  });
}

function report(s: Scenario) {
  return s.manager.as.query(api.reports.revenue, { businessId: s.businessId, lastDay: WEDNESDAY, days: 3 });
}

describe("owner report totals (invoice aggregates)", () => {
  test("revenue per local day and outstanding follow invoices as they are issued, paid, refunded and voided", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const a = await confirmedInvoice(s, at(TUESDAY, "09:00"));
    const b = await confirmedInvoice(s, at(TUESDAY, "11:30"));
    const total = (await t.run((ctx) => ctx.db.get("invoices", a.invoiceId)))!.totalMinor;
    expect(total).toBeGreaterThan(0);
    expect(await report(s)).toEqual({
      days: [
        { date: "2026-03-02", collectedMinor: 0 },
        { date: TUESDAY, collectedMinor: 0 },
        { date: WEDNESDAY, collectedMinor: 0 },
      ],
      outstandingMinor: 2 * total,
    });
    // Paid at 23:30 New York time on Tuesday: Tuesday's revenue, though it is Wednesday in UTC.
    await pay(t, a.invoiceId, at(TUESDAY, "23:30"), 2_500);
    const paid = await report(s);
    expect(paid.days.map((d) => d.collectedMinor)).toEqual([0, total - 2_500, 0]);
    expect(paid.outstandingMinor).toBe(total);
    await s.customer.as.mutation(api.bookings.cancel, { bookingId: b.bookingId });
    await t.run((ctx) => ctx.db.patch("bookings", b.bookingId, { status: "CANCELLED" }));
    expect(await s.manager.as.mutation(api.invoices.voidInvoice, { invoiceId: b.invoiceId })).toEqual({ status: "void" });
    expect((await report(s)).outstandingMinor).toBe(0);
  });

  test("only managers read it; bad dates and ranges are refused", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    await expectCode(s.customer.as.query(api.reports.revenue, { businessId: s.businessId, lastDay: WEDNESDAY, days: 3 }), "FORBIDDEN");
    await expectCode(s.manager.as.query(api.reports.revenue, { businessId: s.businessId, lastDay: "03/04/2026", days: 3 }), "INVALID_ARGUMENT", "lastDay");
    await expectCode(s.manager.as.query(api.reports.revenue, { businessId: s.businessId, lastDay: WEDNESDAY, days: 0 }), "INVALID_ARGUMENT", "days");
  });

  test("the backfill migration adds invoices written before the aggregates existed", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { invoiceId } = await confirmedInvoice(s, at(TUESDAY, "09:00"));
    const invoice = (await t.run((ctx) => ctx.db.get("invoices", invoiceId)))!;
    // An old invoice: written straight to the table, as data from before the aggregates.
    const { _id, _creationTime, ...fields } = invoice;
    void _id;
    void _creationTime;
    await t.run((ctx) =>
      ctx.db.insert("invoices", { ...fields, number: `${fields.number}-OLD`, status: "paid", amountPaidMinor: fields.totalMinor, paidAt: at(WEDNESDAY, "08:00") }),
    );
    expect((await report(s)).days[2].collectedMinor).toBe(0);
    // A small table: the migration runs in one batch, inside this mutation.
    const status = await t.mutation(internal.migrations.run, { fn: "migrations:backfillInvoiceTotals" });
    expect(status).toMatchObject({ processed: 2 });
    const after = await report(s);
    expect(after.days[2].collectedMinor).toBe(fields.totalMinor);
    expect(after.outstandingMinor).toBe(fields.totalMinor); // the new invoice, still unpaid; the old one is paid
    // Running it again changes nothing (insertIfDoesNotExist).
    await t.mutation(internal.migrations.run, { fn: "migrations:backfillInvoiceTotals", reset: true });
    expect(await report(s)).toEqual(after);
  });
});
