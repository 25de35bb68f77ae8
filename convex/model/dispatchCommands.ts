/**
 * Dispatch commands: assign, reassign, offer, unassign and auto-assign by dispatchers;
 * accept and decline by the provider the job is offered to. Each takes an explicit actor
 * (`model/actor.ts`); the portal's `convex/dispatch.ts` only authenticates and calls them.
 *
 * "Who can take this job, and why not" (`candidatesFor`) is answered by `judgeResource`,
 * the very function `placeOnResource` runs before it places work, so the board never
 * offers a provider the mutation then refuses.
 */
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx, QueryCtx as RawQueryCtx } from "../_generated/server";
import { ASSIGNABLE_STATUSES as DOMAIN_ASSIGNABLE_STATUSES } from "../../domain/bookingStatus";
import { appError } from "../errors";
import { loadAuthorized, loadInBusiness, recordedActor, type CommandActor, type Grant, type Permission } from "./actor";
import { placementRequestFor, requireBookableBusiness } from "./bookingCreate";
import { emitBookingChange } from "./bookingEvents";
import {
  assignmentsOf,
  autoAssign,
  isActiveAssignment,
  activeResources,
  judgeResource,
  placeOnResource,
  releaseAssignments,
  type PlacementRequest,
} from "./bookingSlots";

/** Statuses in which a job may be given to (or taken from) a provider. */
/** The domain's assignable statuses, typed for `includes` on any booking status. */
export const ASSIGNABLE_STATUSES: ReadonlyArray<Doc<"bookings">["status"]> = DOMAIN_ASSIGNABLE_STATUSES;

function statusWords(status: Doc<"bookings">["status"]): string {
  return status.toLowerCase().replace(/_/g, " ");
}

export type AssignResult = { bookingId: Id<"bookings">; resourceIds: Id<"resources">[] };

/** Why the job itself cannot be moved at all (its status), or null. */
export function unmovableReason(booking: Doc<"bookings">): string | null {
  return ASSIGNABLE_STATUSES.includes(booking.status) ? null : `A ${statusWords(booking.status)} job cannot be moved.`;
}

function requireMovable(booking: Doc<"bookings">) {
  const reason = unmovableReason(booking);
  if (reason !== null) throw appError("INVALID_TRANSITION", reason, { param: "bookingId" });
}

/** Dispatchers (manager and up; API keys with bookings:write) give jobs to providers. */
const DISPATCH: Permission = { role: "manager", scope: { resource: "bookings", access: "write" } };
/** The provider a job is offered to answers the offer. */
const ANSWER: Permission = { role: "staff", scope: { resource: "bookings", access: "write" } };
const LOOK: Permission = { role: "manager", scope: { resource: "bookings", access: "read" } };

async function loadBooking(ctx: RawQueryCtx, actor: CommandActor, bookingId: Id<"bookings">, need: Permission) {
  const { doc, grant } = await loadAuthorized(ctx, actor, "bookings", bookingId, "bookingId", need);
  return { booking: doc, grant };
}

async function loadActiveResource(ctx: RawQueryCtx, booking: Doc<"bookings">, resourceId: Id<"resources">) {
  const resource = await loadInBusiness(ctx, "resources", booking.businessId, resourceId, "resourceId");
  if (!resource.active) throw appError("INVALID_ARGUMENT", `${resource.name} is not active.`, { param: "resourceId" });
  return resource;
}

/** The booking and the active resource a dispatcher names (manager and up). */
async function loadMove(ctx: RawQueryCtx, actor: CommandActor, args: { bookingId: Id<"bookings">; resourceId: Id<"resources"> }) {
  const { booking } = await loadBooking(ctx, actor, args.bookingId, DISPATCH);
  return { booking, resource: await loadActiveResource(ctx, booking, args.resourceId) };
}

/** The placement request of moving this booking (same time) under staff rules. */
function moveRequest(business: Doc<"businesses">, booking: Doc<"bookings">, now: number): PlacementRequest {
  return placementRequestFor(business, booking, booking.start, "staff", now, booking._id);
}

/**
 * Places the booking on `resource` (replacing its current assignments) as `status`:
 * "accepted" for a dispatcher's decision, "offered" when the provider must accept.
 */
async function moveTo(
  ctx: RawMutationCtx,
  booking: Doc<"bookings">,
  resource: Doc<"resources">,
  status: "offered" | "accepted",
  now: number,
): Promise<AssignResult> {
  requireMovable(booking);
  const business = await requireBookableBusiness(ctx, booking.businessId);
  const previous = booking.assignedResourceIds;
  await releaseAssignments(ctx, booking._id);
  await placeOnResource(ctx, moveRequest(business, booking, now), resource, booking._id, status);
  await ctx.db.patch("bookings", booking._id, { assignedResourceIds: [resource._id] });
  const updated = (await ctx.db.get("bookings", booking._id))!;
  await emitBookingChange(ctx, updated, "assigned", { previousResourceIds: previous });
  return { bookingId: updated._id, resourceIds: updated.assignedResourceIds };
}

/** Assigns an unassigned job from the queue. Refuses a resource that cannot take it. */
export async function assignBooking(
  ctx: RawMutationCtx,
  actor: CommandActor,
  args: { bookingId: Id<"bookings">; resourceId: Id<"resources"> },
  now: number,
): Promise<AssignResult> {
  const { booking, resource } = await loadMove(ctx, actor, args);
  if (booking.assignedResourceIds.length > 0) {
    throw appError("CONFLICT", "The booking is already assigned; reassign it instead.", { param: "bookingId" });
  }
  return moveTo(ctx, booking, resource, "accepted", now);
}

/** Moves a job to another resource at the same time. */
export async function reassignBooking(
  ctx: RawMutationCtx,
  actor: CommandActor,
  args: { bookingId: Id<"bookings">; resourceId: Id<"resources"> },
  now: number,
): Promise<AssignResult> {
  const { booking, resource } = await loadMove(ctx, actor, args);
  if (booking.assignedResourceIds.length === 1 && booking.assignedResourceIds[0] === resource._id) {
    throw appError("INVALID_ARGUMENT", `The booking is already assigned to ${resource.name}.`, { param: "resourceId" });
  }
  return moveTo(ctx, booking, resource, "accepted", now);
}

/** Offers a job to one provider: their time is reserved, and they accept or decline it. */
export async function offerBooking(
  ctx: RawMutationCtx,
  actor: CommandActor,
  args: { bookingId: Id<"bookings">; resourceId: Id<"resources"> },
  now: number,
): Promise<AssignResult> {
  const { booking, resource } = await loadMove(ctx, actor, args);
  const declined = (await assignmentsOf(ctx, booking._id)).some((a) => a.resourceId === resource._id && a.status === "declined");
  if (declined) throw appError("CONFLICT", `${resource.name} has already declined this job.`, { param: "resourceId" });
  return moveTo(ctx, booking, resource, "offered", now);
}

/** Returns a job to the unassigned queue. */
export async function unassignBooking(ctx: RawMutationCtx, actor: CommandActor, args: { bookingId: Id<"bookings"> }): Promise<AssignResult> {
  const { booking } = await loadBooking(ctx, actor, args.bookingId, DISPATCH);
  requireMovable(booking);
  await returnToQueue(ctx, booking);
  return { bookingId: booking._id, resourceIds: [] };
}

/** Releases every assignment of the booking and emits the change (no rule checks). */
export async function returnToQueue(ctx: RawMutationCtx, booking: Doc<"bookings">): Promise<Doc<"bookings">> {
  const released = await releaseAssignments(ctx, booking._id);
  await ctx.db.patch("bookings", booking._id, { assignedResourceIds: [] });
  const updated = (await ctx.db.get("bookings", booking._id))!;
  await emitBookingChange(ctx, updated, "assigned", { previousResourceIds: released.map((a) => a.resourceId) });
  return updated;
}

/**
 * Gives the job to the best free eligible resource by the business's policy (priority when
 * the business dispatches by hand), never to one in `exclude` or one that declined it.
 * Returns null, changing nothing, when none can take it.
 */
export async function autoAssignBooking(
  ctx: RawMutationCtx,
  actor: CommandActor,
  args: { bookingId: Id<"bookings">; exclude?: Id<"resources">[] },
  now: number,
): Promise<AssignResult> {
  const { booking } = await loadBooking(ctx, actor, args.bookingId, DISPATCH);
  requireMovable(booking);
  const business = await requireBookableBusiness(ctx, booking.businessId);
  const declined = (await assignmentsOf(ctx, booking._id)).filter((a) => a.status === "declined").map((a) => a.resourceId as string);
  const exclude = new Set<string>([...declined, ...(args.exclude ?? [])]);
  const policy = business.policies.booking.autoAssign === "round_robin" ? "round_robin" : "priority";
  const previous = booking.assignedResourceIds;
  await releaseAssignments(ctx, booking._id);
  const placed = await autoAssign(ctx, moveRequest(business, booking, now), booking._id, { policy, exclude });
  if ("failure" in placed) {
    throw appError("SLOT_UNAVAILABLE", "No other provider can take this job at its time.", { param: "bookingId" });
  }
  await ctx.db.patch("bookings", booking._id, { assignedResourceIds: [placed.resource._id] });
  const updated = (await ctx.db.get("bookings", booking._id))!;
  await emitBookingChange(ctx, updated, "assigned", { previousResourceIds: previous });
  return { bookingId: updated._id, resourceIds: updated.assignedResourceIds };
}

/** A history row for a change of who does the job (the status stays as it was). */
export async function recordAssignmentChange(
  ctx: RawMutationCtx,
  booking: Doc<"bookings">,
  actor: CommandActor,
  grant: Grant,
  reason: string,
  now: number,
) {
  await ctx.db.insert("bookingStatusHistory", {
    businessId: booking.businessId,
    bookingId: booking._id,
    from: booking.status,
    to: booking.status,
    at: now,
    actor: recordedActor(actor, grant),
    reason,
  });
}

/** The actor's own active assignment of this booking (they must be the provider it is offered to). */
async function ownOffer(ctx: RawQueryCtx, grant: Grant, booking: Doc<"bookings">) {
  const resourceId = grant.kind === "user" ? (grant.access.membership.resourceId ?? null) : null;
  if (resourceId === null) throw appError("FORBIDDEN", "Only the provider the job is offered to can answer the offer.");
  const mine = (await assignmentsOf(ctx, booking._id)).find((a) => a.resourceId === resourceId && isActiveAssignment(a));
  if (mine === undefined) throw appError("FORBIDDEN", "This job is not offered to you.", { param: "bookingId" });
  return mine;
}

export async function acceptOffer(ctx: RawMutationCtx, actor: CommandActor, args: { bookingId: Id<"bookings"> }) {
  const { booking, grant } = await loadBooking(ctx, actor, args.bookingId, ANSWER);
  const offer = await ownOffer(ctx, grant, booking);
  if (!ASSIGNABLE_STATUSES.includes(booking.status)) {
    throw appError("INVALID_TRANSITION", `The booking is ${statusWords(booking.status)}.`, { param: "bookingId" });
  }
  if (offer.status !== "accepted") {
    await ctx.db.patch("bookingAssignments", offer._id, { status: "accepted" });
    await emitBookingChange(ctx, booking, "assigned", { previousResourceIds: booking.assignedResourceIds, availabilityChanged: false });
  }
  return { status: "accepted" as const };
}

/**
 * The provider declines: their assignment is marked declined and the time freed; the job
 * goes to the next eligible free resource by the business's policy (never back to anyone
 * who declined it) or, with manual dispatch or nobody free, to the unassigned queue.
 */
export async function declineOffer(
  ctx: RawMutationCtx,
  actor: CommandActor,
  args: { bookingId: Id<"bookings">; reason?: string },
  now: number,
) {
  const { booking, grant } = await loadBooking(ctx, actor, args.bookingId, ANSWER);
  if (args.reason !== undefined && args.reason.length > 500) {
    throw appError("INVALID_ARGUMENT", "The reason is limited to 500 characters.", { param: "reason" });
  }
  const offer = await ownOffer(ctx, grant, booking);
  if (booking.status === "EN_ROUTE" || !ASSIGNABLE_STATUSES.includes(booking.status)) {
    throw appError("INVALID_TRANSITION", `A ${statusWords(booking.status)} job cannot be declined.`, { param: "bookingId" });
  }
  await releaseAssignments(ctx, booking._id, { only: offer.resourceId, as: "declined" });
  const declinedBy = new Set(
    (await assignmentsOf(ctx, booking._id)).filter((a) => a.status === "declined").map((a) => a.resourceId as string),
  );
  const business = (await ctx.db.get("businesses", booking.businessId))!;
  let resourceIds = booking.assignedResourceIds.filter((id) => id !== offer.resourceId);
  const policy = business.policies.booking.autoAssign;
  if (resourceIds.length === 0 && policy !== "manual" && business.status === "ACTIVE") {
    const placed = await autoAssign(ctx, moveRequest(business, booking, now), booking._id, { policy, exclude: declinedBy });
    if (!("failure" in placed)) resourceIds = [placed.resource._id];
  }
  await ctx.db.patch("bookings", booking._id, { assignedResourceIds: resourceIds });
  await recordAssignmentChange(ctx, booking, actor, grant, `offer declined${args.reason ? `: ${args.reason}` : ""}`, now);
  await emitBookingChange(ctx, (await ctx.db.get("bookings", booking._id))!, "assigned", {
    previousResourceIds: booking.assignedResourceIds,
  });
  return { resourceIds, queued: resourceIds.length === 0 };
}

export type Candidate = {
  resourceId: Id<"resources">;
  name: string;
  canTake: boolean;
  /** Why not, in words ("not working Wednesday", "busy 10:00–12:30"); absent when it can. */
  reason?: string;
  code?: string;
};

export type Candidates = { bookingId: Id<"bookings">; movable: boolean; reason?: string; providers: Candidate[] };

/**
 * For one job: every active resource of the business, whether it can take the job at its
 * time and, when not, why. Read-only; computed by `judgeResource`, as the assignment is.
 */
export async function candidatesFor(ctx: RawQueryCtx, actor: CommandActor, bookingId: Id<"bookings">, now: number): Promise<Candidates> {
  const { booking } = await loadBooking(ctx, actor, bookingId, LOOK);
  const business = await requireBookableBusiness(ctx, booking.businessId);
  const resources = await activeResources(ctx, business._id);
  const blocked = unmovableReason(booking);
  const request = moveRequest(business, booking, now);
  const productNames = new Map<string, string>();
  const providers: Candidate[] = [];
  for (const resource of resources) {
    const base = { resourceId: resource._id, name: resource.name };
    if (booking.assignedResourceIds.includes(resource._id)) {
      providers.push({ ...base, canTake: false, reason: "already has this job", code: "CURRENT" });
      continue;
    }
    if (blocked !== null) {
      providers.push({ ...base, canTake: false, reason: blocked, code: "NOT_MOVABLE" });
      continue;
    }
    const verdict = await judgeResource(ctx, request, resource, productNames);
    providers.push(verdict.ok ? { ...base, canTake: true } : { ...base, canTake: false, reason: verdict.words, code: verdict.check.code });
  }
  return { bookingId: booking._id, movable: blocked === null, ...(blocked !== null ? { reason: blocked } : {}), providers };
}
