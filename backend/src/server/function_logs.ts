/**
 * The deployment's recent function executions, as `GET /api/stream_function_logs?cursor=<ms>`
 * serves them to `npx convex logs` and `npx convex dev`: one "Completion" entry per execution
 * (its console lines, error, duration), a long poll that answers as soon as an entry newer
 * than the cursor exists, or empty with the same cursor after a while.
 */
import { randomUUID } from "node:crypto";
import type { FunctionLogEntry } from "../engine/types.js";

const MAX_ENTRIES = 10_000;
/** Convex answers an idle long poll after 60 s. */
export const LONG_POLL_MS = 60_000;

export interface CompletionJson {
  kind: "Completion";
  udfType: "Query" | "Mutation" | "Action" | "HttpAction";
  componentPath: null;
  identifier: string;
  logLines: string[];
  timestamp: number;
  cachedResult: false;
  caller: string;
  parentExecutionId: null;
  executionTime: number;
  userExecutionTime: number;
  success: null;
  error: string | null;
  requestId: string;
  executionId: string;
  usageStats: Record<string, number>;
  returnBytes: null;
  occInfo: null;
  willRetry: false;
  executionTimestamp: number;
  identityType: string;
  environment: "isolate";
}

const UDF_TYPES = { query: "Query", mutation: "Mutation", action: "Action", httpAction: "HttpAction" } as const;

const ZERO_USAGE = {
  databaseReadBytes: 0,
  databaseWriteBytes: 0,
  databaseReadDocuments: 0,
  databaseWriteDocuments: 0,
  storageReadBytes: 0,
  storageWriteBytes: 0,
  vectorIndexReadBytes: 0,
  vectorIndexWriteBytes: 0,
  memoryUsedMb: 0,
};

export function completionJson(entry: FunctionLogEntry, endedAtMs: number): CompletionJson {
  const startedAtSeconds = (endedAtMs - entry.durationMs) / 1000;
  const id = randomUUID();
  return {
    kind: "Completion",
    udfType: UDF_TYPES[entry.udfType],
    componentPath: null,
    identifier: entry.path,
    logLines: entry.logLines,
    timestamp: startedAtSeconds,
    cachedResult: false,
    caller: "Unknown",
    parentExecutionId: null,
    executionTime: entry.durationMs / 1000,
    userExecutionTime: entry.durationMs / 1000,
    success: null,
    error: entry.outcome === "error" ? (entry.error ?? "failed") : null,
    requestId: id,
    executionId: id,
    usageStats: ZERO_USAGE,
    returnBytes: null,
    occInfo: null,
    willRetry: false,
    executionTimestamp: startedAtSeconds,
    identityType: "unknown",
    environment: "isolate",
  };
}

export class FunctionLogStream {
  private readonly entries: { cursor: number; json: CompletionJson }[] = [];
  private lastCursor = 0;
  private waiters = new Set<() => void>();

  constructor(private readonly now: () => number = Date.now) {}

  push(entry: FunctionLogEntry): void {
    const now = this.now();
    // Cursors are milliseconds, strictly increasing so no entry is delivered twice.
    this.lastCursor = Math.max(now, this.lastCursor + 0.001);
    this.entries.push({ cursor: this.lastCursor, json: completionJson(entry, now) });
    if (this.entries.length > MAX_ENTRIES) this.entries.splice(0, this.entries.length - MAX_ENTRIES);
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  private after(cursor: number): { entries: CompletionJson[]; newCursor: number } | null {
    const newer = this.entries.filter((entry) => entry.cursor > cursor);
    if (newer.length === 0) return null;
    return { entries: newer.map((entry) => entry.json), newCursor: newer[newer.length - 1].cursor };
  }

  /** Entries newer than `cursor`, waiting up to `timeoutMs` (or until `signal` aborts) for one. */
  async poll(cursor: number, timeoutMs: number, signal?: AbortSignal): Promise<{ entries: CompletionJson[]; newCursor: number }> {
    const ready = this.after(cursor);
    if (ready !== null) return ready;
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.waiters.delete(done);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      timer.unref?.();
      this.waiters.add(done);
      signal?.addEventListener("abort", done);
    });
    return this.after(cursor) ?? { entries: [], newCursor: cursor };
  }

  /** Wakes every waiting poll (server shutdown). */
  close(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }
}
