/**
 * Who a token is, for every sign-in: the `users` row of a verified identity.
 *
 * A Convex Auth access token (auth.ts) has `iss` = the deployment's CONVEX_SITE_URL and
 * `sub` = `<userId>|<sessionId>`, so its tokenIdentifier changes with every session. The
 * viewer is therefore found by id, and only while that session still exists: signing out
 * everywhere or resetting the password deletes the sessions, and from that commit on the
 * person's old tokens find no user (queries re-run, since they read the session).
 *
 * Clerk and the local sign-in keep their `<issuer>|<subject>` tokenIdentifier lookup.
 * Roles and business membership come from the platform's tables either way.
 *
 * Imports nothing that registers functions (functions.ts imports it).
 */
import type { Doc } from "../_generated/dataModel";
import type { QueryCtx } from "../_generated/server";
import { env } from "../env";

/** The prefix of the tokenIdentifier stored on a Convex Auth user (`convex-auth|<userId>`). */
export const CONVEX_AUTH_TOKEN_PREFIX = "convex-auth|";

/** `<userId>|<sessionId>` of a Convex Auth tokenIdentifier, or null for any other provider's. */
export function convexAuthSubject(tokenIdentifier: string): { userId: string; sessionId: string } | null {
  const site = env.convexSiteUrl();
  if (site === undefined || env.convexAuthJwks() === undefined) return null;
  const prefix = `${site}|`;
  if (!tokenIdentifier.startsWith(prefix)) return null;
  const [userId, sessionId, ...rest] = tokenIdentifier.slice(prefix.length).split("|");
  if (!userId || !sessionId || rest.length > 0) return null;
  return { userId, sessionId };
}

/**
 * The `users` row of a verified identity's tokenIdentifier, or null (not stored yet, or a
 * Convex Auth session that has ended).
 */
export async function userByTokenIdentifier(ctx: Pick<QueryCtx, "db">, tokenIdentifier: string): Promise<Doc<"users"> | null> {
  const convexAuth = convexAuthSubject(tokenIdentifier);
  if (convexAuth !== null) {
    const userId = ctx.db.normalizeId("users", convexAuth.userId);
    const sessionId = ctx.db.normalizeId("authSessions", convexAuth.sessionId);
    if (userId === null || sessionId === null) return null;
    const session = await ctx.db.get("authSessions", sessionId);
    if (session === null || session.userId !== userId || session.expirationTime <= Date.now()) return null;
    return await ctx.db.get("users", userId);
  }
  return await ctx.db
    .query("users")
    .withIndex("by_tokenIdentifier", (q) => q.eq("tokenIdentifier", tokenIdentifier))
    .unique();
}

