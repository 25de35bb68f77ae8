import { describe, expect, it } from "vitest";
import { buildRoomId, isValidLocalDate, parseRoomId, RoomIdError, roomIds, roomPath, tryParseRoomId, type RoomKey } from "./rooms";

describe("room ids", () => {
  const keys: [RoomKey, string][] = [
    [{ party: "availability", businessId: "b1", zoneId: "z9", date: "2026-11-22" }, "biz_b1__zone_z9__2026-11-22"],
    [{ party: "dispatch", businessId: "jd7abc", date: "2026-03-29" }, "biz_jd7abc__2026-03-29"],
    [{ party: "bookings", businessId: "b1" }, "biz_b1"],
    [{ party: "bookings", businessId: "b1", customerId: "c_2" }, "biz_b1__cust_c_2"],
    [{ party: "invoices", businessId: "b-1" }, "biz_b-1"],
    [{ party: "customers", businessId: "B1" }, "biz_B1"],
  ];

  it.each(keys)("builds and parses %o as %s", (key, id) => {
    expect(buildRoomId(key)).toBe(id);
    expect(parseRoomId(key.party, id)).toEqual(key);
  });

  it("has named builders for each room", () => {
    expect(roomIds.availability("b", "z", "2026-11-22")).toBe("biz_b__zone_z__2026-11-22");
    expect(roomIds.dispatch("b", "2026-11-22")).toBe("biz_b__2026-11-22");
    expect(roomIds.businessBookings("b")).toBe("biz_b");
    expect(roomIds.customerBookings("b", "c")).toBe("biz_b__cust_c");
    expect(roomIds.invoices("b")).toBe("biz_b");
    expect(roomIds.customers("b")).toBe("biz_b");
  });

  it.each([
    ["a__b", "double underscore"],
    ["", "empty"],
    ["_a", "leading separator"],
    ["a-", "trailing separator"],
    ["a b", "space"],
    ["a/b", "slash"],
    ["x".repeat(65), "too long"],
  ])("refuses the business id %j (%s)", (businessId) => {
    expect(() => roomIds.businessBookings(businessId)).toThrow(RoomIdError);
  });

  it.each(["2026-02-29", "2026-13-01", "2026-00-10", "2026-04-31", "26-01-01", "2026-1-01"])(
    "refuses the date %s",
    (date) => {
      expect(isValidLocalDate(date)).toBe(false);
      expect(() => roomIds.dispatch("b", date)).toThrow(/not a calendar date/);
    },
  );

  it("accepts leap days", () => {
    expect(isValidLocalDate("2028-02-29")).toBe(true);
  });

  it.each<[Parameters<typeof parseRoomId>[0], string, RegExp]>([
    ["availability", "biz_b__2026-11-22", /does not follow the availability scheme/],
    ["availability", "biz_b__zone_z__2026-11-22__x", /does not follow/],
    ["availability", "biz_b__zz_z__2026-11-22", /zone_<zoneId>/],
    ["dispatch", "biz_b", /does not follow the dispatch scheme/],
    ["dispatch", "biz_b__2026-11-31", /not a calendar date/],
    ["bookings", "biz_b__zone_z", /cust_<customerId>/],
    ["bookings", "business_b", /biz_<businessId>/],
    ["invoices", "biz_b__cust_c", /does not follow the invoices scheme/],
    ["customers", "biz_", /not a valid id/],
  ])("refuses %s room %s", (party, id, message) => {
    expect(() => parseRoomId(party, id)).toThrow(message);
    const result = tryParseRoomId(party, id);
    expect(result.ok).toBe(false);
  });

  it("gives the path pushes and sockets use", () => {
    expect(roomPath("bookings", "biz_b__cust_c")).toBe("/parties/bookings/biz_b__cust_c");
  });
});
