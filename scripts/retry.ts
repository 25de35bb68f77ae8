/**
 * `fetch` for the project's own HTTP clients of the backend (seeding, the Stripe event sender):
 * a backend that is restarting refuses connections for a moment, and a server that answers 503
 * (or 502/504 from a proxy) has not processed the request. Both are retried with exponential
 * backoff (honouring `Retry-After`) until the deadline; any other answer is returned as is.
 *
 * Only for requests that are safe to send twice (idempotent mutations, webhook deliveries
 * de-duplicated by event id).
 */
export interface RetryOptions {
  /** Give up after this long (ms); the last failure is then returned or thrown. Default 30 s. */
  deadlineMs?: number;
  /** First delay (ms), doubled on each retry up to maxDelayMs. Default 100 ms. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Called before each retry (a CLI prints why it waits). */
  onRetry?: (reason: string, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
}

const RETRIED_STATUSES = new Set([502, 503, 504]);

export async function fetchWithRetry(url: string | URL, init: RequestInit, options: RetryOptions = {}): Promise<Response> {
  const deadline = Date.now() + (options.deadlineMs ?? 30_000);
  const maxDelay = options.maxDelayMs ?? 2_000;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  let delay = options.initialDelayMs ?? 100;
  for (;;) {
    let reason: string;
    let wait = delay;
    try {
      const response = await fetch(url, init);
      if (!RETRIED_STATUSES.has(response.status)) return response;
      reason = `HTTP ${response.status}`;
      wait = Math.max(delay, retryAfterMs(response.headers.get("retry-after")) ?? 0);
      if (Date.now() + wait > deadline) return response;
      await response.body?.cancel();
    } catch (error) {
      if (!isConnectionFailure(error) || Date.now() + wait > deadline) throw error;
      reason = connectionFailureCode(error);
    }
    options.onRetry?.(reason, wait);
    await sleep(wait);
    delay = Math.min(delay * 2, maxDelay);
  }
}

/** `Retry-After` as seconds or an HTTP date, in ms; null when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number | null {
  if (header === null || header.trim() === "") return null;
  if (/^\d+$/.test(header.trim())) return Number(header.trim()) * 1000;
  const date = Date.parse(header);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

const CONNECTION_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "UND_ERR_SOCKET", "UND_ERR_CONNECT_TIMEOUT"]);

function connectionFailureCode(error: unknown): string {
  const cause = (error as { cause?: { code?: string } }).cause;
  return cause?.code ?? (error as { code?: string }).code ?? "connection failed";
}

/** Node's fetch fails with "fetch failed" whose cause names the socket error. */
function isConnectionFailure(error: unknown): boolean {
  return error instanceof TypeError && CONNECTION_CODES.has(connectionFailureCode(error));
}
