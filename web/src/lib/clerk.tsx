/** Clerk sign-in (when VITE_CLERK_PUBLISHABLE_KEY is set): the bridge over Clerk's hooks. */
import { SignIn, useAuth, useClerk } from "@clerk/clerk-react";
import { useMemo, type ReactNode } from "react";
import { AuthBridgeContext, type AuthBridge } from "./auth";

export function ClerkBridge({ children }: { children: ReactNode }) {
  const { isSignedIn, userId, getToken } = useAuth();
  const clerk = useClerk();
  const bridge = useMemo<AuthBridge>(
    () => ({
      kind: "clerk",
      signedIn: isSignedIn === true,
      subject: userId ?? null,
      signOut: () => void clerk.signOut(),
      // The "convex" JWT template is the one Convex verifies; PartyKit verifies the same token.
      partyToken: () => getToken({ template: "convex" }),
      convexToken: () => getToken({ template: "convex" }),
      setBusinessContext: () => undefined,
    }),
    [isSignedIn, userId, getToken, clerk],
  );
  return <AuthBridgeContext.Provider value={bridge}>{children}</AuthBridgeContext.Provider>;
}

export function ClerkSignIn() {
  return (
    <div className="center-page">
      <SignIn routing="hash" />
    </div>
  );
}
