/**
 * Search boxes of the platform (see model/search.ts for how text is matched):
 * - `customers`: staff (staff and up) of a business look its customers up by name, email or
 *   phone, in the CRM and on the dispatch board;
 * - `catalogue`: anyone who may see a business's catalogue searches its active services by
 *   name in the booking portal (as `catalogue.forBusiness`: public for an ACTIVE business,
 *   staff only otherwise).
 */
import { v } from "convex/values";
import { accessTo, getBusinessOrThrow, requireBusinessRole } from "./access";
import { appError } from "./errors";
import { query } from "./functions";
import { searchCustomers, searchProducts } from "./model/search";

const vCustomerHit = v.object({
  _id: v.id("customers"),
  name: v.string(),
  email: v.union(v.string(), v.null()),
  phone: v.union(v.string(), v.null()),
  tags: v.array(v.string()),
});

export const customers = query({
  args: { businessId: v.id("businesses"), text: v.string(), limit: v.optional(v.number()) },
  returns: v.array(vCustomerHit),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "staff");
    const found = await searchCustomers(ctx, args.businessId, args.text, args.limit);
    return found.map((c) => ({ _id: c._id, name: c.name, email: c.email ?? null, phone: c.phone ?? null, tags: c.tags }));
  },
});

export const catalogue = query({
  args: { businessId: v.id("businesses"), text: v.string(), limit: v.optional(v.number()) },
  returns: v.array(v.object({ _id: v.id("products"), name: v.string(), industryId: v.id("industries"), categoryId: v.id("categories") })),
  handler: async (ctx, args) => {
    const business = await getBusinessOrThrow(ctx, args.businessId);
    if (business.status !== "ACTIVE") {
      const access = await accessTo(ctx, args.businessId);
      if (access === null || access.role === "customer") throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
    }
    const found = await searchProducts(ctx, args.businessId, args.text, args.limit);
    return found.map((p) => ({ _id: p._id, name: p.name, industryId: p.industryId, categoryId: p.categoryId }));
  },
});
