/**
 * Accounts (Convex Auth, auth.ts): the functions around it that are the platform's own.
 * The sign-in, sign-up, code and reset flows themselves are `auth:signIn` / `auth:signOut`.
 */
import { invalidateSessions } from "@convex-dev/auth/server";
import { v } from "convex/values";
import { internal } from "./_generated/api";
import { env } from "./env";
import { appError } from "./errors";
import { action, internalMutation, internalQuery, query } from "./functions";
import { countAccountCodeEmail } from "./model/abuseLimits";
import { convexAuthSubject, userByTokenIdentifier } from "./model/accountIdentity";
import { CODE_TTL_MINUTES, normalizeEmail, queueCodeEmail } from "./model/accounts";
import { purgeExpiredSecrets } from "./model/notify";

/** Which ways in this deployment offers (the sign-in page shows those). */
export const methods = query({
  args: {},
  returns: v.object({ password: v.boolean(), emailCode: v.boolean(), google: v.boolean() }),
  handler: async () => {
    const on = env.convexAuthJwks() !== undefined;
    return { password: on, emailCode: on, google: on && env.googleAuth() !== undefined };
  },
});

/** Mails a one-time code (called by auth.ts's code providers, inside `auth:signIn`). */
export const sendCode = internalMutation({
  args: { purpose: v.union(v.literal("verify"), v.literal("reset"), v.literal("sign_in")), email: v.string(), code: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const email = normalizeEmail(args.email);
    await countAccountCodeEmail(ctx, email);
    await queueCodeEmail(ctx, args.purpose, email, args.code);
    return null;
  },
});

/** The Convex Auth user behind a tokenIdentifier, while its session lasts. */
export const accountUserId = internalQuery({
  args: { tokenIdentifier: v.string() },
  returns: v.union(v.id("users"), v.null()),
  handler: async (ctx, args) => {
    if (convexAuthSubject(args.tokenIdentifier) === null) return null;
    return (await userByTokenIdentifier(ctx, args.tokenIdentifier))?._id ?? null;
  },
});

/** Ends every session of the signed-in person, on every device (this one too). */
export const signOutEverywhere = action({
  args: {},
  returns: v.null(),
  handler: async (ctx) => {
    if (ctx.identity === null) throw appError("UNAUTHENTICATED", "Sign in to continue.");
    if (convexAuthSubject(ctx.identity.tokenIdentifier) === null) {
      throw appError("UNSUPPORTED", "Sessions of this sign-in are managed by its provider (Clerk or the local demo sign-in).");
    }
    const userId = await ctx.runQuery(internal.accounts.accountUserId, { tokenIdentifier: ctx.identity.tokenIdentifier });
    if (userId === null) throw appError("UNAUTHENTICATED", "Your session has ended: sign in again.");
    await invalidateSessions(ctx, { userId });
    return null;
  },
});

/**
 * Deletes codes past their expiry that nobody used (hourly cron), a batch at a time, and the
 * kept copies of codes in unsent emails (model/notify.ts) past theirs.
 */
export const purgeExpiredCodes = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const cutoff = Date.now() - CODE_TTL_MINUTES * 60_000;
    const expired = await ctx.db
      .query("authVerificationCodes")
      .withIndex("by_creation_time", (q) => q.lt("_creationTime", cutoff))
      .take(500);
    let deleted = 0;
    for (const code of expired) {
      if (code.expirationTime > Date.now()) continue;
      await ctx.db.delete("authVerificationCodes", code._id);
      deleted += 1;
    }
    const secrets = await purgeExpiredSecrets(ctx, Date.now());
    if (expired.length === 500 || secrets === 500) await ctx.scheduler.runAfter(0, internal.accounts.purgeExpiredCodes, {});
    return deleted;
  },
});
