/**
 * What availability is computed from, read once for both answers: the customer's slots for a
 * cart (`availability.slots`) and the cart-free slot grid of one zone and day that the public
 * availability room keeps (`domain/slotGrid.ts`, pushed by `realtime.ts` with each delivery to
 * an availability room). And the pushes a schedule change owes the rooms it touches.
 *
 * Plain module: no registered functions.
 */
import type { AvailabilityResource } from "../../domain/availability";
import { isDomainError } from "../../domain/errors";
import { computeSlotGrid, type SlotGrid } from "../../domain/slotGrid";
import { addDays, DAY_MS, localDateOf, localDayRange } from "../../domain/time";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx, QueryCtx as RawQueryCtx } from "../_generated/server";
import { appError } from "../errors";
import {
  activeAssignmentsAround,
  busyBlockOf,
  eligibleResources,
  overridesBetween,
  timeOffAround,
  toAvailabilityResource,
} from "./bookingSlots";
import { emitEvent, rooms } from "./events";

/**
 * Most assignment rows read per resource for one call: over 40 jobs a day for the longest
 * range. A busier range is refused with a clear error rather than answered from part of it.
 */
export const MAX_ASSIGNMENTS_PER_RESOURCE = 4000;
/** A schedule change re-pushes the grids of at most this many days from today. */
export const LIVE_GRID_DAYS = 14;
const MAX_ZONES_PUSHED = 10;

/**
 * The resources serving the zone (and every product in `productIds`; none = any product), each
 * with everything that can touch a slot starting on [fromDate, toDate]: a day either side for
 * hours that cross midnight and for buffers.
 */
export async function availabilityInputs(
  ctx: RawQueryCtx,
  business: Doc<"businesses">,
  zoneId: Id<"zones">,
  productIds: Id<"products">[],
  fromDate: string,
  toDate: string,
  only?: ReadonlySet<string>,
): Promise<AvailabilityResource[]> {
  const tz = business.timeZone;
  const rangeStart = localDayRange(addDays(fromDate, -1), tz).start;
  const rangeEnd = localDayRange(addDays(toDate, 1), tz).end;
  const eligible = await eligibleResources(ctx, business._id, zoneId, productIds);
  const resources = only === undefined ? eligible : eligible.filter((r) => only.has(r._id));
  return await Promise.all(
    resources.map(async (resource) => {
      const [assignments, timeOff, overrides] = await Promise.all([
        activeAssignmentsAround(ctx, resource._id, rangeStart, rangeEnd, MAX_ASSIGNMENTS_PER_RESOURCE),
        timeOffAround(ctx, resource._id, rangeStart, rangeEnd),
        overridesBetween(ctx, resource._id, addDays(fromDate, -1), addDays(toDate, 1)),
      ]);
      return toAvailabilityResource(resource, { busy: assignments.map(busyBlockOf), timeOff, overrides });
    }),
  );
}

/**
 * The slot grid of a zone on one local date of the business, as of now; with `only`, just the
 * rows of those resources among the ones serving the zone (what a change to their time
 * alters: `patchGrid` puts them into the room's grid), read and computed for them alone.
 */
export async function slotGridFor(
  ctx: RawQueryCtx,
  business: Doc<"businesses">,
  zone: Doc<"zones">,
  date: string,
  only?: readonly string[],
): Promise<SlotGrid> {
  const rules = business.policies.booking;
  const inputs = await availabilityInputs(ctx, business, zone._id, [], date, date, only === undefined ? undefined : new Set(only));
  try {
    return computeSlotGrid(
      {
        timeZone: business.timeZone,
        date,
        now: Date.now(),
        stepMinutes: rules.slotStepMinutes,
        minimumNoticeMinutes: rules.minimumNoticeMinutes,
        bookingHorizonDays: rules.bookingHorizonDays,
        arrivalWindowMinutes: rules.arrivalWindowMinutes,
        zoneId: zone._id,
      },
      inputs,
    );
  } catch (error) {
    if (isDomainError(error)) throw appError("INVALID_ARGUMENT", error.message, { details: { domainCode: error.code } });
    throw error;
  }
}

/**
 * After a change to a resource's schedule or settings (hours, overrides, time off, zones,
 * services, buffers, limits, capacity, activity): a `slots.changed` notice to the availability
 * room of every zone the resource serves (before or after) and every local date of `range`
 * within the next LIVE_GRID_DAYS days; the delivery carries each room's fresh grid.
 */
export async function emitScheduleChanged(
  ctx: RawMutationCtx,
  resources: Doc<"resources">[],
  range: { from: number; to: number },
  now: number,
): Promise<void> {
  const first = resources[0];
  if (first === undefined) return;
  const business = await ctx.db.get("businesses", first.businessId);
  if (business === null || business.status !== "ACTIVE") return;
  const tz = business.timeZone;
  const from = Math.max(range.from, now - DAY_MS);
  const to = Math.min(range.to, now + LIVE_GRID_DAYS * DAY_MS);
  if (to < from) return;
  const zoneIds = new Set<Id<"zones">>();
  if (resources.some((r) => r.zoneIds.length === 0)) {
    const zones = await ctx.db
      .query("zones")
      .withIndex("by_businessId", (q) => q.eq("businessId", business._id))
      .take(MAX_ZONES_PUSHED);
    for (const z of zones) if (z.active) zoneIds.add(z._id);
  }
  for (const r of resources) for (const z of r.zoneIds) if (zoneIds.size < MAX_ZONES_PUSHED) zoneIds.add(z);
  if (zoneIds.size === 0) return;
  const dates: string[] = [];
  for (let date = localDateOf(from, tz), last = localDateOf(to, tz); date <= last && dates.length <= LIVE_GRID_DAYS; date = addDays(date, 1)) {
    dates.push(date);
  }
  const resourceIds = [...new Set(resources.map((r) => r._id))];
  for (const zoneId of zoneIds) {
    for (const date of dates) {
      await emitEvent(ctx, {
        businessId: business._id,
        type: "availability.changed",
        entity: { table: "resources", id: first._id },
        data: { type: "slots.changed", businessId: business._id, zoneId, date, resourceIds, reason: "schedule_changed" },
        rooms: [rooms.availability(business._id, zoneId, date)],
      });
    }
  }
}

/**
 * The zones whose availability a change to these resources' time touches: the booking's zone
 * first, then every other active zone they serve (a resource without zones serves them all).
 */
export async function zonesServedBy(
  ctx: RawQueryCtx,
  businessId: Id<"businesses">,
  bookingZoneId: Id<"zones">,
  resourceIds: Id<"resources">[],
): Promise<Id<"zones">[]> {
  const zoneIds = new Set<Id<"zones">>([bookingZoneId]);
  let everyZone = false;
  for (const id of resourceIds) {
    const resource = await ctx.db.get("resources", id);
    if (resource === null || resource.businessId !== businessId) continue;
    if (resource.zoneIds.length === 0) everyZone = true;
    for (const z of resource.zoneIds) zoneIds.add(z);
  }
  if (everyZone) {
    const zones = await ctx.db
      .query("zones")
      .withIndex("by_businessId", (q) => q.eq("businessId", businessId))
      .take(MAX_ZONES_PUSHED);
    for (const z of zones) if (z.active) zoneIds.add(z._id);
  }
  return [...zoneIds].slice(0, MAX_ZONES_PUSHED);
}
