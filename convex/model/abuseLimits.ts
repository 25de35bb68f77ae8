/**
 * Limits against abuse by people (not integrations, whose keys have their own per-minute
 * windows in `api/gate.ts`), on the `@convex-dev/rate-limiter` component:
 *
 * - public booking: a customer may hold at most 5 times in 10 minutes (per customer record of
 *   the business; every public booking attempt in the platform is made signed in, so the
 *   person is known). Staff booking for customers are not limited here.
 * - the staff assistant's chat: 20 messages per hour per person.
 * - account codes (verification, reset, sign-in by code): 5 emails per hour per address
 *   (model/accounts.ts; wrong codes and passwords have Convex Auth's own per-account counter).
 * - the accounts' front door (authTickets.ts), per client address: 20 sign-in attempts
 *   (password, code submissions) per 10 minutes, and 10 sign-ups / code emails per hour.
 *
 * Over a limit the call is refused with RATE_LIMITED, a sentence saying how long to wait and
 * `details.retryAfterMs`. A refused call writes nothing; a held attempt counts in its own
 * transaction, so an attempt that fails (slot taken) rolls its count back with it.
 *
 * Plain module: no registered functions.
 */
import { HOUR, MINUTE, RateLimiter } from "@convex-dev/rate-limiter";
import { components } from "../_generated/api";
import type { MutationCtx } from "../_generated/server";
import { appError } from "../errors";

export const BOOKING_ATTEMPTS = { rate: 5, periodMs: 10 * MINUTE } as const;
export const CHAT_MESSAGES = { rate: 20, periodMs: HOUR } as const;
export const ACCOUNT_CODE_EMAILS = { rate: 5, periodMs: HOUR } as const;
/** Tickets of the accounts' front door per client address (authTickets.ts). */
export const SIGN_IN_ATTEMPTS_PER_CLIENT = { rate: 20, periodMs: 10 * MINUTE } as const;
export const CODE_EMAILS_PER_CLIENT = { rate: 10, periodMs: HOUR } as const;

const limiter = new RateLimiter(components.rateLimiter, {
  publicBookingAttempt: { kind: "fixed window", rate: BOOKING_ATTEMPTS.rate, period: BOOKING_ATTEMPTS.periodMs },
  assistantMessage: { kind: "fixed window", rate: CHAT_MESSAGES.rate, period: CHAT_MESSAGES.periodMs },
  accountCodeEmail: { kind: "fixed window", rate: ACCOUNT_CODE_EMAILS.rate, period: ACCOUNT_CODE_EMAILS.periodMs },
  accountSignInFromClient: { kind: "fixed window", rate: SIGN_IN_ATTEMPTS_PER_CLIENT.rate, period: SIGN_IN_ATTEMPTS_PER_CLIENT.periodMs },
  accountCodeEmailFromClient: { kind: "fixed window", rate: CODE_EMAILS_PER_CLIENT.rate, period: CODE_EMAILS_PER_CLIENT.periodMs },
});

/** "3 minutes", "45 seconds": how long to wait, rounded up. */
export function waitWords(ms: number): string {
  if (ms >= 90_000) {
    const minutes = Math.ceil(ms / 60_000);
    return `${minutes} minutes`;
  }
  const seconds = Math.max(1, Math.ceil(ms / 1000));
  return seconds === 1 ? "1 second" : `${seconds} seconds`;
}

async function take(ctx: MutationCtx, name: "publicBookingAttempt" | "assistantMessage" | "accountCodeEmail", key: string, what: string) {
  const status = await limiter.limit(ctx, name, { key });
  if (!status.ok) {
    throw appError("RATE_LIMITED", `${what} Try again in ${waitWords(status.retryAfter)}.`, { details: { retryAfterMs: status.retryAfter } });
  }
}

export async function countBookingAttempt(ctx: MutationCtx, customerKey: string) {
  await take(ctx, "publicBookingAttempt", customerKey, `Too many booking attempts: at most ${BOOKING_ATTEMPTS.rate} in 10 minutes.`);
}

export async function countAssistantMessage(ctx: MutationCtx, userKey: string) {
  await take(ctx, "assistantMessage", userKey, `You have sent ${CHAT_MESSAGES.rate} messages to the assistant this hour, the most it takes.`);
}

/**
 * A ticket of the accounts' front door for this client address: `sign-in` (a password or a
 * code to check) or `send-code` (a sign-up, a reset, a code email). Returns the refusal
 * instead of throwing it, so that the HTTP action can answer 429 with Retry-After.
 */
export async function countFrontDoorTicket(
  ctx: MutationCtx,
  purpose: "sign-in" | "send-code",
  clientAddress: string,
): Promise<{ ok: true } | { ok: false; message: string; retryAfterMs: number }> {
  const name = purpose === "sign-in" ? "accountSignInFromClient" : "accountCodeEmailFromClient";
  const status = await limiter.limit(ctx, name, { key: clientAddress });
  if (status.ok) return { ok: true };
  const what =
    purpose === "sign-in"
      ? `Too many sign-in attempts from your network: at most ${SIGN_IN_ATTEMPTS_PER_CLIENT.rate} in 10 minutes.`
      : `Too many sign-ups and code emails from your network: at most ${CODE_EMAILS_PER_CLIENT.rate} an hour.`;
  return { ok: false, message: `${what} Try again in ${waitWords(status.retryAfter)}.`, retryAfterMs: status.retryAfter };
}

export async function countAccountCodeEmail(ctx: MutationCtx, email: string) {
  await take(ctx, "accountCodeEmail", email, `Too many codes sent to this address: at most ${ACCOUNT_CODE_EMAILS.rate} an hour.`);
}
