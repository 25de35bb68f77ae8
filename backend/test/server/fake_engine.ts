/**
 * A small in-memory Engine for the servers' own tests: a key-value store whose functions are
 * plain TypeScript, with exact read and write sets. It lets protocol tests control timing
 * (e.g. hold a mutation) in ways the real engine should not offer.
 */
import type { JSONValue } from "convex/values";
import type {
  AuthProviderConfig,
  CallOptions,
  CallOutcome,
  Commit,
  Engine,
  MutationOutcome,
  QueryOutcome,
  ReadSet,
  WriteSet,
} from "../../src/engine/types.js";

type Args = Record<string, JSONValue>;
interface Ctx {
  read(key: string): JSONValue;
  write(key: string, value: JSONValue): void;
  identity: CallOptions["identity"];
}
type Handler = (ctx: Ctx, args: Args) => Promise<JSONValue | void> | JSONValue | void;
export interface FakeFunction {
  kind: "query" | "mutation" | "action";
  handler: Handler;
  internal?: boolean;
}

export class FunctionError extends Error {
  constructor(
    message: string,
    readonly data?: JSONValue,
  ) {
    super(message);
  }
}

export class FakeEngine implements Engine {
  readonly data = new Map<string, JSONValue>();
  private ts = 1n;
  private readonly commitListeners = new Set<(commit: Commit) => void>();
  private readonly reloadListeners = new Set<() => void>();
  private readonly idempotent = new Map<string, MutationOutcome>();
  queryRuns = 0;
  mutationRuns = 0;
  providers: AuthProviderConfig[] = [];
  closed = false;

  constructor(readonly functions: Record<string, FakeFunction>) {}

  async runQuery(path: string, args: JSONValue[], options: CallOptions): Promise<QueryOutcome> {
    this.queryRuns++;
    const reads = new Set<string>();
    const outcome = await this.invoke("query", path, args, options, {
      read: (key) => (reads.add(key), this.data.get(key) ?? null),
      write: () => {
        throw new Error("queries cannot write");
      },
      identity: options.identity,
    });
    return { ...outcome, ts: this.ts, readSet: { keys: reads } as unknown as ReadSet };
  }

  async runMutation(path: string, args: JSONValue[], options: CallOptions): Promise<MutationOutcome> {
    if (options.idempotencyKey !== undefined) {
      const previous = this.idempotent.get(options.idempotencyKey);
      if (previous !== undefined) return previous;
    }
    this.mutationRuns++;
    const writes = new Map<string, JSONValue>();
    const outcome = await this.invoke("mutation", path, args, options, {
      read: (key) => (writes.has(key) ? writes.get(key)! : (this.data.get(key) ?? null)),
      write: (key, value) => void writes.set(key, value),
      identity: options.identity,
    });
    let result: MutationOutcome;
    if (outcome.success && writes.size > 0) {
      for (const [key, value] of writes) this.data.set(key, value);
      this.ts += 1n;
      result = { ...outcome, ts: this.ts };
      const commit: Commit = { ts: this.ts, writes: { keys: new Set(writes.keys()) } as unknown as WriteSet };
      for (const listener of this.commitListeners) listener(commit);
    } else {
      result = { ...outcome, ts: this.ts };
    }
    if (options.idempotencyKey !== undefined) this.idempotent.set(options.idempotencyKey, result);
    return result;
  }

  async runAction(path: string, args: JSONValue[], options: CallOptions): Promise<CallOutcome> {
    return this.invoke("action", path, args, options, {
      read: () => {
        throw new Error("actions have no db");
      },
      write: () => {
        throw new Error("actions have no db");
      },
      identity: options.identity,
    });
  }

  async runHttpAction(request: Request): Promise<Response> {
    const body = new Uint8Array(await request.arrayBuffer());
    return new Response(body, { status: 200, headers: { "x-method": request.method, "x-url": request.url } });
  }

  latestTs() {
    return this.ts;
  }

  onCommit(listener: (commit: Commit) => void) {
    this.commitListeners.add(listener);
    return () => void this.commitListeners.delete(listener);
  }

  overlaps(readSet: ReadSet, writes: WriteSet): boolean {
    const read = (readSet as unknown as { keys: Set<string> }).keys;
    for (const key of (writes as unknown as { keys: Set<string> }).keys) if (read.has(key)) return true;
    return false;
  }

  authProviders() {
    return this.providers;
  }

  onReload(listener: () => void) {
    this.reloadListeners.add(listener);
    return () => void this.reloadListeners.delete(listener);
  }

  reload() {
    for (const listener of this.reloadListeners) listener();
  }

  async close() {
    this.closed = true;
  }

  private async invoke(kind: FakeFunction["kind"], path: string, args: JSONValue[], options: CallOptions, ctx: Ctx): Promise<CallOutcome> {
    const fn = this.functions[path];
    if (fn === undefined || fn.kind !== kind || (fn.internal && !options.allowInternal)) {
      return { success: false, errorMessage: `Could not find public function for '${path}'`, logLines: [] };
    }
    try {
      return { success: true, value: (await fn.handler(ctx, (args[0] ?? {}) as Args)) ?? null, logLines: [] };
    } catch (error) {
      if (error instanceof FunctionError) {
        return { success: false, errorMessage: error.message, errorData: error.data, logLines: [] };
      }
      return { success: false, errorMessage: (error as Error).message, logLines: [] };
    }
  }
}
