/**
 * Customers and their addresses for the REST API, scoped to the API key's business.
 *
 * The rules are customers.ts's (unique email per business, E.164 phones, at most 20 tags and
 * 20 addresses, each address resolved to a zone, `customer.created/updated` events); that
 * module keeps its helpers private, so the few checks are restated here on top of the shared
 * `model/validation.ts` and `zones.resolveZoneFor` (see the refactor note in the report:
 * customers.ts should expose `model/customers.ts` functions taking an explicit businessId).
 */
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import { appError } from "../errors";
import type { MutationCtx, QueryCtx } from "../_generated/server";
import { internalMutation, internalQuery } from "../functions";
import { emitEvent, rooms } from "../model/events";
import {
  invalid,
  normalizeEmail,
  normalizePhone,
  optionalText,
  requireLocale,
  requireText,
  requireTimeZone,
} from "../model/validation";
import { vLatLng } from "../schema";
import { resolveZoneFor } from "../zones";
import { decodeCursor, listFingerprint, toListPage } from "./v1/pagination";
import { presentAddress, presentCustomer } from "./v1/present";
import { notFound, ownDoc, vApiCaller } from "./tenant";

const MAX_ADDRESSES = 20;
const MAX_TAGS = 20;

const vAddressInput = v.object({
  line1: v.string(),
  line2: v.optional(v.string()),
  city: v.string(),
  region: v.optional(v.string()),
  postalCode: v.string(),
  country: v.string(),
  location: v.optional(vLatLng),
});
type AddressInput = Doc<"customerAddresses">["address"];

function validAddress(address: AddressInput): AddressInput {
  const country = address.country.trim().toUpperCase();
  if (!/^[A-Z]{2}$/.test(country)) throw invalid("address.country", "country must be a two-letter ISO 3166 code.");
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

function validTags(tags: string[]) {
  if (tags.length > MAX_TAGS) throw invalid("tags", `At most ${MAX_TAGS} tags.`);
  return [...new Set(tags.map((tag, i) => requireText(tag, `tags[${i}]`, 40).toLowerCase()))];
}

function validEmail(email: string | undefined) {
  return email === undefined || email.trim() === "" ? undefined : normalizeEmail(email);
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

async function customerEvent(ctx: MutationCtx, customer: Doc<"customers">, type: "customer.created" | "customer.updated") {
  await emitEvent(ctx, {
    businessId: customer.businessId,
    type,
    entity: { table: "customers", id: customer._id },
    data: { customerId: customer._id, name: customer.name, email: customer.email ?? null },
    rooms: [rooms.customers(customer.businessId)],
  });
}

async function addressesOf(ctx: Pick<QueryCtx, "db">, customerId: Id<"customers">) {
  return await ctx.db
    .query("customerAddresses")
    .withIndex("by_customerId", (q) => q.eq("customerId", customerId))
    .take(MAX_ADDRESSES);
}

async function clearOtherDefaults(ctx: MutationCtx, customerId: Id<"customers">, keep: Id<"customerAddresses">) {
  for (const row of await addressesOf(ctx, customerId)) {
    if (row.isDefault && row._id !== keep) await ctx.db.patch("customerAddresses", row._id, { isDefault: false });
  }
}

async function insertAddress(
  ctx: MutationCtx,
  customer: Doc<"customers">,
  input: { label?: string; address: AddressInput; isDefault?: boolean },
) {
  const existing = await addressesOf(ctx, customer._id);
  if (existing.length >= MAX_ADDRESSES) throw appError("CONFLICT", `At most ${MAX_ADDRESSES} addresses per customer.`);
  const address = validAddress(input.address);
  const zone = await resolveZoneFor(ctx, customer.businessId, address, "address.postalCode");
  const isDefault = input.isDefault ?? existing.length === 0;
  const addressId = await ctx.db.insert("customerAddresses", {
    businessId: customer.businessId,
    customerId: customer._id,
    label: optionalText(input.label, "label", 60),
    address,
    zoneId: zone?._id,
    isDefault,
  });
  if (isDefault) await clearOtherDefaults(ctx, customer._id, addressId);
  return addressId;
}

// ---------------------------------------------------------------------------------------

export const list = internalQuery({
  args: {
    ...vApiCaller,
    email: v.optional(v.string()),
    order: v.union(v.literal("asc"), v.literal("desc")),
    limit: v.number(),
    cursor: v.optional(v.string()),
  },
  handler: async (ctx, args) => {
    const email = args.email === undefined ? undefined : normalizeEmail(args.email);
    const fingerprint = listFingerprint({ list: "customers", email, order: args.order });
    const paginationOpts = { numItems: args.limit, cursor: decodeCursor(args.cursor, fingerprint) };
    const query =
      email === undefined
        ? ctx.db.query("customers").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
        : ctx.db.query("customers").withIndex("by_businessId_and_email", (q) => q.eq("businessId", args.businessId).eq("email", email));
    const result = await query.order(args.order).paginate(paginationOpts);
    return toListPage(result, (c) => presentCustomer(c), fingerprint);
  },
});

export const get = internalQuery({
  args: { ...vApiCaller, customerId: v.string() },
  handler: async (ctx, args) => {
    const customer = await ownDoc(ctx, "customers", args.businessId, args.customerId, "customerId");
    return presentCustomer(customer, await addressesOf(ctx, customer._id));
  },
});

export const create = internalMutation({
  args: {
    ...vApiCaller,
    name: v.string(),
    email: v.optional(v.string()),
    phone: v.optional(v.string()),
    locale: v.optional(v.string()),
    timeZone: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
    address: v.optional(vAddressInput),
  },
  handler: async (ctx, args) => {
    const name = requireText(args.name, "name", 120);
    const email = validEmail(args.email);
    const phone = args.phone === undefined || args.phone.trim() === "" ? undefined : normalizePhone(args.phone);
    const locale = args.locale === undefined ? undefined : requireLocale(args.locale);
    const timeZone = args.timeZone === undefined ? undefined : requireTimeZone(args.timeZone);
    const tags = validTags(args.tags ?? []);
    if (email !== undefined) await requireUniqueEmail(ctx, args.businessId, email);
    const customerId = await ctx.db.insert("customers", {
      businessId: args.businessId,
      name,
      email,
      phone,
      locale,
      timeZone,
      tags,
      createdAt: Date.now(),
    });
    const customer = (await ctx.db.get("customers", customerId))!;
    if (args.address !== undefined) await insertAddress(ctx, customer, { address: args.address, isDefault: true });
    await customerEvent(ctx, customer, "customer.created");
    return presentCustomer(customer, await addressesOf(ctx, customerId));
  },
});

export const update = internalMutation({
  args: {
    ...vApiCaller,
    customerId: v.string(),
    name: v.optional(v.string()),
    email: v.optional(v.string()),
    phone: v.optional(v.string()),
    locale: v.optional(v.string()),
    timeZone: v.optional(v.string()),
    tags: v.optional(v.array(v.string())),
  },
  handler: async (ctx, args) => {
    const customer = await ownDoc(ctx, "customers", args.businessId, args.customerId, "customerId");
    const patch: Partial<Doc<"customers">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.phone !== undefined) patch.phone = args.phone.trim() === "" ? undefined : normalizePhone(args.phone);
    if (args.locale !== undefined) patch.locale = requireLocale(args.locale);
    if (args.timeZone !== undefined) patch.timeZone = requireTimeZone(args.timeZone);
    if (args.tags !== undefined) patch.tags = validTags(args.tags);
    if (args.email !== undefined) {
      patch.email = validEmail(args.email);
      if (patch.email !== undefined) await requireUniqueEmail(ctx, customer.businessId, patch.email, customer._id);
    }
    await ctx.db.patch("customers", customer._id, patch);
    const updated = (await ctx.db.get("customers", customer._id))!;
    await customerEvent(ctx, updated, "customer.updated");
    return presentCustomer(updated, await addressesOf(ctx, customer._id));
  },
});

export const listAddresses = internalQuery({
  args: { ...vApiCaller, customerId: v.string() },
  handler: async (ctx, args) => {
    const customer = await ownDoc(ctx, "customers", args.businessId, args.customerId, "customerId");
    const rows = await addressesOf(ctx, customer._id);
    return { object: "list" as const, data: rows.map(presentAddress), has_more: false, next_cursor: null };
  },
});

export const addAddress = internalMutation({
  args: { ...vApiCaller, customerId: v.string(), label: v.optional(v.string()), address: vAddressInput, isDefault: v.optional(v.boolean()) },
  handler: async (ctx, args) => {
    const customer = await ownDoc(ctx, "customers", args.businessId, args.customerId, "customerId");
    const addressId = await insertAddress(ctx, customer, args);
    await customerEvent(ctx, customer, "customer.updated");
    return presentAddress((await ctx.db.get("customerAddresses", addressId))!);
  },
});

async function ownAddress(ctx: MutationCtx, businessId: Id<"businesses">, customerId: string, addressId: string) {
  const customer = await ownDoc(ctx, "customers", businessId, customerId, "customerId");
  const address = await ownDoc(ctx, "customerAddresses", businessId, addressId, "addressId");
  if (address.customerId !== customer._id) throw notFound("customerAddresses", "addressId");
  return { customer, address };
}

export const updateAddress = internalMutation({
  args: {
    ...vApiCaller,
    customerId: v.string(),
    addressId: v.string(),
    label: v.optional(v.string()),
    address: v.optional(vAddressInput),
    isDefault: v.optional(v.literal(true)),
  },
  handler: async (ctx, args) => {
    const { customer, address: row } = await ownAddress(ctx, args.businessId, args.customerId, args.addressId);
    const patch: Partial<Doc<"customerAddresses">> = {};
    if (args.label !== undefined) patch.label = optionalText(args.label, "label", 60);
    if (args.address !== undefined) {
      patch.address = validAddress(args.address);
      patch.zoneId = (await resolveZoneFor(ctx, row.businessId, patch.address, "address.postalCode"))?._id;
    }
    if (args.isDefault) patch.isDefault = true;
    await ctx.db.patch("customerAddresses", row._id, patch);
    if (args.isDefault) await clearOtherDefaults(ctx, customer._id, row._id);
    await customerEvent(ctx, customer, "customer.updated");
    return presentAddress((await ctx.db.get("customerAddresses", row._id))!);
  },
});

export const removeAddress = internalMutation({
  args: { ...vApiCaller, customerId: v.string(), addressId: v.string() },
  handler: async (ctx, args) => {
    const { customer, address } = await ownAddress(ctx, args.businessId, args.customerId, args.addressId);
    await ctx.db.delete("customerAddresses", address._id);
    if (address.isDefault) {
      const next = await ctx.db
        .query("customerAddresses")
        .withIndex("by_customerId", (q) => q.eq("customerId", customer._id))
        .first();
      if (next !== null) await ctx.db.patch("customerAddresses", next._id, { isDefault: true });
    }
    await customerEvent(ctx, customer, "customer.updated");
    return { id: address._id, object: "address", deleted: true as const };
  },
});
