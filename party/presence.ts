/**
 * Who is watching a dispatch board. One entry per user however many tabs they have open:
 * `joined` is reported for a user's first present connection, `left` when their last one
 * leaves or goes quiet. A connection that stops heartbeating is swept out of presence (not
 * disconnected); its next heartbeat brings it back. Pure: the clock is passed in.
 */
import type { Viewer } from "./messages";

export type ViewerProfile = Omit<Viewer, "since">;
type Entry = { profile: ViewerProfile; since: number; lastSeen: number; present: boolean };

export type PresenceChange = { joined?: Viewer; left?: string };

export class PresenceBook {
  private readonly connections = new Map<string, Entry>();

  join(connectionId: string, profile: ViewerProfile, now: number): PresenceChange {
    const wasPresent = this.isUserPresent(profile.userId);
    this.connections.set(connectionId, { profile, since: now, lastSeen: now, present: true });
    return wasPresent ? {} : { joined: this.viewerOf(profile.userId)! };
  }

  /** Refreshes a connection; a swept connection comes back. Unknown connections change nothing. */
  heartbeat(connectionId: string, now: number): PresenceChange {
    const entry = this.connections.get(connectionId);
    if (!entry) return {};
    entry.lastSeen = now;
    if (entry.present) return {};
    const wasPresent = this.isUserPresent(entry.profile.userId);
    entry.present = true;
    entry.since = now;
    return wasPresent ? {} : { joined: this.viewerOf(entry.profile.userId)! };
  }

  leave(connectionId: string): PresenceChange {
    const entry = this.connections.get(connectionId);
    if (!entry) return {};
    this.connections.delete(connectionId);
    return entry.present && !this.isUserPresent(entry.profile.userId) ? { left: entry.profile.userId } : {};
  }

  /** Marks connections quiet for longer than timeoutMs as absent; returns users who left. */
  sweep(now: number, timeoutMs: number): string[] {
    const candidates = new Set<string>();
    for (const entry of this.connections.values()) {
      if (entry.present && now - entry.lastSeen > timeoutMs) {
        entry.present = false;
        candidates.add(entry.profile.userId);
      }
    }
    return [...candidates].filter((userId) => !this.isUserPresent(userId));
  }

  snapshot(): Viewer[] {
    const userIds = new Set([...this.connections.values()].filter((e) => e.present).map((e) => e.profile.userId));
    return [...userIds].map((userId) => this.viewerOf(userId)!).sort((a, b) => a.since - b.since || a.userId.localeCompare(b.userId));
  }

  private isUserPresent(userId: string): boolean {
    for (const entry of this.connections.values()) if (entry.present && entry.profile.userId === userId) return true;
    return false;
  }

  private viewerOf(userId: string): Viewer | undefined {
    let viewer: Viewer | undefined;
    for (const entry of this.connections.values()) {
      if (!entry.present || entry.profile.userId !== userId) continue;
      if (!viewer || entry.since < viewer.since) viewer = { ...entry.profile, since: entry.since };
    }
    return viewer;
  }
}
