/**
 * Accounts without Clerk: Convex Auth (convex/auth.ts). ConvexAuthProvider keeps the access
 * token (15 minutes, refreshed with the refresh token) and hands it to Convex; this bridge
 * tells the rest of the portal who is signed in and signs out.
 */
import { useAuthActions, useAuthToken } from "@convex-dev/auth/react";
import { useConvexAuth } from "convex/react";
import { useMemo, type ReactNode } from "react";
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
      // Private live rooms need role claims this token does not carry (docs/ACCOUNTS.md).
      partyToken: async () => null,
      setBusinessContext: () => undefined,
    }),
    [token, isLoading, subject, signOut],
  );
  return <AuthBridgeContext.Provider value={bridge}>{children}</AuthBridgeContext.Provider>;
}
