import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  allocate,
  applyBasisPoints,
  applyPercent,
  currencyExponent,
  divideRounded,
  formatMoney,
  minorToDecimalString,
  parseMoneyInput,
  multiplyDivide,
  percentToBasisPoints,
  taxExclusive,
  taxInclusive,
} from "./money";

describe("currencyExponent", () => {
  it.each([
    ["USD", 2],
    ["EUR", 2],
    ["GBP", 2],
    ["JPY", 0],
    ["KRW", 0],
    ["BHD", 3],
    ["KWD", 3],
  ])("%s has %i minor digits", (code, exponent) => {
    expect(currencyExponent(code)).toBe(exponent);
  });

  it.each(["usd", "US", "DOLLARS", "", "XYZ"])("rejects %j", (code) => {
    expect(() => currencyExponent(code)).toThrowError(expect.objectContaining({ code: "UNKNOWN_CURRENCY" }));
  });
});

describe("divideRounded (half away from zero)", () => {
  it.each([
    [5, 2, 3],
    [-5, 2, -3],
    [5, -2, -3],
    [4, 2, 2],
    [7, 3, 2],
    [8, 3, 3],
    [-7, 3, -2],
    [-8, 3, -3],
    [1, 3, 0],
    [0, 7, 0],
    [Number.MAX_SAFE_INTEGER, 1, Number.MAX_SAFE_INTEGER],
  ])("%i / %i = %i", (n, d, expected) => {
    expect(divideRounded(n, d)).toBe(expected);
  });

  it("refuses division by zero", () => {
    expect(() => divideRounded(1, 0)).toThrow(/zero/);
  });

  it("stays exact when the product exceeds 2^53", () => {
    expect(multiplyDivide(9_000_000_000_000, 1_234, 10_000)).toBe(1_110_600_000_000);
    expect(multiplyDivide(123_456_789_012_345, 9_999, 10_000)).toBe(123_444_443_333_444);
  });
});

describe("rates", () => {
  it.each([
    [1000, 1250, 125],
    [999, 1500, 150], // 149.85
    [1, 5000, 1], // 0.5 rounds away from zero
    [-1, 5000, -1],
    [3, 3333, 1], // 0.9999
    [10_000, 0, 0],
    [12_345, 10_000, 12_345],
  ])("%i × %i bp = %i", (amount, bp, expected) => {
    expect(applyBasisPoints(amount, bp)).toBe(expected);
  });

  it("converts percentages with at most two decimals", () => {
    expect(percentToBasisPoints(12.5)).toBe(1250);
    expect(percentToBasisPoints(8.25)).toBe(825);
    expect(applyPercent(2000, 15)).toBe(300);
    expect(() => percentToBasisPoints(12.345)).toThrow(/two decimals/);
  });

  it("rejects fractional amounts", () => {
    expect(() => applyBasisPoints(10.5, 100)).toThrow(/integer/);
  });
});

describe("tax", () => {
  it.each([
    [10_000, 2000, 2000, 12_000],
    [999, 825, 82, 1081], // 82.4175
    [1, 5000, 1, 2],
    [0, 2000, 0, 0],
  ])("exclusive: net %i at %i bp → tax %i, gross %i", (net, rate, tax, gross) => {
    expect(taxExclusive(net, rate)).toEqual({ netMinor: net, taxMinor: tax, grossMinor: gross });
  });

  it.each([
    [12_000, 2000, 10_000, 2000],
    [1000, 2000, 833, 167], // 833.33
    [1081, 825, 999, 82],
    [5, 2000, 4, 1], // 4.1666
  ])("inclusive: gross %i at %i bp → net %i, tax %i", (gross, rate, net, tax) => {
    expect(taxInclusive(gross, rate)).toEqual({ netMinor: net, taxMinor: tax, grossMinor: gross });
  });

  it("rejects negative rates", () => {
    expect(() => taxExclusive(100, -5)).toThrow(/tax rate/);
  });

  it("net + tax = gross for every amount and rate", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1e12 }), fc.integer({ min: 0, max: 30_000 }), (amount, rate) => {
        const inc = taxInclusive(amount, rate);
        expect(inc.netMinor + inc.taxMinor).toBe(amount);
        const exc = taxExclusive(amount, rate);
        expect(exc.netMinor + exc.taxMinor).toBe(exc.grossMinor);
      }),
      { numRuns: 300 },
    );
  });
});

describe("allocate", () => {
  it.each([
    [100, [1, 1, 1], [34, 33, 33]],
    [-100, [1, 1, 1], [-34, -33, -33]],
    [5, [3, 7], [2, 3]], // 1.5 / 3.5: tie on remainder goes to the earlier weight
    [10, [0, 1], [0, 10]],
    [0, [0, 0], [0, 0]],
    [1, [1, 1, 1, 1], [1, 0, 0, 0]],
    [1000, [250, 250, 500], [250, 250, 500]],
  ])("allocate(%i, %j) = %j", (total, weights, expected) => {
    expect(allocate(total, weights)).toEqual(expected);
  });

  it("rejects weights that cannot carry a non-zero total", () => {
    expect(() => allocate(10, [0, 0])).toThrow(/all zero/);
    expect(() => allocate(10, [])).toThrow(/at least one/);
    expect(() => allocate(10, [1, -1])).toThrow(/weight\[1\]/);
  });

  it("parts always sum to the total and stay within one unit of the exact share", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1e9, max: 1e9 }),
        fc.array(fc.integer({ min: 0, max: 1e6 }), { minLength: 1, maxLength: 20 }).filter((w) => w.some((x) => x > 0)),
        (total, weights) => {
          const parts = allocate(total, weights);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
          const weightSum = weights.reduce((a, b) => a + b, 0);
          parts.forEach((part, i) => expect(Math.abs(part - (total * weights[i]) / weightSum)).toBeLessThan(1 + 1e-6));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("display", () => {
  it.each([
    [1250, "USD", "en-US", "$12.50"],
    [-1250, "USD", "en-US", "-$12.50"],
    [1250, "JPY", "en-US", "¥1,250"],
    [1234, "BHD", "en-US", "BHD 1.234"],
  ])("formatMoney(%i, %s, %s) = %s", (amount, currency, locale, expected) => {
    expect(formatMoney(amount, currency, locale).replace(/\u00a0/g, " ")).toBe(expected);
  });

  it.each([
    [1250, "USD", "12.50"],
    [5, "USD", "0.05"],
    [-5, "USD", "-0.05"],
    [1250, "JPY", "1250"],
    [1, "BHD", "0.001"],
  ])("minorToDecimalString(%i, %s) = %s", (amount, currency, expected) => {
    expect(minorToDecimalString(amount, currency)).toBe(expected);
  });
});

describe("parseMoneyInput", () => {
  it.each([
    ["12", "USD", 1200],
    ["12.5", "USD", 1250],
    ["12,50", "EUR", 1250],
    ["1,250.00", "USD", 125000],
    ["1.250,00", "EUR", 125000],
    ["1,250,000", "USD", 125000000],
    [" 0.99 ", "USD", 99],
    ["1250", "JPY", 1250],
    ["1.250", "BHD", 1250],
    ["0.125", "BHD", 125],
  ])("%s %s is %d minor units", (text, currency, minor) => {
    expect(parseMoneyInput(text, currency)).toEqual({ minor });
  });

  it.each([
    ["", "USD", "Enter an amount."],
    ["-5", "USD", "cannot be negative"],
    ["12.345", "USD", "at most 2 decimals"],
    ["12.5", "JPY", "no decimals"],
    ["abc", "USD", "is not an amount"],
    ["1e5", "USD", "is not an amount"],
    ["1,250", "USD", "at most 2 decimals"],
    ["1,25,0", "USD", "is not an amount"],
  ])("%j in %s is refused: %s", (text, currency, message) => {
    const result = parseMoneyInput(text, currency);
    expect("error" in result && result.error).toContain(message);
  });

  it("round-trips every amount written by minorToDecimalString", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 ** 12 }), fc.constantFrom("USD", "JPY", "BHD"), (minor, currency) => {
        expect(parseMoneyInput(minorToDecimalString(minor, currency), currency)).toEqual({ minor });
      }),
    );
  });
});
