import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { patchGrid, slotsFromGrid } from "../domain/slotGrid";
import { addDays } from "../domain/time";
import type { Id } from "./_generated/dataModel";
import { api, internal } from "./_generated/api";
import { changedResources } from "./realtime";
import type { OutboxPayload } from "./model/events";
import { roomIds } from "../party/rooms";
import { aProvider, aZone } from "./test.builders";
import { newTest } from "./test.setup";
import { TUESDAY, at, bookingScenario, expectCode, freezeClock, type Scenario } from "./bookings.testkit";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

type T = ReturnType<typeof newTest>;
type Cart = Scenario["cart"];

/** The cart's slots read from the grid must be exactly the ones availability.slots answers. */
async function expectGridAgrees(t: T, s: Scenario, cart: Cart, zoneId = s.zoneId) {
  const grid = await t.query(api.availabilityGrid.day, { businessId: s.businessId, zoneId, date: TUESDAY });
  const direct = await t.query(api.availability.slots, { businessId: s.businessId, zoneId, cart, from: TUESDAY, to: TUESDAY });
  const fromGrid = slotsFromGrid(grid, { durationMinutes: direct.durationMinutes, productIds: cart.map((l) => l.productId) }, Date.now());
  expect(fromGrid.map((x) => [x.start, x.end, x.arrivalWindowEnd])).toEqual(direct.slots.map((x) => [x.start, x.end, x.arrivalWindowEnd]));
  return { grid, direct };
}

describe("availabilityGrid", () => {
  test("the grid gives every cart the slots availability.slots gives it, before and after a booking", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const otherZone = await aZone(t, s.businessId, { name: "Queens", postalCodes: ["11101"] });
    await aProvider(t, s.businessId, { name: "Zoe", zoneIds: [otherZone.zoneId] });
    const bigger = [{ productId: s.catalogue.productId, quantity: 3, extras: [{ extraId: s.catalogue.extraId, quantity: 1 }] }];
    const { grid } = await expectGridAgrees(t, s, s.cart);
    expect(grid.resources).toHaveLength(1); // Zoe serves Queens only
    expect(Object.keys(grid.resources[0]).sort()).toEqual(["id", "productIds", "spans"]); // no names
    await expectGridAgrees(t, s, bigger);
    await expectGridAgrees(t, s, s.cart, otherZone.zoneId);

    await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "10:00") });
    const { direct } = await expectGridAgrees(t, s, s.cart);
    expect(direct.slots.some((x) => x.start === at(TUESDAY, "10:00"))).toBe(false);
    await expectGridAgrees(t, s, bigger);
  });

  test("the room's grid (what a push carries) is the public one; unknown rooms have none; bad dates are refused", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const room = roomIds.availability(s.businessId, s.zoneId, TUESDAY);
    const pushed = await t.query(internal.availabilityGrid.forRoom, { room });
    const read = await t.query(api.availabilityGrid.day, { businessId: s.businessId, zoneId: s.zoneId, date: TUESDAY });
    expect(pushed).toEqual(read);
    expect(await t.query(internal.availabilityGrid.forRoom, { room: roomIds.availability("nope", s.zoneId, TUESDAY) })).toBeNull();
    await expectCode(t.query(api.availabilityGrid.day, { businessId: s.businessId, zoneId: s.zoneId, date: "2026-02-30" }), "INVALID_ARGUMENT");
  });

  test("a schedule change queues a push to the availability rooms it touches", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const before = await t.run(async (ctx) => (await ctx.db.query("outbox").collect()).filter((r) => r.party === "availability").length);
    await s.owner.as.mutation(api.resources.setDateOverride, { resourceId: s.provider.resourceId, date: TUESDAY, closed: true, hours: [] });
    const rows = await t.run(async (ctx) => (await ctx.db.query("outbox").collect()).filter((r) => r.party === "availability"));
    expect(rows.length).toBeGreaterThan(before);
    expect(rows.map((r) => r.room)).toContain(roomIds.availability(s.businessId, s.zoneId, TUESDAY));
    const grid = await t.query(api.availabilityGrid.day, { businessId: s.businessId, zoneId: s.zoneId, date: TUESDAY });
    expect(grid.resources.every((r) => r.spans.every((span) => span === 0))).toBe(true);
  });
});

describe("availability rooms told of a booking", () => {
  test("every zone its provider serves, not only the booking's", async () => {
    const t = newTest();
    const s = await bookingScenario(t); // Pat serves every zone
    const queens = await aZone(t, s.businessId, { name: "Queens", postalCodes: ["11101"] });
    await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "10:00") });
    const rooms = await t.run(async (ctx) => (await ctx.db.query("outbox").collect()).filter((r) => r.party === "availability").map((r) => r.room));
    expect(rooms).toEqual(expect.arrayContaining([roomIds.availability(s.businessId, s.zoneId, TUESDAY), roomIds.availability(s.businessId, queens.zoneId, TUESDAY)]));
  });
});

describe("a booking's push carries only its providers' rows", () => {
  test("the room's grid with the pushed rows put in is the whole grid read after the booking", async () => {
    const t = newTest();
    const s = await bookingScenario(t); // Pat serves every zone
    const other = await aProvider(t, s.businessId, { name: "Zoe", zoneIds: [s.zoneId] });
    const room = roomIds.availability(s.businessId, s.zoneId, TUESDAY);
    const before = (await t.query(internal.availabilityGrid.forRoom, { room }))!;
    expect(before.resources.map((r) => r.id).sort()).toEqual([s.provider.resourceId, other.resourceId].sort());
    const seen = await t.run(async (ctx) => (await ctx.db.query("outbox").collect()).length);

    await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, "10:00") });
    const rows = await t.run(async (ctx) => (await ctx.db.query("outbox").collect()).slice(seen).filter((r) => r.room === room));
    const changed = changedResources(rows.map((r) => ({ payload: r.payload as OutboxPayload })));
    expect(changed).toHaveLength(1); // the provider the hold took
    const patch = (await t.query(internal.availabilityGrid.forRoom, { room, resourceIds: changed! }))!;
    expect(patch.resources.map((r) => r.id)).toEqual(changed);
    const after = (await t.query(internal.availabilityGrid.forRoom, { room }))!;
    const patched = patchGrid(before, patch)!;
    expect(patched.grid).toEqual(after);
    expect(patched.changes.length).toBeGreaterThan(0);
    expect(patched.changes.every(([ri]) => before.resources[ri].id === changed![0])).toBe(true);
    // A provider who does not serve the room's zone has no row there.
    const elsewhere = await aProvider(t, s.businessId, { name: "Ann", zoneIds: [(await aZone(t, s.businessId, { name: "Queens", postalCodes: ["11101"] })).zoneId] });
    expect((await t.query(internal.availabilityGrid.forRoom, { room, resourceIds: [elsewhere.resourceId] }))!.resources).toEqual([]);
  });

  test("a schedule change, or a change naming no provider, needs the whole grid", () => {
    const row = (data: Record<string, unknown>) => ({ payload: { seq: 1, event: { data } } as unknown as OutboxPayload });
    const slots = (reason: string, resourceIds: string[]) => row({ type: "slots.changed", reason, resourceIds });
    expect(changedResources([slots("booking_created", ["b", "a"]), slots("booking_cancelled", ["a", "c"])])).toEqual(["a", "b", "c"]);
    expect(changedResources([slots("booking_created", ["a"]), slots("schedule_changed", ["a"])])).toBeNull();
    expect(changedResources([slots("hold_created", [])])).toBeNull();
  });
});

describe("availabilityGrid on the demo data", () => {
  test("every zone, service and day of the demo business: the grid's slots and counts are availability.slots'", async () => {
    vi.setSystemTime(at(TUESDAY, "13:10"));
    const t = newTest();
    const summary = await t.action(internal.seed.demo, {});
    const businessId = summary.businessId as Id<"businesses">;
    const zones = await t.run((ctx) => ctx.db.query("zones").collect());
    const catalogue = await t.query(api.catalogue.forBusiness, { businessId });
    const products = catalogue.industries.flatMap((i) => i.categories.flatMap((c) => c.products));
    for (const zone of zones) {
      for (const p of products.slice(0, 3)) {
        const cart = [{ productId: p._id, quantity: Math.max(p.quantity.min, p.quantity.included), extras: [] }];
        for (let d = 0; d < 3; d++) {
          const date = addDays(TUESDAY, d);
          const grid = await t.query(api.availabilityGrid.day, { businessId, zoneId: zone._id, date });
          const direct = await t.query(api.availability.slots, { businessId, zoneId: zone._id, cart, from: date, to: date });
          const fromGrid = slotsFromGrid(grid, { durationMinutes: direct.durationMinutes, productIds: [p._id] }, Date.now());
          expect(fromGrid.map((x) => [x.start, x.resources]), `${zone.name} ${p.name} ${date}`).toEqual(direct.slots.map((x) => [x.start, x.remainingCapacity]));
        }
      }
    }
  });
});
