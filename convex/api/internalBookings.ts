/**
 * Bookings for the REST API, scoped to the API key's business: each handler loads what the
 * request names through `ownDoc` (NOT_FOUND for other tenants' ids), builds the API key's
 * actor (`bookingActorOfKey` over `model/actor.apiKeyActor`, which re-reads the key in this
 * transaction: an integration acting for the business, under the customer's rules and
 * fees when `actingFor` is "customer", the default) and calls the same command in
 * `model/bookingCommands.ts` the portal calls, then presents the booking. Events, customer
 * notifications, partner webhooks and refunds are the command's, so they are the same as the
 * portal's (see parity.test.ts).
 */
import { v, type Infer } from "convex/values";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../errors";
import { internalMutation, internalQuery } from "../functions";
import { apiKeyActor } from "../model/actor";
import {
  bookingActorOfKey,
  cancelBooking,
  changeFieldStatus,
  confirmBooking,
  holdBooking,
  rescheduleBooking,
  updateCustomerNotes,
} from "../model/bookingCommands";
import { assertInstant, requireBookableBusiness, requireZone } from "../model/bookingCreate";
import { invoiceOf } from "../model/bookingPolicy";
import { priceCart } from "../model/bookingPricing";
import { optionalText, requireText } from "../model/validation";
import type { CartItem } from "../schema";
import { vAddress, vFieldStatus } from "../schema";
import { decodeCursor, listFingerprint, paginateFrom, toListPage } from "./v1/pagination";
import { presentBooking, presentCustomer, presentInvoice, presentZone } from "./v1/present";
import { runAdmitted, vCommandOutcome, vCommandRequest, type Caller } from "./commands";
import { notFound, ownDoc, vApiCaller } from "./tenant";

const vActingFor = v.union(v.literal("customer"), v.literal("business"));
const vOrder = v.union(v.literal("asc"), v.literal("desc"));
const vExpand = v.array(v.union(v.literal("customer"), v.literal("invoice"), v.literal("zone")));
const vCartInput = v.array(
  v.object({ productId: v.string(), quantity: v.number(), extras: v.array(v.object({ extraId: v.string(), quantity: v.number() })) }),
);
/** Cart ids as strings → typed ids; malformed ones are NOT_FOUND naming the line. */
export function normalizeCart(ctx: Pick<QueryCtx, "db">, cart: { productId: string; quantity: number; extras: { extraId: string; quantity: number }[] }[]): CartItem[] {
  return cart.map((line, i) => {
    const productId = ctx.db.normalizeId("products", line.productId);
    if (productId === null) throw appError("NOT_FOUND", `Cart line ${i + 1}: the service is not offered.`, { param: `cart[${i}].productId` });
    return {
      productId,
      quantity: line.quantity,
      extras: line.extras.map((e, j) => {
        const extraId = ctx.db.normalizeId("extras", e.extraId);
        if (extraId === null) throw appError("NOT_FOUND", `Cart line ${i + 1}: the extra is not offered.`, { param: `cart[${i}].extras[${j}].extraId` });
        return { extraId, quantity: e.quantity };
      }),
    };
  });
}

async function expandBooking(ctx: QueryCtx, booking: Doc<"bookings">, expand: readonly string[]) {
  const out: Record<string, unknown> = presentBooking(booking);
  if (expand.includes("customer")) {
    const customer = await ctx.db.get("customers", booking.customerId);
    if (customer !== null) out.customer = presentCustomer(customer);
  }
  if (expand.includes("invoice")) {
    const invoice = await invoiceOf(ctx, booking);
    out.invoice = invoice === null ? null : presentInvoice(invoice);
  }
  if (expand.includes("zone")) {
    const zone = await ctx.db.get("zones", booking.zoneId);
    if (zone !== null) out.zone = presentZone(zone);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

export const list = internalQuery({
  args: {
    ...vApiCaller,
    status: v.optional(v.string()),
    from: v.optional(v.number()),
    to: v.optional(v.number()),
    customerId: v.optional(v.string()),
    zoneId: v.optional(v.string()),
    resourceId: v.optional(v.string()),
    order: vOrder,
    expand: vExpand,
    limit: v.number(),
    cursor: v.optional(v.string()),
  },
  handler: async (ctx, args) => {
    const { from, to, businessId } = args;
    if (from !== undefined && to !== undefined && to < from) throw appError("INVALID_ARGUMENT", "`to` is before `from`.", { param: "to" });
    const fingerprint = listFingerprint({
      list: "bookings",
      status: args.status,
      from,
      to,
      customerId: args.customerId,
      zoneId: args.zoneId,
      resourceId: args.resourceId,
      order: args.order,
    });
    const cursor = decodeCursor(args.cursor, fingerprint);
    const status = args.status as Doc<"bookings">["status"] | undefined;
    const zoneId = args.zoneId === undefined ? undefined : (await ownDoc(ctx, "zones", businessId, args.zoneId, "zoneId"))._id;
    const resourceId = args.resourceId === undefined ? undefined : (await ownDoc(ctx, "resources", businessId, args.resourceId, "resourceId"))._id;
    let query;
    if (args.customerId !== undefined) {
      const customer = await ownDoc(ctx, "customers", businessId, args.customerId, "customerId");
      query = ctx.db.query("bookings").withIndex("by_customerId_and_start", (q) => {
        const base = q.eq("customerId", customer._id);
        const lower = from === undefined ? base : base.gte("start", from);
        return to === undefined ? lower : lower.lt("start", to);
      });
      // eslint-disable-next-line @convex-dev/no-filter-in-query -- narrows an index range of this business during pagination
      if (status !== undefined) query = query.filter((q) => q.eq(q.field("status"), status));
    } else if (status !== undefined) {
      query = ctx.db.query("bookings").withIndex("by_businessId_and_status_and_start", (q) => {
        const base = q.eq("businessId", businessId).eq("status", status);
        const lower = from === undefined ? base : base.gte("start", from);
        return to === undefined ? lower : lower.lt("start", to);
      });
    } else {
      query = ctx.db.query("bookings").withIndex("by_businessId_and_start", (q) => {
        const base = q.eq("businessId", businessId);
        const lower = from === undefined ? base : base.gte("start", from);
        return to === undefined ? lower : lower.lt("start", to);
      });
    }
    // eslint-disable-next-line @convex-dev/no-filter-in-query -- narrows an index range of this business during pagination
    if (zoneId !== undefined) query = query.filter((q) => q.eq(q.field("zoneId"), zoneId));
    const result = await paginateFrom(query.order(args.order), args.limit, cursor);
    // The resource filter reads an array field, which index ranges and filters cannot test:
    // it is applied to the page, which may then hold fewer than `limit` items.
    const page = resourceId === undefined ? result.page : result.page.filter((b) => b.assignedResourceIds.includes(resourceId));
    const expanded = await Promise.all(page.map((b) => expandBooking(ctx, b, args.expand)));
    return toListPage({ ...result, page: expanded }, (b) => b, fingerprint);
  },
});

export const get = internalQuery({
  args: { ...vApiCaller, bookingId: v.string(), expand: vExpand },
  handler: async (ctx, args) => expandBooking(ctx, await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId"), args.expand),
});

/**
 * For GET /v1/availability: the zone (this business's) and the cart with ids checked, so the
 * HTTP action can call the public `availability.slots` / `availability.quote` with valid ids.
 */
export const prepareAvailability = internalQuery({
  args: { ...vApiCaller, zoneId: v.string(), cart: vCartInput },
  handler: async (ctx, args) => {
    const zone = await ownDoc(ctx, "zones", args.businessId, args.zoneId, "zoneId");
    return { zoneId: zone._id, cart: normalizeCart(ctx, args.cart) };
  },
});

// ---------------------------------------------------------------------------------------
// Create and confirm
// ---------------------------------------------------------------------------------------

function validAddress(a: Doc<"customerAddresses">["address"]): Doc<"customerAddresses">["address"] {
  const country = a.country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) throw appError("INVALID_ARGUMENT", "country must be a two-letter ISO 3166 code.", { param: "address.country" });
  return {
    line1: requireText(a.line1, "address.line1", 200),
    line2: optionalText(a.line2, "address.line2", 200),
    city: requireText(a.city, "address.city", 120),
    region: optionalText(a.region, "address.region", 120),
    postalCode: requireText(a.postalCode, "address.postalCode", 20),
    country,
    location: a.location,
  };
}

const vCreateInput = v.object({
  customerId: v.string(),
  zoneId: v.string(),
  cart: vCartInput,
  start: v.number(),
  address: v.optional(vAddress),
  addressId: v.optional(v.string()),
  customerNotes: v.optional(v.string()),
  confirm: v.boolean(),
  actingFor: vActingFor,
});

/** Holds (and by default confirms) a booking for the API key's business; the presented booking. */
async function createBooking(ctx: MutationCtx, caller: Caller, args: Infer<typeof vCreateInput>) {
  assertInstant(args.start, "start");
  if (args.address !== undefined && args.addressId !== undefined) {
    throw appError("INVALID_ARGUMENT", "Give either address or addressId, not both.", { param: "addressId" });
  }
  const business = await requireBookableBusiness(ctx, caller.businessId);
  const zone = await requireZone(ctx, business, (await ownDoc(ctx, "zones", business._id, args.zoneId, "zoneId"))._id);
  const customer = await ownDoc(ctx, "customers", business._id, args.customerId, "customerId");
  let address: Doc<"bookings">["address"];
  if (args.addressId !== undefined) {
    const saved = await ownDoc(ctx, "customerAddresses", business._id, args.addressId, "addressId");
    if (saved.customerId !== customer._id) throw notFound("customerAddresses", "addressId");
    address = saved.address;
  } else if (args.address !== undefined) {
    address = validAddress(args.address);
  }
  const priced = await priceCart(ctx, business, zone, normalizeCart(ctx, args.cart));
  const booking = await holdBooking(
    ctx,
    bookingActorOfKey(await apiKeyActor(ctx, caller), args.actingFor),
    { business, zone, customer, priced, start: args.start, source: "api", address, customerNotes: args.customerNotes, confirm: args.confirm },
    Date.now(),
  );
  return presentBooking(booking);
}

/**
 * POST /v1/bookings in one transaction: admission, Idempotency-Key and the booking command
 * (api/commands.ts). Delivery of what the booking emitted happens after, batched.
 */
export const create = internalMutation({
  args: { request: vCommandRequest, input: vCreateInput },
  returns: vCommandOutcome,
  handler: async (ctx, { request, input }) => await runAdmitted(ctx, request, (caller) => createBooking(ctx, caller, input)),
});

export const confirm = internalMutation({
  args: { ...vApiCaller, bookingId: v.string() },
  handler: async (ctx, args) => {
    const booking = await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId");
    const { booking: confirmed } = await confirmBooking(ctx, bookingActorOfKey(await apiKeyActor(ctx, args), "business"), booking, Date.now());
    return presentBooking(confirmed);
  },
});

// ---------------------------------------------------------------------------------------
// Changes
// ---------------------------------------------------------------------------------------

export const updateNotes = internalMutation({
  args: { ...vApiCaller, bookingId: v.string(), customerNotes: v.union(v.string(), v.null()) },
  handler: async (ctx, args) => {
    const booking = await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId");
    return presentBooking(await updateCustomerNotes(ctx, bookingActorOfKey(await apiKeyActor(ctx, args), "business"), booking, args.customerNotes));
  },
});

export const reschedule = internalMutation({
  args: { ...vApiCaller, bookingId: v.string(), start: v.number(), expectedFeeMinor: v.optional(v.number()), actingFor: vActingFor },
  handler: async (ctx, args) => {
    const booking = await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId");
    assertInstant(args.start, "start");
    const moved = await rescheduleBooking(
      ctx,
      bookingActorOfKey(await apiKeyActor(ctx, args), args.actingFor),
      booking,
      { start: args.start, expectedFeeMinor: args.expectedFeeMinor },
      Date.now(),
    );
    return presentBooking(moved.booking);
  },
});

export const cancel = internalMutation({
  args: { ...vApiCaller, bookingId: v.string(), reason: v.optional(v.string()), expectedFeeMinor: v.optional(v.number()), actingFor: vActingFor },
  handler: async (ctx, args) => {
    const booking = await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId");
    const cancelled = await cancelBooking(
      ctx,
      bookingActorOfKey(await apiKeyActor(ctx, args), args.actingFor),
      booking,
      { reason: args.reason, expectedFeeMinor: args.expectedFeeMinor },
      Date.now(),
    );
    return presentBooking(cancelled.booking);
  },
});

export const setStatus = internalMutation({
  args: { ...vApiCaller, bookingId: v.string(), status: vFieldStatus, note: v.optional(v.string()), overrideReason: v.optional(v.string()) },
  handler: async (ctx, args) => {
    const booking = await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId");
    const changed = await changeFieldStatus(
      ctx,
      bookingActorOfKey(await apiKeyActor(ctx, args), "business"),
      booking,
      { status: args.status, note: args.note, overrideReason: args.overrideReason },
      Date.now(),
    );
    return presentBooking(changed.booking);
  },
});
