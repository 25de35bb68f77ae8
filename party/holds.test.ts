import { describe, expect, it } from "vitest";
import { HoldBook, isInstantOnLocalDate } from "./holds";

const T = Date.parse("2026-11-22T09:00:00Z");
const policy = { ttlMs: 90_000, maxHoldsPerConnection: 2 };

describe("slot holds", () => {
  it("counts holders per slot without naming them", () => {
    const book = new HoldBook(policy);
    expect(book.ping("a", { startsAt: T }, 0)).toEqual({ ok: true, countsChanged: true });
    expect(book.ping("b", { startsAt: T }, 0)).toEqual({ ok: true, countsChanged: true });
    expect(book.ping("b", { startsAt: T, resourceId: "r1" }, 0)).toEqual({ ok: true, countsChanged: true });
    expect(book.counts()).toEqual([
      { startsAt: T, resourceId: null, count: 2 },
      { startsAt: T, resourceId: "r1", count: 1 },
    ]);
  });

  it("refreshes a hold on a repeated ping without changing counts", () => {
    const book = new HoldBook(policy);
    book.ping("a", { startsAt: T }, 0);
    expect(book.ping("a", { startsAt: T }, 60_000)).toEqual({ ok: true, countsChanged: false });
    expect(book.expire(90_000)).toBe(false);
    expect(book.nextExpiry()).toBe(150_000);
    expect(book.expire(150_000)).toBe(true);
    expect(book.counts()).toEqual([]);
    expect(book.nextExpiry()).toBeNull();
  });

  it("expires each hold ttl after its last ping", () => {
    const book = new HoldBook(policy);
    book.ping("a", { startsAt: T }, 0);
    book.ping("b", { startsAt: T }, 30_000);
    expect(book.expire(89_999)).toBe(false);
    expect(book.expire(90_000)).toBe(true);
    expect(book.counts()).toEqual([{ startsAt: T, resourceId: null, count: 1 }]);
  });

  it("limits how many slots one connection holds", () => {
    const book = new HoldBook(policy);
    book.ping("a", { startsAt: T }, 0);
    book.ping("a", { startsAt: T + 1 }, 0);
    expect(book.ping("a", { startsAt: T + 2 }, 0)).toMatchObject({ ok: false, message: /at most 2/ });
    expect(book.release("a", { startsAt: T })).toBe(true);
    expect(book.ping("a", { startsAt: T + 2 }, 0).ok).toBe(true);
  });

  it("releases one slot, or all of a connection's slots", () => {
    const book = new HoldBook(policy);
    book.ping("a", { startsAt: T }, 0);
    book.ping("a", { startsAt: T, resourceId: "r1" }, 0);
    expect(book.release("a", { startsAt: T, resourceId: "r2" })).toBe(false);
    expect(book.release("b", { startsAt: T })).toBe(false);
    expect(book.releaseConnection("a")).toBe(true);
    expect(book.releaseConnection("a")).toBe(false);
    expect(book.counts()).toEqual([]);
  });
});

describe("slot on the room's date", () => {
  it.each([
    ["2026-11-22T00:00:00Z", true],
    ["2026-11-21T10:00:00Z", true], // 00:00 on the 22nd in UTC+14
    ["2026-11-21T09:59:59Z", false],
    ["2026-11-23T11:59:59Z", true], // 23:59 on the 22nd in UTC-12
    ["2026-11-23T12:00:00Z", false],
  ])("%s -> %s", (iso, expected) => {
    expect(isInstantOnLocalDate("2026-11-22", Date.parse(iso))).toBe(expected);
  });
});
