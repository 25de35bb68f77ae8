/**
 * Money in integer minor units (cents, pence, yen) with an ISO 4217 currency code.
 *
 * Rounding: every division rounds HALF AWAY FROM ZERO (2.5 → 3, -2.5 → -3). It is the rule
 * customers and most tax authorities expect on an invoice line, and it is symmetric for
 * refunds (negative amounts). Banker's rounding only pays off when summing many rounded
 * values, and where sums must be exact we allocate (see `allocate`) instead of rounding.
 *
 * Rates are basis points (1 bp = 0.01 %, 10 000 bp = 100 %), so percentages such as 12.5 %
 * stay integers.
 */
import { DomainError, assertInteger, invalidArgument } from "./errors";

export type CurrencyCode = string;
export type BasisPoints = number;

export interface Money {
  amountMinor: number;
  currency: CurrencyCode;
}

export const BASIS_POINTS_PER_UNIT = 10_000;

const exponentCache = new Map<string, number>();

/** Throws UNKNOWN_CURRENCY unless `code` is a three-letter ISO 4217 code Intl knows. */
export function assertCurrency(code: unknown): CurrencyCode {
  currencyExponent(code);
  return code as CurrencyCode;
}

/** Number of minor-unit digits: USD 2, JPY 0, BHD 3 (from Intl's currency data). */
export function currencyExponent(code: unknown): number {
  if (typeof code !== "string" || !/^[A-Z]{3}$/.test(code)) {
    throw new DomainError("UNKNOWN_CURRENCY", `Currency must be a three-letter upper-case ISO 4217 code, got ${JSON.stringify(code)}`);
  }
  let exponent = exponentCache.get(code);
  if (exponent === undefined) {
    if (!isKnownCurrency(code)) {
      throw new DomainError("UNKNOWN_CURRENCY", `Unknown currency "${code}"`, { currency: code });
    }
    exponent = new Intl.NumberFormat("en", { style: "currency", currency: code }).resolvedOptions().maximumFractionDigits ?? 2;
    exponentCache.set(code, exponent);
  }
  return exponent;
}

let knownCurrencies: Set<string> | undefined;
function isKnownCurrency(code: string): boolean {
  if (typeof Intl.supportedValuesOf === "function") {
    knownCurrencies ??= new Set(Intl.supportedValuesOf("currency"));
    return knownCurrencies.has(code);
  }
  return true; // Runtimes without supportedValuesOf: accept any well-formed code.
}

/** Throws INVALID_ARGUMENT unless `amount` is an integer number of minor units. */
export function assertMinor(amount: unknown, label = "amount"): number {
  return assertInteger(amount, `${label} (minor units)`);
}

export function assertBasisPoints(rate: unknown, label = "rate", max = 1_000_000): BasisPoints {
  return assertInteger(rate, `${label} (basis points)`, 0, max);
}

/**
 * numerator / denominator rounded half away from zero, exact for any safe integers
 * (falls back to BigInt when the intermediate product would lose precision).
 */
export function divideRounded(numerator: number, denominator: number): number {
  if (denominator === 0) throw invalidArgument("Division by zero");
  if (!Number.isSafeInteger(numerator) || !Number.isSafeInteger(denominator)) {
    return divideRoundedBig(BigInt(Math.trunc(numerator)), BigInt(Math.trunc(denominator)));
  }
  const negative = numerator < 0 !== denominator < 0;
  const n = Math.abs(numerator);
  const d = Math.abs(denominator);
  const quotient = Math.floor(n / d);
  const remainder = n - quotient * d;
  const rounded = remainder * 2 >= d ? quotient + 1 : quotient;
  return negative ? -rounded : rounded;
}

function divideRoundedBig(numerator: bigint, denominator: bigint): number {
  const negative = numerator < 0n !== denominator < 0n;
  const n = numerator < 0n ? -numerator : numerator;
  const d = denominator < 0n ? -denominator : denominator;
  const quotient = n / d;
  const rounded = (n % d) * 2n >= d ? quotient + 1n : quotient;
  const result = Number(negative ? -rounded : rounded);
  if (!Number.isSafeInteger(result)) throw invalidArgument("Amount is too large to represent exactly");
  return result;
}

/** a × b / c rounded half away from zero, exact even when a × b exceeds 2^53. */
export function multiplyDivide(a: number, b: number, c: number): number {
  const product = a * b;
  if (Number.isSafeInteger(product)) return divideRounded(product, c);
  return divideRoundedBig(BigInt(a) * BigInt(b), BigInt(c));
}

/** `amount` × `rate` basis points, rounded half away from zero (1000 × 1250 bp = 125). */
export function applyBasisPoints(amountMinor: number, rateBp: BasisPoints): number {
  assertMinor(amountMinor);
  assertInteger(rateBp, "rate (basis points)");
  return multiplyDivide(amountMinor, rateBp, BASIS_POINTS_PER_UNIT);
}

/** Percentage given as a number with at most two decimals (12.5 → 1250 bp). */
export function percentToBasisPoints(percent: number): BasisPoints {
  const bp = Math.round(percent * 100);
  if (!Number.isFinite(percent) || Math.abs(bp - percent * 100) > 1e-6) {
    throw invalidArgument(`Percentage must have at most two decimals, got ${percent}`);
  }
  return bp;
}

export function applyPercent(amountMinor: number, percent: number): number {
  return applyBasisPoints(amountMinor, percentToBasisPoints(percent));
}

export interface TaxBreakdown {
  netMinor: number;
  taxMinor: number;
  grossMinor: number;
}

/** Tax added on top of a net amount: gross = net + round(net × rate). */
export function taxExclusive(netMinor: number, rateBp: BasisPoints): TaxBreakdown {
  assertMinor(netMinor, "net amount");
  assertBasisPoints(rateBp, "tax rate");
  const taxMinor = applyBasisPoints(netMinor, rateBp);
  return { netMinor, taxMinor, grossMinor: netMinor + taxMinor };
}

/**
 * Tax contained in a gross (tax-inclusive) amount: net = round(gross / (1 + rate)), tax is
 * the difference, so net + tax = gross exactly.
 */
export function taxInclusive(grossMinor: number, rateBp: BasisPoints): TaxBreakdown {
  assertMinor(grossMinor, "gross amount");
  assertBasisPoints(rateBp, "tax rate");
  const netMinor = multiplyDivide(grossMinor, BASIS_POINTS_PER_UNIT, BASIS_POINTS_PER_UNIT + rateBp);
  return { netMinor, taxMinor: grossMinor - netMinor, grossMinor };
}

/**
 * Splits `totalMinor` in proportion to non-negative integer `weights` so the parts sum to
 * the total exactly (largest-remainder method; ties go to the earlier weight). With all
 * weights zero the total must be zero.
 */
export function allocate(totalMinor: number, weights: readonly number[]): number[] {
  assertMinor(totalMinor, "total");
  if (weights.length === 0) throw invalidArgument("allocate needs at least one weight");
  weights.forEach((w, i) => assertInteger(w, `weight[${i}]`, 0));
  const weightSum = weights.reduce((sum, w) => sum + w, 0);
  if (weightSum === 0) {
    if (totalMinor === 0) return weights.map(() => 0);
    throw invalidArgument(`Cannot allocate ${totalMinor} across weights that are all zero`);
  }
  const sign = totalMinor < 0 ? -1 : 1;
  const total = Math.abs(totalMinor);
  const useBig = !Number.isSafeInteger(total * weightSum);
  const shares = weights.map((weight, index) => {
    if (useBig) {
      const product = BigInt(total) * BigInt(weight);
      const whole = product / BigInt(weightSum);
      return { index, whole: Number(whole), remainder: Number(product % BigInt(weightSum)) };
    }
    const product = total * weight;
    const whole = Math.floor(product / weightSum);
    return { index, whole, remainder: product - whole * weightSum };
  });
  let leftover = total - shares.reduce((sum, s) => sum + s.whole, 0);
  const byRemainder = [...shares].sort((a, b) => b.remainder - a.remainder || a.index - b.index);
  const result = shares.map((s) => s.whole);
  for (const share of byRemainder) {
    if (leftover === 0) break;
    result[share.index] += 1;
    leftover -= 1;
  }
  return result.map((part) => part * sign || 0);
}

/** Sum of minor amounts, refusing anything that is not an integer. */
export function sumMinor(amounts: readonly number[]): number {
  let total = 0;
  for (const amount of amounts) total += assertMinor(amount);
  return total;
}

/** "$12.50", "¥1,250", "12,50 €" — display only, never parsed back. */
export function formatMoney(amountMinor: number, currency: CurrencyCode, locale = "en-US"): string {
  assertMinor(amountMinor);
  const exponent = currencyExponent(currency);
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency,
    minimumFractionDigits: exponent,
    maximumFractionDigits: exponent,
  }).format(amountMinor / 10 ** exponent);
}

/** Minor units to a decimal string with the currency's exponent ("1250" USD → "12.50"). */
export function minorToDecimalString(amountMinor: number, currency: CurrencyCode): string {
  assertMinor(amountMinor);
  const exponent = currencyExponent(currency);
  const negative = amountMinor < 0;
  const digits = String(Math.abs(amountMinor)).padStart(exponent + 1, "0");
  const whole = digits.slice(0, digits.length - exponent);
  const fraction = exponent > 0 ? `.${digits.slice(digits.length - exponent)}` : "";
  return `${negative ? "-" : ""}${whole}${fraction}`;
}

/**
 * An amount a person typed in the currency's units ("12.5", "1,250.00", "12,50" for a
 * currency with decimals) to integer minor units, exactly (no floating point). Returns a
 * message naming what is wrong instead of guessing: more decimals than the currency has,
 * a sign, or anything that is not a number.
 */
export function parseMoneyInput(text: string, currency: CurrencyCode): { minor: number } | { error: string } {
  const exponent = currencyExponent(currency);
  const trimmed = text.trim().replace(/[\s\u00a0]/g, "");
  if (trimmed === "") return { error: "Enter an amount." };
  if (trimmed.startsWith("-")) return { error: "The amount cannot be negative." };
  const split = splitDecimal(trimmed);
  if (split === null) return { error: `"${text.trim()}" is not an amount; write it like ${minorToDecimalString(125 * 10 ** exponent, currency)}.` };
  if (split.fraction.length > exponent) {
    return { error: exponent === 0 ? `${currency} amounts have no decimals.` : `${currency} amounts have at most ${exponent} decimals.` };
  }
  const minor = Number(split.whole) * 10 ** exponent + Number(split.fraction.padEnd(exponent, "0") || "0");
  if (!Number.isSafeInteger(minor)) return { error: "The amount is too large." };
  return { minor };
}

/**
 * Whole and fraction digits of "1,250.00" / "1.250,00" / "12,5". With both separators the
 * last is the decimal one; a separator used twice groups thousands; a lone one is decimal
 * (so "1,250" in dollars is refused as three decimals rather than guessed).
 */
function splitDecimal(text: string): { whole: string; fraction: string } | null {
  if (!/^\d[\d.,]*$/.test(text)) return null;
  const last = Math.max(text.lastIndexOf("."), text.lastIndexOf(","));
  if (last === -1) return { whole: text, fraction: "" };
  const separator = text[last];
  const tail = text.slice(last + 1);
  const both = text.includes(".") && text.includes(",");
  const repeated = text.indexOf(separator) !== last;
  const decimal = both || !repeated;
  const grouped = decimal ? text.slice(0, last) : text;
  const groups = grouped.split(decimal ? /[.,]/ : separator);
  if (groups.length > 1 && (groups[0].length > 3 || groups.slice(1).some((g) => g.length !== 3))) return null;
  if (groups.some((g) => !/^\d+$/.test(g))) return null;
  const fraction = decimal ? tail : "";
  if (!/^\d*$/.test(fraction)) return null;
  return { whole: groups.join(""), fraction };
}
