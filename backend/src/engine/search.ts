/**
 * Text search indexes as Convex has them (`searchIndex(name, { searchField, filterFields })`,
 * `.withSearchIndex(name, q => q.search(field, text).eq(field, value))`), kept in the same
 * SQLite file and transaction as the documents, so a search sees the transaction's own writes
 * and a rolled-back write leaves no trace in the index.
 *
 * Semantics follow Convex's Tantivy-based search (get-convex/convex-backend, crates/search):
 * - text is split into runs of Unicode letters and digits (Tantivy's SimpleTokenizer), tokens
 *   of 32 bytes or more are dropped, the rest lowercased character by character;
 * - a query keeps its first 16 tokens; a document matches when it contains at least one of
 *   them (OR) and every `.eq` filter; the LAST token also matches as a prefix (typeahead),
 *   earlier tokens only exactly; there is no fuzzy matching (Convex dropped it in 2025);
 * - relevance is Tantivy's BM25 (k1 = 1.2, b = 0.75, document lengths quantised as
 *   Tantivy's fieldnorms), a prefix match scoring half an exact one; at most 64 distinct
 *   terms take part (exact matches first, then prefix matches in byte order);
 * - results are ordered by score, then newest `_creationTime`, then id, all descending, and
 *   capped at 1024 candidates; pulling past the 1024th fails as Convex does;
 * - reactivity: a search reads, per query term, the (filter value, token) keys of the index,
 *   so a write re-runs the query only when the old or new document holds a matching token.
 *
 * Storage: `search_terms` is the term dictionary with document frequencies (prefix expansion
 * and BM25 statistics are global, as in Convex); `search_postings` holds each token's postings
 * (with term frequency, document length and creation time) once for the whole index and once
 * per filter value, so a search filtered on a tenant's id reads only that tenant's postings,
 * plus one membership row per filter value for further `.eq` conditions; `search_stats` holds
 * the document and token totals.
 */
import type Database from "better-sqlite3";
import type { Value } from "convex/values";
import { encodeTuple, encodeValue, justAfter } from "./keys.js";
import type { ReadSetBuilder } from "./reactivity.js";
import { fieldValue, type IndexKeyChange } from "./store.js";

export const MAX_QUERY_TERMS = 16;
export const MAX_TEXT_TERM_BYTES = 32;
export const MAX_CANDIDATE_REVISIONS = 1024;
export const MAX_FILTER_CONDITIONS = 8;
export const MAX_UNIQUE_QUERY_TERMS = 64;
const K1 = 1.2;
const B = 0.75;
const PREFIX_BOOST = 0.5;

export interface SearchIndexDefinition {
  table: string;
  name: string;
  searchField: string;
  filterFields: string[];
}

export interface SearchFilter {
  type: "Search" | "Eq";
  fieldPath: string;
  value: unknown;
}

export class SearchError extends Error {}

// ---- tokenizing ------------------------------------------------------------------------

const TOKEN = /[\p{Alphabetic}\p{N}]+/gu;

/** Tantivy's SimpleTokenizer, RemoveLongFilter(32) and LowerCaser, in that order. */
export function tokenize(text: string): string[] {
  const tokens: string[] = [];
  for (const match of text.matchAll(TOKEN)) {
    const token = match[0];
    if (Buffer.byteLength(token, "utf8") >= MAX_TEXT_TERM_BYTES) continue;
    // Character by character, as Tantivy's LowerCaser (no final-sigma context rule).
    let lower = "";
    for (const char of token) lower += char.toLowerCase();
    tokens.push(lower);
  }
  return tokens;
}

// ---- BM25 as Tantivy computes it -------------------------------------------------------

/** Tantivy's fieldnorm table (Lucene's SmallFloat int4 scheme): id → document length. */
const FIELD_NORMS: number[] = Array.from({ length: 256 }, (_, id) => {
  if (id < 24) return id;
  const i = id - 24;
  const bits = i & 0x07;
  const shift = (i >>> 3) - 1;
  return 24 + (shift === -1 ? bits : (bits | 0x08) * 2 ** shift);
});

function fieldnormId(length: number): number {
  let lo = 0;
  let hi = FIELD_NORMS.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (FIELD_NORMS[mid] <= length) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const f32 = Math.fround;

function idf(docFrequency: number, documents: number): number {
  const x = f32(f32(documents - docFrequency + 0.5) / f32(docFrequency + 0.5));
  return f32(Math.log(f32(1 + x)));
}

/** Score of one matched term, as Tantivy's `Bm25Weight::for_one_term(...).score(...)`. */
function termScore(weight: number, averageLength: number, length: number, termFrequency: number): number {
  const norm = f32(K1 * f32(1 - B + f32(f32(B * FIELD_NORMS[fieldnormId(length)]) / averageLength)));
  return f32(weight * f32(termFrequency / f32(termFrequency + norm)));
}

// ---- keys for reactivity ----------------------------------------------------------------

const ALL_SCOPE = "*";

function filterValueKey(value: Value | undefined): string {
  return encodeValue(value).toString("base64");
}

function filterScope(position: number, value: Value | undefined): string {
  return `f${position}:${filterValueKey(value)}`;
}

/** The postings row key of a token under a scope (all documents, or one filter value). */
function postingTerm(scope: string, token: string): string {
  return `${scope}\u0001${token}`;
}

/** Read/write key of one token under one scope (all documents, or one filter value). */
function tokenKey(scope: string, token: string): Buffer {
  return encodeTuple([scope, token]);
}

/** The key range of every token starting with `prefix` under `scope`. */
function prefixRange(scope: string, prefix: string): { lower: Buffer; upper: Buffer } {
  const lower = Buffer.concat([encodeValue(scope), Buffer.from([0x60]), Buffer.from(prefix, "utf8")]);
  return { lower, upper: Buffer.concat([lower, Buffer.from([0xff])]) };
}

// ---- the index store -------------------------------------------------------------------

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS search_indexes (name TEXT PRIMARY KEY, definition TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search_terms (
  index_name TEXT NOT NULL, term TEXT NOT NULL, df INTEGER NOT NULL,
  PRIMARY KEY (index_name, term)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search_postings (
  index_name TEXT NOT NULL, term TEXT NOT NULL, doc_id TEXT NOT NULL, tf INTEGER NOT NULL,
  length INTEGER NOT NULL, creation_time REAL NOT NULL,
  PRIMARY KEY (index_name, term, doc_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS search_stats (
  index_name TEXT PRIMARY KEY, documents INTEGER NOT NULL, tokens INTEGER NOT NULL) WITHOUT ROWID;
`;

interface IndexedDocument {
  termFrequencies: Map<string, number>;
  filterTerms: string[];
  length: number;
}

interface DocumentPosting {
  doc_id: string;
  tf: number;
  length: number;
  creation_time: number;
}

export interface SearchCandidate {
  id: string;
  score: number;
  creationTime: number;
  /** Position in relevance order: ascending keys are descending relevance. */
  key: Buffer;
}

export function qualifiedName(index: SearchIndexDefinition): string {
  return `${index.table}.${index.name}`;
}

export class SearchIndexes {
  private byTable = new Map<string, SearchIndexDefinition[]>();
  /** The indexes whose definitions a reader on another connection uses (see readerOn). */
  private source: SearchIndexes | null = null;
  private readonly statements;
  private readonly filteredStatements = new Map<number, Database.Statement>();

  constructor(private readonly db: Database.Database) {
    const columns = db.prepare<[], { name: string }>("PRAGMA table_info(search_postings)").all();
    if (columns.length > 0 && !columns.some((column) => column.name === "length")) {
      // An index from the first layout (no lengths in postings): drop it; sync() rebuilds it.
      db.exec("DROP TABLE IF EXISTS search_postings; DROP TABLE IF EXISTS search_documents; DROP TABLE IF EXISTS search_indexes; DROP TABLE IF EXISTS search_stats;");
    }
    db.exec(SCHEMA_SQL);
    this.statements = {
      insertPosting: db.prepare(
        "INSERT INTO search_postings (index_name, term, doc_id, tf, length, creation_time) VALUES (?, ?, ?, ?, ?, ?)",
      ),
      deletePosting: db.prepare("DELETE FROM search_postings WHERE index_name = ? AND term = ? AND doc_id = ?"),
      bumpTerm: db.prepare(
        `INSERT INTO search_terms (index_name, term, df) VALUES (?, ?, ?)
         ON CONFLICT(index_name, term) DO UPDATE SET df = df + excluded.df`,
      ),
      dropUnusedTerm: db.prepare("DELETE FROM search_terms WHERE index_name = ? AND term = ? AND df <= 0"),
      bumpStats: db.prepare(
        `INSERT INTO search_stats (index_name, documents, tokens) VALUES (?, ?, ?)
         ON CONFLICT(index_name) DO UPDATE SET documents = documents + excluded.documents, tokens = tokens + excluded.tokens`,
      ),
      stats: db.prepare<[string], { documents: number; tokens: number }>(
        "SELECT documents, tokens FROM search_stats WHERE index_name = ?",
      ),
      postingExists: db.prepare<[string, string], { n: number }>(
        "SELECT 1 AS n FROM search_postings WHERE index_name = ? AND term = ? LIMIT 1",
      ),
      docFrequency: db.prepare<[string, string], { df: number }>("SELECT df FROM search_terms WHERE index_name = ? AND term = ?"),
      termsFrom: db.prepare<[string, string], { term: string }>(
        "SELECT term FROM search_terms WHERE index_name = ? AND term > ? ORDER BY term",
      ),
    };
  }

  /** These indexes, read through another connection (a read snapshot beside the writer). */
  readerOn(db: Database.Database): SearchIndexes {
    const reader = new SearchIndexes(db);
    reader.source = this;
    return reader;
  }

  definitions(table: string): SearchIndexDefinition[] {
    return (this.source ?? this).byTable.get(table) ?? [];
  }

  find(table: string, name: string): SearchIndexDefinition | undefined {
    return (this.source ?? this).byTable.get(table)?.find((index) => index.name === name);
  }

  /**
   * Makes the built indexes exactly `wanted`: drops removed or changed ones, builds new ones
   * from `documents(table)`. Runs inside the schema transaction.
   */
  sync(wanted: SearchIndexDefinition[], documents: (table: string) => string[], parse: (json: string) => Record<string, Value>): void {
    const existing = new Map(
      this.db
        .prepare<[], { name: string; definition: string }>("SELECT name, definition FROM search_indexes")
        .all()
        .map((row) => [row.name, row.definition]),
    );
    const wantedByName = new Map(wanted.map((index) => [qualifiedName(index), index]));
    for (const [name, definition] of existing) {
      const next = wantedByName.get(name);
      if (next && JSON.stringify(next) === definition) continue;
      for (const table of ["search_postings", "search_terms", "search_stats"]) {
        this.db.prepare(`DELETE FROM ${table} WHERE index_name = ?`).run(name);
      }
      this.db.prepare("DELETE FROM search_indexes WHERE name = ?").run(name);
      existing.delete(name);
    }
    this.byTable = new Map();
    for (const index of wanted) {
      const list = this.byTable.get(index.table) ?? [];
      list.push(index);
      this.byTable.set(index.table, list);
      const name = qualifiedName(index);
      if (existing.has(name)) continue;
      this.db.prepare("INSERT INTO search_indexes (name, definition) VALUES (?, ?)").run(name, JSON.stringify(index));
      this.statements.bumpStats.run(name, 0, 0);
      for (const json of documents(index.table)) this.add(index, parse(json));
    }
  }

  private analyse(index: SearchIndexDefinition, document: Record<string, Value>): IndexedDocument {
    const text = fieldValue(document, index.searchField);
    const tokens = typeof text === "string" ? tokenize(text) : [];
    const termFrequencies = new Map<string, number>();
    for (const token of tokens) termFrequencies.set(token, (termFrequencies.get(token) ?? 0) + 1);
    const filterTerms = index.filterFields.map((field, i) => filterScope(i, fieldValue(document, field)));
    return { termFrequencies, filterTerms, length: tokens.length };
  }

  private add(index: SearchIndexDefinition, document: Record<string, Value>): IndexedDocument {
    const name = qualifiedName(index);
    const id = document._id as string;
    const analysed = this.analyse(index, document);
    const creationTime = document._creationTime as number;
    for (const [token, tf] of analysed.termFrequencies) {
      this.statements.bumpTerm.run(name, token, 1);
      for (const scope of [ALL_SCOPE, ...analysed.filterTerms]) {
        this.statements.insertPosting.run(name, postingTerm(scope, token), id, tf, analysed.length, creationTime);
      }
    }
    for (const term of analysed.filterTerms) this.statements.insertPosting.run(name, term, id, 0, 0, creationTime);
    this.statements.bumpStats.run(name, 1, analysed.length);
    return analysed;
  }

  private remove(index: SearchIndexDefinition, document: Record<string, Value>): IndexedDocument {
    const name = qualifiedName(index);
    const id = document._id as string;
    const analysed = this.analyse(index, document);
    for (const token of analysed.termFrequencies.keys()) {
      this.statements.bumpTerm.run(name, token, -1);
      this.statements.dropUnusedTerm.run(name, token);
      for (const scope of [ALL_SCOPE, ...analysed.filterTerms]) this.statements.deletePosting.run(name, postingTerm(scope, token), id);
    }
    for (const term of analysed.filterTerms) this.statements.deletePosting.run(name, term, id);
    this.statements.bumpStats.run(name, -1, -analysed.length);
    return analysed;
  }

  /** Keeps the table's search indexes in step with one write; returns the keys it touched. */
  onWrite(table: string, oldDocument: Record<string, Value> | null, newDocument: Record<string, Value> | null): IndexKeyChange[] {
    const changes: IndexKeyChange[] = [];
    for (const index of this.definitions(table)) {
      const touched = [oldDocument ? this.remove(index, oldDocument) : null, newDocument ? this.add(index, newDocument) : null];
      for (const analysed of touched) {
        if (analysed === null) continue;
        for (const token of analysed.termFrequencies.keys()) {
          changes.push({ index: qualifiedName(index), key: tokenKey(ALL_SCOPE, token) });
          for (const scope of analysed.filterTerms) changes.push({ index: qualifiedName(index), key: tokenKey(scope, token) });
        }
      }
    }
    return changes;
  }

  // ---- querying ------------------------------------------------------------------------

  /** Checks the filters against the index and splits them into text and equality parts. */
  compile(index: SearchIndexDefinition, filters: SearchFilter[], decode: (json: unknown) => Value | undefined) {
    const printable = qualifiedName(index);
    let text: string | null = null;
    const conditions: { position: number; value: Value | undefined }[] = [];
    for (const filter of filters) {
      if (filter.type === "Search") {
        if (filter.fieldPath !== index.searchField) {
          throw new SearchError(
            `Search query against ${printable} contains a search filter against "${filter.fieldPath}", ` +
              `which doesn't match the indexed \`searchField\` "${index.searchField}".`,
          );
        }
        if (text !== null) {
          throw new SearchError(
            `Search query against ${printable} contains multiple search filters against "${filter.fieldPath}". Only one is allowed.`,
          );
        }
        text = String(filter.value);
      } else {
        const position = index.filterFields.indexOf(filter.fieldPath);
        if (position < 0) {
          throw new SearchError(
            `Search query against ${printable} contains an equality filter on "${filter.fieldPath}" ` +
              "but that field isn't indexed for filtering in `filterFields`.",
          );
        }
        conditions.push({ position, value: decode(filter.value) });
      }
    }
    if (text === null) {
      throw new SearchError(
        `Search query against ${printable} does not contain any search filters. You must include a search filter ` +
          `like \`q.search(""${index.searchField}"", searchText)\`.`,
      );
    }
    if (conditions.length > MAX_FILTER_CONDITIONS) {
      throw new SearchError(
        `Search query against ${printable} has too many filter conditions. Max: ${MAX_FILTER_CONDITIONS} Actual: ${conditions.length}`,
      );
    }
    return { tokens: tokenize(text).slice(0, MAX_QUERY_TERMS), conditions };
  }

  /** Records what a search read: each query term under the first filter's scope (or all). */
  recordReads(
    index: SearchIndexDefinition,
    tokens: string[],
    conditions: { position: number; value: Value | undefined }[],
    readSet: ReadSetBuilder | null,
  ): void {
    if (!readSet) return;
    const scope = conditions.length === 0 ? ALL_SCOPE : filterScope(conditions[0].position, conditions[0].value);
    tokens.forEach((token, i) => {
      if (i === tokens.length - 1) {
        const { lower, upper } = prefixRange(scope, token);
        readSet.add(qualifiedName(index), lower, upper);
      } else {
        const key = tokenKey(scope, token);
        readSet.add(qualifiedName(index), key, justAfter(key));
      }
    });
  }

  /** The top candidates in relevance order (at most 1024). */
  search(
    index: SearchIndexDefinition,
    tokens: string[],
    conditions: { position: number; value: Value | undefined }[],
  ): SearchCandidate[] {
    const name = qualifiedName(index);
    if (tokens.length === 0) return [];
    const filterTerms = [...new Set(conditions.map((c) => filterScope(c.position, c.value)))];
    for (const term of filterTerms) if (!this.statements.postingExists.get(name, term)) return [];
    // Term selection as Convex's TokenMatchAggregator: exact matches, then prefix matches of
    // the last token in byte order, up to 64 distinct terms including the filter terms.
    const exact = new Set<string>();
    for (const token of tokens) if (this.statements.docFrequency.get(name, token)) exact.add(token);
    const budget = MAX_UNIQUE_QUERY_TERMS - exact.size - filterTerms.length;
    const prefixMatches: string[] = [];
    const last = tokens[tokens.length - 1];
    if (budget > 0) {
      for (const row of this.statements.termsFrom.iterate(name, last)) {
        if (!row.term.startsWith(last)) break;
        const token = row.term;
        if (exact.has(token)) continue;
        prefixMatches.push(token);
        if (prefixMatches.length >= budget) break;
      }
    }
    const terms = [
      ...[...exact].map((token) => ({ token, boost: 1 })),
      ...prefixMatches.map((token) => ({ token, boost: PREFIX_BOOST })),
    ];
    if (terms.length === 0) return [];
    const stats = this.statements.stats.get(name) ?? { documents: 0, tokens: 0 };
    const documents = stats.documents === 0 ? 1 : stats.documents;
    const averageLength = f32(stats.tokens / documents);
    const scores = new Map<string, { score: number; creationTime: number }>();
    // The first filter's own postings, then membership checks for the other filters.
    const [scope, ...otherFilters] = filterTerms.length === 0 ? [ALL_SCOPE] : filterTerms;
    const postings = this.postingsStatement(otherFilters.length);
    for (const { token, boost } of terms) {
      const docFrequency = this.statements.docFrequency.get(name, token)?.df ?? 0;
      const weight = f32(f32(f32(idf(docFrequency, documents) * (1 + K1))) * boost);
      const rows = postings.all(name, postingTerm(scope, token), ...otherFilters) as DocumentPosting[];
      for (const row of rows) {
        const entry = scores.get(row.doc_id) ?? { score: 0, creationTime: row.creation_time };
        entry.score = f32(entry.score + termScore(weight, averageLength, row.length, row.tf));
        scores.set(row.doc_id, entry);
      }
    }
    const candidates: SearchCandidate[] = [];
    for (const [id, { score, creationTime }] of scores) {
      candidates.push({ id, score, creationTime, key: encodeTuple([-score, -creationTime, id]) });
    }
    candidates.sort((a, b) => Buffer.compare(a.key, b.key));
    return candidates.slice(0, MAX_CANDIDATE_REVISIONS);
  }

  /** Postings of one term with document lengths, restricted to documents holding every filter term. */
  private postingsStatement(filterCount: number): Database.Statement {
    let statement = this.filteredStatements.get(filterCount);
    if (!statement) {
      const exists = Array.from(
        { length: filterCount },
        () => " AND EXISTS (SELECT 1 FROM search_postings f WHERE f.index_name = p.index_name AND f.term = ? AND f.doc_id = p.doc_id)",
      ).join("");
      statement = this.db.prepare(
        `SELECT p.doc_id AS doc_id, p.tf AS tf, p.length AS length, p.creation_time AS creation_time FROM search_postings p
         WHERE p.index_name = ? AND p.term = ?${exists}`,
      );
      this.filteredStatements.set(filterCount, statement);
    }
    return statement;
  }
}

/** Reads `searchIndexes` from `schema.export()` JSON. */
export function searchIndexesOfSchema(
  tables: { tableName: string; searchIndexes?: { indexDescriptor: string; searchField: string; filterFields: string[] }[] }[],
): SearchIndexDefinition[] {
  return tables.flatMap((table) =>
    (table.searchIndexes ?? []).map((index) => ({
      table: table.tableName,
      name: index.indexDescriptor,
      searchField: index.searchField,
      filterFields: [...index.filterFields],
    })),
  );
}

