/**
 * The write sets of recent commits, so a read "at timestamp t" can be answered from the latest
 * snapshot when provably nothing it read changed after t.
 */
import type { Engine, ReadSet, Timestamp, WriteSet } from "../engine/types.js";

export type SnapshotVerdict = "unchanged" | "changed" | "too-old";

export class CommitHistory {
  private readonly commits: { ts: Timestamp; writes: WriteSet }[] = [];
  /** Every commit later than this is in `commits`. */
  private coveredAfter: Timestamp;
  private readonly stopListening: () => void;

  constructor(
    private readonly engine: Engine,
    private readonly capacity = 10_000,
  ) {
    this.coveredAfter = engine.latestTs();
    this.stopListening = engine.onCommit((commit) => {
      this.commits.push(commit);
      if (this.commits.length > this.capacity) {
        const evicted = this.commits.shift()!;
        this.coveredAfter = evicted.ts;
      }
    });
  }

  /** Whether a query that read `readSet` at `readTs` saw the same data as it would have at `ts`. */
  unchangedSince(ts: Timestamp, readTs: Timestamp, readSet: ReadSet): SnapshotVerdict {
    if (ts < this.coveredAfter) return "too-old";
    for (const commit of this.commits) {
      if (commit.ts > ts && commit.ts <= readTs && this.engine.overlaps(readSet, commit.writes)) return "changed";
    }
    return "unchanged";
  }

  close(): void {
    this.stopListening();
  }
}
