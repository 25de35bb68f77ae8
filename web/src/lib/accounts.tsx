/**
 * Accounts without Clerk: Convex Auth (convex/auth.ts). ConvexAuthProvider keeps the access
 * token (15 minutes, refreshed with the refresh token) and hands it to Convex; this bridge
 * tells the rest of the portal who is signed in and signs out.
 */
import { useAuthActions, useAuthToken } from "@convex-dev/auth/react";
import { useAction, useConvexAuth } from "convex/react";
import { useMemo, useRef, type ReactNode } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { AuthBridgeContext, type AuthBridge } from "./auth";
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
