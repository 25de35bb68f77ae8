/** Private invoices and payments feed: room per business, owners and managers only. Committed events only. */
import type * as Party from "partykit/server";
import { connectionGuard } from "./connect";
import { EventRoom } from "./event-room";

export default class InvoicesParty extends EventRoom<"invoices"> {
  static onBeforeConnect = connectionGuard("invoices");
  readonly party = "invoices";
}

InvoicesParty satisfies Party.Worker;
