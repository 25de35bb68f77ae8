import { describe, expect, test } from "vitest";
import { aBusiness, aZone } from "../test.builders";
import { newTest } from "../test.setup";
import { emitEvent, rooms } from "./events";

describe("emitEvent", () => {
  test("writes the event and one pending push per distinct room with per-room sequence numbers", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const { zoneId } = await aZone(t, biz.businessId);
    const b = biz.businessId;
    const first = await t.run((ctx) =>
      emitEvent(ctx, {
        businessId: b,
        type: "booking.confirmed",
        entity: { table: "bookings", id: "abc" },
        data: { start: 1 },
        rooms: [rooms.businessBookings(b), rooms.availability(b, zoneId, "2030-01-02"), rooms.businessBookings(b)],
      }),
    );
    const second = await t.run((ctx) =>
      emitEvent(ctx, { businessId: b, type: "booking.cancelled", entity: { table: "bookings", id: "abc" }, data: null, rooms: [rooms.businessBookings(b)] }),
    );
    const outbox = await t.run((ctx) => ctx.db.query("outbox").collect());
    expect(outbox.map((o) => [o.eventId, o.party, o.room, o.seq, o.status, o.attempts])).toEqual([
      [first, "bookings", `biz_${b}`, 1, "pending", 0],
      [first, "availability", `biz_${b}__zone_${zoneId}__2030-01-02`, 1, "pending", 0],
      [second, "bookings", `biz_${b}`, 2, "pending", 0],
    ]);
    const event = await t.run((ctx) => ctx.db.get("events", first));
    expect(outbox[0].payload).toEqual({
      seq: 1,
      event: { id: first, type: "booking.confirmed", entity: { table: "bookings", id: "abc" }, data: { start: 1 }, createdAt: event!.createdAt },
    });
    const counters = await t.run((ctx) => ctx.db.query("outboxRooms").collect());
    expect(counters.map((c) => [c.party, c.lastSeq])).toEqual([
      ["bookings", 2],
      ["availability", 1],
    ]);
  });

  test("no rooms: the event is logged with no push", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    await t.run((ctx) => emitEvent(ctx, { businessId: biz.businessId, type: "zone.updated", entity: { table: "zones", id: "z" }, data: {}, rooms: [] }));
    expect(await t.run((ctx) => ctx.db.query("events").collect())).toHaveLength(1);
    expect(await t.run((ctx) => ctx.db.query("outbox").collect())).toHaveLength(0);
  });

  test.each<[string, { type?: string; rooms?: "bad-date" | "other" }]>([
    ["a bad type", { type: "Booking Confirmed" }],
    ["a bad date", { rooms: "bad-date" }],
    ["another business's room", { rooms: "other" }],
  ])("refuses %s before writing anything", async (_, variant) => {
    const t = newTest();
    const biz = await aBusiness(t);
    const other = await aBusiness(t);
    const roomList =
      variant.rooms === "bad-date"
        ? [rooms.dispatch(biz.businessId, "2030-02-30")]
        : variant.rooms === "other"
          ? [rooms.customers(other.businessId)]
          : [rooms.customers(biz.businessId)];
    await expect(
      t.run((ctx) =>
        emitEvent(ctx, { businessId: biz.businessId, type: variant.type ?? "customer.updated", entity: { table: "customers", id: "c" }, data: {}, rooms: roomList }),
      ),
    ).rejects.toThrow();
    expect(await t.run((ctx) => ctx.db.query("events").collect())).toHaveLength(0);
    expect(await t.run((ctx) => ctx.db.query("outboxRooms").collect())).toHaveLength(0);
  });
});
