import { afterEach, describe, expect, test, vi } from "vitest";
import { at, bookingScenario, freezeClock, TUESDAY, WEDNESDAY } from "../../bookings.testkit";
import { newTest, type TestConvex } from "../../test.setup";
import { anApiKey, call, expectError, expectOk } from "../api.testkit";
import { listOf, zAvailability, zBooking, zEvent } from "./schemas";

afterEach(() => {
  vi.useRealTimers();
});

async function setup(t: TestConvex, depositBp = 0) {
  const s = await bookingScenario(t, { policies: { booking: { depositBp } } });
  const { key } = await anApiKey(t, s.businessId);
  const cart = [{ productId: s.catalogue.productId, quantity: 1 }];
  return { ...s, key, apiCart: cart };
}

describe("/v1/availability and /v1/bookings", { timeout: 120_000 }, () => {
  test("availability → create (hold + confirm in one call) → get with expand", async () => {
    freezeClock();
    const t = newTest();
    const s = await setup(t);
    const availability = expectOk(
      await call(t, "GET", `/v1/availability?zoneId=${s.zoneId}&from=${TUESDAY}&to=${TUESDAY}&productId=${s.catalogue.productId}`, { key: s.key }),
      200,
      zAvailability,
    );
    expect(availability.timeZone).toBe("America/New_York");
    expect(availability.quote.totalMinor).toBe(10_000);
    const slot = availability.slots.find((x) => x.start === at(TUESDAY, "10:00"));
    expect(slot).toBeDefined();

    const created = expectOk(
      await call(t, "POST", "/v1/bookings", {
        key: s.key,
        body: { customerId: s.customer.customerId, zoneId: s.zoneId, cart: s.apiCart, start: slot!.start, customerNotes: "Ring twice" },
      }),
      201,
      zBooking,
    );
    expect(created).toMatchObject({ status: "CONFIRMED", source: "api", customerNotes: "Ring twice", resourceIds: [s.provider.resourceId] });
    expect(created.invoiceId).not.toBeNull();

    const got = expectOk(await call(t, "GET", `/v1/bookings/${created.id}?expand=customer,invoice,zone`, { key: s.key }), 200, zBooking);
    expect(got.customer?.id).toBe(s.customer.customerId);
    expect(got.invoice?.id).toBe(created.invoiceId);
    expect(got.invoice?.totalMinor).toBe(10_000);
    expect(got.zone?.id).toBe(s.zoneId);
    expectError(await call(t, "GET", `/v1/bookings/${created.id}?expand=provider`, { key: s.key }), 422, "INVALID_ARGUMENT");

    // The slot is gone; booking it again is a clear conflict and writes nothing.
    const again = await call(t, "POST", "/v1/bookings", {
      key: s.key,
      body: { customerId: s.customer.customerId, zoneId: s.zoneId, cart: s.apiCart, start: slot!.start },
    });
    expectError(again, 409, "SLOT_UNAVAILABLE");
    const after = expectOk(
      await call(t, "GET", `/v1/availability?zoneId=${s.zoneId}&from=${TUESDAY}&to=${TUESDAY}&cart=${encodeURIComponent(JSON.stringify(s.apiCart))}`, {
        key: s.key,
      }),
      200,
      zAvailability,
    );
    expect(after.slots.some((x) => x.start === slot!.start)).toBe(false);

    // Every change is in the event log, which the API lists.
    const events = expectOk(await call(t, "GET", "/v1/events?type=booking.confirmed", { key: s.key }), 200, listOf(zEvent, "x"));
    expect(events.data.map((e) => e.entity.id)).toEqual([created.id]);
  });

  test("Idempotency-Key: duplicates in flight at once make one booking and all get its answer; a domain error is replayed", async () => {
    freezeClock();
    const t = newTest();
    const s = await setup(t);
    const body = { customerId: s.customer.customerId, zoneId: s.zoneId, cart: s.apiCart, start: at(TUESDAY, "10:00") };
    const answers = await Promise.all(Array.from({ length: 5 }, () => call(t, "POST", "/v1/bookings", { key: s.key, body, idempotencyKey: "book-1" })));
    const created = expectOk(answers[0], 201, zBooking);
    for (const answer of answers) expect({ status: answer.status, body: answer.body }).toEqual({ status: 201, body: created });
    expect(answers.filter((a) => a.headers.get("idempotent-replayed") === "true").length).toBe(4);
    const bookings = await t.run((ctx) => ctx.db.query("bookings").collect());
    expect(bookings.map((b) => b._id)).toEqual([created.id]);
    // The record and the booking were written together: one record, completed.
    const records = await t.run((ctx) => ctx.db.query("idempotencyRecords").collect());
    expect(records.map((r) => ({ status: r.status, response: r.response?.status }))).toEqual([{ status: "completed", response: 201 }]);
    expectError(await call(t, "POST", "/v1/bookings", { key: s.key, body: { ...body, customerNotes: "x" }, idempotencyKey: "book-1" }), 422, "IDEMPOTENCY_MISMATCH");

    // The slot is taken now: the refusal is the answer of its key, replayed even once the slot is free again.
    const refused = await call(t, "POST", "/v1/bookings", { key: s.key, body, idempotencyKey: "book-2" });
    expectError(refused, 409, "SLOT_UNAVAILABLE");
    expect(refused.headers.get("ratelimit-limit")).toBe("100");
    await t.run((ctx) => ctx.db.patch("bookings", created.id as never, { status: "CANCELLED" }));
    const replayed = await call(t, "POST", "/v1/bookings", { key: s.key, body, idempotencyKey: "book-2" });
    expect({ status: replayed.status, body: replayed.body, replayed: replayed.headers.get("idempotent-replayed") }).toEqual({
      status: 409,
      body: refused.body,
      replayed: "true",
    });
    expect((await t.run((ctx) => ctx.db.query("bookings").collect())).length).toBe(1);
  });

  test("explicit steps: hold, then confirm; a deposit makes it PENDING_PAYMENT; an expired hold is 410", async () => {
    freezeClock();
    const t = newTest();
    const s = await setup(t, 10_000);
    const held = expectOk(
      await call(t, "POST", "/v1/bookings", {
        key: s.key,
        body: { customerId: s.customer.customerId, zoneId: s.zoneId, cart: s.apiCart, start: at(TUESDAY, "10:00"), confirm: false },
      }),
      201,
      zBooking,
    );
    expect(held.status).toBe("HELD");
    expect(held.holdExpiresAt).toBe(Date.now() + 10 * 60_000);
    const confirmed = expectOk(await call(t, "POST", `/v1/bookings/${held.id}/confirm`, { key: s.key }), 200, zBooking);
    expect(confirmed.status).toBe("PENDING_PAYMENT");
    expect(confirmed.invoiceId).not.toBeNull();
    expectError(await call(t, "POST", `/v1/bookings/${held.id}/confirm`, { key: s.key }), 409, "INVALID_TRANSITION");

    const late = expectOk(
      await call(t, "POST", "/v1/bookings", {
        key: s.key,
        body: { customerId: s.customer.customerId, zoneId: s.zoneId, cart: s.apiCart, start: at(TUESDAY, "14:00"), confirm: false },
      }),
      201,
      zBooking,
    );
    vi.setSystemTime(Date.now() + 11 * 60_000);
    expectError(await call(t, "POST", `/v1/bookings/${late.id}/confirm`, { key: s.key }), 410, "HOLD_EXPIRED");
  });

  test("update notes, reschedule, status changes, cancel", async () => {
    freezeClock();
    const t = newTest();
    const s = await setup(t);
    const b = expectOk(
      await call(t, "POST", "/v1/bookings", {
        key: s.key,
        body: { customerId: s.customer.customerId, zoneId: s.zoneId, cart: s.apiCart, start: at(TUESDAY, "10:00") },
      }),
      201,
      zBooking,
    );
    const noted = expectOk(await call(t, "PATCH", `/v1/bookings/${b.id}`, { key: s.key, body: { customerNotes: "Dog inside" } }), 200, zBooking);
    expect(noted.customerNotes).toBe("Dog inside");
    const cleared = expectOk(await call(t, "PATCH", `/v1/bookings/${b.id}`, { key: s.key, body: { customerNotes: null } }), 200, zBooking);
    expect(cleared.customerNotes).toBeNull();

    const moved = expectOk(
      await call(t, "POST", `/v1/bookings/${b.id}/reschedule`, { key: s.key, body: { start: at(WEDNESDAY, "11:00"), expectedFeeMinor: 0 } }),
      200,
      zBooking,
    );
    expect(moved).toMatchObject({ start: at(WEDNESDAY, "11:00"), localDate: WEDNESDAY, rescheduleCount: 1 });

    expectError(await call(t, "POST", `/v1/bookings/${b.id}/status`, { key: s.key, body: { status: "COMPLETED" } }), 409, "INVALID_TRANSITION");
    // Two days early: refused with the reason, then set with an override the history keeps.
    const early = expectError(await call(t, "POST", `/v1/bookings/${b.id}/status`, { key: s.key, body: { status: "EN_ROUTE" } }), 409, "TOO_EARLY");
    expect(early.message).toContain("2 h before its arrival window");
    const enRoute = expectOk(
      await call(t, "POST", `/v1/bookings/${b.id}/status`, { key: s.key, body: { status: "EN_ROUTE", overrideReason: "Long drive" } }),
      200,
      zBooking,
    );
    expect(enRoute.status).toBe("EN_ROUTE");
    const back = expectOk(await call(t, "POST", `/v1/bookings/${b.id}/status`, { key: s.key, body: { status: "CONFIRMED", note: "traffic" } }), 200, zBooking);
    expect(back.status).toBe("CONFIRMED");

    // More than 24 h ahead: free cancellation for the customer.
    const cancelled = expectOk(
      await call(t, "POST", `/v1/bookings/${b.id}/cancel`, { key: s.key, body: { reason: "Changed plans", expectedFeeMinor: 0 } }),
      200,
      zBooking,
    );
    expect(cancelled).toMatchObject({ status: "CANCELLED", resourceIds: [], cancellation: { by: "api", reason: "Changed plans", feeMinor: 0 } });
    const history = await t.run((ctx) => ctx.db.query("bookingStatusHistory").collect());
    expect(history.filter((h) => h.bookingId === b.id).map((h) => h.actor.role)).toEqual(Array(6).fill("api"));
  });

  test("a late customer cancellation carries the policy fee; expectedFeeMinor guards it", async () => {
    freezeClock();
    const t = newTest();
    const s = await setup(t);
    const b = expectOk(
      await call(t, "POST", "/v1/bookings", {
        key: s.key,
        body: { customerId: s.customer.customerId, zoneId: s.zoneId, cart: s.apiCart, start: at(TUESDAY, "10:00") },
      }),
      201,
      zBooking,
    );
    // Two hours before the start: inside the 24 h cut-off, 25 % fee when the customer cancels.
    vi.setSystemTime(at(TUESDAY, "08:00"));
    const guarded = expectError(
      await call(t, "POST", `/v1/bookings/${b.id}/cancel`, { key: s.key, body: { expectedFeeMinor: 0 } }),
      422,
      "POLICY_VIOLATION",
    );
    expect(guarded.param).toBe("expectedFeeMinor");
    expect(guarded.message).toContain("2500");
    const byBusiness = expectOk(
      await call(t, "POST", `/v1/bookings/${b.id}/cancel`, { key: s.key, body: { actingFor: "business" } }),
      200,
      zBooking,
    );
    expect(byBusiness.cancellation?.feeMinor).toBe(0);
  });

  test("list: filters by status, date range, customer, zone and resource; sorting; expand", async () => {
    freezeClock();
    const t = newTest();
    const s = await setup(t);
    const starts = [at(TUESDAY, "09:00"), at(TUESDAY, "12:00"), at(WEDNESDAY, "09:00")];
    const ids: string[] = [];
    for (const start of starts) {
      const b = expectOk(
        await call(t, "POST", "/v1/bookings", { key: s.key, body: { customerId: s.customer.customerId, zoneId: s.zoneId, cart: s.apiCart, start } }),
        201,
        zBooking,
      );
      ids.push(b.id);
    }
    await call(t, "POST", `/v1/bookings/${ids[1]}/cancel`, { key: s.key, body: { actingFor: "business" } });
    const list = (q: string) => call(t, "GET", `/v1/bookings?${q}`, { key: s.key }).then((r) => expectOk(r, 200, listOf(zBooking, "x")));

    expect((await list("")).data.map((b) => b.id)).toEqual(ids);
    expect((await list("order=desc")).data.map((b) => b.id)).toEqual([...ids].reverse());
    expect((await list("status=CONFIRMED")).data.map((b) => b.id)).toEqual([ids[0], ids[2]]);
    expect((await list(`from=${at(WEDNESDAY, "00:00")}`)).data.map((b) => b.id)).toEqual([ids[2]]);
    expect((await list(`to=${at(WEDNESDAY, "00:00")}&order=desc`)).data.map((b) => b.id)).toEqual([ids[1], ids[0]]);
    expect((await list(`customerId=${s.customer.customerId}&status=CANCELLED`)).data.map((b) => b.id)).toEqual([ids[1]]);
    expect((await list(`zoneId=${s.zoneId}&limit=1`)).data.map((b) => b.id)).toEqual([ids[0]]);
    expect((await list(`resourceId=${s.provider.resourceId}`)).data.map((b) => b.id)).toEqual([ids[0], ids[2]]);
    const expanded = await list("expand=customer&limit=1");
    expect(expanded.data[0].customer?.name).toBe("Alice Customer");
    expectError(await call(t, "GET", "/v1/bookings?status=LOST", { key: s.key }), 422, "INVALID_ARGUMENT");
    expectError(await call(t, "GET", "/v1/bookings?limit=101", { key: s.key }), 422, "INVALID_ARGUMENT");
    expectError(await call(t, "GET", "/v1/bookings?limit=0", { key: s.key }), 422, "INVALID_ARGUMENT");
    const wrongCursor = (await list("limit=1")).next_cursor!;
    const mixed = expectError(await call(t, "GET", `/v1/bookings?limit=1&order=desc&cursor=${wrongCursor}`, { key: s.key }), 400, "INVALID_CURSOR");
    expect(mixed.param).toBe("cursor");
    expectError(await call(t, "GET", "/v1/bookings?cursor=garbage", { key: s.key }), 400, "INVALID_CURSOR");
  });

  test("tenant isolation: another business's booking, customer, zone or product is 404 and nothing changes", async () => {
    freezeClock();
    const t = newTest();
    const x = await setup(t);
    const y = await setup(t);
    const theirs = expectOk(
      await call(t, "POST", "/v1/bookings", {
        key: y.key,
        body: { customerId: y.customer.customerId, zoneId: y.zoneId, cart: y.apiCart, start: at(TUESDAY, "10:00") },
      }),
      201,
      zBooking,
    );
    expectError(await call(t, "GET", `/v1/bookings/${theirs.id}`, { key: x.key }), 404, "NOT_FOUND");
    expectError(await call(t, "PATCH", `/v1/bookings/${theirs.id}`, { key: x.key, body: { customerNotes: "x" } }), 404, "NOT_FOUND");
    for (const action of ["confirm", "cancel", "reschedule", "status"]) {
      const body = action === "reschedule" ? { start: at(WEDNESDAY, "10:00") } : action === "status" ? { status: "EN_ROUTE" } : {};
      expectError(await call(t, "POST", `/v1/bookings/${theirs.id}/${action}`, { key: x.key, body }), 404, "NOT_FOUND");
    }
    const mixes = [
      { customerId: y.customer.customerId, zoneId: x.zoneId, cart: x.apiCart, param: "customerId" },
      { customerId: x.customer.customerId, zoneId: y.zoneId, cart: x.apiCart, param: "zoneId" },
      { customerId: x.customer.customerId, zoneId: x.zoneId, cart: y.apiCart, param: "cart[0].productId" },
    ];
    for (const { param, ...body } of mixes) {
      const e = expectError(await call(t, "POST", "/v1/bookings", { key: x.key, body: { ...body, start: at(TUESDAY, "11:00") } }), 404, "NOT_FOUND");
      expect(e.param).toBe(param);
    }
    expectError(await call(t, "GET", `/v1/bookings?customerId=${y.customer.customerId}`, { key: x.key }), 404, "NOT_FOUND");
    expectError(
      await call(t, "GET", `/v1/availability?zoneId=${y.zoneId}&from=${TUESDAY}&to=${TUESDAY}&productId=${x.catalogue.productId}`, { key: x.key }),
      404,
      "NOT_FOUND",
    );
    const theirsNow = expectOk(await call(t, "GET", `/v1/bookings/${theirs.id}`, { key: y.key }), 200, zBooking);
    expect(theirsNow.status).toBe("CONFIRMED");
    const mine = expectOk(await call(t, "GET", "/v1/bookings", { key: x.key }), 200, listOf(zBooking, "x"));
    expect(mine.data).toEqual([]);
  });
});
