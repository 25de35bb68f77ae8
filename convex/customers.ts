/**
 * Customers (CRM) of a business, the portal's door: records, addresses (each resolved to a
 * zone on save), payment methods as Stripe references only (no card data ever), client
 * notes, recurring subscriptions and booking history.
 *
 * Every change is a command of `model/customerCommands.ts` (shared with the REST API's
 * `api/internalCustomers.ts`), which states who may do what; these functions say who is
 * calling and present the result. Reads check access here and share `model/customers.ts`.
 * Another tenant's customer id is NOT_FOUND.
 */
import { paginationOptsValidator } from "convex/server";
import { v } from "convex/values";
import { accessTo, atLeast, requireBusinessRole, requireCustomerAccess, requireUser } from "./access";
import { appError } from "./errors";
import { mutation, query } from "./functions";
import { userActor } from "./model/actor";
import {
  addClientNote,
  addCustomerAddress,
  addressFields,
  addressPatchFields,
  customerFields,
  customerPatchFields,
  addPaymentMethod as addPaymentMethodCommand,
  createCustomer,
  registerCustomerSelf,
  removeClientNote,
  removeCustomerAddress,
  removePaymentMethod as removePaymentMethodCommand,
  setDefaultPaymentMethod as setDefaultPaymentMethodCommand,
  updateCustomer,
  updateCustomerAddress,
} from "./model/customerCommands";
import { MAX_NOTES, addressesOf, customerByEmail, paymentMethodsOf } from "./model/customers";
import { resolveZoneFor } from "./model/zones";
import { normalizeEmail } from "./model/validation";
import { vLatLng } from "./schema";

export { customerChangedNotice } from "./model/customers";

// ---------------------------------------------------------------------------------------
// Customers
// ---------------------------------------------------------------------------------------

/** Staff add a customer (e.g. a phone booking). Emails are unique per business. */
export const create = mutation({
  args: { businessId: v.id("businesses"), ...customerFields },
  returns: v.id("customers"),
  handler: async (ctx, { businessId, ...input }) => (await createCustomer(ctx, userActor(ctx), businessId, input))._id,
});

/**
 * The signed-in person becomes a customer of an ACTIVE business. Idempotent: returns their
 * existing record. A record staff created earlier with the same (verified) email is claimed
 * rather than duplicated.
 */
export const registerSelf = mutation({
  args: { businessId: v.id("businesses"), name: v.optional(v.string()), phone: v.optional(v.string()) },
  returns: v.id("customers"),
  handler: async (ctx, { businessId, ...input }) => await registerCustomerSelf(ctx, userActor(ctx), businessId, input),
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
  args: { customerId: v.id("customers"), ...customerPatchFields },
  returns: v.null(),
  handler: async (ctx, { customerId, ...input }) => {
    await updateCustomer(ctx, userActor(ctx), customerId, input);
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
    return await customerByEmail(ctx, args.businessId, normalizeEmail(args.email));
  },
});

/** One customer with addresses and payment methods: the customer themself or staff. */
export const get = query({
  args: { customerId: v.id("customers") },
  handler: async (ctx, args) => {
    const { customer } = await requireCustomerAccess(ctx, args.customerId);
    return { customer, addresses: await addressesOf(ctx, customer._id), paymentMethods: await paymentMethodsOf(ctx, customer._id) };
  },
});

// ---------------------------------------------------------------------------------------
// Addresses
// ---------------------------------------------------------------------------------------

/** Adds an address and resolves its zone (zoneId absent = outside every service zone). */
export const addAddress = mutation({
  args: { customerId: v.id("customers"), ...addressFields },
  returns: v.object({ addressId: v.id("customerAddresses"), zoneId: v.union(v.id("zones"), v.null()) }),
  handler: async (ctx, { customerId, ...input }) => {
    const row = await addCustomerAddress(ctx, userActor(ctx), customerId, input);
    return { addressId: row._id, zoneId: row.zoneId ?? null };
  },
});

/** Replaces an address (re-resolving its zone), its label or makes it the default. */
export const updateAddress = mutation({
  args: { addressId: v.id("customerAddresses"), ...addressPatchFields },
  returns: v.object({ zoneId: v.union(v.id("zones"), v.null()) }),
  handler: async (ctx, { addressId, ...input }) => {
    const row = await updateCustomerAddress(ctx, userActor(ctx), { addressId }, input);
    return { zoneId: row.zoneId ?? null };
  },
});

export const removeAddress = mutation({
  args: { addressId: v.id("customerAddresses") },
  returns: v.null(),
  handler: async (ctx, { addressId }) => {
    await removeCustomerAddress(ctx, userActor(ctx), { addressId });
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
  handler: async (ctx, { customerId, ...input }) => await addPaymentMethodCommand(ctx, userActor(ctx), customerId, input),
});

export const setDefaultPaymentMethod = mutation({
  args: { paymentMethodId: v.id("paymentMethods") },
  returns: v.null(),
  handler: async (ctx, { paymentMethodId }) => {
    await setDefaultPaymentMethodCommand(ctx, userActor(ctx), paymentMethodId);
    return null;
  },
});

/** Forgets a saved payment method (detaching it in Stripe is the payments module's job). */
export const removePaymentMethod = mutation({
  args: { paymentMethodId: v.id("paymentMethods") },
  returns: v.null(),
  handler: async (ctx, { paymentMethodId }) => {
    await removePaymentMethodCommand(ctx, userActor(ctx), paymentMethodId);
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
  handler: async (ctx, { customerId, ...input }) => await addClientNote(ctx, userActor(ctx), customerId, input),
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
  handler: async (ctx, { noteId }) => {
    await removeClientNote(ctx, userActor(ctx), noteId);
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
