/**
 * Customers (CRM) of a business: records, addresses (each resolved to a zone on save),
 * payment methods as Stripe references only (no card data ever), client notes, recurring
 * subscriptions and booking history.
 *
 * Who may do what:
 * - business staff (staff and up) create, update, list and look customers up;
 * - a signed-in person becomes a customer of an ACTIVE business with `registerSelf`, then
 *   reads and edits only their own record, addresses and payment methods;
 * - client notes are for staff only: managers and owners see every note, providers
 *   (role staff) only notes marked `visibleToStaff`; customers never see notes.
 * Another tenant's customer id is NOT_FOUND.
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { accessTo, atLeast, requireBusinessRole, requireCustomerAccess, requireUser, type BusinessRole } from "./access";
import { requireActiveBusiness } from "./businesses";
import { appError } from "./errors";
import { mutation, query, type MutationCtx } from "./functions";
import { emitEvent, rooms } from "./model/events";
import {
  invalid,
  normalizeEmail,
  normalizePhone,
  optionalText,
  requireInt,
  requireLocale,
  requireText,
  requireTimeZone,
} from "./model/validation";
import { vAddress, vLatLng } from "./schema";
import { resolveZoneFor } from "./zones";

const MAX_ADDRESSES = 20;
const MAX_PAYMENT_METHODS = 20;
const MAX_NOTES = 200;
const MAX_TAGS = 20;

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

async function customerEvent(ctx: MutationCtx, customer: Doc<"customers">, type: "customer.created" | "customer.updated") {
  // Partners get the record's main fields; the staff-only customers room gets the party's
  // `customer.changed` notice (what changed, not the data) and refetches from Convex.
  await emitEvent(ctx, {
    businessId: customer.businessId,
    type,
    entity: { table: "customers", id: customer._id },
    data: { customerId: customer._id, name: customer.name, email: customer.email ?? null },
    rooms: [rooms.customers(customer.businessId)],
    roomData: customerChangedNotice(customer, ["profile"]),
  });
}

/** The customers room's notice: which aspects of a customer changed (no personal data). */
export function customerChangedNotice(
  customer: Doc<"customers">,
  aspects: ("profile" | "addresses" | "notes" | "messages" | "payment_methods" | "subscriptions")[],
) {
  return { type: "customer.changed", businessId: customer.businessId, customerId: customer._id, aspects };
}

async function requireUniqueEmail(ctx: MutationCtx, businessId: Id<"businesses">, email: string, self?: Id<"customers">) {
  const existing = await ctx.db
    .query("customers")
    .withIndex("by_businessId_and_email", (q) => q.eq("businessId", businessId).eq("email", email))
    .first();
  if (existing !== null && existing._id !== self) {
    throw appError("ALREADY_EXISTS", "A customer with this email already exists.", { param: "email" });
  }
}

function validTags(tags: string[]) {
  if (tags.length > MAX_TAGS) throw invalid("tags", `At most ${MAX_TAGS} tags.`);
  return [...new Set(tags.map((tag, i) => requireText(tag, `tags[${i}]`, 40).toLowerCase()))];
}

type Profile = { name?: string; phone?: string; locale?: string; timeZone?: string };
function validProfile(args: Profile) {
  const out: Partial<Doc<"customers">> = {};
  if (args.name !== undefined) out.name = requireText(args.name, "name", 120);
  if (args.phone !== undefined) out.phone = args.phone.trim() === "" ? undefined : normalizePhone(args.phone);
  if (args.locale !== undefined) out.locale = requireLocale(args.locale);
  if (args.timeZone !== undefined) out.timeZone = requireTimeZone(args.timeZone);
  return out;
}

/** Access to a customer where staff need at least `minimum`; the customer themself always passes. */
async function customerFor(ctx: MutationCtx, customerId: Id<"customers">, minimum: BusinessRole = "staff") {
  return await requireCustomerAccess(ctx, customerId, { minimumStaffRole: minimum });
}

// ---------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------

/** Staff add a customer (e.g. a phone booking). Emails are unique per business. */
export const create = mutation({
  args: {
    businessId: v.id("businesses"),
    name: v.string(),
    email: v.optional(v.string()),
    phone: v.optional(v.string()),
    locale: v.optional(v.string()),
    timeZone: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
  },
  returns: v.id("customers"),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "staff");
    const profile = validProfile(args);
    const email = args.email === undefined || args.email.trim() === "" ? undefined : normalizeEmail(args.email);
    const tags = validTags(args.tags ?? []);
    if (email !== undefined) await requireUniqueEmail(ctx, args.businessId, email);
    const customerId = await ctx.db.insert("customers", {
      businessId: args.businessId,
      name: profile.name!,
      email,
      phone: profile.phone,
      locale: profile.locale,
      timeZone: profile.timeZone,
      tags,
      createdAt: Date.now(),
    });
    await customerEvent(ctx, (await ctx.db.get("customers", customerId))!, "customer.created");
    return customerId;
  },
});

/**
 * The signed-in person becomes a customer of an ACTIVE business. Idempotent: returns their
 * existing record. A record staff created earlier with the same (verified) email is claimed
 * rather than duplicated.
 */
export const registerSelf = mutation({
  args: { businessId: v.id("businesses"), name: v.optional(v.string()), phone: v.optional(v.string()) },
  returns: v.id("customers"),
  handler: async (ctx, args) => {
    const user = requireUser(ctx);
    const business = await ctx.db.get("businesses", args.businessId);
    if (business === null || business.status === "DELETED") throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
    const access = await accessTo(ctx, args.businessId);
    if (access?.role === "customer") return access.customer._id;
    requireActiveBusiness(business);
    const profile = validProfile({ name: args.name ?? user.name, phone: args.phone });
    const identity = ctx.viewer!.identity;
    const email = identity.email ? normalizeEmail(identity.email) : undefined;
    if (email !== undefined) {
      const existing = await ctx.db
        .query("customers")
        .withIndex("by_businessId_and_email", (q) => q.eq("businessId", business._id).eq("email", email))
        .first();
      if (existing !== null) {
        if (existing.userId !== undefined) {
          throw appError("ALREADY_EXISTS", "Another account is already the customer with this email.", { param: "email" });
        }
        if (identity.emailVerified !== true) {
          throw appError("ALREADY_EXISTS", "A customer with this email exists: verify your email address to claim it.", { param: "email" });
        }
        await ctx.db.patch("customers", existing._id, { userId: user._id, ...(args.phone !== undefined ? { phone: profile.phone } : {}) });
        await customerEvent(ctx, (await ctx.db.get("customers", existing._id))!, "customer.updated");
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
    await customerEvent(ctx, (await ctx.db.get("customers", customerId))!, "customer.created");
    return customerId;
  },
});

/** The viewer's own customer record at a business, or null. */
export const me = query({
  args: { businessId: v.id("businesses") },
  handler: async (ctx, args) => {
    const access = await accessTo(ctx, args.businessId);
    return access?.role === "customer" ? access.customer : null;
  },
});

/**
 * Staff change anything; the customer changes their own name, phone, locale and time zone
 * (email and tags are the business's: the email is how staff find them).
 */
export const update = mutation({
  args: {
    customerId: v.id("customers"),
    name: v.optional(v.string()),
    email: v.optional(v.string()),
    phone: v.optional(v.string()),
    locale: v.optional(v.string()),
    timeZone: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { customer, role } = await customerFor(ctx, args.customerId);
    if (role === "customer" && (args.email !== undefined || args.tags !== undefined)) {
      throw appError("FORBIDDEN", "Ask the business to change your email or tags.", { param: args.email !== undefined ? "email" : "tags" });
    }
    const patch = validProfile(args);
    if (args.email !== undefined) {
      patch.email = args.email.trim() === "" ? undefined : normalizeEmail(args.email);
      if (patch.email !== undefined) await requireUniqueEmail(ctx, customer.businessId, patch.email, customer._id);
    }
    if (args.tags !== undefined) patch.tags = validTags(args.tags);
    await ctx.db.patch("customers", customer._id, patch);
    await customerEvent(ctx, (await ctx.db.get("customers", customer._id))!, "customer.updated");
    return null;
  },
});

/** Customers of the business, newest first (staff). */
export const list = query({
  args: { businessId: v.id("businesses"), paginationOpts: paginationOptsValidator },
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "staff");
    return await ctx.db
      .query("customers")
      .withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
      .order("desc")
      .paginate(args.paginationOpts);
  },
});

/** Looks a customer up by exact email (staff); null when none. */
export const findByEmail = query({
  args: { businessId: v.id("businesses"), email: v.string() },
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "staff");
    const email = normalizeEmail(args.email);
    return await ctx.db
      .query("customers")
      .withIndex("by_businessId_and_email", (q) => q.eq("businessId", args.businessId).eq("email", email))
      .first();
  },
});

/** One customer with addresses and payment methods: the customer themself or staff. */
export const get = query({
  args: { customerId: v.id("customers") },
  handler: async (ctx, args) => {
    const { customer } = await requireCustomerAccess(ctx, args.customerId);
    const addresses = await ctx.db
      .query("customerAddresses")
      .withIndex("by_customerId", (q) => q.eq("customerId", customer._id))
      .take(MAX_ADDRESSES);
    const paymentMethods = await ctx.db
      .query("paymentMethods")
      .withIndex("by_customerId", (q) => q.eq("customerId", customer._id))
      .take(MAX_PAYMENT_METHODS);
    return { customer, addresses, paymentMethods };
  },
});

// ---------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------

function validAddress(address: Doc<"customerAddresses">["address"]) {
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

/** Unsets `isDefault` on the customer's other addresses or payment methods. */
async function clearDefault(ctx: MutationCtx, table: "customerAddresses" | "paymentMethods", customerId: Id<"customers">, except: string) {
  if (table === "customerAddresses") {
    const rows = await ctx.db.query("customerAddresses").withIndex("by_customerId", (q) => q.eq("customerId", customerId)).take(MAX_ADDRESSES + 1);
    for (const row of rows) if (row.isDefault && row._id !== except) await ctx.db.patch("customerAddresses", row._id, { isDefault: false });
  } else {
    const rows = await ctx.db.query("paymentMethods").withIndex("by_customerId", (q) => q.eq("customerId", customerId)).take(MAX_PAYMENT_METHODS + 1);
    for (const row of rows) if (row.isDefault && row._id !== except) await ctx.db.patch("paymentMethods", row._id, { isDefault: false });
  }
}

/** Adds an address and resolves its zone (zoneId absent = outside every service zone). */
export const addAddress = mutation({
  args: { customerId: v.id("customers"), label: v.optional(v.string()), address: vAddress, isDefault: v.optional(v.boolean()) },
  returns: v.object({ addressId: v.id("customerAddresses"), zoneId: v.union(v.id("zones"), v.null()) }),
  handler: async (ctx, args) => {
    const { customer } = await customerFor(ctx, args.customerId);
    const address = validAddress(args.address);
    const label = optionalText(args.label, "label", 60);
    const existing = await ctx.db
      .query("customerAddresses")
      .withIndex("by_customerId", (q) => q.eq("customerId", customer._id))
      .take(MAX_ADDRESSES);
    if (existing.length >= MAX_ADDRESSES) throw appError("CONFLICT", `At most ${MAX_ADDRESSES} addresses per customer.`);
    const zone = await resolveZoneFor(ctx, customer.businessId, address, "address.postalCode");
    const isDefault = args.isDefault ?? existing.length === 0;
    const addressId = await ctx.db.insert("customerAddresses", {
      businessId: customer.businessId,
      customerId: customer._id,
      label,
      address,
      zoneId: zone?._id,
      isDefault,
    });
    if (isDefault) await clearDefault(ctx, "customerAddresses", customer._id, addressId);
    return { addressId, zoneId: zone?._id ?? null };
  },
});

async function addressFor(ctx: MutationCtx, addressId: Id<"customerAddresses">) {
  const row = await ctx.db.get("customerAddresses", addressId);
  if (row === null) throw appError("NOT_FOUND", "Address not found.", { param: "addressId" });
  try {
    await customerFor(ctx, row.customerId);
  } catch (error) {
    if ((error as { data?: { code?: string } }).data?.code === "NOT_FOUND") {
      throw appError("NOT_FOUND", "Address not found.", { param: "addressId" });
    }
    throw error;
  }
  return row;
}

/** Replaces an address (re-resolving its zone), its label or makes it the default. */
export const updateAddress = mutation({
  args: {
    addressId: v.id("customerAddresses"),
    label: v.optional(v.string()),
    address: v.optional(vAddress),
    isDefault: v.optional(v.literal(true)),
  },
  returns: v.object({ zoneId: v.union(v.id("zones"), v.null()) }),
  handler: async (ctx, args) => {
    const row = await addressFor(ctx, args.addressId);
    const patch: Partial<Doc<"customerAddresses">> = {};
    if (args.label !== undefined) patch.label = optionalText(args.label, "label", 60);
    let zoneId = row.zoneId ?? null;
    if (args.address !== undefined) {
      patch.address = validAddress(args.address);
      const zone = await resolveZoneFor(ctx, row.businessId, patch.address, "address.postalCode");
      zoneId = zone?._id ?? null;
      patch.zoneId = zone?._id;
    }
    if (args.isDefault) patch.isDefault = true;
    await ctx.db.patch("customerAddresses", row._id, patch);
    if (args.isDefault) await clearDefault(ctx, "customerAddresses", row.customerId, row._id);
    return { zoneId };
  },
});

export const removeAddress = mutation({
  args: { addressId: v.id("customerAddresses") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const row = await addressFor(ctx, args.addressId);
    await ctx.db.delete("customerAddresses", row._id);
    if (row.isDefault) {
      const next = await ctx.db
        .query("customerAddresses")
        .withIndex("by_customerId", (q) => q.eq("customerId", row.customerId))
        .first();
      if (next !== null) await ctx.db.patch("customerAddresses", next._id, { isDefault: true });
    }
    return null;
  },
});

/** Re-resolves the zone of an address (e.g. with a location the portal geocoded). */
export const resolveAddressZone = query({
  args: { businessId: v.id("businesses"), postalCode: v.optional(v.string()), country: v.optional(v.string()), location: v.optional(vLatLng) },
  returns: v.union(v.id("zones"), v.null()),
  handler: async (ctx, args) => {
    requireUser(ctx);
    const access = await accessTo(ctx, args.businessId);
    if (access === null) throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
    return (await resolveZoneFor(ctx, args.businessId, args))?._id ?? null;
  },
});

// ---------------------------------------------------------------------------------------
// Payment methods (Stripe references only)
// ---------------------------------------------------------------------------------------

/**
 * Records a Stripe PaymentMethod the customer attached (through Stripe Elements or a
 * SetupIntent): only its id and display details. The customer themself or a manager.
 */
export const addPaymentMethod = mutation({
  args: {
    customerId: v.id("customers"),
    stripePaymentMethodId: v.string(),
    brand: v.optional(v.string()),
    last4: v.optional(v.string()),
    expMonth: v.optional(v.number()),
    expYear: v.optional(v.number()),
    isDefault: v.optional(v.boolean()),
  },
  returns: v.id("paymentMethods"),
  handler: async (ctx, args) => {
    const { customer } = await customerFor(ctx, args.customerId, "manager");
    if (!/^pm_[A-Za-z0-9_]{6,}$/.test(args.stripePaymentMethodId)) {
      throw invalid("stripePaymentMethodId", "stripePaymentMethodId must be a Stripe PaymentMethod id (pm_…).");
    }
    const brand = optionalText(args.brand, "brand", 30)?.toLowerCase();
    if (args.last4 !== undefined && !/^\d{4}$/.test(args.last4)) throw invalid("last4", "last4 must be exactly four digits.");
    if (args.expMonth !== undefined) requireInt(args.expMonth, "expMonth", 1, 12);
    if (args.expYear !== undefined) requireInt(args.expYear, "expYear", 2000, 2100);
    const taken = await ctx.db
      .query("paymentMethods")
      .withIndex("by_stripePaymentMethodId", (q) => q.eq("stripePaymentMethodId", args.stripePaymentMethodId))
      .first();
    if (taken !== null) throw appError("ALREADY_EXISTS", "This payment method is already saved.", { param: "stripePaymentMethodId" });
    const existing = await ctx.db
      .query("paymentMethods")
      .withIndex("by_customerId", (q) => q.eq("customerId", customer._id))
      .take(MAX_PAYMENT_METHODS);
    if (existing.length >= MAX_PAYMENT_METHODS) throw appError("CONFLICT", `At most ${MAX_PAYMENT_METHODS} payment methods.`);
    const isDefault = args.isDefault ?? existing.length === 0;
    const id = await ctx.db.insert("paymentMethods", {
      businessId: customer.businessId,
      customerId: customer._id,
      stripePaymentMethodId: args.stripePaymentMethodId,
      brand,
      last4: args.last4,
      expMonth: args.expMonth,
      expYear: args.expYear,
      isDefault,
    });
    if (isDefault) await clearDefault(ctx, "paymentMethods", customer._id, id);
    return id;
  },
});

async function paymentMethodFor(ctx: MutationCtx, paymentMethodId: Id<"paymentMethods">) {
  const row = await ctx.db.get("paymentMethods", paymentMethodId);
  if (row === null) throw appError("NOT_FOUND", "Payment method not found.", { param: "paymentMethodId" });
  try {
    await customerFor(ctx, row.customerId, "manager");
  } catch (error) {
    if ((error as { data?: { code?: string } }).data?.code === "NOT_FOUND") {
      throw appError("NOT_FOUND", "Payment method not found.", { param: "paymentMethodId" });
    }
    throw error;
  }
  return row;
}

export const setDefaultPaymentMethod = mutation({
  args: { paymentMethodId: v.id("paymentMethods") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const row = await paymentMethodFor(ctx, args.paymentMethodId);
    await ctx.db.patch("paymentMethods", row._id, { isDefault: true });
    await clearDefault(ctx, "paymentMethods", row.customerId, row._id);
    return null;
  },
});

/** Forgets a saved payment method (detaching it in Stripe is the payments module's job). */
export const removePaymentMethod = mutation({
  args: { paymentMethodId: v.id("paymentMethods") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const row = await paymentMethodFor(ctx, args.paymentMethodId);
    await ctx.db.delete("paymentMethods", row._id);
    if (row.isDefault) {
      const next = await ctx.db
        .query("paymentMethods")
        .withIndex("by_customerId", (q) => q.eq("customerId", row.customerId))
        .first();
      if (next !== null) await ctx.db.patch("paymentMethods", next._id, { isDefault: true });
    }
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Client notes (staff only)
// ---------------------------------------------------------------------------------------

/** Staff write notes; `visibleToStaff` shows the note to the provider on the job. */
export const addNote = mutation({
  args: { customerId: v.id("customers"), body: v.string(), visibleToStaff: v.boolean() },
  returns: v.id("clientNotes"),
  handler: async (ctx, args) => {
    const { customer, role } = await customerFor(ctx, args.customerId);
    if (role === "customer") throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
    const body = requireText(args.body, "body", 5000);
    return await ctx.db.insert("clientNotes", {
      businessId: customer.businessId,
      customerId: customer._id,
      authorId: requireUser(ctx)._id,
      body,
      visibleToStaff: args.visibleToStaff,
      createdAt: Date.now(),
    });
  },
});

/** Managers see every note; providers (staff) only the ones marked visibleToStaff. Newest first. */
export const notes = query({
  args: { customerId: v.id("customers") },
  returns: v.array(
    v.object({
      _id: v.id("clientNotes"),
      body: v.string(),
      visibleToStaff: v.boolean(),
      authorId: v.id("users"),
      authorName: v.string(),
      createdAt: v.number(),
    }),
  ),
  handler: async (ctx, args) => {
    const { customer, role } = await requireCustomerAccess(ctx, args.customerId);
    // A person who is both the customer and on the staff is treated as the customer here.
    if (role === "customer") throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
    const seeAll = atLeast(role, "manager");
    const rows = await ctx.db
      .query("clientNotes")
      .withIndex("by_customerId", (q) => q.eq("customerId", customer._id))
      .order("desc")
      .take(MAX_NOTES);
    const out = [];
    for (const n of rows) {
      if (!seeAll && !n.visibleToStaff) continue;
      const author = await ctx.db.get("users", n.authorId);
      out.push({ _id: n._id, body: n.body, visibleToStaff: n.visibleToStaff, authorId: n.authorId, authorName: author?.name ?? "", createdAt: n.createdAt });
    }
    return out;
  },
});

/** The author or a manager removes a note. */
export const removeNote = mutation({
  args: { noteId: v.id("clientNotes") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const user = requireUser(ctx);
    const note = await ctx.db.get("clientNotes", args.noteId);
    const access = note === null ? null : await accessTo(ctx, note.businessId);
    if (note === null || access === null || access.role === "customer" || access.role === "platform_admin") {
      throw appError("NOT_FOUND", "Note not found.", { param: "noteId" });
    }
    if (note.authorId !== user._id && !atLeast(access.role, "manager")) {
      throw appError("FORBIDDEN", "Only the author or a manager can remove this note.");
    }
    await ctx.db.delete("clientNotes", note._id);
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Subscriptions and history
// ---------------------------------------------------------------------------------------

/** The customer's recurring plans (the customer themself or a manager). */
export const subscriptions = query({
  args: { customerId: v.id("customers") },
  handler: async (ctx, args) => {
    const { customer } = await requireCustomerAccess(ctx, args.customerId, { minimumStaffRole: "manager" });
    return await ctx.db
      .query("customerSubscriptions")
      .withIndex("by_customerId", (q) => q.eq("customerId", customer._id))
      .take(50);
  },
});

/** The customer's bookings, latest start first (the customer themself or staff). */
export const history = query({
  args: { customerId: v.id("customers"), paginationOpts: paginationOptsValidator },
  handler: async (ctx, args) => {
    const { customer } = await requireCustomerAccess(ctx, args.customerId);
    const page = await ctx.db
      .query("bookings")
      .withIndex("by_customerId_and_start", (q) => q.eq("customerId", customer._id))
      .order("desc")
      .paginate(args.paginationOpts);
    return {
      ...page,
      page: page.page.map((b) => ({
        _id: b._id,
        status: b.status,
        start: b.start,
        end: b.end,
        localDate: b.localDate,
        arrivalWindowEnd: b.arrivalWindowEnd,
        items: b.items,
        totalMinor: b.quote.totalMinor,
        currency: b.quote.currency,
        address: b.address,
        frequency: b.frequency,
        invoiceId: b.invoiceId,
      })),
    };
  },
});
