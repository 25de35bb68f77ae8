/**
 * The catalogue, the portal's door: industries → categories → products, plus extras per
 * industry. Public read (`forBusiness`) shows the active catalogue of an ACTIVE business;
 * writes are manager and up. Every change is a command of `model/catalogueCommands.ts`
 * (shared with the REST API's `api/internalCatalogue.ts`); these functions say who is
 * calling and present the result.
 *
 * Products, extras and industries are referenced by bookings and resources, so they are
 * deactivated (`active: false`), never deleted; a category can be removed only while it
 * holds no product.
 */
import { v } from "convex/values";
import { accessTo, getBusinessOrThrow, requireStaffOrAdmin } from "./access";
import { appError } from "./errors";
import { mutation, query } from "./functions";
import { userActor } from "./model/actor";
import { CATALOGUE_CAPS, vExtraPricing, vQuantity } from "./model/catalogue";
import * as fields from "./model/catalogue";
import * as commands from "./model/catalogueCommands";

// ---------------------------------------------------------------------------------------
// Industries
// ---------------------------------------------------------------------------------------

export const createIndustry = mutation({
  args: { businessId: v.id("businesses"), ...fields.industryFields },
  returns: v.id("industries"),
  handler: async (ctx, { businessId, ...input }) => (await commands.createIndustry(ctx, userActor(ctx), businessId, input))._id,
});

export const updateIndustry = mutation({
  args: { industryId: v.id("industries"), ...fields.industryPatchFields },
  returns: v.null(),
  handler: async (ctx, { industryId, ...input }) => {
    await commands.updateIndustry(ctx, userActor(ctx), industryId, input);
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Categories
// ---------------------------------------------------------------------------------------

export const createCategory = mutation({
  args: { industryId: v.id("industries"), ...fields.categoryFields },
  returns: v.id("categories"),
  handler: async (ctx, { industryId, ...input }) => (await commands.createCategory(ctx, userActor(ctx), industryId, input))._id,
});

export const updateCategory = mutation({
  args: { categoryId: v.id("categories"), ...fields.categoryPatchFields },
  returns: v.null(),
  handler: async (ctx, { categoryId, ...input }) => {
    await commands.updateCategory(ctx, userActor(ctx), categoryId, input);
    return null;
  },
});

/** Removes an empty category; one that holds products (active or not) is refused. */
export const removeCategory = mutation({
  args: { categoryId: v.id("categories") },
  returns: v.null(),
  handler: async (ctx, { categoryId }) => {
    await commands.removeCategory(ctx, userActor(ctx), categoryId);
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------

export const createProduct = mutation({
  args: { categoryId: v.id("categories"), ...fields.productFields },
  returns: v.id("products"),
  handler: async (ctx, { categoryId, ...input }) => (await commands.createProduct(ctx, userActor(ctx), categoryId, input))._id,
});

/** Changes the given fields; `active: false` retires a product (it is never deleted). */
export const updateProduct = mutation({
  args: { productId: v.id("products"), categoryId: v.optional(v.id("categories")), ...fields.productPatchFields },
  returns: v.null(),
  handler: async (ctx, { productId, ...input }) => {
    await commands.updateProduct(ctx, userActor(ctx), productId, input);
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Extras
// ---------------------------------------------------------------------------------------

export const createExtra = mutation({
  args: { industryId: v.id("industries"), ...fields.extraFields, productIds: v.array(v.id("products")) },
  returns: v.id("extras"),
  handler: async (ctx, { industryId, ...input }) => (await commands.createExtra(ctx, userActor(ctx), industryId, input))._id,
});

export const updateExtra = mutation({
  args: { extraId: v.id("extras"), ...fields.extraPatchFields, productIds: v.optional(v.array(v.id("products"))) },
  returns: v.null(),
  handler: async (ctx, { extraId, ...input }) => {
    await commands.updateExtra(ctx, userActor(ctx), extraId, input);
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
        .take(CATALOGUE_CAPS.industries)
    ).filter((i) => i.active);
    const result = [];
    for (const industry of industries) {
      const categories = await ctx.db
        .query("categories")
        .withIndex("by_industryId", (q) => q.eq("industryId", industry._id))
        .take(CATALOGUE_CAPS.categories);
      const products = (
        await ctx.db
          .query("products")
          .withIndex("by_industryId", (q) => q.eq("industryId", industry._id))
          .take(CATALOGUE_CAPS.products)
      ).filter((p) => p.active);
      const extras = (
        await ctx.db
          .query("extras")
          .withIndex("by_industryId", (q) => q.eq("industryId", industry._id))
          .take(CATALOGUE_CAPS.extras)
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
      industries: await ctx.db.query("industries").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(CATALOGUE_CAPS.industries),
      categories: await ctx.db.query("categories").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(CATALOGUE_CAPS.categories),
      products: await ctx.db.query("products").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(CATALOGUE_CAPS.products),
      extras: await ctx.db.query("extras").withIndex("by_businessId", (q) => q.eq("businessId", businessId)).take(CATALOGUE_CAPS.extras),
    };
  },
});
