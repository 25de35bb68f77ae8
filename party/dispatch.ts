/**
 * Private dispatch board: room per business + local date. Committed booking / assignment /
 * status events, who is watching the board, and live provider positions and statuses
 * (rate-limited, only for the provider's own resource).
 */
import type * as Party from "partykit/server";
import { connectionGuard } from "./connect";
import { EventRoom, type ConnectionState, type RoomConnection } from "./event-room";
import type { Identity } from "./identity";
import type { DispatchClientMessage, ProviderPosition } from "./messages";
import { PresenceBook, type ViewerProfile } from "./presence";
import { fullBucket, takeToken, type Bucket, type RateLimitPolicy } from "./rate-limit";

/** Provider pings per connection: one every 2 s, no burst. */
export const PROVIDER_PING_POLICY: RateLimitPolicy = { capacity: 1, refillIntervalMs: 2_000 };
/** Viewers that have not sent a heartbeat for this long leave the presence list. */
export const PRESENCE_TIMEOUT_MS = 60_000;
const PRESENCE_SWEEP_INTERVAL_MS = 10_000;
/** Positions older than this are left out of the snapshot sent to new viewers. */
export const PROVIDER_POSITION_MAX_AGE_MS = 15 * 60_000;

function viewerProfile(identity: Identity): ViewerProfile {
  return identity.name === undefined
    ? { userId: identity.userId, role: identity.role }
    : { userId: identity.userId, role: identity.role, name: identity.name };
}

export default class DispatchParty extends EventRoom<"dispatch"> {
  static onBeforeConnect = connectionGuard("dispatch");

  readonly party = "dispatch";
  private readonly presence = new PresenceBook();
  private readonly providers = new Map<string, ProviderPosition>();
  private readonly pingBuckets = new Map<string, Bucket>();
  private sweepTimer: ReturnType<typeof setInterval> | undefined;

  protected override onJoined(connection: RoomConnection, state: ConnectionState): void {
    const change = this.presence.join(state.key, viewerProfile(state.identity!), Date.now());
    this.send(connection, { type: "presence.snapshot", viewers: this.presence.snapshot() });
    this.send(connection, { type: "providers.snapshot", providers: this.freshProviders(Date.now()) });
    if (change.joined) this.broadcast({ type: "presence.joined", viewer: change.joined }, [connection.id]);
    this.sweepTimer ??= setInterval(() => this.sweepPresence(), PRESENCE_SWEEP_INTERVAL_MS);
  }

  protected override onLeft(_connection: RoomConnection, state: ConnectionState): void {
    this.pingBuckets.delete(state.key);
    const change = this.presence.leave(state.key);
    if (change.left !== undefined) this.broadcast({ type: "presence.left", userId: change.left });
    if (this.presence.snapshot().length === 0 && this.connections().length === 0) this.stopSweeping();
  }

  protected override onClientMessage(
    message: DispatchClientMessage,
    sender: RoomConnection,
    state: ConnectionState,
    now: number,
  ): void {
    if (message.type === "presence.heartbeat") {
      const change = this.presence.heartbeat(state.key, now);
      if (change.joined) this.broadcast({ type: "presence.joined", viewer: change.joined });
      return;
    }
    const identity = state.identity!;
    if (identity.resourceId !== message.resourceId) {
      this.sendError(sender, {
        type: "error",
        code: "forbidden",
        message: `provider pings may only be sent for your own resource (${identity.resourceId ?? "none in your token"})`,
      });
      return;
    }
    const limit = takeToken(this.pingBuckets.get(state.key) ?? fullBucket(PROVIDER_PING_POLICY, now), PROVIDER_PING_POLICY, now);
    this.pingBuckets.set(state.key, limit.bucket);
    if (!limit.allowed) {
      this.sendError(sender, {
        type: "error",
        code: "rate_limited",
        message: "provider pings are limited to one every 2 s",
        retryAfterMs: limit.retryAfterMs,
      });
      return;
    }
    const { type: _type, ...position } = message;
    const provider: ProviderPosition = { ...position, at: now };
    this.providers.set(provider.resourceId, provider);
    this.broadcast({ type: "provider.position", provider });
  }

  private freshProviders(now: number): ProviderPosition[] {
    return [...this.providers.values()].filter((p) => now - p.at <= PROVIDER_POSITION_MAX_AGE_MS);
  }

  private sweepPresence(): void {
    for (const userId of this.presence.sweep(Date.now(), PRESENCE_TIMEOUT_MS)) {
      this.broadcast({ type: "presence.left", userId });
    }
    if (this.connections().length === 0) this.stopSweeping();
  }

  private stopSweeping(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }
}

DispatchParty satisfies Party.Worker;
