/**
 * Partner webhook rules, pure: endpoint URL validation, event-type filters, the retry
 * schedule and when a failing endpoint is disabled.
 */

export const SECRET_ROTATION_GRACE_MS = 24 * 3_600_000;
/** An endpoint that has failed without a single success for this long is disabled. */
export const DISABLE_AFTER_FAILING_MS = 3 * 24 * 3_600_000;

const S = 1_000;
const MIN = 60 * S;
const H = 60 * MIN;
/**
 * Delay before retry n (n = 1 after the first failed attempt). Twelve attempts over about
 * three and a half days, so an endpoint that stays down is still being tried when it passes
 * the three-day mark (even with the −10 % jitter the last retry is ≥ 75 h after the first).
 */
export const RETRY_DELAYS_MS = [5 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H, 10 * H, 14 * H, 14 * H, 14 * H, 14 * H];
export const MAX_ATTEMPTS = RETRY_DELAYS_MS.length + 1;

/** The delay after `attempts` failed attempts, with ±10 % jitter; null when attempts are exhausted. */
export function retryDelayMs(attempts: number, random: () => number = Math.random): number | null {
  const base = RETRY_DELAYS_MS[attempts - 1];
  if (base === undefined) return null;
  const jitter = (random() * 2 - 1) * 0.1;
  return Math.max(1_000, Math.round(base * (1 + jitter)));
}

/** The signing secrets of an endpoint still valid at `now` (rotation keeps old ones for a while). */
export function liveSecrets<S extends { expiresAt?: number }>(secrets: S[], now: number): S[] {
  return secrets.filter((s) => s.expiresAt === undefined || s.expiresAt > now);
}

export function isSuccessStatus(status: number): boolean {
  return status >= 200 && status < 300;
}

export type UrlCheck = { ok: true; url: string } | { ok: false; message: string };

const LOOPBACK = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** https only, except loopback addresses (local development); no credentials, no fragment. */
export function checkEndpointUrl(input: string): UrlCheck {
  const text = input.trim();
  if (text.length === 0 || text.length > 2048) return { ok: false, message: "URL must be 1–2048 characters." };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { ok: false, message: "URL is not a valid absolute URL." };
  }
  if (url.username || url.password) return { ok: false, message: "URL must not contain credentials." };
  if (url.hash) return { ok: false, message: "URL must not contain a #fragment." };
  const loopback = LOOPBACK.has(url.hostname) || /^127\.\d+\.\d+\.\d+$/.test(url.hostname);
  if (url.protocol === "https:") return { ok: true, url: url.toString() };
  if (url.protocol === "http:" && loopback) return { ok: true, url: url.toString() };
  return { ok: false, message: "URL must use https (plain http is accepted only for localhost / 127.0.0.1)." };
}

const TYPE_FILTER = /^(\*|[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*(\.\*)?)$/;

/** Filters are exact types ("payment.succeeded"), a prefix wildcard ("payment.*") or "*". */
export function checkEventTypeFilters(filters: string[]): { ok: true; filters: string[] } | { ok: false; message: string } {
  if (filters.length > 50) return { ok: false, message: "At most 50 event types." };
  for (const f of filters) {
    if (!TYPE_FILTER.test(f)) return { ok: false, message: `"${f}" is not an event type or a "prefix.*" filter.` };
  }
  return { ok: true, filters: [...new Set(filters)] };
}

/** Empty filter list = every event type. */
export function matchesEventType(filters: string[], type: string): boolean {
  if (filters.length === 0) return true;
  return filters.some((f) => f === "*" || f === type || (f.endsWith(".*") && type.startsWith(f.slice(0, -1))));
}
