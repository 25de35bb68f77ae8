/**
 * Vector search (`vectorIndex(name, { vectorField, dimensions, filterFields })` and
 * `ctx.vectorSearch` in actions) by exact brute force: every document of the table whose
 * vector field is an array of `dimensions` numbers is scored by cosine similarity against the
 * query vector, best first. Convex uses an approximate (HNSW) index for large tables, so on
 * Convex a result list may differ from the exact one; here it is always exact, and the cost
 * is linear in the table's size (fine for a local backend, not for millions of vectors).
 *
 * Filters and limits follow Convex (crates/vector): `q.eq` / `q.or` over filter fields only,
 * and a document matches when ANY condition holds; at most 64 values; limit 1..256, default 10;
 * the query vector must have the index's dimensions. Ties keep creation order.
 */
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { compareValues } from "convex/values";
import { SearchError } from "./search.js";
import { fieldValue } from "./store.js";

export const MAX_VECTOR_RESULTS = 256;
export const DEFAULT_VECTOR_LIMIT = 10;
export const MAX_FILTER_LENGTH = 64;

export interface VectorIndexDefinition {
  table: string;
  name: string;
  vectorField: string;
  dimensions: number;
  filterFields: string[];
}

export interface VectorQuery {
  indexName: string;
  vector: number[];
  limit?: number | null;
  expressions: unknown;
}

type Condition = { fieldPath: string; values: (Value | undefined)[] };

function literal(json: unknown): Value | undefined {
  if (json !== null && typeof json === "object" && !Array.isArray(json) && "$undefined" in json) return undefined;
  return jsonToConvex(json as JSONValue);
}

/** Flattens a `q.eq`/`q.or` tree into field → accepted values, as Convex's assemble_filter_map. */
function conditionsOf(expression: unknown, into: Map<string, (Value | undefined)[]>): void {
  const node = expression as Record<string, unknown>;
  const [op] = Object.keys(node ?? {});
  if (op === "$eq") {
    const [left, right] = node.$eq as Record<string, unknown>[];
    if (left === undefined || right === undefined || !("$field" in left) || !("$literal" in right)) {
      throw new SearchError("`q.eq` must take a field path as its first argument and a value as its second");
    }
    const field = left.$field as string;
    into.set(field, [...(into.get(field) ?? []), literal(right.$literal)]);
    return;
  }
  if (op === "$or") {
    for (const child of node.$or as unknown[]) conditionsOf(child, into);
    return;
  }
  throw new SearchError("Filters should be a combination of `q.eq` and `q.or`.");
}

export function compileVectorFilter(index: VectorIndexDefinition, expressions: unknown): Condition[] {
  if (expressions === null || expressions === undefined) return [];
  const byField = new Map<string, (Value | undefined)[]>();
  conditionsOf(expressions, byField);
  let length = 0;
  const conditions: Condition[] = [];
  for (const [fieldPath, values] of byField) {
    if (!index.filterFields.includes(fieldPath)) {
      throw new SearchError(
        `Vector query against ${index.table}.${index.name} contains a filter on "${fieldPath}" but that field isn't ` +
          "indexed for filtering in `filterFields`.",
      );
    }
    const distinct = values.filter((value, i) => values.findIndex((other) => compareValues(other, value) === 0) === i);
    length += distinct.length;
    conditions.push({ fieldPath, values: distinct });
  }
  if (length > MAX_FILTER_LENGTH) {
    throw new SearchError(
      `Vector query against ${index.table}.${index.name} has too many conditions. Max: ${MAX_FILTER_LENGTH} Actual: ${length}`,
    );
  }
  return conditions;
}

function indexedVector(index: VectorIndexDefinition, document: Record<string, Value>): number[] | null {
  const value = fieldValue(document, index.vectorField);
  if (!Array.isArray(value) || value.length !== index.dimensions) return null;
  if (!value.every((element) => typeof element === "number")) return null;
  return value as number[];
}

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  let normA = 0;
  let normB = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    normA += a[i] * a[i];
    normB += b[i] * b[i];
  }
  if (normA === 0 || normB === 0) return 0;
  return Math.fround(dot / (Math.sqrt(normA) * Math.sqrt(normB)));
}

/** Checks the query and returns `{ _id, _score }` of the best matches. */
export function vectorSearch(
  index: VectorIndexDefinition,
  query: VectorQuery,
  documents: Iterable<Record<string, Value>>,
): { _id: string; _score: number }[] {
  const limit = query.limit ?? DEFAULT_VECTOR_LIMIT;
  if (limit > MAX_VECTOR_RESULTS) {
    throw new SearchError(`Vector queries can fetch at most ${MAX_VECTOR_RESULTS} results, requested ${limit}.`);
  }
  const conditions = compileVectorFilter(index, query.expressions);
  if (query.vector.length !== index.dimensions) {
    throw new SearchError(`Expected a vector with dimensions ${index.dimensions}, received ${query.vector.length}.`);
  }
  const scored: { _id: string; _score: number }[] = [];
  for (const document of documents) {
    const vector = indexedVector(index, document);
    if (vector === null) continue;
    const matches =
      conditions.length === 0 ||
      conditions.some(({ fieldPath, values }) =>
        values.some((value) => compareValues(fieldValue(document, fieldPath), value) === 0),
      );
    if (!matches) continue;
    scored.push({ _id: document._id as string, _score: cosine(query.vector, vector) });
  }
  // Array.prototype.sort is stable: equal scores keep the scan's creation order.
  scored.sort((a, b) => b._score - a._score);
  return scored.slice(0, Math.max(0, limit));
}

export function vectorIndexesOfSchema(
  tables: {
    tableName: string;
    vectorIndexes?: { indexDescriptor: string; vectorField: string; dimensions: number; filterFields: string[] }[];
  }[],
): VectorIndexDefinition[] {
  return tables.flatMap((table) =>
    (table.vectorIndexes ?? []).map((index) => ({
      table: table.tableName,
      name: index.indexDescriptor,
      vectorField: index.vectorField,
      dimensions: index.dimensions,
      filterFields: [...index.filterFields],
    })),
  );
}
