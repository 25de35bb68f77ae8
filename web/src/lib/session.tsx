/**
 * The signed-in viewer: stores their user record (`users.store`) once per sign-in, reads
 * `users.me`, and derives the roles they can act in ("contexts": customer of a business,
 * owner / manager / staff of one, platform admin). The chosen context drives navigation.
 */
import { useConvexAuth, useMutation, useQuery } from "convex/react";
import type { FunctionReturnType } from "convex/server";
import { createContext, useContext, useEffect, useMemo, useState, type ReactNode } from "react";
import { api } from "../../../convex/_generated/api";
import type { Id } from "../../../convex/_generated/dataModel";
import { useAuthBridge } from "./auth";

export type Me = NonNullable<FunctionReturnType<typeof api.users.me>>;

export type Role = "customer" | "owner" | "manager" | "staff" | "platform_admin";

export type ViewerContext = {
  key: string;
  role: Role;
  businessId?: Id<"businesses">;
  customerId?: Id<"customers">;
  resourceId?: Id<"resources">;
};

type SessionState =
  | { status: "signed_out" }
  | { status: "loading" }
  | { status: "error"; error: unknown; retry(): void }
  | {
      status: "ready";
      me: Me;
      contexts: ViewerContext[];
      current: ViewerContext | null;
      choose(key: string): void;
    };

const SessionContext = createContext<SessionState>({ status: "loading" });

export function useSession(): SessionState {
  return useContext(SessionContext);
}

/** The ready session; only for components rendered inside a signed-in layout. */
export function useReadySession() {
  const session = useSession();
  if (session.status !== "ready") throw new Error("useReadySession before the session is ready");
  return session;
}

export const ROLE_LABELS: Record<Role, string> = {
  customer: "Customer",
  owner: "Owner",
  manager: "Dispatcher",
  staff: "Provider",
  platform_admin: "Platform admin",
};

const ROLE_ORDER: Record<Role, number> = { owner: 0, manager: 1, staff: 2, customer: 3, platform_admin: 4 };

export function contextsOf(me: Me): ViewerContext[] {
  const list: ViewerContext[] = [];
  for (const m of me.memberships) {
    list.push({ key: `${m.role}:${m.businessId}`, role: m.role, businessId: m.businessId, resourceId: m.resourceId });
  }
  for (const c of me.customers) {
    list.push({ key: `customer:${c.businessId}`, role: "customer", businessId: c.businessId, customerId: c.customerId });
  }
  if (me.user.isPlatformAdmin) list.push({ key: "platform_admin", role: "platform_admin" });
  return list.sort((a, b) => ROLE_ORDER[a.role] - ROLE_ORDER[b.role]);
}

export function SessionProvider({ children }: { children: ReactNode }) {
  const { isAuthenticated, isLoading } = useConvexAuth();
  const bridge = useAuthBridge();
  const store = useMutation(api.users.store);
  const [stored, setStored] = useState<{ subject: string | null; state: "pending" | "done" | { error: unknown } }>({
    subject: null,
    state: "pending",
  });
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    if (!isAuthenticated) return;
    let cancelled = false;
    setStored({ subject: bridge.subject, state: "pending" });
    store()
      .then(() => !cancelled && setStored({ subject: bridge.subject, state: "done" }))
      .catch((error: unknown) => !cancelled && setStored({ subject: bridge.subject, state: { error } }));
    return () => {
      cancelled = true;
    };
  }, [isAuthenticated, bridge.subject, store, attempt]);

  const ready = isAuthenticated && stored.subject === bridge.subject && stored.state === "done";
  const me = useQuery(api.users.me, ready ? {} : "skip");
  const storageKey = `bp.context.${bridge.subject ?? ""}`;
  const [chosen, setChosen] = useState<string | null>(() => window.localStorage.getItem(storageKey));
  useEffect(() => setChosen(window.localStorage.getItem(storageKey)), [storageKey]);

  const value = useMemo<SessionState>(() => {
    if (!bridge.signedIn) return { status: "signed_out" };
    if (isLoading) return { status: "loading" };
    if (!isAuthenticated) return { status: "error", error: new Error("The sign-in token was not accepted by the backend."), retry: () => bridge.signOut() };
    if (typeof stored.state === "object") return { status: "error", error: stored.state.error, retry: () => setAttempt((n) => n + 1) };
    if (!ready || me === undefined) return { status: "loading" };
    if (me === null) return { status: "loading" };
    const contexts = contextsOf(me);
    const current = contexts.find((c) => c.key === chosen) ?? contexts[0] ?? null;
    return {
      status: "ready",
      me,
      contexts,
      current,
      choose(key: string) {
        window.localStorage.setItem(storageKey, key);
        setChosen(key);
      },
    };
  }, [bridge, isLoading, isAuthenticated, stored, ready, me, chosen, storageKey]);

  const currentBusiness = value.status === "ready" ? (value.current?.businessId ?? null) : null;
  useEffect(() => bridge.setBusinessContext(currentBusiness), [bridge, currentBusiness]);

  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}
