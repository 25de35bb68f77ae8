/**
 * Accounts without Clerk: Convex Auth (convex/auth.ts). ConvexAuthProvider keeps the access
 * token (15 minutes, refreshed with the refresh token) and hands it to Convex; this bridge
 * tells the rest of the portal who is signed in and signs out.
 */
import { useAuthActions, useAuthToken } from "@convex-dev/auth/react";
import { useAction, useConvexAuth } from "convex/react";
import { useCallback, useMemo, useRef, type ReactNode } from "react";
import { SIGN_IN_TICKET_PATH, signInTicketPurpose, type SignInTicketPurpose } from "../../../domain/signInTickets";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { AuthBridgeContext, type AuthBridge } from "./auth";
import { config } from "./config";
import { navigate } from "./router";

/** The user id a Convex Auth token names (`sub` is `<userId>|<sessionId>`). */
export function subjectOf(token: string | null): string | null {
  if (token === null) return null;
  try {
    const payload = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/"))) as { sub?: unknown };
    return typeof payload.sub === "string" ? (payload.sub.split("|")[0] ?? null) : null;
  } catch {
    return null;
  }
}

/** The front door refused a ticket (429: too many attempts from this network), with the server's sentence. */
export class SignInTicketRefused extends Error {
  constructor(
    message: string,
    readonly retryAfterSeconds: number | null,
  ) {
    super(message);
    this.name = "SignInTicketRefused";
  }
}

/**
 * A single-use sign-in ticket from the deployment's front door (POST /auth/ticket, limited
 * per client address), which the abusable `auth:signIn` flows require. Throws
 * SignInTicketRefused with the wait when the address is over its limit.
 */
export async function fetchSignInTicket(purpose: SignInTicketPurpose): Promise<string> {
  let response: Response;
  try {
    response = await fetch(`${config.convexSiteUrl}${SIGN_IN_TICKET_PATH}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ purpose }),
    });
  } catch {
    throw new SignInTicketRefused("The sign-in service cannot be reached: check your connection and try again.", null);
  }
  const body = (await response.json().catch(() => null)) as { ticket?: string; error?: { message?: string } } | null;
  if (response.ok && typeof body?.ticket === "string") return body.ticket;
  const retryAfter = Number(response.headers.get("Retry-After"));
  const seconds = Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : null;
  throw new SignInTicketRefused(body?.error?.message ?? "Sign-in is not available right now: try again in a moment.", seconds);
}

/**
 * Convex Auth's `signIn`, with a fresh ticket from the front door added to every call that
 * needs one (password and email-code flows); other calls (Google) pass through.
 */
export function useTicketedSignIn() {
  const { signIn } = useAuthActions();
  return useCallback(
    async (provider: string, params: Record<string, string> = {}) => {
      const purpose = signInTicketPurpose(provider, params);
      const ticket = purpose === null ? undefined : await fetchSignInTicket(purpose);
      return await signIn(provider, ticket === undefined ? params : { ...params, ticket });
    },
    [signIn],
  );
}

export function AccountsBridge({ children }: { children: ReactNode }) {
  const { isLoading } = useConvexAuth();
  const token = useAuthToken();
  const { signOut } = useAuthActions();
  const subject = subjectOf(token);
  const issueRoomToken = useAction(api.partyTokens.issue);
  const business = useRef<string | null>(null);
  const bridge = useMemo<AuthBridge>(
    () => ({
      kind: "accounts",
      // While the stored session is being restored the person counts as signed in (loading),
      // so a reload does not bounce them to the sign-in page.
      signedIn: token !== null || isLoading,
      subject,
      signOut: () => {
        void signOut().finally(() => navigate("/sign-in", { replace: true }));
      },
      // The access token has no role claims: private rooms get a room token
      // (convex/partyTokens.ts) for the chosen business, asked afresh on every (re)connect.
      partyToken: async () => {
        if (token === null) return null;
        try {
          const businessId = (business.current ?? undefined) as Id<"businesses"> | undefined;
          return (await issueRoomToken(businessId ? { businessId } : {})).token;
        } catch {
          return null;
        }
      },
      // The access token ConvexAuthProvider keeps fresh is the one Convex verifies.
      convexToken: () => Promise.resolve(token),
      setBusinessContext: (businessId: string | null) => {
        business.current = businessId;
      },
    }),
    [token, isLoading, subject, signOut, issueRoomToken],
  );
  return <AuthBridgeContext.Provider value={bridge}>{children}</AuthBridgeContext.Provider>;
}
