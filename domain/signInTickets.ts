/**
 * Which sign-in ticket an `auth:signIn` call needs (docs/ACCOUNTS.md, "The front door").
 * The portal asks the deployment's front door (`POST /auth/ticket`, convex/authTickets.ts)
 * for one before each such call, and the providers in convex/auth.ts refuse the call
 * without it. Shared so both sides name the same purpose. Pure.
 *
 * - "sign-in": something is checked against an account: a password (`password` signIn) or a
 *   code (`email-verification`, `reset-verification`, `email-code` with a code);
 * - "send-code": something is created or mailed: a sign-up, a reset, a code email.
 *
 * Refreshing a session (`refreshToken`), Google, Clerk and the demo sign-in need none.
 */
export type SignInTicketPurpose = "sign-in" | "send-code";

export const SIGN_IN_TICKET_PURPOSES: readonly SignInTicketPurpose[] = ["sign-in", "send-code"];
/** The front door's path on the deployment's HTTP actions site. */
export const SIGN_IN_TICKET_PATH = "/auth/ticket";
/** A ticket is good for one call within this time of its issue. */
export const SIGN_IN_TICKET_TTL_MS = 2 * 60_000;

/** The purpose a call of `provider` with `params` needs, or null for a provider that needs no ticket. */
export function signInTicketPurpose(provider: string | undefined, params: Record<string, unknown>): SignInTicketPurpose | null {
  if (provider === "password") return params.flow === "signUp" || params.flow === "reset" ? "send-code" : "sign-in";
  if (provider === "email-code") return params.code === undefined ? "send-code" : "sign-in";
  return null;
}
