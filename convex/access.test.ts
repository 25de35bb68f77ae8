/**
 * The authorisation matrix: every role against every guarded function, with two
 * businesses (X, the subject, and Y, another tenant) and two customers of X (A, whose
 * records are the subject, and B). Each cell is "ok" or the error code the role must get;
 * other tenants' ids must give NOT_FOUND, and a refused call must write nothing.
 */
import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import type { Id } from "./_generated/dataModel";
import schema from "./schema";
import { DEFAULT_POLICIES } from "./businesses";
import {
  aBooking,
  aBusiness,
  aCatalogue,
  aCustomer,
  aManager,
  aPlatformAdmin,
  aProvider,
  aUser,
  aZone,
  expectAppError,
  snapshotDatabase,
} from "./test.builders";
import { newTest, type TestConvex } from "./test.setup";

const ROLES = ["anonymous", "stranger", "ownerY", "customerA", "customerB", "staff", "manager", "owner", "admin"] as const;
type RoleName = (typeof ROLES)[number];
type Outcome = "ok" | "UNAUTHENTICATED" | "FORBIDDEN" | "NOT_FOUND";
type Matrix = Record<RoleName, Outcome>;

async function world(t: TestConvex) {
  const x = await aBusiness(t, { name: "X" });
  const { zoneId } = await aZone(t, x.businessId);
  const catalogue = await aCatalogue(t, x.businessId);
  const manager = await aManager(t, x.businessId);
  const provider = await aProvider(t, x.businessId);
  const customerA = await aCustomer(t, x.businessId, { name: "Ann A" });
  const customerB = await aCustomer(t, x.businessId, { name: "Bob B" });
  const y = await aBusiness(t, { name: "Y" });
  await aCustomer(t, y.businessId);
  const admin = await aPlatformAdmin(t);
  const stranger = await aUser(t);
  const completedA = await aBooking(t, {
    businessId: x.businessId,
    customerId: customerA.customerId,
    zoneId,
    industryId: catalogue.industryId,
    status: "COMPLETED",
    start: Date.now() - 2 * 86_400_000,
  });
  const completedB = await aBooking(t, {
    businessId: x.businessId,
    customerId: customerB.customerId,
    zoneId,
    industryId: catalogue.industryId,
    status: "COMPLETED",
    start: Date.now() - 3 * 86_400_000,
  });
  const reviewId = await t.run((ctx) =>
    ctx.db.insert("reviews", {
      businessId: x.businessId,
      bookingId: completedB.bookingId,
      customerId: customerB.customerId,
      resourceIds: [],
      rating: 4,
      createdAt: Date.now(),
    }),
  );
  const clients: Record<RoleName, TestConvex | ReturnType<TestConvex["withIdentity"]>> = {
    anonymous: t,
    stranger: stranger.as,
    ownerY: y.owner.as,
    customerA: customerA.as,
    customerB: customerB.as,
    staff: provider.as,
    manager: manager.as,
    owner: x.owner.as,
    admin: admin.as,
  };
  return { x, y, zoneId, catalogue, manager, provider, customerA, customerB, admin, stranger, completedA, reviewId, clients };
}
type World = Awaited<ReturnType<typeof world>> & { pending: Id<"businesses"> };
type Client = Awaited<ReturnType<typeof world>>["clients"][RoleName];

const UNAUTH = { anonymous: "UNAUTHENTICATED" } as const;
/** Manager and owner of X. */
const managerPlus: Matrix = {
  ...UNAUTH,
  stranger: "NOT_FOUND",
  ownerY: "NOT_FOUND",
  customerA: "FORBIDDEN",
  customerB: "FORBIDDEN",
  staff: "FORBIDDEN",
  manager: "ok",
  owner: "ok",
  admin: "FORBIDDEN",
};
const ownerOnly: Matrix = { ...managerPlus, manager: "FORBIDDEN" };
const staffPlus: Matrix = { ...managerPlus, staff: "ok" };
/** Staff of X and platform admins; customers are outsiders here. */
const staffOrAdmin: Matrix = { ...staffPlus, customerA: "NOT_FOUND", customerB: "NOT_FOUND", admin: "ok" };
/** Customer A's own records: A and X's staff. */
const customerAOrStaff: Matrix = {
  ...UNAUTH,
  stranger: "NOT_FOUND",
  ownerY: "NOT_FOUND",
  customerA: "ok",
  customerB: "NOT_FOUND",
  staff: "ok",
  manager: "ok",
  owner: "ok",
  admin: "NOT_FOUND",
};
const customerAOrManager: Matrix = { ...customerAOrStaff, staff: "NOT_FOUND" };
const staffAboutA: Matrix = { ...customerAOrStaff, customerA: "NOT_FOUND" };
const everyone: Matrix = Object.fromEntries(ROLES.map((r) => [r, "ok"])) as Matrix;
const signedIn: Matrix = { ...everyone, ...UNAUTH };
const adminOnly: Matrix = {
  ...UNAUTH,
  stranger: "FORBIDDEN",
  ownerY: "FORBIDDEN",
  customerA: "FORBIDDEN",
  customerB: "FORBIDDEN",
  staff: "FORBIDDEN",
  manager: "FORBIDDEN",
  owner: "FORBIDDEN",
  admin: "ok",
};

type Case = { name: string; matrix: Matrix; call: (c: Client, w: World) => Promise<unknown> };

const address = { line1: "2 Side St", city: "New York", postalCode: "10001", country: "US" };
const pricing = { tripChargeMinor: 0, priceMultiplierBp: 10_000, minimumMinor: 0 };
const quantity = { min: 1, max: 3, step: 1, included: 1, extraUnitPriceMinor: 100, extraUnitDurationMinutes: 10 };
const page = { numItems: 10, cursor: null };

const CASES: Case[] = [
  // --- businesses
  { name: "businesses.settings", matrix: staffOrAdmin, call: (c, w) => c.query(api.businesses.settings, { businessId: w.x.businessId }) },
  { name: "businesses.updateSettings", matrix: ownerOnly, call: (c, w) => c.mutation(api.businesses.updateSettings, { businessId: w.x.businessId, name: "Renamed" }) },
  { name: "businesses.updatePolicies", matrix: ownerOnly, call: (c, w) => c.mutation(api.businesses.updatePolicies, { businessId: w.x.businessId, policies: DEFAULT_POLICIES }) },
  {
    name: "businesses.setStatus (deactivate)",
    matrix: { ...ownerOnly, customerA: "NOT_FOUND", customerB: "NOT_FOUND", admin: "ok" },
    call: (c, w) => c.mutation(api.businesses.setStatus, { businessId: w.x.businessId, status: "INACTIVE", reason: "holiday" }),
  },
  { name: "businesses.verify", matrix: { ...adminOnly, admin: "ok" }, call: (c, w) => c.mutation(api.businesses.verify, { businessId: w.pending }) },
  { name: "businesses.listForAdmin", matrix: adminOnly, call: (c) => c.query(api.businesses.listForAdmin, { status: "ACTIVE", paginationOpts: page }) },
  { name: "businesses.listMembers", matrix: managerPlus, call: (c, w) => c.query(api.businesses.listMembers, { businessId: w.x.businessId }) },
  { name: "businesses.addMember", matrix: managerPlus, call: (c, w) => c.mutation(api.businesses.addMember, { businessId: w.x.businessId, userId: w.stranger.userId, role: "staff" }) },
  { name: "businesses.removeMember", matrix: managerPlus, call: (c, w) => c.mutation(api.businesses.removeMember, { businessId: w.x.businessId, userId: w.provider.userId }) },
  { name: "businesses.get (public)", matrix: everyone, call: (c, w) => c.query(api.businesses.get, { businessId: w.x.businessId }) },
  // --- zones
  {
    name: "zones.create",
    matrix: managerPlus,
    call: (c, w) => c.mutation(api.zones.create, { businessId: w.x.businessId, name: "Z", postalCodes: ["10002"], boundaries: [], pricing, taxRateBp: 0, taxInclusive: false }),
  },
  { name: "zones.update", matrix: { ...managerPlus, stranger: "NOT_FOUND" }, call: (c, w) => c.mutation(api.zones.update, { zoneId: w.zoneId, name: "Renamed" }) },
  { name: "zones.setActive", matrix: managerPlus, call: (c, w) => c.mutation(api.zones.setActive, { zoneId: w.zoneId, active: false }) },
  { name: "zones.list", matrix: staffOrAdmin, call: (c, w) => c.query(api.zones.list, { businessId: w.x.businessId }) },
  { name: "zones.get", matrix: staffOrAdmin, call: (c, w) => c.query(api.zones.get, { zoneId: w.zoneId }) },
  { name: "zones.resolve (public)", matrix: everyone, call: (c, w) => c.query(api.zones.resolve, { businessId: w.x.businessId, postalCode: "10001" }) },
  // --- catalogue
  { name: "catalogue.forBusiness (public)", matrix: everyone, call: (c, w) => c.query(api.catalogue.forBusiness, { businessId: w.x.businessId }) },
  { name: "catalogue.manage", matrix: staffOrAdmin, call: (c, w) => c.query(api.catalogue.manage, { businessId: w.x.businessId }) },
  { name: "catalogue.createIndustry", matrix: managerPlus, call: (c, w) => c.mutation(api.catalogue.createIndustry, { businessId: w.x.businessId, name: "Repairs" }) },
  {
    name: "catalogue.createProduct",
    matrix: managerPlus,
    call: (c, w) => c.mutation(api.catalogue.createProduct, { categoryId: w.catalogue.categoryId, name: "Deep", priceMinor: 100, durationMinutes: 30, quantity }),
  },
  { name: "catalogue.updateProduct", matrix: managerPlus, call: (c, w) => c.mutation(api.catalogue.updateProduct, { productId: w.catalogue.productId, active: false }) },
  { name: "catalogue.updateExtra", matrix: managerPlus, call: (c, w) => c.mutation(api.catalogue.updateExtra, { extraId: w.catalogue.extraId, priceMinor: 1 }) },
  // --- resources
  {
    name: "resources.create",
    matrix: managerPlus,
    call: (c, w) =>
      c.mutation(api.resources.create, {
        businessId: w.x.businessId,
        name: "Room",
        kind: "room",
        capacity: 1,
        priority: 0,
        weeklyHours: [],
        bufferBeforeMinutes: 0,
        bufferAfterMinutes: 0,
        zoneIds: [],
        productIds: [],
      }),
  },
  { name: "resources.update", matrix: managerPlus, call: (c, w) => c.mutation(api.resources.update, { resourceId: w.provider.resourceId, capacity: 2 }) },
  { name: "resources.list", matrix: staffOrAdmin, call: (c, w) => c.query(api.resources.list, { businessId: w.x.businessId }) },
  { name: "resources.get", matrix: staffOrAdmin, call: (c, w) => c.query(api.resources.get, { resourceId: w.provider.resourceId }) },
  {
    name: "resources.setDateOverride",
    matrix: managerPlus,
    call: (c, w) => c.mutation(api.resources.setDateOverride, { resourceId: w.provider.resourceId, date: "2030-01-02", closed: true, hours: [] }),
  },
  {
    name: "resources.addTimeOff (own resource for staff)",
    matrix: { ...staffPlus },
    call: (c, w) => c.mutation(api.resources.addTimeOff, { resourceId: w.provider.resourceId, start: Date.UTC(2030, 0, 1), end: Date.UTC(2030, 0, 2) }),
  },
  // --- customers
  { name: "customers.create", matrix: staffPlus, call: (c, w) => c.mutation(api.customers.create, { businessId: w.x.businessId, name: "New", email: "new@example.test" }) },
  { name: "customers.list", matrix: staffPlus, call: (c, w) => c.query(api.customers.list, { businessId: w.x.businessId, paginationOpts: page }) },
  { name: "customers.findByEmail", matrix: staffPlus, call: (c, w) => c.query(api.customers.findByEmail, { businessId: w.x.businessId, email: "a@example.test" }) },
  { name: "customers.registerSelf", matrix: signedIn, call: (c, w) => c.mutation(api.customers.registerSelf, { businessId: w.x.businessId }) },
  { name: "customers.get (A)", matrix: customerAOrStaff, call: (c, w) => c.query(api.customers.get, { customerId: w.customerA.customerId }) },
  { name: "customers.update (A)", matrix: customerAOrStaff, call: (c, w) => c.mutation(api.customers.update, { customerId: w.customerA.customerId, name: "Ann Z" }) },
  { name: "customers.addAddress (A)", matrix: customerAOrStaff, call: (c, w) => c.mutation(api.customers.addAddress, { customerId: w.customerA.customerId, address }) },
  { name: "customers.history (A)", matrix: customerAOrStaff, call: (c, w) => c.query(api.customers.history, { customerId: w.customerA.customerId, paginationOpts: page }) },
  { name: "customers.subscriptions (A)", matrix: customerAOrManager, call: (c, w) => c.query(api.customers.subscriptions, { customerId: w.customerA.customerId }) },
  {
    name: "customers.addPaymentMethod (A)",
    matrix: customerAOrManager,
    call: (c, w) => c.mutation(api.customers.addPaymentMethod, { customerId: w.customerA.customerId, stripePaymentMethodId: "pm_test_123456", last4: "4242" }),
  },
  { name: "customers.addNote (A)", matrix: staffAboutA, call: (c, w) => c.mutation(api.customers.addNote, { customerId: w.customerA.customerId, body: "Has a dog", visibleToStaff: true }) },
  { name: "customers.notes (A)", matrix: staffAboutA, call: (c, w) => c.query(api.customers.notes, { customerId: w.customerA.customerId }) },
  // --- messages
  { name: "messages.send (A's thread)", matrix: customerAOrStaff, call: (c, w) => c.mutation(api.messages.send, { customerId: w.customerA.customerId, body: "Hello" }) },
  { name: "messages.list (A's thread)", matrix: customerAOrStaff, call: (c, w) => c.query(api.messages.list, { customerId: w.customerA.customerId, paginationOpts: page }) },
  // --- reviews
  {
    name: "reviews.create (A's completed booking)",
    matrix: { ...UNAUTH, stranger: "NOT_FOUND", ownerY: "NOT_FOUND", customerA: "ok", customerB: "NOT_FOUND", staff: "NOT_FOUND", manager: "NOT_FOUND", owner: "NOT_FOUND", admin: "NOT_FOUND" },
    call: (c, w) => c.mutation(api.reviews.create, { bookingId: w.completedA.bookingId, rating: 5 }),
  },
  { name: "reviews.reply", matrix: managerPlus, call: (c, w) => c.mutation(api.reviews.reply, { reviewId: w.reviewId, reply: "Thanks!" }) },
  { name: "reviews.listForBusiness (public)", matrix: everyone, call: (c, w) => c.query(api.reviews.listForBusiness, { businessId: w.x.businessId, paginationOpts: page }) },
  // --- templates and notifications
  {
    name: "templates.upsert",
    matrix: managerPlus,
    call: (c, w) => c.mutation(api.templates.upsert, { businessId: w.x.businessId, key: "reminder_2h", channel: "sms", locale: "en", body: "See you at {{bookingTime}}" }),
  },
  { name: "templates.preview", matrix: managerPlus, call: (c, w) => c.query(api.templates.preview, { businessId: w.x.businessId, key: "booking_confirmed", channel: "email", locale: "en" }) },
  {
    name: "templates.upsertPlatformDefault",
    matrix: adminOnly,
    call: (c) => c.mutation(api.templates.upsertPlatformDefault, { key: "reminder_2h", channel: "sms", locale: "en", body: "Soon: {{bookingTime}}" }),
  },
  { name: "notifications.log", matrix: managerPlus, call: (c, w) => c.query(api.notifications.log, { businessId: w.x.businessId, paginationOpts: page }) },
];

const TABLES = Object.keys(schema.tables);

async function worldWithPending(t: TestConvex): Promise<World> {
  const w = await world(t);
  const pending = (await aBusiness(t, { status: "PENDING" })).businessId;
  return { ...w, pending };
}

describe.each(CASES)("$name", ({ matrix, call }) => {
  const refused = ROLES.filter((role) => matrix[role] !== "ok");
  const allowed = ROLES.filter((role) => matrix[role] === "ok");

  // Refusals write nothing (checked after each), so one world serves every refused role.
  if (refused.length > 0) {
    test(`refused: ${refused.map((role) => `${role} → ${matrix[role]}`).join(", ")}`, async () => {
      const t = newTest();
      const w = await worldWithPending(t);
      const before = await snapshotDatabase(t, TABLES);
      for (const role of refused) {
        const data = await expectAppError(call(w.clients[role], w), matrix[role]).catch((error: Error) => {
          throw new Error(`${role}: ${error.message}`);
        });
        expect(data.code, role).toBe(matrix[role]);
        expect(await snapshotDatabase(t, TABLES), `${role} wrote something`).toEqual(before);
      }
    });
  }

  if (allowed.length > 0) {
    test.each(allowed)("allowed: %s", async (role) => {
      const t = newTest();
      const w = await worldWithPending(t);
      await call(w.clients[role], w);
    });
  }
});

describe("other tenants' ids", () => {
  test("Y's owner gets NOT_FOUND (never FORBIDDEN) for every X id, naming the argument", async () => {
    const t = newTest();
    const w = await world(t);
    const asY = w.y.owner.as;
    await expectAppError(asY.mutation(api.zones.update, { zoneId: w.zoneId, name: "x" }), "NOT_FOUND", "zoneId");
    await expectAppError(asY.mutation(api.catalogue.updateProduct, { productId: w.catalogue.productId, name: "x" }), "NOT_FOUND", "productId");
    await expectAppError(asY.mutation(api.catalogue.createCategory, { industryId: w.catalogue.industryId, name: "x" }), "NOT_FOUND", "industryId");
    await expectAppError(asY.mutation(api.resources.update, { resourceId: w.provider.resourceId, name: "x" }), "NOT_FOUND", "resourceId");
    await expectAppError(asY.query(api.customers.get, { customerId: w.customerA.customerId }), "NOT_FOUND", "customerId");
    await expectAppError(asY.mutation(api.reviews.reply, { reviewId: w.reviewId, reply: "x" }), "NOT_FOUND", "reviewId");
  });

  test("X's manager cannot attach Y's zones or products to X's resources", async () => {
    const t = newTest();
    const w = await world(t);
    const { zoneId: zoneY } = await aZone(t, w.y.businessId);
    const catY = await aCatalogue(t, w.y.businessId);
    await expectAppError(w.manager.as.mutation(api.resources.update, { resourceId: w.provider.resourceId, zoneIds: [zoneY] }), "NOT_FOUND", "zoneIds[0]");
    await expectAppError(w.manager.as.mutation(api.resources.update, { resourceId: w.provider.resourceId, productIds: [catY.productId] }), "NOT_FOUND", "productIds[0]");
    await expectAppError(w.manager.as.mutation(api.catalogue.updateExtra, { extraId: w.catalogue.extraId, productIds: [catY.productId] }), "NOT_FOUND", "productIds[0]");
  });

  test("a staff member edits only their own resource's time off", async () => {
    const t = newTest();
    const w = await world(t);
    const other = await aProvider(t, w.x.businessId, { name: "Other" });
    await expectAppError(
      w.provider.as.mutation(api.resources.addTimeOff, { resourceId: other.resourceId, start: Date.UTC(2030, 0, 1), end: Date.UTC(2030, 0, 2) }),
      "FORBIDDEN",
    );
    const theirs = await other.as.mutation(api.resources.addTimeOff, { resourceId: other.resourceId, start: Date.UTC(2030, 0, 1), end: Date.UTC(2030, 0, 2) });
    await expectAppError(w.provider.as.mutation(api.resources.removeTimeOff, { timeOffId: theirs }), "FORBIDDEN");
    await expectAppError(w.y.owner.as.mutation(api.resources.removeTimeOff, { timeOffId: theirs }), "NOT_FOUND", "timeOffId");
    await other.as.mutation(api.resources.removeTimeOff, { timeOffId: theirs });
  });

  test("a suspended or deleted business locks out its customers' self-registration", async () => {
    const t = newTest();
    const suspended = await aBusiness(t, { status: "SUSPENDED" });
    const deleted = await aBusiness(t, { status: "DELETED" });
    const person = await aUser(t);
    await expectAppError(person.as.mutation(api.customers.registerSelf, { businessId: suspended.businessId }), "BUSINESS_NOT_ACTIVE");
    await expectAppError(person.as.mutation(api.customers.registerSelf, { businessId: deleted.businessId }), "NOT_FOUND", "businessId");
  });
});
