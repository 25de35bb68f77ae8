/**
 * Data migrations (`@convex-dev/migrations`): every schema change that needs existing
 * documents rewritten gets a migration here, run to completion on each deployment before the
 * schema is tightened (docs/MIGRATIONS.md describes the steps).
 *
 * Run one: `npx convex run migrations:run '{"fn": "migrations:clearRateLimitWindows"}'`;
 * all of `all`, in order: `npx convex run migrations:runAll`.
 */
import { Migrations } from "@convex-dev/migrations";
import { components, internal } from "./_generated/api";
import type { DataModel } from "./_generated/dataModel";
import { internalMutation } from "./functions";
import { fileLegacyMessage } from "./model/conversations";
import { invoiceOutstanding, invoiceRevenue } from "./model/invoiceTotals";

export const migrations = new Migrations<DataModel>(components.migrations, { internalMutation });

/** The generic runner: `{"fn": "migrations:<name>"}`. */
export const run = migrations.runner();

/**
 * The REST rate limit moved to the rate-limiter component; the old fixed-window counters
 * are dropped. Once run everywhere, the `rateLimitWindows` table leaves the schema.
 */
export const clearRateLimitWindows = migrations.define({
  table: "rateLimitWindows",
  migrateOne: async (ctx, window) => {
    await ctx.db.delete("rateLimitWindows", window._id);
  },
});

/** Fills the report aggregates with the invoices that existed before they did. */
export const backfillInvoiceTotals = migrations.define({
  table: "invoices",
  migrateOne: async (ctx, invoice) => {
    await invoiceRevenue.insertIfDoesNotExist(ctx, invoice);
    await invoiceOutstanding.insertIfDoesNotExist(ctx, invoice);
  },
});

/** Files messages written before conversations existed into their threads (with unread counts). */
export const backfillConversations = migrations.define({
  table: "messages",
  migrateOne: async (ctx, message) => {
    await fileLegacyMessage(ctx, message);
  },
});

/** Every migration, in the order a new deployment runs them. */
export const runAll = migrations.runner([internal.migrations.clearRateLimitWindows, internal.migrations.backfillInvoiceTotals, internal.migrations.backfillConversations]);
