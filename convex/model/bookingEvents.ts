/**
 * Booking and invoice events, written through the outbox (`model/events.ts`) in the same
 * transaction as the change.
 *
 * Each PartyKit party validates its pushes with a strict schema of its own
 * (`party/messages.ts`), so one change is emitted once per audience with the data that
 * audience may see:
 *  - `booking.<change>` to the business's and the customer's `bookings` rooms (the event
 *    partners' webhooks also see);
 *  - `dispatch.<change>` to the `dispatch` room of the booking's local date (and of the old
 *    date when a reschedule moves it to another day);
 *  - `availability.changed` to the public `availability` room of (zone, date): ids, dates
 *    and a reason only, never personal data.
 */
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "../_generated/server";
import { zonesServedBy } from "./availabilityGrid";
import { emitEvent, rooms } from "./events";

export type BookingChange = "held" | "confirmed" | "rescheduled" | "cancelled" | "status_changed" | "assigned" | "expired";

const SLOT_REASON: Partial<Record<BookingChange, string>> = {
  held: "hold_created",
  confirmed: "booking_created",
  rescheduled: "booking_rescheduled",
  cancelled: "booking_cancelled",
  expired: "hold_expired",
  assigned: "capacity_changed",
  status_changed: "capacity_changed",
};

function shortText(value: string | undefined): string | undefined {
  if (value === undefined || value.length === 0) return undefined;
  return value.length > 200 ? value.slice(0, 200) : value;
}

export function bookingSummary(booking: Doc<"bookings">, customerName?: string) {
  const summary: Record<string, string | number | string[]> = {
    bookingId: booking._id,
    status: booking.status,
    startsAt: booking.start,
    endsAt: booking.end,
    zoneId: booking.zoneId,
    customerId: booking.customerId,
    resourceIds: booking.assignedResourceIds,
  };
  const service = shortText(booking.items[0]?.name);
  if (service !== undefined) summary.serviceName = service;
  const name = shortText(customerName);
  if (name !== undefined) summary.customerName = name;
  return summary;
}

export type ChangeDetails = {
  from?: Doc<"bookings">["status"];
  previous?: { start: number; end: number; localDate: string };
  previousResourceIds?: Id<"resources">[];
  /** Resources whose availability changed (defaults to the booking's). */
  resourceIds?: Id<"resources">[];
  /** Whether slot availability changed (default true for held/cancelled/rescheduled/expired/assigned). */
  availabilityChanged?: boolean;
};

export async function emitBookingChange(
  ctx: RawMutationCtx,
  booking: Doc<"bookings">,
  change: BookingChange,
  details: ChangeDetails = {},
): Promise<void> {
  const businessId = booking.businessId;
  const entity = { table: "bookings", id: booking._id };
  const customer = await ctx.db.get("customers", booking.customerId);
  const summary = bookingSummary(booking, customer?.name);
  const now = Date.now();

  // 1. bookings rooms (business + the customer's own).
  const bookingsData =
    change === "rescheduled" && details.previous
      ? {
          type: "booking.rescheduled",
          businessId,
          customerId: booking.customerId,
          bookingId: booking._id,
          startsAt: booking.start,
          endsAt: booking.end,
          previousStartsAt: details.previous.start,
          previousEndsAt: details.previous.end,
        }
      : { type: "booking.upserted", businessId, booking: summary };
  await emitEvent(ctx, {
    businessId,
    type: `booking.${change}`,
    entity,
    data: bookingsData,
    rooms: [rooms.businessBookings(businessId), rooms.customerBookings(businessId, booking.customerId)],
  });

  // 2. dispatch room of the day (and the old day).
  let dispatchData: Record<string, unknown>;
  if (change === "assigned") {
    dispatchData = {
      type: "booking.assigned",
      businessId,
      date: booking.localDate,
      bookingId: booking._id,
      resourceIds: booking.assignedResourceIds,
      previousResourceIds: details.previousResourceIds ?? [],
    };
  } else if (details.from !== undefined && details.from !== booking.status) {
    dispatchData = {
      type: "booking.status_changed",
      businessId,
      date: booking.localDate,
      bookingId: booking._id,
      from: details.from,
      to: booking.status,
      changedAt: now,
    };
  } else {
    dispatchData = { type: "booking.upserted", businessId, date: booking.localDate, booking: summary };
  }
  await emitEvent(ctx, {
    businessId,
    type: `dispatch.booking_${change}`,
    entity,
    data: dispatchData as Doc<"events">["data"],
    rooms: [rooms.dispatch(businessId, booking.localDate)],
  });
  if (details.previous && details.previous.localDate !== booking.localDate) {
    await emitEvent(ctx, {
      businessId,
      type: "dispatch.booking_removed",
      entity,
      data: { type: "booking.removed", businessId, date: details.previous.localDate, bookingId: booking._id },
      rooms: [rooms.dispatch(businessId, details.previous.localDate)],
    });
  }

  // 3. public availability notices, no personal data.
  const reason = SLOT_REASON[change];
  const availabilityChanged = details.availabilityChanged ?? (change !== "status_changed" && change !== "confirmed");
  if (reason !== undefined && availabilityChanged) {
    const resourceIds = [...new Set([...(details.resourceIds ?? booking.assignedResourceIds), ...(details.previousResourceIds ?? [])])];
    const dates = new Set([booking.localDate]);
    if (details.previous) dates.add(details.previous.localDate);
    // The resources' time is free or taken in every zone they serve, not only the booking's.
    const zoneIds = await zonesServedBy(ctx, businessId, booking.zoneId, resourceIds as Id<"resources">[]);
    for (const zoneId of zoneIds) {
      for (const date of dates) {
        await emitEvent(ctx, {
          businessId,
          type: "availability.changed",
          entity: { table: "zones", id: zoneId },
          data: { type: "slots.changed", businessId, zoneId, date, resourceIds, reason },
          rooms: [rooms.availability(businessId, zoneId, date)],
        });
      }
    }
  }
}

const INVOICE_STATUS_LABEL: Record<Doc<"invoices">["status"], string> = {
  draft: "DRAFT",
  open: "OPEN",
  paid: "PAID",
  partially_refunded: "PARTIALLY_REFUNDED",
  refunded: "REFUNDED",
  void: "VOID",
};

export async function emitInvoiceChange(ctx: RawMutationCtx, invoice: Doc<"invoices">, change: "issued" | "paid" | "updated" | "voided") {
  await emitEvent(ctx, {
    businessId: invoice.businessId,
    type: `invoice.${change}`,
    entity: { table: "invoices", id: invoice._id },
    data: {
      type: "invoice.upserted",
      businessId: invoice.businessId,
      invoice: {
        invoiceId: invoice._id,
        bookingId: invoice.bookingId,
        customerId: invoice.customerId,
        status: INVOICE_STATUS_LABEL[invoice.status],
        currency: invoice.currency,
        totalMinor: invoice.totalMinor,
        amountPaidMinor: invoice.amountPaidMinor,
        amountRefundedMinor: invoice.amountRefundedMinor,
      },
    },
    rooms: [rooms.invoices(invoice.businessId)],
  });
}

/**
 * Queues a customer notification for the booking (rendered and logged by
 * `notifications.notifyBookingEvent`, run right after this transaction commits, so a
 * rolled-back change never notifies anyone).
 */
export async function notifyCustomer(
  ctx: RawMutationCtx,
  bookingId: Id<"bookings">,
  templateKey: "booking_confirmed" | "booking_rescheduled" | "booking_cancelled" | "provider_en_route" | "review_request",
  once = false,
) {
  await ctx.scheduler.runAfter(0, internal.notifications.notifyBookingEvent, { bookingId, templateKey, once });
}
