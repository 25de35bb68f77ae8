/**
 * Who is running a command. Every adapter (a portal Convex function, a REST handler, the
 * scheduler) authenticates its caller and builds one of these; commands in `convex/model/`
 * take it explicitly, check what it may do for its business, and record it in history.
 *
 * - `user`: a signed-in member of the business, with their role (and the resource they work
 *   as, for providers);
 * - `api`: a partner's API key of the business (the REST layer has already checked its
 *   scope for the route);
 * - `system`: the platform itself (crons, scheduled work, webhooks).
 */
import type { Doc, Id } from "../_generated/dataModel";
import { atLeast, type Access, type BusinessRole } from "../access";
import { appError } from "../errors";
import type { Actor } from "../schema";

export type CommandActor =
  | {
      kind: "user";
      businessId: Id<"businesses">;
      role: BusinessRole;
      userId: Id<"users">;
      /** The resource this person works as, when they are a provider. */
      resourceId: Id<"resources"> | null;
    }
  | { kind: "api"; businessId: Id<"businesses">; apiKeyId: Id<"apiKeys"> }
  | { kind: "system"; businessId: Id<"businesses"> };

/** The actor of a staff member's access (owner, manager or staff). */
export function memberActor(access: Extract<Access, { role: BusinessRole }>): CommandActor {
  return {
    kind: "user",
    businessId: access.business._id,
    role: access.role,
    userId: access.user._id,
    resourceId: access.membership.resourceId ?? null,
  };
}

export function apiKeyActor(businessId: Id<"businesses">, apiKeyId: Id<"apiKeys">): CommandActor {
  return { kind: "api", businessId, apiKeyId };
}

export function systemActor(businessId: Id<"businesses">): CommandActor {
  return { kind: "system", businessId };
}

/** How the actor is written into history rows (`bookingStatusHistory.actor`). */
export function recordedActor(actor: CommandActor): Actor {
  switch (actor.kind) {
    case "user":
      return { role: actor.role, userId: actor.userId };
    case "api":
      return { role: "api", apiKeyId: actor.apiKeyId };
    case "system":
      return { role: "system" };
  }
}

/**
 * Requires the actor to act for the document's business with at least `minimum` (API keys
 * and the system count as managers: the route's scope is their permission). A document of
 * another business is NOT_FOUND naming `param`, so ids of other tenants leak nothing.
 */
export function requireActorFor<T extends { businessId: Id<"businesses"> }>(
  actor: CommandActor,
  doc: T | null,
  minimum: BusinessRole,
  param: string,
  what: string,
): T {
  if (doc === null || doc.businessId !== actor.businessId) throw appError("NOT_FOUND", what, { param });
  requireActorRole(actor, minimum);
  return doc;
}

export function requireActorRole(actor: CommandActor, minimum: BusinessRole): void {
  if (actor.kind === "user" && !atLeast(actor.role, minimum)) {
    throw appError("FORBIDDEN", `This needs the ${minimum} role in the business.`);
  }
}

/** Whether the actor is the provider working as this resource. */
export function isResourceSelf(actor: CommandActor, resource: Pick<Doc<"resources">, "_id" | "userId">): boolean {
  return actor.kind === "user" && resource.userId === actor.userId;
}
