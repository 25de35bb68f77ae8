/**
 * Recurring jobs:
 * - every minute: release holds (and unpaid checkouts) whose time ran out. The scheduled
 *   `bookings.expireHold` of each hold normally does it first; the sweep catches any that a
 *   restart or a failed job missed. Both are idempotent.
 * - every 5 minutes: send due 24-hour and 2-hour reminders; every minute: send notifications
 *   other modules queued.
 * - every 5 seconds: deliver whatever the realtime outbox still holds (each mutation that
 *   emits events schedules its window's batched delivery run; this catches failures, retries and restarts).
 * - every minute: fan platform events out to partner webhook endpoints and retry deliveries.
 * - hourly: delete one-time account codes nobody used before they expired (auth.ts), and the
 *   records of used sign-in tickets past their expiry (authTickets.ts).
 * - daily: delete expired REST idempotency records; extend every active recurring plan to the
 *   booking horizon (series.extendActivePlans).
 */
import { cronJobs } from "convex/server";
import { internal } from "./_generated/api";

const crons = cronJobs();

crons.interval("sweep expired holds", { minutes: 1 }, internal.bookings.sweepExpiredHolds, {});
crons.interval("send due reminders", { minutes: 5 }, internal.notifications.sendDueReminders, {});
crons.interval("send queued notifications", { minutes: 1 }, internal.notifications.deliverQueued, {});
crons.interval("deliver realtime outbox", { seconds: 5 }, internal.realtime.sweep, {});
crons.interval("partner webhook sweep", { minutes: 1 }, internal.webhookDelivery.sweep, {});
crons.daily(
  "purge expired idempotency records",
  { hourUTC: 4, minuteUTC: 30 },
  internal.api.internalRequests.purgeExpiredIdempotencyRecords,
  {},
);

crons.interval("purge expired account codes", { hours: 1 }, internal.accounts.purgeExpiredCodes, {});
crons.interval("purge used sign-in tickets", { hours: 1 }, internal.authTickets.purgeUsed, {});

crons.daily("extend recurring plans", { hourUTC: 5, minuteUTC: 10 }, internal.series.extendActivePlans, {});

export default crons;
