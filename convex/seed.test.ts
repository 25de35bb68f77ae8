import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "./_generated/api";
import { newTest } from "./test.setup";
import { TUESDAY, at, freezeClock } from "./bookings.testkit";

// Tuesday 13:10 in New York: the day has finished, running and upcoming jobs.
beforeEach(() => freezeClock(at(TUESDAY, "13:10")));
afterEach(() => vi.useRealTimers());

describe("seed:demo", () => {
  test("creates a believable, consistent demo business once", async () => {
    const t = newTest();
    const summary = await t.action(internal.seed.demo, {});
    expect(summary.created).toBe(true);
    expect(summary.businessName).toBe("Brightside Home Services");
    expect(summary.counts).toMatchObject({ zones: 3, industries: 2, products: 6, extras: 6, providers: 8, customers: 12 });
    expect(summary.counts.bookings).toBeGreaterThanOrEqual(28);
    expect(Object.keys(summary.bookingsByStatus).sort()).toEqual(
      expect.arrayContaining(["COMPLETED", "CONFIRMED", "IN_PROGRESS", "CANCELLED", "PENDING_PAYMENT"]),
    );
    const held = summary.bookingsByStatus.HELD ?? 0;
    expect(summary.counts.invoices).toBe(summary.counts.bookings - held);

    const subjects = summary.signIns.map((s) => s.subject);
    expect(subjects).toEqual(expect.arrayContaining(["demo-owner", "demo-dispatcher", "demo-admin", "demo-provider-1", "demo-provider-8", "demo-customer-1", "demo-customer-12"]));
    const users = await t.run((ctx) => ctx.db.query("users").collect());
    expect(users.map((u) => u.tokenIdentifier)).toEqual(expect.arrayContaining(["https://auth.test|demo-owner", "https://auth.test|demo-customer-12"]));
    expect(users.find((u) => u.tokenIdentifier.endsWith("|demo-admin"))?.isPlatformAdmin).toBe(true);

    const { assignments, resources, invoices, postalCodes, zones } = await t.run(async (ctx) => ({
      assignments: await ctx.db.query("bookingAssignments").collect(),
      resources: await ctx.db.query("resources").collect(),
      invoices: await ctx.db.query("invoices").collect(),
      postalCodes: await ctx.db.query("zonePostalCodes").collect(),
      zones: await ctx.db.query("zones").collect(),
    }));
    expect(postalCodes.length).toBeGreaterThanOrEqual(15);
    expect(zones.filter((z) => z.boundaries.length > 0)).toHaveLength(1);
    // Never two overlapping live jobs on one provider (capacity 1).
    for (const resource of resources) {
      const live = assignments
        .filter((a) => a.resourceId === resource._id && (a.status === "offered" || a.status === "accepted"))
        .sort((a, b) => a.busyStart - b.busyStart);
      for (let i = 1; i < live.length; i++) expect(live[i].busyStart).toBeGreaterThanOrEqual(live[i - 1].busyEnd);
    }
    for (const invoice of invoices) {
      expect(invoice.lines.reduce((sum, l) => sum + l.amountMinor, 0)).toBe(invoice.totalMinor);
    }

    // The dispatcher sees today's board; a provider sees their day.
    const dispatcher = t.withIdentity({ tokenIdentifier: "https://auth.test|demo-dispatcher", subject: "demo-dispatcher" });
    const board = await dispatcher.query(api.dispatch.board, { businessId: summary.businessId, date: TUESDAY });
    expect(board.providers).toHaveLength(8);
    expect(board.providers.flatMap((p) => p.jobs).length).toBeGreaterThan(3);

    const again = await t.action(internal.seed.demo, {});
    expect(again.created).toBe(false);
    expect(again.businessId).toBe(summary.businessId);
    expect(again.counts).toEqual(summary.counts);
    expect(await t.run(async (ctx) => (await ctx.db.query("businesses").collect()).length)).toBe(1);
  });
});
