/**
 * The catalogue (industries → categories → products, extras per industry) for the REST API:
 * authenticate the key → actor → the catalogue command → present. The rules are
 * `model/catalogue.ts` and `model/catalogueCommands.ts`, shared with the portal's
 * `catalogue.ts`; the lists here are the API's paginated, filtered views.
 */
import { v } from "convex/values";
import type { OrderedQuery } from "convex/server";
import type { DataModel, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation, internalQuery } from "../functions";
import { apiKeyActor } from "../model/actor";
import * as fields from "../model/catalogue";
import * as commands from "../model/catalogueCommands";
import { decodeCursor, listFingerprint, paginateFrom, toListPage } from "./v1/pagination";
import { presentCategory, presentExtra, presentIndustry, presentProduct } from "./v1/present";
import { ownDoc, vApiCaller } from "./tenant";

const vListArgs = { ...vApiCaller, limit: v.number(), cursor: v.optional(v.string()), active: v.optional(v.boolean()) };

type Caller = { businessId: Id<"businesses">; apiKeyId: Id<"apiKeys"> };
const actorFor = (ctx: MutationCtx, { businessId, apiKeyId }: Caller) => apiKeyActor(ctx, { businessId, apiKeyId });

/**
 * `active` filter on a paginated index range of one business (the page may come back short).
 * Catalogue tables are capped at a few hundred rows per business, so the scan stays bounded.
 */
function activeFilter<Q extends OrderedQuery<DataModel["products"]> | OrderedQuery<DataModel["industries"]> | OrderedQuery<DataModel["extras"]>>(
  query: Q,
  active: boolean | undefined,
): Q {
  // eslint-disable-next-line @convex-dev/no-filter-in-query -- bounded per-business range, see above
  return active === undefined ? query : ((query as OrderedQuery<DataModel["products"]>).filter((q) => q.eq(q.field("active"), active)) as Q);
}

// ---------------------------------------------------------------------------------------
// Industries
// ---------------------------------------------------------------------------------------

export const listIndustries = internalQuery({
  args: vListArgs,
  handler: async (ctx, args) => {
    const fingerprint = listFingerprint({ list: "industries", active: args.active });
    const query = activeFilter(ctx.db.query("industries").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId)), args.active);
    const result = await paginateFrom(query, args.limit, decodeCursor(args.cursor, fingerprint));
    return toListPage(result, presentIndustry, fingerprint);
  },
});

export const getIndustry = internalQuery({
  args: { ...vApiCaller, industryId: v.string() },
  handler: async (ctx, args) => presentIndustry(await ownDoc(ctx, "industries", args.businessId, args.industryId, "industryId")),
});

export const createIndustry = internalMutation({
  args: { ...vApiCaller, ...fields.industryFields },
  handler: async (ctx, { businessId, apiKeyId, ...input }) =>
    presentIndustry(await commands.createIndustry(ctx, await actorFor(ctx, { businessId, apiKeyId }), businessId, input)),
});

export const updateIndustry = internalMutation({
  args: { ...vApiCaller, industryId: v.string(), ...fields.industryPatchFields },
  handler: async (ctx, { businessId, apiKeyId, industryId, ...input }) =>
    presentIndustry(await commands.updateIndustry(ctx, await actorFor(ctx, { businessId, apiKeyId }), industryId, input)),
});

// ---------------------------------------------------------------------------------------
// Categories
// ---------------------------------------------------------------------------------------

export const listCategories = internalQuery({
  args: { ...vListArgs, industryId: v.optional(v.string()) },
  handler: async (ctx, args) => {
    const fingerprint = listFingerprint({ list: "categories", industryId: args.industryId });
    const cursor = decodeCursor(args.cursor, fingerprint);
    const industry = args.industryId === undefined ? null : await ownDoc(ctx, "industries", args.businessId, args.industryId, "industryId");
    const query =
      industry === null
        ? ctx.db.query("categories").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
        : ctx.db.query("categories").withIndex("by_industryId", (q) => q.eq("industryId", industry._id));
    return toListPage(await paginateFrom(query, args.limit, cursor), presentCategory, fingerprint);
  },
});

export const getCategory = internalQuery({
  args: { ...vApiCaller, categoryId: v.string() },
  handler: async (ctx, args) => presentCategory(await ownDoc(ctx, "categories", args.businessId, args.categoryId, "categoryId")),
});

export const createCategory = internalMutation({
  args: { ...vApiCaller, industryId: v.string(), ...fields.categoryFields },
  handler: async (ctx, { businessId, apiKeyId, industryId, ...input }) =>
    presentCategory(await commands.createCategory(ctx, await actorFor(ctx, { businessId, apiKeyId }), industryId, input)),
});

export const updateCategory = internalMutation({
  args: { ...vApiCaller, categoryId: v.string(), ...fields.categoryPatchFields },
  handler: async (ctx, { businessId, apiKeyId, categoryId, ...input }) =>
    presentCategory(await commands.updateCategory(ctx, await actorFor(ctx, { businessId, apiKeyId }), categoryId, input)),
});

export const removeCategory = internalMutation({
  args: { ...vApiCaller, categoryId: v.string() },
  handler: async (ctx, { businessId, apiKeyId, categoryId }) => {
    const removed = await commands.removeCategory(ctx, await actorFor(ctx, { businessId, apiKeyId }), categoryId);
    return { id: removed._id, object: "category", deleted: true as const };
  },
});

// ---------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------

export const listProducts = internalQuery({
  args: { ...vListArgs, industryId: v.optional(v.string()), categoryId: v.optional(v.string()) },
  handler: async (ctx, args) => {
    const fingerprint = listFingerprint({ list: "products", industryId: args.industryId, categoryId: args.categoryId, active: args.active });
    const cursor = decodeCursor(args.cursor, fingerprint);
    let query;
    if (args.categoryId !== undefined) {
      const category = await ownDoc(ctx, "categories", args.businessId, args.categoryId, "categoryId");
      if (args.industryId !== undefined && category.industryId !== args.industryId) {
        return { object: "list" as const, data: [], has_more: false, next_cursor: null };
      }
      query = ctx.db.query("products").withIndex("by_categoryId", (q) => q.eq("categoryId", category._id));
    } else if (args.industryId !== undefined) {
      const industry = await ownDoc(ctx, "industries", args.businessId, args.industryId, "industryId");
      query = ctx.db.query("products").withIndex("by_industryId", (q) => q.eq("industryId", industry._id));
    } else {
      query = ctx.db.query("products").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId));
    }
    return toListPage(await paginateFrom(activeFilter(query, args.active), args.limit, cursor), presentProduct, fingerprint);
  },
});

export const getProduct = internalQuery({
  args: { ...vApiCaller, productId: v.string() },
  handler: async (ctx, args) => presentProduct(await ownDoc(ctx, "products", args.businessId, args.productId, "productId")),
});

export const createProduct = internalMutation({
  args: { ...vApiCaller, categoryId: v.string(), ...fields.productFields },
  handler: async (ctx, { businessId, apiKeyId, categoryId, ...input }) =>
    presentProduct(await commands.createProduct(ctx, await actorFor(ctx, { businessId, apiKeyId }), categoryId, input)),
});

export const updateProduct = internalMutation({
  args: { ...vApiCaller, productId: v.string(), categoryId: v.optional(v.string()), ...fields.productPatchFields },
  handler: async (ctx, { businessId, apiKeyId, productId, ...input }) =>
    presentProduct(await commands.updateProduct(ctx, await actorFor(ctx, { businessId, apiKeyId }), productId, input)),
});

// ---------------------------------------------------------------------------------------
// Extras
// ---------------------------------------------------------------------------------------

export const listExtras = internalQuery({
  args: { ...vListArgs, industryId: v.optional(v.string()) },
  handler: async (ctx, args) => {
    const fingerprint = listFingerprint({ list: "extras", industryId: args.industryId, active: args.active });
    const cursor = decodeCursor(args.cursor, fingerprint);
    const industry = args.industryId === undefined ? null : await ownDoc(ctx, "industries", args.businessId, args.industryId, "industryId");
    const query =
      industry === null
        ? ctx.db.query("extras").withIndex("by_businessId", (q) => q.eq("businessId", args.businessId))
        : ctx.db.query("extras").withIndex("by_industryId", (q) => q.eq("industryId", industry._id));
    return toListPage(await paginateFrom(activeFilter(query, args.active), args.limit, cursor), presentExtra, fingerprint);
  },
});

export const getExtra = internalQuery({
  args: { ...vApiCaller, extraId: v.string() },
  handler: async (ctx, args) => presentExtra(await ownDoc(ctx, "extras", args.businessId, args.extraId, "extraId")),
});

export const createExtra = internalMutation({
  args: { ...vApiCaller, industryId: v.string(), ...fields.extraFields, productIds: v.array(v.string()) },
  handler: async (ctx, { businessId, apiKeyId, industryId, ...input }) =>
    presentExtra(await commands.createExtra(ctx, await actorFor(ctx, { businessId, apiKeyId }), industryId, input)),
});

export const updateExtra = internalMutation({
  args: { ...vApiCaller, extraId: v.string(), ...fields.extraPatchFields, productIds: v.optional(v.array(v.string())) },
  handler: async (ctx, { businessId, apiKeyId, extraId, ...input }) =>
    presentExtra(await commands.updateExtra(ctx, await actorFor(ctx, { businessId, apiKeyId }), extraId, input)),
});
