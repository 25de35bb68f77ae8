/**
 * The builders every module uses instead of `_generated/server`'s. Each adds the signed-in
 * viewer (or null) to `ctx`; business-scoped checks go through `access.ts`
 * (`requireBusinessRole`, `requireCustomerOfBusiness`, …), so every function states who may
 * call it and for which business.
 *
 * Mutations write through `triggers` (convex-helpers): derived data that must change with a
 * table, in the same transaction, is registered here once (the report aggregates of
 * `invoices`, model/invoiceTotals.ts) instead of at every place that writes the table.
 */
import { customAction, customCtx, customMutation, customQuery } from "convex-helpers/server/customFunctions";
import { Triggers } from "convex-helpers/server/triggers";
import type { UserIdentity } from "convex/server";
import type { DataModel, Doc } from "./_generated/dataModel";
import {
  action as rawAction,
  internalAction as rawInternalAction,
  internalMutation as rawInternalMutation,
  internalQuery as rawInternalQuery,
  mutation as rawMutation,
  query as rawQuery,
  type MutationCtx as RawMutationCtx,
  type QueryCtx as RawQueryCtx,
} from "./_generated/server";
import { userByTokenIdentifier } from "./model/accountIdentity";
import { invoiceOutstanding, invoiceRevenue } from "./model/invoiceTotals";

const triggers = new Triggers<DataModel>();
// Idempotent: invoices written before the aggregates existed (until the backfill migration
// has run) or outside these builders must not make a payment fail.
triggers.register("invoices", invoiceRevenue.idempotentTrigger());
triggers.register("invoices", invoiceOutstanding.idempotentTrigger());

export type Viewer = {
  identity: UserIdentity;
  /**
   * Absent until the person's first `users:store` call (Clerk, local sign-in), or when a
   * Convex Auth session has ended (model/accounts.ts).
   */
  user: Doc<"users"> | null;
};

async function loadViewer(ctx: RawQueryCtx): Promise<Viewer | null> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) return null;
  return { identity, user: await userByTokenIdentifier(ctx, identity.tokenIdentifier) };
}

const withViewer = customCtx(async (ctx: RawQueryCtx) => ({ viewer: await loadViewer(ctx) }));

export const query = customQuery(rawQuery, withViewer);
export const mutation = customMutation(
  rawMutation,
  customCtx(async (ctx: RawMutationCtx) => ({ db: triggers.wrapDB(ctx).db, viewer: await loadViewer(ctx) })),
);
/** Internal functions are called by the scheduler, crons, webhooks and other functions. */
export const internalQuery = rawInternalQuery;
export const internalMutation = customMutation(rawInternalMutation, customCtx(triggers.wrapDB));
export const internalAction = rawInternalAction;
export const action = customAction(
  rawAction,
  customCtx(async (ctx) => ({ identity: await ctx.auth.getUserIdentity() })),
);

/**
 * The db of `ctx` with the triggers above, for writes made outside these builders (tests'
 * `t.run`, one-off data fixes) that must keep derived data in step.
 */
export function withTriggers<C extends RawMutationCtx>(ctx: C): C {
  return triggers.wrapDB(ctx);
}

export type QueryCtx = RawQueryCtx & { viewer: Viewer | null };
export type MutationCtx = RawMutationCtx & { viewer: Viewer | null };
