import { v } from "convex/values";
import { appError } from "./errors";
import { internalMutation, mutation, query } from "./functions";
import { requireViewer } from "./access";
import { convexAuthSubject } from "./model/accountIdentity";

/** Creates or refreshes the viewer's user record from their verified identity. */
export const store = mutation({
  args: {},
  returns: v.id("users"),
  handler: async (ctx) => {
    const { identity, user } = requireViewer(ctx);
    if (convexAuthSubject(identity.tokenIdentifier) !== null) {
      // Convex Auth made the user with the account (auth.ts); its tokens carry no profile.
      if (user === null) throw appError("UNAUTHENTICATED", "Your session has ended: sign in again.");
      return user._id;
    }
    const name = identity.name ?? identity.email ?? identity.subject;
    if (user !== null) {
      if (user.name !== name || user.email !== identity.email) {
        await ctx.db.patch("users", user._id, { name, email: identity.email });
      }
      return user._id;
    }
    return await ctx.db.insert("users", {
      tokenIdentifier: identity.tokenIdentifier,
      name,
      email: identity.email,
      isPlatformAdmin: false,
    });
  },
});

/** The viewer with their memberships and customer records: what the portal routes on. */
export const me = query({
  args: {},
  handler: async (ctx) => {
    if (ctx.viewer?.user == null) return null;
    const user = ctx.viewer.user;
    const memberships = await ctx.db
      .query("memberships")
      .withIndex("by_userId", (q) => q.eq("userId", user._id))
      .collect();
    const customers = await ctx.db
      .query("customers")
      .withIndex("by_userId", (q) => q.eq("userId", user._id))
      .collect();
    return {
      user,
      memberships: memberships.map((m) => ({ businessId: m.businessId, role: m.role, resourceId: m.resourceId })),
      customers: customers.map((c) => ({ businessId: c.businessId, customerId: c._id })),
    };
  },
});

/**
 * Grants or withdraws the platform-admin flag (seeding and operations only: there is no
 * public way to become an admin).
 */
export const setPlatformAdmin = internalMutation({
  args: { userId: v.id("users"), isPlatformAdmin: v.boolean() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const user = await ctx.db.get("users", args.userId);
    if (user === null) throw appError("NOT_FOUND", "User not found.", { param: "userId" });
    await ctx.db.patch("users", user._id, { isPlatformAdmin: args.isPlatformAdmin });
    return null;
  },
});
