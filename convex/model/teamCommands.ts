/**
 * Team commands: invite a person to the staff by email (resend, revoke, accept), change a
 * member's role, deactivate a member. One body each; `convex/invites.ts` and the staff
 * functions of `convex/businesses.ts` are the portal's adapters.
 *
 * Invitations: managers and owners invite (a manager cannot grant the owner role). The mail
 * goes through `queueNotification` (template `staff_invite`) with a link carrying a random
 * token; only the token's SHA-256 is stored, so the database alone cannot accept an
 * invitation. Holding the link is what entitles someone to accept it (it went to the
 * invited address): whoever is signed in when they open it becomes the member. Resending
 * issues a new token (the old link stops working) and a new expiry.
 *
 * Roles: a business always keeps at least one owner, and the account holder
 * (`businesses.ownerId`, who is billed) stays an owner. Deactivating a member removes their
 * membership and deactivates their resource through `updateResource`, the same schedule
 * change as any other: booked jobs it hits are refused with CONFLICT until the caller says
 * where they go.
 *
 * Plain module: no registered functions.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx, QueryCtx as RawQueryCtx } from "../_generated/server";
import { membershipOf, type BusinessRole } from "../access";
import { sha256Hex } from "../api/apiKeyFormat";
import { env } from "../env";
import { appError } from "../errors";
import { authorize, getById, loadInBusiness, SYSTEM, type CommandActor, type Permission, type UserActor } from "./actor";
import { queueNotification } from "./notify";
import { linkResourceUser, updateResource, type Resolution } from "./resourceCommands";
import { normalizeEmail } from "./validation";

export const INVITE_TTL_MS = 7 * 24 * 60 * 60 * 1000;
const MAX_PENDING_INVITES = 200;
const MAX_MEMBERS = 500;

/** People only: an invitation names who sent it, and an API key is no one. */
const MANAGE_TEAM: Permission = { role: "manager", scope: { resource: "resources", access: "write" } };

const rank: Record<BusinessRole, number> = { staff: 1, manager: 2, owner: 3 };

function requirePerson(actor: CommandActor): UserActor {
  if (actor.kind !== "user") throw appError("FORBIDDEN", "Only a signed-in owner or manager can manage the team.");
  return actor;
}

async function authorizeTeam(ctx: Pick<RawQueryCtx, "db">, actor: CommandActor, businessId: Id<"businesses">) {
  const person = requirePerson(actor);
  const grant = await authorize(ctx, person, businessId, MANAGE_TEAM);
  if (grant.kind !== "user") throw appError("FORBIDDEN", "Only a signed-in owner or manager can manage the team.");
  return { person, role: grant.role, business: grant.access.business };
}

/** A manager grants at most their own role and never owner; an owner grants anything. */
export function requireMayGrant(actorRole: BusinessRole, role: BusinessRole) {
  if (actorRole === "owner") return;
  if (role === "owner") throw appError("FORBIDDEN", "Only an owner can grant the owner role.", { param: "role" });
  if (rank[role] > rank[actorRole]) throw appError("FORBIDDEN", "You cannot grant a role above your own.", { param: "role" });
}

async function ownersOf(ctx: Pick<RawQueryCtx, "db">, businessId: Id<"businesses">) {
  return await ctx.db
    .query("memberships")
    .withIndex("by_businessId_and_role", (q) => q.eq("businessId", businessId).eq("role", "owner"))
    .take(MAX_MEMBERS);
}

async function membersOf(ctx: Pick<RawQueryCtx, "db">, businessId: Id<"businesses">) {
  const rows: Doc<"memberships">[] = [];
  for (const role of ["owner", "manager", "staff"] as const) {
    rows.push(
      ...(await ctx.db
        .query("memberships")
        .withIndex("by_businessId_and_role", (q) => q.eq("businessId", businessId).eq("role", role))
        .take(MAX_MEMBERS)),
    );
  }
  return rows;
}

// ---------------------------------------------------------------------------------------
// Invitations
// ---------------------------------------------------------------------------------------

function newToken(): string {
  const bytes = new Uint8Array(32);
  crypto.getRandomValues(bytes);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

const TOKEN_PATTERN = /^[A-Za-z0-9_-]{20,100}$/;

const ROLE_WORDS: Record<string, Record<BusinessRole, string>> = {
  en: { owner: "an owner", manager: "a dispatcher", staff: "a provider" },
  es: { owner: "propietario", manager: "despachador", staff: "proveedor" },
  pt: { owner: "proprietário", manager: "despachante", staff: "prestador" },
};

function roleInWords(role: BusinessRole, locale: string): string {
  return (ROLE_WORDS[locale.split("-")[0]] ?? ROLE_WORDS.en)[role];
}

/** Mails the invitation link with a fresh token and returns the token's hash. */
async function sendInvite(ctx: RawMutationCtx, business: Doc<"businesses">, inviter: Doc<"users">, email: string, role: BusinessRole) {
  const token = newToken();
  const inviteUrl = `${env.portalUrl()}/invite/${token}`;
  await queueNotification(ctx, {
    businessId: business._id,
    templateKey: "staff_invite",
    channel: "email",
    to: email,
    vars: { businessName: business.name, inviterName: inviter.name, role: roleInWords(role, business.locale), inviteUrl },
  });
  return await sha256Hex(token);
}

async function requireInvitableResource(ctx: Pick<RawQueryCtx, "db">, businessId: Id<"businesses">, resourceId: string) {
  const resource = await loadInBusiness(ctx, "resources", businessId, resourceId, "resourceId");
  if (!resource.active) throw appError("CONFLICT", `${resource.name} is inactive: activate it first.`, { param: "resourceId" });
  if (resource.userId !== undefined) {
    throw appError("CONFLICT", `${resource.name}'s schedule already belongs to a staff member.`, { param: "resourceId" });
  }
  return resource;
}

export type InviteInput = { email: string; role: BusinessRole; resourceId?: string };

/** Invites `email` to the staff with `role` (and, optionally, as the person behind a resource). */
export async function inviteStaff(ctx: RawMutationCtx, actor: CommandActor, businessId: Id<"businesses">, input: InviteInput, now: number) {
  const { person, role: actorRole, business } = await authorizeTeam(ctx, actor, businessId);
  requireMayGrant(actorRole, input.role);
  const email = normalizeEmail(input.email);
  const resource = input.resourceId === undefined ? null : await requireInvitableResource(ctx, businessId, input.resourceId);

  const pending = await ctx.db
    .query("invites")
    .withIndex("by_businessId_and_status", (q) => q.eq("businessId", businessId).eq("status", "pending"))
    .take(MAX_PENDING_INVITES);
  if (pending.some((i) => i.email === email)) {
    throw appError("ALREADY_EXISTS", `An invitation to ${email} is already open: resend or revoke it.`, { param: "email" });
  }
  if (resource !== null && pending.some((i) => i.resourceId === resource._id)) {
    throw appError("ALREADY_EXISTS", `An open invitation is already for ${resource.name}'s schedule.`, { param: "resourceId" });
  }
  if (pending.length >= MAX_PENDING_INVITES) {
    throw appError("POLICY_VIOLATION", `At most ${MAX_PENDING_INVITES} open invitations: revoke some first.`);
  }
  for (const member of await membersOf(ctx, businessId)) {
    const user = await ctx.db.get("users", member.userId);
    if (user?.email?.toLowerCase() === email) throw appError("ALREADY_EXISTS", `${email} is already on the staff.`, { param: "email" });
  }

  const tokenHash = await sendInvite(ctx, business, person.viewer.user, email, input.role);
  const inviteId = await ctx.db.insert("invites", {
    businessId,
    email,
    role: input.role,
    ...(resource !== null ? { resourceId: resource._id } : {}),
    tokenHash,
    status: "pending",
    expiresAt: now + INVITE_TTL_MS,
    invitedBy: person.viewer.user._id,
    createdAt: now,
    sentAt: now,
  });
  return (await ctx.db.get("invites", inviteId))!;
}

async function loadInvite(ctx: Pick<RawQueryCtx, "db">, actor: CommandActor, inviteId: string) {
  const invite = await getById(ctx, "invites", inviteId);
  if (invite === null) throw appError("NOT_FOUND", "Invitation not found.", { param: "inviteId" });
  const team = await authorizeTeam(ctx, actor, invite.businessId).catch((error: unknown) => {
    const code = (error as { data?: { code?: string } }).data?.code;
    throw code === "NOT_FOUND" ? appError("NOT_FOUND", "Invitation not found.", { param: "inviteId" }) : error;
  });
  // A manager cannot resend or withdraw an owner's invitation.
  requireMayGrant(team.role, invite.role);
  return { invite, ...team };
}

function requireOpen(invite: Doc<"invites">) {
  if (invite.status === "accepted") throw appError("CONFLICT", "This invitation was already accepted.", { param: "inviteId" });
  if (invite.status === "revoked") throw appError("CONFLICT", "This invitation was revoked.", { param: "inviteId" });
}

/** Sends the invitation again with a new link (the previous link stops working) and a new expiry. */
export async function resendInvite(ctx: RawMutationCtx, actor: CommandActor, inviteId: string, now: number) {
  const { invite, person, business } = await loadInvite(ctx, actor, inviteId);
  requireOpen(invite);
  const tokenHash = await sendInvite(ctx, business, person.viewer.user, invite.email, invite.role);
  await ctx.db.patch("invites", invite._id, { tokenHash, sentAt: now, expiresAt: now + INVITE_TTL_MS });
  return (await ctx.db.get("invites", invite._id))!;
}

export async function revokeInvite(ctx: RawMutationCtx, actor: CommandActor, inviteId: string, now: number) {
  const { invite } = await loadInvite(ctx, actor, inviteId);
  requireOpen(invite);
  await ctx.db.patch("invites", invite._id, { status: "revoked", revokedAt: now });
}

/** Open invitations of the business, newest first. */
export async function openInvites(ctx: Pick<RawQueryCtx, "db">, actor: CommandActor, businessId: Id<"businesses">) {
  await authorizeTeam(ctx, actor, businessId);
  const rows = await ctx.db
    .query("invites")
    .withIndex("by_businessId_and_status", (q) => q.eq("businessId", businessId).eq("status", "pending"))
    .order("desc")
    .take(MAX_PENDING_INVITES);
  return rows;
}

const UNKNOWN_LINK = "This invitation link is not valid: check that you opened the whole link, or ask for a new invitation.";

/**
 * The invitation a link's token opens, whatever its state, or NOT_FOUND. Anyone holding
 * the link may read what it is for (the business, the role, the state).
 */
export async function inviteForToken(ctx: Pick<RawQueryCtx, "db">, token: string) {
  if (!TOKEN_PATTERN.test(token)) throw appError("NOT_FOUND", UNKNOWN_LINK, { param: "token" });
  const tokenHash = await sha256Hex(token);
  const invite = await ctx.db
    .query("invites")
    .withIndex("by_tokenHash", (q) => q.eq("tokenHash", tokenHash))
    .unique();
  if (invite === null) throw appError("NOT_FOUND", UNKNOWN_LINK, { param: "token" });
  const business = await ctx.db.get("businesses", invite.businessId);
  if (business === null || business.status === "DELETED") throw appError("NOT_FOUND", UNKNOWN_LINK, { param: "token" });
  return { invite, business };
}

/** Why an invitation can no longer be accepted, as an error; null when it can. */
export function inviteRefusal(invite: Doc<"invites">, now: number) {
  if (invite.status === "accepted") return appError("CONFLICT", "This invitation has already been used.", { param: "token", details: { reason: "used" } });
  if (invite.status === "revoked") {
    return appError("CONFLICT", "This invitation was withdrawn by the business.", { param: "token", details: { reason: "revoked" } });
  }
  if (invite.expiresAt <= now) {
    return appError("EXPIRED", "This invitation has expired: ask the business to send it again.", { param: "token", details: { reason: "expired" } });
  }
  return null;
}

/** Makes the signed-in person a member of the inviting business with the invitation's role. */
export async function acceptInvite(ctx: RawMutationCtx, actor: CommandActor, token: string, now: number) {
  const person = actor.kind === "user" ? actor : null;
  if (person === null) throw appError("UNAUTHENTICATED", "Sign in to accept an invitation.");
  const { invite, business } = await inviteForToken(ctx, token);
  const refusal = inviteRefusal(invite, now);
  if (refusal !== null) throw refusal;
  const userId = person.viewer.user._id;
  if ((await membershipOf(ctx, business._id, userId)) !== null) {
    throw appError("ALREADY_EXISTS", `You are already on the staff of ${business.name}.`, { param: "token" });
  }
  const membershipId = await ctx.db.insert("memberships", { businessId: business._id, userId, role: invite.role });
  if (invite.resourceId !== undefined) {
    const resource = await ctx.db.get("resources", invite.resourceId);
    if (resource === null || !resource.active || (resource.userId !== undefined && resource.userId !== userId)) {
      throw appError("CONFLICT", "The schedule this invitation was for is no longer free: ask the business for a new invitation.", { param: "token" });
    }
    // The invitation is the owner's or manager's decision, checked when it was sent.
    await linkResourceUser(ctx, SYSTEM, resource._id, userId);
  }
  await ctx.db.patch("invites", invite._id, { status: "accepted", acceptedBy: userId, acceptedAt: now });
  return { businessId: business._id, membershipId, role: invite.role };
}

// ---------------------------------------------------------------------------------------
// Members
// ---------------------------------------------------------------------------------------

/** The member `userId` as someone with `actorRole` may change them; `becoming` is their new role (none: removed). */
async function memberToManage(
  ctx: RawQueryCtx,
  actor: CommandActor,
  businessId: Id<"businesses">,
  userId: Id<"users">,
  becoming: BusinessRole | null,
) {
  const team = await authorizeTeam(ctx, actor, businessId);
  const membership = await membershipOf(ctx, businessId, userId);
  if (membership === null) throw appError("NOT_FOUND", "This person is not on the staff.", { param: "userId" });
  if (team.role !== "owner" && rank[membership.role] > rank[team.role]) {
    throw appError("FORBIDDEN", "You cannot change someone above your role.", { param: "userId" });
  }
  if (becoming !== null) requireMayGrant(team.role, becoming);
  if (membership.role === "owner" && becoming !== "owner" && (await ownersOf(ctx, businessId)).length <= 1) {
    throw appError("FORBIDDEN", "A business needs at least one owner: make someone else an owner first.", { param: "userId" });
  }
  if (userId === team.business.ownerId && becoming !== "owner") {
    throw appError("FORBIDDEN", "The account holder stays an owner of the business.", { param: "userId" });
  }
  return { ...team, membership };
}

export async function changeMemberRole(ctx: RawMutationCtx, actor: CommandActor, businessId: Id<"businesses">, userId: Id<"users">, role: BusinessRole) {
  const { membership } = await memberToManage(ctx, actor, businessId, userId, role);
  if (membership.role !== role) await ctx.db.patch("memberships", membership._id, { role });
}

/**
 * Takes a person off the staff. Their resource (if any) is deactivated as a schedule change:
 * with booked jobs ahead it is refused with CONFLICT until `resolution` says where they go.
 * The resource stays (inactive, unlinked) so past jobs keep who did them.
 */
export async function deactivateMember(
  ctx: RawMutationCtx,
  actor: CommandActor,
  businessId: Id<"businesses">,
  userId: Id<"users">,
  resolution: Resolution | undefined,
  now: number,
) {
  const { membership } = await memberToManage(ctx, actor, businessId, userId, null);
  let moved: { bookingId: Id<"bookings">; resourceId: Id<"resources"> | null }[] = [];
  if (membership.resourceId !== undefined) {
    const resource = await ctx.db.get("resources", membership.resourceId);
    if (resource !== null && resource.userId === userId) {
      if (resource.active) moved = (await updateResource(ctx, actor, resource._id, { active: false }, resolution, now)).moved;
      await ctx.db.patch("resources", resource._id, { userId: undefined });
    }
  }
  await ctx.db.delete("memberships", membership._id);
  return { moved };
}
