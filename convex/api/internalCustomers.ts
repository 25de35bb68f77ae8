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
import {
  addCustomerAddress,
  addressFields,
  addressPatchFields,
  createCustomer,
  customerFields,
  customerPatchFields,
  removeCustomerAddress,
  updateCustomer,
  updateCustomerAddress,
} from "../model/customerCommands";
import { addressesOf } from "../model/customers";
import { normalizeEmail } from "../model/validation";
import { vAddress } from "../schema";
import { decodeCursor, listFingerprint, paginateFrom, toListPage } from "./v1/pagination";
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
    const cursor = decodeCursor(args.cursor, fingerprint);
    const query =
      email === undefined
        ? ctx.db.query("customers").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
        : ctx.db.query("customers").withIndex("by_businessId_and_email", (q) => q.eq("businessId", args.businessId).eq("email", email));
    const result = await paginateFrom(query.order(args.order), args.limit, cursor);
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
  args: { ...vApiCaller, ...customerFields, address: v.optional(vAddress) },
  handler: async (ctx, { businessId, apiKeyId, ...input }) => {
    const customer = await createCustomer(ctx, await actorFor(ctx, { businessId, apiKeyId }), businessId, input);
    return presentCustomer(customer, await addressesOf(ctx, customer._id));
  },
});

export const update = internalMutation({
  args: { ...vApiCaller, customerId: v.string(), ...customerPatchFields },
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
  args: { ...vApiCaller, customerId: v.string(), ...addressFields },
  handler: async (ctx, { businessId, apiKeyId, customerId, ...input }) =>
    presentAddress(await addCustomerAddress(ctx, await actorFor(ctx, { businessId, apiKeyId }), customerId, input)),
});

export const updateAddress = internalMutation({
  args: { ...vApiCaller, customerId: v.string(), addressId: v.string(), ...addressPatchFields },
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
