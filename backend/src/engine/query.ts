/**
 * Query execution over the store: index ranges to key bounds, filter expressions,
 * streaming with read tracking, and pagination with stable key cursors.
 */
import { compareValues, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { displayValue } from "./errors.js";
import { afterPrefix, encodeTuple, encodeValue, justAfter } from "./keys.js";
import { BY_CREATION_TIME, BY_ID, builtInIndexes, fieldValue, type IndexDefinition, type Store } from "./store.js";
import type { ReadSetBuilder } from "./reactivity.js";

export type Order = "asc" | "desc";

interface RangeExpression {
  type: "Eq" | "Gt" | "Gte" | "Lt" | "Lte";
  fieldPath: string;
  value: JSONValue;
}

export type FilterExpression = Record<string, unknown>;

export interface QueryJson {
  source:
    | { type: "FullTableScan"; tableName: string; order: Order | null }
    | { type: "IndexRange"; indexName: string; range: RangeExpression[]; order: Order | null }
    | { type: "Search"; indexName: string; filters: unknown[] };
  operators: ({ filter: FilterExpression } | { limit: number })[];
}

/** A resolved query: one key range of one index, an order, filters and a limit. */
export interface PlannedQuery {
  table: string;
  index: string; // "table.index"
  lower: Buffer;
  upper: Buffer;
  order: Order;
  filters: FilterExpression[];
  limit: number | null;
}

export class QueryError extends Error {}

/** Decodes a range or literal value (`{$undefined: null}` is undefined). */
function decodeQueryValue(json: JSONValue): Value | undefined {
  if (json !== null && typeof json === "object" && !Array.isArray(json) && "$undefined" in json) return undefined;
  if (json !== null && typeof json === "object" && !Array.isArray(json) && "$commitTs" in json) {
    throw new QueryError("Commit timestamp placeholders are not supported by the local backend");
  }
  return jsonToConvex(json);
}

export type IndexLookup = (table: string, index: string) => IndexDefinition | undefined;

export function indexLookupFor(store: Store, schemaIndexes: Map<string, IndexDefinition[]>): IndexLookup {
  return (table, indexName) => {
    const builtIn = builtInIndexes().find((index) => index.name === indexName);
    if (builtIn) return builtIn;
    return (
      store.table(table)?.indexes.get(indexName) ?? schemaIndexes.get(table)?.find((index) => index.name === indexName)
    );
  };
}

function rangeBounds(fields: string[], range: RangeExpression[], indexLabel: string): { lower: Buffer; upper: Buffer } {
  const eqValues: (Value | undefined)[] = [];
  let lowerBound: { inclusive: boolean; value: Value | undefined } | null = null;
  let upperBound: { inclusive: boolean; value: Value | undefined } | null = null;
  let boundField: string | null = null;
  for (const expression of range) {
    const value = decodeQueryValue(expression.value);
    if (expression.type === "Eq") {
      if (lowerBound || upperBound) {
        throw new QueryError(`Incorrect operator used in \`withIndex\` on ${indexLabel}: \`.eq\` cannot follow a range bound`);
      }
      const expected = fields[eqValues.length];
      if (expression.fieldPath !== expected) {
        throw new QueryError(
          `Incorrect field used in \`withIndex\` on ${indexLabel}: expected "${expected}", got "${expression.fieldPath}"`,
        );
      }
      eqValues.push(value);
      continue;
    }
    const expected: string = boundField ?? fields[eqValues.length];
    if (expression.fieldPath !== expected) {
      throw new QueryError(
        `Incorrect field used in \`withIndex\` on ${indexLabel}: expected "${expected}", got "${expression.fieldPath}"`,
      );
    }
    boundField = expected;
    const isLower = expression.type === "Gt" || expression.type === "Gte";
    const bound = { inclusive: expression.type === "Gte" || expression.type === "Lte", value };
    if ((isLower ? lowerBound : upperBound) !== null) {
      // Convex's text (crates/common query.rs already_defined_bound_error).
      const comparator = { Gt: ">", Gte: ">=", Lt: "<", Lte: "<=" }[expression.type];
      throw new QueryError(
        `Already defined ${isLower ? "lower" : "upper"} bound in index range. ` +
          `Can't add ${JSON.stringify(expression.fieldPath)} ${comparator} ${displayValue(value)}.`,
      );
    }
    if (isLower) lowerBound = bound;
    else upperBound = bound;
  }
  const prefix = encodeTuple(eqValues);
  let lower = prefix;
  let upper = afterPrefix(prefix);
  if (lowerBound) {
    const key = Buffer.concat([prefix, encodeValue(lowerBound.value)]);
    lower = lowerBound.inclusive ? key : afterPrefix(key);
  }
  if (upperBound) {
    const key = Buffer.concat([prefix, encodeValue(upperBound.value)]);
    upper = upperBound.inclusive ? afterPrefix(key) : key;
  }
  return { lower, upper };
}

export function planQuery(query: QueryJson, lookup: IndexLookup): PlannedQuery {
  const filters: FilterExpression[] = [];
  let limit: number | null = null;
  for (const operator of query.operators) {
    if ("filter" in operator) filters.push(operator.filter);
    else if ("limit" in operator) limit = limit === null ? operator.limit : Math.min(limit, operator.limit);
  }
  const source = query.source;
  if (source.type === "Search") {
    throw new QueryError(`Search index queries (${source.indexName}) are not supported by the local backend`);
  }
  if (source.type === "FullTableScan") {
    return {
      table: source.tableName,
      index: `${source.tableName}.${BY_CREATION_TIME}`,
      lower: Buffer.alloc(0),
      upper: afterPrefix(Buffer.alloc(0)),
      order: source.order ?? "asc",
      filters,
      limit,
    };
  }
  const dot = source.indexName.indexOf(".");
  const table = source.indexName.slice(0, dot);
  const indexName = source.indexName.slice(dot + 1);
  const index = lookup(table, indexName);
  if (!index) {
    throw new QueryError(`Index ${source.indexName} not found. Declare it in the schema before using it in \`withIndex\`.`);
  }
  const { lower, upper } = rangeBounds(index.fields, source.range, source.indexName);
  return { table, index: source.indexName, lower, upper, order: source.order ?? "asc", filters, limit };
}

// ---- filters ---------------------------------------------------------------------------

function arithmetic(op: string, a: Value | undefined, b: Value | undefined): Value {
  if (typeof a === "number" && typeof b === "number") {
    switch (op) {
      case "$add": return a + b;
      case "$sub": return a - b;
      case "$mul": return a * b;
      case "$div": return a / b;
      case "$mod": return a % b;
    }
  }
  if (typeof a === "bigint" && typeof b === "bigint") {
    switch (op) {
      case "$add": return BigInt.asIntN(64, a + b);
      case "$sub": return BigInt.asIntN(64, a - b);
      case "$mul": return BigInt.asIntN(64, a * b);
      case "$div": if (b === 0n) throw new QueryError("Division by zero in a filter"); return a / b;
      case "$mod": if (b === 0n) throw new QueryError("Division by zero in a filter"); return a % b;
    }
  }
  throw new QueryError(`Cannot apply ${op.slice(1)} to ${typeof a} and ${typeof b} in a filter`);
}

export function evaluateFilter(expression: FilterExpression, document: Record<string, Value>): Value | undefined {
  const [op] = Object.keys(expression);
  const operand = expression[op] as unknown;
  switch (op) {
    case "$field":
      return fieldValue(document, operand as string);
    case "$literal":
      return decodeQueryValue(operand as JSONValue);
    case "$eq":
    case "$neq":
    case "$lt":
    case "$lte":
    case "$gt":
    case "$gte": {
      const [l, r] = operand as FilterExpression[];
      const cmp = compareValues(evaluateFilter(l, document), evaluateFilter(r, document));
      if (op === "$eq") return cmp === 0;
      if (op === "$neq") return cmp !== 0;
      if (op === "$lt") return cmp < 0;
      if (op === "$lte") return cmp <= 0;
      if (op === "$gt") return cmp > 0;
      return cmp >= 0;
    }
    case "$and":
      return (operand as FilterExpression[]).every((child) => evaluateFilter(child, document) === true);
    case "$or":
      return (operand as FilterExpression[]).some((child) => evaluateFilter(child, document) === true);
    case "$not":
      return evaluateFilter(operand as FilterExpression, document) !== true;
    case "$neg": {
      const value = evaluateFilter(operand as FilterExpression, document);
      if (typeof value === "number") return -value;
      if (typeof value === "bigint") return BigInt.asIntN(64, -value);
      throw new QueryError(`Cannot negate ${typeof value} in a filter`);
    }
    case "$add":
    case "$sub":
    case "$mul":
    case "$div":
    case "$mod": {
      const [l, r] = operand as FilterExpression[];
      return arithmetic(op, evaluateFilter(l, document), evaluateFilter(r, document));
    }
    default:
      throw new QueryError(`Unsupported filter expression ${JSON.stringify(expression)}`);
  }
}

function passesFilters(filters: FilterExpression[], json: string): boolean {
  if (filters.length === 0) return true;
  const document = jsonToConvex(JSON.parse(json)) as Record<string, Value>;
  return filters.every((filter) => evaluateFilter(filter, document) === true);
}

// ---- streaming -------------------------------------------------------------------------

interface Row {
  key: Buffer;
  id: string;
  value: string;
}

/**
 * Walks one key range in order. Records into the read set only what it actually consumed:
 * the whole range when exhausted, otherwise up to (and including) the last key it returned.
 */
export class QueryStream {
  private buffer: Row[] = [];
  private bufferVersion = -1;
  /** Next unread position: for asc the inclusive lower bound, for desc the exclusive upper. */
  private position: Buffer;
  private exhausted = false;
  private returned = 0;
  private finished = false;
  private batchSize = 16;

  constructor(
    private readonly store: Store,
    readonly plan: PlannedQuery,
    private readonly readSet: ReadSetBuilder | null,
  ) {
    this.position = plan.order === "asc" ? plan.lower : plan.upper;
  }

  private fetch(): void {
    const { plan } = this;
    const remaining = plan.limit === null ? Infinity : plan.limit - this.returned;
    const size = plan.filters.length === 0 ? Math.min(remaining, this.batchSize) : this.batchSize;
    this.batchSize = Math.min(this.batchSize * 4, 1024);
    const [lower, upper] = plan.order === "asc" ? [this.position, plan.upper] : [plan.lower, this.position];
    if (Buffer.compare(lower, upper) >= 0) {
      this.buffer = [];
    } else {
      this.buffer = this.store.scan(plan.index, lower, upper, plan.order, Math.max(1, size));
    }
    this.bufferVersion = this.store.writeVersion;
    if (this.buffer.length < size) this.exhausted = true;
    this.buffer.reverse(); // pop() from the end
  }

  /** The next row of the range (ignoring filters and limit), or null at its end. */
  nextRow(): Row | null {
    if (this.bufferVersion !== this.store.writeVersion) {
      // Writes happened since the prefetch (inside a mutation): re-read from the position.
      this.buffer = [];
      this.exhausted = false;
    }
    if (this.buffer.length === 0) {
      if (this.exhausted) return null;
      this.fetch();
      if (this.buffer.length === 0) return null;
    }
    const row = this.buffer.pop()!;
    this.position = this.plan.order === "asc" ? justAfter(row.key) : row.key;
    return row;
  }

  /** The next matching document's JSON text, or null at the end. */
  next(): string | null {
    if (this.finished) return null;
    const { plan } = this;
    while (plan.limit === null || this.returned < plan.limit) {
      const row = this.nextRow();
      if (row === null) break;
      if (passesFilters(plan.filters, row.value)) {
        this.returned++;
        return row.value;
      }
    }
    this.finish();
    return null;
  }

  /** Records what was read; idempotent. */
  finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.readSet) return;
    const { plan } = this;
    const ranOut = this.exhausted && this.buffer.length === 0 && this.bufferVersion === this.store.writeVersion;
    if (plan.order === "asc") this.readSet.add(plan.index, plan.lower, ranOut ? plan.upper : this.position);
    else this.readSet.add(plan.index, ranOut ? plan.lower : this.position, plan.upper);
  }
}

// ---- pagination ------------------------------------------------------------------------

/** Cursors are "the position just after this index key", base64url-encoded with a tag. */
const CURSOR_PREFIX = "k1_";

export function encodeCursor(key: Buffer): string {
  return CURSOR_PREFIX + key.toString("base64url");
}

export function decodeCursor(cursor: string): Buffer {
  if (typeof cursor !== "string" || !cursor.startsWith(CURSOR_PREFIX)) {
    // Convex's answer to a cursor it cannot decrypt (keybroker cursor_parse_error).
    throw new QueryError("Failed to parse cursor");
  }
  return Buffer.from(cursor.slice(CURSOR_PREFIX.length), "base64url");
}

export interface PageRequest {
  cursor: string | null;
  endCursor: string | null;
  pageSize: number;
  maximumRowsRead: number | null;
  /** Soft byte budget of the page: once reached, the page ends with pageStatus SplitRequired. */
  maximumBytesRead?: number | null;
}

export interface PageResult {
  page: string[];
  isDone: boolean;
  continueCursor: string;
  splitCursor: string | null;
  pageStatus: "SplitRecommended" | "SplitRequired" | null;
}

function maxBuffer(a: Buffer, b: Buffer): Buffer {
  return Buffer.compare(a, b) >= 0 ? a : b;
}
function minBuffer(a: Buffer, b: Buffer): Buffer {
  return Buffer.compare(a, b) <= 0 ? a : b;
}

export function paginate(store: Store, plan: PlannedQuery, request: PageRequest, readSet: ReadSetBuilder | null): PageResult {
  // A cursor names a key position K: pages continue with keys after K (asc) or before K (desc).
  let { lower, upper } = plan;
  const asc = plan.order === "asc";
  if (request.cursor !== null) {
    const key = decodeCursor(request.cursor);
    if (asc) lower = maxBuffer(lower, justAfter(key));
    else upper = minBuffer(upper, key);
  }
  const bounded = request.endCursor !== null;
  if (request.endCursor !== null) {
    const key = decodeCursor(request.endCursor);
    if (asc) upper = minBuffer(upper, justAfter(key));
    else lower = maxBuffer(lower, key);
  }
  const stream = new QueryStream(store, { ...plan, lower, upper, filters: [], limit: null }, null);
  const page: string[] = [];
  const readKeys: Buffer[] = [];
  let pageStatus: PageResult["pageStatus"] = null;
  let stoppedEarly = false;
  let lastKey: Buffer | null = null;
  let bytesRead = 0;
  for (;;) {
    if (!bounded && page.length >= request.pageSize) {
      stoppedEarly = true;
      break;
    }
    if (request.maximumRowsRead !== null && readKeys.length >= request.maximumRowsRead) {
      stoppedEarly = true;
      pageStatus = "SplitRequired";
      break;
    }
    if (request.maximumBytesRead && bytesRead >= request.maximumBytesRead) {
      stoppedEarly = true;
      pageStatus = "SplitRequired";
      break;
    }
    const json = stream.nextRow();
    if (json === null) break;
    lastKey = json.key;
    readKeys.push(json.key);
    bytesRead += Buffer.byteLength(json.value);
    if (passesFilters(plan.filters, json.value)) page.push(json.value);
  }
  let continueCursor: string;
  let isDone: boolean;
  if (stoppedEarly && lastKey !== null) {
    continueCursor = encodeCursor(lastKey);
    isDone = false;
    if (readSet) {
      if (asc) readSet.add(plan.index, lower, justAfter(lastKey));
      else readSet.add(plan.index, lastKey, upper);
    }
  } else {
    isDone = !bounded;
    // The end of the scanned range as a position: as a cursor it yields nothing more, as an
    // endCursor it covers everything up to the range's end.
    continueCursor = bounded ? request.endCursor! : encodeCursor(asc ? upper : lower);
    readSet?.add(plan.index, lower, upper);
  }
  let splitCursor: string | null = null;
  if (readKeys.length >= 2 && (pageStatus === "SplitRequired" || readKeys.length > request.pageSize)) {
    splitCursor = encodeCursor(readKeys[Math.floor((readKeys.length - 1) / 2)]);
    if (pageStatus === null && readKeys.length > 2 * request.pageSize) pageStatus = "SplitRecommended";
  }
  return { page, isDone, continueCursor, splitCursor, pageStatus };
}

export { BY_ID };
