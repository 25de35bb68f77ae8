/**
 * Placing work on a resource without ever double booking it.
 *
 * WHY THIS IS SAFE UNDER ANY INTERLEAVING
 *
 * Convex runs every mutation as a serializable transaction with optimistic concurrency
 * control: it records every document and every index range a mutation reads, and a mutation
 * whose reads were changed by another mutation that committed first is retried from scratch
 * (against the new state). `placeOnResource` does, inside the booking mutation:
 *
 *  1. read AND write the `resourceDays` document of (resource, local date of the start),
 *     creating it on first use. Two mutations placing work on the same provider on the same
 *     day both read and write this one document, so they can never both commit on the same
 *     snapshot: one wins, the other is retried and sees the winner's assignment.
 *  2. re-read the resource's assignments in the narrow index range
 *     `by_resourceId_and_busyEnd` (busyEnd in (window start, window end + MAX_BUSY_SPAN)),
 *     which covers every assignment that can overlap the candidate or start on its day.
 *     A racing insert anywhere in that range (also one on a neighbouring day that reaches
 *     across midnight) invalidates the read and forces the retry as well.
 *  3. re-check the candidate with the domain's `checkSlot` (capacity, buffers, per-day limit,
 *     working hours, date overrides, time off, notice, horizon) against what it just read,
 *     and only then
 *  4. insert the assignment (and bump the resource-day counters).
 *
 * So with capacity k, of any number of concurrent attempts at one slot exactly k commit and
 * the others fail with SLOT_UNAVAILABLE after their retry re-reads. Bookings for other
 * providers or other days touch other resource-day documents and disjoint index ranges and
 * never conflict with each other.
 *
 * Auto-assignment reads (but does not write) the resource-day documents of the candidates
 * it ranks; a concurrent booking on one of them only retries the choice, it never lets two
 * bookings through.
 */
import {
  checkSlot,
  describeRefusal,
  type AvailabilityResource,
  type BusyBlock,
  type DateOverride,
  type SlotCheck,
} from "../../domain/availability";
import { rankCandidates } from "../../domain/assignment";
import { isDomainError } from "../../domain/errors";
import { NOT_STARTED_STATUSES } from "../../domain/bookingStatus";
import { addDays, DAY_MS, localDateOf, localDayRange, MINUTE_MS } from "../../domain/time";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx, QueryCtx as RawQueryCtx } from "../_generated/server";
import { appError } from "../errors";

/** Longest busy block (service + arrival window + buffers) a booking may have. */
export const MAX_BUSY_SPAN_MS = 2 * DAY_MS;
/** Longest service span (arrival window + duration) a single booking may have. */
export const MAX_BOOKING_SPAN_MINUTES = 24 * 60;
/** Bounds of the per-resource reads. */
const MAX_ASSIGNMENTS_READ = 1000;
const MAX_TIME_OFF_READ = 200;
const MAX_TIME_OFF_LENGTH_MS = 366 * DAY_MS;
export const MAX_RESOURCES = 200;

export const ACTIVE_ASSIGNMENT_STATUSES: ReadonlyArray<Doc<"bookingAssignments">["status"]> = ["offered", "accepted"];

export function isActiveAssignment(a: Doc<"bookingAssignments">): boolean {
  return a.status === "offered" || a.status === "accepted";
}

/** How strictly the business's booking rules apply: staff may book inside the notice period. */
export type RuleMode = "customer" | "staff";

export type PlacementRequest = {
  business: Doc<"businesses">;
  zoneId: Id<"zones">;
  productIds: Id<"products">[];
  /** Service start and the span to reserve (arrival window + duration), minutes. */
  start: number;
  durationMinutes: number;
  arrivalWindowMinutes: number;
  mode: RuleMode;
  now: number;
  /** The booking being moved (reschedule, reassign): its own assignments do not count. */
  excludeBookingId?: Id<"bookings">;
  /**
   * Recurring plans run past the booking horizon (which bounds how far ahead one-off
   * bookings open); notice, hours and conflicts still apply to every occurrence.
   */
  ignoreHorizon?: boolean;
};

export type ResourceDayView = {
  resource: Doc<"resources">;
  date: string;
  day: Doc<"resourceDays"> | null;
  check: SlotCheck;
  busyStart: number;
  busyEnd: number;
};

export function productIdsOfItems(items: Doc<"bookings">["items"]): Id<"products">[] {
  return [...new Set(items.map((i) => i.productId))];
}

/** Empty lists mean "all" in the schema and `undefined` in the domain. */
function listOrAll<T>(list: T[]): T[] | undefined {
  return list.length === 0 ? undefined : list;
}

export function isEligible(resource: Doc<"resources">, zoneId: Id<"zones">, productIds: Id<"products">[]): boolean {
  if (!resource.active) return false;
  if (resource.zoneIds.length > 0 && !resource.zoneIds.includes(zoneId)) return false;
  if (resource.productIds.length > 0 && !productIds.every((p) => resource.productIds.includes(p))) return false;
  return true;
}

/** Active resources of the business (bounded), as the board lists them. */
export async function activeResources(ctx: RawQueryCtx, businessId: Id<"businesses">): Promise<Doc<"resources">[]> {
  const all = await ctx.db
    .query("resources")
    .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
    .take(MAX_RESOURCES);
  return all.filter((r) => r.active);
}

/** Active resources of the business that serve the zone and every product (bounded). */
export async function eligibleResources(
  ctx: RawQueryCtx,
  businessId: Id<"businesses">,
  zoneId: Id<"zones">,
  productIds: Id<"products">[],
): Promise<Doc<"resources">[]> {
  const all = await ctx.db
    .query("resources")
    .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
    .take(MAX_RESOURCES);
  return all.filter((r) => isEligible(r, zoneId, productIds));
}

export function busyWindow(resource: Doc<"resources">, start: number, spanMinutes: number) {
  return {
    busyStart: start - resource.bufferBeforeMinutes * MINUTE_MS,
    busyEnd: start + spanMinutes * MINUTE_MS + resource.bufferAfterMinutes * MINUTE_MS,
  };
}

export async function loadResourceDay(ctx: RawQueryCtx, resourceId: Id<"resources">, date: string) {
  return await ctx.db
    .query("resourceDays")
    .withIndex("by_resourceId_and_date", (q) => q.eq("resourceId", resourceId).eq("date", date))
    .unique();
}

/**
 * Active assignments of a resource whose busy time can matter for [from, to): every one with
 * busyEnd in (from, to + MAX_BUSY_SPAN). Released/declined ones are dropped in memory.
 * Reads at most `limit` rows; a range holding more is refused rather than answered from a
 * part of it (which would show booked time as free).
 */
export async function activeAssignmentsAround(
  ctx: RawQueryCtx,
  resourceId: Id<"resources">,
  from: number,
  to: number,
  limit = MAX_ASSIGNMENTS_READ,
): Promise<Doc<"bookingAssignments">[]> {
  const rows = await ctx.db
    .query("bookingAssignments")
    .withIndex("by_resourceId_and_busyEnd", (q) =>
      q.eq("resourceId", resourceId).gt("busyEnd", from).lt("busyEnd", to + MAX_BUSY_SPAN_MS),
    )
    .take(limit + 1);
  if (rows.length > limit) {
    throw appError("INVALID_ARGUMENT", `More than ${limit} jobs of one provider fall in this time; ask for a shorter range.`, {
      details: { limit },
    });
  }
  return rows.filter(isActiveAssignment);
}

export async function timeOffAround(ctx: RawQueryCtx, resourceId: Id<"resources">, from: number, to: number) {
  const rows = await ctx.db
    .query("timeOff")
    .withIndex("by_resourceId_and_end", (q) =>
      q.eq("resourceId", resourceId).gt("end", from).lt("end", to + MAX_TIME_OFF_LENGTH_MS),
    )
    .take(MAX_TIME_OFF_READ);
  return rows.filter((t) => t.start < to).map((t) => ({ start: t.start, end: t.end, ...(t.reason ? { reason: t.reason } : {}) }));
}

export async function overridesBetween(ctx: RawQueryCtx, resourceId: Id<"resources">, fromDate: string, toDate: string): Promise<DateOverride[]> {
  const rows = await ctx.db
    .query("resourceDateOverrides")
    .withIndex("by_resourceId_and_date", (q) =>
      q.eq("resourceId", resourceId).gte("date", fromDate).lte("date", toDate),
    )
    .take(400);
  return rows.map((o) => (o.closed ? { date: o.date, closed: true as const } : { date: o.date, hours: o.hours }));
}

export function busyBlockOf(a: Pick<Doc<"bookingAssignments">, "busyStart" | "busyEnd" | "capacityUnits">): BusyBlock {
  // busyStart/busyEnd already include the buffers of the resource at booking time.
  return { start: a.busyStart, end: a.busyEnd, units: a.capacityUnits };
}

/** The domain's view of a resource with the given busy blocks, overrides and time off. */
export function toAvailabilityResource(
  resource: Doc<"resources">,
  extra: Pick<AvailabilityResource, "busy" | "overrides" | "timeOff">,
): AvailabilityResource {
  return {
    id: resource._id,
    capacity: resource.capacity,
    weeklyHours: resource.weeklyHours as AvailabilityResource["weeklyHours"],
    bufferBeforeMinutes: resource.bufferBeforeMinutes,
    bufferAfterMinutes: resource.bufferAfterMinutes,
    maxBookingsPerDay: resource.maxBookingsPerDay,
    zoneIds: listOrAll(resource.zoneIds),
    productIds: listOrAll(resource.productIds),
    ...extra,
  };
}

function domainCheck(request: PlacementRequest, resource: AvailabilityResource, start: number): SlotCheck {
  const rules = request.business.policies.booking;
  const staff = request.mode === "staff";
  try {
    return checkSlot({
      resource,
      start,
      timeZone: request.business.timeZone,
      // Staff may place work inside the notice period and beyond the horizon, but never in
      // the past of the booking's own start (moving a job that is under way stays allowed).
      now: staff ? Math.min(request.now, start) : request.now,
      durationMinutes: request.durationMinutes,
      arrivalWindowMinutes: request.arrivalWindowMinutes,
      minimumNoticeMinutes: staff ? 0 : rules.minimumNoticeMinutes,
      bookingHorizonDays: staff || request.ignoreHorizon ? undefined : rules.bookingHorizonDays,
      zoneId: request.zoneId,
      productIds: request.productIds,
      units: 1,
    });
  } catch (error) {
    if (isDomainError(error)) {
      const refusal = { kind: "unreadable_schedule" as const };
      return { ok: false, code: "NOT_ELIGIBLE", reason: describeRefusal(refusal, { timeZone: request.business.timeZone }), refusal };
    }
    throw error;
  }
}

/**
 * A schedule change not written yet, to ask "which jobs would it hit" before committing it:
 * other settings of the resource (weekly hours, zones, products, …), one more time off, or
 * one date's override set (or removed, with null).
 */
export type ScheduleDraft = {
  resource?: Doc<"resources">;
  addTimeOff?: { start: number; end: number };
  override?: { date: string; set: { closed: boolean; hours: { start: string; end: string }[] } | null };
};

function draftOverrides(overrides: DateOverride[], draft: ScheduleDraft | undefined): DateOverride[] {
  const change = draft?.override;
  if (change === undefined) return overrides;
  const others = overrides.filter((o) => o.date !== change.date);
  if (change.set === null) return others;
  return [...others, change.set.closed ? { date: change.date, closed: true as const } : { date: change.date, hours: change.set.hours }];
}

/**
 * Reads everything one resource's check needs around `start` (bounded index ranges) and runs
 * the domain check, against the resource as it is or as a `draft` would make it. Read-only:
 * ranking candidates and previewing schedule changes use this without touching anything.
 */
export async function inspectResource(
  ctx: RawQueryCtx,
  request: PlacementRequest,
  stored: Doc<"resources">,
  draft?: ScheduleDraft,
): Promise<ResourceDayView> {
  const resource = draft?.resource ?? stored;
  const tz = request.business.timeZone;
  const spanMinutes = request.durationMinutes + request.arrivalWindowMinutes;
  const { busyStart, busyEnd } = busyWindow(resource, request.start, spanMinutes);
  const date = localDateOf(request.start, tz);
  const endDate = localDateOf(request.start + spanMinutes * MINUTE_MS, tz);
  const dayRange = localDayRange(date, tz);
  const from = Math.min(busyStart, dayRange.start);
  const to = Math.max(busyEnd, dayRange.end);
  const [day, assignments, timeOff, overrides] = await Promise.all([
    loadResourceDay(ctx, resource._id, date),
    activeAssignmentsAround(ctx, resource._id, from, to),
    timeOffAround(ctx, resource._id, from, to),
    overridesBetween(ctx, resource._id, addDays(date, -1), endDate),
  ]);
  const busy = assignments.filter((a) => a.bookingId !== request.excludeBookingId).map(busyBlockOf);
  const extraTimeOff = draft?.addTimeOff ? [draft.addTimeOff] : [];
  const view = toAvailabilityResource(resource, {
    busy,
    timeOff: [...timeOff, ...extraTimeOff],
    overrides: draftOverrides(overrides, draft),
  });
  const check = domainCheck(request, view, request.start);
  return { resource, date, day, check, busyStart, busyEnd };
}

/**
 * A refused check in a person's words, with the business's product names and time zone
 * ("does not do Deep clean", "busy 10:00–12:30"). The one place refusals are worded, for the
 * dispatch board's reasons and for the error the placing mutation throws alike.
 */
export async function refusalInWords(
  ctx: RawQueryCtx,
  request: Pick<PlacementRequest, "business" | "productIds">,
  check: Extract<SlotCheck, { ok: false }>,
  productNames?: Map<string, string>,
): Promise<string> {
  const names = productNames ?? new Map<string, string>();
  if (check.refusal.kind === "products") {
    for (const id of check.refusal.productIds) {
      if (names.has(id)) continue;
      const product = await ctx.db.get("products", id as Id<"products">);
      if (product !== null && product.businessId === request.business._id) names.set(id, product.name);
    }
  }
  return describeRefusal(check.refusal, { timeZone: request.business.timeZone, productName: (id) => names.get(id) });
}

export type Verdict =
  | { ok: true; view: ResourceDayView }
  | { ok: false; view: ResourceDayView; check: Extract<SlotCheck, { ok: false }>; words: string };

/**
 * Whether `resource` can take the request, and why not in words: the check `placeOnResource`
 * runs before placing, and the one the dispatch board's "who can take this job" asks.
 */
export async function judgeResource(
  ctx: RawQueryCtx,
  request: PlacementRequest,
  resource: Doc<"resources">,
  productNames?: Map<string, string>,
): Promise<Verdict> {
  const view = await inspectResource(ctx, request, resource);
  if (view.check.ok) return { ok: true, view };
  return { ok: false, view, check: view.check, words: await refusalInWords(ctx, request, view.check, productNames) };
}

export function slotUnavailable(reason: string, details: Record<string, string> = {}) {
  return appError("SLOT_UNAVAILABLE", reason, { param: "start", details });
}

/**
 * Places the booking on one resource: the serialization point described at the top. Touches
 * the resource-day document, re-reads, re-checks, inserts. Throws SLOT_UNAVAILABLE when the
 * resource cannot take it.
 */
export async function placeOnResource(
  ctx: RawMutationCtx,
  request: PlacementRequest,
  resource: Doc<"resources">,
  bookingId: Id<"bookings">,
  status: "offered" | "accepted",
): Promise<Doc<"bookingAssignments">> {
  if (resource.businessId !== request.business._id) throw appError("NOT_FOUND", "Resource not found.", { param: "resourceId" });
  const tz = request.business.timeZone;
  const date = localDateOf(request.start, tz);
  // 1. The unit of contention: read and write this resource-day before anything else.
  let day = await loadResourceDay(ctx, resource._id, date);
  if (day === null) {
    const id = await ctx.db.insert("resourceDays", {
      businessId: request.business._id,
      resourceId: resource._id,
      date,
      bookingCount: 0,
      lastAssignedAt: 0,
    });
    day = (await ctx.db.get("resourceDays", id))!;
  }
  // 2 + 3. Re-read the narrow range and re-check with the domain rule.
  const verdict = await judgeResource(ctx, request, resource);
  const view = verdict.view;
  if (!verdict.ok) {
    throw slotUnavailable(`${resource.name} cannot take this job: ${verdict.words}.`, {
      code: verdict.check.code,
      refusal: verdict.check.refusal.kind,
      resourceId: resource._id,
    });
  }
  if (view.busyEnd - view.busyStart > MAX_BUSY_SPAN_MS) {
    throw appError("INVALID_ARGUMENT", "The booking is too long to schedule.", { param: "cart" });
  }
  // 4. Insert and bump the counters (the write that makes racing placements conflict).
  const assignmentId = await ctx.db.insert("bookingAssignments", {
    businessId: request.business._id,
    bookingId,
    resourceId: resource._id,
    busyStart: view.busyStart,
    busyEnd: view.busyEnd,
    localDate: date,
    capacityUnits: 1,
    status,
    assignedAt: request.now,
  });
  await ctx.db.patch("resourceDays", day._id, { bookingCount: day.bookingCount + 1, lastAssignedAt: request.now });
  return (await ctx.db.get("bookingAssignments", assignmentId))!;
}

export type AssignOptions = { exclude?: Set<string>; preferred?: Id<"resources">[]; policy: "priority" | "round_robin" };

/**
 * Read-only: the resource the business's policy would choose among eligible resources that
 * pass the check (priority: lower priority first, then fewest jobs that day, least recently
 * assigned; round robin: the same without priority); a `preferred` resource that fits wins
 * (a reschedule keeps its provider when it can). A failure reason when none fits.
 */
export async function pickResource(
  ctx: RawQueryCtx,
  request: PlacementRequest,
  options: AssignOptions,
): Promise<{ resource: Doc<"resources"> } | { failure: string }> {
  const resources = (await eligibleResources(ctx, request.business._id, request.zoneId, request.productIds)).filter(
    (r) => !options.exclude?.has(r._id),
  );
  if (resources.length === 0) return { failure: "No active resource serves this zone and these services." };
  // Rank by the policy from the resource-day counters alone, then check candidates best-first
  // and stop at the first that fits: the same choice as checking all, with a fraction of the
  // reads (and of the ranges a concurrent booking could conflict with).
  const date = localDateOf(request.start, request.business.timeZone);
  const days = await Promise.all(resources.map((r) => loadResourceDay(ctx, r._id, date)));
  const byId = new Map(resources.map((r) => [r._id as string, r]));
  const ranked = rankCandidates(
    resources.map((r, i) => ({
      id: r._id,
      priority: options.policy === "priority" ? r.priority : 0,
      assignmentsToday: days[i]?.bookingCount ?? 0,
      lastAssignedAt: days[i] && days[i].lastAssignedAt > 0 ? days[i].lastAssignedAt : undefined,
    })),
  ).map((c) => byId.get(c.id)!);
  const preferred = (options.preferred ?? []).map((id) => byId.get(id)).filter((r) => r !== undefined);
  const order = [...new Set([...preferred, ...ranked])];
  const refusals = new Set<string>();
  for (const resource of order) {
    const view = await inspectResource(ctx, request, resource);
    if (view.check.ok) return { resource };
    refusals.add(view.check.code);
  }
  return { failure: `No resource is free at that time (${[...refusals].join(", ")}).` };
}

/** Chooses a resource by the business's policy (`pickResource`) and places the booking on it. */
export async function autoAssign(
  ctx: RawMutationCtx,
  request: PlacementRequest,
  bookingId: Id<"bookings">,
  options: AssignOptions,
): Promise<{ assignment: Doc<"bookingAssignments">; resource: Doc<"resources"> } | { failure: string }> {
  const picked = await pickResource(ctx, request, options);
  if ("failure" in picked) return picked;
  const assignment = await placeOnResource(ctx, request, picked.resource, bookingId, "offered");
  return { assignment, resource: picked.resource };
}

/**
 * Releases a booking's active assignments (idempotent: released/declined ones are left
 * alone) and decrements the resource-day counters. Returns the released rows.
 */
export async function releaseAssignments(
  ctx: RawMutationCtx,
  bookingId: Id<"bookings">,
  options: { only?: Id<"resources">; as?: "released" | "declined" } = {},
): Promise<Doc<"bookingAssignments">[]> {
  const rows = await ctx.db
    .query("bookingAssignments")
    .withIndex("by_bookingId", (q) => q.eq("bookingId", bookingId))
    .take(50);
  const released: Doc<"bookingAssignments">[] = [];
  for (const row of rows) {
    if (!isActiveAssignment(row)) continue;
    if (options.only !== undefined && row.resourceId !== options.only) continue;
    await ctx.db.patch("bookingAssignments", row._id, { status: options.as ?? "released" });
    const day = await loadResourceDay(ctx, row.resourceId, row.localDate);
    if (day !== null && day.bookingCount > 0) await ctx.db.patch("resourceDays", day._id, { bookingCount: day.bookingCount - 1 });
    released.push(row);
  }
  return released;
}

export async function assignmentsOf(ctx: RawQueryCtx, bookingId: Id<"bookings">) {
  return await ctx.db
    .query("bookingAssignments")
    .withIndex("by_bookingId", (q) => q.eq("bookingId", bookingId))
    .take(50);
}

/** Upper bound of overlapping unassigned bookings we look at in manual mode. */
const MAX_UNASSIGNED_READ = 200;
const UNASSIGNED_STATUSES = NOT_STARTED_STATUSES;

/**
 * Manual assignment mode: the booking waits unassigned in the dispatch queue, so nothing is
 * reserved on a resource yet. Capacity is still enforced at the business level: the number
 * of eligible resources free at that time must exceed the number of unassigned bookings that
 * already overlap it. The read of those bookings (an index range per status) makes racing
 * unassigned holds of the business conflict and retry, like the resource-day does for
 * assigned work. It is an upper bound check: the dispatcher's later `assign` still refuses
 * any resource that is not free.
 */
export async function checkManualCapacity(ctx: RawQueryCtx, request: PlacementRequest): Promise<void> {
  const resources = await eligibleResources(ctx, request.business._id, request.zoneId, request.productIds);
  const views = await Promise.all(resources.map((r) => inspectResource(ctx, request, r)));
  const free = views.filter((v) => v.check.ok).length;
  if (free === 0) {
    const reasons = [...new Set(views.map((v) => (v.check.ok ? "" : v.check.code)))].filter(Boolean);
    throw slotUnavailable(`No resource is free at that time (${reasons.join(", ") || "no eligible resource"}).`);
  }
  const end = request.start + (request.durationMinutes + request.arrivalWindowMinutes) * MINUTE_MS;
  let overlapping = 0;
  for (const status of UNASSIGNED_STATUSES) {
    const rows = await ctx.db
      .query("bookings")
      .withIndex("by_businessId_and_status_and_start", (q) =>
        q
          .eq("businessId", request.business._id)
          .eq("status", status)
          .gt("start", request.start - MAX_BUSY_SPAN_MS)
          .lt("start", end),
      )
      .take(MAX_UNASSIGNED_READ);
    overlapping += rows.filter(
      (b) => b._id !== request.excludeBookingId && b.assignedResourceIds.length === 0 && b.end > request.start,
    ).length;
  }
  if (overlapping >= free) {
    throw slotUnavailable("That time is fully booked.", { code: "INSUFFICIENT_CAPACITY" });
  }
}

export type FitResult = { ok: true } | { ok: false; code: string; reason: string };

/**
 * Read-only: whether a booking would fit right now under the business's assignment policy
 * (some eligible resource passes the check; with manual dispatch, the business-level
 * capacity check). Used to report per-occurrence conflicts before writing anything.
 */
export async function findFit(ctx: RawQueryCtx, request: PlacementRequest): Promise<FitResult> {
  if (request.business.policies.booking.autoAssign === "manual") {
    try {
      await checkManualCapacity(ctx, request);
      return { ok: true };
    } catch (error) {
      const data = (error as { data?: { code?: string; message?: string; details?: { code?: string } } }).data;
      if (data?.code === "SLOT_UNAVAILABLE") {
        return { ok: false, code: data.details?.code ?? "CONFLICT", reason: data.message ?? "Not available" };
      }
      throw error;
    }
  }
  const resources = await eligibleResources(ctx, request.business._id, request.zoneId, request.productIds);
  if (resources.length === 0) return { ok: false, code: "NOT_ELIGIBLE", reason: "No active resource serves this zone and these services." };
  const views = await Promise.all(resources.map((r) => inspectResource(ctx, request, r)));
  if (views.some((v) => v.check.ok)) return { ok: true };
  const first = views.find((v) => !v.check.ok)!.check as Extract<SlotCheck, { ok: false }>;
  const codes = [...new Set(views.map((v) => (v.check.ok ? "" : v.check.code)))];
  return { ok: false, code: codes.length === 1 ? first.code : "CONFLICT", reason: first.reason };
}
