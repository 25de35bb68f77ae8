/**
 * ConvexError codes (convex/errors.ts) in plain words. The server's own message is shown too:
 * it says what exactly was wrong ("This area is not served at the moment.").
 */
import { ConvexError } from "convex/values";

export const ERROR_TITLES: Record<string, string> = {
  UNAUTHENTICATED: "Please sign in again",
  FORBIDDEN: "You are not allowed to do this",
  NOT_FOUND: "We could not find that",
  INVALID_ARGUMENT: "Please check what you entered",
  CONFLICT: "This clashes with something that changed",
  SLOT_UNAVAILABLE: "That time has just been taken",
  HOLD_EXPIRED: "Your hold on this time ran out",
  EXPIRED: "This link has expired",
  INVALID_TRANSITION: "This cannot be done at this stage",
  TOO_EARLY: "It is too early for this",
  POLICY_VIOLATION: "The business's policy does not allow this",
  BUSINESS_NOT_ACTIVE: "This business is not taking bookings right now",
  ALREADY_EXISTS: "This already exists",
  PAYMENT_REQUIRED: "Payment is needed first",
  PAYMENT_FAILED: "The payment did not go through",
  RATE_LIMITED: "Too many attempts: wait a moment and try again",
  IDEMPOTENCY_MISMATCH: "This request was already sent with different details",
  IDEMPOTENCY_IN_FLIGHT: "This request is still being processed",
  UNSUPPORTED: "This is not supported",
};

/**
 * SLOT_UNAVAILABLE covers both "someone else got there first" and "this resource cannot do
 * this job at all"; the check's own code (in `details.code`) says which, so the title fits.
 */
const SLOT_REFUSAL_TITLES: Record<string, string> = {
  NOT_ELIGIBLE: "This provider cannot take this job",
  OUTSIDE_WORKING_HOURS: "Not working at that time",
  DAILY_LIMIT_REACHED: "Fully booked that day",
  IN_THE_PAST: "That time has already passed",
  BEFORE_MINIMUM_NOTICE: "Too soon to book",
  BEYOND_HORIZON: "Too far ahead to book",
};

const SLOT_REFUSAL_NEXT: Record<string, string> = {
  NOT_ELIGIBLE: "Choose someone who does this work here.",
  OUTSIDE_WORKING_HOURS: "Choose someone who is working then.",
  DAILY_LIMIT_REACHED: "Choose someone else or another day.",
};

/** What to do next, for the codes where there is an obvious next step. */
const NEXT_STEP: Record<string, string> = {
  SLOT_UNAVAILABLE: "Pick another time.",
  HOLD_EXPIRED: "Pick a time again.",
  UNAUTHENTICATED: "Sign in and try again.",
  CONFLICT: "Refresh and try again.",
  RATE_LIMITED: "Try again in a few seconds.",
};

export type Explained = { code: string | null; title: string; detail: string; next?: string; param?: string };

export function explainError(error: unknown): Explained {
  if (error instanceof ConvexError) {
    const data = error.data as { code?: unknown; message?: unknown; param?: unknown; details?: { code?: unknown } } | string;
    if (typeof data === "object" && data !== null && typeof data.code === "string") {
      const code = data.code;
      const refusal = code === "SLOT_UNAVAILABLE" && typeof data.details?.code === "string" ? data.details.code : null;
      return {
        code,
        title: (refusal !== null ? SLOT_REFUSAL_TITLES[refusal] : undefined) ?? ERROR_TITLES[code] ?? `Error ${code.toLowerCase().replace(/_/g, " ")}`,
        detail: typeof data.message === "string" ? data.message : "",
        next: (refusal !== null ? SLOT_REFUSAL_NEXT[refusal] : undefined) ?? NEXT_STEP[code],
        param: typeof data.param === "string" ? data.param : undefined,
      };
    }
    return { code: null, title: "The server refused this", detail: typeof data === "string" ? data : JSON.stringify(data) };
  }
  const message = error instanceof Error ? error.message : String(error);
  if (/fetch|network|websocket|connection/i.test(message)) {
    return { code: null, title: "Could not reach the server", detail: message, next: "Check that the platform is running, then try again." };
  }
  // Server-side bugs arrive as "[Request ID: …] Server Error …": show them, never hide them.
  return { code: null, title: "The server could not complete this", detail: message.replace(/^\[Request ID: [^\]]+\]\s*/, "") };
}

export function errorCode(error: unknown): string | null {
  return explainError(error).code;
}
