/**
 * Runs a `.withSearchIndex(...)` query: the search gives candidates in relevance order, each
 * is loaded (and its id recorded in the read set), then the query's `.filter`s and limit
 * apply, as Convex's SearchQuery stream does. Pages continue after the last candidate's
 * relevance key; Convex never splits a search page.
 */
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { encodeValue, justAfter } from "./keys.js";
import { evaluateFilter, type FilterExpression, type PageRequest, type PageResult, type QueryJson } from "./query.js";
import type { ReadSetBuilder } from "./reactivity.js";
import { MAX_CANDIDATE_REVISIONS, SearchError, type SearchCandidate, type SearchFilter, type SearchIndexes } from "./search.js";
import { BY_ID, type Store } from "./store.js";

type SearchSource = { type: "Search"; indexName: string; filters: unknown[] };

export function isSearchQuery(query: QueryJson): boolean {
  return query.source.type === "Search";
}

function decodeFilterValue(json: unknown): Value | undefined {
  if (json !== null && typeof json === "object" && !Array.isArray(json) && "$undefined" in json) return undefined;
  return jsonToConvex(json as JSONValue);
}

/** Cursors of search pages: "after this relevance key"; the end is a key after every key. */
const CURSOR_PREFIX = "s1_";
const END_KEY = Buffer.from([0xff]);

function encodeSearchCursor(key: Buffer): string {
  return CURSOR_PREFIX + key.toString("base64url");
}

function decodeSearchCursor(cursor: string): Buffer {
  if (typeof cursor !== "string" || !cursor.startsWith(CURSOR_PREFIX)) {
    throw new SearchError(`InvalidCursor: ${JSON.stringify(cursor)} is not a cursor returned by paginate() on this search query`);
  }
  return Buffer.from(cursor.slice(CURSOR_PREFIX.length), "base64url");
}

export class SearchQueryStream {
  private candidates: SearchCandidate[] | null = null;
  private nextIndex = 0;
  private returned = 0;
  private finished = false;
  private readonly table: string;
  private readonly filters: FilterExpression[] = [];
  private readonly limit: number | null = null;
  lastKey: Buffer | null = null;

  constructor(
    private readonly store: Store,
    private readonly indexes: SearchIndexes,
    query: QueryJson,
    private readonly readSet: ReadSetBuilder | null,
    private readonly after: Buffer | null = null,
    private readonly upTo: Buffer | null = null,
  ) {
    const source = query.source as SearchSource;
    this.table = source.indexName.slice(0, source.indexName.indexOf("."));
    for (const operator of query.operators) {
      if ("filter" in operator) this.filters.push(operator.filter);
      else if ("limit" in operator) this.limit = this.limit === null ? operator.limit : Math.min(this.limit, operator.limit);
    }
    this.source = source;
  }

  private readonly source: SearchSource;

  /** Runs the search on first use, as Convex does on the stream's first `next`. */
  private load(): SearchCandidate[] {
    if (this.candidates) return this.candidates;
    const { indexName } = this.source;
    const indexPart = indexName.slice(indexName.indexOf(".") + 1);
    const index = this.indexes.find(this.table, indexPart);
    if (!index) {
      if (this.store.table(this.table)?.indexes.has(indexPart)) throw new SearchError(`Index ${indexName} is not a search index`);
      throw new SearchError(`Index ${indexName} not found.`);
    }
    const { tokens, conditions } = this.indexes.compile(index, this.source.filters as SearchFilter[], decodeFilterValue);
    this.indexes.recordReads(index, tokens, conditions, this.readSet);
    this.candidates = this.indexes
      .search(index, tokens, conditions)
      .filter(
        (candidate) =>
          (this.after === null || Buffer.compare(candidate.key, this.after) > 0) &&
          (this.upTo === null || Buffer.compare(candidate.key, this.upTo) <= 0),
      );
    return this.candidates;
  }

  /** The next candidate's document JSON (before `.filter`s), or null when none is left. */
  nextRow(): string | null {
    const candidates = this.load();
    if (this.nextIndex === MAX_CANDIDATE_REVISIONS) {
      throw new SearchError(
        `Search query scanned too many documents (fetched ${MAX_CANDIDATE_REVISIONS}). Consider using a smaller limit, ` +
          "paginating the query, or using a filter field to limit the number of documents pulled from the search index.",
      );
    }
    const candidate = candidates[this.nextIndex];
    if (candidate === undefined) return null;
    this.nextIndex++;
    const key = encodeValue(candidate.id);
    this.readSet?.add(`${this.table}.${BY_ID}`, key, justAfter(key));
    const stored = this.store.getDocument(candidate.id);
    if (stored === null) throw new Error(`Unable to load search result ${candidate.id}: the search index is out of step`);
    this.lastKey = candidate.key;
    return stored.json;
  }

  passes(json: string): boolean {
    if (this.filters.length === 0) return true;
    const document = jsonToConvex(JSON.parse(json)) as Record<string, Value>;
    return this.filters.every((filter) => evaluateFilter(filter, document) === true);
  }

  next(): string | null {
    if (this.finished) return null;
    while (this.limit === null || this.returned < this.limit) {
      const json = this.nextRow();
      if (json === null) break;
      if (this.passes(json)) {
        this.returned++;
        return json;
      }
    }
    this.finish();
    return null;
  }

  finish(): void {
    this.finished = true;
  }
}

export function paginateSearch(
  store: Store,
  indexes: SearchIndexes,
  query: QueryJson,
  request: PageRequest,
  readSet: ReadSetBuilder | null,
): PageResult {
  const after = request.cursor === null ? null : decodeSearchCursor(request.cursor);
  const upTo = request.endCursor === null ? null : decodeSearchCursor(request.endCursor);
  const bounded = upTo !== null;
  const stream = new SearchQueryStream(store, indexes, query, readSet, after, upTo);
  const page: string[] = [];
  let rowsRead = 0;
  let stoppedEarly = false;
  let pageStatus: PageResult["pageStatus"] = null;
  for (;;) {
    if (!bounded && page.length >= request.pageSize) {
      stoppedEarly = true;
      break;
    }
    if (request.maximumRowsRead !== null && rowsRead >= request.maximumRowsRead) {
      stoppedEarly = true;
      pageStatus = "SplitRequired";
      break;
    }
    const json = stream.nextRow();
    if (json === null) break;
    rowsRead++;
    if (stream.passes(json)) page.push(json);
  }
  if (stoppedEarly && stream.lastKey !== null) {
    return { page, isDone: false, continueCursor: encodeSearchCursor(stream.lastKey), splitCursor: null, pageStatus };
  }
  return {
    page,
    isDone: !bounded,
    continueCursor: bounded ? request.endCursor! : encodeSearchCursor(END_KEY),
    splitCursor: null,
    pageStatus: null,
  };
}
