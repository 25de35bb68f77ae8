/**
 * Customer commands: records, addresses, saved payment-method references and client notes,
 * one body each for every door (the portal's `customers.ts`, the REST API's
 * `api/internalCustomers.ts`). Each takes an explicit actor and checks it, validates, writes
 * and emits the `customer.*` event (partners get the main fields; the staff-only customers
 * room gets a notice naming what changed, never the personal data).
 *
 * Who may do what:
 * - staff (staff and up) and API keys with `customers:write` create and change customers and
 *   their addresses; the customer themself changes their own profile (not email or tags,
 *   which are the business's) and addresses;
 * - payment methods: the customer themself or a manager;
 * - client notes: staff people only (a note has an author); providers see only the ones
 *   marked `visibleToStaff`; the author or a manager removes one.
 *
 * Plain module: no registered functions.
 */
import { v, type ObjectType } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { accessTo, atLeast, type BusinessRole } from "../access";
import { requireActiveBusiness } from "../businesses";
import { appError } from "../errors";
import { authorize, getById, notFoundError, type CommandActor, type UserActor } from "./actor";
import {
  MAX_ADDRESSES,
  MAX_PAYMENT_METHODS,
  addressesOf,
  customerByEmail,
  customerEvent,
  optionalEmail,
  paymentMethodsOf,
  reachCustomer,
  reachCustomerRecord,
  requireUniqueEmail,
  validAddress,
  validProfile,
  validTags,
  type AddressInput,
} from "./customers";
import { resolveZoneFor } from "./zones";
import { invalid, normalizeEmail, optionalText, requireInt, requireText } from "./validation";
import { vAddress } from "../schema";

const EDIT = { staffRole: "staff" as BusinessRole, access: "write" as const };
const MANAGE_PAYMENT_METHODS = { staffRole: "manager" as BusinessRole, access: "write" as const };

/** A customer's profile fields as both doors take them; email and tags are the business's. */
export const customerPatchFields = {
  name: v.optional(v.string()),
  email: v.optional(v.string()),
  phone: v.optional(v.string()),
  locale: v.optional(v.string()),
  timeZone: v.optional(v.string()),
  tags: v.optional(v.array(v.string())),
};
export const customerFields = { ...customerPatchFields, name: v.string() };
export const addressFields = { label: v.optional(v.string()), address: vAddress, isDefault: v.optional(v.boolean()) };
/** `isDefault: true` makes the address the default; it is never unset directly. */
export const addressPatchFields = { label: v.optional(v.string()), address: v.optional(vAddress), isDefault: v.optional(v.literal(true)) };

export type CustomerInput = ObjectType<typeof customerFields> & { address?: AddressInput };
export type CustomerPatch = ObjectType<typeof customerPatchFields>;
export type AddressFields = ObjectType<typeof addressFields>;
export type AddressPatch = ObjectType<typeof addressPatchFields>;
/** An address named by id; REST also names the customer in the path. */
export type AddressRef = { addressId: string; customerId?: string };

async function reload<T extends "customers" | "customerAddresses">(ctx: MutationCtx, table: T, id: Id<T>) {
  return (await ctx.db.get(table, id))!;
}

/** Unsets `isDefault` on the customer's other addresses or payment methods. */
async function clearOtherDefaults(ctx: MutationCtx, table: "customerAddresses" | "paymentMethods", customerId: Id<"customers">, keep: string) {
  const rows = table === "customerAddresses" ? await addressesOf(ctx, customerId) : await paymentMethodsOf(ctx, customerId);
  for (const row of rows) if (row.isDefault && row._id !== keep) await ctx.db.patch(table, row._id as Id<typeof table>, { isDefault: false });
}

/** After removing the default, the next remaining row becomes the default. */
async function promoteNextDefault(ctx: MutationCtx, table: "customerAddresses" | "paymentMethods", customerId: Id<"customers">) {
  const next = await ctx.db
    .query(table)
    .withIndex("by_customerId", (q) => q.eq("customerId", customerId))
    .first();
  if (next !== null) await ctx.db.patch(table, next._id as Id<typeof table>, { isDefault: true });
}

async function insertAddress(ctx: MutationCtx, customer: Doc<"customers">, input: AddressFields) {
  const address = validAddress(input.address);
  const label = optionalText(input.label, "label", 60);
  const existing = await addressesOf(ctx, customer._id);
  if (existing.length >= MAX_ADDRESSES) throw appError("CONFLICT", `At most ${MAX_ADDRESSES} addresses per customer.`);
  const zone = await resolveZoneFor(ctx, customer.businessId, address, "address.postalCode");
  const isDefault = input.isDefault ?? existing.length === 0;
  const addressId = await ctx.db.insert("customerAddresses", {
    businessId: customer.businessId,
    customerId: customer._id,
    label,
    address,
    zoneId: zone?._id,
    isDefault,
  });
  if (isDefault) await clearOtherDefaults(ctx, "customerAddresses", customer._id, addressId);
  return await reload(ctx, "customerAddresses", addressId);
}

// ---------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------

/** Staff or a partner add a customer (e.g. a phone booking), optionally with a first address. */
export async function createCustomer(ctx: MutationCtx, actor: CommandActor, businessId: Id<"businesses">, input: CustomerInput) {
  await authorize(ctx, actor, businessId, { role: "staff", scope: { resource: "customers", access: "write" } });
  const profile = validProfile(input);
  const email = optionalEmail(input.email);
  const tags = validTags(input.tags ?? []);
  if (email !== undefined) await requireUniqueEmail(ctx, businessId, email);
  const customerId = await ctx.db.insert("customers", {
    businessId,
    name: profile.name!,
    email,
    phone: profile.phone,
    locale: profile.locale,
    timeZone: profile.timeZone,
    tags,
    createdAt: Date.now(),
  });
  const customer = await reload(ctx, "customers", customerId);
  if (input.address !== undefined) await insertAddress(ctx, customer, { address: input.address, isDefault: true });
  await customerEvent(ctx, customer, "customer.created", input.address !== undefined ? ["profile", "addresses"] : ["profile"]);
  return customer;
}

/**
 * The signed-in person becomes a customer of an ACTIVE business. Idempotent: returns their
 * existing record. A record staff created earlier with the same (verified) email is claimed
 * rather than duplicated.
 */
export async function registerCustomerSelf(ctx: MutationCtx, actor: UserActor, businessId: Id<"businesses">, input: { name?: string; phone?: string }) {
  const { user, identity } = actor.viewer;
  const business = await ctx.db.get("businesses", businessId);
  if (business === null || business.status === "DELETED") throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
  const access = await accessTo({ ...ctx, viewer: actor.viewer } as Parameters<typeof accessTo>[0], businessId);
  if (access?.role === "customer") return access.customer._id;
  requireActiveBusiness(business);
  const profile = validProfile({ name: input.name ?? user.name, phone: input.phone });
  const email = identity.email ? normalizeEmail(identity.email) : undefined;
  if (email !== undefined) {
    const existing = await customerByEmail(ctx, business._id, email);
    if (existing !== null) {
      if (existing.userId !== undefined) {
        throw appError("ALREADY_EXISTS", "Another account is already the customer with this email.", { param: "email" });
      }
      if (identity.emailVerified !== true) {
        throw appError("ALREADY_EXISTS", "A customer with this email exists: verify your email address to claim it.", { param: "email" });
      }
      await ctx.db.patch("customers", existing._id, { userId: user._id, ...(input.phone !== undefined ? { phone: profile.phone } : {}) });
      await customerEvent(ctx, await reload(ctx, "customers", existing._id), "customer.updated", ["profile"]);
      return existing._id;
    }
  }
  const customerId = await ctx.db.insert("customers", {
    businessId: business._id,
    userId: user._id,
    name: profile.name!,
    email,
    phone: profile.phone,
    tags: [],
    createdAt: Date.now(),
  });
  await customerEvent(ctx, await reload(ctx, "customers", customerId), "customer.created", ["profile"]);
  return customerId;
}

/**
 * Staff and partners change anything; the customer changes their own name, phone, locale and
 * time zone (email and tags are the business's: the email is how staff find them).
 */
export async function updateCustomer(ctx: MutationCtx, actor: CommandActor, customerId: string, input: CustomerPatch) {
  const { customer, role } = await reachCustomer(ctx, actor, customerId, EDIT);
  if (role === "customer" && (input.email !== undefined || input.tags !== undefined)) {
    throw appError("FORBIDDEN", "Ask the business to change your email or tags.", { param: input.email !== undefined ? "email" : "tags" });
  }
  const patch = validProfile(input);
  if (input.email !== undefined) {
    patch.email = optionalEmail(input.email);
    if (patch.email !== undefined) await requireUniqueEmail(ctx, customer.businessId, patch.email, customer._id);
  }
  if (input.tags !== undefined) patch.tags = validTags(input.tags);
  await ctx.db.patch("customers", customer._id, patch);
  const updated = await reload(ctx, "customers", customer._id);
  await customerEvent(ctx, updated, "customer.updated", ["profile"]);
  return updated;
}

// ---------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------

/** Adds an address and resolves its zone (zoneId absent = outside every service zone). */
export async function addCustomerAddress(ctx: MutationCtx, actor: CommandActor, customerId: string, input: AddressFields) {
  const { customer } = await reachCustomer(ctx, actor, customerId, EDIT);
  const row = await insertAddress(ctx, customer, input);
  await customerEvent(ctx, customer, "customer.updated", ["addresses"]);
  return row;
}

/** Replaces an address (re-resolving its zone), its label, or makes it the default. */
export async function updateCustomerAddress(ctx: MutationCtx, actor: CommandActor, ref: AddressRef, input: AddressPatch) {
  const { row, customer } = await reachCustomerRecord(ctx, actor, "customerAddresses", ref.addressId, "addressId", { ...EDIT, customerId: ref.customerId });
  const patch: Partial<Doc<"customerAddresses">> = {};
  if (input.label !== undefined) patch.label = optionalText(input.label, "label", 60);
  if (input.address !== undefined) {
    patch.address = validAddress(input.address);
    patch.zoneId = (await resolveZoneFor(ctx, row.businessId, patch.address, "address.postalCode"))?._id;
  }
  if (input.isDefault) patch.isDefault = true;
  await ctx.db.patch("customerAddresses", row._id, patch);
  if (input.isDefault) await clearOtherDefaults(ctx, "customerAddresses", customer._id, row._id);
  await customerEvent(ctx, customer, "customer.updated", ["addresses"]);
  return await reload(ctx, "customerAddresses", row._id);
}

export async function removeCustomerAddress(ctx: MutationCtx, actor: CommandActor, ref: AddressRef) {
  const { row, customer } = await reachCustomerRecord(ctx, actor, "customerAddresses", ref.addressId, "addressId", { ...EDIT, customerId: ref.customerId });
  await ctx.db.delete("customerAddresses", row._id);
  if (row.isDefault) await promoteNextDefault(ctx, "customerAddresses", customer._id);
  await customerEvent(ctx, customer, "customer.updated", ["addresses"]);
  return row;
}

// ---------------------------------------------------------------------------------------
// Payment methods (Stripe references only, never card data)
// ---------------------------------------------------------------------------------------

export type PaymentMethodInput = {
  stripePaymentMethodId: string;
  brand?: string;
  last4?: string;
  expMonth?: number;
  expYear?: number;
  isDefault?: boolean;
};

/** Records a Stripe PaymentMethod the customer attached: only its id and display details. */
export async function addPaymentMethod(ctx: MutationCtx, actor: CommandActor, customerId: string, input: PaymentMethodInput) {
  const { customer } = await reachCustomer(ctx, actor, customerId, MANAGE_PAYMENT_METHODS);
  if (!/^pm_[A-Za-z0-9_]{6,}$/.test(input.stripePaymentMethodId)) {
    throw invalid("stripePaymentMethodId", "stripePaymentMethodId must be a Stripe PaymentMethod id (pm_…).");
  }
  const brand = optionalText(input.brand, "brand", 30)?.toLowerCase();
  if (input.last4 !== undefined && !/^\d{4}$/.test(input.last4)) throw invalid("last4", "last4 must be exactly four digits.");
  if (input.expMonth !== undefined) requireInt(input.expMonth, "expMonth", 1, 12);
  if (input.expYear !== undefined) requireInt(input.expYear, "expYear", 2000, 2100);
  const taken = await ctx.db
    .query("paymentMethods")
    .withIndex("by_stripePaymentMethodId", (q) => q.eq("stripePaymentMethodId", input.stripePaymentMethodId))
    .first();
  if (taken !== null) throw appError("ALREADY_EXISTS", "This payment method is already saved.", { param: "stripePaymentMethodId" });
  const existing = await paymentMethodsOf(ctx, customer._id);
  if (existing.length >= MAX_PAYMENT_METHODS) throw appError("CONFLICT", `At most ${MAX_PAYMENT_METHODS} payment methods.`);
  const isDefault = input.isDefault ?? existing.length === 0;
  const id = await ctx.db.insert("paymentMethods", {
    businessId: customer.businessId,
    customerId: customer._id,
    stripePaymentMethodId: input.stripePaymentMethodId,
    brand,
    last4: input.last4,
    expMonth: input.expMonth,
    expYear: input.expYear,
    isDefault,
  });
  if (isDefault) await clearOtherDefaults(ctx, "paymentMethods", customer._id, id);
  return id;
}

export async function setDefaultPaymentMethod(ctx: MutationCtx, actor: CommandActor, paymentMethodId: string) {
  const { row } = await reachCustomerRecord(ctx, actor, "paymentMethods", paymentMethodId, "paymentMethodId", MANAGE_PAYMENT_METHODS);
  await ctx.db.patch("paymentMethods", row._id, { isDefault: true });
  await clearOtherDefaults(ctx, "paymentMethods", row.customerId, row._id);
}

/** Forgets a saved payment method (detaching it in Stripe is the payments module's job). */
export async function removePaymentMethod(ctx: MutationCtx, actor: CommandActor, paymentMethodId: string) {
  const { row } = await reachCustomerRecord(ctx, actor, "paymentMethods", paymentMethodId, "paymentMethodId", MANAGE_PAYMENT_METHODS);
  await ctx.db.delete("paymentMethods", row._id);
  if (row.isDefault) await promoteNextDefault(ctx, "paymentMethods", row.customerId);
}

// ---------------------------------------------------------------------------------------
// Client notes (staff people only)
// ---------------------------------------------------------------------------------------

/** Staff write notes; `visibleToStaff` shows the note to the provider on the job. */
export async function addClientNote(ctx: MutationCtx, actor: CommandActor, customerId: string, input: { body: string; visibleToStaff: boolean }) {
  const { customer, role } = await reachCustomer(ctx, actor, customerId, EDIT);
  // A person who is both the customer and on the staff is treated as the customer here.
  if (role === "customer") throw notFoundError("customers", "customerId");
  if (actor.kind !== "user") throw appError("FORBIDDEN", "Client notes are written by a person on the staff.");
  const body = requireText(input.body, "body", 5000);
  return await ctx.db.insert("clientNotes", {
    businessId: customer.businessId,
    customerId: customer._id,
    authorId: actor.viewer.user._id,
    body,
    visibleToStaff: input.visibleToStaff,
    createdAt: Date.now(),
  });
}

/** The author or a manager removes a note. */
export async function removeClientNote(ctx: MutationCtx, actor: CommandActor, noteId: string) {
  const note = await getById(ctx, "clientNotes", noteId);
  if (note === null) throw notFoundError("clientNotes", "noteId");
  if (actor.kind === "user") {
    const access = await accessTo({ ...ctx, viewer: actor.viewer } as Parameters<typeof accessTo>[0], note.businessId);
    if (access === null || access.role === "customer" || access.role === "platform_admin") throw notFoundError("clientNotes", "noteId");
    if (note.authorId !== actor.viewer.user._id && !atLeast(access.role, "manager")) {
      throw appError("FORBIDDEN", "Only the author or a manager can remove this note.");
    }
  } else {
    await authorize(ctx, actor, note.businessId, { role: "manager", scope: { resource: "customers", access: "write" } }, { param: "noteId", message: "Note not found." });
  }
  await ctx.db.delete("clientNotes", note._id);
}
