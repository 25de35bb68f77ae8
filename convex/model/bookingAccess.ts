/**
 * Who may read or change a booking. Every booking function resolves the viewer's access to
 * the booking's business (from the database, never from arguments) and then applies:
 *
 * - customer: only their own bookings (another customer's booking is NOT_FOUND);
 * - staff (a provider): only bookings assigned to their resource (FORBIDDEN otherwise; they
 *   are an insider of the business, so the id leaks nothing new);
 * - manager (dispatcher) and owner: every booking of the business;
 * - platform admin: read-only oversight;
 * - anyone else, including other businesses' staff: NOT_FOUND.
 */
import type { ActorRole } from "../../domain/bookingStatus";
import type { Doc, Id } from "../_generated/dataModel";
import { accessTo, requireUser, type Access } from "../access";
import { appError } from "../errors";
import type { QueryCtx } from "../functions";
import type { Actor } from "../schema";

export type BookingAccess = {
  booking: Doc<"bookings">;
  access: Access;
  /** The role the domain state machine knows the viewer as. */
  domainRole: ActorRole | null;
  actor: Actor;
};

export function actorOf(access: Access): Actor {
  return { role: access.role, userId: access.user._id };
}

/** Maps a business access role to the domain state machine's actor roles. */
export function domainRoleOf(access: Access): ActorRole | null {
  switch (access.role) {
    case "owner":
      return "owner";
    case "manager":
      return "manager";
    case "staff":
      return "staff";
    case "customer":
      return "customer";
    case "platform_admin":
      return null;
  }
}

export const SYSTEM_ACTOR: Actor = { role: "system" };

/** The resource a staff member works as, if any. */
export function staffResourceId(access: Access): Id<"resources"> | null {
  return access.role === "staff" || access.role === "manager" || access.role === "owner"
    ? (access.membership.resourceId ?? null)
    : null;
}

/**
 * Loads a booking the viewer may see (`mode: "read"`) or act on (`mode: "write"`).
 * Bad or foreign ids give NOT_FOUND.
 */
export async function loadBookingForViewer(
  ctx: QueryCtx,
  bookingId: Id<"bookings">,
  mode: "read" | "write",
): Promise<BookingAccess> {
  requireUser(ctx);
  const booking = await ctx.db.get("bookings", bookingId);
  const notFound = () => appError("NOT_FOUND", "Booking not found.", { param: "bookingId" });
  if (booking === null) throw notFound();
  const access = await accessTo(ctx, booking.businessId);
  if (access === null) throw notFound();
  switch (access.role) {
    case "customer":
      if (booking.customerId !== access.customer._id) throw notFound();
      break;
    case "staff": {
      const resourceId = staffResourceId(access);
      if (resourceId === null || !booking.assignedResourceIds.includes(resourceId)) {
        throw appError("FORBIDDEN", "This job is not assigned to you.", { param: "bookingId" });
      }
      break;
    }
    case "platform_admin":
      if (mode === "write") throw appError("FORBIDDEN", "Platform admins cannot change a business's bookings.");
      break;
    case "manager":
    case "owner":
      break;
  }
  return { booking, access, domainRole: domainRoleOf(access), actor: actorOf(access) };
}
