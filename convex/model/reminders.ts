/**
 * Booking reminders, sent by the cron (`notifications.sendDueReminders`, every 5 minutes).
 *
 * When each is due, in the business's time zone:
 * - reminder_24h: at the booking's wall-clock time on the local day before (a 09:00 visit is
 *   reminded at 09:00 the day before), which across a DST change is 23 or 25 hours ahead,
 *   not a fixed 24 hours; a time the clock skips that day maps forward;
 * - reminder_2h: two hours (elapsed) before the start.
 *
 * A reminder is sent once per booking and start: a booking moved after its reminder went out
 * is reminded again for the new time (the row's `bookingStart` says which start it was for).
 * A booking made after a reminder's moment gets none for it (its confirmation has just told
 * the customer), and the 24 h one is dropped once the 2 h one is due. Only CONFIRMED bookings
 * of ACTIVE businesses are reminded.
 */
import { addDays, instantToLocal, localMinutesToInstant } from "../../domain";
import type { Doc } from "../_generated/dataModel";
import type { MutationCtx as RawMutationCtx } from "../_generated/server";
import { notifyBooking } from "./bookingNotify";

type Ctx = Pick<RawMutationCtx, "db" | "scheduler">;
export type ReminderKey = "reminder_24h" | "reminder_2h";

const HOUR = 3_600_000;
/** The earliest a reminder can be due before the start (a 25-hour day before a DST change, plus slack). */
const LOOK_AHEAD = 26 * HOUR;
const MAX_BUSINESSES_PER_RUN = 1_000;
const MAX_SENDS_PER_RUN = 200;

/** The instant a reminder of a booking starting at `start` is due, in the business's zone. */
export function reminderDueAt(key: ReminderKey, start: number, timeZone: string): number {
  if (key === "reminder_2h") return start - 2 * HOUR;
  const local = instantToLocal(start, timeZone);
  return localMinutesToInstant(addDays(local.date, -1), local.minutes, timeZone);
}

/** Which reminder a booking should get at `now`, or null (none due, or booked after its moment). */
export function dueReminder(booking: Pick<Doc<"bookings">, "start" | "createdAt">, now: number, timeZone: string): ReminderKey | null {
  if (booking.start <= now) return null;
  for (const key of ["reminder_2h", "reminder_24h"] as const) {
    const dueAt = reminderDueAt(key, booking.start, timeZone);
    if (now < dueAt) continue;
    // Booked after this reminder's moment: the confirmation has just said it all.
    return booking.createdAt > dueAt ? null : key;
  }
  return null;
}

async function alreadySent(ctx: Ctx, booking: Doc<"bookings">, key: ReminderKey): Promise<boolean> {
  const rows = await ctx.db
    .query("notifications")
    .withIndex("by_bookingId_and_templateKey", (q) => q.eq("bookingId", booking._id).eq("templateKey", key))
    .take(20);
  // Rows written before `bookingStart` existed count as sent for the current start.
  return rows.some((row) => row.bookingStart === undefined || row.bookingStart === booking.start);
}

/** Sends every reminder due at `now`; at most 200 per run (`more`: run again soon). */
export async function sendDueReminders(ctx: Ctx, now: number) {
  const sent = { reminder_24h: 0, reminder_2h: 0 };
  let budget = MAX_SENDS_PER_RUN;
  const businesses = await ctx.db
    .query("businesses")
    .withIndex("by_status", (q) => q.eq("status", "ACTIVE"))
    .take(MAX_BUSINESSES_PER_RUN);
  for (const business of businesses) {
    const upcoming = await ctx.db
      .query("bookings")
      .withIndex("by_businessId_and_status_and_start", (q) =>
        q.eq("businessId", business._id).eq("status", "CONFIRMED").gt("start", now).lte("start", now + LOOK_AHEAD),
      )
      .take(2 * MAX_SENDS_PER_RUN);
    for (const booking of upcoming) {
      const key = dueReminder(booking, now, business.timeZone);
      if (key === null || (await alreadySent(ctx, booking, key))) continue;
      if (budget === 0) return { ...sent, more: true };
      await notifyBooking(ctx, booking, key);
      sent[key]++;
      budget--;
    }
  }
  return { ...sent, more: false };
}
