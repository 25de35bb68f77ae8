/**
 * The catalogue (industries → categories → products, extras per industry) for the REST API,
 * scoped to the API key's business. Rules are catalogue.ts's: `validateQuantity` is shared;
 * its per-business caps, unique industry slugs, same-industry extras and the
 * `catalogue.updated` event are private there and restated here (refactor wanted:
 * `model/catalogue.ts` functions taking an explicit businessId).
 */
import { v } from "convex/values";
import type { OrderedQuery } from "convex/server";
import type { DataModel, Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { validateQuantity } from "../catalogue";
import { appError } from "../errors";
import { internalMutation, internalQuery } from "../functions";
import { emitEvent } from "../model/events";
import { invalid, optionalText, requireDistinct, requireInt, requireSlug, requireText, slugify } from "../model/validation";
import { decodeCursor, listFingerprint, toListPage } from "./v1/pagination";
import { presentCategory, presentExtra, presentIndustry, presentProduct } from "./v1/present";
import { ownDoc, vApiCaller } from "./tenant";

const CAPS = { industries: 50, categories: 200, products: 500, extras: 500 } as const;
const MAX_PRICE_MINOR = 100_000_000;
const MAX_DURATION_MINUTES = 24 * 60 * 7;
type CatalogueTable = keyof typeof CAPS;

const vQuantity = v.object({
  min: v.number(),
  max: v.number(),
  step: v.number(),
  included: v.number(),
  extraUnitPriceMinor: v.number(),
  extraUnitDurationMinutes: v.number(),
  unitLabel: v.optional(v.string()),
});
const vExtraPricing = v.union(v.literal("flat"), v.literal("per_quantity"));
const vListArgs = { ...vApiCaller, limit: v.number(), cursor: v.optional(v.string()), active: v.optional(v.boolean()) };

const price = (value: number, param: string) => requireInt(value, param, 0, MAX_PRICE_MINOR);
const duration = (value: number, param: string, min = 0) => requireInt(value, param, min, MAX_DURATION_MINUTES);
const sortOrder = (value: number) => requireInt(value, "sortOrder", -1_000_000, 1_000_000);

async function catalogueEvent(ctx: MutationCtx, businessId: Id<"businesses">, table: CatalogueTable, id: string, action: "created" | "updated" | "removed") {
  await emitEvent(ctx, { businessId, type: "catalogue.updated", entity: { table, id }, data: { table, id, action }, rooms: [] });
}

async function requireRoom(ctx: MutationCtx, table: CatalogueTable, businessId: Id<"businesses">) {
  const rows = await ctx.db
    .query(table)
    .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
    .take(CAPS[table]);
  if (rows.length >= CAPS[table]) throw appError("CONFLICT", `At most ${CAPS[table]} ${table} per business.`);
}

async function requireUniqueSlug(ctx: MutationCtx, businessId: Id<"businesses">, slug: string, self?: Id<"industries">) {
  const existing = await ctx.db
    .query("industries")
    .withIndex("by_businessId_and_slug", (q) => q.eq("businessId", businessId).eq("slug", slug))
    .first();
  if (existing !== null && existing._id !== self) throw appError("ALREADY_EXISTS", "Another industry has this slug.", { param: "slug" });
}

async function productsOfIndustry(ctx: MutationCtx, industry: Doc<"industries">, productIds: string[]) {
  requireDistinct(productIds, "productIds");
  const out: Id<"products">[] = [];
  for (const [i, id] of productIds.entries()) {
    const product = await ownDoc(ctx, "products", industry.businessId, id, `productIds[${i}]`);
    if (product.industryId !== industry._id) throw appError("NOT_FOUND", "No such product in this industry.", { param: `productIds[${i}]` });
    out.push(product._id);
  }
  return out;
}

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
    const result = await query.paginate({ numItems: args.limit, cursor: decodeCursor(args.cursor, fingerprint) });
    return toListPage(result, presentIndustry, fingerprint);
  },
});

export const getIndustry = internalQuery({
  args: { ...vApiCaller, industryId: v.string() },
  handler: async (ctx, args) => presentIndustry(await ownDoc(ctx, "industries", args.businessId, args.industryId, "industryId")),
});

export const createIndustry = internalMutation({
  args: { ...vApiCaller, name: v.string(), slug: v.optional(v.string()), description: v.optional(v.string()) },
  handler: async (ctx, args) => {
    const name = requireText(args.name, "name", 120);
    const slug = args.slug === undefined ? slugify(name) : requireSlug(args.slug);
    const description = optionalText(args.description, "description", 2000);
    await requireUniqueSlug(ctx, args.businessId, slug);
    await requireRoom(ctx, "industries", args.businessId);
    const id = await ctx.db.insert("industries", { businessId: args.businessId, name, slug, description, active: true });
    await catalogueEvent(ctx, args.businessId, "industries", id, "created");
    return presentIndustry((await ctx.db.get("industries", id))!);
  },
});

export const updateIndustry = internalMutation({
  args: {
    ...vApiCaller,
    industryId: v.string(),
    name: v.optional(v.string()),
    slug: v.optional(v.string()),
    description: v.optional(v.string()),
    active: v.optional(v.boolean()),
  },
  handler: async (ctx, args) => {
    const doc = await ownDoc(ctx, "industries", args.businessId, args.industryId, "industryId");
    const patch: Partial<Doc<"industries">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.slug !== undefined) {
      patch.slug = requireSlug(args.slug);
      await requireUniqueSlug(ctx, doc.businessId, patch.slug, doc._id);
    }
    if (args.description !== undefined) patch.description = optionalText(args.description, "description", 2000);
    if (args.active !== undefined) patch.active = args.active;
    await ctx.db.patch("industries", doc._id, patch);
    await catalogueEvent(ctx, doc.businessId, "industries", doc._id, "updated");
    return presentIndustry((await ctx.db.get("industries", doc._id))!);
  },
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
    return toListPage(await query.paginate({ numItems: args.limit, cursor }), presentCategory, fingerprint);
  },
});

export const getCategory = internalQuery({
  args: { ...vApiCaller, categoryId: v.string() },
  handler: async (ctx, args) => presentCategory(await ownDoc(ctx, "categories", args.businessId, args.categoryId, "categoryId")),
});

export const createCategory = internalMutation({
  args: { ...vApiCaller, industryId: v.string(), name: v.string(), sortOrder: v.optional(v.number()) },
  handler: async (ctx, args) => {
    const industry = await ownDoc(ctx, "industries", args.businessId, args.industryId, "industryId");
    const name = requireText(args.name, "name", 120);
    const order = sortOrder(args.sortOrder ?? 0);
    await requireRoom(ctx, "categories", args.businessId);
    const id = await ctx.db.insert("categories", { businessId: args.businessId, industryId: industry._id, name, sortOrder: order });
    await catalogueEvent(ctx, args.businessId, "categories", id, "created");
    return presentCategory((await ctx.db.get("categories", id))!);
  },
});

export const updateCategory = internalMutation({
  args: { ...vApiCaller, categoryId: v.string(), name: v.optional(v.string()), sortOrder: v.optional(v.number()) },
  handler: async (ctx, args) => {
    const doc = await ownDoc(ctx, "categories", args.businessId, args.categoryId, "categoryId");
    const patch: Partial<Doc<"categories">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.sortOrder !== undefined) patch.sortOrder = sortOrder(args.sortOrder);
    await ctx.db.patch("categories", doc._id, patch);
    await catalogueEvent(ctx, doc.businessId, "categories", doc._id, "updated");
    return presentCategory((await ctx.db.get("categories", doc._id))!);
  },
});

export const removeCategory = internalMutation({
  args: { ...vApiCaller, categoryId: v.string() },
  handler: async (ctx, args) => {
    const doc = await ownDoc(ctx, "categories", args.businessId, args.categoryId, "categoryId");
    const product = await ctx.db.query("products").withIndex("by_categoryId", (q) => q.eq("categoryId", doc._id)).first();
    if (product !== null) throw appError("CONFLICT", "Move or deactivate this category's products first: it is not empty.", { param: "categoryId" });
    await ctx.db.delete("categories", doc._id);
    await catalogueEvent(ctx, doc.businessId, "categories", doc._id, "removed");
    return { id: doc._id, object: "category", deleted: true as const };
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
    return toListPage(await activeFilter(query, args.active).paginate({ numItems: args.limit, cursor }), presentProduct, fingerprint);
  },
});

export const getProduct = internalQuery({
  args: { ...vApiCaller, productId: v.string() },
  handler: async (ctx, args) => presentProduct(await ownDoc(ctx, "products", args.businessId, args.productId, "productId")),
});

export const createProduct = internalMutation({
  args: {
    ...vApiCaller,
    categoryId: v.string(),
    name: v.string(),
    description: v.optional(v.string()),
    priceMinor: v.number(),
    durationMinutes: v.number(),
    quantity: vQuantity,
    sortOrder: v.optional(v.number()),
  },
  handler: async (ctx, args) => {
    const category = await ownDoc(ctx, "categories", args.businessId, args.categoryId, "categoryId");
    const fields = {
      name: requireText(args.name, "name", 120),
      description: optionalText(args.description, "description", 4000),
      priceMinor: price(args.priceMinor, "priceMinor"),
      durationMinutes: duration(args.durationMinutes, "durationMinutes", 1),
      quantity: validateQuantity(args.quantity),
      sortOrder: sortOrder(args.sortOrder ?? 0),
    };
    await requireRoom(ctx, "products", args.businessId);
    const id = await ctx.db.insert("products", {
      businessId: args.businessId,
      industryId: category.industryId,
      categoryId: category._id,
      ...fields,
      active: true,
    });
    await catalogueEvent(ctx, args.businessId, "products", id, "created");
    return presentProduct((await ctx.db.get("products", id))!);
  },
});

export const updateProduct = internalMutation({
  args: {
    ...vApiCaller,
    productId: v.string(),
    categoryId: v.optional(v.string()),
    name: v.optional(v.string()),
    description: v.optional(v.string()),
    priceMinor: v.optional(v.number()),
    durationMinutes: v.optional(v.number()),
    quantity: v.optional(vQuantity),
    sortOrder: v.optional(v.number()),
    active: v.optional(v.boolean()),
  },
  handler: async (ctx, args) => {
    const doc = await ownDoc(ctx, "products", args.businessId, args.productId, "productId");
    const patch: Partial<Doc<"products">> = {};
    if (args.categoryId !== undefined) {
      const category = await ownDoc(ctx, "categories", args.businessId, args.categoryId, "categoryId");
      if (category.industryId !== doc.industryId) throw invalid("categoryId", "A product stays in its industry.");
      patch.categoryId = category._id;
    }
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.description !== undefined) patch.description = optionalText(args.description, "description", 4000);
    if (args.priceMinor !== undefined) patch.priceMinor = price(args.priceMinor, "priceMinor");
    if (args.durationMinutes !== undefined) patch.durationMinutes = duration(args.durationMinutes, "durationMinutes", 1);
    if (args.quantity !== undefined) patch.quantity = validateQuantity(args.quantity);
    if (args.sortOrder !== undefined) patch.sortOrder = sortOrder(args.sortOrder);
    if (args.active !== undefined) patch.active = args.active;
    await ctx.db.patch("products", doc._id, patch);
    await catalogueEvent(ctx, doc.businessId, "products", doc._id, "updated");
    return presentProduct((await ctx.db.get("products", doc._id))!);
  },
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
    return toListPage(await activeFilter(query, args.active).paginate({ numItems: args.limit, cursor }), presentExtra, fingerprint);
  },
});

export const getExtra = internalQuery({
  args: { ...vApiCaller, extraId: v.string() },
  handler: async (ctx, args) => presentExtra(await ownDoc(ctx, "extras", args.businessId, args.extraId, "extraId")),
});

export const createExtra = internalMutation({
  args: {
    ...vApiCaller,
    industryId: v.string(),
    name: v.string(),
    priceMinor: v.number(),
    durationMinutes: v.number(),
    pricing: vExtraPricing,
    maxQuantity: v.number(),
    productIds: v.array(v.string()),
  },
  handler: async (ctx, args) => {
    const industry = await ownDoc(ctx, "industries", args.businessId, args.industryId, "industryId");
    const name = requireText(args.name, "name", 120);
    const priceMinor = price(args.priceMinor, "priceMinor");
    const durationMinutes = duration(args.durationMinutes, "durationMinutes");
    const maxQuantity = requireInt(args.maxQuantity, "maxQuantity", 1, 1000);
    if (args.pricing === "flat" && maxQuantity !== 1) throw invalid("maxQuantity", "A flat extra is taken once: maxQuantity must be 1.");
    const productIds = await productsOfIndustry(ctx, industry, args.productIds);
    await requireRoom(ctx, "extras", args.businessId);
    const id = await ctx.db.insert("extras", {
      businessId: args.businessId,
      industryId: industry._id,
      name,
      priceMinor,
      durationMinutes,
      pricing: args.pricing,
      maxQuantity,
      productIds,
      active: true,
    });
    await catalogueEvent(ctx, args.businessId, "extras", id, "created");
    return presentExtra((await ctx.db.get("extras", id))!);
  },
});

export const updateExtra = internalMutation({
  args: {
    ...vApiCaller,
    extraId: v.string(),
    name: v.optional(v.string()),
    priceMinor: v.optional(v.number()),
    durationMinutes: v.optional(v.number()),
    pricing: v.optional(vExtraPricing),
    maxQuantity: v.optional(v.number()),
    productIds: v.optional(v.array(v.string())),
    active: v.optional(v.boolean()),
  },
  handler: async (ctx, args) => {
    const doc = await ownDoc(ctx, "extras", args.businessId, args.extraId, "extraId");
    const patch: Partial<Doc<"extras">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.priceMinor !== undefined) patch.priceMinor = price(args.priceMinor, "priceMinor");
    if (args.durationMinutes !== undefined) patch.durationMinutes = duration(args.durationMinutes, "durationMinutes");
    if (args.pricing !== undefined) patch.pricing = args.pricing;
    if (args.maxQuantity !== undefined) patch.maxQuantity = requireInt(args.maxQuantity, "maxQuantity", 1, 1000);
    if ((patch.pricing ?? doc.pricing) === "flat" && (patch.maxQuantity ?? doc.maxQuantity) !== 1) {
      throw invalid("maxQuantity", "A flat extra is taken once: maxQuantity must be 1.");
    }
    if (args.productIds !== undefined) patch.productIds = await productsOfIndustry(ctx, (await ctx.db.get("industries", doc.industryId))!, args.productIds);
    if (args.active !== undefined) patch.active = args.active;
    await ctx.db.patch("extras", doc._id, patch);
    await catalogueEvent(ctx, doc.businessId, "extras", doc._id, "updated");
    return presentExtra((await ctx.db.get("extras", doc._id))!);
  },
});
