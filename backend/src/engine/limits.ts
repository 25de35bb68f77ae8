/**
 * Convex's per-transaction and per-value limits, with the messages the Convex backend uses
 * (get-convex/convex-backend: database/src/reads.rs, writes.rs, common/src/knobs.rs,
 * common/src/document.rs, value/src/size.rs, udf/src/helpers.rs, isolate/src/helpers.rs).
 *
 * Sizes follow `getConvexSize` / `getDocumentSize` of `convex/values`, computed here on the
 * Convex-JSON form the engine stores, so a document is never decoded only to be measured.
 */
import type { JSONValue } from "convex/values";
import { EngineError } from "./errors.js";

const MiB = 1 << 20;

/** The budgets `ctx.meta.getTransactionMetrics()` reports and nested calls may lower. */
export interface TransactionLimitsConfig {
  bytesRead: number;
  bytesWritten: number;
  databaseQueries: number;
  documentsRead: number;
  documentsWritten: number;
  functionsScheduled: number;
  scheduledFunctionArgsBytes: number;
}

export const DEFAULT_TRANSACTION_LIMITS: TransactionLimitsConfig = {
  bytesRead: 16 * MiB, // TRANSACTION_MAX_READ_SIZE_BYTES
  bytesWritten: 16 * MiB, // TRANSACTION_MAX_USER_WRITE_SIZE_BYTES
  databaseQueries: 4096, // TRANSACTION_MAX_READ_SET_INTERVALS
  documentsRead: 32_000, // TRANSACTION_MAX_READ_SIZE_ROWS
  documentsWritten: 16_000, // TRANSACTION_MAX_NUM_USER_WRITES
  functionsScheduled: 1000, // TRANSACTION_MAX_NUM_SCHEDULED
  scheduledFunctionArgsBytes: 16 * MiB, // TRANSACTION_MAX_SCHEDULED_TOTAL_ARGUMENT_SIZE_BYTES
};

export const LIMIT_KEYS = Object.keys(DEFAULT_TRANSACTION_LIMITS) as (keyof TransactionLimitsConfig)[];
const READ_KEYS: (keyof TransactionLimitsConfig)[] = ["bytesRead", "documentsRead", "databaseQueries"];

/** MAX_USER_SIZE: one document. */
export const MAX_DOCUMENT_SIZE = MiB;
/** MAX_DOCUMENT_NESTING. */
export const MAX_DOCUMENT_NESTING = 16;
/** MAX_NESTING of any value (arguments, return values). */
export const MAX_VALUE_NESTING = 64;
/** FUNCTION_MAX_ARGS_SIZE and FUNCTION_MAX_RESULT_SIZE. */
export const MAX_FUNCTION_ARGS_SIZE = 16 * MiB;
export const MAX_FUNCTION_RESULT_SIZE = 16 * MiB;

const OVER_LIMIT_HELP =
  "Consider using smaller limits in your queries, paginating your queries, or using indexed queries with a selective index range expressions.";

/** A transaction-limit failure; a paginated query can end its page early on these instead. */
export class TransactionLimitError extends EngineError {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Layer {
  used: TransactionLimitsConfig;
  limits: TransactionLimitsConfig;
}

function zero(): TransactionLimitsConfig {
  return { bytesRead: 0, bytesWritten: 0, databaseQueries: 0, documentsRead: 0, documentsWritten: 0, functionsScheduled: 0, scheduledFunctionArgsBytes: 0 };
}

/**
 * Usage of one transaction, as a stack of layers: a nested ctx.runQuery/runMutation pushes a
 * layer that starts from the parent's usage and may lower (never raise) its budgets. On
 * success the child's usage becomes the parent's; on rollback only its reads stay counted.
 */
export class TransactionMetrics {
  private readonly layers: Layer[];

  constructor(limits: TransactionLimitsConfig = DEFAULT_TRANSACTION_LIMITS) {
    this.layers = [{ used: zero(), limits: { ...limits } }];
  }

  private top(): Layer {
    return this.layers[this.layers.length - 1];
  }

  /** Starts a nested call with its optional `transactionLimits`. */
  push(requested?: Partial<Record<keyof TransactionLimitsConfig, unknown>> | null): void {
    const parent = this.top();
    const limits = { ...parent.limits };
    for (const key of LIMIT_KEYS) {
      const wanted = requested?.[key];
      if (typeof wanted === "number" && Number.isFinite(wanted) && wanted >= 0) {
        limits[key] = Math.min(parent.limits[key], parent.used[key] + wanted);
      }
    }
    this.layers.push({ used: { ...parent.used }, limits });
  }

  commit(): void {
    if (this.layers.length < 2) return;
    const child = this.layers.pop()!;
    this.top().used = child.used;
  }

  rollback(): void {
    if (this.layers.length < 2) return;
    const child = this.layers.pop()!;
    for (const key of READ_KEYS) this.top().used[key] = child.used[key];
  }

  read(bytes: number): void {
    const { used, limits } = this.top();
    used.documentsRead += 1;
    used.bytesRead += bytes;
    if (used.documentsRead > limits.documentsRead) {
      throw new TransactionLimitError(
        "TooManyDocumentsRead",
        `Too many documents read in a single function execution (limit: ${limits.documentsRead}). ${OVER_LIMIT_HELP}`,
      );
    }
    if (used.bytesRead > limits.bytesRead) {
      throw new TransactionLimitError(
        "TooManyBytesRead",
        `Too many bytes read in a single function execution (limit: ${limits.bytesRead} bytes). ${OVER_LIMIT_HELP}`,
      );
    }
  }

  /** Whether reading one more document of `bytes` would go over a read budget. */
  wouldExceedRead(bytes: number, extraBytesBudget = Infinity): boolean {
    const { used, limits } = this.top();
    return (
      used.documentsRead + 1 > limits.documentsRead ||
      used.bytesRead + bytes > limits.bytesRead ||
      bytes > extraBytesBudget
    );
  }

  indexRange(): void {
    const { used, limits } = this.top();
    used.databaseQueries += 1;
    if (used.databaseQueries > limits.databaseQueries) {
      throw new TransactionLimitError(
        "TooManyReads",
        `Too many reads in a single function execution (limit: ${limits.databaseQueries}). ${OVER_LIMIT_HELP}`,
      );
    }
  }

  write(bytes: number): void {
    const { used, limits } = this.top();
    used.documentsWritten += 1;
    used.bytesWritten += bytes;
    if (used.documentsWritten > limits.documentsWritten) {
      throw new TransactionLimitError(
        "TooManyWrites",
        `Too many writes in a single function execution (limit: ${limits.documentsWritten})`,
      );
    }
    if (used.bytesWritten > limits.bytesWritten) {
      throw new TransactionLimitError(
        "TooManyBytesWritten",
        `Too many bytes written in a single function execution (limit: ${formatBytes(limits.bytesWritten)})`,
      );
    }
  }

  scheduled(argsBytes: number): void {
    const { used, limits } = this.top();
    used.functionsScheduled += 1;
    used.scheduledFunctionArgsBytes += argsBytes;
    if (used.functionsScheduled > limits.functionsScheduled) {
      throw new TransactionLimitError(
        "TooManyFunctionsScheduled",
        `Too many functions scheduled by this mutation (limit: ${limits.functionsScheduled})`,
      );
    }
    if (used.scheduledFunctionArgsBytes > limits.scheduledFunctionArgsBytes) {
      throw new TransactionLimitError(
        "ScheduledFunctionsArgumentsTooLarge",
        `Too large total size of the arguments of scheduled functions from this mutation (limit: ${formatBytes(limits.scheduledFunctionArgsBytes)})`,
      );
    }
  }

  /** What `ctx.meta.getTransactionMetrics()` returns. */
  report(): Record<keyof TransactionLimitsConfig, { used: number; remaining: number }> {
    const { used, limits } = this.top();
    const out = {} as Record<keyof TransactionLimitsConfig, { used: number; remaining: number }>;
    for (const key of LIMIT_KEYS) out[key] = { used: used[key], remaining: limits[key] - used[key] };
    return out;
  }
}

/** Convex's limits lowered by `overrides` (never raised). */
export function limitsWith(overrides: Partial<TransactionLimitsConfig> | undefined): TransactionLimitsConfig {
  const limits = { ...DEFAULT_TRANSACTION_LIMITS };
  for (const key of LIMIT_KEYS) {
    const value = overrides?.[key];
    if (typeof value === "number" && Number.isFinite(value) && value >= 0) limits[key] = value;
  }
  return limits;
}

// ---- sizes and nesting ---------------------------------------------------------------------

function utf8Length(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

function base64Length(text: string): number {
  const padding = text.endsWith("==") ? 2 : text.endsWith("=") ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}

/** `getConvexSize` of the value whose Convex-JSON form is `json`. */
export function convexJsonSize(json: JSONValue | undefined): number {
  if (json === undefined) return 0;
  if (json === null || typeof json === "boolean") return 1;
  if (typeof json === "number") return 9;
  if (typeof json === "string") return 2 + utf8Length(json);
  if (Array.isArray(json)) {
    let size = 2;
    for (const element of json) size += convexJsonSize(element);
    return size;
  }
  const keys = Object.keys(json);
  if (keys.length === 1) {
    const only = keys[0];
    if (only === "$integer" || only === "$float") return 9;
    if (only === "$bytes") return 2 + base64Length(json.$bytes as string);
  }
  let size = 2;
  for (const key of keys) {
    const value = json[key];
    if (value === undefined) continue;
    size += utf8Length(key) + 1 + convexJsonSize(value);
  }
  return size;
}

/** Convex's nesting of a value: 0 for primitives, one more per array or object level. */
export function convexJsonNesting(json: JSONValue | undefined): number {
  if (json === null || json === undefined || typeof json !== "object") return 0;
  if (Array.isArray(json)) {
    let deepest = 0;
    for (const element of json) deepest = Math.max(deepest, convexJsonNesting(element));
    return deepest + 1;
  }
  const keys = Object.keys(json);
  if (keys.length === 1 && (keys[0] === "$integer" || keys[0] === "$float" || keys[0] === "$bytes")) return 0;
  let deepest = 0;
  for (const key of keys) deepest = Math.max(deepest, convexJsonNesting(json[key]));
  return deepest + 1;
}

/** humansize's BINARY format, as the backend prints sizes ("16 MiB", "1.5 KiB", "512 B"). */
export function formatBytes(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const text = unit === 0 ? String(value) : value.toFixed(2).replace(/\.?0+$/, "");
  return `${text} ${units[unit]}`;
}

/** A document about to be written: at most 1 MiB and 16 levels deep. */
export function checkDocumentLimits(document: JSONValue): number {
  const nesting = convexJsonNesting(document);
  if (nesting > MAX_DOCUMENT_NESTING) {
    throw new EngineError(`Document is too nested (nested ${nesting} levels deep > maximum nesting ${MAX_DOCUMENT_NESTING})`);
  }
  const size = convexJsonSize(document);
  if (size > MAX_DOCUMENT_SIZE) {
    throw new EngineError(`Value is too large (${formatBytes(size)} > maximum size ${formatBytes(MAX_DOCUMENT_SIZE)})`);
  }
  return size;
}

function checkNesting(json: JSONValue): void {
  const nesting = convexJsonNesting(json);
  if (nesting > MAX_VALUE_NESTING) {
    throw new EngineError(`Value is too nested (nested ${nesting} levels deep > maximum nesting ${MAX_VALUE_NESTING})`);
  }
}

/** A function's arguments (the positional array, as Convex measures them). */
export function checkArgumentsLimits(path: string, args: JSONValue[]): void {
  checkNesting(args);
  const size = convexJsonSize(args);
  if (size > MAX_FUNCTION_ARGS_SIZE) {
    throw new EngineError(
      `Arguments for ${path} are too large (actual: ${formatBytes(size)}, limit: ${formatBytes(MAX_FUNCTION_ARGS_SIZE)})`,
    );
  }
}

/** A function's return value. */
export function checkResultLimits(path: string, value: JSONValue): void {
  checkNesting(value);
  const size = convexJsonSize(value);
  if (size > MAX_FUNCTION_RESULT_SIZE) {
    throw new EngineError(
      `Function ${path} return value is too large (actual: ${formatBytes(size)}, limit: ${formatBytes(MAX_FUNCTION_RESULT_SIZE)})`,
    );
  }
}
