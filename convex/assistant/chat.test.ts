import { afterEach, describe, expect, test, vi } from "vitest";
import { api } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { NOW, TUESDAY, at, bookingScenario, expectCode } from "../bookings.testkit";
import { newTest, type TestConvex } from "../test.setup";
import { startFakeModel, type FakeModel } from "./fakeModel.testkit";

let model: FakeModel | undefined;
/** The model env for both engines: the local engine's deployment env, the mock's process.env. */
function modelTest(fake: FakeModel) {
  const vars = { ASSISTANT_BASE_URL: fake.baseUrl, ASSISTANT_MODEL: "fake-model" };
  Object.assign(process.env, vars);
  return newTest(vars);
}

function clearModelEnv() {
  delete process.env.ASSISTANT_BASE_URL;
  delete process.env.ASSISTANT_MODEL;
}

afterEach(async () => {
  clearModelEnv();
  vi.useRealTimers();
  await model?.close();
  model = undefined;
});

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 200; i++) {
    const value = await read();
    if (ok(value)) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the chat did not reach the expected state");
}

async function setup(t: TestConvex) {
  const s = await bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
  const { bookingId } = await s.manager.as.mutation(api.bookings.hold, {
    businessId: s.businessId,
    zoneId: s.zoneId,
    cart: s.cart,
    start: at(TUESDAY, "10:00"),
    customerId: s.customer.customerId,
  });
  await s.manager.as.mutation(api.bookings.confirm, { bookingId });
  return { s, bookingId };
}

describe("assistant chat", () => {
  test("a scripted model's tool call becomes a card; nothing changes until Confirm, then it runs as the person", async () => {
    // Only the clock is fake: the model server and the scheduler use real timers.
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
    model = await startFakeModel([]);
    const t2 = modelTest(model);
    const { s: s2, bookingId: booking2 } = await setup(t2);
    model.script.push(
      { toolCall: { name: "cancel_booking", arguments: { bookingId: booking2 } } },
      { text: "I have prepared the cancellation; please confirm it on the card." },
      { text: "Cancelled." },
    );

    const me = s2.manager.as;
    expect(await me.query(api.assistant.chat.status, { businessId: s2.businessId })).toEqual({ configured: true, model: "fake-model" });
    const threadId = await me.mutation(api.assistant.chat.send, { businessId: s2.businessId, text: "Cancel Alice's clean on Tuesday" });
    const list = () => me.query(api.assistant.chat.messages, { threadId });
    const waiting = await until(list, (m) => m.some((x) => x.role === "assistant"));
    const card = waiting.find((m) => m.tool?.status === "pending")!;
    expect(card.tool).toMatchObject({ name: "cancel_booking", summary: expect.stringContaining("Cancel Alice Customer's Standard clean") });
    expect((await t2.run((ctx) => ctx.db.get("bookings", booking2 as Id<"bookings">)))!.status).toBe("CONFIRMED");
    expect(model.requests[0].tools?.map((x) => x.function.name)).toContain("get_revenue_summary");

    // Another person cannot answer this card.
    await expectCode(s2.provider.as.mutation(api.assistant.chat.decide, { messageId: card.messageId, confirm: true }), "NOT_FOUND");
    await me.mutation(api.assistant.chat.decide, { messageId: card.messageId, confirm: true });
    const booking = (await t2.run((ctx) => ctx.db.get("bookings", booking2 as Id<"bookings">)))!;
    expect(booking.status).toBe("CANCELLED");
    expect(booking.cancellation?.actor).toMatchObject({ role: "manager", userId: s2.manager.userId });
    await until(list, (m) => m.some((x) => x.role === "assistant" && x.text === "Cancelled."));
    await expectCode(me.mutation(api.assistant.chat.decide, { messageId: card.messageId, confirm: true }), "CONFLICT");
  });

  test("a reply streams: the panel's query sees the words while the model is still writing", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    model = await startFakeModel([{ text: "Tuesday looks quiet: one clean at 10:00.", holdAfterFirstChunk: held }]);
    const t = modelTest(model);
    const { s } = await setup(t);
    const threadId = await s.manager.as.mutation(api.assistant.chat.send, { businessId: s.businessId, text: "How is Tuesday?" });
    const list = () => s.manager.as.query(api.assistant.chat.messages, { threadId });
    await model.firstChunkSent();
    const partial = await until(list, (m) => m.some((x) => x.role === "assistant"));
    expect(partial.find((x) => x.role === "assistant")).toMatchObject({ text: "Tuesday ", streaming: true });
    expect(model.requests[0].stream).toBe(true);
    release();
    const done = await until(list, (m) => m.some((x) => x.role === "assistant" && !x.streaming));
    expect(done.filter((x) => x.role === "assistant")).toEqual([expect.objectContaining({ text: "Tuesday looks quiet: one clean at 10:00.", streaming: false })]);
  });

  test("a confirmed move, status or booking can be undone once, by the same person, while the booking is as it left it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
    model = await startFakeModel([]);
    const t = modelTest(model);
    const { s, bookingId } = await setup(t);
    const me = s.manager.as;
    const booking = () => t.run((ctx) => ctx.db.get("bookings", bookingId as Id<"bookings">));
    const list = (threadId: Id<"assistantThreads">) => me.query(api.assistant.chat.messages, { threadId });
    /** One model turn that asks for `toolCall`, then the confirmed card. */
    const confirmedCard = async (name: string, args: Record<string, unknown>) => {
      model!.script.push({ toolCall: { name, arguments: args } }, { text: "Please confirm on the card." }, { text: "Done." });
      const threadId = await me.mutation(api.assistant.chat.send, { businessId: s.businessId, text: `please ${name}` });
      const card = (await until(() => list(threadId), (m) => m.some((x) => x.tool?.status === "pending"))).find((x) => x.tool?.status === "pending")!;
      await me.mutation(api.assistant.chat.decide, { messageId: card.messageId, confirm: true });
      // The model's turn after the confirmation, so the next script is taken by the next card.
      const after = await until(() => list(threadId), (m) => m.some((x) => x.text === "Done."));
      return after.find((x) => x.messageId === card.messageId)!;
    };

    const moved = await confirmedCard("reschedule_booking", { bookingId, start: `${TUESDAY}T13:00` });
    expect((await booking())!.start).toBe(at(TUESDAY, "13:00"));
    expect(moved.tool).toMatchObject({ status: "confirmed", undo: { summary: expect.stringMatching(/back to .*10:00/), until: NOW + 15 * 60_000 } });
    await expectCode(s.provider.as.mutation(api.assistant.chat.undo, { messageId: moved.messageId }), "NOT_FOUND");
    expect(await me.mutation(api.assistant.chat.undo, { messageId: moved.messageId })).toEqual({ status: "undone" });
    expect((await booking())!.start).toBe(at(TUESDAY, "10:00"));
    await expectCode(me.mutation(api.assistant.chat.undo, { messageId: moved.messageId }), "CONFLICT");

    // Changed by someone since: the undo is refused and nothing moves.
    const again = await confirmedCard("reschedule_booking", { bookingId, start: `${TUESDAY}T14:00` });
    await me.mutation(api.bookings.reschedule, { bookingId: bookingId as Id<"bookings">, start: at(TUESDAY, "15:00"), expectedFeeMinor: 0 });
    const stale = await expectCode(me.mutation(api.assistant.chat.undo, { messageId: again.messageId }), "CONFLICT");
    expect(stale.message).toMatch(/changed since/);
    expect((await booking())!.start).toBe(at(TUESDAY, "15:00"));

    // A field status goes back when the portal would let the person set it back.
    vi.setSystemTime(at(TUESDAY, "14:30"));
    const enRoute = await confirmedCard("update_appointment_status", { bookingId, status: "EN_ROUTE" });
    expect((await booking())!.status).toBe("EN_ROUTE");
    await me.mutation(api.assistant.chat.undo, { messageId: enRoute.messageId });
    expect((await booking())!.status).toBe("CONFIRMED");

    // Too late: past the window, the card keeps its result.
    const late = await confirmedCard("update_appointment_status", { bookingId, status: "EN_ROUTE" });
    vi.setSystemTime(at(TUESDAY, "14:30") + 16 * 60_000);
    await expectCode(me.mutation(api.assistant.chat.undo, { messageId: late.messageId }), "CONFLICT");
    expect((await booking())!.status).toBe("EN_ROUTE");
  }, 60_000);

  test("a hold made through the assistant is released by its undo; a message sent offers none", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
    model = await startFakeModel([]);
    const t = modelTest(model);
    const { s } = await setup(t);
    const me = s.manager.as;
    model.script.push(
      { toolCall: { name: "book_for_customer", arguments: { customerId: s.customer.customerId, zoneId: s.zoneId, productId: s.cart[0].productId, start: `${TUESDAY}T15:00` } } },
      { text: "Confirm the hold on the card." },
      { text: "Held." },
    );
    const threadId = await me.mutation(api.assistant.chat.send, { businessId: s.businessId, text: "Hold 15:00 Tuesday for Alice" });
    const list = () => me.query(api.assistant.chat.messages, { threadId });
    const card = (await until(list, (m) => m.some((x) => x.tool?.status === "pending"))).find((x) => x.tool?.status === "pending")!;
    await me.mutation(api.assistant.chat.decide, { messageId: card.messageId, confirm: true });
    const confirmed = (await list()).find((x) => x.messageId === card.messageId)!;
    const heldId = (confirmed.tool!.result as { bookingId: Id<"bookings"> }).bookingId;
    expect(confirmed.tool!.undo?.summary).toMatch(/^Release the hold/);
    await me.mutation(api.assistant.chat.undo, { messageId: card.messageId });
    expect((await t.run((ctx) => ctx.db.get("bookings", heldId)))!.status).toBe("CANCELLED");
    await until(list, (m) => m.some((x) => x.text === "Held."));

    model.script.push({ toolCall: { name: "send_customer_message", arguments: { customerId: s.customer.customerId, body: "See you Tuesday" } } }, { text: "Confirm." }, { text: "Sent." });
    const thread2 = await me.mutation(api.assistant.chat.send, { businessId: s.businessId, text: "Tell Alice see you Tuesday" });
    const msgCard = (await until(() => me.query(api.assistant.chat.messages, { threadId: thread2 }), (m) => m.some((x) => x.tool?.status === "pending"))).find((x) => x.tool?.status === "pending")!;
    await me.mutation(api.assistant.chat.decide, { messageId: msgCard.messageId, confirm: true });
    expect((await me.query(api.assistant.chat.messages, { threadId: thread2 })).find((x) => x.messageId === msgCard.messageId)!.tool).toMatchObject({ status: "confirmed" });
    expect((await me.query(api.assistant.chat.messages, { threadId: thread2 })).find((x) => x.messageId === msgCard.messageId)!.tool!.undo).toBeUndefined();
    await expectCode(me.mutation(api.assistant.chat.undo, { messageId: msgCard.messageId }), "CONFLICT");
  }, 60_000);

  test("20 messages an hour per person; without a model the panel is told to connect one", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    vi.setSystemTime(NOW);
    model = await startFakeModel([{ text: "ok" }]);
    const t = modelTest(model);
    const { s } = await setup(t);
    const threadId = await s.owner.as.mutation(api.assistant.chat.send, { businessId: s.businessId, text: "hello 1" });
    for (let i = 2; i <= 20; i++) await s.owner.as.mutation(api.assistant.chat.send, { businessId: s.businessId, threadId, text: `hello ${i}` });
    const refused = await expectCode(s.owner.as.mutation(api.assistant.chat.send, { businessId: s.businessId, threadId, text: "one more" }), "RATE_LIMITED");
    expect(refused.message).toMatch(/20 messages .* this hour.* Try again in \d+ minutes\./);
    await s.manager.as.mutation(api.assistant.chat.send, { businessId: s.businessId, text: "my own quota" });
    await expectCode(s.customer.as.mutation(api.assistant.chat.send, { businessId: s.businessId, text: "hi" }), "FORBIDDEN");

    clearModelEnv();
    const bare = newTest();
    const b = await bookingScenario(bare);
    expect(await b.owner.as.query(api.assistant.chat.status, { businessId: b.businessId })).toEqual({ configured: false, model: null });
    await expectCode(b.owner.as.mutation(api.assistant.chat.send, { businessId: b.businessId, text: "hi" }), "UNSUPPORTED");
  });
});
