/**
 * Who is running a command. Every command in `convex/model/` takes an explicit actor and
 * checks, itself, that the actor may act for the business of the documents it touches; the
 * adapters (portal Convex functions, REST internal functions, the scheduler) only say who is
 * calling:
 *
 * - a signed-in person (`userActor(ctx)`): their role comes from the database (membership,
 *   customer record) through `access.ts`;
 * - an API key (`apiKeyActor(ctx, caller)`): bound to one business, allowed by its scopes;
 * - the platform itself (`SYSTEM`): crons, webhooks from payment providers, migrations.
 *
 * Outsiders (another business's key or staff, a malformed or unknown id) get NOT_FOUND naming
 * the argument, never FORBIDDEN: ids of other tenants leak nothing. Insiders without the
 * rank or scope get FORBIDDEN.
 *
 * Plain module: no registered functions.
 */
import type { Doc, Id, TableNames } from "../_generated/dataModel";
import type { QueryCtx as RawQueryCtx } from "../_generated/server";
import { requireBusinessRole, requireUser, type Access, type BusinessRole } from "../access";
import { hasScope, type ApiScope } from "../api/apiKeyFormat";
import { appError } from "../errors";
import type { Viewer } from "../functions";
import type { Actor as RecordedActor } from "../schema";

export type UserActor = { kind: "user"; viewer: Viewer & { user: Doc<"users"> } };
export type ApiKeyActor = { kind: "api_key"; apiKeyId: Id<"apiKeys">; businessId: Id<"businesses">; scopes: ApiScope[] };
export type SystemActor = { kind: "system" };
export type CommandActor = UserActor | ApiKeyActor | SystemActor;

export const SYSTEM: SystemActor = { kind: "system" };

type ViewerCtx = { viewer: Viewer | null };
type DbCtx = Pick<RawQueryCtx, "db">;

/** The signed-in person calling a portal function (UNAUTHENTICATED otherwise). */
export function userActor(ctx: ViewerCtx): UserActor {
  const user = requireUser(ctx as Parameters<typeof requireUser>[0]);
  return { kind: "user", viewer: { identity: ctx.viewer!.identity, user } };
}

/**
 * The API key a REST request was authorized with. The router has checked the key moments
 * before; it is read again here, in the command's own transaction, so a key revoked in
 * between no longer writes.
 */
export async function apiKeyActor(ctx: DbCtx, caller: { businessId: Id<"businesses">; apiKeyId: Id<"apiKeys"> }): Promise<ApiKeyActor> {
  const key = await ctx.db.get("apiKeys", caller.apiKeyId);
  const expired = key?.expiresAt !== undefined && key.expiresAt <= Date.now();
  if (key === null || key.businessId !== caller.businessId || key.status !== "active" || expired) {
    throw appError("UNAUTHENTICATED", "This API key is not valid (revoked, expired or unknown).");
  }
  return { kind: "api_key", apiKeyId: key._id, businessId: key.businessId, scopes: key.scopes };
}

/** The form stored in history rows and on documents (`schema.vActor`), with the role it was let in as. */
export function recordedActor(actor: CommandActor, grant: Grant): RecordedActor {
  switch (actor.kind) {
    case "user":
      return { role: grant.kind === "user" ? grant.role : "staff", userId: actor.viewer.user._id };
    case "api_key":
      return { role: "api", apiKeyId: actor.apiKeyId };
    case "system":
      return { role: "system" };
  }
}

/** What a command needs: a staff rank for people, a scope for API keys. */
export type Permission = { role: BusinessRole; scope: ApiScope };

/** How the actor was let in (a person: with which role). */
export type Grant =
  | { kind: "user"; role: BusinessRole; access: Extract<Access, { role: BusinessRole }> }
  | { kind: "api_key" }
  | { kind: "system" };

export type NotFound = { param: string; message: string };

const BUSINESS_NOT_FOUND: NotFound = { param: "businessId", message: "Business not found." };

function missingScope(scope: ApiScope) {
  return appError("FORBIDDEN", `This API key lacks the ${scope.resource}:${scope.access} scope.`);
}

/** Checks the actor may act on `businessId` with `need`; outsiders get `notFound`. */
export async function authorize(
  ctx: DbCtx,
  actor: CommandActor,
  businessId: Id<"businesses">,
  need: Permission,
  notFound: NotFound = BUSINESS_NOT_FOUND,
): Promise<Grant> {
  switch (actor.kind) {
    case "user": {
      const access = await requireBusinessRole({ ...ctx, viewer: actor.viewer } as Parameters<typeof requireBusinessRole>[0], businessId, need.role, notFound);
      return { kind: "user", role: access.role, access };
    }
    case "api_key":
      if (actor.businessId !== businessId) throw appError("NOT_FOUND", notFound.message, { param: notFound.param });
      if (!hasScope(actor.scopes, need.scope)) throw missingScope(need.scope);
      return { kind: "api_key" };
    case "system":
      return { kind: "system" };
  }
}

/** Only the scope half of a permission (for checks whose people half is done elsewhere). */
export function requireApiScope(actor: CommandActor, scope: ApiScope) {
  if (actor.kind === "api_key" && !hasScope(actor.scopes, scope)) throw missingScope(scope);
}

// ---------------------------------------------------------------------------------------
// Lookups with tenant checks
// ---------------------------------------------------------------------------------------

export type TenantTable = {
  [T in TableNames]: Doc<T> extends { businessId: Id<"businesses"> } ? T : never;
}[TableNames];

const NAMES: Partial<Record<TableNames, string>> = {
  customers: "Customer",
  customerAddresses: "Address",
  paymentMethods: "Payment method",
  clientNotes: "Note",
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
  webhookDeliveries: "Delivery",
  events: "Event",
};

export function notFoundIn(table: TableNames, param: string): NotFound {
  return { param, message: `${NAMES[table] ?? "Object"} not found.` };
}

export function notFoundError(table: TableNames, param: string) {
  const { message } = notFoundIn(table, param);
  return appError("NOT_FOUND", message, { param });
}

/** The document with this id (a string from any door), or null for malformed and unknown ids. */
export async function getById<T extends TableNames>(ctx: DbCtx, table: T, id: string): Promise<Doc<T> | null> {
  const normalized = ctx.db.normalizeId(table, id);
  return normalized === null ? null : ((await ctx.db.get(table, normalized)) as Doc<T> | null);
}

/**
 * Loads a tenant document by id and authorizes the actor on its business. Malformed ids,
 * unknown ids and other tenants' ids all give the same NOT_FOUND naming `param`.
 */
export async function loadAuthorized<T extends TenantTable>(
  ctx: DbCtx,
  actor: CommandActor,
  table: T,
  id: string,
  param: string,
  need: Permission,
): Promise<{ doc: Doc<T>; grant: Grant }> {
  const doc = await getById(ctx, table, id);
  if (doc === null) throw notFoundError(table, param);
  const grant = await authorize(ctx, actor, (doc as unknown as { businessId: Id<"businesses"> }).businessId, need, notFoundIn(table, param));
  return { doc, grant };
}

/** A document that must belong to `businessId` (ids named inside a command's input). */
export async function loadInBusiness<T extends TenantTable>(
  ctx: DbCtx,
  table: T,
  businessId: Id<"businesses">,
  id: string,
  param: string,
): Promise<Doc<T>> {
  const doc = await getById(ctx, table, id);
  if (doc === null || (doc as unknown as { businessId: Id<"businesses"> }).businessId !== businessId) throw notFoundError(table, param);
  return doc;
}
