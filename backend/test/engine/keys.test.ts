import { describe, expect, it } from "vitest";
import fc from "fast-check";
import { compareValues, type Value } from "convex/values";
import { encodeTuple, encodeValue } from "../../src/engine/keys.js";
import { newDocumentId, tableNumberOfId } from "../../src/engine/ids.js";

const sign = (n: number) => (n < 0 ? -1 : n > 0 ? 1 : 0);

const leaf: fc.Arbitrary<Value> = fc.oneof(
  fc.constant(null),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.double(),
  // NaN payloads are not observable reliably in JS (engines canonicalise them on some paths),
  // so only the canonical NaN is compared here.
  fc.constantFrom(0, -0, Infinity, -Infinity, NaN, Number.MIN_VALUE, -Number.MAX_VALUE),
  fc.boolean(),
  fc.string({ unit: "binary" }),
  fc.string({ unit: "grapheme" }),
  fc.constantFrom("", "\u0000", "a\u0000", "a", "\uD800", "\uFFFF", "\u{1F600}"),
  fc.uint8Array({ maxLength: 6 }).map((bytes) => bytes.slice().buffer as ArrayBuffer),
);

const value: fc.Arbitrary<Value> = fc.letrec<{ value: Value }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    leaf,
    fc.array(tie("value"), { maxLength: 4 }),
    fc.dictionary(fc.stringMatching(/^[a-z]{1,3}$/), tie("value"), { maxKeys: 3 }),
  ),
})).value;

describe("index key encoding", () => {
  it("orders encoded values exactly as convex's compareValues", () => {
    fc.assert(
      fc.property(value, value, (x, y) => {
        expect(sign(Buffer.compare(encodeValue(x), encodeValue(y)))).toBe(sign(compareValues(x, y)));
      }),
      { numRuns: 3000 },
    );
  });

  it("orders tuples lexicographically (index keys with _creationTime and _id appended)", () => {
    fc.assert(
      fc.property(fc.array(value, { minLength: 1, maxLength: 3 }), fc.array(value, { minLength: 1, maxLength: 3 }), (x, y) => {
        fc.pre(x.length === y.length);
        expect(sign(Buffer.compare(encodeTuple(x), encodeTuple(y)))).toBe(sign(compareValues(x, y)));
      }),
      { numRuns: 2000 },
    );
  });

  it("puts undefined (a missing field) before every value and -0 before 0", () => {
    expect(Buffer.compare(encodeValue(undefined), encodeValue(null))).toBeLessThan(0);
    expect(Buffer.compare(encodeValue(-0), encodeValue(0))).toBeLessThan(0);
    expect(Buffer.compare(encodeValue(1n), encodeValue(0.5))).toBeLessThan(0); // int64 sorts before float64
    expect(Buffer.compare(encodeValue("a"), encodeValue("a\u0000"))).toBeLessThan(0);
  });
});

describe("document ids", () => {
  it("round-trip their table number and reject garbage", () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 31 - 1 }), (table) => {
        const id = newDocumentId(table);
        expect(id).toMatch(/^[0-9a-hjkmnp-tv-z]{31,37}$/);
        expect(tableNumberOfId(id)).toBe(table);
      }),
    );
    const id = newDocumentId(10001);
    const corrupted = (id[5] === "a" ? "b" : "a") + id.slice(1);
    expect(tableNumberOfId(id.slice(0, 5) + (id[5] === "a" ? "b" : "a") + id.slice(6))).toBeNull();
    expect(tableNumberOfId(corrupted === id ? "x" : corrupted)).toBeNull();
    expect(tableNumberOfId("not an id")).toBeNull();
    expect(tableNumberOfId("")).toBeNull();
  });
});
