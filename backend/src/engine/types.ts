/*
 * Changes by the engine: only additions (EngineOptions.now/timers/transactionTimeoutMs/
 * actionTimeoutMs/maxBatchSize/runCrons, StoredFile, optional Engine.getStoredFile/storeFile).
 */
/**
 * The contract between the local backend's engine (store, syscalls, function runner,
 * scheduler, crons) and its servers (sync WebSocket, HTTP API, HTTP actions, auth).
 *
 * Values crossing this boundary are Convex JSON (`convexToJson` encoding), exactly what
 * travels on the wire, so servers never decode or re-encode function arguments.
 */
import type { JSONValue } from "convex/values";

/** What functions see from `ctx.auth.getUserIdentity()`; already verified by the server. */
export interface Identity {
  tokenIdentifier: string;
  subject: string;
  issuer: string;
  [claim: string]: unknown;
}

export type UdfType = "query" | "mutation" | "action";

/** A commit timestamp; strictly increasing across commits, durable across restarts. */
export type Timestamp = bigint;

export interface CallOptions {
  identity: Identity | null;
  /** Internal functions are refused unless the caller is the engine itself (scheduler, crons). */
  allowInternal?: boolean;
  /**
   * Mutations only: a replayed request with the same key returns the first outcome instead of
   * running again (the sync protocol replays unanswered mutations after a reconnect).
   */
  idempotencyKey?: string;
  /** Actions only: run by a running action (`ctx.runAction`), so it takes a worker without waiting. */
  calledByAction?: boolean;
}

export type CallOutcome =
  | { success: true; value: JSONValue; logLines: string[] }
  | {
      success: false;
      errorMessage: string;
      /** Present when the function threw a ConvexError: its `data`, Convex-JSON encoded. */
      errorData?: JSONValue;
      logLines: string[];
    };

/** An opaque description of what a query read (index ranges and documents). */
export interface ReadSet {
  readonly __brand: "ReadSet";
}

/** An opaque description of what a commit wrote (old and new index keys of every document). */
export interface WriteSet {
  readonly __brand: "WriteSet";
}

export type QueryOutcome = CallOutcome & { ts: Timestamp; readSet: ReadSet };
export type MutationOutcome = CallOutcome & { ts: Timestamp };

export interface Commit {
  ts: Timestamp;
  writes: WriteSet;
}

export interface EngineOptions {
  /** Folder of Convex functions (contains schema.ts, http.ts, crons.ts, auth.config.ts, ...). */
  convexDir: string;
  /** Durable data folder (SQLite database, file storage). */
  dataDir: string;
  /**
   * Where function builds are cached by content hash; by default node_modules/.cache of the
   * functions' package (shared with the test harness), see loader.ts `defaultBuildCache`.
   */
  buildCache?: string;
  /** Deployment environment variables that functions see as `process.env`. */
  env: Record<string, string>;
  /** Origin of the HTTP-actions site, e.g. http://127.0.0.1:3211 (for `process.env.CONVEX_SITE_URL`). */
  siteUrl: string;
  /** Origin of the client API, e.g. http://127.0.0.1:3210 (for `process.env.CONVEX_CLOUD_URL`). */
  cloudUrl: string;
  /** Rebuild and reload functions when files in convexDir change. */
  watch?: boolean;
  /** Called once per function execution, for the backend's log. */
  onLog?: (entry: FunctionLogEntry) => void;
  /**
   * The clock (ms since epoch) for scheduling, crons, `_creationTime` and the frozen
   * `Date.now()` of queries and mutations. Defaults to `Date.now`. Tests inject one to move
   * time without waiting.
   */
  now?: () => number;
  /** Timer functions for the scheduler and crons (defaults: the global ones at open time). */
  timers?: {
    setTimeout: (callback: () => void, ms: number) => unknown;
    clearTimeout: (handle: unknown) => void;
  };
  /** CPU time limit of one query or mutation, in ms (default 1000, as Convex). */
  transactionTimeoutMs?: number;
  /** Time limit of one action, in ms (default 600000, as Convex). */
  actionTimeoutMs?: number;
  /**
   * Run function code on worker threads (default true), where a function is stopped at its
   * time limit; false runs it on the engine's own thread (benchmarks compare the two).
   */
  functionThreads?: boolean;
  /**
   * Run queries beside the writer, each on its own read connection at the last commit
   * (default true); false queues them with the writes (benchmarks compare the two).
   */
  concurrentQueries?: boolean;
  /**
   * Lower per-transaction budgets than Convex's (documents/bytes read and written, index
   * ranges, scheduled functions); tests use it as convex-test's `transactionLimits`.
   */
  transactionLimits?: Partial<Record<"bytesRead" | "bytesWritten" | "databaseQueries" | "documentsRead" | "documentsWritten" | "functionsScheduled" | "scheduledFunctionArgsBytes", number>>;
  /** Most mutations committed together in one SQLite transaction (default 256). */
  maxBatchSize?: number;
  /** Run convex/crons.ts (default true; the test harness turns it off, as convex-test does). */
  runCrons?: boolean;
}

/** A stored file, for the server's /api/storage routes. */
export interface StoredFile {
  storageId: string;
  /** Absolute path of the blob on disk. */
  path: string;
  contentType: string | null;
  size: number;
  sha256: string;
}

export interface FunctionLogEntry {
  udfType: UdfType | "httpAction";
  path: string;
  durationMs: number;
  outcome: "success" | "error";
  error?: string;
  logLines: string[];
}

export interface AuthProviderConfig {
  /** OIDC: issuer URL; customJwt: `issuer`. */
  issuer: string;
  applicationID?: string;
  type: "oidc" | "customJwt";
  /** customJwt only: a URL or a `data:` URI holding a JWKS. */
  jwks?: string;
  algorithm?: "RS256" | "ES256";
}

export interface Engine {
  runQuery(path: string, args: JSONValue[], options: CallOptions): Promise<QueryOutcome>;
  runMutation(path: string, args: JSONValue[], options: CallOptions): Promise<MutationOutcome>;
  runAction(path: string, args: JSONValue[], options: CallOptions): Promise<CallOutcome>;
  /**
   * Runs the matching route of convex/http.ts; 404 when none matches. `identity`: the caller
   * a verified `Authorization: Bearer <JWT>` names (`ctx.auth.getUserIdentity()`).
   */
  runHttpAction(request: Request, identity?: Identity | null): Promise<Response>;
  /** Latest committed timestamp. */
  latestTs(): Timestamp;
  /** Called after each durable commit, in commit order. Returns an unsubscribe function. */
  onCommit(listener: (commit: Commit) => void): () => void;
  /** True when a commit may change the result of a query that read `readSet`. */
  overlaps(readSet: ReadSet, writes: WriteSet): boolean;
  /** Providers from convex/auth.config.ts (evaluated with the deployment env). */
  authProviders(): AuthProviderConfig[];
  /** Called after functions were rebuilt (watch mode); servers re-run every subscription. */
  onReload(listener: () => void): () => void;
  /**
   * Looks up a stored file (`_storage` document and blob), or null. Serves
   * `GET <cloudUrl>/api/storage/<storageId>` (the URLs `ctx.storage.getUrl` returns).
   */
  getStoredFile?(storageId: string): Promise<StoredFile | null>;
  /**
   * Stores an uploaded blob; returns its storage id. Serves the POST to the URL
   * `ctx.storage.generateUploadUrl()` returns (`<cloudUrl>/api/storage/upload?token=...`),
   * answered with `{"storageId": ...}`; `token` (the URL's) says which component's storage.
   */
  storeFile?(bytes: Uint8Array, contentType: string | null, token?: string | null): Promise<string>;
  close(): Promise<void>;
}


/** `backend/src/engine/index.ts` exports `openEngine(options: EngineOptions): Promise<Engine>`. */
