/**
 * What a query read and what a commit wrote, in index-key terms, so servers re-run a
 * subscription only when a commit wrote a key inside a range the query actually read.
 */
import type { ReadSet, WriteSet } from "./types.js";

export interface KeyRange {
  /** "table.index" */
  index: string;
  /** Inclusive lower bound. */
  lower: Buffer;
  /** Exclusive upper bound. */
  upper: Buffer;
}

export class ReadSetBuilder {
  readonly ranges: KeyRange[] = [];

  add(index: string, lower: Buffer, upper: Buffer): void {
    if (Buffer.compare(lower, upper) >= 0) return;
    this.ranges.push({ index, lower, upper });
  }

  merge(other: ReadSetBuilder): void {
    this.ranges.push(...other.ranges);
  }

  build(): ReadSet {
    const byIndex = new Map<string, KeyRange[]>();
    for (const range of this.ranges) {
      const list = byIndex.get(range.index) ?? [];
      list.push(range);
      byIndex.set(range.index, list);
    }
    return new LocalReadSet(byIndex) as unknown as ReadSet;
  }
}

export class LocalReadSet {
  readonly __brand = "ReadSet" as const;
  constructor(readonly ranges: Map<string, KeyRange[]>) {}
}

export class WriteSetBuilder {
  readonly keys = new Map<string, Buffer[]>();

  add(index: string, key: Buffer): void {
    const list = this.keys.get(index);
    if (list) list.push(key);
    else this.keys.set(index, [key]);
  }

  isEmpty(): boolean {
    return this.keys.size === 0;
  }

  build(): WriteSet {
    return new LocalWriteSet(this.keys) as unknown as WriteSet;
  }
}

export class LocalWriteSet {
  readonly __brand = "WriteSet" as const;
  constructor(readonly keys: Map<string, Buffer[]>) {}
}

export function emptyReadSet(): ReadSet {
  return new ReadSetBuilder().build();
}

export function overlaps(readSet: ReadSet, writes: WriteSet): boolean {
  const reads = readSet as unknown as LocalReadSet;
  const written = writes as unknown as LocalWriteSet;
  if (!(reads instanceof LocalReadSet) || !(written instanceof LocalWriteSet)) {
    throw new Error("overlaps() needs a ReadSet and a WriteSet produced by this engine");
  }
  for (const [index, keys] of written.keys) {
    const ranges = reads.ranges.get(index);
    if (!ranges) continue;
    for (const key of keys) {
      for (const range of ranges) {
        if (Buffer.compare(range.lower, key) <= 0 && Buffer.compare(key, range.upper) < 0) return true;
      }
    }
  }
  return false;
}

/** Index names a read set touches (for diagnostics and tests). */
export function readRanges(readSet: ReadSet): KeyRange[] {
  return [...(readSet as unknown as LocalReadSet).ranges.values()].flat();
}
