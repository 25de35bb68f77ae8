/**
 * The transactional outbox. `emitEvent` is called inside the mutation that makes a change,
 * so the event and its pushes commit (or roll back) together with the change itself.
 *
 * For each PartyKit room the event goes to, the room's `outboxRooms.lastSeq` is incremented
 * (one small document per room: the unit of contention is the room, never a global
 * counter) and a pending `outbox` row is written with that sequence number. A delivery
 * worker (`realtime.ts`) POSTs pending rows to PartyKit in `seq` order per room; clients use
 * `seq` to detect gaps and refetch.
 *
 * Plain module: no registered functions.
 */
import type { Value } from "convex/values";
import { buildRoomId, type RoomKey } from "../../party/rooms";
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { AVAILABILITY_WINDOW_MS, DELIVERY_WINDOW_MS, requestDelivery } from "../realtime";
import { fanOutEvent } from "./webhookFanout";

export type { RoomKey } from "../../party/rooms";

export type EventEntity = { table: string; id: string };

export type EmitEventArgs = {
  businessId: Id<"businesses">;
  /** Dotted lower-case name, `<entity>.<what happened>`: "booking.confirmed", "customer.updated". */
  type: string;
  entity: EventEntity;
  /**
   * The event body, delivered as is to every listed room and to partner webhooks.
   *
   * PRIVACY: the caller decides what goes here, and it reaches every subscriber of every
   * room listed. Public rooms (the `availability` party is readable by anyone browsing the
   * business) must get NO personal data: no customer names, emails, phones, addresses or
   * notes; only ids, times and counts. Put personal data only in events whose rooms are
   * authenticated per business or per customer (dispatch, bookings, invoices, customers).
   * When public and private rooms need different data, call `emitEvent` twice.
   */
  data: Value;
  /** The PartyKit rooms to push to; may be empty (event log and partner webhooks only). */
  rooms: RoomKey[];
  /**
   * What the rooms receive, when it differs from `data` (which partners and the event log
   * get): e.g. a notice saying what changed, without the record's personal data.
   */
  roomData?: Value;
};

export type OutboxPayload = {
  seq: number;
  event: { id: Id<"events">; type: string; entity: EventEntity; data: Value; createdAt: number };
};

const EVENT_TYPE = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;

/** Records one event and queues one push per distinct room. Returns the event's id. */
export async function emitEvent(ctx: MutationCtx, args: EmitEventArgs): Promise<Id<"events">> {
  if (!EVENT_TYPE.test(args.type)) {
    throw new Error(`emitEvent: event type ${JSON.stringify(args.type)} must look like "entity.action"`);
  }
  // Resolve every room id first: a malformed key throws before anything is written.
  const rooms = new Map<string, { party: RoomKey["party"]; room: string }>();
  for (const key of args.rooms) {
    if (key.businessId !== args.businessId) {
      throw new Error(`emitEvent: room of business ${key.businessId} listed for an event of business ${args.businessId}`);
    }
    const room = buildRoomId(key);
    rooms.set(`${key.party}/${room}`, { party: key.party, room });
  }

  const createdAt = Date.now();
  const eventId = await ctx.db.insert("events", {
    businessId: args.businessId,
    type: args.type,
    entity: args.entity,
    data: args.data,
    createdAt,
  });

  for (const { party, room } of rooms.values()) {
    const counter = await ctx.db
      .query("outboxRooms")
      .withIndex("by_party_and_room", (q) => q.eq("party", party).eq("room", room))
      .unique();
    let seq: number;
    if (counter === null) {
      seq = 1;
      await ctx.db.insert("outboxRooms", { party, room, lastSeq: seq });
    } else {
      seq = counter.lastSeq + 1;
      await ctx.db.patch("outboxRooms", counter._id, { lastSeq: seq });
    }
    const payload: OutboxPayload = {
      seq,
      event: { id: eventId, type: args.type, entity: args.entity, data: args.roomData ?? args.data, createdAt },
    };
    await ctx.db.insert("outbox", {
      eventId,
      party,
      room,
      seq,
      payload,
      status: "pending",
      attempts: 0,
      nextAttemptAt: createdAt,
    });
  }
  // Partner webhooks subscribed to this type get their deliveries queued in this same
  // transaction; PartyKit pushes are delivered right after commit (and by the cron sweep).
  await fanOutEvent(ctx, eventId);
  if (rooms.size > 0) {
    const availability = [...rooms.values()].some((r) => r.party === "availability");
    await requestDelivery(ctx, availability ? AVAILABILITY_WINDOW_MS : DELIVERY_WINDOW_MS);
  }
  return eventId;
}

/** Room keys a module commonly needs, so callers do not spell the scheme by hand. */
export const rooms = {
  customers: (businessId: Id<"businesses">): RoomKey => ({ party: "customers", businessId }),
  businessBookings: (businessId: Id<"businesses">): RoomKey => ({ party: "bookings", businessId }),
  customerBookings: (businessId: Id<"businesses">, customerId: Id<"customers">): RoomKey => ({
    party: "bookings",
    businessId,
    customerId,
  }),
  dispatch: (businessId: Id<"businesses">, date: string): RoomKey => ({ party: "dispatch", businessId, date }),
  availability: (businessId: Id<"businesses">, zoneId: Id<"zones">, date: string): RoomKey => ({
    party: "availability",
    businessId,
    zoneId,
    date,
  }),
  invoices: (businessId: Id<"businesses">): RoomKey => ({ party: "invoices", businessId }),
};
