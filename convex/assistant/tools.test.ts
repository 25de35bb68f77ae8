import { afterEach, beforeEach, describe, expect, test, vi } from "vitest";
import { api, internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { NOW, TUESDAY, at, bookingScenario, expectCode, freezeClock, type Scenario } from "../bookings.testkit";
import { aBusiness, aCustomer, snapshotDatabase } from "../test.builders";
import { newTest, type TestConvex } from "../test.setup";
import type { AssistantCaller } from "./run";
import { TOOLS } from "./tools";
import { z } from "zod";

beforeEach(() => freezeClock());
afterEach(() => vi.useRealTimers());

const WRITTEN = ["bookings", "bookingStatusHistory", "bookingAssignments", "invoices", "messages", "events", "notifications"] as const;

/** No deposit: a confirmed booking is CONFIRMED at once. */
function scenario(t: TestConvex) {
  return bookingScenario(t, { policies: { booking: { depositBp: 0 } } });
}

function as(userId: Id<"users">, businessId: Id<"businesses">): AssistantCaller {
  return { kind: "user", userId, businessId };
}

function read(t: TestConvex, caller: AssistantCaller, tool: string, input: Record<string, unknown> = {}) {
  return t.query(internal.assistant.run.read, { caller, tool, input });
}
function write(t: TestConvex, caller: AssistantCaller, tool: string, input: Record<string, unknown> = {}) {
  return t.mutation(internal.assistant.run.write, { caller, tool, input });
}

/** A confirmed job at Tuesday `time`, booked by the manager and placed on the only provider. */
async function job(s: Scenario, time = "10:00") {
  const { bookingId } = await s.manager.as.mutation(api.bookings.hold, {
    businessId: s.businessId,
    zoneId: s.zoneId,
    cart: s.cart,
    start: at(TUESDAY, time),
    customerId: s.customer.customerId,
  });
  await s.manager.as.mutation(api.bookings.confirm, { bookingId });
  return bookingId;
}

async function refusedWithoutWrites(t: TestConvex, call: Promise<unknown>, code: string) {
  const before = await snapshotDatabase(t, WRITTEN);
  await expectCode(call, code);
  expect(await snapshotDatabase(t, WRITTEN)).toEqual(before);
}

describe("assistant tools", () => {
  test("there are the ten tools, each with a description and a zod schema", () => {
    expect(TOOLS.map((tool) => tool.name).sort()).toEqual(
      [
        "book_for_customer",
        "cancel_booking",
        "find_free_slots",
        "get_appointments_today",
        "get_customer_by_phone",
        "get_revenue_summary",
        "reschedule_booking",
        "send_customer_message",
        "update_appointment_status",
        "whats_unassigned_today",
      ].sort(),
    );
    for (const tool of TOOLS) {
      expect(tool.description.length).toBeGreaterThan(30);
      expect(tool.input).toBeInstanceOf(z.ZodObject);
      expect(["read", "write"]).toContain(tool.kind);
      if (tool.kind === "write") expect(tool.preview).toBeTypeOf("function");
    }
  });

  test("appointments: the provider sees their own day; the manager sees every job; customers and outsiders are NOT_FOUND", async () => {
    const t = newTest();
    const s = await scenario(t);
    const bookingId = await job(s);
    const provider = as(s.provider.userId, s.businessId);
    const mine = (await read(t, provider, "get_appointments_today", { date: TUESDAY })) as { appointments: { bookingId: string; customer: string }[] };
    expect(mine.appointments).toEqual([expect.objectContaining({ bookingId, customer: "Alice Customer" })]);
    const all = (await read(t, as(s.manager.userId, s.businessId), "get_appointments_today", { date: TUESDAY })) as { appointments: { provider: string }[] };
    expect(all.appointments.map((a) => a.provider)).toEqual(["Pat Provider"]);

    await expectCode(read(t, as(s.customer.userId, s.businessId), "get_appointments_today"), "NOT_FOUND");
    const other = await aBusiness(t, { name: "Other" });
    await expectCode(read(t, as(other.owner.userId, s.businessId), "get_appointments_today"), "NOT_FOUND");
  });

  test("revenue: dispatchers and owners read it, a provider is refused", async () => {
    const t = newTest();
    const s = await scenario(t);
    await job(s);
    const summary = (await read(t, as(s.owner.userId, s.businessId), "get_revenue_summary", { days: 3 })) as { collected: string; outstanding: string };
    expect(summary).toMatchObject({ collected: "$0.00", outstanding: "$100.00" });
    await expectCode(read(t, as(s.provider.userId, s.businessId), "get_revenue_summary"), "FORBIDDEN");
  });

  test("customer by phone and free slots answer from the business's own data", async () => {
    const t = newTest();
    const s = await scenario(t);
    const phoned = await aCustomer(t, s.businessId, { name: "Emily Carter", phone: "+15550100" });
    const found = (await read(t, as(s.provider.userId, s.businessId), "get_customer_by_phone", { phone: "+1555" })) as { customers: { customerId: string }[] };
    expect(found.customers.map((c) => c.customerId)).toEqual([phoned.customerId]);

    const other = await aBusiness(t);
    await aCustomer(t, other.businessId, { name: "Not Yours", phone: "+15550199" });
    expect(((await read(t, as(s.provider.userId, s.businessId), "get_customer_by_phone", { phone: "+1555" })) as { customers: unknown[] }).customers).toHaveLength(1);

    const slots = (await read(t, as(s.manager.userId, s.businessId), "find_free_slots", {
      zoneId: s.zoneId,
      productId: s.catalogue.productId,
      from: TUESDAY,
    })) as { slots: { startLocal: string }[] };
    expect(slots.slots[0].startLocal).toBe(`${TUESDAY}T09:00`);
    await expectCode(read(t, as(s.manager.userId, s.businessId), "find_free_slots", { zoneId: "nope", productId: s.catalogue.productId }), "NOT_FOUND");
    await expectCode(read(t, as(s.manager.userId, s.businessId), "find_free_slots", { zoneId: s.zoneId, productId: s.catalogue.productId, from: "soon" }), "INVALID_ARGUMENT");
  });

  test("book for a customer: hold first, confirm in a second call, recorded as the manager; a provider may not book", async () => {
    const t = newTest();
    const s = await scenario(t);
    const provider = as(s.provider.userId, s.businessId);
    const hold = { customerId: s.customer.customerId, zoneId: s.zoneId, productId: s.catalogue.productId, start: `${TUESDAY}T11:00` };
    await refusedWithoutWrites(t, write(t, provider, "book_for_customer", hold), "FORBIDDEN");

    const manager = as(s.manager.userId, s.businessId);
    const preview = await t.query(internal.assistant.run.preview, { caller: manager, tool: "book_for_customer", input: hold });
    expect(preview.summary).toContain("Alice Customer");
    const held = (await write(t, manager, "book_for_customer", hold)) as { bookingId: Id<"bookings">; status: string; total: string };
    expect(held).toMatchObject({ status: "HELD", total: "$100.00" });
    const confirmed = (await write(t, manager, "book_for_customer", { holdBookingId: held.bookingId })) as { status: string };
    expect(confirmed.status).toBe("CONFIRMED");
    const history = await t.run((ctx) => ctx.db.query("bookingStatusHistory").withIndex("by_bookingId", (q) => q.eq("bookingId", held.bookingId)).collect());
    expect(history.map((h) => [h.to, h.actor.role, h.actor.userId])).toEqual([
      ["HELD", "manager", s.manager.userId],
      ["CONFIRMED", "manager", s.manager.userId],
    ]);
    const events = await t.run((ctx) => ctx.db.query("events").collect());
    expect(events.map((e) => e.type)).toEqual(expect.arrayContaining(["booking.held", "booking.confirmed"]));
    await expectCode(write(t, manager, "book_for_customer", { customerId: s.customer.customerId }), "INVALID_ARGUMENT");
  });

  test("cancel shows the fee first and changes nothing until the fee is passed back", async () => {
    const t = newTest();
    const s = await scenario(t);
    const bookingId = await job(s);
    const manager = as(s.manager.userId, s.businessId);
    const before = await snapshotDatabase(t, WRITTEN);
    const quote = (await write(t, manager, "cancel_booking", { bookingId })) as { changed: boolean; feeMinor: number };
    expect(quote).toMatchObject({ changed: false, feeMinor: 0 });
    expect(await snapshotDatabase(t, WRITTEN)).toEqual(before);
    await refusedWithoutWrites(t, write(t, as(s.provider.userId, s.businessId), "cancel_booking", { bookingId, expectedFeeMinor: 0 }), "FORBIDDEN");
    const done = (await write(t, manager, "cancel_booking", { bookingId, expectedFeeMinor: quote.feeMinor, reason: "customer asked" })) as { status: string };
    expect(done.status).toBe("CANCELLED");
    expect((await t.run((ctx) => ctx.db.get("bookings", bookingId)))!.status).toBe("CANCELLED");
  });

  test("reschedule previews, then moves through the booking commands", async () => {
    const t = newTest();
    const s = await scenario(t);
    const bookingId = await job(s);
    const manager = as(s.manager.userId, s.businessId);
    const preview = (await write(t, manager, "reschedule_booking", { bookingId, start: `${TUESDAY}T13:00` })) as { changed: boolean; allowed: boolean; feeMinor: number };
    expect(preview).toMatchObject({ changed: false, allowed: true });
    expect((await t.run((ctx) => ctx.db.get("bookings", bookingId)))!.start).toBe(at(TUESDAY, "10:00"));
    await write(t, manager, "reschedule_booking", { bookingId, start: `${TUESDAY}T13:00`, expectedFeeMinor: preview.feeMinor });
    expect((await t.run((ctx) => ctx.db.get("bookings", bookingId)))!.start).toBe(at(TUESDAY, "13:00"));
  });

  test("status updates: the provider's own job only; bad status names the field", async () => {
    const t = newTest();
    const s = await scenario(t);
    const bookingId = await job(s, "09:00");
    vi.setSystemTime(at(TUESDAY, "08:30"));
    const provider = as(s.provider.userId, s.businessId);
    await expectCode(write(t, provider, "update_appointment_status", { bookingId, status: "LATE" }), "INVALID_ARGUMENT", "status");
    expect(await write(t, provider, "update_appointment_status", { bookingId, status: "EN_ROUTE" })).toMatchObject({ status: "EN_ROUTE" });

    const second = await aBusiness(t);
    await refusedWithoutWrites(t, write(t, as(second.owner.userId, s.businessId), "update_appointment_status", { bookingId, status: "IN_PROGRESS" }), "NOT_FOUND");
    vi.setSystemTime(NOW);
  });

  test("messages go through the inbox as the person; unassigned jobs are the dispatcher's", async () => {
    const t = newTest();
    const s = await scenario(t);
    const manager = as(s.manager.userId, s.businessId);
    const sent = (await write(t, manager, "send_customer_message", { customerId: s.customer.customerId, body: "Running 10 minutes late" })) as { messageId: Id<"messages"> };
    const message = (await t.run((ctx) => ctx.db.get("messages", sent.messageId)))!;
    expect(message).toMatchObject({ from: "business", authorId: s.manager.userId, body: "Running 10 minutes late" });

    const unassigned = (await read(t, manager, "whats_unassigned_today", { date: TUESDAY })) as { unassigned: unknown[] };
    expect(unassigned.unassigned).toEqual([]);
    await expectCode(read(t, as(s.provider.userId, s.businessId), "whats_unassigned_today"), "FORBIDDEN");
    await expectCode(read(t, manager, "send_customer_message", { customerId: s.customer.customerId, body: "x" }), "INVALID_ARGUMENT", "tool");
    await expectCode(read(t, manager, "delete_everything"), "NOT_FOUND", "tool");
  });
});

describe("public booking attempts are limited per customer", () => {
  test("a customer holds 5 times in 10 minutes; the 6th says how long to wait; staff are not limited", async () => {
    const t = newTest();
    const s = await scenario(t);
    const hold = (time: string) => s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at(TUESDAY, time) });
    for (const time of ["09:00", "11:00", "13:00", "15:00"]) await hold(time);
    await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at("2026-03-04", "09:00") });
    const refused = await expectCode(hold("09:30"), "RATE_LIMITED");
    expect(refused.message).toMatch(/at most 5 in 10 minutes\. Try again in \d+ (minutes|seconds)\./);
    expect(refused.details?.retryAfterMs).toBeGreaterThan(0);

    // Another customer and the business's own staff book as usual.
    const other = await aCustomer(t, s.businessId, { name: "Bob" });
    await other.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at("2026-03-04", "11:00") });
    for (const time of ["13:00", "15:00"]) {
      await s.manager.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at("2026-03-04", time), customerId: s.customer.customerId });
    }
    vi.setSystemTime(NOW + 10 * 60_000 + 1);
    await s.customer.as.mutation(api.bookings.hold, { businessId: s.businessId, zoneId: s.zoneId, cart: s.cart, start: at("2026-03-05", "09:00") });
  });
});

describe("assistant API keys act as the staff member who made them", () => {
  test("a provider's key sees the provider's day and no revenue; revoked or scope-less keys are refused", async () => {
    const t = newTest();
    const s = await scenario(t);
    const bookingId = await job(s);
    const { apiKeyId } = await s.provider.as.mutation(api.api.keys.createAssistantKey, { businessId: s.businessId, name: "Claude Desktop" });
    const key: AssistantCaller = { kind: "api_key", apiKeyId, businessId: s.businessId };
    const day = (await read(t, key, "get_appointments_today", { date: TUESDAY })) as { appointments: { bookingId: string }[] };
    expect(day.appointments.map((a) => a.bookingId)).toEqual([bookingId]);
    await expectCode(read(t, key, "get_revenue_summary"), "FORBIDDEN");
    await expectCode(s.customer.as.mutation(api.api.keys.createAssistantKey, { businessId: s.businessId, name: "x" }), "FORBIDDEN");

    const { apiKeyId: restKey } = await s.owner.as.mutation(api.api.keys.create, {
      businessId: s.businessId,
      name: "REST only",
      mode: "test",
      scopes: [{ resource: "bookings", access: "write" }],
    });
    await expectCode(read(t, { kind: "api_key", apiKeyId: restKey, businessId: s.businessId }, "get_appointments_today"), "FORBIDDEN");

    // Rotated by the owner, the key still acts as the provider.
    const rotated = await s.owner.as.mutation(api.api.keys.rotate, { apiKeyId, overlapHours: 0 });
    const again = { kind: "api_key" as const, apiKeyId: rotated.apiKeyId, businessId: s.businessId };
    await expectCode(read(t, again, "get_revenue_summary"), "FORBIDDEN");
    await s.owner.as.mutation(api.api.keys.revoke, { apiKeyId: rotated.apiKeyId });
    await expectCode(read(t, again, "get_appointments_today"), "UNAUTHENTICATED");
  });
});
