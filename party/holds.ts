/**
 * "Someone is checking out this slot" holds on a public availability room. Ephemeral: never
 * stored, never tied to an identity in what is broadcast (only counts per slot), and each
 * hold lapses `ttlMs` after its last ping unless pinged again. Pure: the clock is passed in.
 */
import type { SlotHoldCount } from "./messages";

export type SlotRef = { startsAt: number; resourceId?: string | undefined };
type Hold = { startsAt: number; resourceId: string | null; expiresAt: number };

export type HoldPolicy = { ttlMs: number; maxHoldsPerConnection: number };
export type PingResult = { ok: true; countsChanged: boolean } | { ok: false; message: string };

const HOUR_MS = 3_600_000;
/** Local midnight is at most 14 h before / 12 h after UTC midnight (UTC+14 .. UTC-12). */
const EARLIEST_OFFSET_MS = 14 * HOUR_MS;
const LATEST_OFFSET_MS = 12 * HOUR_MS;
const DAY_MS = 24 * HOUR_MS;

/** Could `startsAt` fall on local date `date` in some IANA time zone? Rejects pings for other days. */
export function isInstantOnLocalDate(date: string, startsAt: number): boolean {
  const utcMidnight = Date.parse(`${date}T00:00:00Z`);
  return startsAt >= utcMidnight - EARLIEST_OFFSET_MS && startsAt < utcMidnight + DAY_MS + LATEST_OFFSET_MS;
}

function slotKey(slot: SlotRef): string {
  return `${slot.startsAt}|${slot.resourceId ?? ""}`;
}

export class HoldBook {
  private readonly byConnection = new Map<string, Map<string, Hold>>();

  constructor(private readonly policy: HoldPolicy) {}

  ping(connectionId: string, slot: SlotRef, now: number): PingResult {
    let holds = this.byConnection.get(connectionId);
    const key = slotKey(slot);
    const existing = holds?.get(key);
    if (existing) {
      existing.expiresAt = now + this.policy.ttlMs;
      return { ok: true, countsChanged: false };
    }
    if (holds && holds.size >= this.policy.maxHoldsPerConnection) {
      return { ok: false, message: `at most ${this.policy.maxHoldsPerConnection} slots may be held at once; release one first` };
    }
    if (!holds) {
      holds = new Map();
      this.byConnection.set(connectionId, holds);
    }
    holds.set(key, { startsAt: slot.startsAt, resourceId: slot.resourceId ?? null, expiresAt: now + this.policy.ttlMs });
    return { ok: true, countsChanged: true };
  }

  /** Returns whether the counts changed (false when the connection held no such slot). */
  release(connectionId: string, slot: SlotRef): boolean {
    const holds = this.byConnection.get(connectionId);
    const removed = holds?.delete(slotKey(slot)) ?? false;
    if (holds && holds.size === 0) this.byConnection.delete(connectionId);
    return removed;
  }

  releaseConnection(connectionId: string): boolean {
    const holds = this.byConnection.get(connectionId);
    this.byConnection.delete(connectionId);
    return (holds?.size ?? 0) > 0;
  }

  /** Drops holds whose time is up; returns whether the counts changed. */
  expire(now: number): boolean {
    let changed = false;
    for (const [connectionId, holds] of this.byConnection) {
      for (const [key, hold] of holds) {
        if (hold.expiresAt <= now) {
          holds.delete(key);
          changed = true;
        }
      }
      if (holds.size === 0) this.byConnection.delete(connectionId);
    }
    return changed;
  }

  nextExpiry(): number | null {
    let next: number | null = null;
    for (const holds of this.byConnection.values()) {
      for (const hold of holds.values()) if (next === null || hold.expiresAt < next) next = hold.expiresAt;
    }
    return next;
  }

  /** Counts per slot, ordered by start then resource; holders are never named. */
  counts(): SlotHoldCount[] {
    const bySlot = new Map<string, SlotHoldCount>();
    for (const holds of this.byConnection.values()) {
      for (const [key, hold] of holds) {
        const entry = bySlot.get(key);
        if (entry) entry.count += 1;
        else bySlot.set(key, { startsAt: hold.startsAt, resourceId: hold.resourceId, count: 1 });
      }
    }
    return [...bySlot.values()].sort(
      (a, b) => a.startsAt - b.startsAt || (a.resourceId ?? "").localeCompare(b.resourceId ?? ""),
    );
  }
}
