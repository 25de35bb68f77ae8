/**
 * PartyKit rooms in React, over party/client.ts's `subscribeToRoom` (validated messages, seq
 * tracking). Convex's reactive queries stay the source of truth; rooms add what the database
 * does not hold (slot holds in progress, who is watching the board) and a "something changed"
 * pulse. A resync after a missed event needs no refetch: the Convex subscriptions are live.
 */
import { useEffect, useRef, useState } from "react";
import { subscribeToRoom, type RoomSubscription } from "../../../party/client";
import type { ClientMessageOf, ErrorMessage, EventMessageOf, ServerMessageOf } from "../../../party/messages";
import type { PartyName } from "../../../party/rooms";
import { config } from "./config";

export type RoomStatus = "off" | "connecting" | "open" | "closed";

export type RoomHandlers<P extends PartyName> = {
  onEvent?: (message: EventMessageOf<P>) => void;
  onMessage?: (message: Exclude<ServerMessageOf<P>, { type: "event" | "error" }>) => void;
  onServerError?: (error: ErrorMessage) => void;
};

export function useRoom<P extends PartyName>(
  party: P,
  room: string | null,
  handlers: RoomHandlers<P>,
  token?: () => Promise<string | null>,
): { status: RoomStatus; send: (message: ClientMessageOf<P>) => boolean; lastEventAt: number | null } {
  const [status, setStatus] = useState<RoomStatus>("off");
  const [lastEventAt, setLastEventAt] = useState<number | null>(null);
  const handlersRef = useRef(handlers);
  handlersRef.current = handlers;
  const tokenRef = useRef(token);
  tokenRef.current = token;
  const subscription = useRef<RoomSubscription<P> | null>(null);
  const wantsToken = token !== undefined;

  useEffect(() => {
    if (!room || !config.partykitHost) {
      setStatus("off");
      return;
    }
    setStatus("connecting");
    const sub = subscribeToRoom<P>({
      host: config.partykitHost,
      party,
      room,
      resync: () => setLastEventAt(Date.now()),
      ...(wantsToken ? { token: () => tokenRef.current?.() ?? null } : {}),
      onEvent: (message) => {
        setLastEventAt(Date.now());
        handlersRef.current.onEvent?.(message);
      },
      onMessage: (message) => handlersRef.current.onMessage?.(message),
      onServerError: (error) => handlersRef.current.onServerError?.(error),
      onProtocolError: (error) => console.warn(`[${party} room]`, error),
      socketOptions: { maxReconnectionDelay: 5_000, minReconnectionDelay: 500 },
    });
    subscription.current = sub;
    const onOpen = () => setStatus("open");
    const onClose = () => setStatus("closed");
    sub.socket.addEventListener("open", onOpen);
    sub.socket.addEventListener("close", onClose);
    return () => {
      sub.socket.removeEventListener("open", onOpen);
      sub.socket.removeEventListener("close", onClose);
      sub.close();
      subscription.current = null;
    };
  }, [party, room, wantsToken]);

  return {
    status,
    lastEventAt,
    send(message) {
      const sub = subscription.current;
      if (!sub || sub.socket.readyState !== 1) return false;
      try {
        sub.send(message);
        return true;
      } catch (error) {
        console.warn(`[${party} room] not sent`, error);
        return false;
      }
    },
  };
}
