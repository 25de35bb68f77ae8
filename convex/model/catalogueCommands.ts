/**
 * Catalogue commands (industries → categories → products, extras per industry): one body
 * each for the portal's `catalogue.ts` and the REST API's `api/internalCatalogue.ts`. Each
 * takes an explicit actor (managers and up; API keys with `catalogue:write`), validates,
 * writes and emits `catalogue.updated`.
 *
 * Products, extras and industries are referenced by bookings (cart lines and frozen booked
 * items) and resources, so they are deactivated (`active: false`), never deleted; a category
 * can be removed only while it holds no product.
 *
 * Plain module: no registered functions.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { appError } from "../errors";
import { authorize, loadAuthorized, loadInBusiness, type CommandActor, type Permission } from "./actor";
import {
  CATALOGUE_CAPS,
  requireDuration,
  requireFlatTakenOnce,
  requireMaxQuantity,
  requirePrice,
  requireSortOrder,
  validateQuantity,
  type CatalogueTable,
} from "./catalogue";
import { emitEvent } from "./events";
import { invalid, optionalText, requireDistinct, requireSlug, requireText, slugify } from "./validation";

const MANAGE_CATALOGUE: Permission = { role: "manager", scope: { resource: "catalogue", access: "write" } };

async function catalogueEvent(ctx: MutationCtx, businessId: Id<"businesses">, table: CatalogueTable, id: string, action: "created" | "updated" | "removed") {
  await emitEvent(ctx, { businessId, type: "catalogue.updated", entity: { table, id }, data: { table, id, action }, rooms: [] });
}

async function requireRoomFor(ctx: MutationCtx, table: CatalogueTable, businessId: Id<"businesses">) {
  const rows = await ctx.db
    .query(table)
    .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
    .take(CATALOGUE_CAPS[table]);
  if (rows.length >= CATALOGUE_CAPS[table]) throw appError("CONFLICT", `At most ${CATALOGUE_CAPS[table]} ${table} per business.`);
}

async function requireUniqueIndustrySlug(ctx: MutationCtx, businessId: Id<"businesses">, slug: string, self?: Id<"industries">) {
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
    const product = await loadInBusiness(ctx, "products", industry.businessId, id, `productIds[${i}]`);
    if (product.industryId !== industry._id) throw appError("NOT_FOUND", "No such product in this industry.", { param: `productIds[${i}]` });
    out.push(product._id);
  }
  return out;
}

async function reload<T extends CatalogueTable>(ctx: MutationCtx, table: T, id: Id<T>) {
  return (await ctx.db.get(table, id))!;
}

// ---------------------------------------------------------------------------------------
// Industries
// ---------------------------------------------------------------------------------------

export async function createIndustry(
  ctx: MutationCtx,
  actor: CommandActor,
  businessId: Id<"businesses">,
  input: { name: string; slug?: string; description?: string },
) {
  await authorize(ctx, actor, businessId, MANAGE_CATALOGUE);
  const name = requireText(input.name, "name", 120);
  const slug = input.slug === undefined ? slugify(name) : requireSlug(input.slug);
  const description = optionalText(input.description, "description", 2000);
  await requireUniqueIndustrySlug(ctx, businessId, slug);
  await requireRoomFor(ctx, "industries", businessId);
  const id = await ctx.db.insert("industries", { businessId, name, slug, description, active: true });
  await catalogueEvent(ctx, businessId, "industries", id, "created");
  return await reload(ctx, "industries", id);
}

export async function updateIndustry(
  ctx: MutationCtx,
  actor: CommandActor,
  industryId: string,
  input: { name?: string; slug?: string; description?: string; active?: boolean },
) {
  const { doc } = await loadAuthorized(ctx, actor, "industries", industryId, "industryId", MANAGE_CATALOGUE);
  const patch: Partial<Doc<"industries">> = {};
  if (input.name !== undefined) patch.name = requireText(input.name, "name", 120);
  if (input.slug !== undefined) {
    patch.slug = requireSlug(input.slug);
    await requireUniqueIndustrySlug(ctx, doc.businessId, patch.slug, doc._id);
  }
  if (input.description !== undefined) patch.description = optionalText(input.description, "description", 2000);
  if (input.active !== undefined) patch.active = input.active;
  await ctx.db.patch("industries", doc._id, patch);
  await catalogueEvent(ctx, doc.businessId, "industries", doc._id, "updated");
  return await reload(ctx, "industries", doc._id);
}

// ---------------------------------------------------------------------------------------
// Categories
// ---------------------------------------------------------------------------------------

export async function createCategory(ctx: MutationCtx, actor: CommandActor, industryId: string, input: { name: string; sortOrder?: number }) {
  const { doc: industry } = await loadAuthorized(ctx, actor, "industries", industryId, "industryId", MANAGE_CATALOGUE);
  const name = requireText(input.name, "name", 120);
  const sortOrder = requireSortOrder(input.sortOrder ?? 0);
  await requireRoomFor(ctx, "categories", industry.businessId);
  const id = await ctx.db.insert("categories", { businessId: industry.businessId, industryId: industry._id, name, sortOrder });
  await catalogueEvent(ctx, industry.businessId, "categories", id, "created");
  return await reload(ctx, "categories", id);
}

export async function updateCategory(ctx: MutationCtx, actor: CommandActor, categoryId: string, input: { name?: string; sortOrder?: number }) {
  const { doc } = await loadAuthorized(ctx, actor, "categories", categoryId, "categoryId", MANAGE_CATALOGUE);
  const patch: Partial<Doc<"categories">> = {};
  if (input.name !== undefined) patch.name = requireText(input.name, "name", 120);
  if (input.sortOrder !== undefined) patch.sortOrder = requireSortOrder(input.sortOrder);
  await ctx.db.patch("categories", doc._id, patch);
  await catalogueEvent(ctx, doc.businessId, "categories", doc._id, "updated");
  return await reload(ctx, "categories", doc._id);
}

/** Removes an empty category; one that holds products (active or not) is refused. */
export async function removeCategory(ctx: MutationCtx, actor: CommandActor, categoryId: string) {
  const { doc } = await loadAuthorized(ctx, actor, "categories", categoryId, "categoryId", MANAGE_CATALOGUE);
  const product = await ctx.db
    .query("products")
    .withIndex("by_categoryId", (q) => q.eq("categoryId", doc._id))
    .first();
  if (product !== null) {
    throw appError("CONFLICT", "Move or deactivate this category's products first: it is not empty.", { param: "categoryId" });
  }
  await ctx.db.delete("categories", doc._id);
  await catalogueEvent(ctx, doc.businessId, "categories", doc._id, "removed");
  return doc;
}

// ---------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------

type ProductFields = Pick<Doc<"products">, "name" | "description" | "priceMinor" | "durationMinutes" | "quantity"> & { sortOrder?: number };

export async function createProduct(ctx: MutationCtx, actor: CommandActor, categoryId: string, input: ProductFields) {
  const { doc: category } = await loadAuthorized(ctx, actor, "categories", categoryId, "categoryId", MANAGE_CATALOGUE);
  const fields = {
    name: requireText(input.name, "name", 120),
    description: optionalText(input.description, "description", 4000),
    priceMinor: requirePrice(input.priceMinor, "priceMinor"),
    durationMinutes: requireDuration(input.durationMinutes, "durationMinutes", 1),
    quantity: validateQuantity(input.quantity),
    sortOrder: requireSortOrder(input.sortOrder ?? 0),
  };
  await requireRoomFor(ctx, "products", category.businessId);
  const id = await ctx.db.insert("products", {
    businessId: category.businessId,
    industryId: category.industryId,
    categoryId: category._id,
    ...fields,
    active: true,
  });
  await catalogueEvent(ctx, category.businessId, "products", id, "created");
  return await reload(ctx, "products", id);
}

/** Changes the given fields; `active: false` retires a product (it is never deleted). */
export async function updateProduct(
  ctx: MutationCtx,
  actor: CommandActor,
  productId: string,
  input: Partial<ProductFields> & { categoryId?: string; active?: boolean },
) {
  const { doc } = await loadAuthorized(ctx, actor, "products", productId, "productId", MANAGE_CATALOGUE);
  const patch: Partial<Doc<"products">> = {};
  if (input.categoryId !== undefined) {
    const category = await loadInBusiness(ctx, "categories", doc.businessId, input.categoryId, "categoryId");
    if (category.industryId !== doc.industryId) throw invalid("categoryId", "A product stays in its industry.");
    patch.categoryId = category._id;
  }
  if (input.name !== undefined) patch.name = requireText(input.name, "name", 120);
  if (input.description !== undefined) patch.description = optionalText(input.description, "description", 4000);
  if (input.priceMinor !== undefined) patch.priceMinor = requirePrice(input.priceMinor, "priceMinor");
  if (input.durationMinutes !== undefined) patch.durationMinutes = requireDuration(input.durationMinutes, "durationMinutes", 1);
  if (input.quantity !== undefined) patch.quantity = validateQuantity(input.quantity);
  if (input.sortOrder !== undefined) patch.sortOrder = requireSortOrder(input.sortOrder);
  if (input.active !== undefined) patch.active = input.active;
  await ctx.db.patch("products", doc._id, patch);
  await catalogueEvent(ctx, doc.businessId, "products", doc._id, "updated");
  return await reload(ctx, "products", doc._id);
}

// ---------------------------------------------------------------------------------------
// Extras
// ---------------------------------------------------------------------------------------

type ExtraFields = Pick<Doc<"extras">, "name" | "priceMinor" | "durationMinutes" | "pricing" | "maxQuantity"> & { productIds: string[] };

export async function createExtra(ctx: MutationCtx, actor: CommandActor, industryId: string, input: ExtraFields) {
  const { doc: industry } = await loadAuthorized(ctx, actor, "industries", industryId, "industryId", MANAGE_CATALOGUE);
  const name = requireText(input.name, "name", 120);
  const priceMinor = requirePrice(input.priceMinor, "priceMinor");
  const durationMinutes = requireDuration(input.durationMinutes, "durationMinutes");
  const maxQuantity = requireMaxQuantity(input.maxQuantity);
  requireFlatTakenOnce(input.pricing, maxQuantity);
  const productIds = await productsOfIndustry(ctx, industry, input.productIds);
  await requireRoomFor(ctx, "extras", industry.businessId);
  const id = await ctx.db.insert("extras", {
    businessId: industry.businessId,
    industryId: industry._id,
    name,
    priceMinor,
    durationMinutes,
    pricing: input.pricing,
    maxQuantity,
    productIds,
    active: true,
  });
  await catalogueEvent(ctx, industry.businessId, "extras", id, "created");
  return await reload(ctx, "extras", id);
}

export async function updateExtra(ctx: MutationCtx, actor: CommandActor, extraId: string, input: Partial<ExtraFields> & { active?: boolean }) {
  const { doc } = await loadAuthorized(ctx, actor, "extras", extraId, "extraId", MANAGE_CATALOGUE);
  const patch: Partial<Doc<"extras">> = {};
  if (input.name !== undefined) patch.name = requireText(input.name, "name", 120);
  if (input.priceMinor !== undefined) patch.priceMinor = requirePrice(input.priceMinor, "priceMinor");
  if (input.durationMinutes !== undefined) patch.durationMinutes = requireDuration(input.durationMinutes, "durationMinutes");
  if (input.pricing !== undefined) patch.pricing = input.pricing;
  if (input.maxQuantity !== undefined) patch.maxQuantity = requireMaxQuantity(input.maxQuantity);
  requireFlatTakenOnce(patch.pricing ?? doc.pricing, patch.maxQuantity ?? doc.maxQuantity);
  if (input.productIds !== undefined) {
    const industry = (await ctx.db.get("industries", doc.industryId))!;
    patch.productIds = await productsOfIndustry(ctx, industry, input.productIds);
  }
  if (input.active !== undefined) patch.active = input.active;
  await ctx.db.patch("extras", doc._id, patch);
  await catalogueEvent(ctx, doc.businessId, "extras", doc._id, "updated");
  return await reload(ctx, "extras", doc._id);
}
