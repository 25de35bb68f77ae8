/**
 * Creating a booking (holds, staff bookings, series occurrences) and the shared loaders the
 * booking modules use: the active business, the zone, the customer a booking is for.
 */
import { localDateOf, MINUTE_MS } from "../../domain/time";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx, QueryCtx as RawQueryCtx } from "../_generated/server";
import type { Access } from "../access";
import { requireActiveBusiness } from "../businesses";
import { appError } from "../errors";
import type { Actor, BookingStatus } from "../schema";
import type { PricedCart } from "./bookingPricing";
import { recordCreated } from "./bookingTransitions";
import {
  autoAssign,
  checkManualCapacity,
  MAX_BOOKING_SPAN_MINUTES,
  productIdsOfItems,
  slotUnavailable,
  type PlacementRequest,
  type RuleMode,
} from "./bookingSlots";

/** NOT_FOUND for unknown/deleted businesses, BUSINESS_NOT_ACTIVE unless ACTIVE. */
export async function requireBookableBusiness(ctx: RawQueryCtx, businessId: Id<"businesses">): Promise<Doc<"businesses">> {
  const business = await ctx.db.get("businesses", businessId);
  if (business === null || business.status === "DELETED") {
    throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
  }
  return requireActiveBusiness(business);
}

export async function requireZone(ctx: RawQueryCtx, business: Doc<"businesses">, zoneId: Id<"zones">): Promise<Doc<"zones">> {
  const zone = await ctx.db.get("zones", zoneId);
  if (zone === null || zone.businessId !== business._id) throw appError("NOT_FOUND", "Zone not found.", { param: "zoneId" });
  if (!zone.active) throw appError("INVALID_ARGUMENT", "This area is not served at the moment.", { param: "zoneId" });
  return zone;
}

export function assertInstant(value: number, param: string): number {
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw appError("INVALID_ARGUMENT", `${param} must be an instant in epoch milliseconds.`, { param });
  }
  return value;
}

/**
 * The customer a booking is for. A customer books for themself (passing another customer's
 * id is NOT_FOUND); a signed-in person without a customer record at this business gets one
 * (self-service sign-up). Managers and owners book on behalf of a customer of theirs.
 */
export async function resolveBookingCustomer(
  ctx: RawMutationCtx,
  access: Access | null,
  user: Doc<"users">,
  business: Doc<"businesses">,
  customerId: Id<"customers"> | undefined,
  now: number,
): Promise<{ customer: Doc<"customers">; mode: RuleMode; actor: Actor; source: "portal" | "staff" }> {
  if (access !== null && (access.role === "owner" || access.role === "manager")) {
    if (customerId === undefined) {
      throw appError("INVALID_ARGUMENT", "Choose the customer this booking is for.", { param: "customerId" });
    }
    const customer = await ctx.db.get("customers", customerId);
    if (customer === null || customer.businessId !== business._id) {
      throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
    }
    return { customer, mode: "staff", actor: { role: access.role, userId: user._id }, source: "staff" };
  }
  if (access !== null && (access.role === "staff" || access.role === "platform_admin")) {
    throw appError("FORBIDDEN", "Only the customer, a manager or the owner can make a booking.");
  }
  let customer: Doc<"customers"> | null = access?.role === "customer" ? access.customer : null;
  if (customerId !== undefined && customer?._id !== customerId) {
    throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
  }
  if (customer === null) {
    const id = await ctx.db.insert("customers", {
      businessId: business._id,
      userId: user._id,
      name: user.name,
      email: user.email,
      tags: [],
      createdAt: now,
    });
    customer = (await ctx.db.get("customers", id))!;
  }
  return { customer, mode: "customer", actor: { role: "customer", userId: user._id }, source: "portal" };
}

export type CreateBookingInput = {
  business: Doc<"businesses">;
  zone: Doc<"zones">;
  customer: Doc<"customers">;
  priced: PricedCart;
  start: number;
  status: Extract<BookingStatus, "HELD" | "CONFIRMED">;
  source: Doc<"bookings">["source"];
  actor: Actor;
  mode: RuleMode;
  now: number;
  frequency: Doc<"bookings">["frequency"];
  seriesId?: Id<"recurringSeries">;
  occurrenceIndex?: number;
  address?: Doc<"bookings">["address"];
  customerNotes?: string;
  holdExpiresAt?: number;
};

export function placementRequestFor(
  business: Doc<"businesses">,
  booking: Pick<Doc<"bookings">, "zoneId" | "items" | "quote">,
  start: number,
  mode: RuleMode,
  now: number,
  excludeBookingId?: Id<"bookings">,
): PlacementRequest {
  return {
    business,
    zoneId: booking.zoneId,
    productIds: productIdsOfItems(booking.items),
    start,
    durationMinutes: booking.quote.durationMinutes,
    arrivalWindowMinutes: business.policies.booking.arrivalWindowMinutes,
    mode,
    now,
    excludeBookingId,
  };
}

/**
 * Inserts the booking and places it: auto-assigned by the business's policy, or (manual
 * policy) left unassigned after the business-level capacity check. Throws SLOT_UNAVAILABLE
 * (rolling the whole mutation back) when it does not fit.
 */
export async function createBooking(ctx: RawMutationCtx, input: CreateBookingInput): Promise<Doc<"bookings">> {
  const { business, priced } = input;
  const rules = business.policies.booking;
  const spanMinutes = priced.quote.durationMinutes + rules.arrivalWindowMinutes;
  if (spanMinutes > MAX_BOOKING_SPAN_MINUTES) {
    throw appError("INVALID_ARGUMENT", "A single booking can last at most 24 hours.", { param: "cart" });
  }
  const end = input.start + spanMinutes * MINUTE_MS;
  const bookingFields = {
    zoneId: input.zone._id,
    items: priced.items,
    quote: priced.storedQuote,
  };
  const request = {
    ...placementRequestFor(business, bookingFields, input.start, input.mode, input.now),
    ignoreHorizon: input.seriesId !== undefined,
  };
  if (rules.autoAssign === "manual") await checkManualCapacity(ctx, request);

  const bookingId = await ctx.db.insert("bookings", {
    businessId: business._id,
    customerId: input.customer._id,
    zoneId: input.zone._id,
    industryId: priced.industryId,
    address: input.address,
    status: input.status,
    start: input.start,
    end,
    localDate: localDateOf(input.start, business.timeZone),
    arrivalWindowEnd: rules.arrivalWindowMinutes > 0 ? input.start + rules.arrivalWindowMinutes * MINUTE_MS : undefined,
    items: priced.items,
    quote: priced.storedQuote,
    frequency: input.frequency,
    seriesId: input.seriesId,
    occurrenceIndex: input.occurrenceIndex,
    assignedResourceIds: [],
    holdExpiresAt: input.holdExpiresAt,
    customerNotes: input.customerNotes,
    rescheduleCount: 0,
    source: input.source,
    createdAt: input.now,
  });

  if (rules.autoAssign !== "manual") {
    const placed = await autoAssign(ctx, { ...request, excludeBookingId: bookingId }, bookingId, { policy: rules.autoAssign });
    if ("failure" in placed) throw slotUnavailable(placed.failure);
    await ctx.db.patch("bookings", bookingId, { assignedResourceIds: [placed.resource._id] });
  }
  const booking = (await ctx.db.get("bookings", bookingId))!;
  await recordCreated(ctx, booking, input.actor, input.now);
  return booking;
}
