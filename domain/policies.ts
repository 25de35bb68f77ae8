/**
 * Cancellation, no-show and reschedule policies.
 *
 * A cancellation is free until `freeCancellationHours` before the start; from the cut-off
 * on (including after the start) the late fee applies: `lateCancellationFeeMinor` plus
 * `lateCancellationFeeBp` of the booking total. Every fee is capped at the booking total.
 * Refund = paid − fee, never negative: an unpaid fee beyond what was paid is not refunded
 * (collecting it is the caller's business, reported as `outstandingFeeMinor`).
 */
import { assertInteger, invalidArgument } from "./errors";
import { applyBasisPoints, assertMinor } from "./money";
import { HOUR_MS } from "./time";

export interface CancellationPolicy {
  /** Hours before the start up to which cancelling is free. 0 = free until the start. */
  freeCancellationHours: number;
  lateCancellationFeeMinor?: number;
  lateCancellationFeeBp?: number;
  noShowFeeMinor?: number;
  noShowFeeBp?: number;
  /** Hours before the start up to which rescheduling is free. Defaults to the cancellation cut-off. */
  freeRescheduleHours?: number;
  lateRescheduleFeeMinor?: number;
  lateRescheduleFeeBp?: number;
  /** How many times one booking may be rescheduled; undefined = unlimited. */
  maxReschedules?: number;
  /** Whether a late reschedule is allowed at all (with its fee). Default true. */
  allowLateReschedule?: boolean;
}

export interface PolicyBooking {
  startsAt: number;
  totalMinor: number;
  paidMinor: number;
  rescheduleCount?: number;
}

export interface FeeDecision {
  feeMinor: number;
  refundMinor: number;
  /** Fee not covered by what was paid. */
  outstandingFeeMinor: number;
  isFree: boolean;
  reason: string;
}

export type RescheduleDecision =
  | { allowed: true; feeMinor: number; isFree: boolean; reason: string }
  | { allowed: false; feeMinor: 0; reason: string };

export function validatePolicy(policy: CancellationPolicy): CancellationPolicy {
  assertInteger(policy.freeCancellationHours, "freeCancellationHours", 0, 24 * 366);
  if (policy.freeRescheduleHours !== undefined) assertInteger(policy.freeRescheduleHours, "freeRescheduleHours", 0, 24 * 366);
  for (const key of ["lateCancellationFeeMinor", "noShowFeeMinor", "lateRescheduleFeeMinor"] as const) {
    if (policy[key] !== undefined) assertInteger(policy[key], key, 0);
  }
  for (const key of ["lateCancellationFeeBp", "noShowFeeBp", "lateRescheduleFeeBp"] as const) {
    if (policy[key] !== undefined) assertInteger(policy[key], key, 0, 10_000);
  }
  if (policy.maxReschedules !== undefined) assertInteger(policy.maxReschedules, "maxReschedules", 0);
  return policy;
}

function validateBooking(booking: PolicyBooking): void {
  if (!Number.isFinite(booking.startsAt)) throw invalidArgument("booking.startsAt must be an instant in ms");
  assertMinor(booking.totalMinor, "booking total");
  assertMinor(booking.paidMinor, "booking paid amount");
  if (booking.totalMinor < 0 || booking.paidMinor < 0) throw invalidArgument("Booking amounts cannot be negative");
}

/** Flat + percentage of total, capped at the total. */
export function policyFee(totalMinor: number, flatMinor = 0, rateBp = 0): number {
  return Math.min(totalMinor, flatMinor + applyBasisPoints(totalMinor, rateBp));
}

function hoursText(hours: number): string {
  return hours === 1 ? "1 hour" : `${hours} hours`;
}

function settle(booking: PolicyBooking, feeMinor: number, reason: string): FeeDecision {
  return {
    feeMinor,
    refundMinor: Math.max(0, booking.paidMinor - feeMinor),
    outstandingFeeMinor: Math.max(0, feeMinor - booking.paidMinor),
    isFree: feeMinor === 0,
    reason,
  };
}

/** Whether `now` is strictly after the cut-off `hours` before the start (at the cut-off itself is still free). */
export function isPastCutoff(startsAt: number, hours: number, now: number): boolean {
  return now > startsAt - hours * HOUR_MS;
}

export function cancellationFee(policy: CancellationPolicy, booking: PolicyBooking, now: number): FeeDecision {
  validatePolicy(policy);
  validateBooking(booking);
  if (!isPastCutoff(booking.startsAt, policy.freeCancellationHours, now)) {
    return settle(booking, 0, `Free cancellation up to ${hoursText(policy.freeCancellationHours)} before the start`);
  }
  const fee = policyFee(booking.totalMinor, policy.lateCancellationFeeMinor, policy.lateCancellationFeeBp);
  const when = now >= booking.startsAt ? "after the start" : `within ${hoursText(policy.freeCancellationHours)} of the start`;
  return settle(booking, fee, fee === 0 ? `Cancelled ${when}; the policy charges no late fee` : `Late cancellation fee: cancelled ${when}`);
}

export function noShowFee(policy: CancellationPolicy, booking: PolicyBooking): FeeDecision {
  validatePolicy(policy);
  validateBooking(booking);
  const fee = policyFee(booking.totalMinor, policy.noShowFeeMinor, policy.noShowFeeBp);
  return settle(booking, fee, fee === 0 ? "The policy charges no no-show fee" : "No-show fee");
}

export function rescheduleDecision(policy: CancellationPolicy, booking: PolicyBooking, now: number): RescheduleDecision {
  validatePolicy(policy);
  validateBooking(booking);
  const count = booking.rescheduleCount ?? 0;
  assertInteger(count, "rescheduleCount", 0);
  if (now >= booking.startsAt) {
    return { allowed: false, feeMinor: 0, reason: "A booking cannot be rescheduled once it has started" };
  }
  if (policy.maxReschedules !== undefined && count >= policy.maxReschedules) {
    return {
      allowed: false,
      feeMinor: 0,
      reason: `This booking has already been rescheduled ${count} time${count === 1 ? "" : "s"}; the limit is ${policy.maxReschedules}`,
    };
  }
  const cutoffHours = policy.freeRescheduleHours ?? policy.freeCancellationHours;
  if (!isPastCutoff(booking.startsAt, cutoffHours, now)) {
    return { allowed: true, feeMinor: 0, isFree: true, reason: `Free rescheduling up to ${hoursText(cutoffHours)} before the start` };
  }
  if (policy.allowLateReschedule === false) {
    return { allowed: false, feeMinor: 0, reason: `Rescheduling closes ${hoursText(cutoffHours)} before the start` };
  }
  const fee = policyFee(booking.totalMinor, policy.lateRescheduleFeeMinor, policy.lateRescheduleFeeBp);
  return {
    allowed: true,
    feeMinor: fee,
    isFree: fee === 0,
    reason: fee === 0 ? `Late reschedule within ${hoursText(cutoffHours)} of the start; no fee` : `Late reschedule fee: within ${hoursText(cutoffHours)} of the start`,
  };
}

/** Refund for a given fee: paid − fee, never negative. */
export function refundAmount(paidMinor: number, feeMinor: number): number {
  assertMinor(paidMinor, "paid amount");
  assertMinor(feeMinor, "fee");
  return Math.max(0, paidMinor - feeMinor);
}
