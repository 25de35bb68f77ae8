import { describe, expect, test } from "vitest";
import type { Id } from "../../_generated/dataModel";
import { aCatalogue, aCustomer, aZone } from "../../test.builders";
import { newTest, type TestConvex } from "../../test.setup";
import { anApiBusiness, call, expectOk } from "../api.testkit";
import { ConvexError } from "convex/values";
import { decodeCursor, encodeCursor, listFingerprint, paginateFrom } from "./pagination";
import { listOf, zBooking, zCustomer } from "./schemas";

const DAY = 86_400_000;
const BASE = Date.parse("2030-01-01T00:00:00Z");

type Ids = { businessId: Id<"businesses">; customerId: Id<"customers">; zoneId: Id<"zones">; industryId: Id<"industries">; productId: Id<"products"> };

async function insertBookings(t: TestConvex, ids: Ids, starts: number[]): Promise<{ id: Id<"bookings">; start: number }[]> {
  // Batches of 50: one transaction stays well inside the local engine's 1 s limit.
  if (starts.length > 50) {
    const out = [];
    for (let i = 0; i < starts.length; i += 50) out.push(...(await insertBookings(t, ids, starts.slice(i, i + 50))));
    return out;
  }
  return await t.run(async (ctx) => {
    const out: { id: Id<"bookings">; start: number }[] = [];
    for (const start of starts) {
      const id = await ctx.db.insert("bookings", {
        businessId: ids.businessId,
        customerId: ids.customerId,
        zoneId: ids.zoneId,
        industryId: ids.industryId,
        status: "CONFIRMED",
        start,
        end: start + 3_600_000,
        localDate: new Date(start).toISOString().slice(0, 10),
        items: [{ productId: ids.productId, name: "Clean", quantity: 1, unitPriceMinor: 100, durationMinutes: 60, extras: [] }],
        quote: { currency: "USD", subtotalMinor: 100, discountMinor: 0, tripChargeMinor: 0, minimumTopUpMinor: 0, taxMinor: 0, totalMinor: 100, durationMinutes: 60 },
        frequency: "once",
        assignedResourceIds: [],
        rescheduleCount: 0,
        source: "api",
        createdAt: Date.now(),
      });
      out.push({ id, start });
    }
    return out;
  });
}

/** A deterministic pseudo-random sequence (the walk must be reproducible). */
function lcg(seed: number) {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

describe("cursor pagination", { timeout: 120_000 }, () => {
  test("walking 1,000 bookings with inserts between pages: nothing skipped, nothing repeated", async () => {
    const t = newTest();
    const biz = await anApiBusiness(t);
    const { zoneId } = await aZone(t, biz.businessId);
    const { industryId, productId } = await aCatalogue(t, biz.businessId);
    const { customerId } = await aCustomer(t, biz.businessId, { signedIn: false });
    const ids = { businessId: biz.businessId, customerId, zoneId, industryId, productId };
    const random = lcg(42);
    // Many equal start times too: the cursor must break ties by position, not by value.
    const originals = await insertBookings(
      t,
      ids,
      Array.from({ length: 1_000 }, () => BASE + Math.floor(random() * 200) * DAY),
    );

    const seen: { id: string; start: number }[] = [];
    const inserted: { id: Id<"bookings">; start: number; cursorStart: number }[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = `/v1/bookings?limit=100${cursor ? `&cursor=${cursor}` : ""}`;
      const page: { data: { id: string; start: number }[]; next_cursor: string | null } = expectOk(await call(t, "GET", query, { key: biz.key }), 200, listOf(zBooking, "x"));
      expect(page.data.length).toBeLessThanOrEqual(100);
      seen.push(...page.data.map((b) => ({ id: b.id, start: b.start })));
      cursor = page.next_cursor;
      pages++;
      // Concurrent writers: bookings land before, at and after the cursor position.
      const lastStart = seen[seen.length - 1]?.start ?? BASE;
      const more = await insertBookings(t, ids, [
        BASE + Math.floor(random() * 200) * DAY,
        BASE + Math.floor(random() * 200) * DAY,
        lastStart,
        lastStart - DAY,
        lastStart + DAY,
      ]);
      inserted.push(...more.map((m) => ({ ...m, cursorStart: lastStart })));
      expect(pages).toBeLessThan(30);
    } while (cursor !== null);

    const seenIds = seen.map((s) => s.id);
    expect(new Set(seenIds).size).toBe(seenIds.length); // nothing repeated
    const seenSet = new Set(seenIds);
    for (const o of originals) expect(seenSet.has(o.id)).toBe(true); // nothing skipped
    for (let i = 1; i < seen.length; i++) expect(seen[i].start).toBeGreaterThanOrEqual(seen[i - 1].start); // in order
    // An insert strictly behind the cursor is never seen; one strictly ahead always is.
    for (const x of inserted) {
      if (x.start < x.cursorStart) expect(seenSet.has(x.id)).toBe(false);
      if (x.start > x.cursorStart && cursor === null && x.start <= seen[seen.length - 1].start) expect(seenSet.has(x.id)).toBe(true);
    }
    expect(pages).toBeGreaterThanOrEqual(10);
  }, 120_000);

  test("customers newest first: default limit 20, walk in pages, new customers do not shift pages", async () => {
    const t = newTest();
    const biz = await anApiBusiness(t);
    await t.run(async (ctx) => {
      for (let i = 0; i < 45; i++) await ctx.db.insert("customers", { businessId: biz.businessId, name: `C${i}`, tags: [], createdAt: i });
    });
    const first = expectOk(await call(t, "GET", "/v1/customers", { key: biz.key }), 200, listOf(zCustomer, "x"));
    expect(first.data).toHaveLength(20);
    expect(first.data[0].name).toBe("C44");
    expect(first.has_more).toBe(true);
    await t.run((ctx) => ctx.db.insert("customers", { businessId: biz.businessId, name: "New", tags: [], createdAt: 99 }));
    const second = expectOk(await call(t, "GET", `/v1/customers?cursor=${first.next_cursor}`, { key: biz.key }), 200, listOf(zCustomer, "x"));
    expect(second.data.map((c) => c.name)).toEqual(Array.from({ length: 20 }, (_, i) => `C${24 - i}`));
    const third = expectOk(await call(t, "GET", `/v1/customers?cursor=${second.next_cursor}`, { key: biz.key }), 200, listOf(zCustomer, "x"));
    expect(third.data).toHaveLength(5);
    expect(third.has_more).toBe(false);
    expect(third.next_cursor).toBeNull();
  });

  test("cursors are opaque and bound to their list's filters", () => {
    const f = listFingerprint({ list: "bookings", status: "CONFIRMED" });
    const cursor = encodeCursor("convex-cursor", f);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(decodeCursor(cursor, f)).toBe("convex-cursor");
    expect(() => decodeCursor(cursor, listFingerprint({ list: "bookings" }))).toThrow();
    expect(() => decodeCursor("%%%", f)).toThrow();
    expect(decodeCursor(undefined, f)).toBeNull();
  });

  test("only a cursor the engine cannot decode is INVALID_CURSOR; other failures under a cursor stay what they are", async () => {
    const failing = (error: unknown) => ({ paginate: async () => Promise.reject(error) });
    const code = async (error: unknown) =>
      await paginateFrom(failing(error), 1, "c").then(
        () => "ok",
        (e: unknown) => (e instanceof ConvexError ? (e.data as { code?: string }).code ?? "convex" : (e as Error).message),
      );
    // Convex (and the local backend): an unparsable cursor; a cursor of another query.
    expect(await code(new Error("Failed to parse cursor"))).toBe("INVALID_CURSOR");
    expect(await code(new ConvexError({ isConvexSystemError: true, paginationError: "InvalidCursor" }))).toBe("INVALID_CURSOR");
    // convex-test's mock parses its cursors as JSON.
    expect(await code(new Error('Unexpected token \'g\', "garbage" is not valid JSON'))).toBe("INVALID_CURSOR");
    expect(await code(new Error("JSON.parse(...).map is not a function"))).toBe("INVALID_CURSOR");
    // Anything else is not the client's cursor's fault.
    expect(await code(new Error("Too many bytes read in a single function execution"))).toBe("Too many bytes read in a single function execution");
    expect(await code(new TypeError("Cannot read properties of undefined (reading 'status')"))).toBe("Cannot read properties of undefined (reading 'status')");
    expect(await code(new ConvexError({ code: "FORBIDDEN", message: "no" }))).toBe("FORBIDDEN");
  });
});
