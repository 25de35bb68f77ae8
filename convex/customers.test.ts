import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { aBooking, aBusiness, aCatalogue, aCustomer, aManager, aProvider, aStaffMember, aUser, aZone, anIdentity, expectAppError, snapshotDatabase } from "./test.builders";
import { newTest } from "./test.setup";

const address = { line1: "5 Fifth Ave", city: "New York", postalCode: "10001", country: "us" };

describe("customers (staff side)", () => {
  test("staff create, find by email, list (paged, newest first) and update", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const staff = await aStaffMember(t, biz.businessId);
    const c1 = await staff.as.mutation(api.customers.create, { businessId: biz.businessId, name: "Ann", email: " Ann@Example.TEST ", phone: "+1 (212) 555-0100", tags: ["VIP", "vip"] });
    const c2 = await staff.as.mutation(api.customers.create, { businessId: biz.businessId, name: "Bob" });
    const found = await staff.as.query(api.customers.findByEmail, { businessId: biz.businessId, email: "ann@example.test" });
    expect(found).toMatchObject({ _id: c1, email: "ann@example.test", phone: "+12125550100", tags: ["vip"] });
    const first = await staff.as.query(api.customers.list, { businessId: biz.businessId, paginationOpts: { numItems: 1, cursor: null } });
    expect(first.page.map((c) => c._id)).toEqual([c2]);
    const second = await staff.as.query(api.customers.list, { businessId: biz.businessId, paginationOpts: { numItems: 5, cursor: first.continueCursor } });
    expect(second.page.map((c) => c._id)).toEqual([c1]);
    await staff.as.mutation(api.customers.update, { customerId: c2, email: "bob@example.test", tags: ["new"] });
    await expectAppError(staff.as.mutation(api.customers.update, { customerId: c2, email: "ann@example.test" }), "ALREADY_EXISTS", "email");
    await expectAppError(staff.as.mutation(api.customers.create, { businessId: biz.businessId, name: "Ann 2", email: "ANN@example.test" }), "ALREADY_EXISTS", "email");
    const events = await t.run((ctx) => ctx.db.query("outbox").collect());
    expect(events.every((o) => o.party === "customers" && o.room === `biz_${biz.businessId}`)).toBe(true);
    expect(events.map((o) => o.seq)).toEqual([1, 2, 3]);
  });

  test.each([
    [{ name: "" }, "name"],
    [{ email: "not-an-email" }, "email"],
    [{ phone: "555-0100" }, "phone"],
    [{ locale: "??" }, "locale"],
    [{ timeZone: "Nowhere/City" }, "timeZone"],
    [{ tags: ["x".repeat(41)] }, "tags[0]"],
  ])("create rejects %o naming %s; nothing written", async (over, param) => {
    const t = newTest();
    const biz = await aBusiness(t);
    const before = await snapshotDatabase(t, ["customers", "events", "outbox"]);
    await expectAppError(biz.owner.as.mutation(api.customers.create, { businessId: biz.businessId, name: "Ok", ...over }), "INVALID_ARGUMENT", param);
    expect(await snapshotDatabase(t, ["customers", "events", "outbox"])).toEqual(before);
  });
});

describe("registerSelf", () => {
  test("idempotent; links the user; refused for non-ACTIVE businesses", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const person = await aUser(t, { name: "Dana", email: "dana@example.test" });
    const id1 = await person.as.mutation(api.customers.registerSelf, { businessId: biz.businessId, phone: "+442071234567" });
    const id2 = await person.as.mutation(api.customers.registerSelf, { businessId: biz.businessId });
    expect(id2).toBe(id1);
    expect(await person.as.query(api.customers.me, { businessId: biz.businessId })).toMatchObject({ _id: id1, userId: person.userId, name: "Dana", email: "dana@example.test", phone: "+442071234567" });
    const pending = await aBusiness(t, { status: "PENDING" });
    await expectAppError(person.as.mutation(api.customers.registerSelf, { businessId: pending.businessId }), "BUSINESS_NOT_ACTIVE");
  });

  test("claims a staff-created record only with a verified email", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const existing = await aCustomer(t, biz.businessId, { signedIn: false, email: "eve@example.test", name: "Eve" });
    const identity = anIdentity({ email: "eve@example.test", name: "Eve" });
    const userId = await t.run((ctx) => ctx.db.insert("users", { tokenIdentifier: identity.tokenIdentifier, name: "Eve", email: identity.email, isPlatformAdmin: false }));
    await expectAppError(t.withIdentity(identity).mutation(api.customers.registerSelf, { businessId: biz.businessId }), "ALREADY_EXISTS", "email");
    const claimed = await t.withIdentity({ ...identity, emailVerified: true }).mutation(api.customers.registerSelf, { businessId: biz.businessId });
    expect(claimed).toBe(existing.customerId);
    expect((await t.run((ctx) => ctx.db.get("customers", existing.customerId)))?.userId).toBe(userId);
  });
});

describe("self-service", () => {
  test("a customer edits their profile but not their email or tags", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const customer = await aCustomer(t, biz.businessId);
    await customer.as.mutation(api.customers.update, { customerId: customer.customerId, name: "New Name", locale: "fr-fr", timeZone: "Europe/Paris" });
    expect(await t.run((ctx) => ctx.db.get("customers", customer.customerId))).toMatchObject({ name: "New Name", locale: "fr-FR", timeZone: "Europe/Paris" });
    await expectAppError(customer.as.mutation(api.customers.update, { customerId: customer.customerId, email: "x@example.test" }), "FORBIDDEN", "email");
    await expectAppError(customer.as.mutation(api.customers.update, { customerId: customer.customerId, tags: ["vip"] }), "FORBIDDEN", "tags");
  });

  test("addresses resolve their zone on save; one default at a time", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const { zoneId } = await aZone(t, biz.businessId, { postalCodes: ["10001"] });
    const customer = await aCustomer(t, biz.businessId);
    const a1 = await customer.as.mutation(api.customers.addAddress, { customerId: customer.customerId, address, label: "Home" });
    expect(a1.zoneId).toBe(zoneId);
    const a2 = await customer.as.mutation(api.customers.addAddress, { customerId: customer.customerId, address: { ...address, postalCode: "94103" }, isDefault: true });
    expect(a2.zoneId).toBeNull();
    let detail = await customer.as.query(api.customers.get, { customerId: customer.customerId });
    expect(detail.addresses.filter((a) => a.isDefault).map((a) => a._id)).toEqual([a2.addressId]);
    expect(detail.addresses.find((a) => a._id === a1.addressId)?.address.country).toBe("US");
    const moved = await customer.as.mutation(api.customers.updateAddress, { addressId: a2.addressId, address: { ...address, postalCode: "10001-2222" } });
    expect(moved.zoneId).toBe(zoneId);
    await customer.as.mutation(api.customers.removeAddress, { addressId: a2.addressId });
    detail = await customer.as.query(api.customers.get, { customerId: customer.customerId });
    expect(detail.addresses.map((a) => [a._id, a.isDefault])).toEqual([[a1.addressId, true]]);
    await expectAppError(customer.as.mutation(api.customers.addAddress, { customerId: customer.customerId, address: { ...address, country: "USA" } }), "INVALID_ARGUMENT", "address.country");
    await expectAppError(customer.as.mutation(api.customers.addAddress, { customerId: customer.customerId, address: { ...address, postalCode: "1234" } }), "INVALID_ARGUMENT", "address.postalCode");
    const other = await aCustomer(t, biz.businessId);
    await expectAppError(other.as.mutation(api.customers.removeAddress, { addressId: a1.addressId }), "NOT_FOUND", "addressId");
  });

  test("payment methods are Stripe references with one default", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const customer = await aCustomer(t, biz.businessId);
    const pm1 = await customer.as.mutation(api.customers.addPaymentMethod, { customerId: customer.customerId, stripePaymentMethodId: "pm_1AAAAAAA", brand: "Visa", last4: "4242", expMonth: 12, expYear: 2031 });
    const pm2 = await customer.as.mutation(api.customers.addPaymentMethod, { customerId: customer.customerId, stripePaymentMethodId: "pm_2BBBBBBB" });
    let methods = (await customer.as.query(api.customers.get, { customerId: customer.customerId })).paymentMethods;
    expect(methods.map((m) => [m._id, m.isDefault, m.brand])).toEqual([[pm1, true, "visa"], [pm2, false, undefined]]);
    await customer.as.mutation(api.customers.setDefaultPaymentMethod, { paymentMethodId: pm2 });
    await customer.as.mutation(api.customers.removePaymentMethod, { paymentMethodId: pm2 });
    methods = (await customer.as.query(api.customers.get, { customerId: customer.customerId })).paymentMethods;
    expect(methods.map((m) => [m._id, m.isDefault])).toEqual([[pm1, true]]);
    await expectAppError(customer.as.mutation(api.customers.addPaymentMethod, { customerId: customer.customerId, stripePaymentMethodId: "4242424242424242" }), "INVALID_ARGUMENT", "stripePaymentMethodId");
    await expectAppError(customer.as.mutation(api.customers.addPaymentMethod, { customerId: customer.customerId, stripePaymentMethodId: "pm_3CCCCCCC", last4: "42" }), "INVALID_ARGUMENT", "last4");
    await expectAppError(customer.as.mutation(api.customers.addPaymentMethod, { customerId: customer.customerId, stripePaymentMethodId: "pm_1AAAAAAA" }), "ALREADY_EXISTS", "stripePaymentMethodId");
  });
});

describe("client notes", () => {
  test("managers see every note; providers only visibleToStaff ones; customers none", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const manager = await aManager(t, biz.businessId);
    const provider = await aProvider(t, biz.businessId);
    const customer = await aCustomer(t, biz.businessId);
    await manager.as.mutation(api.customers.addNote, { customerId: customer.customerId, body: "Pays late", visibleToStaff: false });
    const shared = await manager.as.mutation(api.customers.addNote, { customerId: customer.customerId, body: "Dog in the garden", visibleToStaff: true });
    expect((await manager.as.query(api.customers.notes, { customerId: customer.customerId })).map((n) => n.body).sort()).toEqual(["Dog in the garden", "Pays late"]);
    expect((await provider.as.query(api.customers.notes, { customerId: customer.customerId })).map((n) => n.body)).toEqual(["Dog in the garden"]);
    await expectAppError(customer.as.query(api.customers.notes, { customerId: customer.customerId }), "NOT_FOUND", "customerId");
    await expectAppError(provider.as.mutation(api.customers.removeNote, { noteId: shared }), "FORBIDDEN");
    await expectAppError(customer.as.mutation(api.customers.removeNote, { noteId: shared }), "NOT_FOUND", "noteId");
    await manager.as.mutation(api.customers.removeNote, { noteId: shared });
    expect(await provider.as.query(api.customers.notes, { customerId: customer.customerId })).toEqual([]);
  });
});

describe("history and subscriptions", () => {
  test("history lists the customer's own bookings, latest first, paged", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const { zoneId } = await aZone(t, biz.businessId);
    const cat = await aCatalogue(t, biz.businessId);
    const a = await aCustomer(t, biz.businessId);
    const b = await aCustomer(t, biz.businessId);
    const base = { businessId: biz.businessId, zoneId, industryId: cat.industryId };
    const older = await aBooking(t, { ...base, customerId: a.customerId, start: Date.UTC(2030, 0, 1, 15) });
    const newer = await aBooking(t, { ...base, customerId: a.customerId, start: Date.UTC(2030, 0, 8, 15), status: "CANCELLED" });
    await aBooking(t, { ...base, customerId: b.customerId });
    const page1 = await a.as.query(api.customers.history, { customerId: a.customerId, paginationOpts: { numItems: 1, cursor: null } });
    expect(page1.page.map((p) => [p._id, p.status])).toEqual([[newer.bookingId, "CANCELLED"]]);
    const page2 = await a.as.query(api.customers.history, { customerId: a.customerId, paginationOpts: { numItems: 5, cursor: page1.continueCursor } });
    expect(page2.page.map((p) => p._id)).toEqual([older.bookingId]);
    expect(page2.page[0]).toMatchObject({ totalMinor: 10_000, currency: "USD", localDate: "2030-01-01" });
  });

  test("subscriptions: the customer and managers", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const customer = await aCustomer(t, biz.businessId);
    await t.run((ctx) => ctx.db.insert("customerSubscriptions", { businessId: biz.businessId, customerId: customer.customerId, status: "active", stripeSubscriptionId: "sub_1" }));
    expect((await customer.as.query(api.customers.subscriptions, { customerId: customer.customerId })).map((s) => s.status)).toEqual(["active"]);
    expect(await biz.owner.as.query(api.customers.subscriptions, { customerId: customer.customerId })).toHaveLength(1);
  });
});
