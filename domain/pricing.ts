/**
 * Cart → quote.
 *
 * Order of computation (all integer minor units, rounding half away from zero):
 * 1. Each product line: `basePriceMinor` covers the first `includedQuantity` units, every
 *    unit beyond costs `unitPriceMinor`. Extras: `flat` ones are charged once (quantity 1),
 *    `perQuantity` ones price × chosen quantity. The zone's price multiplier scales every
 *    UNIT price (rounded per unit), so each line's amount = quantity × unit amount.
 * 2. subtotal = sum of lines.
 * 3. discount = recurring frequency discount (basis points) of the subtotal.
 * 4. + the zone's trip charge (not discounted).
 * 5. + a minimum top-up when (subtotal − discount + trip charge) is below the zone minimum.
 * 6. Tax at the zone rate on that amount: exclusive adds it; inclusive extracts it (the
 *    prices already contain it) and the total does not change.
 * The returned line items (including the negative discount line and, when exclusive, the tax
 * line) sum exactly to the total.
 *
 * Duration: product base duration + per-unit duration × units beyond the included ones, plus
 * extras' durations (× quantity for perQuantity extras), then × the zone's duration
 * multiplier, rounded half up to whole minutes.
 */
import { DomainError, assertInteger, invalidArgument } from "./errors";
import { BASIS_POINTS_PER_UNIT, applyBasisPoints, assertCurrency, multiplyDivide, taxExclusive, taxInclusive } from "./money";

export interface QuantityRule {
  min: number;
  max: number;
  step: number;
}

export interface CatalogueProduct {
  id: string;
  name: string;
  currency: string;
  /** Price of each unit beyond `includedQuantity`. */
  unitPriceMinor: number;
  /** Price covering the first `includedQuantity` units (default 0). */
  basePriceMinor?: number;
  /** Units covered by the base price (default 0). */
  includedQuantity?: number;
  /** Base duration in minutes. */
  durationMinutes: number;
  /** Minutes added per unit beyond `includedQuantity` (default 0). */
  perUnitDurationMinutes?: number;
  /** Default {min: 1, max: 1, step: 1}. */
  quantity?: QuantityRule;
  /** Extras that may be added to this product; undefined = any extra in the catalogue. */
  extraIds?: string[];
}

export type ExtraChargeBasis = "flat" | "perQuantity";

export interface CatalogueExtra {
  id: string;
  name: string;
  currency: string;
  priceMinor: number;
  durationMinutes: number;
  chargeBasis: ExtraChargeBasis;
  /** Highest quantity for perQuantity extras (default 99). */
  maxQuantity?: number;
}

export interface Catalogue {
  products: readonly CatalogueProduct[];
  extras?: readonly CatalogueExtra[];
}

export interface CartExtra {
  extraId: string;
  quantity: number;
}

export interface CartLine {
  productId: string;
  quantity: number;
  extras?: CartExtra[];
}

export interface ZonePricing {
  tripChargeMinor?: number;
  /** 10 000 = ×1 (default). */
  priceMultiplierBp?: number;
  /** 10 000 = ×1 (default). */
  durationMultiplierBp?: number;
  minimumBookingMinor?: number;
  taxRateBp?: number;
  /** Prices (and so the total) already include tax. Default false. */
  taxInclusive?: boolean;
}

export interface QuoteInput {
  currency: string;
  catalogue: Catalogue;
  cart: readonly CartLine[];
  zone?: ZonePricing;
  /** Recurring frequency discount in basis points (see recurrence.frequencyDiscountBp). */
  discountBp?: number;
  /** Description for the discount line, e.g. "Weekly discount". */
  discountLabel?: string;
}

export type QuoteLineKind = "product" | "extra" | "discount" | "tripCharge" | "minimumTopUp" | "tax";

export interface QuoteLine {
  kind: QuoteLineKind;
  description: string;
  quantity: number;
  unitAmountMinor: number;
  amountMinor: number;
  productId?: string;
  extraId?: string;
  /** Index of the cart line this product/extra line came from. */
  cartLineIndex?: number;
}

export interface Quote {
  currency: string;
  lines: QuoteLine[];
  subtotalMinor: number;
  discountMinor: number;
  tripChargeMinor: number;
  minimumTopUpMinor: number;
  taxMinor: number;
  taxInclusive: boolean;
  totalMinor: number;
  durationMinutes: number;
}

const DEFAULT_QUANTITY_RULE: QuantityRule = { min: 1, max: 1, step: 1 };

/** Throws QUANTITY_OUT_OF_RANGE unless quantity is min, min+step, … up to max. */
export function assertQuantityAllowed(quantity: number, rule: QuantityRule, label: string): void {
  if (!Number.isInteger(quantity)) {
    throw new DomainError("QUANTITY_OUT_OF_RANGE", `Quantity for ${label} must be a whole number, got ${quantity}`);
  }
  if (quantity < rule.min || quantity > rule.max) {
    throw new DomainError("QUANTITY_OUT_OF_RANGE", `Quantity for ${label} must be between ${rule.min} and ${rule.max}, got ${quantity}`, {
      quantity,
      min: rule.min,
      max: rule.max,
    });
  }
  if ((quantity - rule.min) % rule.step !== 0) {
    throw new DomainError("QUANTITY_OUT_OF_RANGE", `Quantity for ${label} must be ${rule.min} plus a multiple of ${rule.step}, got ${quantity}`, {
      quantity,
      step: rule.step,
    });
  }
}

function validateProduct(product: CatalogueProduct): void {
  const label = `product "${product.id}"`;
  assertInteger(product.unitPriceMinor, `${label} unitPriceMinor`, 0);
  assertInteger(product.basePriceMinor ?? 0, `${label} basePriceMinor`, 0);
  assertInteger(product.includedQuantity ?? 0, `${label} includedQuantity`, 0);
  assertInteger(product.durationMinutes, `${label} durationMinutes`, 0);
  assertInteger(product.perUnitDurationMinutes ?? 0, `${label} perUnitDurationMinutes`, 0);
  const rule = product.quantity ?? DEFAULT_QUANTITY_RULE;
  assertInteger(rule.min, `${label} quantity.min`, 0);
  assertInteger(rule.max, `${label} quantity.max`, rule.min);
  assertInteger(rule.step, `${label} quantity.step`, 1);
}

function validateExtra(extra: CatalogueExtra): void {
  const label = `extra "${extra.id}"`;
  assertInteger(extra.priceMinor, `${label} priceMinor`, 0);
  assertInteger(extra.durationMinutes, `${label} durationMinutes`, 0);
  if (extra.chargeBasis !== "flat" && extra.chargeBasis !== "perQuantity") {
    throw invalidArgument(`${label} chargeBasis must be "flat" or "perQuantity", got ${JSON.stringify(extra.chargeBasis)}`);
  }
  if (extra.maxQuantity !== undefined) assertInteger(extra.maxQuantity, `${label} maxQuantity`, 1);
}

function validateZone(zone: ZonePricing): void {
  assertInteger(zone.tripChargeMinor ?? 0, "zone tripChargeMinor", 0);
  assertInteger(zone.priceMultiplierBp ?? BASIS_POINTS_PER_UNIT, "zone priceMultiplierBp", 0, 1_000_000);
  assertInteger(zone.durationMultiplierBp ?? BASIS_POINTS_PER_UNIT, "zone durationMultiplierBp", 1, 1_000_000);
  assertInteger(zone.minimumBookingMinor ?? 0, "zone minimumBookingMinor", 0);
  assertInteger(zone.taxRateBp ?? 0, "zone taxRateBp", 0, 100_000);
}

function checkCurrency(expected: string, actual: string, what: string): void {
  if (actual !== expected) {
    throw new DomainError("CURRENCY_MISMATCH", `${what} is priced in ${actual}, but the quote is in ${expected}`, { expected, actual });
  }
}

interface LineTotals {
  lines: QuoteLine[];
  durationMinutes: number;
}

const INCLUDED_SUFFIX = / \(includes \d+\)$/;
const ADDITIONAL_SUFFIX = ", additional";

/** "Standard clean (includes 2)": the base price line of a product that includes units. */
export function baseLineDescription(productName: string, included: number): string {
  return included > 0 ? `${productName} (includes ${included})` : productName;
}

/** "Standard clean, additional": the line for units beyond those included. */
export function additionalLineDescription(productName: string): string {
  return `${productName}${ADDITIONAL_SUFFIX}`;
}

/** The product's own name from the description of one of its price lines (see above). */
export function productNameOfLine(description: string): string {
  if (description.endsWith(ADDITIONAL_SUFFIX)) return description.slice(0, -ADDITIONAL_SUFFIX.length);
  return description.replace(INCLUDED_SUFFIX, "");
}

/**
 * What a booking is, in words: each product once, in cart order ("Standard clean, Oven
 * clean"), however many price lines it was billed as. Extras are left to the details.
 */
export function bookingTitle(items: ReadonlyArray<{ productId: string; name: string }>, fallback = "Service"): string {
  const names: string[] = [];
  const seen = new Set<string>();
  for (const item of items) {
    if (seen.has(item.productId)) continue;
    seen.add(item.productId);
    names.push(productNameOfLine(item.name));
  }
  return names.length > 0 ? names.join(", ") : fallback;
}

function priceProductLine(
  line: CartLine,
  index: number,
  input: QuoteInput,
  productsById: Map<string, CatalogueProduct>,
  extrasById: Map<string, CatalogueExtra>,
  multiplierBp: number,
): LineTotals {
  const product = productsById.get(line.productId);
  if (!product) {
    throw new DomainError("UNKNOWN_PRODUCT", `Cart line ${index + 1}: unknown product "${line.productId}"`, { productId: line.productId });
  }
  checkCurrency(input.currency, product.currency, `Product "${product.name}"`);
  assertQuantityAllowed(line.quantity, product.quantity ?? DEFAULT_QUANTITY_RULE, `"${product.name}"`);

  const scale = (amount: number) => multiplyDivide(amount, multiplierBp, BASIS_POINTS_PER_UNIT);
  const included = product.includedQuantity ?? 0;
  const additionalUnits = Math.max(0, line.quantity - included);
  const lines: QuoteLine[] = [];
  const common = { productId: product.id, cartLineIndex: index };
  if ((product.basePriceMinor ?? 0) > 0 || included > 0) {
    const base = scale(product.basePriceMinor ?? 0);
    lines.push({ kind: "product", description: baseLineDescription(product.name, included), quantity: 1, unitAmountMinor: base, amountMinor: base, ...common });
    if (additionalUnits > 0) {
      const unit = scale(product.unitPriceMinor);
      lines.push({ kind: "product", description: additionalLineDescription(product.name), quantity: additionalUnits, unitAmountMinor: unit, amountMinor: unit * additionalUnits, ...common });
    }
  } else {
    const unit = scale(product.unitPriceMinor);
    lines.push({ kind: "product", description: product.name, quantity: line.quantity, unitAmountMinor: unit, amountMinor: unit * line.quantity, ...common });
  }
  let durationMinutes = product.durationMinutes + (product.perUnitDurationMinutes ?? 0) * additionalUnits;

  const seenExtras = new Set<string>();
  for (const cartExtra of line.extras ?? []) {
    const extra = extrasById.get(cartExtra.extraId);
    if (!extra) {
      throw new DomainError("UNKNOWN_EXTRA", `Cart line ${index + 1}: unknown extra "${cartExtra.extraId}"`, { extraId: cartExtra.extraId });
    }
    if (product.extraIds && !product.extraIds.includes(extra.id)) {
      throw new DomainError("EXTRA_NOT_ALLOWED", `Extra "${extra.name}" cannot be added to "${product.name}"`, { extraId: extra.id, productId: product.id });
    }
    if (seenExtras.has(extra.id)) throw invalidArgument(`Cart line ${index + 1}: extra "${extra.name}" is listed twice`);
    seenExtras.add(extra.id);
    checkCurrency(input.currency, extra.currency, `Extra "${extra.name}"`);
    const maxQuantity = extra.chargeBasis === "flat" ? 1 : (extra.maxQuantity ?? 99);
    assertQuantityAllowed(cartExtra.quantity, { min: 1, max: maxQuantity, step: 1 }, `extra "${extra.name}"`);
    const unit = scale(extra.priceMinor);
    lines.push({
      kind: "extra",
      description: extra.name,
      quantity: cartExtra.quantity,
      unitAmountMinor: unit,
      amountMinor: unit * cartExtra.quantity,
      extraId: extra.id,
      ...common,
    });
    durationMinutes += extra.durationMinutes * cartExtra.quantity;
  }
  return { lines, durationMinutes };
}

export function quoteCart(input: QuoteInput): Quote {
  const currency = assertCurrency(input.currency);
  if (!Array.isArray(input.cart) || input.cart.length === 0) {
    throw new DomainError("EMPTY_CART", "The cart is empty; add at least one service");
  }
  const zone = input.zone ?? {};
  validateZone(zone);
  const discountBp = assertInteger(input.discountBp ?? 0, "discountBp", 0, BASIS_POINTS_PER_UNIT);
  const productsById = new Map(input.catalogue.products.map((p) => [p.id, p]));
  const extrasById = new Map((input.catalogue.extras ?? []).map((e) => [e.id, e]));
  const multiplierBp = zone.priceMultiplierBp ?? BASIS_POINTS_PER_UNIT;

  const lines: QuoteLine[] = [];
  let rawDuration = 0;
  input.cart.forEach((line, index) => {
    const product = productsById.get(line.productId);
    if (product) validateProduct(product);
    for (const cartExtra of line.extras ?? []) {
      const extra = extrasById.get(cartExtra.extraId);
      if (extra) validateExtra(extra);
    }
    const priced = priceProductLine(line, index, input, productsById, extrasById, multiplierBp);
    lines.push(...priced.lines);
    rawDuration += priced.durationMinutes;
  });

  const subtotalMinor = lines.reduce((sum, line) => sum + line.amountMinor, 0);
  const discountMinor = applyBasisPoints(subtotalMinor, discountBp);
  if (discountMinor > 0) {
    lines.push({ kind: "discount", description: input.discountLabel ?? "Recurring discount", quantity: 1, unitAmountMinor: -discountMinor, amountMinor: -discountMinor });
  }
  const tripChargeMinor = zone.tripChargeMinor ?? 0;
  if (tripChargeMinor > 0) {
    lines.push({ kind: "tripCharge", description: "Trip charge", quantity: 1, unitAmountMinor: tripChargeMinor, amountMinor: tripChargeMinor });
  }
  const beforeMinimum = subtotalMinor - discountMinor + tripChargeMinor;
  const minimumTopUpMinor = Math.max(0, (zone.minimumBookingMinor ?? 0) - beforeMinimum);
  if (minimumTopUpMinor > 0) {
    lines.push({ kind: "minimumTopUp", description: "Minimum booking charge", quantity: 1, unitAmountMinor: minimumTopUpMinor, amountMinor: minimumTopUpMinor });
  }
  const taxable = beforeMinimum + minimumTopUpMinor;
  const rateBp = zone.taxRateBp ?? 0;
  const inclusive = zone.taxInclusive ?? false;
  const tax = inclusive ? taxInclusive(taxable, rateBp) : taxExclusive(taxable, rateBp);
  if (!inclusive && tax.taxMinor > 0) {
    lines.push({ kind: "tax", description: `Tax (${formatRate(rateBp)})`, quantity: 1, unitAmountMinor: tax.taxMinor, amountMinor: tax.taxMinor });
  }
  const durationMinutes = multiplyDivide(rawDuration, zone.durationMultiplierBp ?? BASIS_POINTS_PER_UNIT, BASIS_POINTS_PER_UNIT);
  return {
    currency,
    lines,
    subtotalMinor,
    discountMinor,
    tripChargeMinor,
    minimumTopUpMinor,
    taxMinor: tax.taxMinor,
    taxInclusive: inclusive,
    totalMinor: tax.grossMinor,
    durationMinutes,
  };
}

/** 825 → "8.25%". */
export function formatRate(rateBp: number): string {
  const whole = Math.floor(rateBp / 100);
  const fraction = rateBp % 100;
  return fraction === 0 ? `${whole}%` : `${whole}.${String(fraction).padStart(2, "0").replace(/0$/, "")}%`;
}
