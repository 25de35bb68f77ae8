/**
 * Errors raised by the domain rules. Each carries a stable `code` from a closed set so that
 * callers (Convex functions, the REST layer, the portal) can branch on it and map it to
 * their own error shapes without parsing messages.
 */
export const DOMAIN_ERROR_CODES = [
  "INVALID_ARGUMENT",
  "UNKNOWN_TIME_ZONE",
  "INVALID_DATE",
  "INVALID_TIME",
  "UNKNOWN_CURRENCY",
  "CURRENCY_MISMATCH",
  "EMPTY_CART",
  "UNKNOWN_PRODUCT",
  "UNKNOWN_EXTRA",
  "QUANTITY_OUT_OF_RANGE",
  "EXTRA_NOT_ALLOWED",
] as const;

export type DomainErrorCode = (typeof DOMAIN_ERROR_CODES)[number];

export class DomainError extends Error {
  readonly code: DomainErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: DomainErrorCode, message: string, details?: Record<string, unknown>) {
    super(message);
    this.name = "DomainError";
    this.code = code;
    this.details = details;
  }
}

export function isDomainError(error: unknown): error is DomainError {
  return error instanceof DomainError;
}

export function invalidArgument(message: string, details?: Record<string, unknown>): DomainError {
  return new DomainError("INVALID_ARGUMENT", message, details);
}

/** Throws INVALID_ARGUMENT unless `value` is a finite integer within [min, max]. */
export function assertInteger(
  value: unknown,
  label: string,
  min = Number.MIN_SAFE_INTEGER,
  max = Number.MAX_SAFE_INTEGER,
): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value)) {
    throw invalidArgument(`${label} must be an integer, got ${String(value)}`);
  }
  if (value < min || value > max) {
    throw invalidArgument(`${label} must be between ${min} and ${max}, got ${value}`);
  }
  return value;
}
