/**
 * The cart-free slot grid of one zone and local day (`domain/slotGrid.ts`): what the public
 * availability room keeps and diffs for anonymous visitors (the booking widget).
 *
 * - `day` (public, like `availability.slots`: ids, instants and minutes only) is read by a room
 *   that has no grid yet or an old one (once per room, not per visitor: through Convex's HTTP
 *   query API), and by the widget once after the server refused a slot it offered.
 * - `forRoom` (internal) is what the outbox delivery (`realtime.ts`) attaches to every push to
 *   an availability room, so the room's grid is never older than the last change it was told of:
 *   the rows of the resources a booking changed, or the whole grid (schedule changes).
 */
import { v } from "convex/values";
import { isValidLocalDate } from "../domain/time";
import { tryParseRoomId } from "../party/rooms";
import { appError } from "./errors";
import { internalQuery, query } from "./functions";
import { slotGridFor } from "./model/availabilityGrid";
import { requireBookableBusiness, requireZone } from "./model/bookingCreate";

export const vSlotGrid = v.object({
  date: v.string(),
  timeZone: v.string(),
  dayStart: v.number(),
  stepMinutes: v.number(),
  minimumNoticeMinutes: v.number(),
  arrivalWindowMinutes: v.number(),
  asOf: v.number(),
  resources: v.array(v.object({ id: v.string(), productIds: v.array(v.string()), spans: v.array(v.number()) })),
});

export const day = query({
  args: { businessId: v.id("businesses"), zoneId: v.id("zones"), date: v.string() },
  returns: vSlotGrid,
  handler: async (ctx, args) => {
    if (!isValidLocalDate(args.date)) throw appError("INVALID_ARGUMENT", "`date` must be a date YYYY-MM-DD.", { param: "date" });
    const business = await requireBookableBusiness(ctx, args.businessId);
    const zone = await requireZone(ctx, business, args.zoneId);
    return await slotGridFor(ctx, business, zone, args.date);
  },
});

/**
 * The grid of an availability room id, or null when its business or zone takes no bookings.
 * With `resourceIds` (the resources a booking's change took or gave time of), only their rows:
 * those of them that serve the zone (the delivery sends the whole grid when one does not).
 */
export const forRoom = internalQuery({
  args: { room: v.string(), resourceIds: v.optional(v.array(v.string())) },
  returns: v.union(vSlotGrid, v.null()),
  handler: async (ctx, args) => {
    const key = tryParseRoomId("availability", args.room);
    if (!key.ok) throw appError("INVALID_ARGUMENT", key.message, { param: "room" });
    const businessId = ctx.db.normalizeId("businesses", key.key.businessId);
    const zoneId = ctx.db.normalizeId("zones", key.key.zoneId);
    if (businessId === null || zoneId === null) return null;
    const business = await ctx.db.get("businesses", businessId);
    const zone = await ctx.db.get("zones", zoneId);
    if (business === null || business.status !== "ACTIVE" || zone === null || zone.businessId !== business._id || !zone.active) {
      return null;
    }
    return await slotGridFor(ctx, business, zone, key.key.date, args.resourceIds);
  },
});
