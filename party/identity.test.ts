import { describe, expect, it } from "vitest";
import { authorizeRoom, identityFromClaims, type Identity } from "./identity";
import { parseRoomId } from "./rooms";

const owner: Identity = { userId: "u1", role: "owner", businessId: "b1" };
const staff: Identity = { userId: "u2", role: "staff", businessId: "b1", resourceId: "r1" };
const customer: Identity = { userId: "u3", role: "customer", businessId: "b1", customerId: "c1" };
const admin: Identity = { userId: "u4", role: "platform_admin" };

describe("identity claims", () => {
  it("reads the custom claims", () => {
    expect(identityFromClaims({ sub: "u3", role: "customer", businessId: "b1", customerId: "c1", iat: 1 })).toEqual({
      ok: true,
      identity: customer,
    });
    expect(identityFromClaims({ sub: "u4", role: "platform_admin" })).toEqual({ ok: true, identity: admin });
  });

  it.each([
    [{ role: "owner", businessId: "b1" }, /sub/],
    [{ sub: "u", role: "king", businessId: "b1" }, /role/],
    [{ sub: "u", role: "owner" }, /role owner requires a businessId/],
    [{ sub: "u", role: "customer", businessId: "b1" }, /requires a customerId/],
    [{ sub: "u", role: "owner", businessId: "b 1" }, /businessId/],
  ])("refuses %o", (claims, message) => {
    const result = identityFromClaims(claims);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.message).toMatch(message);
  });
});

describe("room access", () => {
  const room = (party: Parameters<typeof parseRoomId>[0], id: string) => parseRoomId(party, id);

  it("lets anyone watch availability", () => {
    expect(authorizeRoom(customer, room("availability", "biz_b9__zone_z__2026-11-22")).ok).toBe(true);
  });

  it("keeps people out of other businesses' rooms", () => {
    for (const party of ["dispatch", "bookings", "invoices", "customers"] as const) {
      const id = party === "dispatch" ? "biz_b2__2026-11-22" : "biz_b2";
      expect(authorizeRoom(owner, room(party, id))).toMatchObject({ ok: false, message: /business b2/ });
    }
  });

  it("admits staff by role", () => {
    expect(authorizeRoom(staff, room("dispatch", "biz_b1__2026-11-22")).ok).toBe(true);
    expect(authorizeRoom(staff, room("bookings", "biz_b1")).ok).toBe(true);
    expect(authorizeRoom(staff, room("bookings", "biz_b1__cust_c1")).ok).toBe(true);
    expect(authorizeRoom(staff, room("customers", "biz_b1")).ok).toBe(true);
    expect(authorizeRoom(staff, room("invoices", "biz_b1"))).toMatchObject({ ok: false, message: /role staff/ });
    expect(authorizeRoom(owner, room("invoices", "biz_b1")).ok).toBe(true);
  });

  it("lets a customer watch only their own bookings", () => {
    expect(authorizeRoom(customer, room("bookings", "biz_b1__cust_c1")).ok).toBe(true);
    expect(authorizeRoom(customer, room("bookings", "biz_b1__cust_c2")).ok).toBe(false);
    expect(authorizeRoom(customer, room("bookings", "biz_b1")).ok).toBe(false);
    expect(authorizeRoom(customer, room("dispatch", "biz_b1__2026-11-22")).ok).toBe(false);
    expect(authorizeRoom(customer, room("invoices", "biz_b1")).ok).toBe(false);
  });

  it("lets platform admins watch any business", () => {
    expect(authorizeRoom(admin, room("invoices", "biz_b7")).ok).toBe(true);
  });
});
