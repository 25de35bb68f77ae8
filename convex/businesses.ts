/**
 * Businesses (tenants): creation by their owner, public profile, settings and policies,
 * platform-admin verification and status changes, staff memberships.
 *
 * Status machine (who may move it):
 *   PENDING   → ACTIVE (admin `verify` only), SUSPENDED (admin), DELETED (owner, admin)
 *   ACTIVE    → SUSPENDED (admin), INACTIVE (owner, admin), DELETED (owner, admin)
 *   INACTIVE  → ACTIVE (owner, admin; only if once verified), DELETED (owner, admin)
 *   SUSPENDED → ACTIVE (admin), DELETED (admin)
 *   DELETED   → nothing (soft delete: the row stays, every lookup treats it as not found)
 * Bookings are accepted only while ACTIVE (`requireActiveBusiness`).
 */
import { paginationOptsValidator } from "convex/server";
import { v, type Infer } from "convex/values";
import type { Doc } from "./_generated/dataModel";
import { DEFAULT_EN_ROUTE_LEAD_MINUTES, MAX_EN_ROUTE_LEAD_MINUTES } from "../domain/bookingStatus";
import {
  accessTo,
  getBusinessOrThrow,
  membershipOf,
  requireBusinessRole,
  requirePlatformAdmin,
  requireStaffOrAdmin,
  requireUser,
} from "./access";
import { appError } from "./errors";
import { mutation, query, type MutationCtx } from "./functions";
import { userActor } from "./model/actor";
import { resolutionArgs, resolutionOf } from "./model/resourceCommands";
import { changeMemberRole as changeMemberRoleCommand, deactivateMember, requireMayGrant } from "./model/teamCommands";
import {
  invalid,
  optionalText,
  requireCurrency,
  requireInt,
  requireLocale,
  requireSlug,
  requireText,
  requireTimeZone,
  slugify,
} from "./model/validation";
import {
  vBusinessPolicies,
  vBusinessStatus,
  vBusinessType,
  vMemberRole,
  vPlan,
  type BusinessPolicies,
  type BusinessStatus,
} from "./schema";

export const DEFAULT_POLICIES: BusinessPolicies = {
  cancellation: {
    freeUntilHours: 24,
    lateFeeFlatMinor: 0,
    lateFeePercentBp: 2_500,
    noShowFeeFlatMinor: 0,
    noShowFeePercentBp: 5_000,
  },
  reschedule: { freeUntilHours: 24, lateFeeFlatMinor: 0, maxReschedules: 3 },
  booking: {
    minimumNoticeMinutes: 120,
    bookingHorizonDays: 60,
    slotStepMinutes: 15,
    arrivalWindowMinutes: 0,
    holdMinutes: 10,
    depositBp: 10_000,
    autoAssign: "priority",
    enRouteLeadMinutes: DEFAULT_EN_ROUTE_LEAD_MINUTES,
  },
};

const MAX_HOURS = 24 * 366;
const MAX_MINOR = 100_000_000_00;

/** Checks every number of a policy set; the param names the field ("policies.booking.holdMinutes"). */
export function validatePolicies(policies: BusinessPolicies, param = "policies"): BusinessPolicies {
  const c = policies.cancellation;
  requireInt(c.freeUntilHours, `${param}.cancellation.freeUntilHours`, 0, MAX_HOURS);
  requireInt(c.lateFeeFlatMinor, `${param}.cancellation.lateFeeFlatMinor`, 0, MAX_MINOR);
  requireInt(c.lateFeePercentBp, `${param}.cancellation.lateFeePercentBp`, 0, 10_000);
  requireInt(c.noShowFeeFlatMinor, `${param}.cancellation.noShowFeeFlatMinor`, 0, MAX_MINOR);
  requireInt(c.noShowFeePercentBp, `${param}.cancellation.noShowFeePercentBp`, 0, 10_000);
  const r = policies.reschedule;
  requireInt(r.freeUntilHours, `${param}.reschedule.freeUntilHours`, 0, MAX_HOURS);
  requireInt(r.lateFeeFlatMinor, `${param}.reschedule.lateFeeFlatMinor`, 0, MAX_MINOR);
  requireInt(r.maxReschedules, `${param}.reschedule.maxReschedules`, 0, 100);
  const b = policies.booking;
  requireInt(b.minimumNoticeMinutes, `${param}.booking.minimumNoticeMinutes`, 0, 60 * 24 * 90);
  requireInt(b.bookingHorizonDays, `${param}.booking.bookingHorizonDays`, 1, 730);
  requireInt(b.slotStepMinutes, `${param}.booking.slotStepMinutes`, 5, 240);
  if (1440 % b.slotStepMinutes !== 0) {
    throw invalid(`${param}.booking.slotStepMinutes`, "slotStepMinutes must divide a day evenly (5, 10, 15, 20, 30, 60, …).");
  }
  requireInt(b.arrivalWindowMinutes, `${param}.booking.arrivalWindowMinutes`, 0, 12 * 60);
  requireInt(b.holdMinutes, `${param}.booking.holdMinutes`, 1, 60);
  requireInt(b.depositBp, `${param}.booking.depositBp`, 0, 10_000);
  if (b.enRouteLeadMinutes !== undefined) {
    requireInt(b.enRouteLeadMinutes, `${param}.booking.enRouteLeadMinutes`, 0, MAX_EN_ROUTE_LEAD_MINUTES);
  }
  return policies;
}

/** Throws BUSINESS_NOT_ACTIVE unless the business takes bookings now. */
export function requireActiveBusiness(business: Doc<"businesses">): Doc<"businesses"> {
  if (business.status !== "ACTIVE") {
    throw appError("BUSINESS_NOT_ACTIVE", `${business.name} is not taking bookings right now.`, { param: "businessId" });
  }
  return business;
}

const vPublicBusiness = v.object({
  _id: v.id("businesses"),
  name: v.string(),
  slug: v.string(),
  type: vBusinessType,
  timeZone: v.string(),
  currency: v.string(),
  locale: v.string(),
  policies: vBusinessPolicies,
});
export type PublicBusiness = Infer<typeof vPublicBusiness>;

export function publicProfile(b: Doc<"businesses">): PublicBusiness {
  return {
    _id: b._id,
    name: b.name,
    slug: b.slug,
    type: b.type,
    timeZone: b.timeZone,
    currency: b.currency,
    locale: b.locale,
    policies: b.policies,
  };
}

const vBusinessDoc = v.object({
  _id: v.id("businesses"),
  _creationTime: v.number(),
  ownerId: v.id("users"),
  name: v.string(),
  slug: v.string(),
  type: vBusinessType,
  status: vBusinessStatus,
  verification: v.optional(v.object({ verifiedAt: v.number(), verifiedBy: v.id("users"), note: v.optional(v.string()) })),
  statusReason: v.optional(v.string()),
  timeZone: v.string(),
  currency: v.string(),
  locale: v.string(),
  policies: vBusinessPolicies,
  plan: vPlan,
  stripeCustomerId: v.optional(v.string()),
  stripeSubscriptionId: v.optional(v.string()),
  planStatus: v.optional(v.string()),
});

async function slugTaken(ctx: MutationCtx, slug: string) {
  return (await ctx.db.query("businesses").withIndex("by_slug", (q) => q.eq("slug", slug)).first()) !== null;
}

// ---------------------------------------------------------------------------------------
// Create and read
// ---------------------------------------------------------------------------------------

/** The signed-in person creates their business (one per owner); it starts PENDING. */
export const create = mutation({
  args: {
    name: v.string(),
    slug: v.optional(v.string()),
    type: vBusinessType,
    timeZone: v.string(),
    currency: v.string(),
    locale: v.optional(v.string()),
    policies: v.optional(vBusinessPolicies),
  },
  returns: v.id("businesses"),
  handler: async (ctx, args) => {
    const user = requireUser(ctx);
    const name = requireText(args.name, "name", 120);
    const timeZone = requireTimeZone(args.timeZone);
    const currency = requireCurrency(args.currency);
    const locale = args.locale === undefined ? "en-US" : requireLocale(args.locale);
    const policies = validatePolicies(args.policies ?? DEFAULT_POLICIES);

    const owned = await ctx.db
      .query("businesses")
      .withIndex("by_ownerId", (q) => q.eq("ownerId", user._id))
      .take(20);
    if (owned.some((b) => b.status !== "DELETED")) {
      throw appError("ALREADY_EXISTS", "You already own a business.", { param: "ownerId" });
    }

    let slug: string;
    if (args.slug !== undefined) {
      slug = requireSlug(args.slug);
      if (await slugTaken(ctx, slug)) throw appError("ALREADY_EXISTS", "This address is taken.", { param: "slug" });
    } else {
      const base = slugify(name);
      slug = base;
      for (let n = 2; await slugTaken(ctx, slug); n++) {
        if (n > 50) throw appError("ALREADY_EXISTS", "Choose a slug: the name's is taken.", { param: "slug" });
        slug = `${base}-${n}`;
      }
    }

    const businessId = await ctx.db.insert("businesses", {
      ownerId: user._id,
      name,
      slug,
      type: args.type,
      status: "PENDING",
      timeZone,
      currency,
      locale,
      policies,
      plan: "free",
    });
    await ctx.db.insert("memberships", { businessId, userId: user._id, role: "owner" });
    return businessId;
  },
});

async function visibleProfile(ctx: Parameters<typeof accessTo>[0], business: Doc<"businesses"> | null) {
  if (business === null || business.status === "DELETED") return null;
  if (business.status === "ACTIVE") return publicProfile(business);
  // Not public yet (or no longer): only its staff and platform admins see it.
  const access = await accessTo(ctx, business._id);
  if (access !== null && access.role !== "customer") return publicProfile(business);
  return null;
}

/** Public profile of an ACTIVE business (its staff and admins also see it in other states). */
export const get = query({
  args: { businessId: v.id("businesses") },
  returns: v.union(vPublicBusiness, v.null()),
  handler: async (ctx, { businessId }) => visibleProfile(ctx, await ctx.db.get("businesses", businessId)),
});

export const getBySlug = query({
  args: { slug: v.string() },
  returns: v.union(vPublicBusiness, v.null()),
  handler: async (ctx, { slug }) => {
    const business = await ctx.db
      .query("businesses")
      .withIndex("by_slug", (q) => q.eq("slug", slug.trim().toLowerCase()))
      .first();
    return visibleProfile(ctx, business);
  },
});

/** Full record with status and verification: the business's staff and platform admins. */
export const settings = query({
  args: { businessId: v.id("businesses") },
  returns: vBusinessDoc,
  handler: async (ctx, { businessId }) => {
    const access = await requireStaffOrAdmin(ctx, businessId);
    return access.business;
  },
});

/** The businesses the viewer works for, with their role. */
export const mine = query({
  args: {},
  returns: v.array(v.object({ business: vPublicBusiness, status: vBusinessStatus, role: vMemberRole })),
  handler: async (ctx) => {
    const user = ctx.viewer?.user;
    if (!user) return [];
    const memberships = await ctx.db
      .query("memberships")
      .withIndex("by_userId", (q) => q.eq("userId", user._id))
      .take(50);
    const rows = [];
    for (const m of memberships) {
      const business = await ctx.db.get("businesses", m.businessId);
      if (business === null || business.status === "DELETED") continue;
      rows.push({ business: publicProfile(business), status: business.status, role: m.role });
    }
    return rows;
  },
});

// ---------------------------------------------------------------------------------------
// Settings and policies (owner)
// ---------------------------------------------------------------------------------------

export const updateSettings = mutation({
  args: {
    businessId: v.id("businesses"),
    name: v.optional(v.string()),
    type: v.optional(vBusinessType),
    timeZone: v.optional(v.string()),
    currency: v.optional(v.string()),
    locale: v.optional(v.string()),
  },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { business } = await requireBusinessRole(ctx, args.businessId, "owner");
    const patch: Partial<Doc<"businesses">> = {};
    if (args.name !== undefined) patch.name = requireText(args.name, "name", 120);
    if (args.type !== undefined) patch.type = args.type;
    if (args.timeZone !== undefined) patch.timeZone = requireTimeZone(args.timeZone);
    if (args.locale !== undefined) patch.locale = requireLocale(args.locale);
    if (args.currency !== undefined) {
      const currency = requireCurrency(args.currency);
      if (currency !== business.currency) {
        const anyBooking = await ctx.db
          .query("bookings")
          .withIndex("by_businessId_and_start", (q) => q.eq("businessId", business._id))
          .first();
        if (anyBooking !== null) {
          throw appError("CONFLICT", "The currency cannot change once bookings exist.", { param: "currency" });
        }
        patch.currency = currency;
      }
    }
    await ctx.db.patch("businesses", business._id, patch);
    return null;
  },
});

export const updatePolicies = mutation({
  args: { businessId: v.id("businesses"), policies: vBusinessPolicies },
  returns: v.null(),
  handler: async (ctx, args) => {
    const { business } = await requireBusinessRole(ctx, args.businessId, "owner");
    await ctx.db.patch("businesses", business._id, { policies: validatePolicies(args.policies) });
    return null;
  },
});

// ---------------------------------------------------------------------------------------
// Verification and status
// ---------------------------------------------------------------------------------------

type Mover = "owner" | "admin";
const TRANSITIONS: Record<BusinessStatus, Partial<Record<BusinessStatus, Mover[]>>> = {
  PENDING: { SUSPENDED: ["admin"], DELETED: ["owner", "admin"] },
  ACTIVE: { SUSPENDED: ["admin"], INACTIVE: ["owner", "admin"], DELETED: ["owner", "admin"] },
  INACTIVE: { ACTIVE: ["owner", "admin"], DELETED: ["owner", "admin"] },
  SUSPENDED: { ACTIVE: ["admin"], DELETED: ["admin"] },
  DELETED: {},
};

/** Who may move a business from one status to another (`verify` covers PENDING → ACTIVE). */
export function statusMovers(from: BusinessStatus, to: BusinessStatus): Mover[] {
  return TRANSITIONS[from][to] ?? [];
}

/** Platform admin: PENDING → ACTIVE, with a verification record. */
export const verify = mutation({
  args: { businessId: v.id("businesses"), note: v.optional(v.string()) },
  returns: v.null(),
  handler: async (ctx, args) => {
    const admin = requirePlatformAdmin(ctx);
    const business = await getBusinessOrThrow(ctx, args.businessId);
    if (business.status !== "PENDING") {
      throw appError("INVALID_TRANSITION", `Only a PENDING business can be verified; this one is ${business.status}.`, {
        param: "businessId",
      });
    }
    const note = optionalText(args.note, "note", 1000);
    await ctx.db.patch("businesses", business._id, {
      status: "ACTIVE",
      statusReason: undefined,
      verification: { verifiedAt: Date.now(), verifiedBy: admin._id, ...(note ? { note } : {}) },
    });
    return null;
  },
});

/** Suspend, reactivate, deactivate or (soft) delete, with a reason. See the table above. */
export const setStatus = mutation({
  args: { businessId: v.id("businesses"), status: vBusinessStatus, reason: v.string() },
  returns: v.null(),
  handler: async (ctx, args) => {
    const user = requireUser(ctx);
    const business = await getBusinessOrThrow(ctx, args.businessId);
    let mover: Mover;
    if (user.isPlatformAdmin) mover = "admin";
    else {
      const membership = await membershipOf(ctx, business._id, user._id);
      if (membership === null) throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
      if (membership.role !== "owner") throw appError("FORBIDDEN", "Only the owner can change the business's status.");
      mover = "owner";
    }
    const reason = requireText(args.reason, "reason", 1000);
    const movers = statusMovers(business.status, args.status);
    if (movers.length === 0) {
      throw appError("INVALID_TRANSITION", `A ${business.status} business cannot become ${args.status}.`, { param: "status" });
    }
    if (!movers.includes(mover)) {
      throw appError("FORBIDDEN", `Only a platform admin can move a ${business.status} business to ${args.status}.`, {
        param: "status",
      });
    }
    if (args.status === "ACTIVE" && business.verification === undefined) {
      throw appError("INVALID_TRANSITION", "The business has not been verified yet.", { param: "status" });
    }
    await ctx.db.patch("businesses", business._id, { status: args.status, statusReason: reason });
    return null;
  },
});

/** Platform admin: businesses by status, newest first. */
export const listForAdmin = query({
  args: { status: vBusinessStatus, paginationOpts: paginationOptsValidator },
  handler: async (ctx, args) => {
    requirePlatformAdmin(ctx);
    return await ctx.db
      .query("businesses")
      .withIndex("by_status", (q) => q.eq("status", args.status))
      .order("desc")
      .paginate(args.paginationOpts);
  },
});

// ---------------------------------------------------------------------------------------
// Staff
// ---------------------------------------------------------------------------------------

const vMember = v.object({
  membershipId: v.id("memberships"),
  userId: v.id("users"),
  name: v.string(),
  email: v.optional(v.string()),
  role: vMemberRole,
  resourceId: v.optional(v.id("resources")),
});

/** Members of the business (manager and up). */
export const listMembers = query({
  args: { businessId: v.id("businesses") },
  returns: v.array(vMember),
  handler: async (ctx, { businessId }) => {
    await requireBusinessRole(ctx, businessId, "manager");
    const rows = [];
    for (const role of ["owner", "manager", "staff"] as const) {
      const memberships = await ctx.db
        .query("memberships")
        .withIndex("by_businessId_and_role", (q) => q.eq("businessId", businessId).eq("role", role))
        .take(500);
      for (const m of memberships) {
        const u = await ctx.db.get("users", m.userId);
        if (u === null) continue;
        rows.push({ membershipId: m._id, userId: m.userId, name: u.name, email: u.email, role: m.role, resourceId: m.resourceId });
      }
    }
    return rows;
  },
});

/** Adds an existing user (by id) to the staff; people are usually invited by email (`invites.create`). */
export const addMember = mutation({
  args: { businessId: v.id("businesses"), userId: v.id("users"), role: vMemberRole },
  returns: v.id("memberships"),
  handler: async (ctx, args) => {
    const actor = await requireBusinessRole(ctx, args.businessId, "manager");
    requireMayGrant(actor.role, args.role);
    const user = await ctx.db.get("users", args.userId);
    if (user === null) throw appError("NOT_FOUND", "User not found.", { param: "userId" });
    if ((await membershipOf(ctx, args.businessId, user._id)) !== null) {
      throw appError("ALREADY_EXISTS", "This person is already on the staff.", { param: "userId" });
    }
    return await ctx.db.insert("memberships", { businessId: args.businessId, userId: user._id, role: args.role });
  },
});

/** A manager and up changes a member's role; the business keeps at least one owner (model/teamCommands.ts). */
export const changeMemberRole = mutation({
  args: { businessId: v.id("businesses"), userId: v.id("users"), role: vMemberRole },
  returns: v.null(),
  handler: async (ctx, args) => {
    await changeMemberRoleCommand(ctx, userActor(ctx), args.businessId, args.userId, args.role);
    return null;
  },
});

/**
 * Takes a person off the staff and deactivates their resource; booked jobs ahead are refused
 * with CONFLICT until `moveAffected` says where they go (preview them with
 * `resources.previewScheduleChange` and `{ active: false }`).
 */
export const removeMember = mutation({
  args: { businessId: v.id("businesses"), userId: v.id("users"), ...resolutionArgs },
  returns: v.null(),
  handler: async (ctx, { businessId, userId, moveAffected, confirmedBookingIds }) => {
    await deactivateMember(ctx, userActor(ctx), businessId, userId, resolutionOf({ moveAffected, confirmedBookingIds }), Date.now());
    return null;
  },
});
