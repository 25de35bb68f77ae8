/**
 * Errors a client can act on. Every one is a `ConvexError` whose data carries a code from
 * this closed list; the portal branches on `error.data.code` and the REST layer maps codes
 * to HTTP statuses in one table (`httpStatusForCode`).
 */
import { ConvexError, type Value } from "convex/values";

export const errorCodes = {
  UNAUTHENTICATED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  INVALID_ARGUMENT: 422,
  CONFLICT: 409,
  SLOT_UNAVAILABLE: 409,
  HOLD_EXPIRED: 410,
  /** A link or invitation past its expiry (ask for a new one). */
  EXPIRED: 410,
  INVALID_TRANSITION: 409,
  /** A field status set before the job's time allows it (details.notBefore; a manager may override). */
  TOO_EARLY: 409,
  POLICY_VIOLATION: 422,
  BUSINESS_NOT_ACTIVE: 403,
  ALREADY_EXISTS: 409,
  PAYMENT_REQUIRED: 402,
  PAYMENT_FAILED: 402,
  RATE_LIMITED: 429,
  IDEMPOTENCY_MISMATCH: 422,
  IDEMPOTENCY_IN_FLIGHT: 409,
  UNSUPPORTED: 400,
  /** A list cursor this API did not issue (tampered, truncated, or another list's). */
  INVALID_CURSOR: 400,
} as const;

export type ErrorCode = keyof typeof errorCodes;

export type AppErrorData = {
  code: ErrorCode;
  message: string;
  /** The argument or field at fault, when there is one. */
  param?: string;
  /** Extra structured detail, e.g. per-occurrence conflicts of a recurring series. */
  details?: Record<string, Value>;
};

export function appError(code: ErrorCode, message: string, extra: Omit<AppErrorData, "code" | "message"> = {}) {
  return new ConvexError<AppErrorData>({ code, message, ...extra });
}

export function httpStatusForCode(code: ErrorCode): number {
  return errorCodes[code];
}

export function isAppErrorData(data: unknown): data is AppErrorData {
  return (
    typeof data === "object" &&
    data !== null &&
    typeof (data as { code?: unknown }).code === "string" &&
    (data as { code: string }).code in errorCodes
  );
}
