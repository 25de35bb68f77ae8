/**
 * Customers, the parts every door shares: value checks (profile, tags, addresses), the read
 * helpers, who may reach a customer's records, and the event a change emits. The state
 * changes are `customerCommands.ts`.
 *
 * Plain module: no registered functions.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { requireCustomerAccess, type BusinessRole } from "../access";
import { appError } from "../errors";
import { getById, notFoundError, requireApiScope, type CommandActor } from "./actor";
import { emitEvent, rooms } from "./events";
import { invalid, normalizeEmail, normalizePhone, optionalText, requireLocale, requireText, requireTimeZone } from "./validation";

export const MAX_ADDRESSES = 20;
export const MAX_PAYMENT_METHODS = 20;
export const MAX_NOTES = 200;
const MAX_TAGS = 20;

export type CustomerChangeAspect = "profile" | "addresses" | "notes" | "messages" | "payment_methods" | "subscriptions";

// ---------------------------------------------------------------------------------------
// Values
// ---------------------------------------------------------------------------------------

export function validTags(tags: string[]) {
  if (tags.length > MAX_TAGS) throw invalid("tags", `At most ${MAX_TAGS} tags.`);
  return [...new Set(tags.map((tag, i) => requireText(tag, `tags[${i}]`, 40).toLowerCase()))];
}

/** An absent or blank email is no email. */
export function optionalEmail(email: string | undefined) {
  return email === undefined || email.trim() === "" ? undefined : normalizeEmail(email);
}

export type Profile = { name?: string; phone?: string; locale?: string; timeZone?: string };

export function validProfile(input: Profile) {
  const out: Partial<Doc<"customers">> = {};
  if (input.name !== undefined) out.name = requireText(input.name, "name", 120);
  if (input.phone !== undefined) out.phone = input.phone.trim() === "" ? undefined : normalizePhone(input.phone);
  if (input.locale !== undefined) out.locale = requireLocale(input.locale);
  if (input.timeZone !== undefined) out.timeZone = requireTimeZone(input.timeZone);
  return out;
}

export type AddressInput = Doc<"customerAddresses">["address"];

export function validAddress(address: AddressInput): AddressInput {
  const country = address.country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) throw invalid("address.country", "country must be a two-letter ISO 3166 code.");
  if (address.location !== undefined) {
    const { lat, lng } = address.location;
    if (!Number.isFinite(lat) || lat < -90 || lat > 90) throw invalid("address.location.lat", "lat must be between -90 and 90.");
    if (!Number.isFinite(lng) || lng < -180 || lng > 180) throw invalid("address.location.lng", "lng must be between -180 and 180.");
  }
  return {
    line1: requireText(address.line1, "address.line1", 200),
    line2: optionalText(address.line2, "address.line2", 200),
    city: requireText(address.city, "address.city", 120),
    region: optionalText(address.region, "address.region", 120),
    postalCode: requireText(address.postalCode, "address.postalCode", 20),
    country,
    location: address.location,
  };
}

export async function requireUniqueEmail(ctx: Pick<QueryCtx, "db">, businessId: Id<"businesses">, email: string, self?: Id<"customers">) {
  const existing = await customerByEmail(ctx, businessId, email);
  if (existing !== null && existing._id !== self) {
    throw appError("ALREADY_EXISTS", "A customer with this email already exists.", { param: "email" });
  }
}

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

export async function customerByEmail(ctx: Pick<QueryCtx, "db">, businessId: Id<"businesses">, email: string) {
  return await ctx.db
    .query("customers")
    .withIndex("by_businessId_and_email", (q) => q.eq("businessId", businessId).eq("email", email))
    .first();
}

export async function addressesOf(ctx: Pick<QueryCtx, "db">, customerId: Id<"customers">) {
  return await ctx.db
    .query("customerAddresses")
    .withIndex("by_customerId", (q) => q.eq("customerId", customerId))
    .take(MAX_ADDRESSES);
}

export async function paymentMethodsOf(ctx: Pick<QueryCtx, "db">, customerId: Id<"customers">) {
  return await ctx.db
    .query("paymentMethods")
    .withIndex("by_customerId", (q) => q.eq("customerId", customerId))
    .take(MAX_PAYMENT_METHODS);
}

// ---------------------------------------------------------------------------------------
// Who may reach a customer's records
// ---------------------------------------------------------------------------------------

/** How the actor reached the customer: as the customer themself, as staff, or otherwise. */
export type CustomerRole = "customer" | BusinessRole | "api_key" | "system";

/**
 * The customer, for the customer themself, staff of at least `staffRole`, an API key with
 * the customers scope (`access`), or the system. Anyone else: NOT_FOUND naming `param`.
 */
export async function reachCustomer(
  ctx: Pick<QueryCtx, "db">,
  actor: CommandActor,
  customerId: string,
  need: { staffRole: BusinessRole; access: "read" | "write" },
  param = "customerId",
): Promise<{ customer: Doc<"customers">; role: CustomerRole }> {
  const customer = await getById(ctx, "customers", customerId);
  if (customer === null) throw notFoundError("customers", param);
  switch (actor.kind) {
    case "user": {
      const viewerCtx = { ...ctx, viewer: actor.viewer } as Parameters<typeof requireCustomerAccess>[0];
      try {
        const { role } = await requireCustomerAccess(viewerCtx, customer._id, { minimumStaffRole: need.staffRole });
        return { customer, role };
      } catch (error) {
        if ((error as { data?: { code?: string } }).data?.code === "NOT_FOUND") throw notFoundError("customers", param);
        throw error;
      }
    }
    case "api_key":
      if (customer.businessId !== actor.businessId) throw notFoundError("customers", param);
      requireApiScope(actor, { resource: "customers", access: need.access });
      return { customer, role: "api_key" };
    case "system":
      return { customer, role: "system" };
  }
}

/** A record belonging to a customer (address, payment method): NOT_FOUND names the record. */
export async function reachCustomerRecord<T extends "customerAddresses" | "paymentMethods">(
  ctx: Pick<QueryCtx, "db">,
  actor: CommandActor,
  table: T,
  id: string,
  param: string,
  need: { staffRole: BusinessRole; access: "read" | "write"; customerId?: string },
) {
  if (need.customerId !== undefined) {
    // The path names the customer: only that customer's own records are found under it.
    const reached = await reachCustomer(ctx, actor, need.customerId, need);
    const row = await getById(ctx, table, id);
    if (row === null || row.customerId !== reached.customer._id) throw notFoundError(table, param);
    return { row, ...reached };
  }
  const row = await getById(ctx, table, id);
  if (row === null) throw notFoundError(table, param);
  try {
    return { row, ...(await reachCustomer(ctx, actor, row.customerId, need)) };
  } catch (error) {
    if ((error as { data?: { code?: string } }).data?.code === "NOT_FOUND") throw notFoundError(table, param);
    throw error;
  }
}

// ---------------------------------------------------------------------------------------
// Events
// ---------------------------------------------------------------------------------------

/** The customers room's notice: which aspects of a customer changed (no personal data). */
export function customerChangedNotice(customer: Doc<"customers">, aspects: CustomerChangeAspect[]) {
  return { type: "customer.changed", businessId: customer.businessId, customerId: customer._id, aspects };
}

/**
 * Partners get the record's main fields; the staff-only customers room gets the party's
 * `customer.changed` notice (what changed, not the data) and refetches from Convex.
 */
export async function customerEvent(
  ctx: MutationCtx,
  customer: Doc<"customers">,
  type: "customer.created" | "customer.updated",
  aspects: CustomerChangeAspect[],
) {
  await emitEvent(ctx, {
    businessId: customer.businessId,
    type,
    entity: { table: "customers", id: customer._id },
    data: { customerId: customer._id, name: customer.name, email: customer.email ?? null },
    rooms: [rooms.customers(customer.businessId)],
    roomData: customerChangedNotice(customer, aspects),
  });
}
