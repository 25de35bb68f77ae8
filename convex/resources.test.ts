import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { aBusiness, aCatalogue, aManager, aProvider, aStaffMember, aZone, expectAppError, snapshotDatabase } from "./test.builders";
import { newTest } from "./test.setup";
import { validateWeeklyHours } from "./model/resourceCommands";

const base = {
  name: "Chair 1",
  kind: "chair" as const,
  capacity: 1,
  priority: 1,
  weeklyHours: [{ weekday: 1, start: "09:00", end: "17:00" }],
  bufferBeforeMinutes: 0,
  bufferAfterMinutes: 15,
  zoneIds: [],
  productIds: [],
};

async function setup() {
  const t = newTest();
  const biz = await aBusiness(t);
  const manager = await aManager(t, biz.businessId);
  return { t, biz, manager };
}

describe("weekly hours validation", () => {
  test.each([
    [[{ weekday: 7, start: "09:00", end: "10:00" }], "weeklyHours[0].weekday"],
    [[{ weekday: 1.5, start: "09:00", end: "10:00" }], "weeklyHours[0].weekday"],
    [[{ weekday: 1, start: "9:00", end: "10:00" }], "weeklyHours[0].start"],
    [[{ weekday: 1, start: "09:00", end: "25:00" }], "weeklyHours[0].end"],
    [[{ weekday: 1, start: "09:00", end: "09:00" }], "weeklyHours[0].end"],
    [[{ weekday: 1, start: "09:00", end: "12:00" }, { weekday: 1, start: "11:00", end: "13:00" }], "weeklyHours[1]"],
    [[{ weekday: 1, start: "22:00", end: "02:00" }, { weekday: 2, start: "01:00", end: "05:00" }], "weeklyHours[1]"],
    [[{ weekday: 6, start: "22:00", end: "02:00" }, { weekday: 0, start: "01:00", end: "05:00" }], "weeklyHours[1]"],
  ])("rejects %j naming %s", (hours, param) => {
    try {
      validateWeeklyHours(hours);
      throw new Error("accepted");
    } catch (error) {
      expect((error as { data?: { param?: string } }).data?.param).toBe(param);
    }
  });

  test("accepts touching ranges, a night shift and 24:00 as end of day", () => {
    const hours = [
      { weekday: 1, start: "09:00", end: "12:00" },
      { weekday: 1, start: "12:00", end: "17:00" },
      { weekday: 2, start: "22:00", end: "06:00" },
      { weekday: 3, start: "18:00", end: "24:00" },
    ];
    expect(validateWeeklyHours(hours)).toEqual(hours);
  });
});

describe("resources", () => {
  test("create, link to a staff member, update and list", async () => {
    const { t, biz, manager } = await setup();
    const { zoneId } = await aZone(t, biz.businessId);
    const cat = await aCatalogue(t, biz.businessId);
    const staff = await aStaffMember(t, biz.businessId);
    const resourceId = await manager.as.mutation(api.resources.create, {
      businessId: biz.businessId,
      ...base,
      kind: "provider",
      userId: staff.userId,
      zoneIds: [zoneId],
      productIds: [cat.productId],
    });
    expect((await t.run((ctx) => ctx.db.get("memberships", staff.membershipId)))?.resourceId).toBe(resourceId);
    expect((await staff.as.query(api.resources.mine, { businessId: biz.businessId }))?._id).toBe(resourceId);
    await manager.as.mutation(api.resources.update, { resourceId, capacity: 3, maxBookingsPerDay: 4, color: "#00aaff" });
    let r = await staff.as.query(api.resources.get, { resourceId });
    expect([r.capacity, r.maxBookingsPerDay, r.color]).toEqual([3, 4, "#00aaff"]);
    await manager.as.mutation(api.resources.update, { resourceId, maxBookingsPerDay: null, active: false });
    r = await staff.as.query(api.resources.get, { resourceId });
    expect(r.maxBookingsPerDay).toBeUndefined();
    expect(await staff.as.query(api.resources.list, { businessId: biz.businessId })).toEqual([]);
    expect(await staff.as.query(api.resources.list, { businessId: biz.businessId, includeInactive: true })).toHaveLength(1);
  });

  test("a person is one resource per business; only staff members can be linked", async () => {
    const { t, biz, manager } = await setup();
    const provider = await aProvider(t, biz.businessId);
    await expectAppError(manager.as.mutation(api.resources.create, { businessId: biz.businessId, ...base, userId: provider.userId }), "ALREADY_EXISTS", "userId");
    const outsider = await aBusiness(t);
    await expectAppError(manager.as.mutation(api.resources.create, { businessId: biz.businessId, ...base, userId: outsider.owner.userId }), "NOT_FOUND", "userId");
    const room = await manager.as.mutation(api.resources.create, { businessId: biz.businessId, ...base });
    await manager.as.mutation(api.resources.linkUser, { resourceId: provider.resourceId, userId: null });
    expect((await t.run((ctx) => ctx.db.get("memberships", provider.membershipId)))?.resourceId).toBeUndefined();
    await manager.as.mutation(api.resources.linkUser, { resourceId: room, userId: provider.userId });
    expect((await t.run((ctx) => ctx.db.get("memberships", provider.membershipId)))?.resourceId).toBe(room);
  });

  test.each([
    [{ capacity: 0 }, "capacity"],
    [{ priority: -1 }, "priority"],
    [{ bufferAfterMinutes: 1000 }, "bufferAfterMinutes"],
    [{ maxBookingsPerDay: 0 }, "maxBookingsPerDay"],
    [{ color: "blue" }, "color"],
    [{ weeklyHours: [{ weekday: 9, start: "09:00", end: "10:00" }] }, "weeklyHours[0].weekday"],
  ])("create rejects %o naming %s; nothing written", async (over, param) => {
    const { t, biz, manager } = await setup();
    const before = await snapshotDatabase(t, ["resources", "memberships"]);
    await expectAppError(manager.as.mutation(api.resources.create, { businessId: biz.businessId, ...base, ...over }), "INVALID_ARGUMENT", param);
    expect(await snapshotDatabase(t, ["resources", "memberships"])).toEqual(before);
  });

  test("date overrides upsert by resource and date", async () => {
    const { t, biz, manager } = await setup();
    const { resourceId } = await aProvider(t, biz.businessId);
    const first = await manager.as.mutation(api.resources.setDateOverride, { resourceId, date: "2030-03-10", closed: false, hours: [{ start: "10:00", end: "14:00" }] });
    const second = await manager.as.mutation(api.resources.setDateOverride, { resourceId, date: "2030-03-10", closed: true, hours: [] });
    expect(second).toBe(first);
    await manager.as.mutation(api.resources.setDateOverride, { resourceId, date: "2030-03-12", closed: false, hours: [{ start: "08:00", end: "09:00" }, { start: "13:00", end: "18:00" }] });
    expect(await manager.as.query(api.resources.dateOverrides, { resourceId, from: "2030-03-01", to: "2030-03-11" })).toEqual([{ date: "2030-03-10", closed: true, hours: [] }]);
    await expectAppError(manager.as.mutation(api.resources.setDateOverride, { resourceId, date: "2030-02-30", closed: true, hours: [] }), "INVALID_ARGUMENT", "date");
    await expectAppError(manager.as.mutation(api.resources.setDateOverride, { resourceId, date: "2030-03-11", closed: true, hours: [{ start: "10:00", end: "11:00" }] }), "INVALID_ARGUMENT", "hours");
    await expectAppError(manager.as.mutation(api.resources.setDateOverride, { resourceId, date: "2030-03-11", closed: false, hours: [] }), "INVALID_ARGUMENT", "hours");
    expect(await manager.as.mutation(api.resources.removeDateOverride, { resourceId, date: "2030-03-10" })).toBe(true);
    expect(await manager.as.mutation(api.resources.removeDateOverride, { resourceId, date: "2030-03-10" })).toBe(false);
  });

  test("time off: instant ranges, validated, listed by overlap", async () => {
    const { t, biz } = await setup();
    const provider = await aProvider(t, biz.businessId);
    const day = (d: number) => Date.UTC(2030, 5, d);
    const a = await provider.as.mutation(api.resources.addTimeOff, { resourceId: provider.resourceId, start: day(1), end: day(3), reason: "Trip" });
    await provider.as.mutation(api.resources.addTimeOff, { resourceId: provider.resourceId, start: day(10), end: day(11) });
    await expectAppError(provider.as.mutation(api.resources.addTimeOff, { resourceId: provider.resourceId, start: day(5), end: day(5) }), "INVALID_ARGUMENT", "end");
    await expectAppError(provider.as.mutation(api.resources.addTimeOff, { resourceId: provider.resourceId, start: 12, end: day(5) }), "INVALID_ARGUMENT", "start");
    const listed = await provider.as.query(api.resources.timeOff, { resourceId: provider.resourceId, from: day(2), to: day(5) });
    expect(listed).toEqual([{ _id: a, start: day(1), end: day(3), reason: "Trip" }]);
  });
});
