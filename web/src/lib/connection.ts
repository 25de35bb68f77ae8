/**
 * The real state of the portal's connections, for the "Live" dot and the offline banner:
 * the browser's own network flag and the Convex client's WebSocket (and what it has in
 * flight). The Convex client retries on its own; this only says what is happening.
 */
import { useConvex } from "convex/react";
import { useEffect, useState } from "react";

export type Connection = {
  /** The browser says it has a network. */
  online: boolean;
  /** The Convex WebSocket is open (or has not been needed yet). */
  convexConnected: boolean;
  /** Mutations and actions sent but not yet answered. */
  pending: number;
  /** Since when the oldest of them has waited (ms since epoch), or null. */
  pendingSince: number | null;
};

export function useConnection(): Connection {
  const convex = useConvex();
  const [online, setOnline] = useState(() => navigator.onLine);
  const [state, setState] = useState(() => convex.connectionState());
  useEffect(() => {
    const up = () => setOnline(true);
    const down = () => setOnline(false);
    window.addEventListener("online", up);
    window.addEventListener("offline", down);
    const unsubscribe = convex.subscribeToConnectionState(setState);
    return () => {
      window.removeEventListener("online", up);
      window.removeEventListener("offline", down);
      unsubscribe();
    };
  }, [convex]);
  return {
    online,
    convexConnected: state.isWebSocketConnected || !state.hasEverConnected,
    pending: state.inflightMutations + state.inflightActions,
    pendingSince: state.timeOfOldestInflightRequest?.getTime() ?? null,
  };
}

/** True once `since` is at least `ms` in the past (re-renders when it becomes true). */
export function useWaitedLongerThan(since: number | null, ms: number): boolean {
  const [, tick] = useState(0);
  useEffect(() => {
    if (since === null) return;
    const left = since + ms - Date.now();
    if (left <= 0) return;
    const timer = setTimeout(() => tick((n) => n + 1), left + 10);
    return () => clearTimeout(timer);
  }, [since, ms]);
  return since !== null && Date.now() - since >= ms;
}
