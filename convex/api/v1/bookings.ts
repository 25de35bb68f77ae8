/** /v1/availability and /v1/bookings. */
import { api, internal } from "../../_generated/api";
import { ApiError } from "./errors";
import type { z } from "zod";
import { tooNestedMessage } from "../../model/jsonNesting";
import { command, read, route, validate, write, type Route } from "./framework";
import {
  expandableBookingFields,
  listOf,
  zAvailability,
  zAvailabilityQuery,
  zBooking,
  zBookingCancel,
  zBookingConfirm,
  zBookingCreate,
  zBookingListQuery,
  zBookingReschedule,
  zBookingStatusChange,
  zBookingUpdate,
  zCart,
  zExpandQuery,
} from "./schemas";

const m = internal.api.internalBookings;
const tag = "Bookings";

type Expandable = (typeof expandableBookingFields)[number];

/** "customer,invoice" → ["customer", "invoice"]; unknown names are a 422 on `expand`. */
export function parseExpand(expand: string | undefined): Expandable[] {
  if (expand === undefined || expand.trim() === "") return [];
  const names = [...new Set(expand.split(",").map((s) => s.trim()).filter(Boolean))];
  for (const name of names) {
    if (!(expandableBookingFields as readonly string[]).includes(name)) {
      throw new ApiError("INVALID_ARGUMENT", `expand: "${name}" cannot be expanded; use ${expandableBookingFields.join(", ")}.`, "expand");
    }
  }
  return names as Expandable[];
}

/** The cart of GET /v1/availability: `cart` (JSON) or the productId/quantity/extraIds shorthand. */
function cartOf(query: { cart?: string; productId?: string; quantity?: number; extraIds?: string }) {
  if (query.cart !== undefined) {
    if (query.productId !== undefined) throw new ApiError("INVALID_ARGUMENT", "Give either cart or productId, not both.", "productId");
    let parsed: unknown;
    try {
      parsed = JSON.parse(query.cart);
    } catch {
      throw new ApiError("INVALID_ARGUMENT", "cart must be a JSON array of cart lines.", "cart");
    }
    const tooNested = tooNestedMessage(parsed);
    if (tooNested !== null) throw new ApiError("MALFORMED_JSON", tooNested, "cart");
    return validate(zCart, parsed, "query");
  }
  if (query.productId === undefined) throw new ApiError("INVALID_ARGUMENT", "Give the cart: cart (JSON) or productId.", "productId");
  const extraIds = (query.extraIds ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  return validate(zCart, [{ productId: query.productId, quantity: query.quantity ?? 1, extras: extraIds.map((extraId) => ({ extraId })) }], "query");
}

export const bookingRoutes: Route[] = [
  route({
    method: "GET",
    path: "/v1/availability",
    operationId: "getAvailability",
    summary: "Live slots for a cart in a zone over local dates, with the cart's price.",
    tag: "Availability",
    scope: read("availability"),
    query: zAvailabilityQuery,
    response: zAvailability,
    errors: ["BUSINESS_NOT_ACTIVE", "NOT_FOUND"],
    handler: async ({ ctx, businessId, apiKeyId, query }) => {
      const cart = cartOf(query);
      const prepared = await ctx.runQuery(m.prepareAvailability, { businessId, apiKeyId, zoneId: query.zoneId, cart });
      const args = { businessId, zoneId: prepared.zoneId, cart: prepared.cart };
      const [slots, quote] = await Promise.all([
        ctx.runQuery(api.availability.slots, { ...args, from: query.from, to: query.to }),
        ctx.runQuery(api.availability.quote, args),
      ]);
      return {
        object: "availability",
        zoneId: prepared.zoneId,
        timeZone: slots.timeZone,
        durationMinutes: slots.durationMinutes,
        arrivalWindowMinutes: slots.arrivalWindowMinutes,
        quote: quote.quote,
        slots: slots.slots.map((s) => ({ start: s.start, end: s.end, arrivalWindowEnd: s.arrivalWindowEnd ?? null, remainingCapacity: s.remainingCapacity })),
      };
    },
  }),
  route({
    method: "GET",
    path: "/v1/bookings",
    operationId: "listBookings",
    summary: "List bookings by start time, filtered by status, date range, customer, zone or resource.",
    tag,
    scope: read("bookings"),
    query: zBookingListQuery,
    response: listOf(zBooking, "BookingList"),
    handler: ({ ctx, businessId, apiKeyId, query }) => {
      const { expand, ...filters } = query;
      return ctx.runQuery(m.list, { businessId, apiKeyId, ...filters, expand: parseExpand(expand) });
    },
  }),
  route({
    method: "POST",
    path: "/v1/bookings",
    operationId: "createBooking",
    summary: "Book a slot: hold and confirm in one call (default), or only hold (`confirm: false`).",
    tag,
    scope: write("bookings"),
    body: zBookingCreate,
    response: zBooking,
    status: 201,
    errors: ["SLOT_UNAVAILABLE", "BUSINESS_NOT_ACTIVE", "NOT_FOUND", "POLICY_VIOLATION"],
    command: command(m.create, ({ body }: { body: z.output<typeof zBookingCreate> }) => body),
  }),
  route({
    method: "GET",
    path: "/v1/bookings/{bookingId}",
    operationId: "getBooking",
    summary: "Retrieve a booking.",
    tag,
    scope: read("bookings"),
    query: zExpandQuery,
    response: zBooking,
    handler: ({ ctx, businessId, apiKeyId, params, query }) =>
      ctx.runQuery(m.get, { businessId, apiKeyId, bookingId: params.bookingId, expand: parseExpand(query.expand) }),
  }),
  route({
    method: "PATCH",
    path: "/v1/bookings/{bookingId}",
    operationId: "updateBooking",
    summary: "Update the customer's notes (null clears them).",
    tag,
    scope: write("bookings"),
    body: zBookingUpdate,
    response: zBooking,
    handler: ({ ctx, businessId, apiKeyId, params, body }) =>
      ctx.runMutation(m.updateNotes, { businessId, apiKeyId, bookingId: params.bookingId, customerNotes: body.customerNotes }),
  }),
  route({
    method: "POST",
    path: "/v1/bookings/{bookingId}/confirm",
    operationId: "confirmBooking",
    summary: "Confirm a held booking (PENDING_PAYMENT when a deposit is due, else CONFIRMED); issues the invoice.",
    tag,
    scope: write("bookings"),
    body: zBookingConfirm,
    response: zBooking,
    errors: ["INVALID_TRANSITION", "HOLD_EXPIRED"],
    handler: ({ ctx, businessId, apiKeyId, params }) => ctx.runMutation(m.confirm, { businessId, apiKeyId, bookingId: params.bookingId }),
  }),
  route({
    method: "POST",
    path: "/v1/bookings/{bookingId}/reschedule",
    operationId: "rescheduleBooking",
    summary: "Move a booking to another start (same provider when free), under the reschedule policy.",
    tag,
    scope: write("bookings"),
    body: zBookingReschedule,
    response: zBooking,
    errors: ["SLOT_UNAVAILABLE", "INVALID_TRANSITION", "HOLD_EXPIRED", "POLICY_VIOLATION"],
    handler: ({ ctx, businessId, apiKeyId, params, body }) =>
      ctx.runMutation(m.reschedule, { businessId, apiKeyId, bookingId: params.bookingId, ...body }),
  }),
  route({
    method: "POST",
    path: "/v1/bookings/{bookingId}/cancel",
    operationId: "cancelBooking",
    summary: "Cancel a booking under the cancellation policy (`cancellation.feeMinor` says the fee).",
    tag,
    scope: write("bookings"),
    body: zBookingCancel,
    response: zBooking,
    errors: ["INVALID_TRANSITION", "POLICY_VIOLATION"],
    handler: ({ ctx, businessId, apiKeyId, params, body }) =>
      ctx.runMutation(m.cancel, { businessId, apiKeyId, bookingId: params.bookingId, ...body }),
  }),
  route({
    method: "POST",
    path: "/v1/bookings/{bookingId}/status",
    operationId: "setBookingStatus",
    summary:
      "Field status: EN_ROUTE (from the business's lead time before the arrival window), IN_PROGRESS and COMPLETED (from the start), NO_SHOW (after the start), back to CONFIRMED. `overrideReason` sets one before its time.",
    tag,
    scope: write("bookings"),
    body: zBookingStatusChange,
    response: zBooking,
    errors: ["INVALID_TRANSITION", "TOO_EARLY"],
    handler: ({ ctx, businessId, apiKeyId, params, body }) =>
      ctx.runMutation(m.setStatus, { businessId, apiKeyId, bookingId: params.bookingId, ...body }),
  }),
];
