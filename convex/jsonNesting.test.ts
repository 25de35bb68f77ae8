/**
 * REST bodies and JSON query parameters nested far beyond Convex's 64 levels (issue 13,
 * finding 3): 400 in the API's error format with Convex's message, before anything recurses
 * over them, and nothing written.
 */
import { afterEach, describe, expect, test, vi } from "vitest";
import { bookingScenario } from "./bookings.testkit";
import { newTest } from "./test.setup";
import { anApiKey, call, domainCounts, expectError, setPlan } from "./api/api.testkit";
import { jsonNesting, tooNestedMessage } from "./model/jsonNesting";

afterEach(() => {
  vi.useRealTimers();
});

const DEEP = 50_000;
const nestedObjectText = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
const nestedArrayText = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

describe("deeply nested JSON", () => {
  test("request bodies and the cart parameter are refused with 400 and Convex's message, nothing written", async () => {
    const t = newTest();
    const s = await bookingScenario(t);
    const { key } = await anApiKey(t, s.businessId);
    await setPlan(t, s.businessId, "premium");
    const before = await domainCounts(t);
    const json = { "Content-Type": "application/json" };

    for (const [path, rawBody] of [
      ["/v1/customers", nestedObjectText(DEEP)],
      ["/v1/bookings", `{"customer":${nestedObjectText(DEEP)}}`],
      ["/v1/bookings", nestedArrayText(DEEP)],
      ["/v1/customers", nestedObjectText(65)],
    ] as const) {
      const result = await call(t, "POST", path, { key, rawBody, headers: json, idempotencyKey: `deep-${path}-${rawBody.length}` });
      const error = expectError(result, 400, "MALFORMED_JSON");
      expect(error.message).toMatch(/^Value is too nested \(nested \d+ levels deep > maximum nesting 64\)/);
    }

    // The parameter is at most 10,000 characters: 4,000 levels.
    const cart = encodeURIComponent(nestedArrayText(4_000));
    const availability = await call(t, "GET", `/v1/availability?zoneId=${s.zoneId}&cart=${cart}&from=2030-01-01&to=2030-01-02`, { key });
    expect(expectError(availability, 400, "MALFORMED_JSON").message).toMatch(/too nested/);

    expect(await domainCounts(t)).toEqual(before);
  });

  test("is measured without recursion", () => {
    expect(jsonNesting(JSON.parse(nestedArrayText(DEEP)))).toBe(DEEP);
    expect(jsonNesting({ a: [1, { b: null }], c: "x" })).toBe(3);
    expect(jsonNesting("x")).toBe(0);
    expect(tooNestedMessage(JSON.parse(nestedObjectText(64)))).toBeNull();
    expect(tooNestedMessage(JSON.parse(nestedObjectText(65)))).toBe("Value is too nested (nested 65 levels deep > maximum nesting 64)");
  });
});
