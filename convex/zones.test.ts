import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { aBusiness, aManager, aZone, expectAppError, snapshotDatabase } from "./test.builders";
import { newTest } from "./test.setup";
import { normalizeZoneEntry, postalCandidates, validateBoundaries } from "./model/zones";

const pricing = { tripChargeMinor: 1_500, priceMultiplierBp: 11_000, minimumMinor: 8_000 };
const square = { outer: [{ lat: 40.7, lng: -74.02 }, { lat: 40.7, lng: -73.9 }, { lat: 40.8, lng: -73.9 }, { lat: 40.8, lng: -74.02 }] };

async function setup() {
  const t = newTest();
  const biz = await aBusiness(t);
  const manager = await aManager(t, biz.businessId);
  const create = (over: Record<string, unknown> = {}) =>
    manager.as.mutation(api.zones.create, {
      businessId: biz.businessId,
      name: "Manhattan",
      postalCodes: ["10001", "10002-1234"],
      boundaries: [],
      pricing,
      taxRateBp: 888,
      taxInclusive: false,
      ...over,
    });
  return { t, biz, manager, create };
}

describe("pure helpers", () => {
  test.each([
    ["10001", "10001"],
    [" 10002-1234 ", "10002"],
    ["sw1a1aa", "SW1A 1AA"],
    ["SW1A", "SW1A"],
    ["k1a0b1", "K1A 0B1"],
    ["100*", "100*"],
    ["1 0 0 *", "100*"],
    ["75001", "75001"],
  ])("normalizeZoneEntry(%s) = %s", (entry, expected) => {
    expect(normalizeZoneEntry(entry, "postalCodes[0]")).toBe(expected);
  });

  test.each(["", "*", "ABCDEFGHIJK*", "!!"])("normalizeZoneEntry rejects %j", (entry) => {
    expect(() => normalizeZoneEntry(entry, "postalCodes[3]")).toThrow();
  });

  test("postalCandidates: full code, area, then prefixes", () => {
    expect(postalCandidates("SW1A 1AA", "GB")).toEqual(["SW1A 1AA", "SW1A", "SW1A1AA*", "SW1A1A*", "SW1A1*", "SW1A*", "SW1*", "SW*", "S*"]);
    expect(postalCandidates("10001-0001", "US").slice(0, 2)).toEqual(["10001", "10001*"]);
  });

  test("validateBoundaries drops a closing point and rejects degenerate rings", () => {
    const closed = { outer: [...square.outer, square.outer[0]] };
    expect(validateBoundaries([closed])[0].outer).toHaveLength(4);
    expect(() => validateBoundaries([{ outer: square.outer.slice(0, 2) }])).toThrow();
    expect(() => validateBoundaries([{ outer: [{ lat: 0, lng: 0 }, { lat: 1, lng: 1 }, { lat: 2, lng: 2 }] }])).toThrow(/no area/);
  });
});

describe("zones CRUD", () => {
  test("create stores normalised postal codes one row each and emits zone.created", async () => {
    const { t, manager, create, biz } = await setup();
    const zoneId = await create();
    const { zone, postalCodes } = await manager.as.query(api.zones.get, { zoneId });
    expect(postalCodes).toEqual(["10001", "10002"]);
    expect(zone).toMatchObject({ name: "Manhattan", active: true, pricing, taxRateBp: 888 });
    const events = await t.run((ctx) => ctx.db.query("events").withIndex("by_businessId_and_type_and_createdAt", (q) => q.eq("businessId", biz.businessId).eq("type", "zone.created")).collect());
    expect(events.map((e) => e.entity)).toEqual([{ table: "zones", id: zoneId }]);
  });

  test("update replaces the postal code set", async () => {
    const { t, manager, create } = await setup();
    const zoneId = await create();
    await manager.as.mutation(api.zones.update, { zoneId, postalCodes: ["10002", "10003", "10003"], name: "Lower" });
    const { zone, postalCodes } = await manager.as.query(api.zones.get, { zoneId });
    expect(postalCodes).toEqual(["10002", "10003"]);
    expect(zone.name).toBe("Lower");
    const rows = await t.run((ctx) => ctx.db.query("zonePostalCodes").withIndex("by_zoneId", (q) => q.eq("zoneId", zoneId)).collect());
    expect(rows).toHaveLength(2);
  });

  test("a postal code belongs to one zone of a business; another business may use it", async () => {
    const { t, create } = await setup();
    await create();
    await expectAppError(create({ name: "Other", postalCodes: ["10005", "10001"] }), "CONFLICT", "postalCodes[1]");
    const other = await aBusiness(t);
    const otherManager = await aManager(t, other.businessId);
    await otherManager.as.mutation(api.zones.create, { businessId: other.businessId, name: "Theirs", postalCodes: ["10001"], boundaries: [], pricing, taxRateBp: 0, taxInclusive: false });
  });

  test.each([
    [{ postalCodes: ["nope!"] }, "postalCodes[0]"],
    [{ postalCodes: ["10001", "12345678901"] }, "postalCodes[1]"],
    [{ postalCodes: [], boundaries: [] }, "postalCodes"],
    [{ boundaries: [{ outer: [{ lat: 91, lng: 0 }, { lat: 0, lng: 1 }, { lat: 1, lng: 1 }] }] }, "boundaries[0].outer[0].lat"],
    [{ boundaries: [{ outer: [{ lat: 1, lng: 0 }, { lat: 2, lng: 0 }] }] }, "boundaries[0].outer"],
    [{ pricing: { ...pricing, tripChargeMinor: 1.5 } }, "pricing.tripChargeMinor"],
    [{ pricing: { ...pricing, priceMultiplierBp: 0 } }, "pricing.priceMultiplierBp"],
    [{ taxRateBp: 10_001 }, "taxRateBp"],
    [{ name: "" }, "name"],
  ])("create rejects %o (param %s) and writes nothing", async (over, param) => {
    const { t, create } = await setup();
    const before = await snapshotDatabase(t, ["zones", "zonePostalCodes", "events"]);
    await expectAppError(create(over), "INVALID_ARGUMENT", param);
    expect(await snapshotDatabase(t, ["zones", "zonePostalCodes", "events"])).toEqual(before);
  });

  test("a refused update leaves the postal codes untouched", async () => {
    const { t, manager, create } = await setup();
    const zoneId = await create();
    const before = await snapshotDatabase(t, ["zones", "zonePostalCodes"]);
    await expectAppError(manager.as.mutation(api.zones.update, { zoneId, postalCodes: ["10009"], taxRateBp: -1 }), "INVALID_ARGUMENT", "taxRateBp");
    expect(await snapshotDatabase(t, ["zones", "zonePostalCodes"])).toEqual(before);
  });
});

describe("zones.resolve", () => {
  test("postal code first, then polygon; inactive zones never match; null when nothing does", async () => {
    const { t, biz, manager, create } = await setup();
    const byCode = await create({ name: "By code" });
    const byShape = await create({ name: "By shape", postalCodes: [], boundaries: [square] });
    const resolve = (args: { postalCode?: string; location?: { lat: number; lng: number } }) =>
      t.query(api.zones.resolve, { businessId: biz.businessId, ...args });
    expect(await resolve({ postalCode: "10001-4444" })).toEqual({ zoneId: byCode, name: "By code" });
    // The code wins even when the point is inside the polygon.
    expect(await resolve({ postalCode: "10002", location: { lat: 40.75, lng: -73.95 } })).toEqual({ zoneId: byCode, name: "By code" });
    expect(await resolve({ postalCode: "99999", location: { lat: 40.75, lng: -73.95 } })).toEqual({ zoneId: byShape, name: "By shape" });
    expect(await resolve({ location: { lat: 41, lng: -73.95 } })).toBeNull();
    expect(await resolve({ postalCode: "99999" })).toBeNull();
    await manager.as.mutation(api.zones.setActive, { zoneId: byCode, active: false });
    expect(await resolve({ postalCode: "10001" })).toBeNull();
    const list = await t.query(api.zones.listActive, { businessId: biz.businessId });
    expect(list).toEqual([{ zoneId: byShape, name: "By shape" }]);
  });

  test("area and prefix entries match; the most specific wins", async () => {
    const { t, biz, create } = await setup();
    const area = await create({ name: "Westminster", postalCodes: ["SW1A"] });
    const exact = await create({ name: "Palace", postalCodes: ["SW1A 1AA"] });
    const prefix = await create({ name: "Paris", postalCodes: ["75*"] });
    const resolve = (postalCode: string, country?: string) => t.query(api.zones.resolve, { businessId: biz.businessId, postalCode, country });
    expect((await resolve("sw1a1aa", "GB"))?.zoneId).toBe(exact);
    expect((await resolve("SW1A 2AA", "GB"))?.zoneId).toBe(area);
    expect((await resolve("75011", "FR"))?.zoneId).toBe(prefix);
  });

  test("bad input names the param; a PENDING business is hidden from the public", async () => {
    const { t, biz } = await setup();
    await expectAppError(t.query(api.zones.resolve, { businessId: biz.businessId }), "INVALID_ARGUMENT", "postalCode");
    await expectAppError(t.query(api.zones.resolve, { businessId: biz.businessId, postalCode: "1234", country: "US" }), "INVALID_ARGUMENT", "postalCode");
    await expectAppError(t.query(api.zones.resolve, { businessId: biz.businessId, location: { lat: 0, lng: 200 } }), "INVALID_ARGUMENT", "location.lng");
    const pending = await aBusiness(t, { status: "PENDING" });
    await aZone(t, pending.businessId);
    await expectAppError(t.query(api.zones.resolve, { businessId: pending.businessId, postalCode: "10001" }), "NOT_FOUND", "businessId");
    expect((await pending.owner.as.query(api.zones.resolve, { businessId: pending.businessId, postalCode: "10001" }))?.name).toBe("Manhattan");
  });
});
