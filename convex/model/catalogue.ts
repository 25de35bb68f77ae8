/**
 * The catalogue, the parts every door shares: value checks (quantity rules, prices,
 * durations, sort orders), per-business caps and the argument validators of its inputs.
 * The state changes are `catalogueCommands.ts`.
 *
 * Plain module: no registered functions.
 */
import { v } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import { vExtraPricing, vProductQuantity } from "../schema";
import { invalid, optionalText, requireInt } from "./validation";

export const CATALOGUE_CAPS = { industries: 50, categories: 200, products: 500, extras: 500 } as const;
export type CatalogueTable = keyof typeof CATALOGUE_CAPS;

const MAX_PRICE_MINOR = 100_000_000;
const MAX_DURATION_MINUTES = 24 * 60 * 7;

export const vQuantity = vProductQuantity;
export { vExtraPricing };

// The fields each command takes, as both doors take them (ids aside: the portal's are typed
// ids, the REST API's are strings checked against the key's business).
export const industryFields = { name: v.string(), slug: v.optional(v.string()), description: v.optional(v.string()) };
export const industryPatchFields = { name: v.optional(v.string()), slug: v.optional(v.string()), description: v.optional(v.string()), active: v.optional(v.boolean()) };
export const categoryFields = { name: v.string(), sortOrder: v.optional(v.number()) };
export const categoryPatchFields = { name: v.optional(v.string()), sortOrder: v.optional(v.number()) };
export const productFields = {
  name: v.string(),
  description: v.optional(v.string()),
  priceMinor: v.number(),
  durationMinutes: v.number(),
  quantity: vQuantity,
  sortOrder: v.optional(v.number()),
};
export const productPatchFields = {
  name: v.optional(v.string()),
  description: v.optional(v.string()),
  priceMinor: v.optional(v.number()),
  durationMinutes: v.optional(v.number()),
  quantity: v.optional(vQuantity),
  sortOrder: v.optional(v.number()),
  active: v.optional(v.boolean()),
};
export const extraFields = { name: v.string(), priceMinor: v.number(), durationMinutes: v.number(), pricing: vExtraPricing, maxQuantity: v.number() };
export const extraPatchFields = {
  name: v.optional(v.string()),
  priceMinor: v.optional(v.number()),
  durationMinutes: v.optional(v.number()),
  pricing: v.optional(vExtraPricing),
  maxQuantity: v.optional(v.number()),
  active: v.optional(v.boolean()),
};

type Quantity = Doc<"products">["quantity"];

/** min ≤ included ≤ max, step > 0, all whole numbers; extra-unit price and time ≥ 0. */
export function validateQuantity(q: Quantity, param = "quantity"): Quantity {
  requireInt(q.min, `${param}.min`, 1, 10_000);
  requireInt(q.max, `${param}.max`, 1, 10_000);
  requireInt(q.step, `${param}.step`, 1, 10_000);
  requireInt(q.included, `${param}.included`, 0, 10_000);
  if (q.max < q.min) throw invalid(`${param}.max`, "quantity.max must be at least quantity.min.");
  if (q.included < q.min || q.included > q.max) {
    throw invalid(`${param}.included`, "quantity.included must be between quantity.min and quantity.max.");
  }
  requireInt(q.extraUnitPriceMinor, `${param}.extraUnitPriceMinor`, 0, MAX_PRICE_MINOR);
  requireInt(q.extraUnitDurationMinutes, `${param}.extraUnitDurationMinutes`, 0, MAX_DURATION_MINUTES);
  const unitLabel = optionalText(q.unitLabel, `${param}.unitLabel`, 40);
  return { ...q, unitLabel };
}

export function requirePrice(value: number, param: string) {
  return requireInt(value, param, 0, MAX_PRICE_MINOR);
}

export function requireDuration(value: number, param: string, min = 0) {
  return requireInt(value, param, min, MAX_DURATION_MINUTES);
}

export function requireSortOrder(value: number) {
  return requireInt(value, "sortOrder", -1_000_000, 1_000_000);
}

export function requireMaxQuantity(value: number) {
  return requireInt(value, "maxQuantity", 1, 1000);
}

/** A flat extra is taken once. */
export function requireFlatTakenOnce(pricing: Doc<"extras">["pricing"], maxQuantity: number) {
  if (pricing === "flat" && maxQuantity !== 1) throw invalid("maxQuantity", "A flat extra is taken once: maxQuantity must be 1.");
}
