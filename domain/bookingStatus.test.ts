import { describe, expect, it } from "vitest";
import {
  type ActorRole,
  type BookingStatus,
  ACTOR_ROLES,
  BOOKING_STATUSES,
  BOOKING_TRANSITIONS,
  blocksAvailability,
  canTransition,
  fieldStatusTiming,
  MOVABLE_STATUSES,
  nextStatuses,
  ON_BOARD_STATUSES,
  TERMINAL_STATUSES,
  UPCOMING_STATUSES,
} from "./bookingStatus";
import { localToInstant } from "./time";

describe("canTransition", () => {
  it.each<[BookingStatus, BookingStatus, ActorRole, boolean]>([
    ["HELD", "PENDING_PAYMENT", "customer", true],
    ["HELD", "CANCELLED", "system", true],
    ["HELD", "CONFIRMED", "staff", false],
    ["HELD", "COMPLETED", "owner", false],
    ["PENDING_PAYMENT", "CONFIRMED", "system", true],
    ["PENDING_PAYMENT", "CONFIRMED", "customer", false],
    ["PENDING_PAYMENT", "CONFIRMED", "owner", true],
    ["PENDING_PAYMENT", "CANCELLED", "customer", true],
    ["CONFIRMED", "EN_ROUTE", "staff", true],
    ["CONFIRMED", "EN_ROUTE", "customer", false],
    ["CONFIRMED", "IN_PROGRESS", "staff", true],
    ["CONFIRMED", "CANCELLED", "customer", true],
    ["CONFIRMED", "CANCELLED", "staff", false],
    ["CONFIRMED", "COMPLETED", "staff", false],
    ["EN_ROUTE", "IN_PROGRESS", "staff", true],
    ["EN_ROUTE", "CANCELLED", "customer", false],
    ["EN_ROUTE", "CANCELLED", "dispatcher", true],
    ["IN_PROGRESS", "COMPLETED", "staff", true],
    ["IN_PROGRESS", "COMPLETED", "customer", false],
    ["IN_PROGRESS", "CANCELLED", "owner", false],
    ["COMPLETED", "CANCELLED", "owner", false],
    ["CANCELLED", "CONFIRMED", "owner", false],
    ["CANCELLED", "CONFIRMED", "system", true],
    ["CANCELLED", "EN_ROUTE", "system", false],
    ["NO_SHOW", "CONFIRMED", "system", false],
  ])("%s → %s by %s: %s", (from, to, actor, ok) => {
    expect(canTransition(from, to, actor, { now: 1, startsAt: 0 }).ok).toBe(ok);
  });

  it("gives human reasons", () => {
    expect(canTransition("COMPLETED", "CANCELLED", "owner")).toEqual({ ok: false, reason: "The booking is completed and can no longer change" });
    expect(canTransition("HELD", "COMPLETED", "owner")).toEqual({ ok: false, reason: "A held booking cannot become completed" });
    expect(canTransition("CONFIRMED", "CONFIRMED", "owner")).toEqual({ ok: false, reason: "The booking is already confirmed" });
    const denied = canTransition("PENDING_PAYMENT", "CONFIRMED", "customer");
    expect(denied).toEqual({ ok: false, reason: "A customer cannot move a booking from awaiting payment to confirmed; allowed: system, manager, owner" });
  });

  it("only the system reinstates a released booking (a payment arrived late); nothing else leaves a final status", () => {
    expect(canTransition("CANCELLED", "CONFIRMED", "system")).toMatchObject({ ok: true, rule: { reopensFinal: true } });
    expect(canTransition("CANCELLED", "CONFIRMED", "owner")).toEqual({
      ok: false,
      reason: "A owner cannot move a booking from cancelled to confirmed; allowed: system",
    });
    expect(canTransition("CANCELLED", "PENDING_PAYMENT", "system")).toEqual({ ok: false, reason: "The booking is cancelled and can no longer change" });
    expect(nextStatuses("CANCELLED", "customer")).toEqual([]);
  });

  it("a no-show can only be marked once the booking has started", () => {
    const start = 1_000_000;
    expect(canTransition("CONFIRMED", "NO_SHOW", "staff", { now: start - 1, startsAt: start })).toMatchObject({ ok: false, reason: expect.stringMatching(/before its start/) });
    expect(canTransition("CONFIRMED", "NO_SHOW", "staff", { now: start, startsAt: start }).ok).toBe(true);
    expect(canTransition("CONFIRMED", "NO_SHOW", "staff").ok).toBe(false);
  });

  it("rejects unknown statuses and roles by name", () => {
    expect(canTransition("LOST" as BookingStatus, "CONFIRMED", "owner")).toEqual({ ok: false, reason: 'Unknown booking status "LOST"' });
    expect(canTransition("HELD", "CONFIRMED", "robot" as ActorRole)).toEqual({ ok: false, reason: 'Unknown actor role "robot"' });
  });

  it("every rule in the table is allowed for its roles and refused for the others", () => {
    for (const rule of BOOKING_TRANSITIONS) {
      for (const role of ACTOR_ROLES) {
        expect(canTransition(rule.from, rule.to, role, { now: 1, startsAt: 0 }).ok).toBe(rule.roles.includes(role));
      }
    }
  });

  it("only pairs listed in the table are ever allowed", () => {
    for (const from of BOOKING_STATUSES) {
      for (const to of BOOKING_STATUSES) {
        const listed = BOOKING_TRANSITIONS.some((r) => r.from === from && r.to === to);
        const allowedForSomeone = ACTOR_ROLES.some((role) => canTransition(from, to, role, { now: 1, startsAt: 0 }).ok);
        expect(allowedForSomeone).toBe(listed);
      }
    }
  });

  it("system can expire a hold; the happy path is reachable", () => {
    const path: Array<[BookingStatus, ActorRole]> = [
      ["HELD", "customer"],
      ["PENDING_PAYMENT", "system"],
      ["CONFIRMED", "staff"],
      ["EN_ROUTE", "staff"],
      ["IN_PROGRESS", "staff"],
    ];
    const order: BookingStatus[] = ["HELD", "PENDING_PAYMENT", "CONFIRMED", "EN_ROUTE", "IN_PROGRESS", "COMPLETED"];
    path.forEach(([from, actor], i) => expect(canTransition(from, order[i + 1], actor).ok).toBe(true));
  });
});

describe("helpers", () => {
  it("lists next statuses for an actor", () => {
    expect(nextStatuses("IN_PROGRESS", "staff")).toEqual(["COMPLETED"]);
    expect(nextStatuses("COMPLETED")).toEqual([]);
    expect(nextStatuses("CONFIRMED", "customer")).toEqual(["CANCELLED"]);
  });

  it.each<[BookingStatus, boolean]>([
    ["HELD", true],
    ["PENDING_PAYMENT", true],
    ["CONFIRMED", true],
    ["IN_PROGRESS", true],
    ["COMPLETED", true],
    ["CANCELLED", false],
    ["NO_SHOW", false],
  ])("%s blocks availability: %s", (status, blocks) => {
    expect(blocksAvailability(status)).toBe(blocks);
  });
});

describe("fieldStatusTiming", () => {
  const TZ = "America/New_York";
  const start = localToInstant("2026-03-03", "10:00", TZ);
  const policy = { enRouteLeadMinutes: 90, timeZone: TZ };
  const minute = 60_000;
  it.each<[BookingStatus, number, boolean]>([
    ["EN_ROUTE", -91, false],
    ["EN_ROUTE", -90, true],
    ["EN_ROUTE", 0, true],
    ["IN_PROGRESS", -1, false],
    ["IN_PROGRESS", 0, true],
    ["COMPLETED", -24 * 60, false],
    ["COMPLETED", 0, true],
    ["NO_SHOW", -1, false],
    ["CONFIRMED", -48 * 60, true],
  ])("%s at start %+d min → %s", (to, offset, ok) => {
    expect(fieldStatusTiming(to, { startsAt: start }, policy, start + offset * minute).ok).toBe(ok);
  });

  it("says from when, in the business's time zone, and why", () => {
    const verdict = fieldStatusTiming("EN_ROUTE", { startsAt: start }, policy, start - 24 * 60 * minute);
    expect(verdict).toEqual({
      ok: false,
      notBefore: start - 90 * minute,
      reason: "It is too early to set off: this job can be marked en route 1 h 30 min before its arrival window (from 2026-03-03 08:30).",
    });
    const zeroLead = fieldStatusTiming("EN_ROUTE", { startsAt: start }, { ...policy, enRouteLeadMinutes: 0 }, start - minute);
    expect(zeroLead.ok === false && zeroLead.reason).toContain("once its arrival window opens");
  });
});

describe("status sets", () => {
  it("are disjoint from the terminal statuses where they must be, and nested as the platform reads them", () => {
    for (const s of UPCOMING_STATUSES) expect(TERMINAL_STATUSES).not.toContain(s);
    for (const s of MOVABLE_STATUSES) expect(UPCOMING_STATUSES).toContain(s);
    for (const s of UPCOMING_STATUSES) expect(ON_BOARD_STATUSES).toContain(s);
  });
});
