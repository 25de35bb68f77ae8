/**
 * Live availability for customers: slots for a cart in a zone over a date range, and the
 * priced quote of the cart. Public for ACTIVE businesses (no sign-in needed to browse), and
 * the result carries no personal data: instants and counts only.
 *
 * Reads are bounded to the range: the business's resources (capped), then per eligible
 * resource its date overrides in [from − 1, to + 1], its time off and its active
 * assignments whose busy time ends inside the range (index ranges, never table scans).
 * Slot generation itself is the domain's `generateSlotTimes` (slots without the list of
 * resources, which a customer never sees).
 */
import { v } from "convex/values";
import { generateSlotTimes } from "../domain/availability";
import { isDomainError } from "../domain/errors";
import { daysBetween, isValidLocalDate } from "../domain/time";
import { query } from "./functions";
import { appError } from "./errors";
import { requireBookableBusiness, requireZone } from "./model/bookingCreate";
import { discountFor, priceCart, vRecurrence } from "./model/bookingPricing";
import { availabilityInputs } from "./model/availabilityGrid";
import { productIdsOfItems } from "./model/bookingSlots";
import { vCartItem, vQuote } from "./schema";

/** Longest range one call may ask for (the portal pages by week or month). */
export const MAX_RANGE_DAYS = 92;
export { MAX_ASSIGNMENTS_PER_RESOURCE } from "./model/availabilityGrid";

const vSlot = v.object({
  start: v.number(),
  end: v.number(),
  arrivalWindowEnd: v.optional(v.number()),
  remainingCapacity: v.number(),
});

export const slots = query({
  args: {
    businessId: v.id("businesses"),
    zoneId: v.id("zones"),
    cart: v.array(vCartItem),
    /** Local dates in the business's time zone, inclusive. */
    from: v.string(),
    to: v.string(),
  },
  returns: v.object({
    timeZone: v.string(),
    durationMinutes: v.number(),
    arrivalWindowMinutes: v.number(),
    slots: v.array(vSlot),
  }),
  handler: async (ctx, args) => {
    if (!isValidLocalDate(args.from)) throw appError("INVALID_ARGUMENT", "`from` must be a date YYYY-MM-DD.", { param: "from" });
    if (!isValidLocalDate(args.to)) throw appError("INVALID_ARGUMENT", "`to` must be a date YYYY-MM-DD.", { param: "to" });
    const days = daysBetween(args.from, args.to) + 1;
    if (days < 1) throw appError("INVALID_ARGUMENT", "`to` is before `from`.", { param: "to" });
    if (days > MAX_RANGE_DAYS) {
      throw appError("INVALID_ARGUMENT", `Ask for at most ${MAX_RANGE_DAYS} days at a time.`, { param: "to" });
    }
    const business = await requireBookableBusiness(ctx, args.businessId);
    const zone = await requireZone(ctx, business, args.zoneId);
    const priced = await priceCart(ctx, business, zone, args.cart);
    const rules = business.policies.booking;
    const tz = business.timeZone;
    const productIds = productIdsOfItems(priced.items);

    const inputs = await availabilityInputs(ctx, business, zone._id, productIds, args.from, args.to);
    let generated;
    try {
      generated = generateSlotTimes({
        timeZone: tz,
        now: Date.now(),
        durationMinutes: priced.quote.durationMinutes,
        minimumNoticeMinutes: rules.minimumNoticeMinutes,
        bookingHorizonDays: rules.bookingHorizonDays,
        arrivalWindowMinutes: rules.arrivalWindowMinutes,
        stepMinutes: rules.slotStepMinutes,
        fromDate: args.from,
        toDate: args.to,
        zoneId: zone._id,
        productIds,
        resources: inputs,
      });
    } catch (error) {
      if (isDomainError(error)) throw appError("INVALID_ARGUMENT", error.message, { details: { domainCode: error.code } });
      throw error;
    }
    return {
      timeZone: tz,
      durationMinutes: priced.quote.durationMinutes,
      arrivalWindowMinutes: rules.arrivalWindowMinutes,
      slots: generated,
    };
  },
});

const vQuoteLine = v.object({
  kind: v.string(),
  description: v.string(),
  quantity: v.number(),
  unitAmountMinor: v.number(),
  amountMinor: v.number(),
});

/** The live cart's price in a zone, optionally as a recurring plan (frequency discount). */
export const quote = query({
  args: {
    businessId: v.id("businesses"),
    zoneId: v.id("zones"),
    cart: v.array(vCartItem),
    frequency: v.optional(vRecurrence),
  },
  returns: v.object({ quote: vQuote, lines: v.array(vQuoteLine), taxInclusive: v.boolean(), discountBp: v.number() }),
  handler: async (ctx, args) => {
    const business = await requireBookableBusiness(ctx, args.businessId);
    const zone = await requireZone(ctx, business, args.zoneId);
    const discount = discountFor(args.frequency ?? null, { zone });
    const priced = await priceCart(ctx, business, zone, args.cart, discount);
    return {
      quote: priced.storedQuote,
      lines: priced.quote.lines.map((l) => ({
        kind: l.kind,
        description: l.description,
        quantity: l.quantity,
        unitAmountMinor: l.unitAmountMinor,
        amountMinor: l.amountMinor,
      })),
      taxInclusive: priced.quote.taxInclusive,
      discountBp: discount.discountBp,
    };
  },
});
