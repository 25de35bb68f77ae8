/**
 * Prices a cart for a booking: loads exactly the cart's products and extras (by id, checked
 * against the business), adapts the stored catalogue and zone to the domain's pricing input
 * and calls `domain/pricing.quoteCart`. No pricing rule lives here.
 */
import { isDomainError } from "../../domain/errors";
import { quoteCart, type CatalogueExtra, type CatalogueProduct, type Quote } from "../../domain/pricing";
import { describeRule, planVisitDiscountBp, type FrequencyDiscount, type RecurrenceRule } from "../../domain/recurrence";
import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx as RawQueryCtx } from "../_generated/server";
import { appError } from "../errors";
import type { CartItem } from "../schema";
import { v, type Infer } from "convex/values";

export const MAX_CART_LINES = 20;

/**
 * Frequency discounts offered for recurring plans in a zone that has no table of its own
 * (`zones.frequencyDiscounts`, edited by the owner per zone).
 */
export const DEFAULT_FREQUENCY_DISCOUNTS: FrequencyDiscount[] = [
  { frequency: "weekly", interval: 1, discountBp: 1500 },
  { frequency: "weekly", interval: 2, discountBp: 1000 },
  { frequency: "weekly", interval: 3, discountBp: 750 },
  { frequency: "weekly", interval: 4, discountBp: 500 },
  { frequency: "monthly", interval: 1, discountBp: 500 },
];

export const vRecurrence = v.union(
  v.object({ frequency: v.literal("weekly") }),
  v.object({ frequency: v.literal("every_n_weeks"), interval: v.number() }),
  v.object({ frequency: v.literal("monthly") }),
);
export type Recurrence = Infer<typeof vRecurrence>;

export function ruleOf(recurrence: Recurrence | null): RecurrenceRule | null {
  if (recurrence === null) return null;
  switch (recurrence.frequency) {
    case "weekly":
      return { frequency: "weekly", intervalWeeks: 1 };
    case "every_n_weeks":
      if (!Number.isInteger(recurrence.interval) || recurrence.interval < 1 || recurrence.interval > 52) {
        throw appError("INVALID_ARGUMENT", "Every-N-weeks needs an interval of 1 to 52 weeks.", { param: "interval" });
      }
      return { frequency: "weekly", intervalWeeks: recurrence.interval };
    case "monthly":
      return { frequency: "monthly", intervalMonths: 1, by: "dayOfMonth" };
  }
}

/** The zone's frequency discount table (the default one when the owner has not set one). */
export function frequencyDiscountsOf(zone: Pick<Doc<"zones">, "frequencyDiscounts"> | null): FrequencyDiscount[] {
  return zone?.frequencyDiscounts ?? DEFAULT_FREQUENCY_DISCOUNTS;
}

/** Whether the business charges a plan's first visit at full price. */
export function firstVisitFullPrice(business: Pick<Doc<"businesses">, "policies">): boolean {
  return business.policies.recurring?.firstVisitFullPrice ?? false;
}

/**
 * THE pricing rule for recurring discounts: the zone's discount for the frequency, except on
 * the plan's first visit (`visitIndex` 0) when the business leaves it undiscounted. Without a
 * visit index it is the plan's (ongoing) discount.
 */
export function discountFor(
  recurrence: Recurrence | null,
  where: { zone: Pick<Doc<"zones">, "frequencyDiscounts"> | null; business?: Pick<Doc<"businesses">, "policies">; visitIndex?: number } = { zone: null },
): { discountBp: number; label: string | undefined } {
  const rule = ruleOf(recurrence);
  if (rule === null) return { discountBp: 0, label: undefined };
  const fullFirst = where.business !== undefined && where.visitIndex !== undefined && firstVisitFullPrice(where.business);
  const discountBp = planVisitDiscountBp(frequencyDiscountsOf(where.zone), rule, { index: where.visitIndex ?? -1, firstVisitFullPrice: fullFirst });
  return { discountBp, label: discountBp > 0 ? `${describeRule(rule)} discount` : undefined };
}

export type PricedCart = {
  quote: Quote;
  industryId: Id<"industries">;
  /** Frozen cart lines: one per priced product line, extras on the first line of their cart line. */
  items: Doc<"bookings">["items"];
  /** Schema-shaped quote stored on the booking. */
  storedQuote: Doc<"bookings">["quote"];
};

/** Maps the stored product to the domain's pricing shape. */
export function toCatalogueProduct(product: Doc<"products">, currency: string, extraIds: string[]): CatalogueProduct {
  const q = product.quantity;
  const common = {
    id: product._id,
    name: product.name,
    currency,
    quantity: { min: q.min, max: q.max, step: q.step },
    extraIds,
  };
  if (q.included > 0) {
    return {
      ...common,
      basePriceMinor: product.priceMinor,
      includedQuantity: q.included,
      unitPriceMinor: q.extraUnitPriceMinor,
      durationMinutes: product.durationMinutes,
      perUnitDurationMinutes: q.extraUnitDurationMinutes,
    };
  }
  // Nothing included: every unit costs the product price and takes its duration.
  return { ...common, unitPriceMinor: product.priceMinor, durationMinutes: 0, perUnitDurationMinutes: product.durationMinutes };
}

export function toCatalogueExtra(extra: Doc<"extras">, currency: string): CatalogueExtra {
  return {
    id: extra._id,
    name: extra.name,
    currency,
    priceMinor: extra.priceMinor,
    durationMinutes: extra.durationMinutes,
    chargeBasis: extra.pricing === "flat" ? "flat" : "perQuantity",
    maxQuantity: extra.maxQuantity,
  };
}

/** Turns a domain error from pricing into the client-facing error. */
export function domainToAppError(error: unknown, param?: string): never {
  if (isDomainError(error)) {
    throw appError("INVALID_ARGUMENT", error.message, { param, details: { domainCode: error.code } });
  }
  throw error;
}

/**
 * Loads the cart's catalogue (only the referenced documents), checks that every product and
 * extra belongs to the business, is active and that the cart stays in one industry, and
 * prices it in the zone.
 */
export async function priceCart(
  ctx: RawQueryCtx,
  business: Doc<"businesses">,
  zone: Doc<"zones">,
  cart: CartItem[],
  discount: { discountBp: number; label: string | undefined } = { discountBp: 0, label: undefined },
): Promise<PricedCart> {
  if (cart.length === 0) throw appError("INVALID_ARGUMENT", "The cart is empty; add at least one service.", { param: "cart" });
  if (cart.length > MAX_CART_LINES) throw appError("INVALID_ARGUMENT", `A cart has at most ${MAX_CART_LINES} lines.`, { param: "cart" });
  const products = new Map<string, Doc<"products">>();
  const extras = new Map<string, Doc<"extras">>();
  let industryId: Id<"industries"> | null = null;
  for (const [index, line] of cart.entries()) {
    const product = products.get(line.productId) ?? (await ctx.db.get("products", line.productId));
    if (product === null || product.businessId !== business._id || !product.active) {
      throw appError("NOT_FOUND", `Cart line ${index + 1}: the service is not offered.`, { param: `cart[${index}].productId` });
    }
    if (industryId !== null && product.industryId !== industryId) {
      throw appError("INVALID_ARGUMENT", "All services in one booking must belong to the same industry.", { param: "cart" });
    }
    industryId = product.industryId;
    products.set(product._id, product);
    if (line.extras.length > 10) throw appError("INVALID_ARGUMENT", "At most 10 extras per service.", { param: `cart[${index}].extras` });
    for (const chosen of line.extras) {
      const extra = extras.get(chosen.extraId) ?? (await ctx.db.get("extras", chosen.extraId));
      if (extra === null || extra.businessId !== business._id || !extra.active || extra.industryId !== product.industryId) {
        throw appError("NOT_FOUND", `Cart line ${index + 1}: the extra is not offered.`, { param: `cart[${index}].extras` });
      }
      if (extra.productIds.length > 0 && !extra.productIds.includes(product._id)) {
        throw appError("INVALID_ARGUMENT", `"${extra.name}" cannot be added to "${product.name}".`, { param: `cart[${index}].extras` });
      }
      extras.set(extra._id, extra);
    }
  }
  const currency = business.currency;
  const catalogueProducts = [...products.values()].map((p) =>
    toCatalogueProduct(
      p,
      currency,
      [...extras.values()].filter((e) => e.productIds.length === 0 || e.productIds.includes(p._id)).map((e) => e._id),
    ),
  );
  let quote: Quote;
  try {
    quote = quoteCart({
      currency,
      catalogue: { products: catalogueProducts, extras: [...extras.values()].map((e) => toCatalogueExtra(e, currency)) },
      cart: cart.map((line) => ({ productId: line.productId, quantity: line.quantity, extras: line.extras })),
      zone: {
        tripChargeMinor: zone.pricing.tripChargeMinor,
        priceMultiplierBp: zone.pricing.priceMultiplierBp,
        minimumBookingMinor: zone.pricing.minimumMinor,
        taxRateBp: zone.taxRateBp,
        taxInclusive: zone.taxInclusive,
      },
      discountBp: discount.discountBp,
      discountLabel: discount.label,
    });
  } catch (error) {
    domainToAppError(error, "cart");
  }
  if (quote.durationMinutes <= 0) {
    throw appError("INVALID_ARGUMENT", "The cart has no duration; it cannot be scheduled.", { param: "cart" });
  }
  return { quote, industryId: industryId!, items: bookedItems(quote, products), storedQuote: storedQuoteOf(quote) };
}

export function storedQuoteOf(quote: Quote): Doc<"bookings">["quote"] {
  return {
    currency: quote.currency,
    subtotalMinor: quote.subtotalMinor,
    discountMinor: quote.discountMinor,
    tripChargeMinor: quote.tripChargeMinor,
    minimumTopUpMinor: quote.minimumTopUpMinor,
    taxMinor: quote.taxMinor,
    totalMinor: quote.totalMinor,
    durationMinutes: quote.durationMinutes,
  };
}

/**
 * Freezes the priced product lines as booked items: quantity × unitPriceMinor is exactly the
 * line amount, so the invoice can be rebuilt from the booking alone.
 */
function bookedItems(quote: Quote, products: Map<string, Doc<"products">>): Doc<"bookings">["items"] {
  const items: Doc<"bookings">["items"] = [];
  const firstOfCartLine = new Map<number, number>();
  for (const line of quote.lines) {
    if (line.kind === "product" && line.productId !== undefined) {
      const product = products.get(line.productId)!;
      if (line.cartLineIndex !== undefined && !firstOfCartLine.has(line.cartLineIndex)) {
        firstOfCartLine.set(line.cartLineIndex, items.length);
      }
      items.push({
        productId: product._id,
        name: line.description,
        quantity: line.quantity,
        unitPriceMinor: line.unitAmountMinor,
        durationMinutes: 0,
        extras: [],
      });
    } else if (line.kind === "extra" && line.extraId !== undefined && line.cartLineIndex !== undefined) {
      const target = items[firstOfCartLine.get(line.cartLineIndex)!];
      target.extras.push({
        extraId: line.extraId as Id<"extras">,
        name: line.description,
        quantity: line.quantity,
        amountMinor: line.amountMinor,
      });
    }
  }
  // Durations per item are not broken down by the domain; the booking-level duration is
  // authoritative. Record the whole duration on the first item so the items still add up.
  if (items.length > 0) items[0].durationMinutes = quote.durationMinutes;
  return items;
}
