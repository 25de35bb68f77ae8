import { describe, expect, test } from "vitest";
import { newTest } from "../../test.setup";
import { anApiBusiness, anApiKey, call, expectError, expectOk } from "../api.testkit";
import { aZone } from "../../test.builders";
import { listOf, zAddress, zCustomer, zDeleted } from "./schemas";

describe("/v1/customers", { timeout: 120_000 }, () => {
  test("create, get, update, list", async () => {
    const t = newTest();
    const { key, businessId } = await anApiBusiness(t);
    const zone = await aZone(t, businessId, { postalCodes: ["10001"] });
    const created = expectOk(
      await call(t, "POST", "/v1/customers", {
        key,
        body: {
          name: "Ada Lovelace",
          email: "ADA@example.com",
          phone: "+1 (415) 555-0123",
          tags: ["VIP"],
          address: { line1: "1 Main St", city: "New York", postalCode: "10001", country: "us" },
        },
      }),
      201,
      zCustomer,
    );
    expect(created).toMatchObject({ object: "customer", name: "Ada Lovelace", email: "ada@example.com", phone: "+14155550123", tags: ["vip"] });
    expect(created.addresses).toHaveLength(1);
    expect(created.addresses![0]).toMatchObject({ isDefault: true, zoneId: zone.zoneId, address: { country: "US" } });

    const got = expectOk(await call(t, "GET", `/v1/customers/${created.id}`, { key }), 200, zCustomer);
    expect(got.id).toBe(created.id);

    const updated = expectOk(await call(t, "PATCH", `/v1/customers/${created.id}`, { key, body: { name: "Ada King" } }), 200, zCustomer);
    expect(updated.name).toBe("Ada King");

    const list = expectOk(await call(t, "GET", "/v1/customers?email=ada@example.com", { key }), 200, listOf(zCustomer, "x"));
    expect(list.data.map((c) => c.id)).toEqual([created.id]);

    // The change was recorded as events in the outbox.
    const types = await t.run(async (ctx) => (await ctx.db.query("events").collect()).map((e) => e.type));
    expect(types).toEqual(["customer.created", "customer.updated"]);
  });

  test("domain errors keep their codes: duplicate email is 409, bad phone 422 naming the field", async () => {
    const t = newTest();
    const { key } = await anApiBusiness(t);
    expectOk(await call(t, "POST", "/v1/customers", { key, body: { name: "A", email: "a@example.com" } }), 201, zCustomer);
    const dup = expectError(await call(t, "POST", "/v1/customers", { key, body: { name: "B", email: "A@example.com" } }), 409, "ALREADY_EXISTS");
    expect(dup.param).toBe("email");
    const phone = expectError(await call(t, "POST", "/v1/customers", { key, body: { name: "B", phone: "12" } }), 422, "INVALID_ARGUMENT");
    expect(phone.param).toBe("phone");
    const unknown = expectError(await call(t, "POST", "/v1/customers", { key, body: { name: "B", nmae: "x" } }), 422, "INVALID_ARGUMENT");
    expect(unknown.param).toBe("nmae");
    const nested = expectError(
      await call(t, "POST", "/v1/customers", { key, body: { name: "B", address: { line1: 1, city: "x", postalCode: "1", country: "US" } } }),
      422,
      "INVALID_ARGUMENT",
    );
    expect(nested.param).toBe("address.line1");
  });

  test("addresses: add, update, delete; another customer's address is 404", async () => {
    const t = newTest();
    const { key } = await anApiBusiness(t);
    const a = expectOk(await call(t, "POST", "/v1/customers", { key, body: { name: "A" } }), 201, zCustomer);
    const b = expectOk(await call(t, "POST", "/v1/customers", { key, body: { name: "B" } }), 201, zCustomer);
    const first = expectOk(
      await call(t, "POST", `/v1/customers/${a.id}/addresses`, {
        key,
        body: { label: "Home", address: { line1: "1 A St", city: "NYC", postalCode: "99999", country: "US" } },
      }),
      201,
      zAddress,
    );
    expect(first).toMatchObject({ isDefault: true, zoneId: null, label: "Home" });
    const second = expectOk(
      await call(t, "POST", `/v1/customers/${a.id}/addresses`, {
        key,
        body: { address: { line1: "2 B St", city: "NYC", postalCode: "99998", country: "US" }, isDefault: true },
      }),
      201,
      zAddress,
    );
    const list = expectOk(await call(t, "GET", `/v1/customers/${a.id}/addresses`, { key }), 200, listOf(zAddress, "x"));
    expect(list.data.filter((x) => x.isDefault).map((x) => x.id)).toEqual([second.id]);
    const patched = expectOk(
      await call(t, "PATCH", `/v1/customers/${a.id}/addresses/${first.id}`, { key, body: { isDefault: true } }),
      200,
      zAddress,
    );
    expect(patched.isDefault).toBe(true);
    expectError(await call(t, "DELETE", `/v1/customers/${b.id}/addresses/${first.id}`, { key }), 404, "NOT_FOUND");
    expectOk(await call(t, "DELETE", `/v1/customers/${a.id}/addresses/${first.id}`, { key }), 200, zDeleted);
    const after = expectOk(await call(t, "GET", `/v1/customers/${a.id}/addresses`, { key }), 200, listOf(zAddress, "x"));
    expect(after.data.map((x) => x.id)).toEqual([second.id]);
    expect(after.data[0].isDefault).toBe(true);
  });

  test("another business's customer id is 404, like an unknown or malformed id", async () => {
    const t = newTest();
    const x = await anApiBusiness(t);
    const y = await anApiBusiness(t);
    const theirs = expectOk(await call(t, "POST", "/v1/customers", { key: y.key, body: { name: "Theirs" } }), 201, zCustomer);
    for (const id of [theirs.id, "nonsense", "k57abcdefabcdefabcdefabcdefabcde"]) {
      expectError(await call(t, "GET", `/v1/customers/${id}`, { key: x.key }), 404, "NOT_FOUND");
      expectError(await call(t, "PATCH", `/v1/customers/${id}`, { key: x.key, body: { name: "Mine" } }), 404, "NOT_FOUND");
    }
    const list = expectOk(await call(t, "GET", "/v1/customers", { key: x.key }), 200, listOf(zCustomer, "x"));
    expect(list.data).toEqual([]);
    const unchanged = expectOk(await call(t, "GET", `/v1/customers/${theirs.id}`, { key: y.key }), 200, zCustomer);
    expect(unchanged.name).toBe("Theirs");
    void anApiKey;
  });
});
