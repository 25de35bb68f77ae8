/**
 * Public availability: room per business + zone + local date. Carries "slots changed" notices
 * and how many people are checking out each slot right now. No token, no identity, nothing
 * personal: the only client messages are anonymous hold pings, which are validated,
 * rate-limited and expire.
 */
import type * as Party from "partykit/server";
import { connectionGuard } from "./connect";
import { readHoldConfig } from "./env";
import { EventRoom, type ConnectionState, type RoomConnection } from "./event-room";
import { HoldBook, isInstantOnLocalDate } from "./holds";
import type { AvailabilityClientMessage } from "./messages";
import { fullBucket, takeToken, type Bucket, type RateLimitPolicy } from "./rate-limit";

/** Hold pings per connection: bursts of 5, then one every 2 s. */
export const HOLD_PING_POLICY: RateLimitPolicy = { capacity: 5, refillIntervalMs: 2_000 };
export const MAX_HOLDS_PER_CONNECTION = 3;

export default class AvailabilityParty extends EventRoom<"availability"> {
  static onBeforeConnect = connectionGuard("availability");

  readonly party = "availability";
  private readonly holds: HoldBook;
  private readonly pingBuckets = new Map<string, Bucket>();
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(room: Party.Room) {
    super(room);
    this.holds = new HoldBook({ ttlMs: readHoldConfig(room.env).ttlMs, maxHoldsPerConnection: MAX_HOLDS_PER_CONNECTION });
  }

  protected override onJoined(connection: RoomConnection): void {
    this.send(connection, { type: "holds", holds: this.holds.counts() });
  }

  protected override onLeft(_connection: RoomConnection, state: ConnectionState): void {
    this.pingBuckets.delete(state.key);
    if (this.holds.releaseConnection(state.key)) this.holdsChanged();
  }

  protected override onClientMessage(
    message: AvailabilityClientMessage,
    sender: RoomConnection,
    state: ConnectionState,
    now: number,
  ): void {
    if (!isInstantOnLocalDate(this.key.date, message.startsAt)) {
      this.sendError(sender, {
        type: "error",
        code: "invalid_message",
        message: `startsAt ${new Date(message.startsAt).toISOString()} is not on ${this.key.date}, this room's date`,
      });
      return;
    }
    const slot = { startsAt: message.startsAt, resourceId: message.resourceId };
    if (message.type === "hold.release") {
      if (this.holds.release(state.key, slot)) this.holdsChanged();
      return;
    }
    const limit = takeToken(this.pingBuckets.get(state.key) ?? fullBucket(HOLD_PING_POLICY, now), HOLD_PING_POLICY, now);
    this.pingBuckets.set(state.key, limit.bucket);
    if (!limit.allowed) {
      this.sendError(sender, {
        type: "error",
        code: "rate_limited",
        message: "hold pings are limited to one every 2 s",
        retryAfterMs: limit.retryAfterMs,
      });
      return;
    }
    const result = this.holds.ping(state.key, slot, now);
    if (!result.ok) {
      this.sendError(sender, { type: "error", code: "limit_exceeded", message: result.message });
      return;
    }
    if (result.countsChanged) this.holdsChanged();
    else this.scheduleExpiry();
  }

  private holdsChanged(): void {
    this.broadcast({ type: "holds", holds: this.holds.counts() });
    this.scheduleExpiry();
  }

  private scheduleExpiry(): void {
    if (this.expiryTimer !== undefined) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const next = this.holds.nextExpiry();
    if (next === null) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      if (this.holds.expire(Date.now())) this.holdsChanged();
      else this.scheduleExpiry();
    }, Math.max(0, next - Date.now()));
  }
}

AvailabilityParty satisfies Party.Worker;
