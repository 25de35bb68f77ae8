/**
 * The role claims a token for PartyKit's private rooms carries (party/identity.ts), from what
 * the platform's tables say about the person (`users:me`): their highest staff role in the
 * chosen business, else their customer record there, else platform admin. Used by the demo
 * sign-in (web/dev/localAuth.ts) and by accounts (convex/partyTokens.ts). Pure.
 */
export type RoomClaimsInput = {
  user: { isPlatformAdmin: boolean };
  memberships: { businessId: string; role: string; resourceId?: string }[];
  customers: { businessId: string; customerId: string }[];
} | null;

export type RoomClaims = { role?: string; businessId?: string; customerId?: string; resourceId?: string };

const ROLE_RANK: Record<string, number> = { owner: 3, manager: 2, staff: 1 };

export function roleClaims(me: RoomClaimsInput, businessId?: string): RoomClaims {
  if (me === null) return {};
  const memberships = [...me.memberships].sort((a, b) => (ROLE_RANK[b.role] ?? 0) - (ROLE_RANK[a.role] ?? 0));
  const membership = memberships.find((m) => m.businessId === businessId) ?? (businessId ? undefined : memberships[0]);
  const customer = me.customers.find((c) => c.businessId === businessId) ?? (businessId ? undefined : me.customers[0]);
  if (membership && (!customer || !businessId || membership.businessId === businessId)) {
    return {
      role: membership.role,
      businessId: membership.businessId,
      ...(membership.resourceId ? { resourceId: membership.resourceId } : {}),
    };
  }
  if (customer) return { role: "customer", businessId: customer.businessId, customerId: customer.customerId };
  if (me.user.isPlatformAdmin) return { role: "platform_admin" };
  return {};
}
