import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type Interval,
  capacitySweep,
  intersectIntervals,
  maxUsageIn,
  mergeIntervals,
  overlaps,
  subtractIntervals,
  timeWithUsageAtMost,
} from "./intervals";

const i = (start: number, end: number): Interval => ({ start, end });

describe("overlaps", () => {
  it.each([
    [i(0, 10), i(10, 20), false, "touching end to start"],
    [i(10, 20), i(0, 10), false, "touching start to end"],
    [i(0, 10), i(9, 20), true, "one unit of overlap"],
    [i(0, 10), i(2, 5), true, "containment"],
    [i(2, 5), i(0, 10), true, "contained"],
    [i(0, 10), i(0, 10), true, "identical"],
    [i(0, 10), i(11, 20), false, "apart"],
    [i(5, 5), i(0, 10), false, "empty interval never conflicts"],
  ])("%j vs %j → %s (%s)", (a, b, expected) => {
    expect(overlaps(a, b)).toBe(expected);
  });
});

describe("mergeIntervals", () => {
  it.each([
    [[i(0, 10), i(10, 20)], [i(0, 20)]],
    [[i(5, 8), i(0, 6)], [i(0, 8)]],
    [[i(0, 1), i(2, 3)], [i(0, 1), i(2, 3)]],
    [[i(0, 10), i(2, 3)], [i(0, 10)]],
    [[i(4, 4), i(0, 1)], [i(0, 1)]],
    [[], []],
  ])("%j → %j", (input, expected) => {
    expect(mergeIntervals(input)).toEqual(expected);
  });
});

describe("subtractIntervals", () => {
  it.each([
    [[i(0, 100)], [i(20, 30)], [i(0, 20), i(30, 100)]],
    [[i(0, 100)], [i(0, 100)], []],
    [[i(0, 100)], [i(-10, 10), i(90, 110)], [i(10, 90)]],
    [[i(0, 100)], [i(100, 110)], [i(0, 100)]],
    [[i(0, 10), i(20, 30)], [i(5, 25)], [i(0, 5), i(25, 30)]],
    [[i(0, 100)], [i(10, 20), i(15, 30), i(50, 60)], [i(0, 10), i(30, 50), i(60, 100)]],
  ])("%j − %j = %j", (base, cuts, expected) => {
    expect(subtractIntervals(base, cuts)).toEqual(expected);
  });

  it("never leaves time that overlaps a cut, and keeps all other base time", () => {
    const arbInterval = fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 50 })).map(([s, l]) => i(s, s + l));
    fc.assert(
      fc.property(fc.array(arbInterval, { maxLength: 8 }), fc.array(arbInterval, { maxLength: 8 }), (base, cuts) => {
        const result = subtractIntervals(base, cuts);
        const covers = (list: Interval[], t: number) => list.some((x) => x.start <= t && t < x.end);
        const wrong: number[] = [];
        for (let t = 0; t < 260; t++) {
          if (covers(result, t) !== (covers(base, t) && !covers(cuts, t))) wrong.push(t);
        }
        expect(wrong).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});

describe("intersectIntervals", () => {
  it("keeps only common time; touching gives nothing", () => {
    expect(intersectIntervals([i(0, 10), i(20, 30)], [i(5, 25)])).toEqual([i(5, 10), i(20, 25)]);
    expect(intersectIntervals([i(0, 10)], [i(10, 20)])).toEqual([]);
  });
});

describe("capacitySweep", () => {
  it("counts concurrent use and merges equal neighbours", () => {
    const segments = capacitySweep([
      { start: 0, end: 10, units: 1 },
      { start: 5, end: 15, units: 1 },
      { start: 15, end: 20, units: 1 },
    ]);
    expect(segments).toEqual([
      { start: 0, end: 5, used: 1 },
      { start: 5, end: 10, used: 2 },
      { start: 10, end: 20, used: 1 },
    ]);
  });

  it("handles units above one and back-to-back blocks", () => {
    const segments = capacitySweep([
      { start: 0, end: 10, units: 2 },
      { start: 10, end: 20, units: 3 },
      { start: 5, end: 15, units: 1 },
    ]);
    expect(segments).toEqual([
      { start: 0, end: 5, used: 2 },
      { start: 5, end: 10, used: 3 },
      { start: 10, end: 15, used: 4 },
      { start: 15, end: 20, used: 3 },
    ]);
    expect(maxUsageIn(segments, i(0, 10))).toBe(3);
    expect(maxUsageIn(segments, i(15, 30))).toBe(3);
    expect(maxUsageIn(segments, i(20, 30))).toBe(0);
    expect(timeWithUsageAtMost(segments, 2, i(-5, 25))).toEqual([i(-5, 5), i(20, 25)]);
  });

  it("matches a brute-force count at every instant", () => {
    const arb = fc.record({ start: fc.integer({ min: 0, max: 100 }), length: fc.integer({ min: 1, max: 30 }), units: fc.integer({ min: 1, max: 3 }) });
    fc.assert(
      fc.property(fc.array(arb, { maxLength: 10 }), (raw) => {
        const blocks = raw.map((b) => ({ start: b.start, end: b.start + b.length, units: b.units }));
        const segments = capacitySweep(blocks);
        const wrong: number[] = [];
        for (let t = 0; t < 140; t++) {
          const expected = blocks.filter((b) => b.start <= t && t < b.end).reduce((s, b) => s + b.units, 0);
          if (maxUsageIn(segments, i(t, t + 1)) !== expected) wrong.push(t);
        }
        expect(wrong).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });
});
