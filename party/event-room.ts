/**
 * What every party shares: signed pushes of committed events (POST only), per-room sequence
 * numbers kept in room storage, the welcome message, per-connection identity and a flood
 * limit on client messages. Each party file extends EventRoom and adds its ephemeral state.
 */
import type * as Party from "partykit/server";
import { identityFromRequest } from "./connect";
import { ConfigError, readPushSecrets } from "./env";
import { errorResponse, jsonResponse } from "./http";
import type { Identity } from "./identity";
import {
  MAX_PUSH_BODY_BYTES,
  parseClientMessage,
  parsePushBody,
  pushRoomMismatch,
  utf8ByteLength,
  type ClientMessageOf,
  type ParsedPushBody,
  type ErrorMessage,
  type Push,
  type PushBatchResult,
  type PushResult,
  type ServerMessageOf,
} from "./messages";
import { verifyPush } from "./push-signature";
import { fullBucket, takeToken, type Bucket, type RateLimitPolicy } from "./rate-limit";
import { parseRoomId, tryParseRoomId, type PartyName, type RoomKeyOf } from "./rooms";
import { decidePush } from "./sequence";

const LAST_SEQ_KEY = "lastSeq";
/** Any client message: bursts of 20, then 4 per second. */
export const CLIENT_FLOOD_POLICY: RateLimitPolicy = { capacity: 20, refillIntervalMs: 250 };

export type ConnectionState = {
  /** Server-assigned; connection.id comes from the client (`_pk`) and is not trusted. */
  key: string;
  identity: Identity | null;
  flood: Bucket;
};

export type RoomConnection = Party.Connection<ConnectionState>;

export abstract class EventRoom<P extends PartyName> implements Party.Server {
  abstract readonly party: P;
  /** Whether applied events go out to the room's connections as `event` messages. */
  protected readonly broadcastsEvents: boolean = true;
  protected lastSeq = 0;
  private roomKey: RoomKeyOf<P> | undefined;

  constructor(readonly room: Party.Room) {}

  /** The parsed room id; the room id was validated by onBeforeConnect / onRequest before use. */
  protected get key(): RoomKeyOf<P> {
    this.roomKey ??= parseRoomId(this.party, this.room.id);
    return this.roomKey;
  }

  async onStart(): Promise<void> {
    this.lastSeq = (await this.room.storage.get<number>(LAST_SEQ_KEY)) ?? 0;
  }

  // -- pushes ----------------------------------------------------------------------------

  async onRequest(req: Party.Request): Promise<Response> {
    if (req.method !== "POST") {
      // Read (and drop) any body first: answering before it is consumed makes the dev
      // runtime reset the connection instead of delivering the 405.
      if (req.body !== null) await req.arrayBuffer();
      return errorResponse(405, "method_not_allowed", `only POST is accepted here, not ${req.method}`, {
        headers: { allow: "POST" },
      });
    }
    let secrets: string[];
    try {
      secrets = readPushSecrets(this.room.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(`[${this.party}] ${error.message}`);
      return errorResponse(500, "misconfigured", error.message);
    }
    const declaredLength = Number(req.headers.get("content-length") ?? "0");
    if (declaredLength > MAX_PUSH_BODY_BYTES) return tooLarge();
    const body = await req.text();
    if (utf8ByteLength(body) > MAX_PUSH_BODY_BYTES) return tooLarge();

    const verification = await verifyPush(secrets, body, req.headers as unknown as Headers);
    if (!verification.ok) return errorResponse(401, verification.reason, verification.message);

    const room = tryParseRoomId(this.party, this.room.id);
    if (!room.ok) return errorResponse(400, "invalid_room", room.message);
    const parsed = parsePushBody(this.party, body);
    if (!parsed.ok) {
      return errorResponse(400, "invalid_push", parsed.error.message, { issues: parsed.error.issues });
    }
    const { kind, room: pushedRoom, items } = parsed.value;
    if (pushedRoom !== this.room.id) {
      return errorResponse(400, "room_mismatch", `push is for room ${pushedRoom}, but was posted to ${this.room.id}`);
    }
    for (const item of items) {
      const mismatch = pushRoomMismatch(this.key, { party: this.party, event: item.event } as Pick<Push, "party" | "event">);
      if (mismatch !== null) return errorResponse(400, "room_mismatch", `seq ${item.seq}: ${mismatch}`);
    }

    // Decide, update and broadcast synchronously so concurrent pushes go out in seq order.
    const results = items.map((item) => {
      const decision = decidePush(this.lastSeq, item.seq);
      if (decision.action === "apply") {
        this.lastSeq = decision.nextLastSeq;
        if (this.broadcastsEvents) {
          this.broadcast({ type: "event", seq: item.seq, eventId: item.eventId, occurredAt: item.occurredAt, event: item.event } as ServerMessageOf<P>);
        }
      }
      return { seq: item.seq, status: decision.status };
    });
    // The party's own fan-out (an availability room's grid diff) goes out before the seq is
    // written: the answer to Convex still waits for both, so nothing is acknowledged unstored.
    const stored = results.some((result) => result.status !== "duplicate") ? this.room.storage.put(LAST_SEQ_KEY, this.lastSeq) : undefined;
    let after: { wantsGrid?: true } | void;
    try {
      after = await this.afterPush(parsed.value);
    } finally {
      await stored;
    }

    if (kind === "batch") {
      const batchResult: PushBatchResult = { results, lastSeq: this.lastSeq, ...(after?.wantsGrid ? { wantsGrid: true as const } : {}) };
      return jsonResponse(200, batchResult);
    }
    const result: PushResult = { ...results[0], lastSeq: this.lastSeq };
    return jsonResponse(200, result);
  }

  // -- connections -----------------------------------------------------------------------

  async onConnect(connection: RoomConnection, ctx: Party.ConnectionContext): Promise<void> {
    const identity = identityFromRequest(ctx.request);
    if (this.party !== "availability" && identity === null) {
      // Only reachable if onBeforeConnect was bypassed; refuse rather than serve private data.
      connection.close(1008, "not authenticated");
      return;
    }
    connection.setState({ key: crypto.randomUUID(), identity, flood: fullBucket(CLIENT_FLOOD_POLICY, Date.now()) });
    this.send(connection, { type: "welcome", room: this.room.id, seq: this.lastSeq, serverTime: Date.now() } as ServerMessageOf<P>);
    this.onJoined(connection, this.stateOf(connection));
  }

  async onMessage(raw: string | ArrayBuffer | ArrayBufferView, sender: RoomConnection): Promise<void> {
    const state = this.stateOf(sender);
    const now = Date.now();
    const flood = takeToken(state.flood, CLIENT_FLOOD_POLICY, now);
    sender.setState({ ...state, flood: flood.bucket });
    if (!flood.allowed) {
      this.sendError(sender, { type: "error", code: "rate_limited", message: "too many messages", retryAfterMs: flood.retryAfterMs });
      return;
    }
    const parsed = parseClientMessage(this.party, raw);
    if (!parsed.ok) {
      this.sendError(sender, parsed.error);
      return;
    }
    this.onClientMessage(parsed.value, sender, this.stateOf(sender), now);
  }

  onClose(connection: RoomConnection): void {
    const state = connection.state;
    if (state) this.onLeft(connection, state);
    // workerd (at this compatibility date) does not answer a client's close frame by itself;
    // without this, clients wait for their close timeout (30 s in `ws`) before "close" fires.
    if (connection.readyState !== WebSocket.CLOSED) connection.close(1000, "closed by client");
  }

  onError(connection: RoomConnection): void {
    this.onClose(connection);
  }

  // -- hooks for parties -----------------------------------------------------------------

  /** After the welcome message: send snapshots of ephemeral state, announce presence. */
  protected onJoined(_connection: RoomConnection, _state: ConnectionState): void {}

  protected onLeft(_connection: RoomConnection, _state: ConnectionState): void {}

  /**
   * After a valid push was applied (also when every event in it was a duplicate); may ask
   * for the whole grid (availability rooms, see `pushBatchResult.wantsGrid`).
   */
  protected async afterPush(_push: ParsedPushBody<P>): Promise<{ wantsGrid?: true } | void> {}

  /** Called with a validated message; parties without client messages never get here. */
  protected onClientMessage(
    _message: ClientMessageOf<P>,
    sender: RoomConnection,
    _state: ConnectionState,
    _now: number,
  ): void {
    this.sendError(sender, { type: "error", code: "unsupported_message", message: `${this.party} rooms accept no messages from clients` });
  }

  // -- helpers ---------------------------------------------------------------------------

  protected stateOf(connection: RoomConnection): ConnectionState {
    const state = connection.state;
    if (!state) throw new Error(`connection ${connection.id} has no state; onConnect did not run`);
    return state as ConnectionState;
  }

  protected send(connection: RoomConnection, message: ServerMessageOf<P>): void {
    connection.send(JSON.stringify(message));
  }

  protected sendError(connection: RoomConnection, error: ErrorMessage): void {
    connection.send(JSON.stringify(error));
  }

  protected broadcast(message: ServerMessageOf<P>, without: string[] = []): void {
    this.room.broadcast(JSON.stringify(message), without);
  }

  protected connections(): RoomConnection[] {
    return [...this.room.getConnections<ConnectionState>()];
  }
}

function tooLarge(): Response {
  return errorResponse(413, "payload_too_large", `push bodies are limited to ${MAX_PUSH_BODY_BYTES} bytes`);
}
