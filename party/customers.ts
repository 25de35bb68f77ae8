/** Private CRM feed: room per business, "customer X changed" notices for staff. Committed events only. */
import type * as Party from "partykit/server";
import { connectionGuard } from "./connect";
import { EventRoom } from "./event-room";

export default class CustomersParty extends EventRoom<"customers"> {
  static onBeforeConnect = connectionGuard("customers");
  readonly party = "customers";
}

CustomersParty satisfies Party.Worker;
