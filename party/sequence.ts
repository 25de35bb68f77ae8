/**
 * Per-room ordering of committed events. Convex's outbox numbers each room's events 1, 2, 3, ...
 * and delivers them at least once, so a room sees duplicates, and, when a delivery fails and a
 * later one succeeds, gaps. A room applies anything newer than what it has (the client notices
 * the gap and resyncs from Convex) and ignores anything it has already passed.
 */

export type SequenceDecision =
  | { action: "apply"; status: "applied" | "applied_after_gap"; nextLastSeq: number }
  | { action: "ignore"; status: "duplicate"; nextLastSeq: number };

export function decidePush(lastSeq: number, seq: number): SequenceDecision {
  if (seq <= lastSeq) return { action: "ignore", status: "duplicate", nextLastSeq: lastSeq };
  return { action: "apply", status: seq === lastSeq + 1 ? "applied" : "applied_after_gap", nextLastSeq: seq };
}

/**
 * What a subscriber should do with an incoming event given the last seq it has seen:
 * deliver it, deliver it and resync (something was missed), or drop it (already seen).
 */
export type ReceiveDecision = "deliver" | "deliver_and_resync" | "drop";

export function decideReceive(lastSeenSeq: number | null, seq: number): ReceiveDecision {
  if (lastSeenSeq === null) return "deliver";
  if (seq <= lastSeenSeq) return "drop";
  return seq === lastSeenSeq + 1 ? "deliver" : "deliver_and_resync";
}

/**
 * On (re)connect the room tells the client its last seq. A client that already saw events
 * must resync unless the room is exactly where the client left off.
 */
export function needsResyncOnWelcome(lastSeenSeq: number | null, roomSeq: number): boolean {
  return lastSeenSeq !== null && lastSeenSeq !== roomSeq;
}
