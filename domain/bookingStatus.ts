/**
 * The booking life cycle:
 *
 *   HELD → PENDING_PAYMENT → CONFIRMED → EN_ROUTE → IN_PROGRESS → COMPLETED
 *
 * plus CANCELLED and NO_SHOW. A hold that expires becomes CANCELLED by the system.
 * Salons and clinics skip EN_ROUTE (CONFIRMED → IN_PROGRESS). COMPLETED, CANCELLED and
 * NO_SHOW are final, with one exception: a payment that arrives after the system released
 * an unpaid booking may reinstate it (CANCELLED → CONFIRMED, system only) while its time is
 * still free. Each allowed transition lists the actor roles that may make it.
 */
import { instantToLocal } from "./time";

export const BOOKING_STATUSES = [
  "HELD",
  "PENDING_PAYMENT",
  "CONFIRMED",
  "EN_ROUTE",
  "IN_PROGRESS",
  "COMPLETED",
  "CANCELLED",
  "NO_SHOW",
] as const;
export type BookingStatus = (typeof BOOKING_STATUSES)[number];

export const ACTOR_ROLES = ["customer", "staff", "dispatcher", "manager", "owner", "system"] as const;
export type ActorRole = (typeof ACTOR_ROLES)[number];

export const TERMINAL_STATUSES: readonly BookingStatus[] = ["COMPLETED", "CANCELLED", "NO_SHOW"];

export interface TransitionRule {
  from: BookingStatus;
  to: BookingStatus;
  roles: readonly ActorRole[];
  /** What the transition means, for audit logs and error messages. */
  meaning: string;
  /** Only allowed once the booking's start time has passed (no-shows). */
  requiresStarted?: boolean;
  /** Leaves a final status (only the system's reinstatement of a late-paid booking). */
  reopensFinal?: boolean;
}

const BUSINESS: readonly ActorRole[] = ["dispatcher", "manager", "owner"];
const FIELD: readonly ActorRole[] = ["staff", ...BUSINESS];

export const BOOKING_TRANSITIONS: readonly TransitionRule[] = [
  { from: "HELD", to: "PENDING_PAYMENT", roles: ["customer", "system", ...BUSINESS], meaning: "checkout started" },
  { from: "HELD", to: "CONFIRMED", roles: ["customer", "system", ...BUSINESS], meaning: "confirmed without payment" },
  { from: "HELD", to: "CANCELLED", roles: ["customer", "system", ...BUSINESS], meaning: "hold released or expired" },
  { from: "PENDING_PAYMENT", to: "CONFIRMED", roles: ["system", "manager", "owner"], meaning: "payment received" },
  { from: "PENDING_PAYMENT", to: "CANCELLED", roles: ["customer", "system", ...BUSINESS], meaning: "payment abandoned or failed" },
  { from: "CONFIRMED", to: "EN_ROUTE", roles: FIELD, meaning: "provider on the way" },
  { from: "CONFIRMED", to: "IN_PROGRESS", roles: FIELD, meaning: "service started" },
  { from: "CONFIRMED", to: "CANCELLED", roles: ["customer", "system", ...BUSINESS], meaning: "booking cancelled" },
  { from: "CONFIRMED", to: "NO_SHOW", roles: FIELD, meaning: "customer did not show", requiresStarted: true },
  { from: "EN_ROUTE", to: "CONFIRMED", roles: FIELD, meaning: "trip called off, booking stands" },
  { from: "EN_ROUTE", to: "IN_PROGRESS", roles: FIELD, meaning: "service started" },
  { from: "EN_ROUTE", to: "CANCELLED", roles: BUSINESS, meaning: "booking cancelled while provider en route" },
  { from: "EN_ROUTE", to: "NO_SHOW", roles: FIELD, meaning: "customer not there on arrival", requiresStarted: true },
  { from: "IN_PROGRESS", to: "COMPLETED", roles: FIELD, meaning: "service completed" },
  { from: "CANCELLED", to: "CONFIRMED", roles: ["system"], meaning: "late payment reinstated a released booking", reopensFinal: true },
];

export type TransitionResult = { ok: true; rule: TransitionRule } | { ok: false; reason: string };

export interface TransitionContext {
  now?: number;
  /** The booking's start instant, needed for transitions that require it to have begun. */
  startsAt?: number;
}

export function isBookingStatus(value: unknown): value is BookingStatus {
  return typeof value === "string" && (BOOKING_STATUSES as readonly string[]).includes(value);
}

export function isActorRole(value: unknown): value is ActorRole {
  return typeof value === "string" && (ACTOR_ROLES as readonly string[]).includes(value);
}

export function isTerminalStatus(status: BookingStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

export function findTransition(from: BookingStatus, to: BookingStatus): TransitionRule | undefined {
  return BOOKING_TRANSITIONS.find((rule) => rule.from === from && rule.to === to);
}

/** Statuses reachable from `from` by `actor` (ignoring time conditions). */
export function nextStatuses(from: BookingStatus, actor?: ActorRole): BookingStatus[] {
  return BOOKING_TRANSITIONS.filter((rule) => rule.from === from && (!actor || rule.roles.includes(actor))).map(
    (rule) => rule.to,
  );
}

const STATUS_LABELS: Record<BookingStatus, string> = {
  HELD: "held",
  PENDING_PAYMENT: "awaiting payment",
  CONFIRMED: "confirmed",
  EN_ROUTE: "en route",
  IN_PROGRESS: "in progress",
  COMPLETED: "completed",
  CANCELLED: "cancelled",
  NO_SHOW: "a no-show",
};

export function canTransition(
  from: BookingStatus,
  to: BookingStatus,
  actor: ActorRole,
  context: TransitionContext = {},
): TransitionResult {
  if (!isBookingStatus(from)) return { ok: false, reason: `Unknown booking status "${String(from)}"` };
  if (!isBookingStatus(to)) return { ok: false, reason: `Unknown booking status "${String(to)}"` };
  if (!isActorRole(actor)) return { ok: false, reason: `Unknown actor role "${String(actor)}"` };
  if (from === to) return { ok: false, reason: `The booking is already ${STATUS_LABELS[from]}` };
  if (isTerminalStatus(from) && !findTransition(from, to)?.reopensFinal) {
    return { ok: false, reason: `The booking is ${STATUS_LABELS[from]} and can no longer change` };
  }
  const rule = findTransition(from, to);
  if (!rule) {
    return { ok: false, reason: `A ${STATUS_LABELS[from]} booking cannot become ${STATUS_LABELS[to]}` };
  }
  if (!rule.roles.includes(actor)) {
    return {
      ok: false,
      reason: `A ${actor} cannot move a booking from ${STATUS_LABELS[from]} to ${STATUS_LABELS[to]}; allowed: ${rule.roles.join(", ")}`,
    };
  }
  if (rule.requiresStarted) {
    if (context.now === undefined || context.startsAt === undefined) {
      return { ok: false, reason: `Marking ${STATUS_LABELS[to]} needs the current time and the booking's start` };
    }
    if (context.now < context.startsAt) {
      return { ok: false, reason: `A booking cannot be marked ${STATUS_LABELS[to]} before its start time` };
    }
  }
  return { ok: true, rule };
}

/**
 * Statuses whose bookings occupy the resource's time and count toward per-day limits.
 * COMPLETED stays blocking so a job finished early neither reopens its slot nor drops out of
 * the day's count; CANCELLED and NO_SHOW release the time.
 */
export const BLOCKING_STATUSES: readonly BookingStatus[] = ["HELD", "PENDING_PAYMENT", "CONFIRMED", "EN_ROUTE", "IN_PROGRESS", "COMPLETED"];

export function blocksAvailability(status: BookingStatus): boolean {
  return BLOCKING_STATUSES.includes(status);
}

// ---------------------------------------------------------------------------------------
// Status sets: the one home of every closed list of statuses the platform branches on.
// ---------------------------------------------------------------------------------------

/** Holds and unpaid confirmations: released by the system when `holdExpiresAt` passes. */
export const EXPIRING_STATUSES = ["HELD", "PENDING_PAYMENT"] as const satisfies readonly BookingStatus[];

/** Booked but not yet under way: waiting in the dispatch queue when unassigned. */
export const NOT_STARTED_STATUSES = ["HELD", "PENDING_PAYMENT", "CONFIRMED"] as const satisfies readonly BookingStatus[];

/** Bookings that may be moved to another time (reschedule). */
export const MOVABLE_STATUSES = NOT_STARTED_STATUSES;

/** Bookings a dispatcher may still (re)assign to a provider. */
export const ASSIGNABLE_STATUSES = ["HELD", "PENDING_PAYMENT", "CONFIRMED", "EN_ROUTE"] as const satisfies readonly BookingStatus[];

/** Bookings that are still to happen or happening: "upcoming" for customers, "live" for dispatch. */
export const UPCOMING_STATUSES = ["HELD", "PENDING_PAYMENT", "CONFIRMED", "EN_ROUTE", "IN_PROGRESS"] as const satisfies readonly BookingStatus[];

/** Bookings that can be cancelled by someone (the state machine says by whom). */
export const CANCELLABLE_STATUSES = ["HELD", "PENDING_PAYMENT", "CONFIRMED", "EN_ROUTE"] as const satisfies readonly BookingStatus[];

/** The statuses the field (a provider, or the business for them) sets on a job. */
export const FIELD_STATUSES = ["CONFIRMED", "EN_ROUTE", "IN_PROGRESS", "COMPLETED", "NO_SHOW"] as const satisfies readonly BookingStatus[];
export type FieldStatus = (typeof FIELD_STATUSES)[number];

/** The customer-facing progress of a job, in order. */
export const PROGRESS_STATUSES = ["CONFIRMED", "EN_ROUTE", "IN_PROGRESS", "COMPLETED"] as const satisfies readonly BookingStatus[];

/** Statuses after which a balance may still be paid (the job is booked or done). */
export const PAYABLE_AFTER_STATUSES = ["CONFIRMED", "EN_ROUTE", "IN_PROGRESS", "COMPLETED"] as const satisfies readonly BookingStatus[];

/** Jobs shown on the provider lanes of the dispatch board: finished ones stay (their time is released, the record is not). */
export const ON_BOARD_STATUSES = [...UPCOMING_STATUSES, "COMPLETED", "NO_SHOW"] as const satisfies readonly BookingStatus[];

export function isIn<S extends BookingStatus>(set: readonly S[], status: string): status is S {
  return (set as readonly string[]).includes(status);
}

// ---------------------------------------------------------------------------------------
// Time-aware field statuses
// ---------------------------------------------------------------------------------------

/** How long before the arrival window a provider may set off, unless the business says otherwise. */
export const DEFAULT_EN_ROUTE_LEAD_MINUTES = 120;
export const MAX_EN_ROUTE_LEAD_MINUTES = 24 * 60;

export type FieldTiming = { ok: true } | { ok: false; notBefore: number; reason: string };

/**
 * When a field status may be set: EN_ROUTE no earlier than `enRouteLeadMinutes` before the
 * booking's start (the opening of its arrival window), IN_PROGRESS, COMPLETED and NO_SHOW not
 * before the start. Going back to CONFIRMED is always allowed. A manager may override this
 * with a reason (see the booking commands); the provider's screen shows `reason`.
 */
export function fieldStatusTiming(
  to: BookingStatus,
  booking: { startsAt: number },
  policy: { enRouteLeadMinutes: number; timeZone: string },
  now: number,
): FieldTiming {
  let notBefore: number;
  let why: string;
  switch (to) {
    case "EN_ROUTE":
      notBefore = booking.startsAt - policy.enRouteLeadMinutes * 60_000;
      why =
        policy.enRouteLeadMinutes > 0
          ? `It is too early to set off: this job can be marked en route ${formatLead(policy.enRouteLeadMinutes)} before its arrival window`
          : "It is too early to set off: this job can be marked en route once its arrival window opens";
      break;
    case "IN_PROGRESS":
      notBefore = booking.startsAt;
      why = "This job has not started yet: it can be started at its start time";
      break;
    case "COMPLETED":
      notBefore = booking.startsAt;
      why = "This job has not started yet: it cannot be finished before its start time";
      break;
    case "NO_SHOW":
      notBefore = booking.startsAt;
      why = "A booking cannot be marked a no-show before its start time";
      break;
    default:
      return { ok: true };
  }
  if (now >= notBefore) return { ok: true };
  const local = instantToLocal(notBefore, policy.timeZone);
  return { ok: false, notBefore, reason: `${why} (from ${local.date} ${local.time}).` };
}

function formatLead(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  if (h === 0) return `${m} min`;
  return m === 0 ? `${h} h` : `${h} h ${m} min`;
}
