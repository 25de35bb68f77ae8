/**
 * The catalogue: industries → categories → products, plus extras per industry.
 * Public read (`forBusiness`) shows the active catalogue of an ACTIVE business; writes are
 * manager and up. Products, extras and industries are referenced by bookings (cart lines
 * and frozen booked items) and resources, so they are deactivated (`active: false`), never
 * deleted; a category can be removed only while it holds no product.
 */
import { v } from "convex/values";
import type { Doc, Id } from "./_generated/dataModel";
import { accessTo, getBusinessOrThrow, requireBusinessRole, requireDocRole, requireStaffOrAdmin } from "./access";
import { appError } from "./errors";
import { mutation, query, type MutationCtx } from "./functions";
import { emitEvent } from "./model/events";
import { invalid, optionalText, requireDistinct, requireInt, requireSlug, requireText, slugify } from "./model/validation";

const MAX_INDUSTRIES = 50;
const MAX_CATEGORIES = 200;
const MAX_PRODUCTS = 500;
const MAX_EXTRAS = 500;
const MAX_PRICE_MINOR = 100_000_000;
const MAX_DURATION_MINUTES = 24 * 60 * 7;

const vQuantity = v.object({
  min: v.number(),
  max: v.number(),
  step: v.number(),
  included: v.number(),
  extraUnitPriceMinor: v.number(),
  extraUnitDurationMinutes: v.number(),
  unitLabel: v.optional(v.string()),
});
type Quantity = Doc<"products">["quantity"];
const vExtraPricing = v.union(v.literal("flat"), v.literal("per_quantity"));

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/** min ≤ included ≤ max, step > 0, all whole numbers; extra-unit price and time ≥ 0. */
export function validateQuantity(q: Quantity, param = "quantity"): Quantity {
  requireInt(q.min, `${param}.min`, 1, 10_000);
  requireInt(q.max, `${param}.max`, 1, 10_000);
  requireInt(q.step, `${param}.step`, 1, 10_000);
  requireInt(q.included, `${param}.included`, 0, 10_000);
  if (q.max < q.min) throw invalid(`${param}.max`, "quantity.max must be at least quantity.min.");
  if (q.included < q.min || q.included > q.max) {
    throw invalid(`${param}.included`, "quantity.included must be between quantity.min and quantity.max.");
  }
  requireInt(q.extraUnitPriceMinor, `${param}.extraUnitPriceMinor`, 0, MAX_PRICE_MINOR);
  requireInt(q.extraUnitDurationMinutes, `${param}.extraUnitDurationMinutes`, 0, MAX_DURATION_MINUTES);
  const unitLabel = optionalText(q.unitLabel, `${param}.unitLabel`, 40);
  return { ...q, unitLabel };
}

function price(value: number, param: string) {
  return requireInt(value, param, 0, MAX_PRICE_MINOR);
}
function duration(value: number, param: string, min = 0) {
  return requireInt(value, param, min, MAX_DURATION_MINUTES);
}

// ---------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------

async function catalogueEvent(
  ctx: MutationCtx,
  businessId: Id<"businesses">,
  table: "industries" | "categories" | "products" | "extras",
  id: string,
  action: "created" | "updated" | "removed",
) {
  await emitEvent(ctx, {
    businessId,
    type: "catalogue.updated",
    entity: { table, id },
    data: { table, id, action },
    rooms: [],
  });
}

async function countOf(ctx: MutationCtx, table: "industries" | "categories" | "products" | "extras", businessId: Id<"businesses">, max: number) {
  const rows = await ctx.db
    .query(table)
    .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
    .take(max);
  return rows.length;
}

async function requireUniqueIndustrySlug(ctx: MutationCtx, businessId: Id<"businesses">, slug: string, self?: Id<"industries">) {
  const existing = await ctx.db
    .query("industries")
    .withIndex("by_businessId_and_slug", (q) => q.eq("businessId", businessId).eq("slug", slug))
    .first();
  if (existing !== null && existing._id !== self) throw appError("ALREADY_EXISTS", "Another industry has this slug.", { param: "slug" });
}

async function productsOfIndustry(ctx: MutationCtx, industry: Doc<"industries">, productIds: Id<"products">[]) {
  requireDistinct(productIds, "productIds");
  for (const [i, productId] of productIds.entries()) {
    const product = await ctx.db.get("products", productId);
    if (product === null || product.industryId !== industry._id) {
      throw appError("NOT_FOUND", "No such product in this industry.", { param: `productIds[${i}]` });
    }
  }
  return productIds;
}

// ---------------------------------------------------------------------------------------
// Industries
// ---------------------------------------------------------------------------------------

export const createIndustry = mutation({
  args: { businessId: v.id("businesses"), name: v.string(), slug: v.optional(v.string()), description: v.optional(v.string()) },
  returns: v.id("industries"),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "manager");
    const name = requireText(args.name, "name", 120);
    const slug = args.slug === undefined ? slugify(name) : requireSlug(args.slug);
    const description = optionalText(args.description, "description", 2000);
    await requireUniqueIndustrySlug(ctx, args.businessId, slug);
    if ((await countOf(ctx, "industries", args.businessId, MAX_INDUSTRIES)) >= MAX_INDUSTRIES) {
      throw appError("CONFLICT", `At most ${MAX_INDUSTRIES} industries per business.`);
    }
    const id = await ctx.db.insert("industries", { businessId: args.businessId, name, slug, description, active: true });
    await catalogueEvent(ctx, args.businessId, "industries", id, "created");
    return id;
  },
});

export const updateIndustry = mutation({
  args: {
    industryId: v.id("industries"),
    name: v.optional(v.string()),
    slug: v.optional(v.string()),
    description: v.optional(v.string()),
    active: v.optional(v.boolean()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { doc } = await requireDocRole(ctx, await ctx.db.get("industries", args.industryId), "manager", "industryId", "Industry not found.");
    const patch: Partial<Doc<"industries">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.slug !== undefined) {
      patch.slug = requireSlug(args.slug);
      await requireUniqueIndustrySlug(ctx, doc.businessId, patch.slug, doc._id);
    }
    if (args.description !== undefined) patch.description = optionalText(args.description, "description", 2000);
    if (args.active !== undefined) patch.active = args.active;
    await ctx.db.patch("industries", doc._id, patch);
    await catalogueEvent(ctx, doc.businessId, "industries", doc._id, "updated");
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Categories
// ---------------------------------------------------------------------------------------

export const createCategory = mutation({
  args: { industryId: v.id("industries"), name: v.string(), sortOrder: v.optional(v.number()) },
  returns: v.id("categories"),
  handler: async (ctx, args) => {
    const { doc: industry } = await requireDocRole(ctx, await ctx.db.get("industries", args.industryId), "manager", "industryId", "Industry not found.");
    const name = requireText(args.name, "name", 120);
    const sortOrder = requireInt(args.sortOrder ?? 0, "sortOrder", -1_000_000, 1_000_000);
    if ((await countOf(ctx, "categories", industry.businessId, MAX_CATEGORIES)) >= MAX_CATEGORIES) {
      throw appError("CONFLICT", `At most ${MAX_CATEGORIES} categories per business.`);
    }
    const id = await ctx.db.insert("categories", { businessId: industry.businessId, industryId: industry._id, name, sortOrder });
    await catalogueEvent(ctx, industry.businessId, "categories", id, "created");
    return id;
  },
});

export const updateCategory = mutation({
  args: { categoryId: v.id("categories"), name: v.optional(v.string()), sortOrder: v.optional(v.number()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { doc } = await requireDocRole(ctx, await ctx.db.get("categories", args.categoryId), "manager", "categoryId", "Category not found.");
    const patch: Partial<Doc<"categories">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.sortOrder !== undefined) patch.sortOrder = requireInt(args.sortOrder, "sortOrder", -1_000_000, 1_000_000);
    await ctx.db.patch("categories", doc._id, patch);
    await catalogueEvent(ctx, doc.businessId, "categories", doc._id, "updated");
    return null;
  },
});

/** Removes an empty category; one that holds products (active or not) is refused. */
export const removeCategory = mutation({
  args: { categoryId: v.id("categories") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { doc } = await requireDocRole(ctx, await ctx.db.get("categories", args.categoryId), "manager", "categoryId", "Category not found.");
    const product = await ctx.db.query("products").withIndex("by_categoryId", (q) => q.eq("categoryId", doc._id)).first();
    if (product !== null) {
      throw appError("CONFLICT", "Move or deactivate this category's products first: it is not empty.", { param: "categoryId" });
    }
    await ctx.db.delete("categories", doc._id);
    await catalogueEvent(ctx, doc.businessId, "categories", doc._id, "removed");
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------

export const createProduct = mutation({
  args: {
    categoryId: v.id("categories"),
    name: v.string(),
    description: v.optional(v.string()),
    priceMinor: v.number(),
    durationMinutes: v.number(),
    quantity: vQuantity,
    sortOrder: v.optional(v.number()),
  },
  returns: v.id("products"),
  handler: async (ctx, args) => {
    const { doc: category } = await requireDocRole(ctx, await ctx.db.get("categories", args.categoryId), "manager", "categoryId", "Category not found.");
    const name = requireText(args.name, "name", 120);
    const description = optionalText(args.description, "description", 4000);
    const priceMinor = price(args.priceMinor, "priceMinor");
    const durationMinutes = duration(args.durationMinutes, "durationMinutes", 1);
    const quantity = validateQuantity(args.quantity);
    const sortOrder = requireInt(args.sortOrder ?? 0, "sortOrder", -1_000_000, 1_000_000);
    if ((await countOf(ctx, "products", category.businessId, MAX_PRODUCTS)) >= MAX_PRODUCTS) {
      throw appError("CONFLICT", `At most ${MAX_PRODUCTS} products per business.`);
    }
    const id = await ctx.db.insert("products", {
      businessId: category.businessId,
      industryId: category.industryId,
      categoryId: category._id,
      name,
      description,
      priceMinor,
      durationMinutes,
      quantity,
      active: true,
      sortOrder,
    });
    await catalogueEvent(ctx, category.businessId, "products", id, "created");
    return id;
  },
});

/** Changes the given fields; `active: false` retires a product (it is never deleted). */
export const updateProduct = mutation({
  args: {
    productId: v.id("products"),
    categoryId: v.optional(v.id("categories")),
    name: v.optional(v.string()),
    description: v.optional(v.string()),
    priceMinor: v.optional(v.number()),
    durationMinutes: v.optional(v.number()),
    quantity: v.optional(vQuantity),
    sortOrder: v.optional(v.number()),
    active: v.optional(v.boolean()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { doc } = await requireDocRole(ctx, await ctx.db.get("products", args.productId), "manager", "productId", "Product not found.");
    const patch: Partial<Doc<"products">> = {};
    if (args.categoryId !== undefined) {
      const category = await ctx.db.get("categories", args.categoryId);
      if (category === null || category.businessId !== doc.businessId) {
        throw appError("NOT_FOUND", "Category not found.", { param: "categoryId" });
      }
      if (category.industryId !== doc.industryId) throw invalid("categoryId", "A product stays in its industry.");
      patch.categoryId = category._id;
    }
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.description !== undefined) patch.description = optionalText(args.description, "description", 4000);
    if (args.priceMinor !== undefined) patch.priceMinor = price(args.priceMinor, "priceMinor");
    if (args.durationMinutes !== undefined) patch.durationMinutes = duration(args.durationMinutes, "durationMinutes", 1);
    if (args.quantity !== undefined) patch.quantity = validateQuantity(args.quantity);
    if (args.sortOrder !== undefined) patch.sortOrder = requireInt(args.sortOrder, "sortOrder", -1_000_000, 1_000_000);
    if (args.active !== undefined) patch.active = args.active;
    await ctx.db.patch("products", doc._id, patch);
    await catalogueEvent(ctx, doc.businessId, "products", doc._id, "updated");
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Extras
// ---------------------------------------------------------------------------------------

export const createExtra = mutation({
  args: {
    industryId: v.id("industries"),
    name: v.string(),
    priceMinor: v.number(),
    durationMinutes: v.number(),
    pricing: vExtraPricing,
    maxQuantity: v.number(),
    productIds: v.array(v.id("products")),
  },
  returns: v.id("extras"),
  handler: async (ctx, args) => {
    const { doc: industry } = await requireDocRole(ctx, await ctx.db.get("industries", args.industryId), "manager", "industryId", "Industry not found.");
    const name = requireText(args.name, "name", 120);
    const priceMinor = price(args.priceMinor, "priceMinor");
    const durationMinutes = duration(args.durationMinutes, "durationMinutes");
    const maxQuantity = requireInt(args.maxQuantity, "maxQuantity", 1, 1000);
    if (args.pricing === "flat" && maxQuantity !== 1) throw invalid("maxQuantity", "A flat extra is taken once: maxQuantity must be 1.");
    const productIds = await productsOfIndustry(ctx, industry, args.productIds);
    if ((await countOf(ctx, "extras", industry.businessId, MAX_EXTRAS)) >= MAX_EXTRAS) {
      throw appError("CONFLICT", `At most ${MAX_EXTRAS} extras per business.`);
    }
    const id = await ctx.db.insert("extras", {
      businessId: industry.businessId,
      industryId: industry._id,
      name,
      priceMinor,
      durationMinutes,
      pricing: args.pricing,
      maxQuantity,
      productIds,
      active: true,
    });
    await catalogueEvent(ctx, industry.businessId, "extras", id, "created");
    return id;
  },
});

export const updateExtra = mutation({
  args: {
    extraId: v.id("extras"),
    name: v.optional(v.string()),
    priceMinor: v.optional(v.number()),
    durationMinutes: v.optional(v.number()),
    pricing: v.optional(vExtraPricing),
    maxQuantity: v.optional(v.number()),
    productIds: v.optional(v.array(v.id("products"))),
    active: v.optional(v.boolean()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { doc } = await requireDocRole(ctx, await ctx.db.get("extras", args.extraId), "manager", "extraId", "Extra not found.");
    const patch: Partial<Doc<"extras">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.priceMinor !== undefined) patch.priceMinor = price(args.priceMinor, "priceMinor");
    if (args.durationMinutes !== undefined) patch.durationMinutes = duration(args.durationMinutes, "durationMinutes");
    if (args.pricing !== undefined) patch.pricing = args.pricing;
    if (args.maxQuantity !== undefined) patch.maxQuantity = requireInt(args.maxQuantity, "maxQuantity", 1, 1000);
    if ((patch.pricing ?? doc.pricing) === "flat" && (patch.maxQuantity ?? doc.maxQuantity) !== 1) {
      throw invalid("maxQuantity", "A flat extra is taken once: maxQuantity must be 1.");
    }
    if (args.productIds !== undefined) {
      const industry = (await ctx.db.get("industries", doc.industryId))!;
      patch.productIds = await productsOfIndustry(ctx, industry, args.productIds);
    }
    if (args.active !== undefined) patch.active = args.active;
    await ctx.db.patch("extras", doc._id, patch);
    await catalogueEvent(ctx, doc.businessId, "extras", doc._id, "updated");
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

const vPublicProduct = v.object({
  _id: v.id("products"),
  name: v.string(),
  description: v.optional(v.string()),
  priceMinor: v.number(),
  durationMinutes: v.number(),
  quantity: vQuantity,
  sortOrder: v.number(),
});
const vPublicExtra = v.object({
  _id: v.id("extras"),
  name: v.string(),
  priceMinor: v.number(),
  durationMinutes: v.number(),
  pricing: vExtraPricing,
  maxQuantity: v.number(),
  productIds: v.array(v.id("products")),
});
const vPublicCatalogue = v.object({
  currency: v.string(),
  industries: v.array(
    v.object({
      _id: v.id("industries"),
      name: v.string(),
      slug: v.string(),
      description: v.optional(v.string()),
      categories: v.array(v.object({ _id: v.id("categories"), name: v.string(), products: v.array(vPublicProduct) })),
      extras: v.array(vPublicExtra),
    }),
  ),
});

/** The active catalogue of an ACTIVE business (public); its staff also see it before launch. */
export const forBusiness = query({
  args: { businessId: v.id("businesses") },
  returns: vPublicCatalogue,
  handler: async (ctx, { businessId }) => {
    const business = await getBusinessOrThrow(ctx, businessId);
    if (business.status !== "ACTIVE") {
      const access = await accessTo(ctx, businessId);
      if (access === null || access.role === "customer") throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
    }
    const industries = (
      await ctx.db
        .query("industries")
        .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
        .take(MAX_INDUSTRIES)
    ).filter((i) => i.active);
    const result = [];
    for (const industry of industries) {
      const categories = await ctx.db
        .query("categories")
        .withIndex("by_industryId", (q) => q.eq("industryId", industry._id))
        .take(MAX_CATEGORIES);
      const products = (
        await ctx.db
          .query("products")
          .withIndex("by_industryId", (q) => q.eq("industryId", industry._id))
          .take(MAX_PRODUCTS)
      ).filter((p) => p.active);
      const extras = (
        await ctx.db
          .query("extras")
          .withIndex("by_industryId", (q) => q.eq("industryId", industry._id))
          .take(MAX_EXTRAS)
      ).filter((e) => e.active);
      const activeIds = new Set(products.map((p) => p._id));
      result.push({
        _id: industry._id,
        name: industry.name,
        slug: industry.slug,
        description: industry.description,
        categories: categories
          .sort((a, b) => a.sortOrder - b.sortOrder || a.name.localeCompare(b.name))
          .map((c) => ({
            _id: c._id,
            name: c.name,
            products: products
              .filter((p) => p.categoryId === c._id)
              .sort((a, b) => a.sortOrder - b.sortOrder || a.name.localeCompare(b.name))
              .map((p) => ({
                _id: p._id,
                name: p.name,
                description: p.description,
                priceMinor: p.priceMinor,
                durationMinutes: p.durationMinutes,
                quantity: p.quantity,
                sortOrder: p.sortOrder,
              })),
          }))
          .filter((c) => c.products.length > 0),
        extras: extras
          // An extra limited to products that are all inactive is not offered.
          .filter((e) => e.productIds.length === 0 || e.productIds.some((id) => activeIds.has(id)))
          .map((e) => ({
            _id: e._id,
            name: e.name,
            priceMinor: e.priceMinor,
            durationMinutes: e.durationMinutes,
            pricing: e.pricing,
            maxQuantity: e.maxQuantity,
            productIds: e.productIds.filter((id) => activeIds.has(id)),
          })),
      });
    }
    return { currency: business.currency, industries: result };
  },
});

/** Everything, active or not, as flat lists (staff and platform admins). */
export const manage = query({
  args: { businessId: v.id("businesses") },
  handler: async (ctx, { businessId }) => {
    await requireStaffOrAdmin(ctx, businessId);
    return {
      industries: await ctx.db.query("industries").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(MAX_INDUSTRIES),
      categories: await ctx.db.query("categories").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(MAX_CATEGORIES),
      products: await ctx.db.query("products").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(MAX_PRODUCTS),
      extras: await ctx.db.query("extras").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(MAX_EXTRAS),
    };
  },
});
