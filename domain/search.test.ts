import { describe, expect, it } from "vitest";
import { customerSearchOf, mergeById } from "./search";

describe("customerSearchOf", () => {
  it("compacts what looks like a phone number into the stored international form", () => {
    expect(customerSearchOf(" +44 7700 900 ")).toEqual({ kind: "phone", text: "+447700900" });
    expect(customerSearchOf("(555) 010-2")).toEqual({ kind: "phone", text: "+5550102" });
  });

  it("treats text with @ as an email and everything else as a name", () => {
    expect(customerSearchOf("jane.doe@ex")).toEqual({ kind: "email", text: "jane.doe@ex" });
    expect(customerSearchOf("Jane D")).toEqual({ kind: "name", text: "Jane D" });
    expect(customerSearchOf("12")).toEqual({ kind: "name", text: "12" });
    expect(customerSearchOf("   ")).toEqual({ kind: "none" });
  });
});

describe("mergeById", () => {
  it("keeps the first occurrence in order and stops at the limit", () => {
    const a = { _id: "a" };
    const b = { _id: "b" };
    const c = { _id: "c" };
    expect(mergeById([[a, b], [b, c]], 10)).toEqual([a, b, c]);
    expect(mergeById([[a, b], [c]], 2)).toEqual([a, b]);
  });
});
