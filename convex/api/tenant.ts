/**
 * Tenant scoping for the API's internal functions: every document an API call names by id is
 * loaded through `ownDoc`, which answers NOT_FOUND for malformed ids, missing documents and
 * other businesses' documents alike (never FORBIDDEN: ids of other tenants leak nothing).
 *
 * Plain module: no registered functions.
 */
import { v } from "convex/values";
import type { Id } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { loadInBusiness, notFoundError, type TenantTable } from "../model/actor";
import type { Actor } from "../schema";

/** Arguments every API internal function receives: who is calling, for which business. */
export const vApiCaller = { businessId: v.id("businesses"), apiKeyId: v.id("apiKeys") };

export function apiActor(apiKeyId: Id<"apiKeys">): Actor {
  return { role: "api", apiKeyId };
}

/** NOT_FOUND naming `param` ("Zone not found."). One wording, shared with the commands. */
export const notFound = notFoundError;

/** The document of this business with this id, or NOT_FOUND naming `param`. */
export const ownDoc = loadInBusiness;

/** Ids of this business's documents (each checked), in order. */
export async function ownIds<T extends TenantTable>(
  ctx: Pick<QueryCtx, "db">,
  table: T,
  businessId: Id<"businesses">,
  ids: string[],
  param: string,
): Promise<Id<T>[]> {
  const out: Id<T>[] = [];
  for (const [i, id] of ids.entries()) out.push((await ownDoc(ctx, table, businessId, id, `${param}[${i}]`))._id as Id<T>);
  return out;
}
