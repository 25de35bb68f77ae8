import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { aBusiness, aCustomer, aManager, aPlatformAdmin, aStaffMember, aUser, expectAppError } from "./test.builders";
import { newTest } from "./test.setup";
import { DEFAULT_POLICIES } from "./businesses";

const expectCode = expectAppError;

const newBusiness = { name: "Sparkle & Shine", type: "home_services" as const, timeZone: "Europe/Paris", currency: "EUR" };

describe("businesses.create", () => {
  test("creates a PENDING business with the owner membership and default policies", async () => {
    const t = newTest();
    const owner = await aUser(t);
    const businessId = await owner.as.mutation(api.businesses.create, newBusiness);
    const settings = await owner.as.query(api.businesses.settings, { businessId });
    expect(settings.status).toBe("PENDING");
    expect(settings.slug).toBe("sparkle-shine");
    expect(settings.policies).toEqual(DEFAULT_POLICIES);
    expect(settings.ownerId).toBe(owner.userId);
    const mine = await owner.as.query(api.businesses.mine, {});
    expect(mine).toHaveLength(1);
    expect(mine[0].role).toBe("owner");
  });

  test("one business per owner", async () => {
    const t = newTest();
    const owner = await aUser(t);
    await owner.as.mutation(api.businesses.create, newBusiness);
    await expectCode(owner.as.mutation(api.businesses.create, { ...newBusiness, name: "Second" }), "ALREADY_EXISTS");
    const count = await t.run(async (ctx) => (await ctx.db.query("businesses").collect()).length);
    expect(count).toBe(1);
  });

  test("a second business with the same name gets a distinct slug; an explicit taken slug is refused", async () => {
    const t = newTest();
    const a = await aUser(t);
    const b = await aUser(t);
    const c = await aUser(t);
    await a.as.mutation(api.businesses.create, newBusiness);
    const second = await b.as.mutation(api.businesses.create, newBusiness);
    expect((await b.as.query(api.businesses.settings, { businessId: second })).slug).toBe("sparkle-shine-2");
    await expectCode(c.as.mutation(api.businesses.create, { ...newBusiness, slug: "sparkle-shine" }), "ALREADY_EXISTS", "slug");
  });

  test.each([
    [{ timeZone: "Mars/Olympus" }, "timeZone"],
    [{ currency: "usd" }, "currency"],
    [{ currency: "XYZ" }, "currency"],
    [{ name: "   " }, "name"],
    [{ slug: "Bad Slug!" }, "slug"],
    [{ locale: "not a locale" }, "locale"],
    [{ policies: { ...DEFAULT_POLICIES, booking: { ...DEFAULT_POLICIES.booking, slotStepMinutes: 7 } } }, "policies.booking.slotStepMinutes"],
    [{ policies: { ...DEFAULT_POLICIES, cancellation: { ...DEFAULT_POLICIES.cancellation, lateFeePercentBp: 10_001 } } }, "policies.cancellation.lateFeePercentBp"],
    [{ policies: { ...DEFAULT_POLICIES, booking: { ...DEFAULT_POLICIES.booking, depositBp: 0.5 } } }, "policies.booking.depositBp"],
  ])("rejects %o naming %s, writing nothing", async (patch, param) => {
    const t = newTest();
    const owner = await aUser(t);
    await expectCode(owner.as.mutation(api.businesses.create, { ...newBusiness, ...patch }), "INVALID_ARGUMENT", param);
    const counts = await t.run(async (ctx) => [
      (await ctx.db.query("businesses").collect()).length,
      (await ctx.db.query("memberships").collect()).length,
    ]);
    expect(counts).toEqual([0, 0]);
  });

  test("anonymous and not-yet-stored users cannot create", async () => {
    const t = newTest();
    await expectCode(t.mutation(api.businesses.create, newBusiness), "UNAUTHENTICATED");
    await expectCode(
      t.withIdentity({ subject: "x", issuer: "https://auth.test", tokenIdentifier: "https://auth.test|x" }).mutation(api.businesses.create, newBusiness),
      "UNAUTHENTICATED",
    );
  });
});

describe("public profile", () => {
  test("get / getBySlug show ACTIVE businesses to anyone, without private data", async () => {
    const t = newTest();
    const biz = await aBusiness(t, { slug: "shiny" });
    const profile = await t.query(api.businesses.get, { businessId: biz.businessId });
    expect(profile).toMatchObject({ name: "Sparkle Cleaning", slug: "shiny", currency: "USD", timeZone: "America/New_York" });
    expect(Object.keys(profile!).sort()).toEqual(["_id", "currency", "locale", "name", "policies", "slug", "timeZone", "type"]);
    expect(await t.query(api.businesses.getBySlug, { slug: "SHINY" })).toEqual(profile);
    expect(await t.query(api.businesses.getBySlug, { slug: "nope" })).toBeNull();
  });

  test("non-ACTIVE businesses are hidden from the public but visible to staff and admins", async () => {
    const t = newTest();
    for (const status of ["PENDING", "SUSPENDED", "INACTIVE"] as const) {
      const biz = await aBusiness(t, { status });
      const stranger = await aUser(t);
      const customer = await aCustomer(t, biz.businessId);
      const admin = await aPlatformAdmin(t);
      expect(await t.query(api.businesses.get, { businessId: biz.businessId })).toBeNull();
      expect(await stranger.as.query(api.businesses.get, { businessId: biz.businessId })).toBeNull();
      expect(await customer.as.query(api.businesses.get, { businessId: biz.businessId })).toBeNull();
      expect(await biz.owner.as.query(api.businesses.get, { businessId: biz.businessId })).not.toBeNull();
      expect(await admin.as.query(api.businesses.get, { businessId: biz.businessId })).not.toBeNull();
    }
    const deleted = await aBusiness(t, { status: "DELETED" });
    expect(await deleted.owner.as.query(api.businesses.get, { businessId: deleted.businessId })).toBeNull();
  });
});

describe("settings and policies", () => {
  test("owner updates settings and policies; manager cannot; bad values change nothing", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const manager = await aManager(t, biz.businessId);
    await biz.owner.as.mutation(api.businesses.updateSettings, { businessId: biz.businessId, name: "New name", timeZone: "Europe/London", currency: "GBP" });
    let s = await biz.owner.as.query(api.businesses.settings, { businessId: biz.businessId });
    expect([s.name, s.timeZone, s.currency]).toEqual(["New name", "Europe/London", "GBP"]);
    await expectCode(manager.as.mutation(api.businesses.updateSettings, { businessId: biz.businessId, name: "x" }), "FORBIDDEN");
    await expectCode(biz.owner.as.mutation(api.businesses.updateSettings, { businessId: biz.businessId, name: "Ok", timeZone: "Nowhere" }), "INVALID_ARGUMENT", "timeZone");
    s = await biz.owner.as.query(api.businesses.settings, { businessId: biz.businessId });
    expect(s.name).toBe("New name");

    const policies = { ...DEFAULT_POLICIES, booking: { ...DEFAULT_POLICIES.booking, holdMinutes: 15 } };
    await biz.owner.as.mutation(api.businesses.updatePolicies, { businessId: biz.businessId, policies });
    expect((await manager.as.query(api.businesses.settings, { businessId: biz.businessId })).policies.booking.holdMinutes).toBe(15);
    await expectCode(manager.as.mutation(api.businesses.updatePolicies, { businessId: biz.businessId, policies }), "FORBIDDEN");
    await expectCode(
      biz.owner.as.mutation(api.businesses.updatePolicies, { businessId: biz.businessId, policies: { ...policies, reschedule: { ...policies.reschedule, maxReschedules: -1 } } }),
      "INVALID_ARGUMENT",
      "policies.reschedule.maxReschedules",
    );
  });
});

describe("verification and status", () => {
  test("admin verifies a PENDING business; only once", async () => {
    const t = newTest();
    const biz = await aBusiness(t, { status: "PENDING" });
    const admin = await aPlatformAdmin(t);
    await expectCode(biz.owner.as.mutation(api.businesses.verify, { businessId: biz.businessId }), "FORBIDDEN");
    await admin.as.mutation(api.businesses.verify, { businessId: biz.businessId, note: "Documents checked" });
    const s = await admin.as.query(api.businesses.settings, { businessId: biz.businessId });
    expect(s.status).toBe("ACTIVE");
    expect(s.verification).toMatchObject({ verifiedBy: admin.userId, note: "Documents checked" });
    await expectCode(admin.as.mutation(api.businesses.verify, { businessId: biz.businessId }), "INVALID_TRANSITION");
  });

  test.each([
    // from, to, by, expected
    ["ACTIVE", "SUSPENDED", "admin", "ok"],
    ["ACTIVE", "SUSPENDED", "owner", "FORBIDDEN"],
    ["SUSPENDED", "ACTIVE", "admin", "ok"],
    ["SUSPENDED", "ACTIVE", "owner", "FORBIDDEN"],
    ["ACTIVE", "INACTIVE", "owner", "ok"],
    ["INACTIVE", "ACTIVE", "owner", "ok"],
    ["ACTIVE", "DELETED", "owner", "ok"],
    ["SUSPENDED", "DELETED", "owner", "FORBIDDEN"],
    ["SUSPENDED", "DELETED", "admin", "ok"],
    ["PENDING", "ACTIVE", "admin", "INVALID_TRANSITION"],
    ["PENDING", "INACTIVE", "owner", "INVALID_TRANSITION"],
    ["ACTIVE", "PENDING", "admin", "INVALID_TRANSITION"],
    ["ACTIVE", "ACTIVE", "admin", "INVALID_TRANSITION"],
    ["ACTIVE", "INACTIVE", "manager", "FORBIDDEN"],
    ["ACTIVE", "INACTIVE", "stranger", "NOT_FOUND"],
  ] as const)("%s → %s by %s: %s", async (from, to, by, expected) => {
    const t = newTest();
    const biz = await aBusiness(t, { status: from });
    const actor =
      by === "admin" ? await aPlatformAdmin(t) : by === "owner" ? biz.owner : by === "manager" ? await aManager(t, biz.businessId) : await aUser(t);
    const call = actor.as.mutation(api.businesses.setStatus, { businessId: biz.businessId, status: to, reason: "because" });
    if (expected === "ok") {
      await call;
      const after = await t.run((ctx) => ctx.db.get("businesses", biz.businessId));
      expect(after?.status).toBe(to);
      expect(after?.statusReason).toBe("because");
    } else {
      await expectCode(call, expected);
      expect((await t.run((ctx) => ctx.db.get("businesses", biz.businessId)))?.status).toBe(from);
    }
  });

  test("a reason is required; an unverified INACTIVE business cannot reactivate", async () => {
    const t = newTest();
    const admin = await aPlatformAdmin(t);
    const biz = await aBusiness(t);
    await expectCode(admin.as.mutation(api.businesses.setStatus, { businessId: biz.businessId, status: "SUSPENDED", reason: " " }), "INVALID_ARGUMENT", "reason");
    const unverified = await aBusiness(t, { status: "PENDING" });
    await t.run((ctx) => ctx.db.patch("businesses", unverified.businessId, { status: "INACTIVE" }));
    await expectCode(unverified.owner.as.mutation(api.businesses.setStatus, { businessId: unverified.businessId, status: "ACTIVE", reason: "back" }), "INVALID_TRANSITION");
  });

  test("a deleted business is gone for everyone, and its owner may create a new one", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    await biz.owner.as.mutation(api.businesses.setStatus, { businessId: biz.businessId, status: "DELETED", reason: "closing" });
    await expectCode(biz.owner.as.query(api.businesses.settings, { businessId: biz.businessId }), "NOT_FOUND");
    expect(await biz.owner.as.query(api.businesses.mine, {})).toEqual([]);
    await biz.owner.as.mutation(api.businesses.create, newBusiness);
  });

  test("listForAdmin pages by status and is admin-only", async () => {
    const t = newTest();
    const admin = await aPlatformAdmin(t);
    await aBusiness(t, { status: "PENDING" });
    await aBusiness(t, { status: "PENDING" });
    const active = await aBusiness(t);
    const page = await admin.as.query(api.businesses.listForAdmin, { status: "PENDING", paginationOpts: { numItems: 1, cursor: null } });
    expect(page.page).toHaveLength(1);
    expect(page.isDone).toBe(false);
    const rest = await admin.as.query(api.businesses.listForAdmin, { status: "PENDING", paginationOpts: { numItems: 10, cursor: page.continueCursor } });
    expect(rest.page).toHaveLength(1);
    expect(rest.page.every((b) => b.status === "PENDING")).toBe(true);
    await expectCode(active.owner.as.query(api.businesses.listForAdmin, { status: "PENDING", paginationOpts: { numItems: 1, cursor: null } }), "FORBIDDEN");
  });
});

describe("staff", () => {
  test("owner adds, promotes and removes members; the owner's own membership is protected", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const person = await aUser(t, { name: "Nina" });
    await biz.owner.as.mutation(api.businesses.addMember, { businessId: biz.businessId, userId: person.userId, role: "staff" });
    await expectCode(biz.owner.as.mutation(api.businesses.addMember, { businessId: biz.businessId, userId: person.userId, role: "staff" }), "ALREADY_EXISTS", "userId");
    await biz.owner.as.mutation(api.businesses.changeMemberRole, { businessId: biz.businessId, userId: person.userId, role: "manager" });
    let members = await biz.owner.as.query(api.businesses.listMembers, { businessId: biz.businessId });
    expect(members.map((m) => [m.name, m.role])).toContainEqual(["Nina", "manager"]);
    await expectCode(person.as.mutation(api.businesses.changeMemberRole, { businessId: biz.businessId, userId: biz.owner.userId, role: "staff" }), "FORBIDDEN", "userId");
    await expectCode(biz.owner.as.mutation(api.businesses.removeMember, { businessId: biz.businessId, userId: biz.owner.userId }), "FORBIDDEN", "userId");
    await biz.owner.as.mutation(api.businesses.removeMember, { businessId: biz.businessId, userId: person.userId });
    members = await biz.owner.as.query(api.businesses.listMembers, { businessId: biz.businessId });
    expect(members.map((m) => m.userId)).toEqual([biz.owner.userId]);
  });

  test("a manager can add staff and managers but cannot grant or touch owner", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const manager = await aManager(t, biz.businessId);
    const p1 = await aUser(t);
    const p2 = await aUser(t);
    await manager.as.mutation(api.businesses.addMember, { businessId: biz.businessId, userId: p1.userId, role: "staff" });
    await expectCode(manager.as.mutation(api.businesses.addMember, { businessId: biz.businessId, userId: p2.userId, role: "owner" }), "FORBIDDEN", "role");
    await expectCode(manager.as.mutation(api.businesses.changeMemberRole, { businessId: biz.businessId, userId: p1.userId, role: "owner" }), "FORBIDDEN", "role");
    await manager.as.mutation(api.businesses.changeMemberRole, { businessId: biz.businessId, userId: p1.userId, role: "manager" });
    const memberships = await t.run((ctx) => ctx.db.query("memberships").withIndex("by_businessId_and_role", (q) => q.eq("businessId", biz.businessId).eq("role", "owner")).collect());
    expect(memberships).toHaveLength(1);
  });

  test("staff cannot manage members; strangers get NOT_FOUND; unknown users NOT_FOUND", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const staff = await aStaffMember(t, biz.businessId);
    const stranger = await aUser(t);
    const other = await aBusiness(t);
    await expectCode(staff.as.mutation(api.businesses.addMember, { businessId: biz.businessId, userId: stranger.userId, role: "staff" }), "FORBIDDEN");
    await expectCode(stranger.as.query(api.businesses.listMembers, { businessId: biz.businessId }), "NOT_FOUND");
    await expectCode(other.owner.as.mutation(api.businesses.removeMember, { businessId: biz.businessId, userId: staff.userId }), "NOT_FOUND");
    const ghost = await t.run(async (ctx) => {
      const id = await ctx.db.insert("users", { tokenIdentifier: "ghost", name: "Ghost", isPlatformAdmin: false });
      await ctx.db.delete("users", id);
      return id;
    });
    await expectCode(biz.owner.as.mutation(api.businesses.addMember, { businessId: biz.businessId, userId: ghost, role: "staff" }), "NOT_FOUND", "userId");
  });
});
