/**
 * Who is connected to a private room, and which rooms they may join. Pure: no jose, no PartyKit.
 *
 * The JWT the portal gives Convex carries these custom claims (see party/README.md):
 *   sub         the user id
 *   role        platform_admin | owner | manager | staff | customer
 *   businessId  the user's business (required for every role but platform_admin)
 *   customerId  the customer record (required for role customer)
 *   resourceId  the bookable resource a staff member is (optional; needed to send provider pings)
 *   name        display name shown in dispatch presence (optional)
 */
import { z } from "zod";
import { entityId, role, type Role } from "./messages";
import type { PartyName, RoomKey } from "./rooms";

export const identityClaims = z
  .object({
    sub: z.string().min(1).max(200),
    role,
    businessId: entityId.optional(),
    customerId: entityId.optional(),
    resourceId: entityId.optional(),
    name: z.string().min(1).max(200).optional(),
  })
  .superRefine((claims, ctx) => {
    if (claims.role !== "platform_admin" && claims.businessId === undefined) {
      ctx.addIssue({ code: "custom", path: ["businessId"], message: `role ${claims.role} requires a businessId claim` });
    }
    if (claims.role === "customer" && claims.customerId === undefined) {
      ctx.addIssue({ code: "custom", path: ["customerId"], message: "role customer requires a customerId claim" });
    }
  });

export type Identity = {
  userId: string;
  role: Role;
  businessId?: string;
  customerId?: string;
  resourceId?: string;
  name?: string;
};

export const identitySchema = z.strictObject({
  userId: z.string().min(1),
  role,
  businessId: entityId.optional(),
  customerId: entityId.optional(),
  resourceId: entityId.optional(),
  name: z.string().optional(),
});

/** Reads an Identity from verified JWT claims (the other claims are ignored). */
export function identityFromClaims(claims: unknown): { ok: true; identity: Identity } | { ok: false; message: string } {
  const parsed = identityClaims.safeParse(claims);
  if (!parsed.success) {
    const details = parsed.error.issues.map((issue) => `${issue.path.join(".") || "claims"}: ${issue.message}`);
    return { ok: false, message: `token claims are invalid (${details.join("; ")})` };
  }
  const { sub, role: claimRole, businessId, customerId, resourceId, name } = parsed.data;
  const identity: Identity = { userId: sub, role: claimRole };
  if (businessId !== undefined) identity.businessId = businessId;
  if (customerId !== undefined) identity.customerId = customerId;
  if (resourceId !== undefined) identity.resourceId = resourceId;
  if (name !== undefined) identity.name = name;
  return { ok: true, identity };
}

const BUSINESS_ROLES_BY_PARTY: Record<Exclude<PartyName, "availability">, readonly Role[]> = {
  dispatch: ["owner", "manager", "staff"],
  bookings: ["owner", "manager", "staff"],
  invoices: ["owner", "manager"],
  customers: ["owner", "manager", "staff"],
};

export type Access = { ok: true } | { ok: false; message: string };

/**
 * May this identity watch this room? Platform admins may watch any business's private rooms
 * (read only: they send nothing); everyone else only rooms of their own business, by role;
 * customers only their own bookings room.
 */
export function authorizeRoom(identity: Identity, key: RoomKey): Access {
  if (key.party === "availability") return { ok: true };
  if (identity.role === "platform_admin") return { ok: true };
  if (identity.businessId !== key.businessId) {
    return { ok: false, message: `this room belongs to business ${key.businessId}, not to yours` };
  }
  if (identity.role === "customer") {
    const ownBookingsRoom = key.party === "bookings" && key.customerId === identity.customerId;
    return ownBookingsRoom ? { ok: true } : { ok: false, message: "customers may only watch their own bookings room" };
  }
  const allowed = BUSINESS_ROLES_BY_PARTY[key.party];
  return allowed.includes(identity.role)
    ? { ok: true }
    : { ok: false, message: `role ${identity.role} may not watch ${key.party} rooms` };
}
