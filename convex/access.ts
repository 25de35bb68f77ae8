/**
 * Who may do what, for which business. Roles come from the database (memberships, customer
 * records, the platform-admin flag), never from arguments or token claims.
 *
 * Role ladder inside a business: owner > manager (dispatcher) > staff; customers are a
 * separate kind of access limited to their own records. A platform admin may read every
 * business and change its status, but acts as no business's staff.
 */
import type { Doc, Id } from "./_generated/dataModel";
import type { QueryCtx as RawQueryCtx } from "./_generated/server";
import { appError } from "./errors";
import type { Viewer } from "./functions";

export type BusinessRole = "owner" | "manager" | "staff";
export type Role = BusinessRole | "customer" | "platform_admin";

type Ctx = RawQueryCtx & { viewer: Viewer | null };

export type Access =
  | { role: BusinessRole; user: Doc<"users">; business: Doc<"businesses">; membership: Doc<"memberships"> }
  | { role: "customer"; user: Doc<"users">; business: Doc<"businesses">; customer: Doc<"customers"> }
  | { role: "platform_admin"; user: Doc<"users">; business: Doc<"businesses"> };

const rank: Record<BusinessRole, number> = { staff: 1, manager: 2, owner: 3 };

export function requireViewer(ctx: Ctx): Viewer {
  if (ctx.viewer === null) throw appError("UNAUTHENTICATED", "Sign in to continue.");
  return ctx.viewer;
}

/** The viewer's user record; throws when signed in but not yet stored (`users:store`). */
export function requireUser(ctx: Ctx): Doc<"users"> {
  const viewer = requireViewer(ctx);
  if (viewer.user === null) throw appError("UNAUTHENTICATED", "Your account is not set up yet: call users:store first.");
  return viewer.user;
}

export function requirePlatformAdmin(ctx: Ctx): Doc<"users"> {
  const user = requireUser(ctx);
  if (!user.isPlatformAdmin) throw appError("FORBIDDEN", "Only platform admins can do this.");
  return user;
}

/** Loads a business the viewer may see; NOT_FOUND (never FORBIDDEN) for others' businesses. */
export async function getBusinessOrThrow(ctx: RawQueryCtx, businessId: Id<"businesses">) {
  const business = await ctx.db.get("businesses", businessId);
  if (business === null || business.status === "DELETED") throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
  return business;
}

export async function membershipOf(ctx: RawQueryCtx, businessId: Id<"businesses">, userId: Id<"users">) {
  return await ctx.db
    .query("memberships")
    .withIndex("by_businessId_and_userId", (q) => q.eq("businessId", businessId).eq("userId", userId))
    .unique();
}

/** Most businesses one person can be a customer of that this lookup scans (see the note in the report). */
const MAX_CUSTOMER_RECORDS_PER_USER = 500;

export async function customerRecordOf(ctx: RawQueryCtx, businessId: Id<"businesses">, userId: Id<"users">) {
  const records = await ctx.db
    .query("customers")
    .withIndex("by_userId", (q) => q.eq("userId", userId))
    .take(MAX_CUSTOMER_RECORDS_PER_USER);
  return records.find((c) => c.businessId === businessId) ?? null;
}

/** The viewer's access to a business, or null when they have none. */
export async function accessTo(ctx: Ctx, businessId: Id<"businesses">): Promise<Access | null> {
  const user = ctx.viewer?.user;
  if (!user) return null;
  const business = await ctx.db.get("businesses", businessId);
  if (business === null || business.status === "DELETED") return null;
  const membership = await membershipOf(ctx, businessId, user._id);
  if (membership) return { role: membership.role, user, business, membership };
  const customer = await customerRecordOf(ctx, businessId, user._id);
  if (customer) return { role: "customer", user, business, customer };
  if (user.isPlatformAdmin) return { role: "platform_admin", user, business };
  return null;
}

/**
 * Requires staff access of at least `minimum` to the business. Outsiders get NOT_FOUND so
 * that ids of other tenants leak nothing; insiders with too little rank get FORBIDDEN.
 */
export async function requireBusinessRole(
  ctx: Ctx,
  businessId: Id<"businesses">,
  minimum: BusinessRole,
  notFound: { param: string; message: string } = { param: "businessId", message: "Business not found." },
) {
  requireUser(ctx);
  const access = await accessTo(ctx, businessId);
  if (access === null) throw appError("NOT_FOUND", notFound.message, { param: notFound.param });
  if (access.role === "customer" || access.role === "platform_admin") {
    throw appError("FORBIDDEN", `This needs the ${minimum} role in the business.`);
  }
  if (rank[access.role] < rank[minimum]) throw appError("FORBIDDEN", `This needs the ${minimum} role in the business.`);
  return access as Extract<Access, { role: BusinessRole }>;
}

/**
 * Loads a tenant-owned document by id and requires `minimum` staff role in its business.
 * A missing document and another tenant's document both give NOT_FOUND naming `param`.
 */
export async function requireDocRole<T extends { businessId: Id<"businesses"> }>(
  ctx: Ctx,
  doc: T | null,
  minimum: BusinessRole,
  param: string,
  what = "Not found.",
) {
  requireUser(ctx);
  if (doc === null) throw appError("NOT_FOUND", what, { param });
  const access = await requireBusinessRole(ctx, doc.businessId, minimum, { param, message: what });
  return { doc, access };
}

/** Staff of the business, or the platform admin (read-only oversight). */
export async function requireStaffOrAdmin(ctx: Ctx, businessId: Id<"businesses">) {
  requireUser(ctx);
  const access = await accessTo(ctx, businessId);
  if (access === null || access.role === "customer") throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
  return access;
}

/** Any access (staff, customer, admin). */
export async function requireAnyAccess(ctx: Ctx, businessId: Id<"businesses">) {
  requireUser(ctx);
  const access = await accessTo(ctx, businessId);
  if (access === null) throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
  return access;
}

/**
 * Access to one customer's records: the customer themself, or staff (manager and up, or
 * staff when `allowStaff`) of the customer's business.
 */
export async function requireCustomerAccess(
  ctx: Ctx,
  customerId: Id<"customers">,
  options: { minimumStaffRole?: BusinessRole } = {},
) {
  const user = requireUser(ctx);
  const customer = await ctx.db.get("customers", customerId);
  if (customer === null) throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
  if (customer.userId === user._id) {
    const business = await ctx.db.get("businesses", customer.businessId);
    if (business === null || business.status === "DELETED") throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
    return { customer, role: "customer" as const };
  }
  const access = await accessTo(ctx, customer.businessId);
  const minimum = options.minimumStaffRole ?? "staff";
  if (access === null || access.role === "customer" || access.role === "platform_admin" || rank[access.role] < rank[minimum]) {
    throw appError("NOT_FOUND", "Customer not found.", { param: "customerId" });
  }
  return { customer, role: access.role };
}

export function isStaffRole(role: Role): role is BusinessRole {
  return role === "owner" || role === "manager" || role === "staff";
}

export function atLeast(role: Role, minimum: BusinessRole): boolean {
  return isStaffRole(role) && rank[role] >= rank[minimum];
}
