/**
 * Shared helpers for the booking-core tests (availability, bookings, dispatch, series,
 * invoices, seed). Two dots in the name: never deployed.
 *
 * The clock is fixed at NOW (Monday 2026-03-02 07:00 in New York) with fake timers, so
 * "tomorrow 10:00" is always Tuesday 2026-03-03 10:00 EST.
 */
import { expect, vi } from "vitest";
import { localToInstant } from "../domain/time";
import type { Id } from "./_generated/dataModel";
import type { TestConvex } from "./test.setup";
import {
  aBusiness,
  aCatalogue,
  aCustomer,
  aManager,
  aProvider,
  aZone,
  type ResourceOptions,
} from "./test.builders";

export const TZ = "America/New_York";
export const NOW = Date.parse("2026-03-02T12:00:00Z");
export const TUESDAY = "2026-03-03";
export const WEDNESDAY = "2026-03-04";

export function at(date: string, time: string, timeZone = TZ): number {
  return localToInstant(date, time, timeZone);
}

export function freezeClock(now = NOW) {
  vi.useFakeTimers();
  vi.setSystemTime(now);
}

export async function errorOf(promise: Promise<unknown>): Promise<{ code?: string; param?: string; details?: Record<string, unknown>; message?: string } | null> {
  const error = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  if (error === null) return null;
  const data = (error as { data?: { code?: string; param?: string; details?: Record<string, unknown> } }).data;
  return data ?? { message: String(error) };
}

export async function expectCode(promise: Promise<unknown>, code: string, param?: string) {
  const data = await errorOf(promise);
  expect(data, `expected ${code}`).not.toBeNull();
  expect(data?.code, JSON.stringify(data)).toBe(code);
  if (param !== undefined) expect(data?.param).toBe(param);
  return data!;
}

export type Policies = Parameters<typeof aBusiness>[1] extends infer O ? (O extends { policies?: infer P } ? P : never) : never;

/**
 * An ACTIVE New York business with a zone, a catalogue (Standard clean: $100, 120 min,
 * 1 room included, +$25/+30 min per room; flat $20/30 min "Inside fridge"), one provider
 * (Mon–Fri 09:00–17:00), a manager and a customer. No minimum notice by default so tests
 * can book the next morning.
 */
export async function bookingScenario(
  t: TestConvex,
  opts: { policies?: Policies; provider?: ResourceOptions; timeZone?: string } = {},
) {
  const biz = await aBusiness(t, {
    timeZone: opts.timeZone ?? TZ,
    policies: { ...opts.policies, booking: { minimumNoticeMinutes: 0, ...opts.policies?.booking } },
  });
  const { zoneId } = await aZone(t, biz.businessId, { taxRateBp: 0 });
  const catalogue = await aCatalogue(t, biz.businessId);
  const provider = await aProvider(t, biz.businessId, { name: "Pat Provider", ...opts.provider });
  const manager = await aManager(t, biz.businessId);
  const customer = await aCustomer(t, biz.businessId, { name: "Alice Customer" });
  const cart = [{ productId: catalogue.productId, quantity: 1, extras: [] as { extraId: Id<"extras">; quantity: number }[] }];
  return { ...biz, zoneId, catalogue, provider, manager, customer, cart };
}

export type Scenario = Awaited<ReturnType<typeof bookingScenario>>;
