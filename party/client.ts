/**
 * Browser (and Node) side of a room subscription, for web/: a reconnecting partysocket that
 * validates every message, tracks the room's `seq`, and calls the caller's `resync()` (refetch
 * from Convex) whenever it may have missed a committed event: a gap in seq, or a reconnect to
 * a room whose seq moved on. Resyncs never overlap; requests during one coalesce into one more.
 */
import PartySocket, { type PartySocketOptions } from "partysocket";
import {
  clientMessageSchemas,
  parseServerMessage,
  type ClientMessageOf,
  type ErrorMessage,
  type EventMessageOf,
  type ServerMessageOf,
} from "./messages";
import type { PartyName } from "./rooms";
import { decideReceive, needsResyncOnWelcome } from "./sequence";

export type ResyncReason = "gap" | "reconnect";

/** Pure bookkeeping of the last seq seen; decides what to do with each welcome and event. */
export class SeqTracker {
  private seen: number | null;
  private welcomed = false;

  /** `knownSeq`: the seq the caller's data already reflects (e.g. returned by a Convex query). */
  constructor(knownSeq?: number) {
    this.seen = knownSeq ?? null;
  }

  get lastSeq(): number | null {
    return this.seen;
  }

  /** Returns a resync reason when the room's seq shows that something was missed. */
  welcome(roomSeq: number): ResyncReason | null {
    const isReconnect = this.welcomed;
    this.welcomed = true;
    const missed = needsResyncOnWelcome(this.seen, roomSeq);
    this.seen = roomSeq;
    if (!missed) return null;
    return isReconnect ? "reconnect" : "gap";
  }

  event(seq: number): { deliver: boolean; resync: ResyncReason | null } {
    const decision = decideReceive(this.seen, seq);
    if (decision === "drop") return { deliver: false, resync: null };
    this.seen = seq;
    return { deliver: true, resync: decision === "deliver_and_resync" ? "gap" : null };
  }
}

/** Runs resync() one at a time; requests made while one runs coalesce into a single rerun. */
export class ResyncRunner {
  private running: Promise<void> | null = null;
  private pending: ResyncReason | null = null;

  constructor(
    private readonly resync: (reason: ResyncReason) => void | Promise<void>,
    private readonly onFailure: (error: unknown) => void,
  ) {}

  request(reason: ResyncReason): void {
    if (this.running) {
      this.pending = reason;
      return;
    }
    this.running = this.drain(reason);
  }

  /** Resolves once no resync is running or pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  private async drain(first: ResyncReason): Promise<void> {
    let reason: ResyncReason | null = first;
    try {
      while (reason !== null) {
        const current: ResyncReason = reason;
        try {
          // Always asynchronous, so `running` is set before a synchronous resync can finish.
          await Promise.resolve().then(() => this.resync(current));
        } catch (error) {
          this.onFailure(error);
        }
        reason = this.pending;
        this.pending = null;
      }
    } finally {
      this.running = null;
    }
  }
}

export type RoomSubscriptionOptions<P extends PartyName> = {
  /** PartyKit host, e.g. "127.0.0.1:1999" (ws:// for localhost/127.0.0.1, wss:// otherwise). */
  host: string;
  party: P;
  room: string;
  /** Refetch from Convex: called after a gap or a reconnect that missed events. */
  resync: (reason: ResyncReason) => void | Promise<void>;
  /** Fresh token for private rooms, asked for on every (re)connect. */
  token?: () => string | null | Promise<string | null>;
  /** The seq the caller's data reflects, if known; without it the first welcome sets the baseline. */
  knownSeq?: number;
  /** Committed events, in order, duplicates removed. */
  onEvent?: (message: EventMessageOf<P>) => void;
  /** Every other valid message (welcome, holds, presence, provider positions). */
  onMessage?: (message: Exclude<ServerMessageOf<P>, { type: "event" | "error" }>) => void;
  /** Refusals from the room (invalid message, rate limited, forbidden, ...). */
  onServerError?: (error: ErrorMessage) => void;
  /** A message that failed validation or a resync that threw; defaults to console.error. */
  onProtocolError?: (error: unknown) => void;
  /** WebSocket implementation where there is no global one (Node < 22: the `ws` package). */
  WebSocket?: unknown;
  /** Passed to partysocket (reconnection delays, connectionTimeout, ...). */
  socketOptions?: Pick<
    PartySocketOptions,
    "minReconnectionDelay" | "maxReconnectionDelay" | "reconnectionDelayGrowFactor" | "connectionTimeout" | "maxRetries"
  >;
};

export type RoomSubscription<P extends PartyName> = {
  readonly socket: PartySocket;
  /** Last seq seen, or null before the first welcome. */
  lastSeq(): number | null;
  /** Validates and sends a client message; throws when the party accepts none or it is invalid. */
  send(message: ClientMessageOf<P>): void;
  /** Resolves when no resync is running. */
  resyncIdle(): Promise<void>;
  close(): void;
};

export function subscribeToRoom<P extends PartyName>(options: RoomSubscriptionOptions<P>): RoomSubscription<P> {
  const tracker = new SeqTracker(options.knownSeq);
  const protocolError = options.onProtocolError ?? ((error: unknown) => console.error("[party client]", error));
  const runner = new ResyncRunner(options.resync, protocolError);
  const { token } = options;

  const socket = new PartySocket({
    host: options.host,
    party: options.party,
    room: options.room,
    ...(token ? { query: async () => ({ token: await token() }) } : {}),
    ...(options.WebSocket ? { WebSocket: options.WebSocket } : {}),
    ...options.socketOptions,
  });

  socket.addEventListener("message", (event: MessageEvent) => {
    if (typeof event.data !== "string") {
      protocolError(new Error(`${options.party} room sent a binary message`));
      return;
    }
    const parsed = parseServerMessage(options.party, event.data);
    if (!parsed.ok) {
      protocolError(new Error(parsed.error.message));
      return;
    }
    const message = parsed.value as ServerMessageOf<PartyName>;
    if (message.type === "event") {
      const decision = tracker.event(message.seq);
      if (decision.deliver) options.onEvent?.(message as EventMessageOf<P>);
      if (decision.resync) runner.request(decision.resync);
      return;
    }
    if (message.type === "error") {
      options.onServerError?.(message);
      return;
    }
    if (message.type === "welcome") {
      const reason = tracker.welcome(message.seq);
      if (reason) runner.request(reason);
    }
    options.onMessage?.(message as Exclude<ServerMessageOf<P>, { type: "event" | "error" }>);
  });

  return {
    socket,
    lastSeq: () => tracker.lastSeq,
    send(message) {
      const schema = clientMessageSchemas[options.party];
      if (schema === null) throw new Error(`${options.party} rooms accept no messages from clients`);
      const checked = schema.safeParse(message);
      if (!checked.success) throw new Error(`invalid ${options.party} message: ${checked.error.message}`);
      socket.send(JSON.stringify(checked.data));
    },
    resyncIdle: () => runner.idle(),
    close: () => socket.close(),
  };
}
