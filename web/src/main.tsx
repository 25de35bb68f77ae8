/**
 * Entry: Clerk + ConvexProviderWithClerk when VITE_CLERK_PUBLISHABLE_KEY is set; otherwise
 * accounts (Convex Auth, ConvexAuthProvider), or, in development only (the Vite dev server)
 * and once a demo account was picked, the local demo sign-in + ConvexProviderWithAuth. Then
 * the session (users.store / users.me) and the app.
 */
import { ClerkProvider, useAuth as useClerkAuth } from "@clerk/clerk-react";
import { ConvexAuthProvider } from "@convex-dev/auth/react";
import { ConvexProviderWithAuth, ConvexReactClient } from "convex/react";
import { ConvexProviderWithClerk } from "convex/react-clerk";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App";
import { AccountsBridge } from "./lib/accounts";
import { hasDemoSession, LocalAuthProvider, useLocalConvexAuth } from "./lib/auth";
import { ClerkBridge } from "./lib/clerk";
import { config, usesClerk } from "./lib/config";
import { SessionProvider } from "./lib/session";
import "./styles.css";

const convex = new ConvexReactClient(config.convexUrl, { verbose: false });

function Root() {
  if (usesClerk) {
    return (
      <ClerkProvider publishableKey={config.clerkPublishableKey} afterSignOutUrl="/">
        <ConvexProviderWithClerk client={convex} useAuth={useClerkAuth}>
          <ClerkBridge>
            <SessionProvider>
              <App />
            </SessionProvider>
          </ClerkBridge>
        </ConvexProviderWithClerk>
      </ClerkProvider>
    );
  }
  // `import.meta.env.DEV` is false in `vite build`: the demo sign-in is not in that bundle.
  if (import.meta.env.DEV && hasDemoSession()) {
    return (
      <LocalAuthProvider>
        <ConvexProviderWithAuth client={convex} useAuth={useLocalConvexAuth}>
          <SessionProvider>
            <App />
          </SessionProvider>
        </ConvexProviderWithAuth>
      </LocalAuthProvider>
    );
  }
  return (
    <ConvexAuthProvider client={convex}>
      <AccountsBridge>
        <SessionProvider>
          <App />
        </SessionProvider>
      </AccountsBridge>
    </ConvexAuthProvider>
  );
}

createRoot(document.getElementById("root")!).render(
  <StrictMode>
    <Root />
  </StrictMode>,
);
