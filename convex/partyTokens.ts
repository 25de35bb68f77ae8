/**
 * Tokens for PartyKit's private rooms, for people signed in with accounts (Convex Auth).
 * Their access tokens carry no role claims, so the portal asks here for a short-lived room
 * token: RS256 with the deployment's Convex Auth key (JWT_PRIVATE_KEY), `iss` its
 * CONVEX_SITE_URL, `aud` "partykit" (so Convex never accepts it as an access token), `sub`
 * the user id, and the role claims of the chosen business from the platform's own tables
 * (domain/roomClaims.ts, as the demo sign-in does). PartyKit verifies it with the JWKS the
 * deployment publishes (party/auth.ts).
 */
import { importPKCS8, SignJWT } from "jose";
import { v, type Infer } from "convex/values";
import { roleClaims } from "../domain/roomClaims";
import { internal } from "./_generated/api";
import { env } from "./env";
import { appError } from "./errors";
import { action, internalQuery } from "./functions";
import { convexAuthSubject, userByTokenIdentifier } from "./model/accountIdentity";

/** Room tokens live this long; the portal asks for a new one whenever it (re)connects. */
export const ROOM_TOKEN_SECONDS = 10 * 60;
export const ROOM_TOKEN_AUDIENCE = "partykit";

const vClaims = v.object({
  sub: v.string(),
  name: v.string(),
  role: v.optional(v.string()),
  businessId: v.optional(v.string()),
  customerId: v.optional(v.string()),
  resourceId: v.optional(v.string()),
});

/** The claims of the person behind a Convex Auth tokenIdentifier, for one business. */
export const claimsFor = internalQuery({
  args: { tokenIdentifier: v.string(), businessId: v.optional(v.id("businesses")) },
  returns: v.union(vClaims, v.null()),
  handler: async (ctx, args) => {
    if (convexAuthSubject(args.tokenIdentifier) === null) return null;
    const user = await userByTokenIdentifier(ctx, args.tokenIdentifier);
    if (user === null) return null;
    const memberships = await ctx.db
      .query("memberships")
      .withIndex("by_userId", (q) => q.eq("userId", user._id))
      .take(100);
    const customers = await ctx.db
      .query("customers")
      .withIndex("by_userId", (q) => q.eq("userId", user._id))
      .take(500);
    const claims = roleClaims(
      {
        user,
        memberships: memberships.map((m) => ({ businessId: m.businessId, role: m.role, ...(m.resourceId ? { resourceId: m.resourceId } : {}) })),
        customers: customers.map((c) => ({ businessId: c.businessId, customerId: c._id })),
      },
      args.businessId,
    );
    return { sub: user._id, name: user.name, ...claims };
  },
});

/**
 * A room token for the signed-in person (accounts only), describing their role in
 * `businessId` (else their first role). Clerk and the demo sign-in have their own.
 */
export const issue = action({
  args: { businessId: v.optional(v.id("businesses")) },
  returns: v.object({ token: v.string(), expiresAt: v.number() }),
  handler: async (ctx, args): Promise<{ token: string; expiresAt: number }> => {
    if (ctx.identity === null) throw appError("UNAUTHENTICATED", "Sign in to continue.");
    const claims: Infer<typeof vClaims> | null = await ctx.runQuery(internal.partyTokens.claimsFor, { tokenIdentifier: ctx.identity.tokenIdentifier, ...args });
    if (claims === null) throw appError("UNAUTHENTICATED", "Room tokens are for accounts of this platform with a live session.");
    const site = env.convexSiteUrl();
    // eslint-disable-next-line @convex-dev/no-process-env -- Convex Auth's own variable (its key), read where it is used
    const pem = process.env.JWT_PRIVATE_KEY;
    if (site === undefined || pem === undefined) throw new Error("JWT_PRIVATE_KEY and CONVEX_SITE_URL are needed for room tokens.");
    const { sub, ...rest } = claims;
    const expiresAt = Math.floor(Date.now() / 1000) + ROOM_TOKEN_SECONDS;
    const token = await new SignJWT(rest)
      .setProtectedHeader({ alg: "RS256", typ: "JWT" })
      .setIssuer(site)
      .setAudience(ROOM_TOKEN_AUDIENCE)
      .setSubject(sub)
      .setIssuedAt()
      .setExpirationTime(expiresAt)
      .sign(await importPKCS8(pem, "RS256"));
    return { token, expiresAt: expiresAt * 1000 };
  },
});
