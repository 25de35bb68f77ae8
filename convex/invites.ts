/**
 * Staff invitations, the portal's side: adapters over `model/teamCommands.ts` (invite,
 * resend, revoke, accept) plus the reads the staff page and the accept page need.
 */
import { v } from "convex/values";
import type { Doc } from "./_generated/dataModel";
import { mutation, query } from "./functions";
import { userActor } from "./model/actor";
import { acceptInvite, inviteForToken, inviteRefusal, inviteStaff, openInvites, resendInvite, revokeInvite } from "./model/teamCommands";
import { vMemberRole } from "./schema";

const vInviteView = v.object({
  inviteId: v.id("invites"),
  email: v.string(),
  role: vMemberRole,
  resourceId: v.union(v.id("resources"), v.null()),
  resourceName: v.union(v.string(), v.null()),
  expiresAt: v.number(),
  expired: v.boolean(),
  sentAt: v.number(),
  invitedByName: v.string(),
});

/** Invites `email` to the staff; the link goes out by email and is never returned here. */
export const create = mutation({
  args: { businessId: v.id("businesses"), email: v.string(), role: vMemberRole, resourceId: v.optional(v.id("resources")) },
  returns: v.id("invites"),
  handler: async (ctx, { businessId, ...input }) => (await inviteStaff(ctx, userActor(ctx), businessId, input, Date.now()))._id,
});

/** Sends a new link (the previous one stops working) valid for another week. */
export const resend = mutation({
  args: { inviteId: v.id("invites") },
  returns: v.null(),
  handler: async (ctx, args) => {
    await resendInvite(ctx, userActor(ctx), args.inviteId, Date.now());
    return null;
  },
});

export const revoke = mutation({
  args: { inviteId: v.id("invites") },
  returns: v.null(),
  handler: async (ctx, args) => {
    await revokeInvite(ctx, userActor(ctx), args.inviteId, Date.now());
    return null;
  },
});

/** Open invitations (manager and up), newest first; `expired` ones can be resent. */
export const listOpen = query({
  args: { businessId: v.id("businesses") },
  returns: v.array(vInviteView),
  handler: async (ctx, args) => {
    const now = Date.now();
    const rows = await openInvites(ctx, userActor(ctx), args.businessId);
    return await Promise.all(
      rows.map(async (i: Doc<"invites">) => ({
        inviteId: i._id,
        email: i.email,
        role: i.role,
        resourceId: i.resourceId ?? null,
        resourceName: i.resourceId ? ((await ctx.db.get("resources", i.resourceId))?.name ?? null) : null,
        expiresAt: i.expiresAt,
        expired: i.expiresAt <= now,
        sentAt: i.sentAt,
        invitedByName: (await ctx.db.get("users", i.invitedBy))?.name ?? "",
      })),
    );
  },
});

/**
 * What an invitation link is for, for the accept page: the business, the role and whether
 * it can still be accepted (else why not). Unknown links give NOT_FOUND.
 */
export const byToken = query({
  args: { token: v.string() },
  returns: v.object({
    businessId: v.id("businesses"),
    businessName: v.string(),
    role: vMemberRole,
    email: v.string(),
    resourceName: v.union(v.string(), v.null()),
    expiresAt: v.number(),
    /** null: it can be accepted. */
    refusal: v.union(v.object({ code: v.string(), message: v.string() }), v.null()),
    alreadyMember: v.boolean(),
  }),
  handler: async (ctx, args) => {
    const actor = userActor(ctx);
    const { invite, business } = await inviteForToken(ctx, args.token);
    const refusal = inviteRefusal(invite, Date.now());
    const membership = await ctx.db
      .query("memberships")
      .withIndex("by_businessId_and_userId", (q) => q.eq("businessId", business._id).eq("userId", actor.viewer.user._id))
      .unique();
    return {
      businessId: business._id,
      businessName: business.name,
      role: invite.role,
      email: invite.email,
      resourceName: invite.resourceId ? ((await ctx.db.get("resources", invite.resourceId))?.name ?? null) : null,
      expiresAt: invite.expiresAt,
      refusal: refusal === null ? null : { code: refusal.data.code, message: refusal.data.message },
      alreadyMember: membership !== null,
    };
  },
});

/** Joins the signed-in person to the inviting business with the invitation's role. */
export const accept = mutation({
  args: { token: v.string() },
  returns: v.object({ businessId: v.id("businesses"), role: vMemberRole }),
  handler: async (ctx, args) => {
    const { businessId, role } = await acceptInvite(ctx, userActor(ctx), args.token, Date.now());
    return { businessId, role };
  },
});
