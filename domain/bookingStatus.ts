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
