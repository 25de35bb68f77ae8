/**
 * Bookings for the REST API, scoped to the API key's business, acting as
 * `{role: "api", apiKeyId}` with the domain state machine's "manager" role (an integration
 * acts for the business). `actingFor` says whose rules apply: "customer" (default: minimum
 * notice, horizon and the customer's cancellation/reschedule fees, as when a partner books
 * for a customer) or "business" (staff rules, no customer fees).
 *
 * Everything is composed from the booking engineer's model functions (`createBooking`,
 * `priceCart`, `transition`, `issueInvoice`, `autoAssign`, policies, events). The
 * public bookings.ts mutations hold the same sequences inline around `ctx.viewer`; the
 * refactor wanted is for bookings.ts to expose `confirmHeld`, `rescheduleBooking`,
 * `cancelBooking`, `changeFieldStatus` in `model/` taking an explicit actor, so that this
 * module and bookings.ts share one copy (see the report).
 */
import { v } from "convex/values";
import type { ActorRole } from "../../domain/bookingStatus";
import { localDateOf, MINUTE_MS } from "../../domain/time";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { appError } from "../errors";
import { internalMutation, internalQuery } from "../functions";
import { assertInstant, createBooking, placementRequestFor, requireBookableBusiness, requireZone } from "../model/bookingCreate";
import { emitBookingChange, emitInvoiceChange } from "../model/bookingEvents";
import { cancellationDecision, invoiceOf, noShowDecision, rescheduleVerdict } from "../model/bookingPolicy";
import { priceCart } from "../model/bookingPricing";
import { autoAssign, checkManualCapacity, MAX_BOOKING_SPAN_MINUTES, placeOnResource, releaseAssignments, slotUnavailable } from "../model/bookingSlots";
import { transition } from "../model/bookingTransitions";
import { emitEvent } from "../model/events";
import { depositFor, issueInvoice } from "../model/invoiceLines";
import { optionalText, requireText } from "../model/validation";
import type { Actor, CartItem } from "../schema";
import { vLatLng } from "../schema";
import { decodeCursor, listFingerprint, toListPage } from "./v1/pagination";
import { presentBooking, presentCustomer, presentInvoice, presentZone } from "./v1/present";
import { apiActor, notFound, ownDoc, vApiCaller } from "./tenant";

const MAX_NOTES = 2000;
const MAX_REASON = 500;
const API_DOMAIN_ROLE: ActorRole = "manager";

const vActingFor = v.union(v.literal("customer"), v.literal("business"));
const vOrder = v.union(v.literal("asc"), v.literal("desc"));
const vExpand = v.array(v.union(v.literal("customer"), v.literal("invoice"), v.literal("zone")));
const vCartInput = v.array(
  v.object({ productId: v.string(), quantity: v.number(), extras: v.array(v.object({ extraId: v.string(), quantity: v.number() })) }),
);
const vAddressInput = v.object({
  line1: v.string(),
  line2: v.optional(v.string()),
  city: v.string(),
  region: v.optional(v.string()),
  postalCode: v.string(),
  country: v.string(),
  location: v.optional(vLatLng),
});

type Who = { actor: Actor; domainRole: ActorRole; byCustomer: boolean };

function whoFor(apiKeyId: Id<"apiKeys">, actingFor: "customer" | "business"): Who {
  return { actor: apiActor(apiKeyId), domainRole: API_DOMAIN_ROLE, byCustomer: actingFor === "customer" };
}

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

async function reload(ctx: MutationCtx, bookingId: Id<"bookings">) {
  return presentBooking((await ctx.db.get("bookings", bookingId))!);
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
    const result = await query.order(args.order).paginate({ numItems: args.limit, cursor });
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

/** HELD → PENDING_PAYMENT (deposit due) or CONFIRMED, issuing the invoice (as bookings.confirm). */
async function confirmHeld(ctx: MutationCtx, booking: Doc<"bookings">, business: Doc<"businesses">, who: Who, now: number) {
  if (booking.status !== "HELD") {
    throw appError("INVALID_TRANSITION", `The booking is ${booking.status.toLowerCase()}, not held.`, { param: "bookingId" });
  }
  if (booking.holdExpiresAt !== undefined && booking.holdExpiresAt <= now) {
    throw appError("HOLD_EXPIRED", "The hold on this time has expired; pick a slot again.", { param: "bookingId" });
  }
  const depositMinor = depositFor(booking.quote.totalMinor, business.policies.booking.depositBp);
  const to: "PENDING_PAYMENT" | "CONFIRMED" = depositMinor > 0 ? "PENDING_PAYMENT" : "CONFIRMED";
  const paymentDeadline = now + business.policies.booking.holdMinutes * MINUTE_MS;
  const updated = await transition(ctx, booking, to, who, now, {
    patch: { holdExpiresAt: to === "PENDING_PAYMENT" ? paymentDeadline : undefined },
  });
  if (to === "PENDING_PAYMENT") await ctx.scheduler.runAt(paymentDeadline, internal.bookings.expireHold, { bookingId: booking._id });
  const invoice = await issueInvoice(ctx, updated, business, now);
  await emitBookingChange(ctx, (await ctx.db.get("bookings", booking._id))!, "confirmed", { from: "HELD" });
  await emitInvoiceChange(ctx, invoice, "issued");
}

export const create = internalMutation({
  args: {
    ...vApiCaller,
    customerId: v.string(),
    zoneId: v.string(),
    cart: vCartInput,
    start: v.number(),
    address: v.optional(vAddressInput),
    addressId: v.optional(v.string()),
    customerNotes: v.optional(v.string()),
    confirm: v.boolean(),
    actingFor: vActingFor,
  },
  handler: async (ctx, args) => {
    const now = Date.now();
    assertInstant(args.start, "start");
    if (args.customerNotes !== undefined && args.customerNotes.length > MAX_NOTES) {
      throw appError("INVALID_ARGUMENT", `Notes are limited to ${MAX_NOTES} characters.`, { param: "customerNotes" });
    }
    if (args.address !== undefined && args.addressId !== undefined) {
      throw appError("INVALID_ARGUMENT", "Give either address or addressId, not both.", { param: "addressId" });
    }
    const business = await requireBookableBusiness(ctx, args.businessId);
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
    const who = whoFor(args.apiKeyId, args.actingFor);
    const holdExpiresAt = now + business.policies.booking.holdMinutes * MINUTE_MS;
    const booking = await createBooking(ctx, {
      business,
      zone,
      customer,
      priced,
      start: args.start,
      status: "HELD",
      source: "api",
      actor: who.actor,
      mode: who.byCustomer ? "customer" : "staff",
      now,
      frequency: "once",
      address,
      customerNotes: args.customerNotes,
      holdExpiresAt,
    });
    if (args.confirm) {
      await confirmHeld(ctx, booking, business, who, now);
    } else {
      await ctx.scheduler.runAt(holdExpiresAt, internal.bookings.expireHold, { bookingId: booking._id });
      await emitBookingChange(ctx, booking, "held");
    }
    return await reload(ctx, booking._id);
  },
});

export const confirm = internalMutation({
  args: { ...vApiCaller, bookingId: v.string() },
  handler: async (ctx, args) => {
    const booking = await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId");
    const business = (await ctx.db.get("businesses", booking.businessId))!;
    await confirmHeld(ctx, booking, business, whoFor(args.apiKeyId, "business"), Date.now());
    return await reload(ctx, booking._id);
  },
});

// ---------------------------------------------------------------------------------------
// Changes
// ---------------------------------------------------------------------------------------

export const updateNotes = internalMutation({
  args: { ...vApiCaller, bookingId: v.string(), customerNotes: v.union(v.string(), v.null()) },
  handler: async (ctx, args) => {
    const booking = await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId");
    if (args.customerNotes !== null && args.customerNotes.length > MAX_NOTES) {
      throw appError("INVALID_ARGUMENT", `Notes are limited to ${MAX_NOTES} characters.`, { param: "customerNotes" });
    }
    const customerNotes = args.customerNotes === null || args.customerNotes.trim() === "" ? undefined : args.customerNotes;
    await ctx.db.patch("bookings", booking._id, { customerNotes });
    // Event log and partner webhooks only: the PartyKit booking rooms carry summaries without notes.
    await emitEvent(ctx, {
      businessId: booking.businessId,
      type: "booking.updated",
      entity: { table: "bookings", id: booking._id },
      data: { bookingId: booking._id, fields: ["customerNotes"] },
      rooms: [],
    });
    return await reload(ctx, booking._id);
  },
});

const MOVABLE: ReadonlyArray<Doc<"bookings">["status"]> = ["HELD", "PENDING_PAYMENT", "CONFIRMED"];

export const reschedule = internalMutation({
  args: { ...vApiCaller, bookingId: v.string(), start: v.number(), expectedFeeMinor: v.optional(v.number()), actingFor: vActingFor },
  handler: async (ctx, args) => {
    const booking = await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId");
    const who = whoFor(args.apiKeyId, args.actingFor);
    assertInstant(args.start, "start");
    const now = Date.now();
    if (!MOVABLE.includes(booking.status)) {
      throw appError("INVALID_TRANSITION", `A ${booking.status.toLowerCase()} booking cannot be rescheduled.`, { param: "bookingId" });
    }
    if (booking.status === "HELD" && booking.holdExpiresAt !== undefined && booking.holdExpiresAt <= now) {
      throw appError("HOLD_EXPIRED", "The hold on this time has expired; pick a slot again.", { param: "bookingId" });
    }
    if (args.start === booking.start) throw appError("INVALID_ARGUMENT", "The booking is already at that time.", { param: "start" });
    const business = await requireBookableBusiness(ctx, booking.businessId);
    const invoice = await invoiceOf(ctx, booking);
    const verdict = rescheduleVerdict(business, booking, invoice, who.byCustomer, now);
    if (!verdict.allowed) throw appError("POLICY_VIOLATION", verdict.reason, { param: "bookingId" });
    if (args.expectedFeeMinor !== undefined && args.expectedFeeMinor !== verdict.feeMinor) {
      throw appError("POLICY_VIOLATION", `The reschedule fee is now ${verdict.feeMinor}; confirm again.`, {
        param: "expectedFeeMinor",
        details: { feeMinor: verdict.feeMinor },
      });
    }
    const spanMinutes = booking.quote.durationMinutes + business.policies.booking.arrivalWindowMinutes;
    if (spanMinutes > MAX_BOOKING_SPAN_MINUTES) throw appError("INVALID_ARGUMENT", "The booking is too long to schedule.");

    const previousResourceIds = booking.assignedResourceIds;
    await releaseAssignments(ctx, booking._id);
    const request = placementRequestFor(business, booking, args.start, who.byCustomer ? "customer" : "staff", now, booking._id);
    let resourceIds: Id<"resources">[] = [];
    const policy = business.policies.booking.autoAssign;
    if (policy === "manual") {
      if (previousResourceIds.length > 0) {
        for (const resourceId of previousResourceIds) {
          const resource = await ctx.db.get("resources", resourceId);
          if (resource === null) throw slotUnavailable("The assigned provider is no longer available.");
          await placeOnResource(ctx, request, resource, booking._id, "accepted");
        }
        resourceIds = previousResourceIds;
      } else {
        await checkManualCapacity(ctx, request);
      }
    } else {
      const placed = await autoAssign(ctx, request, booking._id, { policy, preferred: previousResourceIds });
      if ("failure" in placed) throw slotUnavailable(placed.failure);
      resourceIds = [placed.resource._id];
    }
    const windowMinutes = business.policies.booking.arrivalWindowMinutes;
    await ctx.db.patch("bookings", booking._id, {
      start: args.start,
      end: args.start + spanMinutes * MINUTE_MS,
      localDate: localDateOf(args.start, business.timeZone),
      arrivalWindowEnd: windowMinutes > 0 ? args.start + windowMinutes * MINUTE_MS : undefined,
      rescheduleCount: booking.rescheduleCount + 1,
      assignedResourceIds: resourceIds,
    });
    if (verdict.feeMinor > 0 && invoice !== null) {
      await ctx.db.patch("invoices", invoice._id, {
        lines: [
          ...invoice.lines,
          { kind: "fee", description: "Late reschedule fee", quantity: 1, unitAmountMinor: verdict.feeMinor, amountMinor: verdict.feeMinor },
        ],
        totalMinor: invoice.totalMinor + verdict.feeMinor,
        status: invoice.status === "paid" ? "open" : invoice.status,
      });
      await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "updated");
    }
    await ctx.db.insert("bookingStatusHistory", {
      businessId: booking.businessId,
      bookingId: booking._id,
      from: booking.status,
      to: booking.status,
      at: now,
      actor: who.actor,
      reason: `rescheduled from ${new Date(booking.start).toISOString()}`,
    });
    const updated = (await ctx.db.get("bookings", booking._id))!;
    await emitBookingChange(ctx, updated, "rescheduled", {
      previous: { start: booking.start, end: booking.end, localDate: booking.localDate },
      previousResourceIds,
    });
    return presentBooking(updated);
  },
});

async function voidUnpaidInvoice(ctx: MutationCtx, booking: Doc<"bookings">, feeMinor: number) {
  const invoice = await invoiceOf(ctx, booking);
  if (invoice === null || invoice.status === "void") return;
  if (invoice.amountPaidMinor === 0 && feeMinor === 0) {
    await ctx.db.patch("invoices", invoice._id, { status: "void" });
    await emitInvoiceChange(ctx, (await ctx.db.get("invoices", invoice._id))!, "voided");
  }
}

export const cancel = internalMutation({
  args: { ...vApiCaller, bookingId: v.string(), reason: v.optional(v.string()), expectedFeeMinor: v.optional(v.number()), actingFor: vActingFor },
  handler: async (ctx, args) => {
    const booking = await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId");
    const who = whoFor(args.apiKeyId, args.actingFor);
    if (args.reason !== undefined && args.reason.length > MAX_REASON) {
      throw appError("INVALID_ARGUMENT", `The reason is limited to ${MAX_REASON} characters.`, { param: "reason" });
    }
    const now = Date.now();
    const business = (await ctx.db.get("businesses", booking.businessId))!;
    const decision = cancellationDecision(business, booking, await invoiceOf(ctx, booking), who.byCustomer, now);
    if (args.expectedFeeMinor !== undefined && args.expectedFeeMinor !== decision.feeMinor) {
      throw appError("POLICY_VIOLATION", `The cancellation fee is now ${decision.feeMinor}; confirm again.`, {
        param: "expectedFeeMinor",
        details: { feeMinor: decision.feeMinor },
      });
    }
    const released = await releaseAssignments(ctx, booking._id);
    const updated = await transition(ctx, booking, "CANCELLED", who, now, {
      reason: args.reason,
      patch: {
        holdExpiresAt: undefined,
        assignedResourceIds: [],
        cancellation: { at: now, actor: who.actor, reason: args.reason, feeMinor: decision.feeMinor },
      },
    });
    await voidUnpaidInvoice(ctx, updated, decision.feeMinor);
    await emitBookingChange(ctx, updated, "cancelled", { from: booking.status, resourceIds: released.map((a) => a.resourceId) });
    return presentBooking(updated);
  },
});

export const setStatus = internalMutation({
  args: {
    ...vApiCaller,
    bookingId: v.string(),
    status: v.union(v.literal("CONFIRMED"), v.literal("EN_ROUTE"), v.literal("IN_PROGRESS"), v.literal("COMPLETED"), v.literal("NO_SHOW")),
    note: v.optional(v.string()),
  },
  handler: async (ctx, args) => {
    const booking = await ownDoc(ctx, "bookings", args.businessId, args.bookingId, "bookingId");
    const who = whoFor(args.apiKeyId, "business");
    if (args.note !== undefined && args.note.length > MAX_REASON) {
      throw appError("INVALID_ARGUMENT", `The note is limited to ${MAX_REASON} characters.`, { param: "note" });
    }
    const now = Date.now();
    let patch: Partial<Doc<"bookings">> = {};
    if (args.status === "NO_SHOW") {
      const business = (await ctx.db.get("businesses", booking.businessId))!;
      const feeMinor = noShowDecision(business, booking, await invoiceOf(ctx, booking)).feeMinor;
      patch = { cancellation: { at: now, actor: who.actor, reason: args.note ?? "no_show", feeMinor } };
    }
    const updated = await transition(ctx, booking, args.status, who, now, { reason: args.note, patch });
    const released =
      args.status === "COMPLETED" || args.status === "NO_SHOW" ? await releaseAssignments(ctx, booking._id) : [];
    await emitBookingChange(ctx, updated, "status_changed", {
      from: booking.status,
      availabilityChanged: released.length > 0,
      resourceIds: released.map((a) => a.resourceId),
    });
    return presentBooking(updated);
  },
});

