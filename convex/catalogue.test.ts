import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { aBusiness, aCatalogue, aManager, expectAppError, snapshotDatabase } from "./test.builders";
import { newTest } from "./test.setup";

const quantity = { min: 1, max: 6, step: 1, included: 2, extraUnitPriceMinor: 2_000, extraUnitDurationMinutes: 20, unitLabel: "room" };

async function setup() {
  const t = newTest();
  const biz = await aBusiness(t);
  const manager = await aManager(t, biz.businessId);
  const industryId = await manager.as.mutation(api.catalogue.createIndustry, { businessId: biz.businessId, name: "Home Cleaning" });
  const categoryId = await manager.as.mutation(api.catalogue.createCategory, { industryId, name: "Regular" });
  return { t, biz, manager, industryId, categoryId };
}

describe("catalogue writes", () => {
  test("industry → category → product → extra, visible in forBusiness", async () => {
    const { t, biz, manager, industryId, categoryId } = await setup();
    const productId = await manager.as.mutation(api.catalogue.createProduct, { categoryId, name: "Standard", priceMinor: 9_000, durationMinutes: 90, quantity });
    const extraId = await manager.as.mutation(api.catalogue.createExtra, {
      industryId,
      name: "Oven",
      priceMinor: 1_500,
      durationMinutes: 30,
      pricing: "flat",
      maxQuantity: 1,
      productIds: [productId],
    });
    const catalogue = await t.query(api.catalogue.forBusiness, { businessId: biz.businessId });
    expect(catalogue.currency).toBe("USD");
    expect(catalogue.industries).toHaveLength(1);
    const industry = catalogue.industries[0];
    expect(industry).toMatchObject({ name: "Home Cleaning", slug: "home-cleaning" });
    expect(industry.categories[0].products[0]).toMatchObject({ _id: productId, priceMinor: 9_000, quantity });
    expect(industry.extras).toEqual([{ _id: extraId, name: "Oven", priceMinor: 1_500, durationMinutes: 30, pricing: "flat", maxQuantity: 1, productIds: [productId] }]);
    const events = await t.run((ctx) => ctx.db.query("events").withIndex("by_businessId_and_type_and_createdAt", (q) => q.eq("businessId", biz.businessId).eq("type", "catalogue.updated")).collect());
    expect(events.map((e) => e.entity.table)).toEqual(["industries", "categories", "products", "extras"]);
  });

  test.each([
    [{ quantity: { ...quantity, min: 3, included: 2 } }, "quantity.included"],
    [{ quantity: { ...quantity, included: 7 } }, "quantity.included"],
    [{ quantity: { ...quantity, max: 0 } }, "quantity.max"],
    [{ quantity: { ...quantity, min: 4, max: 3, included: 3 } }, "quantity.max"],
    [{ quantity: { ...quantity, step: 0 } }, "quantity.step"],
    [{ quantity: { ...quantity, step: 1.5 } }, "quantity.step"],
    [{ quantity: { ...quantity, extraUnitPriceMinor: -1 } }, "quantity.extraUnitPriceMinor"],
    [{ priceMinor: 12.5 }, "priceMinor"],
    [{ priceMinor: -100 }, "priceMinor"],
    [{ durationMinutes: 0 }, "durationMinutes"],
    [{ name: "  " }, "name"],
  ])("createProduct rejects %o naming %s; nothing written", async (over, param) => {
    const { t, manager, categoryId } = await setup();
    const before = await snapshotDatabase(t, ["products", "events"]);
    await expectAppError(
      manager.as.mutation(api.catalogue.createProduct, { categoryId, name: "P", priceMinor: 100, durationMinutes: 30, quantity, ...over }),
      "INVALID_ARGUMENT",
      param,
    );
    expect(await snapshotDatabase(t, ["products", "events"])).toEqual(before);
  });

  test("extras: flat ones are taken once; product links stay in the industry", async () => {
    const { t, biz, manager, industryId } = await setup();
    const base = { industryId, name: "E", priceMinor: 100, durationMinutes: 0, productIds: [] };
    await expectAppError(manager.as.mutation(api.catalogue.createExtra, { ...base, pricing: "flat", maxQuantity: 3 }), "INVALID_ARGUMENT", "maxQuantity");
    const extraId = await manager.as.mutation(api.catalogue.createExtra, { ...base, pricing: "per_quantity", maxQuantity: 3 });
    await expectAppError(manager.as.mutation(api.catalogue.updateExtra, { extraId, pricing: "flat" }), "INVALID_ARGUMENT", "maxQuantity");
    const otherIndustry = await aCatalogue(t, biz.businessId, { industryName: "Repairs" });
    await expectAppError(manager.as.mutation(api.catalogue.updateExtra, { extraId, productIds: [otherIndustry.productId] }), "NOT_FOUND", "productIds[0]");
  });

  test("industry slugs are unique per business", async () => {
    const { manager, biz } = await setup();
    await expectAppError(manager.as.mutation(api.catalogue.createIndustry, { businessId: biz.businessId, name: "Other", slug: "home-cleaning" }), "ALREADY_EXISTS", "slug");
  });
});

describe("deactivate rather than delete", () => {
  test("inactive products, extras and industries vanish from the public catalogue but stay for staff", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const manager = await aManager(t, biz.businessId);
    const cat = await aCatalogue(t, biz.businessId, { products: [{ name: "A" }, { name: "B" }], extras: [{ name: "Only A", forProducts: [0] }, { name: "Any" }] });
    await manager.as.mutation(api.catalogue.updateProduct, { productId: cat.productIds[0], active: false });
    let pub = await t.query(api.catalogue.forBusiness, { businessId: biz.businessId });
    expect(pub.industries[0].categories[0].products.map((p) => p.name)).toEqual(["B"]);
    expect(pub.industries[0].extras.map((e) => e.name)).toEqual(["Any"]);
    await manager.as.mutation(api.catalogue.updateIndustry, { industryId: cat.industryId, active: false });
    pub = await t.query(api.catalogue.forBusiness, { businessId: biz.businessId });
    expect(pub.industries).toEqual([]);
    const all = await manager.as.query(api.catalogue.manage, { businessId: biz.businessId });
    expect(all.products).toHaveLength(2);
    expect(all.extras).toHaveLength(2);
  });

  test("a category with products cannot be removed; an empty one can", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const manager = await aManager(t, biz.businessId);
    const cat = await aCatalogue(t, biz.businessId);
    await expectAppError(manager.as.mutation(api.catalogue.removeCategory, { categoryId: cat.categoryId }), "CONFLICT", "categoryId");
    const empty = await manager.as.mutation(api.catalogue.createCategory, { industryId: cat.industryId, name: "Empty" });
    await manager.as.mutation(api.catalogue.removeCategory, { categoryId: empty });
    expect(await t.run((ctx) => ctx.db.get("categories", empty))).toBeNull();
  });

  test("a product moves only between categories of its industry", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const manager = await aManager(t, biz.businessId);
    const a = await aCatalogue(t, biz.businessId);
    const b = await aCatalogue(t, biz.businessId, { industryName: "Repairs" });
    await expectAppError(manager.as.mutation(api.catalogue.updateProduct, { productId: a.productId, categoryId: b.categoryId }), "INVALID_ARGUMENT", "categoryId");
    const second = await manager.as.mutation(api.catalogue.createCategory, { industryId: a.industryId, name: "Second" });
    await manager.as.mutation(api.catalogue.updateProduct, { productId: a.productId, categoryId: second });
    expect((await t.run((ctx) => ctx.db.get("products", a.productId)))?.categoryId).toBe(second);
  });

  test("a non-ACTIVE business's catalogue is hidden from the public", async () => {
    const t = newTest();
    const biz = await aBusiness(t, { status: "SUSPENDED" });
    await aCatalogue(t, biz.businessId);
    await expectAppError(t.query(api.catalogue.forBusiness, { businessId: biz.businessId }), "NOT_FOUND", "businessId");
    expect((await biz.owner.as.query(api.catalogue.forBusiness, { businessId: biz.businessId })).industries).toHaveLength(1);
  });
});
