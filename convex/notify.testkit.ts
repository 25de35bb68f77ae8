/**
 * Helpers for tests that deliver notifications for real (SMTP into maildev, HTTP to a fake
 * Twilio): a fake clock for the scheduler, and running delivery attempts one by one.
 */
import { vi } from "vitest";
import { MAX_ATTEMPTS } from "./model/notify";
import type { TestConvex } from "./test.setup";

/**
 * A fake clock for the scheduler (setTimeout and Date only): the SMTP client's own timers and
 * the sockets' callbacks stay real, and no timer is advanced while a delivery is under way.
 */
export function fakeClock(now = Date.UTC(2030, 0, 10, 12, 0)) {
  vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout", "Date"], now });
}

/** Runs the next due scheduled run (and waits for it): one delivery attempt. */
export async function deliverNext(t: TestConvex) {
  vi.advanceTimersToNextTimer();
  await t.finishInProgressScheduledFunctions();
}

/** Runs scheduled deliveries, attempt after attempt, until none is left. */
export async function deliverAll(t: TestConvex) {
  for (let i = 0; i < 3 * MAX_ATTEMPTS; i++) {
    const pending = await t.run(async (ctx) => (await ctx.db.system.query("_scheduled_functions").collect()).filter((j) => j.state.kind === "pending" || j.state.kind === "inProgress").length);
    if (pending === 0) return;
    await deliverNext(t);
  }
  throw new Error("deliveries still pending after every attempt");
}

