/**
 * Text searches of the platform over Convex search indexes (schema.ts `searchIndex`):
 * customers by name, email or phone within one business, and a business's active
 * catalogue. Results come in Convex's relevance order (best match first; ties newest first).
 * Callers check who is asking; these only read.
 */
import { customerSearchOf, mergeById, MAX_SEARCH_TEXT } from "../../domain/search";
import type { Doc, Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { invalid } from "./validation";

export const MAX_SEARCH_RESULTS = 25;

function searchText(text: string): string {
  if (text.length > MAX_SEARCH_TEXT) throw invalid("text", `text must be at most ${MAX_SEARCH_TEXT} characters.`);
  return text;
}

function resultLimit(limit: number | undefined): number {
  if (limit === undefined) return 10;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SEARCH_RESULTS) {
    throw invalid("limit", `limit must be an integer between 1 and ${MAX_SEARCH_RESULTS}.`);
  }
  return limit;
}

async function customersByName(ctx: QueryCtx, businessId: Id<"businesses">, text: string, limit: number) {
  return await ctx.db
    .query("customers")
    .withSearchIndex("search_name", (q) => q.search("name", text).eq("businessId", businessId))
    .take(limit);
}

/** Every string starting with `prefix` sorts in [prefix, prefix + U+FFFF) (emails and phones are ASCII). */
const prefixEnd = (prefix: string) => `${prefix}\uffff`;

async function customersByEmailPrefix(ctx: QueryCtx, businessId: Id<"businesses">, text: string, limit: number) {
  const prefix = text.trim().toLowerCase();
  return await ctx.db
    .query("customers")
    .withIndex("by_businessId_and_email", (q) => q.eq("businessId", businessId).gte("email", prefix).lt("email", prefixEnd(prefix)))
    .take(limit);
}

async function customersByPhonePrefix(ctx: QueryCtx, businessId: Id<"businesses">, phone: string, limit: number) {
  return await ctx.db
    .query("customers")
    .withIndex("by_businessId_and_phone", (q) => q.eq("businessId", businessId).gte("phone", phone).lt("phone", prefixEnd(phone)))
    .take(limit);
}

/**
 * Customers of one business matching `text`: a name by text search (any word, the last one
 * as a prefix: "jan" and "doe" both find "Jane Doe"); an email or a phone number from its
 * start. Email and phone are optional fields, and convex-test 0.0.60's search crashes on a
 * document without the search field, so they are matched through ordinary index ranges;
 * Convex itself would accept a search index on them.
 */
export async function searchCustomers(
  ctx: QueryCtx,
  businessId: Id<"businesses">,
  text: string,
  limit?: number,
): Promise<Doc<"customers">[]> {
  const wanted = resultLimit(limit);
  const search = customerSearchOf(searchText(text));
  switch (search.kind) {
    case "none":
      return [];
    case "phone":
      return await customersByPhonePrefix(ctx, businessId, search.text, wanted);
    case "email":
      return await customersByEmailPrefix(ctx, businessId, search.text, wanted);
    case "name": {
      const byName = await customersByName(ctx, businessId, search.text, wanted);
      const byEmail = await customersByEmailPrefix(ctx, businessId, search.text, wanted);
      return mergeById([byName, byEmail], wanted);
    }
  }
}

/** Active products of one business whose name matches `text`. */
export async function searchProducts(
  ctx: QueryCtx,
  businessId: Id<"businesses">,
  text: string,
  limit?: number,
): Promise<Doc<"products">[]> {
  const wanted = resultLimit(limit);
  const query = searchText(text).trim();
  if (query === "") return [];
  return await ctx.db
    .query("products")
    .withSearchIndex("search_name", (q) => q.search("name", query).eq("businessId", businessId).eq("active", true))
    .take(wanted);
}
