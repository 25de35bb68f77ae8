/**
 * The builders every module uses instead of `_generated/server`'s. Each adds the signed-in
 * viewer (or null) to `ctx`; business-scoped checks go through `access.ts`
 * (`requireBusinessRole`, `requireCustomerOfBusiness`, …), so every function states who may
 * call it and for which business.
 */
import { customAction, customCtx, customMutation, customQuery } from "convex-helpers/server/customFunctions";
import type { UserIdentity } from "convex/server";
import type { Doc } from "./_generated/dataModel";
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

export type Viewer = {
  identity: UserIdentity;
  /** Absent until the person's first `users:store` call. */
  user: Doc<"users"> | null;
};

async function loadViewer(ctx: RawQueryCtx): Promise<Viewer | null> {
  const identity = await ctx.auth.getUserIdentity();
  if (identity === null) return null;
  const user = await ctx.db
    .query("users")
    .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", identity.tokenIdentifier))
    .unique();
  return { identity, user };
}

const withViewer = customCtx(async (ctx: RawQueryCtx) => ({ viewer: await loadViewer(ctx) }));

export const query = customQuery(rawQuery, withViewer);
export const mutation = customMutation(rawMutation, withViewer);
/** Internal functions are called by the scheduler, crons, webhooks and other functions. */
export const internalQuery = rawInternalQuery;
export const internalMutation = rawInternalMutation;
export const internalAction = rawInternalAction;
export const action = customAction(
  rawAction,
  customCtx(async (ctx) => ({ identity: await ctx.auth.getUserIdentity() })),
);

export type QueryCtx = RawQueryCtx & { viewer: Viewer | null };
export type MutationCtx = RawMutationCtx & { viewer: Viewer | null };
