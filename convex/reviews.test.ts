import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { aBooking, aBusiness, aCatalogue, aCustomer, aManager, aProvider, aZone, expectAppError, snapshotDatabase } from "./test.builders";
import { newTest } from "./test.setup";

async function setup() {
  const t = newTest();
  const biz = await aBusiness(t);
  const { zoneId } = await aZone(t, biz.businessId);
  const cat = await aCatalogue(t, biz.businessId);
  const provider = await aProvider(t, biz.businessId);
  const customer = await aCustomer(t, biz.businessId, { name: "Maria Lopez" });
  const booking = (status: "COMPLETED" | "CONFIRMED" | "CANCELLED") =>
    aBooking(t, {
      businessId: biz.businessId,
      customerId: customer.customerId,
      zoneId,
      industryId: cat.industryId,
      status,
      start: Date.now() - 86_400_000,
      assignedResourceIds: [provider.resourceId],
    });
  return { t, biz, provider, customer, booking };
}

describe("reviews", () => {
  test("the customer reviews a completed booking once; the business replies; the public sees first names", async () => {
    const { t, biz, provider, customer, booking } = await setup();
    const { bookingId } = await booking("COMPLETED");
    const reviewId = await customer.as.mutation(api.reviews.create, { bookingId, rating: 5, comment: " Spotless! " });
    expect(await t.run((ctx) => ctx.db.get("reviews", reviewId))).toMatchObject({ rating: 5, comment: "Spotless!", resourceIds: [provider.resourceId] });
    await expectAppError(customer.as.mutation(api.reviews.create, { bookingId, rating: 4 }), "ALREADY_EXISTS", "bookingId");
    const manager = await aManager(t, biz.businessId);
    await manager.as.mutation(api.reviews.reply, { reviewId, reply: "Thank you, Maria!" });
    const page = await t.query(api.reviews.listForBusiness, { businessId: biz.businessId, paginationOpts: { numItems: 10, cursor: null } });
    expect(page.page).toEqual([{ _id: reviewId, rating: 5, comment: "Spotless!", reply: "Thank you, Maria!", reviewerName: "Maria", createdAt: expect.any(Number) }]);
    expect(await t.query(api.reviews.summary, { businessId: biz.businessId })).toEqual({ count: 1, averageRating: 5 });
    expect((await provider.as.query(api.reviews.forBooking, { bookingId }))?._id).toBe(reviewId);
    const events = await t.run((ctx) => ctx.db.query("events").collect());
    expect(events.map((e) => e.type)).toContain("review.created");
  });

  test.each(["CONFIRMED", "CANCELLED"] as const)("a %s booking cannot be reviewed", async (status) => {
    const { t, customer, booking } = await setup();
    const { bookingId } = await booking(status);
    const before = await snapshotDatabase(t, ["reviews", "events"]);
    await expectAppError(customer.as.mutation(api.reviews.create, { bookingId, rating: 5 }), "CONFLICT", "bookingId");
    expect(await snapshotDatabase(t, ["reviews", "events"])).toEqual(before);
  });

  test.each([0, 6, 4.5])("rating %s is refused", async (rating) => {
    const { customer, booking } = await setup();
    const { bookingId } = await booking("COMPLETED");
    await expectAppError(customer.as.mutation(api.reviews.create, { bookingId, rating }), "INVALID_ARGUMENT", "rating");
  });

  test("summary of a business without reviews", async () => {
    const { t, biz } = await setup();
    expect(await t.query(api.reviews.summary, { businessId: biz.businessId })).toEqual({ count: 0, averageRating: null });
  });
});
