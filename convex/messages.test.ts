import { describe, expect, test } from "vitest";
import { api, internal } from "./_generated/api";
import { aBooking, aBusiness, aCatalogue, aCustomer, aManager, aProvider, aZone, expectAppError, snapshotDatabase } from "./test.builders";
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

describe("conversations", () => {
  const page = { numItems: 20, cursor: null };

  /** A stored file, as after an upload (the mock engine keeps no content type: the uploader's is passed along). */
  async function anImage(t: ReturnType<typeof newTest>, type = "image/png") {
    return await t.run((ctx) => ctx.storage.store(new Blob([new Uint8Array([137, 80, 78, 71, 13, 10, 26, 10])], { type })));
  }

  test("a thread per booking and a general one; unread per side; the other side is told once per unread streak", async () => {
    const t = newTest();
    const biz = await aBusiness(t, { name: "Sparkle Cleaning" });
    const { zoneId } = await aZone(t, biz.businessId);
    const cat = await aCatalogue(t, biz.businessId);
    const provider = await aProvider(t, biz.businessId);
    const customer = await aCustomer(t, biz.businessId, { name: "Casey", email: "casey@example.test" });
    const booking = await aBooking(t, { businessId: biz.businessId, customerId: customer.customerId, zoneId, industryId: cat.industryId });
    const imageId = await anImage(t);

    expect(await customer.as.query(api.messages.find, { customerId: customer.customerId, bookingId: booking.bookingId })).toBeNull();
    await customer.as.mutation(api.messages.send, {
      customerId: customer.customerId,
      bookingId: booking.bookingId,
      body: "The stain on the carpet",
      attachments: [{ storageId: imageId, contentType: "image/png", name: "carpet.png" }],
    });
    await customer.as.mutation(api.messages.send, { customerId: customer.customerId, bookingId: booking.bookingId, body: "Here it is" });
    await customer.as.mutation(api.messages.send, { customerId: customer.customerId, body: "General question" });

    const aboutBooking = (await customer.as.query(api.messages.find, { customerId: customer.customerId, bookingId: booking.bookingId }))!;
    const inbox = await provider.as.query(api.messages.inbox, { businessId: biz.businessId, filter: "all", paginationOpts: page });
    expect(inbox.page.map((c) => [c.bookingId ?? null, c.unread, c.lastMessagePreview, c.customerName])).toEqual([
      [null, 1, "General question", "Casey"],
      [booking.bookingId, 2, "Here it is", "Casey"],
    ]);
    expect(await provider.as.query(api.messages.inboxUnread, { businessId: biz.businessId })).toBe(2);
    const thread = await provider.as.query(api.messages.thread, { conversationId: aboutBooking._id, paginationOpts: page });
    expect(thread.page.map((m) => m.body)).toEqual(["Here it is", "The stain on the carpet"]);
    expect(thread.page[1].attachments).toMatchObject([{ storageId: imageId, contentType: "image/png", size: 8, name: "carpet.png" }]);
    expect(thread.page[1].attachments[0].url).toMatch(/^https?:\/\//);

    // The owner heard of each thread's first unread message only.
    const toOwner = await t.run((ctx) => ctx.db.query("notifications").collect());
    expect(toOwner.map((n) => [n.templateKey, n.to, n.userId])).toEqual([
      ["new_message", biz.owner.identity.email, biz.owner.userId],
      ["new_message", biz.owner.identity.email, biz.owner.userId],
    ]);
    expect(toOwner[0].body).toContain("The stain on the carpet");
    expect(toOwner[0].body).toContain(`/inbox?conversation=${aboutBooking._id}`);

    expect(await provider.as.mutation(api.messages.markThreadRead, { conversationId: aboutBooking._id })).toBe(2);
    expect((await provider.as.query(api.messages.get, { conversationId: aboutBooking._id })).unread).toBe(0);
    await provider.as.mutation(api.messages.send, { customerId: customer.customerId, bookingId: booking.bookingId, body: "We will bring the foam." });
    await provider.as.mutation(api.messages.send, { customerId: customer.customerId, bookingId: booking.bookingId, body: "See you Monday." });
    expect((await customer.as.query(api.messages.get, { conversationId: aboutBooking._id })).unread).toBe(2);
    expect(await customer.as.query(api.messages.unreadCount, { customerId: customer.customerId })).toBe(2);
    const toCustomer = (await t.run((ctx) => ctx.db.query("notifications").collect())).filter((n) => n.customerId === customer.customerId);
    // (Its delivery is the notifications module's; here only what was queued, and to whom.)
    expect(toCustomer.map((n) => [n.to, n.channel, n.subject])).toEqual([["casey@example.test", "email", "New message from Sparkle Cleaning"]]);
    expect(toCustomer[0].body).toContain(`/messages?conversation=${aboutBooking._id}`);
    expect(await customer.as.mutation(api.messages.markThreadRead, { conversationId: aboutBooking._id })).toBe(2);
    expect(await customer.as.query(api.messages.unreadCount, { customerId: customer.customerId })).toBe(0);
    const mine = await customer.as.query(api.messages.forCustomer, { customerId: customer.customerId });
    expect(mine.map((c) => [c.lastFrom, c.unread])).toEqual([["business", 0], ["customer", 0]]);
  });

  test("attachments must be uploaded images; an empty body is fine with an image", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const customer = await aCustomer(t, biz.businessId);
    const pdf = await anImage(t, "application/pdf");
    const image = await anImage(t);
    expect(await customer.as.mutation(api.messages.generateUploadUrl, { customerId: customer.customerId })).toMatch(/^https?:\/\//);
    const before = await snapshotDatabase(t, ["messages", "conversations", "notifications"]);
    await expectAppError(customer.as.mutation(api.messages.send, { customerId: customer.customerId, body: "doc", attachments: [{ storageId: pdf, contentType: "application/pdf" }] }), "INVALID_ARGUMENT", "attachments[0]");
    const five = Array.from({ length: 5 }, () => ({ storageId: image, contentType: "image/png" }));
    await expectAppError(customer.as.mutation(api.messages.send, { customerId: customer.customerId, body: "x", attachments: five }), "INVALID_ARGUMENT", "attachments");
    expect(await snapshotDatabase(t, ["messages", "conversations", "notifications"])).toEqual(before);
    await customer.as.mutation(api.messages.send, { customerId: customer.customerId, body: " ", attachments: [{ storageId: image, contentType: "image/png" }] });
    const [c] = await customer.as.query(api.messages.forCustomer, { customerId: customer.customerId });
    expect(c.lastMessagePreview).toBe("(image)");
  });

  test("another customer and another business's staff see nothing and cannot write, upload or assign", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const other = await aBusiness(t);
    const outsider = await aManager(t, other.businessId);
    const outsiderMember = outsider.membershipId;
    const customer = await aCustomer(t, biz.businessId);
    const stranger = await aCustomer(t, biz.businessId);
    await customer.as.mutation(api.messages.send, { customerId: customer.customerId, body: "hello" });
    const [c] = await customer.as.query(api.messages.forCustomer, { customerId: customer.customerId });
    // (notifications are left out: the first message's delivery may still be under way)
    const before = await snapshotDatabase(t, ["messages", "conversations"]);
    const notified = (await t.run((ctx) => ctx.db.query("notifications").collect())).length;
    for (const who of [stranger, outsider]) {
      await expectAppError(who.as.mutation(api.messages.send, { customerId: customer.customerId, body: "x" }), "NOT_FOUND", "customerId");
      await expectAppError(who.as.mutation(api.messages.generateUploadUrl, { customerId: customer.customerId }), "NOT_FOUND", "customerId");
      await expectAppError(who.as.query(api.messages.thread, { conversationId: c._id, paginationOpts: page }), "NOT_FOUND", "conversationId");
      await expectAppError(who.as.query(api.messages.get, { conversationId: c._id }), "NOT_FOUND", "conversationId");
      await expectAppError(who.as.mutation(api.messages.markThreadRead, { conversationId: c._id }), "NOT_FOUND", "conversationId");
      await expectAppError(who.as.mutation(api.messages.assign, { conversationId: c._id, membershipId: null }), "NOT_FOUND", "conversationId");
    }
    await expectAppError(outsider.as.query(api.messages.inbox, { businessId: biz.businessId, filter: "all", paginationOpts: page }), "NOT_FOUND", "businessId");
    await expectAppError(customer.as.query(api.messages.inbox, { businessId: biz.businessId, filter: "all", paginationOpts: page }), "FORBIDDEN");
    await expectAppError(customer.as.mutation(api.messages.assign, { conversationId: c._id, membershipId: null }), "FORBIDDEN");
    await expectAppError(customer.as.query(api.messages.thread, { conversationId: "nonsense", paginationOpts: page }), "NOT_FOUND", "conversationId");
    // A manager of this business cannot hand the thread to another business's member.
    const manager = await aManager(t, biz.businessId);
    await expectAppError(manager.as.mutation(api.messages.assign, { conversationId: c._id, membershipId: outsiderMember }), "NOT_FOUND", "membershipId");
    expect(await snapshotDatabase(t, ["messages", "conversations"])).toEqual(before);
    expect((await t.run((ctx) => ctx.db.query("notifications").collect())).length).toBe(notified);
  });

  test("assignment: managers assign anyone, staff only take a thread themselves; the assignee is told of new messages", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const manager = await aManager(t, biz.businessId);
    const provider = await aProvider(t, biz.businessId, { email: "pat@example.test" });
    const colleague = await aProvider(t, biz.businessId, { name: "Kim" });
    const customer = await aCustomer(t, biz.businessId);
    await customer.as.mutation(api.messages.send, { customerId: customer.customerId, body: "first" });
    const [c] = await customer.as.query(api.messages.forCustomer, { customerId: customer.customerId });

    const unassigned = await manager.as.query(api.messages.inbox, { businessId: biz.businessId, filter: "unassigned", paginationOpts: page });
    expect(unassigned.page.map((r) => r._id)).toEqual([c._id]);
    await expectAppError(provider.as.mutation(api.messages.assign, { conversationId: c._id, membershipId: colleague.membershipId }), "FORBIDDEN");
    expect(await provider.as.mutation(api.messages.assign, { conversationId: c._id, membershipId: provider.membershipId })).toBe(provider.membershipId);
    await expectAppError(colleague.as.mutation(api.messages.assign, { conversationId: c._id, membershipId: null }), "FORBIDDEN");
    const mine = await provider.as.query(api.messages.inbox, { businessId: biz.businessId, filter: "mine", paginationOpts: page });
    expect(mine.page.map((r) => [r._id, r.assigneeId])).toEqual([[c._id, provider.membershipId]]);
    expect((await colleague.as.query(api.messages.inbox, { businessId: biz.businessId, filter: "mine", paginationOpts: page })).page).toEqual([]);
    expect((await manager.as.query(api.messages.inbox, { businessId: biz.businessId, filter: "unassigned", paginationOpts: page })).page).toEqual([]);

    await manager.as.mutation(api.messages.markThreadRead, { conversationId: c._id });
    await customer.as.mutation(api.messages.send, { customerId: customer.customerId, body: "second" });
    const last = (await t.run((ctx) => ctx.db.query("notifications").order("desc").first()))!;
    expect([last.to, last.userId]).toEqual(["pat@example.test", provider.userId]);

    expect(await manager.as.mutation(api.messages.assign, { conversationId: c._id, membershipId: colleague.membershipId })).toBe(colleague.membershipId);
    expect(await manager.as.mutation(api.messages.assign, { conversationId: c._id, membershipId: null })).toBeNull();
    const team = (await manager.as.query(api.messages.assignees, { businessId: biz.businessId })).map((a) => a.membershipId);
    expect(team).toEqual(expect.arrayContaining([manager.membershipId, provider.membershipId, colleague.membershipId]));
  });

  test("messages from before conversations are filed into their threads by the migration", async () => {
    const t = newTest();
    const biz = await aBusiness(t);
    const provider = await aProvider(t, biz.businessId);
    const customer = await aCustomer(t, biz.businessId);
    await t.run(async (ctx) => {
      const base = { businessId: biz.businessId, customerId: customer.customerId, authorId: customer.userId };
      await ctx.db.insert("messages", { ...base, from: "customer", body: "old, read", createdAt: 1_000, readAt: 1_500 });
      await ctx.db.insert("messages", { ...base, from: "customer", body: "old, unread", createdAt: 2_000 });
    });
    expect(await provider.as.query(api.messages.unreadCount, { customerId: customer.customerId })).toBe(0);
    await t.mutation(internal.migrations.run, { fn: "migrations:backfillConversations" });
    const [c] = await provider.as.query(api.messages.forCustomer, { customerId: customer.customerId });
    expect([c.unread, c.lastMessagePreview, c.bookingId]).toEqual([1, "old, unread", undefined]);
    const thread = await provider.as.query(api.messages.thread, { conversationId: c._id, paginationOpts: page });
    expect(thread.page.map((m) => m.body)).toEqual(["old, unread", "old, read"]);
    await t.mutation(internal.migrations.run, { fn: "migrations:backfillConversations", reset: true });
    expect((await provider.as.query(api.messages.get, { conversationId: c._id })).unread).toBe(1);
  });
});
