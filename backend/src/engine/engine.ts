/**
 * The local backend's engine: runs the functions of a convex/ folder over the SQLite store.
 *
 * Function code runs on worker threads (worker_pool.ts), its syscalls answered here; the
 * transaction (read set, writes, limits) stays on this thread. Mutations run one at a time on
 * a single executor and are group-committed: each runs inside its own SAVEPOINT of one SQLite
 * transaction, the batch COMMITs once, and only then are results released and commits
 * announced. Queries run beside the writer, each in a read transaction of its own SQLite
 * connection (WAL), at the last commit. Actions run concurrently and reach the database
 * through the executor.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync, existsSync, watch as watchFs, type FSWatcher } from "node:fs";
import path from "node:path";
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import type {
  AuthProviderConfig,
  CallOptions,
  CallOutcome,
  Commit,
  Engine,
  EngineOptions,
  FunctionLogEntry,
  Identity,
  MutationOutcome,
  QueryOutcome,
  ReadSet,
  StoredFile,
  Timestamp,
  UdfType,
  WriteSet,
} from "./types.js";
import { BY_CREATION_TIME, BY_ID, Store, type IndexDefinition, type TableInfo } from "./store.js";
import { encodeValue, justAfter } from "./keys.js";
import { ReadSetBuilder, WriteSetBuilder, overlaps as overlapsImpl, emptyReadSet } from "./reactivity.js";
import { QueryStream, indexLookupFor, paginate, planQuery, type IndexLookup, type QueryJson } from "./query.js";
import { SearchIndexes, searchIndexesOfSchema, type SearchIndexDefinition } from "./search.js";
import { SearchQueryStream, isSearchQuery, paginateSearch } from "./search_query.js";
import { vectorIndexesOfSchema, vectorSearch, type VectorIndexDefinition, type VectorQuery } from "./vector.js";
import { assertSchemaIdentifiers, checkValue, type ValidatorJson } from "./validate.js";
import { defaultBuildCache, type LoadedApp } from "./loader.js";
import { runInExecution, runOutsideExecution, runtime, seededRandom, type Execution } from "./runtime.js";
import { Scheduler, SCHEDULED_FUNCTIONS, scheduledFunctionsIndexes } from "./scheduler.js";
import { Crons } from "./crons.js";
import { EngineError, displayValue } from "./errors.js";
import { workerPool, type FunctionWorker, type WorkerHost } from "./worker_pool.js";
import { convexJsonFromResponse, requestFromConvexJson, type HttpRequestJson, type HttpResponseJson } from "./worker_protocol.js";
import { monotonicNow } from "./clock.js";
import { failureFrom, nestedFailure, timedOutMessage } from "./failures.js";
import * as limits from "./limits.js";
import {
  Namespace, ROOT, baseTableName, componentOfTable as componentOfTableName, componentsOf, isScheduledFunctionsTable, loadAppWithComponents, parseTarget, scheduledFunctionsTable,
  targetFromReference, targetString, type ComponentBuild,
} from "./components.js";

// Captured at import, before any test installs fake timers: time limits need real timers.
const realSetTimeout = globalThis.setTimeout.bind(globalThis);
const realClearTimeout = globalThis.clearTimeout.bind(globalThis);

const STORAGE_TABLE = "_storage";
/** How long a worker may take to import a function's module before the call fails. */
const MODULE_LOAD_LIMIT_MS = 60_000;

export { EngineError };
export { failureFrom, isConvexErrorLike } from "./failures.js";


/** A registered Convex function object (what `query(...)`, `mutation(...)` etc. return). */
export interface ConvexFunction {
  isQuery?: boolean;
  isMutation?: boolean;
  isAction?: boolean;
  isInternal?: boolean;
  invokeQuery?: (args: string) => Promise<string>;
  invokeMutation?: (args: string) => Promise<string>;
  invokeAction?: (requestId: string, args: string) => Promise<string>;
  exportArgs?: () => string;
  exportReturns?: () => string;
}

interface ResolvedFunction {
  path: string;
  /** The component the function belongs to ("" for the app). */
  componentPath: string;
  udfType: UdfType;
  fn: ConvexFunction;
  args: ValidatorJson;
  returns: ValidatorJson | null;
  /** Where a worker thread finds the function: its module's bundle and export (null: run in-process). */
  location: { url: string; exportName: string } | null;
}

interface SchemaInfo {
  validation: boolean;
  tables: Map<string, { documentType: ValidatorJson; indexes: IndexDefinition[] }>;
  searchIndexes: SearchIndexDefinition[];
  vectorIndexes: VectorIndexDefinition[];
}

/** An idle read connection, with the search indexes read through it. */
interface Reader {
  store: Store;
  search: SearchIndexes;
  /** Readers of an older generation (before a reload) are closed, not reused. */
  generation: number;
}

/** A reader in a read transaction: it shows the state of commit `ts`. */
interface ReadSnapshot extends Reader {
  ts: Timestamp;
}

/** Read connections kept open for queries beside the writer. */
const IDLE_READERS = 4;

interface ReadTask {
  kind: "read";
  run(): Promise<void>;
}

interface WriteResult {
  /** Keep the task's writes (release its savepoint) or roll them back. */
  keep: boolean;
  /** Called after the batch committed (ts set when it wrote) or failed to commit. */
  settle(ts: Timestamp | null, commitError: unknown): void;
}

interface WriteTask {
  kind: "write";
  execute(batch: BatchScope): Promise<WriteResult>;
}

interface BatchScope {
  /** The commit timestamp of the running task (allocated on first call). */
  ts(): Timestamp;
}

type Task = ReadTask | WriteTask;

function parseFunctionPath(udfPath: string): { module: string; name: string } {
  const [modulePart, name] = udfPath.includes(":") ? udfPath.split(":", 2) : [udfPath, "default"];
  return { module: modulePart.replace(/\.(js|ts|mjs|jsx|tsx)$/, ""), name: name || "default" };
}

/** `module:fn` (app) or `function://<component>;module:fn`, normalized. */
/** Convex's text for an explicit table name that is not the id's (isolate helpers check_table_name). */
function wrongTableMessage(method: string, expected: string, actual: string): string {
  return `Invalid argument \`id\` for \`${method}\`: expected to be an Id<"${expected}">, got Id<"${actual}"> instead.`;
}

/** Convex's text for a patch or replace whose `_id`/`_creationTime` is not the document's (common document.rs). */
function systemFieldMismatch(key: "_id" | "_creationTime", old: Record<string, Value>, value: Value): string {
  if (key === "_id") return `Provided document ID ${displayValue(old._id)} doesn't match '_id' field ${displayValue(value)}`;
  return `Provided creation time ${displayValue(old._creationTime)} doesn't match '_creationTime' field ${displayValue(value)}`;
}

export function canonicalPath(udfPath: string): string {
  const target = parseTarget(udfPath);
  const { module, name } = parseFunctionPath(target.udfPath);
  return targetString({ componentPath: target.componentPath, udfPath: `${module}:${name}` });
}

interface FunctionAddress {
  name?: string;
  reference?: string;
  functionHandle?: string;
}

/** The target of a syscall's function address, seen from the calling component. */
function pathFromAddress(address: FunctionAddress, current: string = ROOT): string {
  if (address.functionHandle !== undefined) {
    if (!/^function:\/\/[^;]*;.+$/.test(address.functionHandle)) {
      throw new EngineError(`Invalid function handle ${JSON.stringify(address.functionHandle)}`);
    }
    return address.functionHandle;
  }
  if (address.name !== undefined) return targetString({ componentPath: current, udfPath: address.name });
  if (address.reference !== undefined) {
    try {
      return targetString(targetFromReference(address.reference, current));
    } catch (error) {
      throw new EngineError((error as Error).message);
    }
  }
  throw new EngineError("A function reference needs a name, reference or function handle");
}

/** What `ctx.meta.getFunctionMetadata()` returns ("module" alone for a default export). */
function functionMetadata(path: string, udfType: UdfType | "httpAction", visibility: "public" | "internal") {
  const name = udfType === "httpAction" ? "http" : path.endsWith(":default") ? path.slice(0, -":default".length) : path;
  return { name, componentPath: "", type: udfType === "httpAction" ? "action" : udfType, visibility };
}

/** A second connection to the database: it sees the last committed state only. */
function openSnapshotStore(store: Store): Store {
  return new Store(store.db.name);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof ArrayBuffer);
}

/** State shared by a top-level query/mutation and the nested calls it makes. */
interface TransactionState {
  kind: "query" | "mutation";
  readSet: ReadSetBuilder | null;
  paginated: boolean;
  deadline: number;
  dead: boolean;
  startedAt: number;
  /**
   * Time spent inside the engine's own syscalls (storage, index maintenance). Like Convex's
   * limit, the 1 s budget counts the function's own execution, not the database's work, so
   * the deadline moves out by this much.
   */
  engineMs: number;
  /** Documents and bytes read and written against Convex's limits (shared by nested calls). */
  metrics: limits.TransactionMetrics;
  /** A `useStaleSnapshot` query reads the last committed state, not the mutation's writes. */
  snapshot: Store | null;
  /** The search indexes read through `snapshot`'s connection (a query beside the writer). */
  snapshotSearch: SearchIndexes | null;
  /** The commit timestamp `snapshot` shows (a query beside the writer). */
  snapshotTs: Timestamp | null;
}

class FunctionExecution implements Execution, WorkerHost {
  readonly logLines: string[];
  readonly engineId: string;
  private readonly streams = new Map<number, QueryStream | SearchQueryStream>();
  private nextQueryId = 1;
  /** `log.audit(...)` bodies, as JSON text. */
  readonly auditLogLines: string[] = [];
  /** For getFunctionMetadata. */
  visibility: "public" | "internal" = "public";
  frozenNow: number | null;
  random: (() => number) | null;
  /** The seed of `random` (a worker thread draws the same numbers). */
  readonly seed: number | null;
  /** The worker thread running this function's code (null: the engine's own thread). */
  worker: FunctionWorker | null = null;
  /** Called when a worker has loaded the function's module and starts running it. */
  onStarted: (loadMs: number) => void = () => undefined;
  /**
   * Moves this function's deadline (and its callers', for a nested call) out by time that is
   * not the function's own: a nested call's module loading on the shared worker.
   */
  extendDeadline: (ms: number) => void = () => undefined;
  /** Module loads in progress for this function or the nested calls it waits on. */
  loads = 0;
  /** The caller of a nested call (it shares the caller's worker and transaction). */
  parent: FunctionExecution | null = null;
  /** An action run by a running action (ctx.runAction): it does not wait for a worker slot. */
  calledByAction = false;
  /** The worker's paused time when this function started (see pausedMs). */
  pausedBase = 0;
  /** The calling component's view of table names. */
  readonly ns: Namespace;

  constructor(
    readonly engine: LocalEngine,
    readonly udfType: UdfType | "httpAction",
    readonly path: string,
    readonly identity: Identity | null,
    readonly tx: TransactionState | null,
    logLines: string[],
    readonly requestId: string,
    readonly scheduledJobId: string | null,
    readonly componentPath: string = ROOT,
  ) {
    this.logLines = logLines;
    this.engineId = engine.envKey(componentPath);
    this.ns = new Namespace(componentPath);
    const start = engine.now();
    this.frozenNow = tx ? start : null;
    this.seed = tx ? (Number(BigInt.asUintN(32, engine.latestTs())) ^ start) >>> 0 : null;
    this.random = this.seed === null ? null : seededRandom(this.seed);
  }

  now(): number {
    return this.engine.now();
  }

  /** The store this execution reads: the engine's, or a committed snapshot. */
  private get store(): Store {
    return this.tx?.snapshot ?? this.engine.store;
  }

  /** The search indexes as this execution reads them (through its snapshot's connection). */
  private get search(): SearchIndexes {
    return this.tx?.snapshotSearch ?? this.engine.search;
  }

  /** Counts one document read (Convex-JSON text) against the transaction's limits. */
  private meterRead(tx: TransactionState, json: string): void {
    tx.metrics.read(limits.convexJsonSize(JSON.parse(json) as JSONValue));
  }

  private meterWrite(): void {
    this.tx?.metrics.write(this.engine.lastWriteSize);
  }

  private checkAlive(op: string): TransactionState {
    const tx = this.tx;
    if (!tx) throw new EngineError(`${op} is only available in queries and mutations`);
    if (tx.dead) throw new EngineError("This transaction has ended (timed out or finished); no more database calls");
    if (monotonicNow() > tx.deadline + this.pausedMs()) {
      tx.dead = true;
      throw new EngineError(
        timedOutMessage(this.engine.transactionTimeoutMs),
      );
    }
    return tx;
  }

  syscall(op: string, argsText: string): string {
    const startedAt = monotonicNow();
    try {
      return this.syscallInner(op, argsText);
    } finally {
      this.chargeEngineTime(op, startedAt);
    }
  }

  asyncSyscall(op: string, argsText: string): Promise<string> {
    try {
      return Promise.resolve(this.asyncSyscallNow(op, argsText));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }

  /**
   * An async syscall answered at once when it can be (the database calls: a string), or a
   * promise for the ops that wait (nested calls, storage of actions). A worker thread blocked
   * on a database call gets its answer without a turn of this thread's event loop.
   */
  asyncSyscallNow(op: string, argsText: string): string | Promise<string> {
    // The storage work of every async op runs before its first await, so timing the
    // synchronous part charges it; nested function calls are user code and not charged.
    const startedAt = monotonicNow();
    try {
      return this.asyncSyscallInner(op, argsText);
    } finally {
      this.chargeEngineTime(op, startedAt);
    }
  }

  /**
   * Time its worker thread spent blocked on the engine since this function started: like the
   * engine's own work below, not the function's time (it also covers the threads' hand-offs).
   */
  pausedMs(): number {
    return this.worker === null ? 0 : this.worker.pausedMs() - this.pausedBase;
  }

  private chargeEngineTime(op: string, startedAt: number): void {
    // On a worker the blocked time is measured there (pausedMs), hand-offs included.
    if (this.tx === null || op === "1.0/runUdf" || this.worker !== null) return;
    const spent = monotonicNow() - startedAt;
    this.tx.engineMs += spent;
    this.tx.deadline += spent;
  }

  private syscallInner(op: string, argsText: string): string {
    const args = JSON.parse(argsText);
    switch (op) {
      case "1.0/queryStream": {
        const tx = this.checkAlive(op);
        tx.metrics.indexRange();
        const query = this.ns.query(args.query as QueryJson);
        const id = this.nextQueryId++;
        if (isSearchQuery(query)) {
          this.streams.set(id, new SearchQueryStream(this.store, this.search, query, tx.readSet));
          return JSON.stringify({ queryId: id });
        }
        const plan = planQuery(query, this.engine.indexLookup());
        this.streams.set(id, new QueryStream(this.store, plan, tx.readSet));
        return JSON.stringify({ queryId: id });
      }
      case "1.0/queryCleanup": {
        const stream = this.streams.get(args.queryId);
        stream?.finish();
        this.streams.delete(args.queryId);
        return JSON.stringify({});
      }
      case "1.0/db/normalizeId": {
        const table = this.store.tableOfId(args.idString);
        return JSON.stringify({ id: table !== null && this.ns.logical(table.name) === args.table ? args.idString : null });
      }
      case "1.0/getSnapshotTs":
        return JSON.stringify(convexToJson(this.checkAlive(op).snapshotTs ?? this.engine.latestTs()));
      default:
        throw new EngineError(`Unknown operation ${op}`);
    }
  }

  private asyncSyscallInner(op: string, argsText: string): string | Promise<string> {
    const args = JSON.parse(argsText);
    switch (op) {
      case "1.0/get":
        return this.get(args);
      case "1.0/queryStreamNext": {
        const tx = this.checkAlive(op);
        const stream = this.streams.get(args.queryId);
        if (!stream) throw new EngineError(`Unknown query ${args.queryId}`);
        const json = stream.next();
        if (json !== null) this.meterRead(tx, json);
        return json === null ? `{"value":null,"done":true}` : `{"value":${json},"done":false}`;
      }
      case "1.0/queryPage":
        return this.queryPage(args);
      case "1.0/count": {
        const tx = this.checkAlive(op);
        const table = this.ns.physical(args.table);
        tx.readSet?.add(`${table}.${BY_ID}`, Buffer.alloc(0), Buffer.from([0xff]));
        tx.metrics.indexRange();
        return JSON.stringify(this.store.countDocuments(table));
      }
      case "1.0/insert": {
        this.mutationOnly(op);
        if (typeof args.table !== "string" || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(args.table)) {
          throw new EngineError(`Invalid table name ${JSON.stringify(args.table)}`);
        }
        const id = this.engine.insertDocument(this.ns.physical(args.table), jsonToConvex(args.value) as Record<string, Value>, false);
        this.meterWrite();
        return JSON.stringify({ _id: id });
      }
      case "1.0/shallowMerge":
        this.mutationOnly(op);
        this.engine.patchDocument(this.ownTable("patch", args.id, args.table), args.id, args.value as Record<string, JSONValue>, false);
        this.meterWrite();
        return "{}";
      case "1.0/replace":
        this.mutationOnly(op);
        this.engine.replaceDocument(this.ownTable("replace", args.id, args.table), args.id, jsonToConvex(args.value) as Record<string, Value>, false);
        this.meterWrite();
        return "{}";
      case "1.0/remove":
        this.mutationOnly(op);
        this.engine.deleteDocument(this.ownTable("delete", args.id, args.table), args.id, false);
        this.tx?.metrics.write(0);
        return "{}";
      case "1.0/getUserIdentity":
        return JSON.stringify(this.identity === null ? null : convexToJson(this.identity as unknown as Value));
      case "1.0/getRequestMetadata":
        return JSON.stringify({
          ip: null,
          userAgent: null,
          requestId: this.requestId,
          scheduledFunctionId: this.scheduledJobId,
          authToken: null,
        });
      case "1.0/getFunctionMetadata":
        return JSON.stringify({ ...functionMetadata(this.path, this.udfType, this.visibility), componentPath: this.componentPath });
      case "1.0/getDeploymentMetadata":
        return JSON.stringify({ name: "local", region: null, class: "local" });
      case "1.0/getTransactionMetrics":
        return JSON.stringify(this.checkAlive(op).metrics.report());
      case "1.0/auditLog":
        this.auditLogLines.push(JSON.stringify(args.body ?? null));
        return "null";
      case "1.0/createFunctionHandle": {
        const target = canonicalPath(this.addressOf(args));
        this.engine.resolve(target, null, true);
        const { componentPath, udfPath } = parseTarget(target);
        return JSON.stringify(`function://${componentPath};${udfPath}`);
      }
      case "1.0/runUdf":
        return this.runNested(args);
      case "1.0/schedule": {
        this.mutationOnly(op);
        const id = this.engine.scheduler.scheduleInTransaction(
          this.addressOf(args), args.args, args.ts * 1000, scheduledFunctionsTable(this.componentPath),
        );
        this.tx?.metrics.scheduled(limits.convexJsonSize([args.args ?? {}]));
        return JSON.stringify(id);
      }
      case "1.0/cancel_job":
        this.mutationOnly(op);
        this.engine.scheduler.cancelInTransaction(args.id, scheduledFunctionsTable(this.componentPath));
        return "{}";
      case "1.0/actions/schedule":
        this.actionOnly(op);
        return this.engine
          .scheduleFromOutside(this.addressOf(args), args.args, args.ts * 1000, scheduledFunctionsTable(this.componentPath))
          .then((id) => JSON.stringify(id));
      case "1.0/actions/cancel_job":
        this.actionOnly(op);
        return this.engine.cancelFromOutside(args.id, scheduledFunctionsTable(this.componentPath)).then(() => "{}");
      case "1.0/actions/query":
      case "1.0/actions/mutation":
      case "1.0/actions/action":
        return this.callFromAction(op, args);
      case "1.0/storageGenerateUploadUrl":
        return JSON.stringify(`${this.engine.cloudUrl}/api/storage/upload?token=${this.engine.uploadToken(this.componentPath)}`);
      case "1.0/storageGetUrl":
        return this.storageDocument(args.storageId).then((file) =>
          JSON.stringify(file === null ? null : `${this.engine.cloudUrl}/api/storage/${file._id as string}`),
        );
      case "1.0/storageGetMetadata":
        return this.storageDocument(args.storageId).then((file) =>
          JSON.stringify(
            file === null
              ? null
              : { storageId: file._id, sha256: file.sha256, size: file.size, contentType: file.contentType ?? null },
          ),
        );
      case "1.0/storageDelete":
        if (this.tx) {
          this.mutationOnly(op);
          this.engine.deleteStoredFileInTransaction(args.storageId, this.ns.physical(STORAGE_TABLE));
          return "{}";
        }
        return this.engine.deleteStoredFile(args.storageId, this.ns.physical(STORAGE_TABLE)).then(() => "{}");
      case "1.0/storageStore": {
        this.mutationOnly(op);
        const bytes = Buffer.from(args.blob, "base64");
        return JSON.stringify(this.engine.storeBytesInTransaction(bytes, args.contentType || null, this.ns.physical(STORAGE_TABLE)));
      }
      case "1.0/storageGet":
        return this.storageDocument(args.storageId).then((file) => {
          if (file === null) return "null";
          const bytes = readFileSync(this.engine.blobPath(file._id as string));
          return JSON.stringify({ blob: bytes.toString("base64"), contentType: file.contentType ?? null });
        });
      case "1.0/actions/vectorSearch": {
        this.actionOnly(op);
        // The index is named as the calling component knows its table.
        const query = { ...(args.query as VectorQuery), indexName: this.ns.physical((args.query as VectorQuery).indexName) };
        return this.engine.readOutside(() => this.engine.vectorSearch(query)).then((results) => JSON.stringify({ results }));
      }
      default:
        throw new EngineError(`Unknown async operation ${op}`);
    }
  }

  jsSyscall(op: string, args: unknown): unknown {
    const input = args as Record<string, unknown>;
    switch (op) {
      case "storage/storeBlob":
        return (async () => {
          const blob = input.blob as Blob;
          const bytes = new Uint8Array(await blob.arrayBuffer());
          return await this.engine.storeFile(bytes, blob.type || null, this.ns.physical(STORAGE_TABLE));
        })();
      case "storage/getBlob":
        return (async () => {
          const file = await this.storageDocument(input.storageId as string);
          if (file === null) return null;
          const bytes = readFileSync(this.engine.blobPath(file._id as string));
          return new Blob([bytes], { type: (file.contentType as string | undefined) ?? "" });
        })();
      case "requestFromConvexJson":
        return requestFromConvexJson(input);
      case "convexJsonFromResponse":
        return convexJsonFromResponse(input);
      default:
        throw new EngineError(`Unknown js operation ${op}`);
    }
  }

  // ---- what a worker thread running this function asks of the engine (WorkerHost) ----

  async storeBlob(bytes: Uint8Array, contentType: string | null): Promise<string> {
    return await this.engine.storeFile(bytes, contentType, this.ns.physical(STORAGE_TABLE));
  }

  async getBlob(storageId: string): Promise<{ bytes: Uint8Array; contentType: string | null } | null> {
    const file = await this.storageDocument(storageId);
    if (file === null) return null;
    return { bytes: readFileSync(this.engine.blobPath(file._id as string)), contentType: (file.contentType as string | undefined) ?? null };
  }

  started(loadMs: number): void {
    // A nested call on its caller's worker shares the caller's transaction deadline, which is
    // set against the caller's start: it counts paused time from there too.
    const caller = this.parent !== null && this.parent.worker === this.worker ? this.parent : null;
    this.pausedBase = caller?.pausedBase ?? this.worker?.pausedMs() ?? 0;
    this.onStarted(loadMs);
  }

  async fetch(url: string, init: RequestInit): Promise<Response> {
    // Looked up at call time, as in-process (tests stub it).
    return await globalThis.fetch(url, init);
  }

  /** An action's timer, armed on this thread's `setTimeout` looked up at call time (tests fake it). */
  setTimer(ms: number, fire: () => void): () => void {
    const handle = globalThis.setTimeout(fire, ms);
    return () => globalThis.clearTimeout(handle);
  }

  /**
   * The physical table of a write by id, checked to be one of the calling component's
   * tables (an id of another component's table is not a document id here).
   */
  private ownTable(op: string, id: unknown, table: string | null | undefined): string {
    if (table !== undefined && table !== null) return this.ns.physical(table);
    const info = typeof id === "string" ? this.engine.store.tableOfId(id) : null;
    if (info === null || this.ns.logical(info.name) === null) {
      throw new EngineError(`Invalid argument \`id\` for \`db.${op}\`: ${JSON.stringify(id)} is not a document id`);
    }
    return info.name;
  }

  private mutationOnly(op: string): void {
    const tx = this.checkAlive(op);
    if (tx.kind !== "mutation") throw new EngineError(`${op.replace("1.0/", "")} is only allowed in mutations`);
  }

  private actionOnly(op: string): void {
    if (this.tx) throw new EngineError(`${op} is only available in actions`);
  }

  /**
   * The engine's target for a function address, as Convex resolves references: a reference
   * into a child component reaches only what the child exports (its public functions); a
   * function handle reaches whatever it was created for, internal functions included.
   */
  private addressOf(address: FunctionAddress): string {
    const target = pathFromAddress(address, this.componentPath);
    if (address.functionHandle !== undefined) return target;
    const { componentPath, udfPath } = parseTarget(target);
    if (componentPath === this.componentPath) return target;
    const fn = this.engine.resolve(target, null, true).fn;
    if (fn.isInternal) {
      const child = componentPath.slice(componentPath.lastIndexOf("/") + 1);
      const attributes = canonicalPath(udfPath).replace(/\.js:/, ":").split(/[/:]/);
      throw new EngineError(`Child component "${child}" does not export ${JSON.stringify(attributes)}`);
    }
    return target;
  }

  private async storageDocument(storageId: string): Promise<Record<string, Value> | null> {
    if (this.tx) {
      this.checkAlive("storage");
      return this.engine.readDocument(this.ns.physical(STORAGE_TABLE), storageId, this.tx.readSet, this.store);
    }
    return await this.engine.readOutside(() => this.engine.readDocument(this.ns.physical(STORAGE_TABLE), storageId, null));
  }

  private get(args: { id: JSONValue; table?: string }): string {
    const tx = this.checkAlive("db.get");
    const id = args.id;
    if (typeof id !== "string") throw new EngineError(`Invalid argument \`id\` for \`db.get\`: expected a string id`);
    const table = this.store.tableOfId(id);
    if (table === null) {
      throw new EngineError(`Invalid argument \`id\` for \`db.get\`: ${JSON.stringify(id)} is not a document id`);
    }
    const tableName = this.ns.logical(table.name);
    if (tableName === null) return "null"; // a table of another component: not one of ours
    if (args.table !== undefined && args.table !== null && tableName !== args.table) {
      throw new EngineError(wrongTableMessage("db.get", args.table, tableName));
    }
    const key = encodeValue(id);
    tx.readSet?.add(`${table.name}.${BY_ID}`, key, justAfter(key));
    tx.metrics.indexRange();
    const json = this.store.getDocument(id)?.json ?? null;
    if (json !== null) this.meterRead(tx, json);
    return json ?? "null";
  }

  private queryPage(args: {
    query: QueryJson;
    cursor: string | null;
    endCursor?: string | null;
    pageSize: number;
    maximumRowsRead?: number | null;
    maximumBytesRead?: number | null;
  }): string {
    const tx = this.checkAlive("paginate");
    if (tx.paginated) {
      throw new EngineError(
        "This query or mutation function ran multiple paginated queries. Convex only supports a single paginated query in each function.",
      );
    }
    tx.paginated = true;
    const query = this.ns.query(args.query);
    if (isSearchQuery(query)) {
      const request = {
        cursor: args.cursor ?? null,
        endCursor: args.endCursor ?? null,
        pageSize: args.pageSize,
        maximumRowsRead: args.maximumRowsRead ?? null,
      };
      const result = paginateSearch(this.store, this.search, query, request, tx.readSet);
      tx.metrics.indexRange();
      for (const json of result.page) this.meterRead(tx, json);
      return (
        `{"page":[${result.page.join(",")}],"isDone":${result.isDone},"continueCursor":${JSON.stringify(result.continueCursor)},` +
        `"splitCursor":null,"pageStatus":${JSON.stringify(result.pageStatus)}}`
      );
    }
    const plan = planQuery(query, this.engine.indexLookup());
    tx.metrics.indexRange();
    const result = paginate(
      this.store,
      plan,
      {
        cursor: args.cursor ?? null,
        endCursor: args.endCursor ?? null,
        pageSize: args.pageSize,
        maximumRowsRead: args.maximumRowsRead ?? null,
        maximumBytesRead: args.maximumBytesRead ?? null,
      },
      tx.readSet,
    );
    for (const json of result.page) this.meterRead(tx, json);
    return (
      `{"page":[${result.page.join(",")}],"isDone":${result.isDone},"continueCursor":${JSON.stringify(result.continueCursor)},` +
      `"splitCursor":${JSON.stringify(result.splitCursor)},"pageStatus":${JSON.stringify(result.pageStatus)}}`
    );
  }

  private async runNested(
    args: FunctionAddress & { udfType: string; args: JSONValue; transactionLimits?: Record<string, unknown> | null },
  ): Promise<string> {
    const tx = this.checkAlive("runUdf");
    const target = canonicalPath(this.addressOf(args));
    const wanted: UdfType = args.udfType === "mutation" ? "mutation" : "query";
    if (wanted === "mutation" && tx.kind !== "mutation") throw new EngineError("Queries cannot run mutations");
    if (args.udfType === "snapshotQuery" && tx.kind !== "mutation") {
      throw new EngineError("`useStaleSnapshot` is only supported in mutations, not queries.");
    }
    const resolved = this.engine.resolve(target, wanted, true);
    const outcome = await this.engine.invokeNested(resolved, args.args, this, {
      limits: args.transactionLimits ?? null,
      snapshot: args.udfType === "snapshotQuery",
    });
    if (!outcome.success) throw nestedFailure(outcome);
    return JSON.stringify(outcome.value);
  }

  private async callFromAction(op: string, args: FunctionAddress & { args: JSONValue }): Promise<string> {
    this.actionOnly(op);
    const target = this.addressOf(args);
    // Auth does not cross component boundaries.
    const sameComponent = parseTarget(target).componentPath === this.componentPath;
    const options: CallOptions = { identity: sameComponent ? this.identity : null, allowInternal: true };
    const callArgs = [args.args];
    let outcome: CallOutcome;
    if (op === "1.0/actions/query") outcome = await this.engine.runQuery(target, callArgs, options);
    else if (op === "1.0/actions/mutation") outcome = await this.engine.runMutation(target, callArgs, options);
    else outcome = await this.engine.runAction(target, callArgs, { ...options, calledByAction: true });
    // Nested logs show up in the caller's logs, as Convex does.
    this.logLines.push(...outcome.logLines);
    if (!outcome.success) throw nestedFailure(outcome);
    return JSON.stringify(outcome.value);
  }

  /** Records what open query streams read (a function may return without draining them). */
  finishStreams(): void {
    for (const stream of this.streams.values()) stream.finish();
    this.streams.clear();
  }
}

export class LocalEngine implements Engine {
  readonly store: Store;
  readonly search: SearchIndexes;
  readonly scheduler: Scheduler;
  readonly crons: Crons;
  readonly cloudUrl: string;
  readonly siteUrl: string;
  readonly transactionTimeoutMs: number;
  readonly actionTimeoutMs: number;
  /** Whether function code runs on worker threads (stopped at its time limit) or on this thread. */
  readonly functionThreads: boolean;
  /** Whether queries run beside the writer on read connections, or in the executor's queue. */
  readonly concurrentQueries: boolean;
  readonly transactionLimits: limits.TransactionLimitsConfig;
  /** Convex size of the document the last insert/patch/replace wrote (for write metering). */
  lastWriteSize = 0;
  readonly now: () => number;
  readonly timers: NonNullable<EngineOptions["timers"]>;
  readonly engineId = randomUUID();
  private readonly maxBatchSize: number;
  private app!: LoadedApp;
  private schema: SchemaInfo | null = null;
  private lookup!: IndexLookup;
  private queue: Task[] = [];
  private draining = false;
  private lastTs: Timestamp;
  private commitListeners = new Set<(commit: Commit) => void>();
  private reloadListeners = new Set<() => void>();
  private closed = false;
  private watcher: FSWatcher | null = null;
  private reloadTimer: ReturnType<typeof setTimeout> | null = null;
  private inFlightActions = new Set<Promise<unknown>>();
  /** Queries running beside the writer, each on its own read connection. */
  private inFlightQueries = new Set<Promise<unknown>>();
  private idleReaders: Reader[] = [];
  private readerGeneration = 0;
  /** Installed components by path (convex.config.ts). */
  private components = new Map<string, ComponentBuild>();
  /** Whether each component's schema validates documents ("" is the app). */
  private schemaValidation = new Map<string, boolean>();
  /** Functions the backend itself serves (`_system/...`), by module path; admin-only. */
  private systemModules = new Map<string, Record<string, unknown>>();
  private functionLogListeners = new Set<(entry: FunctionLogEntry) => void>();
  /** Where functions are loaded from: `options.convexDir`, or the folder of the last push. */
  private sourceDir: string | null = null;

  private constructor(readonly options: EngineOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    mkdirSync(this.storageDir(), { recursive: true });
    this.store = new Store(path.join(options.dataDir, "engine.sqlite3"));
    this.search = new SearchIndexes(this.store.db);
    this.store.documentObserver = (table, oldDocument, newDocument) => this.search.onWrite(table, oldDocument, newDocument);
    this.cloudUrl = options.cloudUrl.replace(/\/$/, "");
    this.siteUrl = options.siteUrl.replace(/\/$/, "");
    this.transactionTimeoutMs = options.transactionTimeoutMs ?? 1000;
    this.transactionLimits = limits.limitsWith(options.transactionLimits);
    this.actionTimeoutMs = options.actionTimeoutMs ?? 600_000;
    this.functionThreads = options.functionThreads ?? true;
    this.concurrentQueries = options.concurrentQueries ?? true;
    if (this.functionThreads) workerPool.warm();
    this.maxBatchSize = options.maxBatchSize ?? 256;
    const dateNow = Date.now;
    this.now = options.now ?? (() => dateNow());
    this.timers = options.timers ?? {
      setTimeout: (callback, ms) => realSetTimeout(callback, ms),
      clearTimeout: (handle) => realClearTimeout(handle as ReturnType<typeof setTimeout>),
    };
    this.lastTs = BigInt(this.store.getMeta("lastTs") ?? "0");
    this.scheduler = new Scheduler(this);
    this.crons = new Crons(this);
    runtime().envs.set(this.engineId, this.functionEnv());
  }

  /**
   * Opens the engine. `sharedBuild` lets several engines over the same functions (test
   * harness) reuse one build instead of bundling again.
   */
  static async open(options: EngineOptions, sharedBuild?: Promise<LoadedApp>): Promise<LocalEngine> {
    const engine = new LocalEngine(options);
    try {
      await engine.load(sharedBuild);
      engine.store.begin();
      engine.syncSchema();
      engine.scheduler.recoverInTransaction();
      engine.store.commit();
      if (options.runCrons ?? true) engine.crons.start();
      engine.scheduler.start();
      if (options.watch) engine.startWatching();
    } catch (error) {
      if (engine.store.inTransaction) engine.store.rollback();
      engine.store.close();
      throw error;
    }
    return engine;
  }

  private functionEnv(): Record<string, string> {
    return { ...this.options.env, CONVEX_CLOUD_URL: this.cloudUrl, CONVEX_SITE_URL: this.siteUrl };
  }

  // ---- loading -------------------------------------------------------------------------

  private async load(sharedBuild?: Promise<LoadedApp>): Promise<void> {
    this.app = await (sharedBuild ??
      loadAppWithComponents(this.options.convexDir, this.buildCache(this.options.convexDir), this.functionEnv()));
    this.useComponents(componentsOf(this.app));
    this.schema = this.readAllSchemas(this.app);
    this.lookup = indexLookupFor(this.store, this.schemaIndexes());
  }

  private buildCache(sourceDir: string): string {
    return this.options.buildCache ?? defaultBuildCache(sourceDir);
  }

  private useComponents(components: Map<string, ComponentBuild>): void {
    for (const path of this.components.keys()) runtime().envs.delete(this.envKey(path));
    this.components = components;
    for (const [path, component] of components) runtime().envs.set(this.envKey(path), { ...component.env });
  }

  /** The key of a component's env in the runtime (the app's is the engine id). */
  envKey(componentPath: string): string {
    return componentPath === ROOT ? this.engineId : `${this.engineId}#${componentPath}`;
  }

  /** The app's schema with every component's tables under their physical names. */
  private readAllSchemas(app: LoadedApp): SchemaInfo | null {
    const root = this.readSchema(app.schema);
    this.schemaValidation = new Map([[ROOT, root?.validation ?? false]]);
    if (this.components.size === 0) return root;
    const tables = new Map(root?.tables ?? []);
    const searchIndexes = [...(root?.searchIndexes ?? [])];
    const vectorIndexes = [...(root?.vectorIndexes ?? [])];
    for (const [componentPath, component] of this.components) {
      const schema = this.readSchema(component.app.schema);
      this.schemaValidation.set(componentPath, schema?.validation ?? false);
      const ns = new Namespace(componentPath);
      for (const [table, info] of schema?.tables ?? []) tables.set(ns.physical(table), info);
      for (const index of schema?.searchIndexes ?? []) searchIndexes.push({ ...index, table: ns.physical(index.table) });
      for (const index of schema?.vectorIndexes ?? []) vectorIndexes.push({ ...index, table: ns.physical(index.table) });
    }
    return { validation: root?.validation ?? false, tables, searchIndexes, vectorIndexes };
  }

  private schemaIndexes(): Map<string, IndexDefinition[]> {
    const schemaIndexes = new Map<string, IndexDefinition[]>();
    for (const [table, info] of this.schema?.tables ?? []) schemaIndexes.set(table, info.indexes);
    for (const componentPath of [ROOT, ...this.components.keys()]) {
      schemaIndexes.set(scheduledFunctionsTable(componentPath), scheduledFunctionsIndexes());
    }
    return schemaIndexes;
  }

  /** Every `_scheduled_functions` table (the app's and each component's). */
  scheduledFunctionTables(): string[] {
    return [ROOT, ...this.components.keys()].map(scheduledFunctionsTable);
  }

  private readSchema(schema: unknown): SchemaInfo | null {
    if (schema === null || schema === undefined) return null;
    const exported = (schema as { export?: () => string }).export;
    if (typeof exported !== "function") throw new Error("schema.ts must default-export defineSchema(...)");
    assertSchemaIdentifiers(schema);
    const json = JSON.parse(exported.call(schema)) as {
      tables: ({ tableName: string; indexes: { indexDescriptor: string; fields: string[] }[]; documentType: ValidatorJson } &
        Parameters<typeof searchIndexesOfSchema>[0][number] &
        Parameters<typeof vectorIndexesOfSchema>[0][number])[];
      schemaValidation: boolean;
    };
    const tables = new Map<string, { documentType: ValidatorJson; indexes: IndexDefinition[] }>();
    for (const table of json.tables) {
      tables.set(table.tableName, {
        documentType: table.documentType,
        indexes: table.indexes.map((index) => ({
          name: index.indexDescriptor,
          fields: [...index.fields, "_creationTime", "_id"],
        })),
      });
    }
    return {
      validation: json.schemaValidation,
      tables,
      searchIndexes: searchIndexesOfSchema(json.tables),
      vectorIndexes: vectorIndexesOfSchema(json.tables),
    };
  }

  /** Creates tables and indexes the schema declares, backfills new indexes, drops removed ones. */
  private syncSchema(): void {
    for (const table of this.scheduledFunctionTables()) this.store.syncIndexes(table, scheduledFunctionsIndexes());
    this.store.ensureTable(STORAGE_TABLE);
    const declared = this.schema?.tables ?? new Map();
    for (const [table, info] of declared) this.store.syncIndexes(table, info.indexes);
    for (const table of this.store.tableNames()) {
      if (baseTableName(table).startsWith("_") || declared.has(table)) continue;
      this.store.syncIndexes(table, []);
    }
    this.search.sync(
      this.schema?.searchIndexes ?? [],
      (table) => [...this.store.allDocuments(table)],
      (json) => jsonToConvex(JSON.parse(json)) as Record<string, Value>,
    );
  }

  private startWatching(): void {
    this.watcher = watchFs(this.options.convexDir, { recursive: true }, (_event, file) => {
      if (file && (String(file).includes("_generated") || String(file).startsWith("."))) return;
      if (this.reloadTimer) realClearTimeout(this.reloadTimer);
      this.reloadTimer = realSetTimeout(() => {
        this.reloadTimer = null;
        void this.reload();
      }, 150);
    });
  }

  /**
   * Rebuilds the functions and swaps them in between two executions. A failing build keeps
   * the running functions and reports the error.
   */
  async reload(fromDir?: string): Promise<{ ok: true } | { ok: false; error: string }> {
    let app: LoadedApp;
    const sourceDir = fromDir ?? this.sourceDir ?? this.options.convexDir;
    try {
      app = await loadAppWithComponents(sourceDir, this.buildCache(sourceDir), this.functionEnv());
      this.readSchema(app.schema);
      for (const component of componentsOf(app).values()) this.readSchema(component.app.schema);
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`[local backend] Build failed, keeping the previous functions:\n${message}`);
      return { ok: false, error: message };
    }
    if (fromDir !== undefined && fromDir !== this.sourceDir) {
      // Pushed code replaces the watched folder (as on Convex, the deployment runs what was pushed).
      this.sourceDir = fromDir;
      this.watcher?.close();
      this.watcher = null;
    }
    await this.enqueueWrite(async () => {
      this.app = app;
      this.useComponents(componentsOf(app));
      this.schema = this.readAllSchemas(app);
      this.lookup = indexLookupFor(this.store, this.schemaIndexes());
      this.syncSchema();
      if (this.options.runCrons ?? true) this.crons.syncInTransaction();
      return null;
    });
    this.dropReaders();
    if (this.options.runCrons ?? true) this.crons.rearm();
    for (const listener of this.reloadListeners) listener();
    return { ok: true };
  }

  indexLookup(): IndexLookup {
    return this.lookup;
  }

  /** Registers an inline handler with the bundled convex copy (test harness). */
  // Any user handler, whatever its ctx and args types.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  inlineFunction(kind: UdfType, handler: (...args: any[]) => unknown): ConvexFunction {
    const builder =
      kind === "query" ? this.app.builders.queryGeneric : kind === "mutation" ? this.app.builders.mutationGeneric : this.app.builders.actionGeneric;
    return builder({ handler }) as ConvexFunction;
  }

  /** The loaded functions (with their components), for the test harness. */
  loadedApp(): LoadedApp {
    return this.app;
  }

  crontab(): unknown {
    return this.app.crons;
  }

  // ---- function resolution and validation ----------------------------------------------

  /** Finds a function; `expected` null accepts any kind. Internal ones need `allowInternal`. */
  resolve(udfPath: string, expected: UdfType | null, allowInternal: boolean): ResolvedFunction {
    const target = parseTarget(udfPath);
    const { module, name } = parseFunctionPath(target.udfPath);
    const path = `${module}:${name}`;
    const componentPath = target.componentPath;
    const appModules = componentPath === ROOT ? this.app.modules : this.components.get(componentPath)?.app.modules;
    if (appModules === undefined) throw new EngineError(`Component "${componentPath}" is not installed in convex.config.ts`);
    const fn = ((componentPath === ROOT ? this.systemModules.get(module) : undefined) ?? appModules.get(module))?.[name] as ConvexFunction | undefined;
    const udfType: UdfType | null = fn?.isQuery ? "query" : fn?.isMutation ? "mutation" : fn?.isAction ? "action" : null;
    // Clients reach the app's public functions only; components are called through the app.
    const reachable = allowInternal || (componentPath === ROOT && !fn?.isInternal);
    if (!fn || udfType === null || !reachable) {
      throw new EngineError(
        `Could not find ${allowInternal ? "" : "public "}function for '${path}'. Did you forget to run \`npx convex dev\` or \`npx convex deploy\`?`,
      );
    }
    if (expected !== null && udfType !== expected) {
      throw new EngineError(`Trying to execute ${path} as ${expected}, but it is defined as ${udfType}.`);
    }
    const args = JSON.parse(fn.exportArgs?.() ?? '{"type":"any"}') as ValidatorJson;
    const returns = JSON.parse(fn.exportReturns?.() ?? "null") as ValidatorJson | null;
    const isSystem = componentPath === ROOT && this.systemModules.has(module);
    const moduleUrls = componentPath === ROOT ? this.app.moduleUrls : this.components.get(componentPath)?.app.moduleUrls;
    const url = isSystem ? undefined : moduleUrls?.get(module);
    const location = url === undefined ? null : { url, exportName: name };
    return { path, componentPath, udfType, fn, args, returns, location };
  }

  /** A path, or a function object passed directly (the test harness's inline functions). */
  private resolveTarget(target: string | ConvexFunction, expected: UdfType, allowInternal: boolean): ResolvedFunction {
    if (typeof target === "string") return this.resolve(target, expected, allowInternal);
    const kind = target.isQuery ? "query" : target.isMutation ? "mutation" : target.isAction ? "action" : null;
    if (kind !== expected) throw new EngineError(`An inline ${expected} must be a registered ${expected} function`);
    return { path: "inline", componentPath: ROOT, udfType: expected, fn: target, args: { type: "any" }, returns: null, location: null };
  }

  /** For `v.id(table)` validators: the table of an id, as the component names it. */
  private tableNameIn(componentPath: string): (id: string) => string | null {
    const ns = new Namespace(componentPath);
    return (id) => {
      const table = this.store.tableOfId(id);
      return table === null ? null : ns.logical(table.name);
    };
  }

  private validateArgs(resolved: ResolvedFunction, args: JSONValue[]): JSONValue {
    if (args.length > 1) throw new EngineError(`${resolved.path} takes one argument object, got ${args.length} arguments`);
    const argsJson = args[0] ?? {};
    if (!isPlainObject(argsJson)) {
      throw new EngineError(`ArgumentValidationError: The arguments to ${resolved.path} must be an object`);
    }
    let value: Value;
    try {
      value = jsonToConvex(argsJson);
    } catch (error) {
      throw new EngineError(`ArgumentValidationError: ${(error as Error).message}`);
    }
    const problem = checkValue(resolved.args, value, this.tableNameIn(resolved.componentPath));
    if (problem !== null) {
      throw new EngineError(`ArgumentValidationError: ${problem}\n(in arguments of ${resolved.path})`);
    }
    return argsJson;
  }

  private validateReturn(resolved: ResolvedFunction, value: JSONValue): void {
    if (resolved.returns === null) return;
    const problem = checkValue(resolved.returns, jsonToConvex(value), this.tableNameIn(resolved.componentPath));
    if (problem !== null) throw new EngineError(`ReturnsValidationError: ${problem}\n(in the return value of ${resolved.path})`);
  }

  // ---- invoking ------------------------------------------------------------------------

  private async invoke(
    resolved: ResolvedFunction,
    argsJson: JSONValue,
    execution: FunctionExecution,
    endsTransaction = true,
    parent: FunctionExecution | null = null,
  ): Promise<JSONValue> {
    const argsText = JSON.stringify([argsJson]);
    limits.checkArgumentsLimits(resolved.path, [argsJson]);
    execution.visibility = resolved.fn.isInternal ? "internal" : "public";
    const limitMs = execution.tx ? this.transactionTimeoutMs : this.actionTimeoutMs;
    // Nested calls run on their caller's worker: they share its transaction and its fate.
    const ownsWorker = resolved.location !== null && this.functionThreads && !parent?.worker;
    const workerKind = resolved.udfType === "action" ? "action" : "transaction";
    let worker: FunctionWorker | null = null;
    if (ownsWorker) {
      // Waiting for a free worker (the pool is bounded) is not the function's time.
      const queuedAt = monotonicNow();
      worker = await workerPool.acquire(workerKind, execution.calledByAction);
      if (execution.tx) execution.tx.deadline += monotonicNow() - queuedAt;
    } else if (resolved.location !== null && this.functionThreads) {
      worker = parent?.worker ?? null;
    }
    execution.worker = worker;
    const timedOut = () => new EngineError(timedOutMessage(limitMs));
    let timer: ReturnType<typeof setTimeout> | undefined;
    let wallDeadline = monotonicNow() + limitMs;
    // Loading the function's module (a fresh worker imports it first) is not the function's time.
    let loading = worker !== null;
    execution.parent = parent;
    execution.extendDeadline = (ms) => {
      if (execution.tx) execution.tx.deadline += ms;
      else wallDeadline += ms;
      // A nested call's transaction state is the caller's copy, and the caller waits for
      // the load on the same worker: its deadline moves out too.
      parent?.extendDeadline(ms);
    };
    const countLoad = (delta: number) => {
      for (let e: FunctionExecution | null = execution; e !== null; e = e.parent) e.loads += delta;
    };
    if (loading) countLoad(1);
    execution.onStarted = (loadMs) => {
      if (!loading) return;
      loading = false;
      countLoad(-1);
      execution.extendDeadline(loadMs);
    };
    const loadDeadline = monotonicNow() + MODULE_LOAD_LIMIT_MS;
    const timeout = new Promise<never>((_, reject) => {
      // Re-armed while the deadline moved out (time spent in the engine or loading).
      const check = () => {
        if (execution.loads > 0 && monotonicNow() < loadDeadline) {
          timer = realSetTimeout(check, limitMs);
          return;
        }
        // Queries and mutations are limited in their own time; actions in wall-clock time.
        const deadline = execution.tx ? execution.tx.deadline + execution.pausedMs() : wallDeadline;
        const remaining = deadline - monotonicNow();
        if (remaining > 0) {
          timer = realSetTimeout(check, remaining);
          return;
        }
        if (execution.tx) execution.tx.dead = true;
        const error = timedOut();
        // A worker is stopped where it is, even in the middle of a loop without syscalls.
        worker?.kill(error);
        reject(error);
      };
      timer = realSetTimeout(check, limitMs);
    });
    const run = (): Promise<string> => {
      if (worker !== null) {
        return worker.run(execution, {
          url: resolved.location!.url,
          exportName: resolved.location!.exportName,
          udfType: resolved.udfType,
          argsText,
          requestId: execution.requestId,
          engineId: execution.engineId,
          env: runtime().envs.get(execution.engineId) ?? {},
          frozenNow: execution.frozenNow,
          seed: execution.seed,
        });
      }
      const fn = resolved.fn;
      return runInExecution(execution, () => {
        if (resolved.udfType === "query") return fn.invokeQuery!(argsText);
        if (resolved.udfType === "mutation") return fn.invokeMutation!(argsText);
        return fn.invokeAction!(execution.requestId, argsText);
      });
    };
    try {
      const resultText = await Promise.race([run(), timeout]);
      const tx = execution.tx;
      if (tx && !tx.dead && monotonicNow() > tx.deadline + execution.pausedMs()) {
        // On the engine's own thread a busy loop cannot be interrupted; it is refused afterwards.
        tx.dead = true;
        throw timedOut();
      }
      const value = JSON.parse(resultText) as JSONValue;
      limits.checkResultLimits(resolved.path, value);
      this.validateReturn(resolved, value);
      return value;
    } finally {
      if (loading) {
        loading = false;
        countLoad(-1);
      }
      realClearTimeout(timer);
      execution.finishStreams();
      // Stray continuations of this function must not touch a later transaction.
      if (endsTransaction && execution.tx) execution.tx.dead = true;
      if (ownsWorker && worker !== null) workerPool.release(worker, workerKind, execution.calledByAction);
    }
  }

  private newTransaction(kind: "query" | "mutation", readSet: ReadSetBuilder | null): TransactionState {
    const startedAt = monotonicNow();
    return {
      kind,
      readSet,
      paginated: false,
      deadline: startedAt + this.transactionTimeoutMs,
      dead: false,
      startedAt,
      engineMs: 0,
      metrics: new limits.TransactionMetrics(this.transactionLimits),
      snapshot: null,
      snapshotSearch: null,
      snapshotTs: null,
    };
  }

  /** Runs a query or mutation inside the caller's transaction (ctx.runQuery / ctx.runMutation). */
  async invokeNested(
    resolved: ResolvedFunction,
    argsJson: JSONValue,
    parent: FunctionExecution,
    options: { limits: Record<string, unknown> | null; snapshot: boolean } = { limits: null, snapshot: false },
  ): Promise<CallOutcome> {
    const logLines = parent.logLines;
    const tx = parent.tx!;
    const snapshot = options.snapshot ? openSnapshotStore(this.store) : tx.snapshot;
    // Auth does not cross component boundaries.
    const identity = resolved.componentPath === parent.componentPath ? parent.identity : null;
    const execution = new FunctionExecution(
      this, resolved.udfType, resolved.path, identity,
      { ...tx, kind: resolved.udfType === "mutation" ? "mutation" : "query", paginated: false, snapshot },
      logLines, parent.requestId, parent.scheduledJobId, resolved.componentPath,
    );
    const isMutation = resolved.udfType === "mutation";
    if (isMutation) this.store.savepoint();
    tx.metrics.push(options.limits);
    try {
      const args = this.validateArgs(resolved, [argsJson]);
      const value = await this.invoke(resolved, args, execution, false, parent);
      if (isMutation) this.store.releaseSavepoint();
      tx.metrics.commit();
      return { success: true, value, logLines: [] };
    } catch (error) {
      if (isMutation) this.store.rollbackToSavepoint();
      tx.metrics.rollback();
      if (execution.tx?.dead) tx.dead = true;
      return { ...failureFrom(error, []), logLines: [] };
    } finally {
      if (options.snapshot) snapshot?.close();
    }
  }

  private log(entry: FunctionLogEntry): void {
    this.options.onLog?.(entry);
    for (const listener of this.functionLogListeners) listener(entry);
  }

  /** Every function execution's log entry (the admin API's log stream). */
  onFunctionLog(listener: (entry: FunctionLogEntry) => void): () => void {
    this.functionLogListeners.add(listener);
    return () => this.functionLogListeners.delete(listener);
  }

  /** Serves `exports` as the module `_system/...` (functions the backend provides itself). */
  registerSystemModule(modulePath: string, exports: Record<string, unknown>): void {
    if (!modulePath.startsWith("_system/")) throw new Error(`System modules live under _system/, got ${modulePath}`);
    this.systemModules.set(modulePath, exports);
  }

  /** The loaded function modules (path without extension -> exports), http router and schema. */
  loadedModules(): { modules: ReadonlyMap<string, Record<string, unknown>>; http: unknown; schema: unknown } {
    return { modules: this.app.modules, http: this.app.http, schema: this.app.schema };
  }

  /** Replaces the deployment env that functions see as `process.env` (env vars set by the CLI). */
  setEnvironment(env: Record<string, string>): void {
    (this.options as { env: Record<string, string> }).env = { ...env };
    runtime().envs.set(this.engineId, this.functionEnv());
  }

  async runQuery(path: string | ConvexFunction, args: JSONValue[], options: CallOptions): Promise<QueryOutcome> {
    if (!this.concurrentQueries) return await this.enqueueRead(() => this.executeQuery(path, args, options, null));
    // Beside the writer, at the last committed state: a query never waits for a write batch.
    if (this.closed) throw new EngineError("The engine is closed");
    const reader = this.openSnapshot();
    const running = this.executeQuery(path, args, options, reader).finally(() => this.closeSnapshot(reader));
    this.inFlightQueries.add(running);
    try {
      return await running;
    } finally {
      this.inFlightQueries.delete(running);
    }
  }

  /** A read connection in a read transaction at the last commit (queries beside the writer). */
  private openSnapshot(): ReadSnapshot {
    const reader = this.idleReaders.pop() ?? this.openReader();
    const lastTs = reader.store.beginSnapshot();
    return { ...reader, ts: lastTs === null ? 0n : BigInt(lastTs) };
  }

  private openReader(): Reader {
    const store = new Store(this.store.db.name);
    return { store, search: this.search.readerOn(store.db), generation: this.readerGeneration };
  }

  private closeSnapshot(snapshot: ReadSnapshot): void {
    const { store, search, generation } = snapshot;
    store.endSnapshot();
    if (!this.closed && generation === this.readerGeneration && this.idleReaders.length < IDLE_READERS) {
      this.idleReaders.push({ store, search, generation });
    } else {
      store.close();
    }
  }

  /** Closes the idle read connections (after a reload their table registry may be stale). */
  private dropReaders(): void {
    this.readerGeneration++;
    for (const reader of this.idleReaders.splice(0)) reader.store.close();
  }

  private async executeQuery(
    udfPath: string | ConvexFunction,
    args: JSONValue[],
    options: CallOptions,
    snapshot: ReadSnapshot | null,
  ): Promise<QueryOutcome> {
    const started = monotonicNow();
    const readSet = new ReadSetBuilder();
    const logLines: string[] = [];
    let outcome: CallOutcome;
    let path = typeof udfPath === "string" ? udfPath : "inline";
    try {
      const resolved = this.resolveTarget(udfPath, "query", options.allowInternal ?? false);
      path = resolved.path;
      const argsJson = this.validateArgs(resolved, args);
      const tx = this.newTransaction("query", readSet);
      if (snapshot !== null) Object.assign(tx, { snapshot: snapshot.store, snapshotSearch: snapshot.search, snapshotTs: snapshot.ts });
      const execution = new FunctionExecution(
        this, "query", resolved.path, options.identity, tx, logLines, randomUUID(), null, resolved.componentPath,
      );
      const value = await this.invoke(resolved, argsJson, execution);
      outcome = { success: true, value, logLines };
    } catch (error) {
      outcome = failureFrom(error, logLines);
    }
    this.logOutcome("query", path, started, outcome);
    return { ...outcome, ts: snapshot?.ts ?? this.lastTs, readSet: readSet.build() };
  }

  private logOutcome(udfType: FunctionLogEntry["udfType"], path: string, started: number, outcome: CallOutcome): void {
    this.log({
      udfType,
      path,
      durationMs: monotonicNow() - started,
      outcome: outcome.success ? "success" : "error",
      error: outcome.success ? undefined : outcome.errorMessage,
      logLines: outcome.logLines,
    });
  }

  async runMutation(udfPath: string | ConvexFunction, args: JSONValue[], options: CallOptions): Promise<MutationOutcome> {
    const idempotencyKey = options.idempotencyKey;
    return await new Promise<MutationOutcome>((resolve, reject) => {
      this.enqueue({
        kind: "write",
        execute: async (batch) => {
          const started = monotonicNow();
          if (idempotencyKey !== undefined) {
            const previous = this.store.getMutationOutcome(idempotencyKey);
            if (previous !== null) {
              const stored = JSON.parse(previous) as CallOutcome & { ts: string };
              return { keep: false, settle: () => resolve({ ...stored, ts: BigInt(stored.ts) } as MutationOutcome) };
            }
          }
          const logLines: string[] = [];
          let outcome: CallOutcome;
          let path = typeof udfPath === "string" ? udfPath : "inline";
          try {
            const resolved = this.resolveTarget(udfPath, "mutation", options.allowInternal ?? false);
            path = resolved.path;
            const argsJson = this.validateArgs(resolved, args);
            const execution = new FunctionExecution(
              this, "mutation", resolved.path, options.identity, this.newTransaction("mutation", null), logLines, randomUUID(), null,
              resolved.componentPath,
            );
            const value = await this.invoke(resolved, argsJson, execution);
            outcome = { success: true, value, logLines };
          } catch (error) {
            outcome = failureFrom(error, logLines);
          }
          this.logOutcome("mutation", path, started, outcome);
          if (outcome.success && idempotencyKey !== undefined) {
            const ts = batch.ts();
            this.store.setMutationOutcome(idempotencyKey, JSON.stringify({ ...outcome, ts: ts.toString() }), ts);
          }
          const finalOutcome = outcome;
          return {
            keep: finalOutcome.success,
            settle: (ts, commitError) => {
              if (commitError !== null) reject(commitError);
              else resolve({ ...finalOutcome, ts: ts ?? this.lastTs });
            },
          };
        },
      });
    });
  }

  /**
   * Runs a mutation inside the running write task, in its own savepoint (the scheduler uses
   * it so a job's writes and its state change commit together).
   */
  async runMutationInTransaction(udfPath: string, argsJson: JSONValue, scheduledJobId: string): Promise<CallOutcome> {
    const started = monotonicNow();
    const logLines: string[] = [];
    let outcome: CallOutcome;
    let path = udfPath;
    this.store.savepoint();
    try {
      const resolved = this.resolve(udfPath, "mutation", true);
      path = resolved.path;
      const args = this.validateArgs(resolved, [argsJson]);
      const execution = new FunctionExecution(
        this, "mutation", resolved.path, null, this.newTransaction("mutation", null), logLines, randomUUID(), scheduledJobId,
        resolved.componentPath,
      );
      const value = await this.invoke(resolved, args, execution);
      this.store.releaseSavepoint();
      outcome = { success: true, value, logLines };
    } catch (error) {
      this.store.rollbackToSavepoint();
      outcome = failureFrom(error, logLines);
    }
    this.logOutcome("mutation", path, started, outcome);
    return outcome;
  }

  async runAction(
    udfPath: string | ConvexFunction,
    args: JSONValue[],
    options: CallOptions,
    scheduledJobId: string | null = null,
  ): Promise<CallOutcome> {
    const started = monotonicNow();
    const logLines: string[] = [];
    let outcome: CallOutcome;
    let path = typeof udfPath === "string" ? udfPath : "inline";
    try {
      const resolved = this.resolveTarget(udfPath, "action", options.allowInternal ?? false);
      path = resolved.path;
      const argsJson = this.validateArgs(resolved, args);
      const execution = new FunctionExecution(
        this, "action", resolved.path, options.identity, null, logLines, randomUUID(), scheduledJobId,
        resolved.componentPath,
      );
      execution.calledByAction = options.calledByAction === true;
      const running = runOutsideExecution(() => this.invoke(resolved, argsJson, execution));
      this.inFlightActions.add(running);
      try {
        const value = await running;
        outcome = { success: true, value, logLines };
      } finally {
        this.inFlightActions.delete(running);
      }
    } catch (error) {
      outcome = failureFrom(error, logLines);
    }
    this.logOutcome("action", path, started, outcome);
    return outcome;
  }

  async runHttpAction(request: Request, identity: Identity | null = null): Promise<Response> {
    return await this.runHttpActionAs(request, identity);
  }

  /** Like runHttpAction, with the caller's identity (tests' `t.withIdentity(...).fetch`). */
  async runHttpActionAs(request: Request, identity: Identity | null): Promise<Response> {
    const router = this.app.http as {
      lookup?: (path: string, method: string) => [{ invokeHttpAction: (r: Request) => Promise<Response> }, string, string] | null;
    } | null;
    const url = new URL(request.url);
    const match = router?.lookup?.(url.pathname, request.method) ?? null;
    if (!match) return new Response(`No HttpAction routed for ${url.pathname}`, { status: 404 });
    const [handler, method, routePath] = match;
    const logLines: string[] = [];
    const label = `${method} ${routePath}`;
    const execution = new FunctionExecution(this, "httpAction", label, identity, null, logLines, randomUUID(), null);
    return await this.runHttpHandler(handler, request, execution, label, monotonicNow(), logLines);
  }

  private async runHttpHandler(
    handler: { invokeHttpAction: (r: Request) => Promise<Response> },
    request: Request,
    execution: FunctionExecution,
    label: string,
    started: number,
    logLines: string[],
  ): Promise<Response> {
    try {
      const moduleUrl = this.functionThreads ? this.app.moduleUrls.get("http") : undefined;
      const response =
        moduleUrl === undefined
          ? await runOutsideExecution(() => runInExecution(execution, () => handler.invokeHttpAction(request)))
          : await runOutsideExecution(() => this.runHttpActionOnWorker(moduleUrl, request, execution));
      this.log({ udfType: "httpAction", path: label, durationMs: monotonicNow() - started, outcome: "success", logLines });
      return response;
    } catch (error) {
      const failure = failureFrom(error, logLines);
      this.log({
        udfType: "httpAction", path: label, durationMs: monotonicNow() - started, outcome: "error",
        error: failure.errorMessage, logLines,
      });
      return new Response(failure.errorMessage, { status: 500 });
    }
  }

  /**
   * An HTTP action on a worker thread, as every other function: `http.ts` is imported there and
   * routes the request; the action is stopped at the action time limit. The request and the
   * response body travel whole (HTTP actions' bodies are read in full here anyway).
   */
  private async runHttpActionOnWorker(moduleUrl: string, request: Request, execution: FunctionExecution): Promise<Response> {
    const bytes = request.body === null ? null : new Uint8Array(await request.arrayBuffer());
    const headers: [string, string][] = [];
    request.headers.forEach((value, name) => headers.push([name, value]));
    const limitMs = this.actionTimeoutMs;
    const worker = await workerPool.acquire("action");
    execution.worker = worker;
    let deadline = monotonicNow() + limitMs;
    let loading = true;
    const loadDeadline = monotonicNow() + MODULE_LOAD_LIMIT_MS;
    execution.onStarted = (loadMs) => {
      loading = false;
      deadline += loadMs;
    };
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      const check = () => {
        const remaining = loading && monotonicNow() < loadDeadline ? limitMs : deadline - monotonicNow();
        if (remaining > 0) {
          timer = realSetTimeout(check, remaining);
          return;
        }
        const error = new EngineError(timedOutMessage(limitMs));
        worker.kill(error);
        reject(error);
      };
      timer = realSetTimeout(check, limitMs);
    });
    try {
      const resultText = await Promise.race([
        worker.run(execution, {
          url: moduleUrl,
          exportName: "default",
          udfType: "httpAction",
          argsText: JSON.stringify({ url: request.url, method: request.method, headers } satisfies HttpRequestJson),
          bytes,
          requestId: execution.requestId,
          engineId: execution.engineId,
          env: runtime().envs.get(execution.engineId) ?? {},
          frozenNow: null,
          seed: null,
        }),
        timeout,
      ]);
      const answer = JSON.parse(resultText) as HttpResponseJson;
      const nullBody = [101, 103, 204, 205, 304].includes(answer.status);
      return new Response(nullBody ? null : Buffer.from(answer.body, "base64"), {
        status: answer.status,
        statusText: answer.statusText,
        headers: answer.headers,
      });
    } finally {
      realClearTimeout(timer);
      workerPool.release(worker, "action");
    }
  }

  // ---- executor ------------------------------------------------------------------------

  private enqueue(task: Task): void {
    if (this.closed) throw new EngineError("The engine is closed");
    this.queue.push(task);
    if (!this.draining) void runOutsideExecution(() => this.drain());
  }

  async enqueueRead<T>(fn: () => Promise<T> | T): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      this.enqueue({
        kind: "read",
        run: async () => {
          try {
            resolve(await fn());
          } catch (error) {
            reject(error);
          }
        },
      });
    });
  }

  /** Reads the store from outside an execution (actions, engine bookkeeping). */
  async readOutside<T>(fn: () => T): Promise<T> {
    return await this.enqueueRead(fn);
  }

  /**
   * Runs `fn` as its own write in the executor; its writes commit (durably) before the
   * promise resolves. A throw rolls them back and rejects.
   */
  async enqueueWrite<T>(fn: () => Promise<T> | T): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      this.enqueue({
        kind: "write",
        execute: async () => {
          try {
            const value = await fn();
            return { keep: true, settle: (_ts, commitError) => (commitError !== null ? reject(commitError) : resolve(value)) };
          } catch (error) {
            return { keep: false, settle: () => reject(error) };
          }
        },
      });
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length > 0) {
        const head = this.queue[0];
        if (head.kind === "read") {
          this.queue.shift();
          await head.run();
          continue;
        }
        const batch: WriteTask[] = [];
        const rest: Task[] = [];
        for (const task of this.queue) {
          if (task.kind === "write" && batch.length < this.maxBatchSize) batch.push(task);
          else rest.push(task);
        }
        this.queue = rest;
        await this.runBatch(batch);
      }
    } finally {
      this.draining = false;
    }
  }

  private nextTs(after: Timestamp): Timestamp {
    const now = BigInt(Math.floor(this.now())) * 1_000_000n;
    return now > after ? now : after + 1n;
  }

  private async runBatch(tasks: WriteTask[]): Promise<void> {
    const settled: { result: WriteResult; ts: Timestamp | null; writes: WriteSetBuilder }[] = [];
    let lastTs = this.lastTs;
    let commitError: unknown = null;
    let lastCommittedTs: Timestamp | null = null;
    this.store.begin();
    try {
      for (const task of tasks) {
        const writes = new WriteSetBuilder();
        this.store.writeListener = (changes) => {
          for (const change of changes) writes.add(change.index, change.key);
        };
        let ts: Timestamp | null = null;
        const scope: BatchScope = {
          ts: () => (ts ??= lastTs = this.nextTs(lastTs)),
        };
        this.store.savepoint();
        let result: WriteResult;
        try {
          result = await task.execute(scope);
        } catch (error) {
          result = { keep: false, settle: (_ts, e) => { throw e ?? error; } };
        }
        this.store.writeListener = null;
        if (result.keep) {
          if (!writes.isEmpty()) scope.ts();
          if (ts !== null) lastCommittedTs = ts;
          this.store.releaseSavepoint();
        } else {
          this.store.rollbackToSavepoint();
          ts = null;
        }
        settled.push({ result, ts, writes });
      }
      // One metadata write per batch, not per mutation: the latest timestamp it committed.
      if (lastCommittedTs !== null) this.store.setMeta("lastTs", (lastCommittedTs as bigint).toString());
      this.store.commit();
    } catch (error) {
      commitError = error;
      this.store.writeListener = null;
      this.store.rollback();
    }
    // Arm the scheduler's timer as part of the commit, before any caller resumes.
    const touchedSchedule = settled.some(
      (entry) =>
        entry.ts !== null && [...entry.writes.keys.keys()].some((index) => isScheduledFunctionsTable(index.slice(0, index.indexOf(".")))),
    );
    if (commitError === null && touchedSchedule) this.scheduler.rearmInExecutor();
    for (const entry of settled) {
      const ts = commitError === null ? entry.ts : null;
      if (ts !== null) {
        this.lastTs = ts;
        const commit: Commit = { ts, writes: entry.writes.build() };
        for (const listener of this.commitListeners) {
          try {
            listener(commit);
          } catch (error) {
            console.error("[local backend] onCommit listener failed:", error);
          }
        }
      }
      try {
        entry.result.settle(ts, commitError);
      } catch (error) {
        console.error("[local backend] settling a write failed:", error);
      }
    }
  }

  // ---- documents -----------------------------------------------------------------------

  private validateDocument(table: string, value: Record<string, Value>): void {
    for (const key of Object.keys(value)) {
      if (key.startsWith("$")) throw new EngineError(`Field name ${key} starts with a '$', which is reserved.`);
    }
    if (baseTableName(table).startsWith("_")) return;
    const schema = this.schema;
    const ns = new Namespace(componentOfTableName(table));
    if (!schema || !this.schemaValidation.get(ns.componentPath)) return;
    const tableSchema = schema.tables.get(table);
    if (!tableSchema) {
      throw new EngineError(
        `Failed to insert or update a document in table "${table}" because it does not match the schema: table "${table}" is not declared in the schema.`,
      );
    }
    const { _id, _creationTime, ...fields } = value;
    void _id;
    void _creationTime;
    const problem = checkValue(tableSchema.documentType, fields as Value, this.tableNameIn(ns.componentPath));
    if (problem !== null) {
      throw new EngineError(
        `Failed to insert or update a document in table "${table}" because it does not match the schema: ${problem}`,
      );
    }
  }

  private tableForId(op: string, id: unknown, table: string | null | undefined): TableInfo {
    if (typeof id !== "string") throw new EngineError(`Invalid argument \`id\` for \`db.${op}\`: expected a string id`);
    const info = this.store.tableOfId(id);
    if (info === null) throw new EngineError(`Invalid argument \`id\` for \`db.${op}\`: ${JSON.stringify(id)} is not a document id`);
    if (table !== undefined && table !== null && info.name !== table) {
      throw new EngineError(wrongTableMessage(`db.${op}`, baseTableName(table), baseTableName(info.name)));
    }
    return info;
  }

  private existing(op: string, id: string): Record<string, Value> {
    const stored = this.store.getDocument(id);
    if (stored === null) throw new EngineError(`${op} on nonexistent document ID ${id}`);
    return jsonToConvex(JSON.parse(stored.json)) as Record<string, Value>;
  }

  private assertWritable(table: string, system: boolean): void {
    if (baseTableName(table).startsWith("_") && !system) throw new EngineError("System tables (prefixed with `_`) are read-only.");
  }

  insertDocument(table: string, value: Record<string, Value>, system: boolean): string {
    if (typeof table !== "string" || !/^([A-Za-z][A-Za-z0-9_]*\/)*[A-Za-z_][A-Za-z0-9_]*$/.test(table)) {
      throw new EngineError(`Invalid table name ${JSON.stringify(table)}`);
    }
    this.assertWritable(table, system);
    if (!isPlainObject(value)) throw new EngineError("db.insert expects a document object");
    if ("_id" in value || "_creationTime" in value) {
      throw new EngineError("Provided document contains system fields (`_id` or `_creationTime`); Convex sets them.");
    }
    this.validateDocument(table, value);
    const info = this.store.ensureTable(table);
    const document: Record<string, Value> = { _id: this.store.newId(info), _creationTime: this.store.nextCreationTime(this.now()) };
    for (const [key, field] of Object.entries(value)) if (field !== undefined) document[key] = field;
    const json = convexToJson(document);
    this.lastWriteSize = limits.checkDocumentLimits(json);
    this.store.insert(info, document, json);
    return document._id as string;
  }

  patchDocument(table: string | undefined, id: string, patch: Record<string, JSONValue>, system: boolean): void {
    const info = this.tableForId("patch", id, table);
    this.assertWritable(info.name, system);
    if (!isPlainObject(patch)) throw new EngineError("db.patch expects an object of fields");
    const old = this.existing("Patch", id);
    const next: Record<string, Value> = { ...old };
    for (const [key, json] of Object.entries(patch)) {
      const isUndefined = isPlainObject(json) && "$undefined" in json;
      const value = isUndefined ? undefined : jsonToConvex(json);
      if (key === "_id" || key === "_creationTime") {
        if (value !== undefined && value !== old[key]) throw new EngineError(systemFieldMismatch(key, old, value));
        continue;
      }
      if (value === undefined) delete next[key];
      else next[key] = value;
    }
    this.validateDocument(info.name, next);
    const json = convexToJson(next);
    this.lastWriteSize = limits.checkDocumentLimits(json);
    this.store.replace(info, old, next, json);
  }

  replaceDocument(table: string | undefined, id: string, value: Record<string, Value>, system: boolean): void {
    const info = this.tableForId("replace", id, table);
    this.assertWritable(info.name, system);
    if (!isPlainObject(value)) throw new EngineError("db.replace expects a document object");
    const old = this.existing("Replace", id);
    for (const key of ["_id", "_creationTime"] as const) {
      if (value[key] !== undefined && value[key] !== old[key]) throw new EngineError(systemFieldMismatch(key, old, value[key]));
    }
    const next: Record<string, Value> = { _id: old._id, _creationTime: old._creationTime };
    for (const [key, field] of Object.entries(value)) {
      if (key !== "_id" && key !== "_creationTime" && field !== undefined) next[key] = field;
    }
    this.validateDocument(info.name, next);
    const json = convexToJson(next);
    this.lastWriteSize = limits.checkDocumentLimits(json);
    this.store.replace(info, old, next, json);
  }

  deleteDocument(table: string | undefined, id: string, system: boolean): void {
    const info = this.tableForId("delete", id, table);
    this.assertWritable(info.name, system);
    const old = this.existing("Delete", id);
    this.store.delete(info, old);
  }

  /** A document of `table` by id (null if absent or of another table), tracking the read. */
  /** Exact vector search over the table's current documents (actions, outside transactions). */
  vectorSearch(query: VectorQuery): { _id: string; _score: number }[] {
    const dot = query.indexName.indexOf(".");
    const [table, name] = [query.indexName.slice(0, dot), query.indexName.slice(dot + 1)];
    const index = this.schema?.vectorIndexes.find((candidate) => candidate.table === table && candidate.name === name);
    if (!index) {
      const otherKind = this.store.table(table)?.indexes.has(name) || this.search.find(table, name) !== undefined;
      throw new EngineError(otherKind ? `Index ${query.indexName} is not a vector index` : `Index ${query.indexName} not found.`);
    }
    const rows = this.store.scan(`${table}.${BY_CREATION_TIME}`, Buffer.alloc(0), Buffer.from([0xff]), "asc", Number.MAX_SAFE_INTEGER);
    return vectorSearch(index, query, rows.map((row) => jsonToConvex(JSON.parse(row.value)) as Record<string, Value>));
  }

  readDocument(table: string, id: string, readSet: ReadSetBuilder | null, store = this.store): Record<string, Value> | null {
    const info = typeof id === "string" ? store.tableOfId(id) : null;
    if (info === null || info.name !== table) return null;
    const key = encodeValue(id);
    readSet?.add(`${table}.${BY_ID}`, key, justAfter(key));
    const stored = store.getDocument(id);
    return stored === null ? null : (jsonToConvex(JSON.parse(stored.json)) as Record<string, Value>);
  }

  // ---- scheduling from actions ------------------------------------------------------------

  async scheduleFromOutside(udfPath: string, args: JSONValue, scheduledTime: number, table = SCHEDULED_FUNCTIONS): Promise<JSONValue> {
    return await this.enqueueWrite(() => this.scheduler.scheduleInTransaction(udfPath, args, scheduledTime, table));
  }

  async cancelFromOutside(id: string, table = SCHEDULED_FUNCTIONS): Promise<void> {
    await this.enqueueWrite(() => this.scheduler.cancelInTransaction(id, table));
  }

  // ---- file storage --------------------------------------------------------------------

  storageDir(): string {
    return path.join(this.options.dataDir, "storage");
  }

  blobPath(storageId: string): string {
    if (!/^[0-9a-z]+$/.test(storageId)) throw new EngineError(`Invalid storage id ${JSON.stringify(storageId)}`);
    return path.join(this.storageDir(), storageId);
  }

  /** Writes the blob file, then its `_storage` document (in the running transaction). */
  storeBytesInTransaction(bytes: Uint8Array, contentType: string | null, table: string = STORAGE_TABLE): string {
    const sha256 = createHash("sha256").update(bytes).digest("base64");
    this.store.ensureTable(table);
    const id = this.insertDocument(
      table,
      { sha256, size: bytes.byteLength, ...(contentType ? { contentType } : {}) },
      true,
    );
    writeFileSync(this.blobPath(id), bytes, { flush: true });
    return id;
  }

  /**
   * Stores a blob in the file storage of `table` (a component's own `_storage`), or of the
   * component whose upload URL carried `token` (a string naming no issued token: the app's).
   */
  async storeFile(bytes: Uint8Array, contentType: string | null, tableOrToken?: string | null): Promise<string> {
    const table = tableOrToken?.endsWith(STORAGE_TABLE) ? tableOrToken : new Namespace(this.uploadTokens.get(tableOrToken ?? "") ?? ROOT).physical(STORAGE_TABLE);
    if (tableOrToken) this.uploadTokens.delete(tableOrToken);
    return await this.enqueueWrite(() => this.storeBytesInTransaction(bytes, contentType, table));
  }

  /** Upload URLs remember the component that asked for them (in memory: local use). */
  private readonly uploadTokens = new Map<string, string>();

  uploadToken(componentPath: string): string {
    const token = randomBytes(16).toString("hex");
    if (componentPath !== ROOT) {
      if (this.uploadTokens.size >= 10_000) this.uploadTokens.delete(this.uploadTokens.keys().next().value as string);
      this.uploadTokens.set(token, componentPath);
    }
    return token;
  }

  /** A stored file of any component, by id (the URLs `getUrl` hands out). */
  async getStoredFile(storageId: string): Promise<StoredFile | null> {
    const table = this.store.tableOfId(storageId)?.name;
    if (table === undefined || baseTableName(table) !== STORAGE_TABLE) return null;
    const document = await this.readOutside(() => this.readDocument(table, storageId, null));
    if (document === null) return null;
    return {
      storageId,
      path: this.blobPath(storageId),
      contentType: (document.contentType as string | undefined) ?? null,
      size: document.size as number,
      sha256: document.sha256 as string,
    };
  }

  deleteStoredFileInTransaction(storageId: string, table: string = STORAGE_TABLE): void {
    const document = this.readDocument(table, storageId, null);
    if (document === null) throw new EngineError(`Storage file ${storageId} does not exist`);
    this.deleteDocument(table, storageId, true);
    // The blob is removed with the document; a crash in between leaves an unreferenced file.
    const file = this.blobPath(storageId);
    if (existsSync(file)) rmSync(file);
  }

  async deleteStoredFile(storageId: string, table: string = STORAGE_TABLE): Promise<void> {
    await this.enqueueWrite(() => this.deleteStoredFileInTransaction(storageId, table));
  }

  // ---- Engine contract -------------------------------------------------------------------

  latestTs(): Timestamp {
    return this.lastTs;
  }

  onCommit(listener: (commit: Commit) => void): () => void {
    this.commitListeners.add(listener);
    return () => this.commitListeners.delete(listener);
  }

  overlaps(readSet: ReadSet, writes: WriteSet): boolean {
    return overlapsImpl(readSet, writes);
  }

  authProviders(): AuthProviderConfig[] {
    const config = this.app.authConfig as { providers?: Record<string, unknown>[] } | null;
    if (!config) return [];
    if (!Array.isArray(config.providers)) throw new Error("auth.config.ts must default-export { providers: [...] }");
    return config.providers.map((provider, i) => {
      if (provider.type === "customJwt") {
        if (typeof provider.issuer !== "string" || typeof provider.jwks !== "string") {
          throw new Error(`auth.config.ts provider ${i}: customJwt needs string \`issuer\` and \`jwks\``);
        }
        const algorithm = provider.algorithm ?? "RS256";
        if (algorithm !== "RS256" && algorithm !== "ES256") {
          throw new Error(`auth.config.ts provider ${i}: algorithm must be RS256 or ES256`);
        }
        return {
          type: "customJwt" as const,
          issuer: provider.issuer,
          jwks: provider.jwks,
          algorithm,
          ...(typeof provider.applicationID === "string" ? { applicationID: provider.applicationID } : {}),
        };
      }
      if (typeof provider.domain !== "string") throw new Error(`auth.config.ts provider ${i}: OIDC needs a string \`domain\``);
      return {
        type: "oidc" as const,
        issuer: provider.domain,
        ...(typeof provider.applicationID === "string" ? { applicationID: provider.applicationID } : {}),
      };
    });
  }

  onReload(listener: () => void): () => void {
    this.reloadListeners.add(listener);
    return () => this.reloadListeners.delete(listener);
  }

  /** How many scheduled functions wait to run (state pending). */
  async pendingJobCount(): Promise<number> {
    return await this.readOutside(() => this.scheduler.pendingCount());
  }

  /** Resolves when every action started so far (including scheduled ones) has finished. */
  async idle(): Promise<void> {
    while (this.inFlightActions.size > 0 || this.scheduler.running() > 0) {
      await Promise.allSettled([...this.inFlightActions, this.scheduler.whenIdle()]);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.watcher?.close();
    if (this.reloadTimer) realClearTimeout(this.reloadTimer);
    this.crons.stop();
    this.scheduler.stop();
    // Let queued work finish so nothing acknowledged is lost, then refuse new work.
    await this.enqueueRead(() => undefined);
    while (this.inFlightQueries.size > 0) await Promise.allSettled([...this.inFlightQueries]);
    this.closed = true;
    this.dropReaders();
    this.store.close();
    runtime().envs.delete(this.engineId);
    for (const path of this.components.keys()) runtime().envs.delete(this.envKey(path));
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /** The scheduled-functions readset helper for tests: everything of a table. */
  static emptyReadSet(): ReadSet {
    return emptyReadSet();
  }
}
