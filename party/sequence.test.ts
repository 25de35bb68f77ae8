import { describe, expect, it } from "vitest";
import { decidePush, decideReceive, needsResyncOnWelcome } from "./sequence";

describe("room sequence", () => {
  it.each([
    [0, 1, "applied", 1],
    [4, 5, "applied", 5],
    [4, 7, "applied_after_gap", 7],
    [0, 3, "applied_after_gap", 3],
    [5, 5, "duplicate", 5],
    [5, 2, "duplicate", 5],
  ] as const)("last %i, push %i -> %s", (last, seq, status, nextLastSeq) => {
    expect(decidePush(last, seq)).toMatchObject({ status, nextLastSeq });
  });
});

describe("subscriber sequence", () => {
  it.each([
    [null, 5, "deliver"],
    [4, 5, "deliver"],
    [4, 6, "deliver_and_resync"],
    [4, 4, "drop"],
    [4, 3, "drop"],
  ] as const)("seen %s, event %i -> %s", (seen, seq, decision) => {
    expect(decideReceive(seen, seq)).toBe(decision);
  });

  it.each([
    [null, 7, false],
    [7, 7, false],
    [7, 9, true],
    [7, 0, true],
  ] as const)("seen %s, room at %i -> resync %s", (seen, roomSeq, resync) => {
    expect(needsResyncOnWelcome(seen, roomSeq)).toBe(resync);
  });
});
