/**
 * Private bookings feed: room per business (staff see every booking) and per customer of a
 * business (a customer sees only their own). Committed events only; clients send nothing.
 */
import type * as Party from "partykit/server";
import { connectionGuard } from "./connect";
import { EventRoom } from "./event-room";

export default class BookingsParty extends EventRoom<"bookings"> {
  static onBeforeConnect = connectionGuard("bookings");
  readonly party = "bookings";
}

BookingsParty satisfies Party.Worker;
