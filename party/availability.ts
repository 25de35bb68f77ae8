/**
 * Public availability: room per business + zone + local date. Keeps the day's slot grid
 * (domain/slotGrid.ts) and serves it to anonymous visitors (the booking widget): the whole grid
 * on connect, the changed cells (`grid.diff`, numbered) after each push from Convex, the whole
 * grid again on `grid.resync`. Convex attaches the grid to every push it sends here (for a
 * booking's change, only the rows of the resources it changed: `gridPatch`); a room
 * without a grid (or with one older than GRID_MAX_AGE_MS) reads it once from Convex's public
 * `availabilityGrid:day` query, whatever the number of visitors. Also how many people are
 * checking out each slot right now. No token, no identity, nothing personal: the client
 * messages are anonymous hold pings and resync requests, validated and rate-limited.
 */
import type * as Party from "partykit/server";
import { connectionGuard } from "./connect";
import { readHoldConfig } from "./env";
import { EventRoom, type ConnectionState, type RoomConnection } from "./event-room";
import { GridBook, type GridOffer } from "./grid-state";
import { HoldBook, isInstantOnLocalDate } from "./holds";
import { slotGridSchema, type AvailabilityClientMessage, type ParsedPushBody, type SlotGridMessage } from "./messages";
import { fullBucket, takeToken, type Bucket, type RateLimitPolicy } from "./rate-limit";

/** Hold pings per connection: bursts of 5, then one every 2 s. */
export const HOLD_PING_POLICY: RateLimitPolicy = { capacity: 5, refillIntervalMs: 2_000 };
export const MAX_HOLDS_PER_CONNECTION = 3;
/** A grid no push refreshed for this long is read again when a visitor connects. */
export const GRID_MAX_AGE_MS = 5 * 60_000;
const PULL_TIMEOUT_MS = 10_000;
/** After a read that brought no grid, visitors connecting meanwhile do not ask Convex again. */
export const PULL_RETRY_MS = 30_000;

export default class AvailabilityParty extends EventRoom<"availability"> {
  static onBeforeConnect = connectionGuard("availability");

  readonly party = "availability";
  protected override readonly broadcastsEvents = false;
  private readonly holds: HoldBook;
  private readonly grids = new GridBook();
  private pulling: Promise<void> | null = null;
  private lastFailedPullAt = Number.NEGATIVE_INFINITY;
  private readonly pingBuckets = new Map<string, Bucket>();
  private expiryTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(room: Party.Room) {
    super(room);
    this.holds = new HoldBook({ ttlMs: readHoldConfig(room.env).ttlMs, maxHoldsPerConnection: MAX_HOLDS_PER_CONNECTION });
  }

  protected override onJoined(connection: RoomConnection): void {
    this.send(connection, { type: "holds", holds: this.holds.counts() });
    const snapshot = this.grids.snapshot();
    if (snapshot !== null) this.send(connection, snapshot);
    if (this.grids.isStale(Date.now(), GRID_MAX_AGE_MS)) void this.pullGrid();
  }

  protected override async afterPush(push: ParsedPushBody<"availability">): Promise<{ wantsGrid?: true } | void> {
    if (push.grid !== undefined) this.publish(this.grids.offer(push.grid, Date.now()));
    if (push.gridPatch !== undefined) {
      const offer = this.grids.offerPatch(push.gridPatch);
      // No grid to patch, or rows that do not fit it: Convex sends the whole grid next
      // (the same batch again), unless nobody is here (the next visitor's join reads it).
      if (offer.kind !== "unusable") this.publish(offer);
      else if (this.grids.current !== null || this.hasConnections()) return { wantsGrid: true };
    }
  }

  private hasConnections(): boolean {
    for (const _ of this.room.getConnections()) return true;
    return false;
  }

  /** Sends what a newer grid changed to every visitor. */
  private publish(offer: GridOffer): void {
    if (offer.kind === "full" || offer.kind === "diff") this.broadcast(offer.message);
  }

  /** Reads the grid from Convex (one request at a time per room). */
  private pullGrid(): Promise<void> {
    if (this.pulling === null && Date.now() - this.lastFailedPullAt < PULL_RETRY_MS) return Promise.resolve();
    this.pulling ??= this.readGrid()
      .then((grid) => {
        if (grid !== null) this.publish(this.grids.offer(grid, Date.now()));
        else this.lastFailedPullAt = Date.now();
      })
      .catch((error: unknown) => {
        this.lastFailedPullAt = Date.now();
        console.error(`[availability] ${this.room.id}: ${error instanceof Error ? error.message : String(error)}`);
      })
      .finally(() => {
        this.pulling = null;
      });
    return this.pulling;
  }

  private async readGrid(): Promise<SlotGridMessage | null> {
    const convexUrl = this.room.env.CONVEX_URL;
    if (typeof convexUrl !== "string" || convexUrl === "") throw new Error("CONVEX_URL is not set: the room cannot read its slot grid");
    const { businessId, zoneId, date } = this.key;
    const response = await fetch(`${convexUrl.replace(/\/+$/, "")}/api/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ path: "availabilityGrid:day", args: { businessId, zoneId, date }, format: "json" }),
      signal: AbortSignal.timeout(PULL_TIMEOUT_MS),
    });
    const body = (await response.json()) as { status?: string; value?: unknown; errorMessage?: string };
    if (body.status !== "success") {
      // A business or zone that takes no bookings has no grid: visitors get none.
      console.warn(`[availability] ${this.room.id}: no grid (${body.errorMessage ?? `HTTP ${response.status}`})`);
      return null;
    }
    const parsed = slotGridSchema.safeParse(body.value);
    if (!parsed.success) throw new Error(`the grid Convex answered does not validate: ${parsed.error.message.slice(0, 300)}`);
    return parsed.data;
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
    if (message.type === "grid.resync") {
      const snapshot = this.grids.snapshot();
      if (snapshot !== null) this.send(sender, snapshot);
      else void this.pullGrid();
      return;
    }
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
