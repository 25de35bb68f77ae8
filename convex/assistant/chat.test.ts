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
