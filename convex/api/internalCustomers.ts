/**
 * Customers and their addresses for the REST API: authenticate the key → actor → the
 * customer command or read helper → present. The rules (unique email per business, E.164
 * phones, tags, addresses resolved to a zone, `customer.*` events with the staff room's
 * notice) are `model/customerCommands.ts` and `model/customers.ts`, shared with the
 * portal's `customers.ts`.
 */
import { v } from "convex/values";
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation, internalQuery } from "../functions";
import { apiKeyActor } from "../model/actor";
import { addCustomerAddress, createCustomer, removeCustomerAddress, updateCustomer, updateCustomerAddress } from "../model/customerCommands";
import { addressesOf } from "../model/customers";
import { normalizeEmail } from "../model/validation";
import { vAddress } from "../schema";
import { decodeCursor, listFingerprint, toListPage } from "./v1/pagination";
import { presentAddress, presentCustomer } from "./v1/present";
import { ownDoc, vApiCaller } from "./tenant";

type Caller = { businessId: Id<"businesses">; apiKeyId: Id<"apiKeys"> };
const actorFor = (ctx: MutationCtx, { businessId, apiKeyId }: Caller) => apiKeyActor(ctx, { businessId, apiKeyId });

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
    address: v.optional(vAddress),
  },
  handler: async (ctx, { businessId, apiKeyId, ...input }) => {
    const customer = await createCustomer(ctx, await actorFor(ctx, { businessId, apiKeyId }), businessId, input);
    return presentCustomer(customer, await addressesOf(ctx, customer._id));
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
  handler: async (ctx, { businessId, apiKeyId, customerId, ...input }) => {
    const customer = await updateCustomer(ctx, await actorFor(ctx, { businessId, apiKeyId }), customerId, input);
    return presentCustomer(customer, await addressesOf(ctx, customer._id));
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
  args: { ...vApiCaller, customerId: v.string(), label: v.optional(v.string()), address: vAddress, isDefault: v.optional(v.boolean()) },
  handler: async (ctx, { businessId, apiKeyId, customerId, ...input }) =>
    presentAddress(await addCustomerAddress(ctx, await actorFor(ctx, { businessId, apiKeyId }), customerId, input)),
});

export const updateAddress = internalMutation({
  args: {
    ...vApiCaller,
    customerId: v.string(),
    addressId: v.string(),
    label: v.optional(v.string()),
    address: v.optional(vAddress),
    isDefault: v.optional(v.literal(true)),
  },
  handler: async (ctx, { businessId, apiKeyId, customerId, addressId, ...input }) =>
    presentAddress(await updateCustomerAddress(ctx, await actorFor(ctx, { businessId, apiKeyId }), { customerId, addressId }, input)),
});

export const removeAddress = internalMutation({
  args: { ...vApiCaller, customerId: v.string(), addressId: v.string() },
  handler: async (ctx, { businessId, apiKeyId, customerId, addressId }) => {
    const removed = await removeCustomerAddress(ctx, await actorFor(ctx, { businessId, apiKeyId }), { customerId, addressId });
    return { id: removed._id, object: "address", deleted: true as const };
  },
});
