import { describe, expect, test } from "vitest";
import { api } from "./_generated/api";
import { aBooking, aBusiness, aCatalogue, aCustomer, aProvider, aZone, expectAppError, snapshotDatabase } from "./test.builders";
import { newTest } from "./test.setup";

describe("messages", () => {
  test("a conversation: sides, ordering, unread counts and read marks", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const provider = await aProvider(t, biz.businessId);
    const customer = await aCustomer(t, biz.businessId);
    const page = { numItems: 10, cursor: null };
    await customer.as.mutation(api.messages.send, { customerId: customer.customerId, body: "  Can you come earlier?  " });
    await customer.as.mutation(api.messages.send, { customerId: customer.customerId, body: "Or at noon?" });
    expect(await provider.as.query(api.messages.unreadCount, { customerId: customer.customerId })).toBe(2);
    expect(await customer.as.query(api.messages.unreadCount, { customerId: customer.customerId })).toBe(0);
    await provider.as.mutation(api.messages.send, { customerId: customer.customerId, body: "Noon works." });
    const thread = await customer.as.query(api.messages.list, { customerId: customer.customerId, paginationOpts: page });
    expect(thread.page.map((m) => [m.from, m.body])).toEqual([
      ["business", "Noon works."],
      ["customer", "Or at noon?"],
      ["customer", "Can you come earlier?"],
    ]);
    expect(await provider.as.mutation(api.messages.markRead, { customerId: customer.customerId })).toBe(2);
    expect(await provider.as.query(api.messages.unreadCount, { customerId: customer.customerId })).toBe(0);
    expect(await customer.as.query(api.messages.unreadCount, { customerId: customer.customerId })).toBe(1);
    const pushes = await t.run((ctx) => ctx.db.query("outbox").collect());
    expect(new Set(pushes.map((p) => `${p.party}/${p.room}`))).toEqual(
      new Set([`customers/biz_${biz.businessId}`]),
    );
    expect(JSON.stringify(pushes.map((p) => p.payload))).not.toContain("noon");
  });

  test("a message may cite only the customer's own booking; empty bodies are refused", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const { zoneId } = await aZone(t, biz.businessId);
    const cat = await aCatalogue(t, biz.businessId);
    const a = await aCustomer(t, biz.businessId);
    const b = await aCustomer(t, biz.businessId);
    const bookingOfB = await aBooking(t, { businessId: biz.businessId, customerId: b.customerId, zoneId, industryId: cat.industryId });
    const bookingOfA = await aBooking(t, { businessId: biz.businessId, customerId: a.customerId, zoneId, industryId: cat.industryId });
    const before = await snapshotDatabase(t, ["messages", "events", "outbox"]);
    await expectAppError(a.as.mutation(api.messages.send, { customerId: a.customerId, body: "hi", bookingId: bookingOfB.bookingId }), "NOT_FOUND", "bookingId");
    await expectAppError(a.as.mutation(api.messages.send, { customerId: a.customerId, body: "   " }), "INVALID_ARGUMENT", "body");
    await expectAppError(a.as.mutation(api.messages.send, { customerId: a.customerId, body: "x".repeat(5_001) }), "INVALID_ARGUMENT", "body");
    expect(await snapshotDatabase(t, ["messages", "events", "outbox"])).toEqual(before);
    const id = await a.as.mutation(api.messages.send, { customerId: a.customerId, body: "About my booking", bookingId: bookingOfA.bookingId });
    expect((await t.run((ctx) => ctx.db.get("messages", id)))?.bookingId).toBe(bookingOfA.bookingId);
  });
});
