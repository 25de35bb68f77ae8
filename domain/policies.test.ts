import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type CancellationPolicy, type PolicyBooking, cancellationFee, noShowFee, refundAmount, rescheduleDecision } from "./policies";

const HOUR = 3_600_000;
const START = Date.parse("2025-06-10T14:00:00Z");
const booking: PolicyBooking = { startsAt: START, totalMinor: 20_000, paidMinor: 20_000, rescheduleCount: 0 };
const policy: CancellationPolicy = {
  freeCancellationHours: 24,
  lateCancellationFeeMinor: 1_000,
  lateCancellationFeeBp: 2_500,
  noShowFeeBp: 10_000,
  maxReschedules: 2,
  lateRescheduleFeeMinor: 1_500,
};

describe("cancellationFee", () => {
  it.each([
    ["48 h before", START - 48 * HOUR, 0, 20_000],
    ["exactly at the 24 h cut-off", START - 24 * HOUR, 0, 20_000],
    ["one ms past the cut-off", START - 24 * HOUR + 1, 6_000, 14_000],
    ["2 h before", START - 2 * HOUR, 6_000, 14_000],
    ["after the start", START + HOUR, 6_000, 14_000],
  ])("%s: fee %i, refund %i", (_label, now, fee, refund) => {
    const decision = cancellationFee(policy, booking, now);
    expect(decision).toMatchObject({ feeMinor: fee, refundMinor: refund, isFree: fee === 0 });
    expect(decision.reason.length).toBeGreaterThan(0);
  });

  it("explains why the cancellation is free or charged", () => {
    expect(cancellationFee(policy, booking, START - 48 * HOUR).reason).toBe("Free cancellation up to 24 hours before the start");
    expect(cancellationFee(policy, booking, START - HOUR).reason).toBe("Late cancellation fee: cancelled within 24 hours of the start");
    expect(cancellationFee(policy, booking, START + HOUR).reason).toBe("Late cancellation fee: cancelled after the start");
  });

  it("caps the fee at the booking total", () => {
    const steep = { freeCancellationHours: 24, lateCancellationFeeMinor: 50_000 };
    expect(cancellationFee(steep, booking, START - HOUR)).toMatchObject({ feeMinor: 20_000, refundMinor: 0 });
  });

  it("never refunds a negative amount; reports what the payment did not cover", () => {
    const deposit = { ...booking, paidMinor: 2_000 };
    expect(cancellationFee(policy, deposit, START - HOUR)).toMatchObject({ feeMinor: 6_000, refundMinor: 0, outstandingFeeMinor: 4_000 });
  });

  it("a policy without late fees is free at any time", () => {
    expect(cancellationFee({ freeCancellationHours: 0 }, booking, START + HOUR)).toMatchObject({ feeMinor: 0, refundMinor: 20_000 });
  });

  it.each([
    [{ freeCancellationHours: -1 }, /freeCancellationHours/],
    [{ freeCancellationHours: 24, lateCancellationFeeBp: 10_001 }, /lateCancellationFeeBp/],
    [{ freeCancellationHours: 1.5 }, /freeCancellationHours/],
  ])("rejects policy %j", (bad, message) => {
    expect(() => cancellationFee(bad as CancellationPolicy, booking, START)).toThrow(message);
  });

  it("rejects bad booking amounts", () => {
    expect(() => cancellationFee(policy, { ...booking, paidMinor: -1 }, START)).toThrow(/negative/);
    expect(() => cancellationFee(policy, { ...booking, totalMinor: 10.5 }, START)).toThrow(/integer/);
  });

  it("refund + fee covered never exceeds what was paid", () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: 0, max: 100_000 }), fc.integer({ min: -72, max: 72 }), (total, paid, hoursBefore) => {
        const d = cancellationFee(policy, { startsAt: START, totalMinor: total, paidMinor: paid }, START - hoursBefore * HOUR);
        expect(d.refundMinor).toBeGreaterThanOrEqual(0);
        expect(d.feeMinor).toBeLessThanOrEqual(total);
        expect(d.refundMinor + d.feeMinor - d.outstandingFeeMinor).toBe(paid);
      }),
      { numRuns: 200 },
    );
  });
});

describe("noShowFee", () => {
  it("charges the no-show fee", () => {
    expect(noShowFee(policy, booking)).toMatchObject({ feeMinor: 20_000, refundMinor: 0, reason: "No-show fee" });
    expect(noShowFee({ freeCancellationHours: 24 }, booking)).toMatchObject({ feeMinor: 0, refundMinor: 20_000 });
  });
});

describe("rescheduleDecision", () => {
  it.each([
    ["well ahead", START - 48 * HOUR, 0, { allowed: true, feeMinor: 0, isFree: true }],
    ["late", START - 3 * HOUR, 0, { allowed: true, feeMinor: 1_500, isFree: false }],
    ["after the start", START + 1, 0, { allowed: false }],
    ["at the limit", START - 48 * HOUR, 2, { allowed: false }],
    ["one below the limit", START - 48 * HOUR, 1, { allowed: true }],
  ])("%s → %j", (_label, now, count, expected) => {
    expect(rescheduleDecision(policy, { ...booking, rescheduleCount: count }, now)).toMatchObject(expected);
  });

  it("uses its own cut-off when given, and can forbid late changes", () => {
    const strict = { ...policy, freeRescheduleHours: 48, allowLateReschedule: false };
    expect(rescheduleDecision(strict, booking, START - 30 * HOUR)).toEqual({
      allowed: false,
      feeMinor: 0,
      reason: "Rescheduling closes 48 hours before the start",
    });
  });

  it("says how often it was rescheduled", () => {
    expect(rescheduleDecision(policy, { ...booking, rescheduleCount: 2 }, START - 48 * HOUR)).toMatchObject({
      reason: "This booking has already been rescheduled 2 times; the limit is 2",
    });
  });
});

describe("refundAmount", () => {
  it.each([
    [10_000, 2_500, 7_500],
    [2_000, 2_500, 0],
    [0, 0, 0],
  ])("paid %i, fee %i → %i", (paid, fee, refund) => {
    expect(refundAmount(paid, fee)).toBe(refund);
  });
});
