/**
 * Sign-in, three ways behind one context:
 * - CLERK (VITE_CLERK_PUBLISHABLE_KEY set): ClerkProvider + ConvexProviderWithClerk.
 * - ACCOUNTS (no Clerk key): Convex Auth in the deployment (lib/accounts.tsx).
 * - DEMO (development only: the Vite dev server, `npm start`): the dev server's /local-auth
 *   plugin issues ES256 JWTs for the demo accounts; Convex gets them through
 *   ConvexProviderWithAuth (`useLocalConvexAuth`). A production build has none of it.
 * Either way `useAuthBridge()` says who is signed in, signs out, and hands PartyKit a token.
 */
import { createContext, useCallback, useContext, useMemo, useRef, useState, type ReactNode } from "react";

export type AuthBridge = {
  kind: "local" | "clerk" | "accounts";
  signedIn: boolean;
  subject: string | null;
  signOut(): void;
  /** A fresh JWT for PartyKit's private rooms (claims for the chosen business). */
  partyToken(): Promise<string | null>;
  /** The token Convex accepts for this person, for the HTTP actions site (invoice PDFs). */
  convexToken(): Promise<string | null>;
  /** Which business the role claims should describe (a person may belong to several). */
  setBusinessContext(businessId: string | null): void;
};

export const AuthBridgeContext = createContext<AuthBridge | null>(null);

export function useAuthBridge(): AuthBridge {
  const bridge = useContext(AuthBridgeContext);
  if (bridge === null) throw new Error("useAuthBridge outside of an auth provider");
  return bridge;
}

// ---------------------------------------------------------------------------------------
// Local sign-in

const STORAGE_KEY = "bp.localAuth";

type LocalSession = { subject: string; name?: string };
type CachedToken = { token: string; expiresAt: number; businessId: string | null };

export class LocalAuthError extends Error {}

/** Whether this browser is signed in to a demo account (development only). */
export function hasDemoSession(): boolean {
  return readSession() !== null;
}

/** Signs this browser in to a demo account; the page must reload to switch to the demo sign-in. */
export function saveDemoSession(subject: string, name?: string): void {
  window.localStorage.setItem(STORAGE_KEY, JSON.stringify({ subject, ...(name ? { name } : {}) }));
}

/** Leaves the demo sign-in (the page must reload to switch back to accounts). */
export function clearDemoSession(): void {
  window.localStorage.removeItem(STORAGE_KEY);
}

function readSession(): LocalSession | null {
  try {
    const raw = window.localStorage.getItem(STORAGE_KEY);
    if (!raw) return null;
    const parsed = JSON.parse(raw) as { subject?: unknown; name?: unknown };
    if (typeof parsed.subject !== "string") return null;
    return { subject: parsed.subject, ...(typeof parsed.name === "string" ? { name: parsed.name } : {}) };
  } catch {
    return null;
  }
}

export async function requestLocalToken(subject: string, businessId: string | null, name?: string): Promise<CachedToken> {
  const response = await fetch("/local-auth/token", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ subject, ...(businessId ? { businessId } : {}), ...(name ? { name } : {}) }),
  });
  const body = (await response.json().catch(() => null)) as { token?: string; expiresAt?: number; message?: string } | null;
  if (!response.ok || !body?.token) {
    throw new LocalAuthError(body?.message ?? `The local sign-in answered HTTP ${response.status}.`);
  }
  return { token: body.token, expiresAt: body.expiresAt ?? Date.now() + 3_600_000, businessId };
}

type LocalAuthState = {
  session: LocalSession | null;
  signIn(subject: string, name?: string): void;
  signOut(): void;
  fetchAccessToken(args: { forceRefreshToken: boolean }): Promise<string | null>;
  partyToken(): Promise<string | null>;
  convexToken(): Promise<string | null>;
  setBusinessContext(businessId: string | null): void;
};

const LocalAuthContext = createContext<LocalAuthState | null>(null);

export function useLocalAuth(): LocalAuthState {
  const state = useContext(LocalAuthContext);
  if (state === null) throw new Error("useLocalAuth outside of LocalAuthProvider");
  return state;
}

export function LocalAuthProvider({ children }: { children: ReactNode }) {
  const [session, setSession] = useState<LocalSession | null>(readSession);
  const cache = useRef<CachedToken | null>(null);
  const business = useRef<string | null>(null);
  const subject = session?.subject ?? null;
  const displayName = session?.name;

  const tokenFor = useCallback(
    async (force: boolean): Promise<string | null> => {
      if (subject === null) return null;
      const cached = cache.current;
      if (!force && cached && cached.businessId === business.current && cached.expiresAt - Date.now() > 5 * 60_000) return cached.token;
      const fresh = await requestLocalToken(subject, business.current, displayName);
      cache.current = fresh;
      return fresh.token;
    },
    [subject, displayName],
  );

  const fetchAccessToken = useCallback(
    async ({ forceRefreshToken }: { forceRefreshToken: boolean }) => {
      try {
        return await tokenFor(forceRefreshToken);
      } catch (error) {
        console.error("[local auth]", error);
        return null;
      }
    },
    [tokenFor],
  );

  const value = useMemo<LocalAuthState>(
    () => ({
      session,
      signIn(next: string, name?: string) {
        cache.current = null;
        const fresh: LocalSession = { subject: next, ...(name ? { name } : {}) };
        window.localStorage.setItem(STORAGE_KEY, JSON.stringify(fresh));
        setSession(fresh);
      },
      signOut() {
        cache.current = null;
        window.localStorage.removeItem(STORAGE_KEY);
        setSession(null);
      },
      fetchAccessToken,
      // Claims change when a customer record or membership appears: always ask afresh.
      partyToken: () => tokenFor(true).catch(() => null),
      convexToken: () => tokenFor(false).catch(() => null),
      setBusinessContext(businessId: string | null) {
        business.current = businessId;
      },
    }),
    [session, fetchAccessToken, tokenFor],
  );

  const bridge = useMemo<AuthBridge>(
    () => ({
      kind: "local",
      signedIn: session !== null,
      subject,
      signOut: value.signOut,
      partyToken: value.partyToken,
      convexToken: value.convexToken,
      setBusinessContext: value.setBusinessContext,
    }),
    [session, subject, value],
  );

  return (
    <LocalAuthContext.Provider value={value}>
      <AuthBridgeContext.Provider value={bridge}>{children}</AuthBridgeContext.Provider>
    </LocalAuthContext.Provider>
  );
}

/** The `useAuth` hook ConvexProviderWithAuth wants, backed by the local sign-in. */
export function useLocalConvexAuth() {
  const { session, fetchAccessToken } = useLocalAuth();
  return useMemo(
    () => ({ isLoading: false, isAuthenticated: session !== null, fetchAccessToken }),
    [session, fetchAccessToken],
  );
}
