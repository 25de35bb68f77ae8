import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { aBusiness, aCatalogue, aCustomer, aStaffMember, aUser, expectAppError } from "./test.builders";
import { newTest } from "./test.setup";

const names = (rows: { name: string }[]) => rows.map((r) => r.name).sort();

describe("search.customers", () => {
  test("staff find a business's customers by partial name, email and phone, never another business's", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const other = await aBusiness(t);
    const staff = await aStaffMember(t, biz.businessId);
    await aCustomer(t, biz.businessId, { name: "Jane Doe", email: "jane.doe@example.test", phone: "+447700900123", signedIn: false });
    await aCustomer(t, biz.businessId, { name: "Bob Stone", email: "bob@stone.test", phone: "+12125550100", signedIn: false });
    await aCustomer(t, other.businessId, { name: "Jane Other", email: "jane@other.test", signedIn: false });
    const find = (text: string) => staff.as.query(api.search.customers, { businessId: biz.businessId, text });

    expect(names(await find("jan"))).toEqual(["Jane Doe"]);
    expect(names(await find("Doe"))).toEqual(["Jane Doe"]);
    expect((await find("jane.doe@ex"))[0]).toMatchObject({ name: "Jane Doe", email: "jane.doe@example.test" });
    expect(names(await find("+44 7700 900"))).toEqual(["Jane Doe"]);
    expect(names(await find("1 212 555"))).toEqual(["Bob Stone"]);
    expect(await find("zzz")).toEqual([]);
    expect(await find("   ")).toEqual([]);
  });

  test("finds a customer under a new name right after the change, and no longer under the old one", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const { customerId } = await aCustomer(t, biz.businessId, { name: "Ann Lee", signedIn: false });
    await biz.owner.as.mutation(api.customers.update, { customerId, name: "Annabel Price" });
    const find = (text: string) => biz.owner.as.query(api.search.customers, { businessId: biz.businessId, text });
    expect(names(await find("price"))).toEqual(["Annabel Price"]);
    expect(await find("lee")).toEqual([]);
  });

  test("is for the business's staff only and checks its input", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const customer = await aCustomer(t, biz.businessId, { name: "Casey Customer" });
    const outsider = await aUser(t);
    const args = { businessId: biz.businessId, text: "casey" };
    await expectAppError(customer.as.query(api.search.customers, args), "FORBIDDEN");
    await expectAppError(outsider.as.query(api.search.customers, args), "NOT_FOUND", "businessId");
    await expectAppError(t.query(api.search.customers, args), "UNAUTHENTICATED");
    await expectAppError(biz.owner.as.query(api.search.customers, { ...args, text: "x".repeat(101) }), "INVALID_ARGUMENT", "text");
    await expectAppError(biz.owner.as.query(api.search.customers, { ...args, limit: 0 }), "INVALID_ARGUMENT", "limit");
  });
});

describe("search.catalogue", () => {
  test("anyone finds the active services of an active business by name", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const other = await aBusiness(t);
    await aCatalogue(t, biz.businessId, {
      products: [{ name: "Deep clean" }, { name: "Window cleaning" }, { name: "Oven clean", active: false }, { name: "Lawn mowing" }],
    });
    await aCatalogue(t, other.businessId, { products: [{ name: "Carpet clean" }] });
    const find = (text: string) => t.query(api.search.catalogue, { businessId: biz.businessId, text });
    expect(names(await find("clean"))).toEqual(["Deep clean", "Window cleaning"]);
    expect(names(await find("LAWN"))).toEqual(["Lawn mowing"]);
    expect(await find("oven")).toEqual([]);
  });

  test("an inactive business's catalogue is searchable by its staff only", async () => {
    const t = newTest();
    const biz = await aBusiness(t, { status: "PENDING" });
    await aCatalogue(t, biz.businessId, { products: [{ name: "Deep clean" }] });
    await expectAppError(t.query(api.search.catalogue, { businessId: biz.businessId, text: "deep" }), "NOT_FOUND", "businessId");
    expect(names(await biz.owner.as.query(api.search.catalogue, { businessId: biz.businessId, text: "deep" }))).toEqual(["Deep clean"]);
  });
});
