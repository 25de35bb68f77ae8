/**
 * Argument checks shared by the functions: each throws `appError("INVALID_ARGUMENT", …)`
 * naming the offending parameter, so a client can point at the field. Validators in `args`
 * check shapes; these check values (ranges, formats, calendars).
 */
import { isDomainError } from "../../domain/errors";
import { assertCurrency } from "../../domain/money";
import { isValidLocalDate, isValidTimeZone, parseLocalTime } from "../../domain/time";
import { appError } from "../errors";

export function invalid(param: string, message: string) {
  return appError("INVALID_ARGUMENT", message, { param });
}

export function requireInt(value: number, param: string, min: number, max: number): number {
  if (!Number.isSafeInteger(value)) throw invalid(param, `${param} must be an integer.`);
  if (value < min || value > max) throw invalid(param, `${param} must be between ${min} and ${max}.`);
  return value;
}

/** Trimmed text of `min`…`max` characters. */
export function requireText(value: string, param: string, max: number, min = 1): string {
  const text = value.trim();
  if (text.length < min) throw invalid(param, min === 1 ? `${param} must not be empty.` : `${param} must be at least ${min} characters.`);
  if (text.length > max) throw invalid(param, `${param} must be at most ${max} characters.`);
  return text;
}

/** Like `requireText`, but an absent or blank value becomes undefined. */
export function optionalText(value: string | undefined, param: string, max: number): string | undefined {
  if (value === undefined || value.trim() === "") return undefined;
  return requireText(value, param, max);
}

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Lower-cased, trimmed email address. */
export function normalizeEmail(value: string, param = "email"): string {
  const email = value.trim().toLowerCase();
  if (email.length > 254 || !EMAIL.test(email)) throw invalid(param, `${param} is not a valid email address.`);
  return email;
}

/** E.164 phone number ("+14155550123"); spaces, dots, dashes and parentheses are dropped. */
export function normalizePhone(value: string, param = "phone"): string {
  const phone = value.replace(/[\s().-]/g, "");
  if (!/^\+[1-9]\d{6,14}$/.test(phone)) {
    throw invalid(param, `${param} must be an international number starting with + and the country code.`);
  }
  return phone;
}

export function requireTimeZone(value: string, param = "timeZone"): string {
  if (!isValidTimeZone(value)) throw invalid(param, `${param} must be an IANA time zone such as "Europe/Paris".`);
  return value;
}

export function requireCurrency(value: string, param = "currency"): string {
  try {
    return assertCurrency(value);
  } catch (error) {
    if (isDomainError(error)) throw invalid(param, `${param} must be an ISO 4217 currency code such as "USD".`);
    throw error;
  }
}

/** A BCP 47 locale tag, returned in canonical form ("en-us" → "en-US"). */
export function requireLocale(value: string, param = "locale"): string {
  let canonical: string[];
  try {
    canonical = Intl.getCanonicalLocales(value);
  } catch {
    throw invalid(param, `${param} must be a locale tag such as "en-US".`);
  }
  if (canonical.length !== 1 || !/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(canonical[0])) {
    throw invalid(param, `${param} must be a locale tag such as "en-US".`);
  }
  return canonical[0];
}

export function requireLocalDate(value: string, param = "date"): string {
  if (!isValidLocalDate(value)) throw invalid(param, `${param} must be a calendar date "YYYY-MM-DD".`);
  return value;
}

/** "HH:MM" → minutes since midnight; "24:00" only with `allowEndOfDay`. */
export function requireLocalTime(value: string, param: string, allowEndOfDay = false): number {
  try {
    return parseLocalTime(value, { allowEndOfDay });
  } catch (error) {
    if (isDomainError(error)) throw invalid(param, `${param} must be a local time "HH:MM".`);
    throw error;
  }
}

export function requireInstant(value: number, param: string): number {
  // Epoch ms between 2000-01-01 and 2200-01-01.
  return requireInt(value, param, 946_684_800_000, 7_258_118_400_000);
}

/** A URL-safe identifier: lower-case letters, digits and single hyphens. */
export function requireSlug(value: string, param = "slug"): string {
  const slug = value.trim().toLowerCase();
  if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(slug) || slug.length < 2 || slug.length > 60) {
    throw invalid(param, `${param} must be 2-60 lower-case letters, digits and single hyphens.`);
  }
  return slug;
}

/** Derives a slug from a name ("Sparkle & Shine Cleaning" → "sparkle-shine-cleaning"). */
export function slugify(name: string): string {
  const slug = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 50)
    .replace(/-+$/g, "");
  return slug.length >= 2 ? slug : `biz-${slug || "x"}`;
}

/** Rejects a list with repeated entries. */
export function requireDistinct<T>(values: readonly T[], param: string): T[] {
  if (new Set(values).size !== values.length) throw invalid(param, `${param} must not contain duplicates.`);
  return [...values];
}
