import { describe, expect, it } from "vitest";
import {
  MAX_CLIENT_MESSAGE_BYTES,
  MAX_PUSH_BATCH,
  parsePushBody,
  parseClientMessage,
  parsePush,
  parseServerMessage,
  pushRoomMismatch,
  type Push,
} from "./messages";
import { parseRoomId } from "./rooms";

const slotsChanged = {
  type: "slots.changed",
  businessId: "b1",
  zoneId: "z1",
  date: "2026-11-22",
  resourceIds: ["r1"],
  reason: "booking_created",
};

function availabilityPush(overrides: Record<string, unknown> = {}) {
  return {
    party: "availability",
    room: "biz_b1__zone_z1__2026-11-22",
    seq: 1,
    eventId: "evt_1",
    occurredAt: 1_790_000_000_000,
    event: slotsChanged,
    ...overrides,
  };
}

const booking = {
  bookingId: "bk1",
  status: "CONFIRMED",
  startsAt: 1_790_000_000_000,
  endsAt: 1_790_003_600_000,
  zoneId: "z1",
  customerId: "c1",
  resourceIds: ["r1"],
  customerName: "Ada",
};

describe("push envelopes", () => {
  it("accepts a valid availability push", () => {
    const parsed = parsePush("availability", JSON.stringify(availabilityPush()));
    expect(parsed).toMatchObject({ ok: true, value: { seq: 1, event: { type: "slots.changed" } } });
  });

  it("refuses personal data on the public availability party", () => {
    const parsed = parsePush(
      "availability",
      JSON.stringify(availabilityPush({ event: { ...slotsChanged, customerName: "Ada" } })),
    );
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.issues?.[0]).toMatchObject({ path: "event", message: expect.stringMatching(/customerName/) });
  });

  it.each([
    [{ seq: 0 }, "seq"],
    [{ seq: 1.5 }, "seq"],
    [{ seq: "1" }, "seq"],
    [{ party: "dispatch" }, "party"],
    [{ eventId: "" }, "eventId"],
    [{ occurredAt: -1 }, "occurredAt"],
    [{ event: { ...slotsChanged, date: "2026-02-30" } }, "event.date"],
    [{ event: { ...slotsChanged, reason: "because" } }, "event.reason"],
    [{ event: { ...slotsChanged, type: "slots.exploded" } }, "event.type"],
  ])("refuses %o naming %s", (overrides, path) => {
    const parsed = parsePush("availability", JSON.stringify(availabilityPush(overrides)));
    expect(parsed.ok).toBe(false);
    if (!parsed.ok) expect(parsed.error.issues?.map((i) => i.path)).toContain(path);
  });

  it("refuses a body that is not JSON", () => {
    expect(parsePush("bookings", "{nope")).toMatchObject({ ok: false, error: { message: "push body is not valid JSON" } });
  });

  it("accepts every dispatch, bookings, invoices and customers event", () => {
    const envelope = { seq: 3, eventId: "e", occurredAt: 1 };
    const cases: [Parameters<typeof parsePush>[0], object][] = [
      ["dispatch", { type: "booking.upserted", businessId: "b1", date: "2026-11-22", booking }],
      ["dispatch", { type: "booking.status_changed", businessId: "b1", date: "2026-11-22", bookingId: "bk1", from: "CONFIRMED", to: "EN_ROUTE", changedAt: 5 }],
      ["dispatch", { type: "booking.assigned", businessId: "b1", date: "2026-11-22", bookingId: "bk1", resourceIds: ["r2"], previousResourceIds: [] }],
      ["dispatch", { type: "booking.removed", businessId: "b1", date: "2026-11-22", bookingId: "bk1" }],
      ["bookings", { type: "booking.upserted", businessId: "b1", booking }],
      ["bookings", { type: "booking.rescheduled", businessId: "b1", customerId: "c1", bookingId: "bk1", startsAt: 2, endsAt: 3, previousStartsAt: 0, previousEndsAt: 1 }],
      ["invoices", { type: "invoice.upserted", businessId: "b1", invoice: { invoiceId: "i1", bookingId: "bk1", customerId: "c1", status: "PAID", currency: "EUR", totalMinor: 12_000, amountPaidMinor: 12_000, amountRefundedMinor: 0 } }],
      ["invoices", { type: "payment.status_changed", businessId: "b1", invoiceId: "i1", paymentId: "p1", status: "SUCCEEDED", amountMinor: 100, currency: "USD" }],
      ["customers", { type: "customer.changed", businessId: "b1", customerId: "c1", aspects: ["notes"] }],
    ];
    for (const [party, event] of cases) {
      const parsed = parsePush(party, JSON.stringify({ party, room: "r", ...envelope, event }));
      expect(parsed, JSON.stringify(event)).toMatchObject({ ok: true });
    }
  });

  it("refuses money that is not integer minor units", () => {
    const event = { type: "payment.status_changed", businessId: "b1", invoiceId: "i1", paymentId: "p1", status: "SUCCEEDED", amountMinor: 10.5, currency: "EUR" };
    expect(parsePush("invoices", JSON.stringify({ party: "invoices", room: "r", seq: 1, eventId: "e", occurredAt: 1, event })).ok).toBe(false);
  });
});

describe("push batches", () => {
  const item = (seq: number) => ({ seq, eventId: `e${seq}`, occurredAt: 1, event: slotsChanged });
  const batch = (events: unknown[]) =>
    JSON.stringify({ party: "availability", room: "biz_b1__zone_z1__2026-11-22", events });

  it("normalises a single push and a batch to the same items", () => {
    expect(parsePushBody("availability", JSON.stringify(availabilityPush({ seq: 4 })))).toMatchObject({
      ok: true,
      value: { kind: "single", room: "biz_b1__zone_z1__2026-11-22", items: [{ seq: 4, eventId: "evt_1" }] },
    });
    expect(parsePushBody("availability", batch([item(1), item(2), item(5)]))).toMatchObject({
      ok: true,
      value: { kind: "batch", items: [{ seq: 1 }, { seq: 2 }, { seq: 5 }] },
    });
  });

  it.each([
    ["empty", []],
    ["out of order", [item(2), item(1)]],
    ["repeated seq", [item(2), item(2)]],
    ["too many", Array.from({ length: MAX_PUSH_BATCH + 1 }, (_, i) => item(i + 1))],
    ["an invalid event", [item(1), { ...item(2), event: { ...slotsChanged, zoneId: "" } }]],
  ])("refuses a batch that is %s", (_label, events) => {
    const parsed = parsePushBody("availability", batch(events));
    expect(parsed).toMatchObject({ ok: false, error: { code: "invalid_message", message: /push batch failed validation/ } });
  });
});

describe("push scoping", () => {
  function push(party: Push["party"], event: object): Push {
    const parsed = parsePush(party, JSON.stringify({ party, room: "r", seq: 1, eventId: "e", occurredAt: 1, event }));
    if (!parsed.ok) throw new Error(parsed.error.message);
    return parsed.value;
  }

  it("matches an availability event to its business, zone and date", () => {
    const key = parseRoomId("availability", "biz_b1__zone_z1__2026-11-22");
    expect(pushRoomMismatch(key, push("availability", slotsChanged))).toBeNull();
    expect(pushRoomMismatch(key, push("availability", { ...slotsChanged, zoneId: "z2" }))).toMatch(/zoneId "z2".*"z1"/);
    expect(pushRoomMismatch(key, push("availability", { ...slotsChanged, date: "2026-11-23" }))).toMatch(/date/);
    expect(pushRoomMismatch(key, push("availability", { ...slotsChanged, businessId: "b2" }))).toMatch(/businessId/);
  });

  it("keeps another customer's booking out of a customer's room", () => {
    const mine = parseRoomId("bookings", "biz_b1__cust_c1");
    const business = parseRoomId("bookings", "biz_b1");
    const upserted = push("bookings", { type: "booking.upserted", businessId: "b1", booking: { ...booking, customerId: "c2" } });
    expect(pushRoomMismatch(mine, upserted)).toMatch(/customerId "c2"/);
    expect(pushRoomMismatch(business, upserted)).toBeNull();
    const status = push("bookings", { type: "booking.status_changed", businessId: "b1", customerId: "c1", bookingId: "bk1", from: "CONFIRMED", to: "CANCELLED", changedAt: 1 });
    expect(pushRoomMismatch(mine, status)).toBeNull();
  });

  it("matches dispatch events to the board's date", () => {
    const key = parseRoomId("dispatch", "biz_b1__2026-11-22");
    const removed = { type: "booking.removed", businessId: "b1", bookingId: "bk1" };
    expect(pushRoomMismatch(key, push("dispatch", { ...removed, date: "2026-11-22" }))).toBeNull();
    expect(pushRoomMismatch(key, push("dispatch", { ...removed, date: "2026-11-21" }))).toMatch(/date/);
  });

  it("refuses a push for another party", () => {
    const key = parseRoomId("invoices", "biz_b1");
    expect(pushRoomMismatch(key, push("customers", { type: "customer.changed", businessId: "b1", customerId: "c1", aspects: ["profile"] }))).toMatch(/party customers/);
  });
});

describe("client messages", () => {
  it("accepts hold pings and releases", () => {
    expect(parseClientMessage("availability", JSON.stringify({ type: "hold.ping", startsAt: 1_790_000_000_000 }))).toMatchObject({ ok: true });
    expect(parseClientMessage("availability", JSON.stringify({ type: "hold.release", startsAt: 1, resourceId: "r1" }))).toMatchObject({ ok: true });
  });

  it.each([
    ["not json", "{", /not valid JSON/],
    ["unknown type", JSON.stringify({ type: "hold.grab", startsAt: 1 }), /failed validation at type/],
    ["extra field", JSON.stringify({ type: "hold.ping", startsAt: 1, name: "Ada" }), /failed validation/],
    ["bad resource id", JSON.stringify({ type: "hold.ping", startsAt: 1, resourceId: "a b" }), /resourceId/],
  ])("refuses %s", (_label, raw, message) => {
    const parsed = parseClientMessage("availability", raw);
    expect(parsed).toMatchObject({ ok: false, error: { type: "error", code: "invalid_message", message: expect.stringMatching(message) } });
  });

  it("refuses oversized and binary messages", () => {
    const big = JSON.stringify({ type: "hold.ping", startsAt: 1, pad: "x".repeat(MAX_CLIENT_MESSAGE_BYTES) });
    expect(parseClientMessage("availability", big)).toMatchObject({ ok: false, error: { message: /exceeds/ } });
    expect(parseClientMessage("availability", new Uint8Array([1, 2]))).toMatchObject({ ok: false, error: { message: /binary/ } });
  });

  it("validates provider pings", () => {
    const ping = { type: "provider.ping", resourceId: "r1", status: "EN_ROUTE", lat: 52.5, lng: 13.4 };
    expect(parseClientMessage("dispatch", JSON.stringify(ping)).ok).toBe(true);
    expect(parseClientMessage("dispatch", JSON.stringify({ ...ping, lat: 91 })).ok).toBe(false);
    expect(parseClientMessage("dispatch", JSON.stringify({ ...ping, status: "LOST" })).ok).toBe(false);
  });

  it("says read-only parties accept no client messages", () => {
    for (const party of ["bookings", "invoices", "customers"] as const) {
      expect(parseClientMessage(party, JSON.stringify({ type: "presence.heartbeat" }))).toMatchObject({
        ok: false,
        error: { code: "unsupported_message" },
      });
    }
  });
});

describe("server messages", () => {
  it("parses what rooms send", () => {
    expect(parseServerMessage("availability", JSON.stringify({ type: "holds", holds: [{ startsAt: 5, resourceId: null, count: 2 }] })).ok).toBe(true);
    expect(parseServerMessage("dispatch", JSON.stringify({ type: "presence.left", userId: "u1" })).ok).toBe(true);
    expect(parseServerMessage("bookings", JSON.stringify({ type: "welcome", room: "biz_b", seq: 0, serverTime: 1 })).ok).toBe(true);
    expect(parseServerMessage("bookings", JSON.stringify({ type: "holds", holds: [] })).ok).toBe(false);
  });
});
