/**
 * Tenant scoping for the API's internal functions: every document an API call names by id is
 * loaded through `ownDoc`, which answers NOT_FOUND for malformed ids, missing documents and
 * other businesses' documents alike (never FORBIDDEN: ids of other tenants leak nothing).
 *
 * Plain module: no registered functions.
 */
import { v } from "convex/values";
import type { Doc, Id, TableNames } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { appError } from "../errors";
import type { Actor } from "../schema";

type TenantTable = {
  [T in TableNames]: Doc<T> extends { businessId: Id<"businesses"> } ? T : never;
}[TableNames];

/** Arguments every API internal function receives: who is calling, for which business. */
export const vApiCaller = { businessId: v.id("businesses"), apiKeyId: v.id("apiKeys") };

export function apiActor(apiKeyId: Id<"apiKeys">): Actor {
  return { role: "api", apiKeyId };
}

const NAMES: Partial<Record<TableNames, string>> = {
  customers: "Customer",
  customerAddresses: "Address",
  zones: "Zone",
  industries: "Industry",
  categories: "Category",
  products: "Product",
  extras: "Extra",
  resources: "Resource",
  bookings: "Booking",
  invoices: "Invoice",
  refunds: "Refund",
  webhookEndpoints: "Webhook endpoint",
  events: "Event",
};

export function notFound(table: TableNames, param: string) {
  return appError("NOT_FOUND", `${NAMES[table] ?? "Object"} not found.`, { param });
}

/** The document of this business with this id, or NOT_FOUND naming `param`. */
export async function ownDoc<T extends TenantTable>(
  ctx: Pick<QueryCtx, "db">,
  table: T,
  businessId: Id<"businesses">,
  id: string,
  param: string,
): Promise<Doc<T>> {
  const normalized = ctx.db.normalizeId(table, id);
  const doc = normalized === null ? null : ((await ctx.db.get(table, normalized)) as Doc<T> | null);
  if (doc === null || (doc as unknown as { businessId: Id<"businesses"> }).businessId !== businessId) throw notFound(table, param);
  return doc;
}

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
