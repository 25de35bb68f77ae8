/**
 * Reactivity: every subscribed query, shared by all connections that ask for the same
 * (path, args, caller), re-run when a commit overlaps what it read, with the changes pushed
 * to each subscriber as one batch per commit batch.
 *
 * Query-set changes and commit processing run one at a time (`exclusive`), so what a
 * connection is sent always moves forward from what it was last sent.
 */
import type { JSONValue } from "convex/values";
import type { Commit, Engine, ReadSet, Timestamp, WriteSet } from "../engine/types.js";
import type { Caller } from "./auth.js";
import type { StateModification } from "./protocol.js";

export interface QueryResult {
  success: boolean;
  value: JSONValue;
  errorMessage: string;
  errorData?: JSONValue;
  logLines: string[];
  /** Compared between runs to skip unchanged results. */
  fingerprint: string;
  /**
   * The result's StateModification as JSON text after `"queryId":<id>`, encoded once per run
   * and shared by every connection subscribed to it.
   */
  encodedTail: string;
}

/** A connection as the hub sees it: where to deliver changed results. */
export interface QuerySubscriber {
  /**
   * Called inside `exclusive`, with this subscriber's changed queries (StateModifications as
   * JSON text, see encodeModification) and the new timestamp.
   */
  deliver(encodedModifications: string[], ts: Timestamp): void;
}

export interface SharedQuery {
  readonly key: string;
  readonly path: string;
  readonly args: JSONValue[];
  readonly caller: Caller;
  result: QueryResult;
  /** null when the engine could not run the query at all: re-run on reload only. */
  readSet: ReadSet | null;
  /** subscriber -> the query ids it knows this query by */
  readonly subscribers: Map<QuerySubscriber, Set<number>>;
}

export interface SubscriptionStats {
  sharedQueries: number;
  reruns: number;
}

export class SubscriptionHub {
  private readonly queries = new Map<string, SharedQuery>();
  private readonly pendingCommits: Commit[] = [];
  private reloadPending = false;
  private processing = false;
  private lock: Promise<void> = Promise.resolve();
  private processedTs: Timestamp;
  private readonly waiters: { ts: Timestamp; resolve: () => void }[] = [];
  private readonly unsubscribeEngine: (() => void)[];
  private closed = false;
  private reruns = 0;

  constructor(private readonly engine: Engine) {
    this.processedTs = engine.latestTs();
    this.unsubscribeEngine = [
      engine.onCommit((commit) => this.enqueueCommit(commit)),
      engine.onReload(() => {
        this.reloadPending = true;
        this.scheduleProcessing();
      }),
    ];
  }

  /** The timestamp up to which every subscription reflects all commits. */
  get currentTs(): Timestamp {
    return this.processedTs;
  }

  stats(): SubscriptionStats {
    return { sharedQueries: this.queries.size, reruns: this.reruns };
  }

  /** Runs `work` with no commit processing or other query-set change in between. */
  exclusive<T>(work: () => Promise<T> | T): Promise<T> {
    const run = this.lock.then(work);
    this.lock = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** Resolves once every commit up to `ts` has been pushed to subscribers. */
  waitProcessed(ts: Timestamp): Promise<void> {
    if (ts <= this.processedTs) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.push({ ts, resolve });
      // A mutation that wrote nothing may report a timestamp no commit will announce.
      this.scheduleProcessing();
    });
  }

  /** Inside `exclusive`: subscribe and return the (possibly shared) query with its result. */
  async subscribe(
    subscriber: QuerySubscriber,
    queryId: number,
    path: string,
    args: JSONValue[],
    caller: Caller,
  ): Promise<SharedQuery> {
    const key = subscriptionKey(path, args, caller);
    let query = this.queries.get(key);
    if (query === undefined) {
      query = { key, path, args, caller, result: EMPTY_RESULT, readSet: null, subscribers: new Map() };
      await this.run(query);
      this.queries.set(key, query);
    }
    let ids = query.subscribers.get(subscriber);
    if (ids === undefined) {
      ids = new Set();
      query.subscribers.set(subscriber, ids);
    }
    ids.add(queryId);
    return query;
  }

  unsubscribe(subscriber: QuerySubscriber, queryId: number, query: SharedQuery): void {
    const ids = query.subscribers.get(subscriber);
    if (ids === undefined) return;
    ids.delete(queryId);
    if (ids.size === 0) query.subscribers.delete(subscriber);
    if (query.subscribers.size === 0) this.queries.delete(query.key);
  }

  close(): void {
    this.closed = true;
    for (const unsubscribe of this.unsubscribeEngine) unsubscribe();
    for (const waiter of this.waiters.splice(0)) waiter.resolve();
  }

  private enqueueCommit(commit: Commit): void {
    if (this.closed) return;
    this.pendingCommits.push(commit);
    this.scheduleProcessing();
  }

  private scheduleProcessing(): void {
    if (this.processing || this.closed) return;
    this.processing = true;
    setImmediate(() => {
      void this.exclusive(() => this.processPending()).finally(() => {
        this.processing = false;
        const idleWaiters = this.waiters.length > 0 && this.pendingCommits.length === 0 && !this.reloadPending;
        if (this.pendingCommits.length > 0 || this.reloadPending) this.scheduleProcessing();
        else if (idleWaiters) this.catchUpIdle();
      });
    });
  }

  /**
   * Nothing is pending but someone waits for a later timestamp: a mutation that wrote nothing
   * reports the latest snapshot it read at. Once the engine's latest timestamp covers it and
   * every commit up to it has been announced and processed, it is reached.
   */
  private catchUpIdle(): void {
    const latest = this.engine.latestTs();
    if (latest > this.processedTs && this.pendingCommits.length === 0) {
      this.processedTs = latest;
      this.releaseWaiters();
    }
  }

  private async processPending(): Promise<void> {
    const commits = this.pendingCommits.splice(0);
    const reload = this.reloadPending;
    this.reloadPending = false;
    if (commits.length === 0 && !reload) return;

    const affected = [...this.queries.values()].filter(
      (query) => reload || (query.readSet !== null && commits.some((commit) => this.overlaps(query.readSet!, commit.writes))),
    );
    const changed = (
      await Promise.all(
        affected.map(async (query) => {
          const before = query.result.fingerprint;
          await this.run(query);
          return query.result.fingerprint === before ? null : query;
        }),
      )
    ).filter((query): query is SharedQuery => query !== null);

    for (const commit of commits) if (commit.ts > this.processedTs) this.processedTs = commit.ts;

    const bySubscriber = new Map<QuerySubscriber, string[]>();
    for (const query of changed) {
      // A query unsubscribed while it re-ran is no longer anyone's.
      if (this.queries.get(query.key) !== query) continue;
      for (const [subscriber, ids] of query.subscribers) {
        let modifications = bySubscriber.get(subscriber);
        if (modifications === undefined) {
          modifications = [];
          bySubscriber.set(subscriber, modifications);
        }
        for (const queryId of ids) modifications.push(encodeModification(queryId, query.result));
      }
    }
    for (const [subscriber, modifications] of bySubscriber) subscriber.deliver(modifications, this.processedTs);
    this.releaseWaiters();
  }

  private releaseWaiters(): void {
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.waiters[i].ts <= this.processedTs) {
        this.waiters[i].resolve();
        this.waiters.splice(i, 1);
      }
    }
  }

  private overlaps(readSet: ReadSet, writes: WriteSet): boolean {
    return this.engine.overlaps(readSet, writes);
  }

  private async run(query: SharedQuery): Promise<void> {
    this.reruns++;
    try {
      const outcome = await this.engine.runQuery(query.path, query.args, {
        identity: query.caller.identity,
        allowInternal: query.caller.admin,
      });
      query.readSet = outcome.readSet;
      query.result = outcome.success
        ? resultOf({ success: true, value: outcome.value ?? null, errorMessage: "", logLines: outcome.logLines })
        : resultOf({
            success: false,
            value: null,
            errorMessage: outcome.errorMessage,
            errorData: outcome.errorData,
            logLines: outcome.logLines,
          });
    } catch (error) {
      query.readSet = null;
      query.result = resultOf({
        success: false,
        value: null,
        errorMessage: `Server error running ${query.path}: ${(error as Error).message}`,
        logLines: [],
      });
    }
  }
}

const EMPTY_RESULT: QueryResult = resultOf({ success: false, value: null, errorMessage: "", logLines: [] });

export function resultOf(result: Omit<QueryResult, "fingerprint" | "encodedTail">): QueryResult {
  const valueJson = JSON.stringify(result.value);
  const errorDataJson = result.errorData === undefined ? undefined : JSON.stringify(result.errorData);
  const fingerprint = `[${result.success},${valueJson},${JSON.stringify(result.errorMessage)},${errorDataJson ?? "null"}]`;
  const logLinesJson = JSON.stringify(result.logLines);
  // The same fields, in the same order, as modificationFor's objects.
  const encodedTail = result.success
    ? `,"value":${valueJson},"logLines":${logLinesJson},"journal":null}`
    : `,"errorMessage":${JSON.stringify(result.errorMessage)},"logLines":${logLinesJson}` +
      `${errorDataJson === undefined ? "" : `,"errorData":${errorDataJson}`},"journal":null}`;
  return { ...result, fingerprint, encodedTail };
}

/** modificationFor(queryId, result) as JSON text, from the result's shared encoding. */
export function encodeModification(queryId: number, result: QueryResult): string {
  return `{"type":"${result.success ? "QueryUpdated" : "QueryFailed"}","queryId":${queryId}${result.encodedTail}`;
}

export function modificationFor(queryId: number, result: QueryResult): StateModification {
  if (result.success) {
    return { type: "QueryUpdated", queryId, value: result.value, logLines: result.logLines, journal: null };
  }
  return {
    type: "QueryFailed",
    queryId,
    errorMessage: result.errorMessage,
    logLines: result.logLines,
    ...(result.errorData !== undefined ? { errorData: result.errorData } : {}),
    journal: null,
  };
}

export function subscriptionKey(path: string, args: JSONValue[], caller: Caller): string {
  const who = caller.identity === null ? "" : stableStringify(caller.identity);
  return JSON.stringify([path, stableStringify(args), who, caller.admin]);
}

/** JSON with object keys sorted, so equal values give equal strings. */
export function stableStringify(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableStringify).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableStringify(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
