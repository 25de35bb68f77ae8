/**
 * Durable document store over SQLite: documents keyed by id (Convex JSON text), index
 * entries in a WITHOUT ROWID table ordered by an order-preserving key encoding, a table
 * registry that assigns table numbers, and small metadata tables.
 *
 * The store is used by one executor at a time (the engine serialises every transaction),
 * so it keeps no locks of its own.
 */
import Database from "better-sqlite3";
import { jsonToConvex, type JSONValue, type Value } from "convex/values";
import { encodeTuple } from "./keys.js";
import { newDocumentId, tableNumberOfId } from "./ids.js";

export interface IndexDefinition {
  /** "by_id", "by_creation_time", or a schema index name. */
  name: string;
  /** Indexed field paths, including the `_creationTime` and `_id` Convex appends. */
  fields: string[];
}

export interface TableInfo {
  number: number;
  name: string;
  indexes: Map<string, IndexDefinition>;
}

/** The key of one document in one index, for write tracking. */
export interface IndexKeyChange {
  index: string; // "table.index"
  key: Buffer;
}

export type WriteListener = (changes: IndexKeyChange[]) => void;

export interface StoredDocument {
  id: string;
  table: string;
  json: string;
}

export const BY_ID = "by_id";
export const BY_CREATION_TIME = "by_creation_time";

/** Built-in indexes every table has. */
export function builtInIndexes(): IndexDefinition[] {
  return [
    { name: BY_ID, fields: ["_id"] },
    { name: BY_CREATION_TIME, fields: ["_creationTime", "_id"] },
  ];
}

export function fieldValue(document: Record<string, Value>, path: string): Value | undefined {
  let current: unknown = document;
  for (const part of path.split(".")) {
    if (current === null || typeof current !== "object" || Array.isArray(current) || current instanceof ArrayBuffer) {
      return undefined;
    }
    current = (current as Record<string, unknown>)[part];
  }
  return current as Value | undefined;
}

export function indexKey(index: IndexDefinition, document: Record<string, Value>): Buffer {
  return encodeTuple(index.fields.map((field) => fieldValue(document, field)));
}

const SCHEMA_SQL = `
CREATE TABLE IF NOT EXISTS tables (number INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS indexes (
  table_number INTEGER NOT NULL, name TEXT NOT NULL, fields TEXT NOT NULL,
  PRIMARY KEY (table_number, name)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS documents (id TEXT PRIMARY KEY, table_number INTEGER NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS index_entries (
  index_name TEXT NOT NULL, key BLOB NOT NULL, doc_id TEXT NOT NULL,
  PRIMARY KEY (index_name, key)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS mutation_outcomes (key TEXT PRIMARY KEY, outcome TEXT NOT NULL, ts TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS cron_jobs (name TEXT PRIMARY KEY, spec TEXT NOT NULL, next_run REAL NOT NULL);
`;

export class Store {
  readonly db: Database.Database;
  private readonly tablesByName = new Map<string, TableInfo>();
  private readonly tablesByNumber = new Map<number, TableInfo>();
  /** Tables created inside the open transaction, per savepoint depth, to forget on rollback. */
  private createdInTransaction: string[][] = [];
  private readonly statements;
  private lastCreationTime = 0;
  /** Whether `lastCreationTime` moved since it was last saved (it is saved with the next commit). */
  private creationTimeUnsaved = false;
  writeListener: WriteListener | null = null;
  /** Maintains derived indexes (search) on every document write; returns the keys it touched. */
  documentObserver:
    | ((table: string, oldDocument: Record<string, Value> | null, newDocument: Record<string, Value> | null) => IndexKeyChange[])
    | null = null;
  /** Bumped on every write, so open query streams know their prefetched rows may be stale. */
  writeVersion = 0;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = FULL");
    this.db.pragma("foreign_keys = OFF");
    // Savepoint (statement) journals stay in memory: they only undo a mutation inside its own
    // open transaction, which a crash discards anyway, and on disk they cost a page write per
    // page a mutation touches on top of the WAL's.
    this.db.pragma("temp_store = MEMORY");
    this.db.exec(SCHEMA_SQL);
    this.statements = {
      getDoc: this.db.prepare<[string], { table_number: number; value: string }>(
        "SELECT table_number, value FROM documents WHERE id = ?",
      ),
      insertDoc: this.db.prepare("INSERT INTO documents (id, table_number, value) VALUES (?, ?, ?)"),
      updateDoc: this.db.prepare("UPDATE documents SET value = ? WHERE id = ?"),
      deleteDoc: this.db.prepare("DELETE FROM documents WHERE id = ?"),
      insertEntry: this.db.prepare("INSERT INTO index_entries (index_name, key, doc_id) VALUES (?, ?, ?)"),
      deleteEntry: this.db.prepare("DELETE FROM index_entries WHERE index_name = ? AND key = ?"),
      scanAsc: this.db.prepare<[string, Buffer, Buffer, number], { key: Buffer; id: string; value: string }>(
        `SELECT e.key AS key, d.id AS id, d.value AS value FROM index_entries e JOIN documents d ON d.id = e.doc_id
         WHERE e.index_name = ? AND e.key >= ? AND e.key < ? ORDER BY e.key ASC LIMIT ?`,
      ),
      scanDesc: this.db.prepare<[string, Buffer, Buffer, number], { key: Buffer; id: string; value: string }>(
        `SELECT e.key AS key, d.id AS id, d.value AS value FROM index_entries e JOIN documents d ON d.id = e.doc_id
         WHERE e.index_name = ? AND e.key >= ? AND e.key < ? ORDER BY e.key DESC LIMIT ?`,
      ),
      countTable: this.db.prepare<[number], { n: number }>("SELECT COUNT(*) AS n FROM documents WHERE table_number = ?"),
      getMeta: this.db.prepare<[string], { value: string }>("SELECT value FROM meta WHERE key = ?"),
      setMeta: this.db.prepare("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value"),
    };
    this.loadRegistry();
    const last = this.getMeta("lastCreationTime");
    this.lastCreationTime = last === null ? 0 : Number(last);
  }

  private loadRegistry(): void {
    this.tablesByName.clear();
    this.tablesByNumber.clear();
    const tables = this.db.prepare<[], { number: number; name: string }>("SELECT number, name FROM tables").all();
    for (const row of tables) this.registerTable(row.number, row.name);
    const indexes = this.db
      .prepare<[], { table_number: number; name: string; fields: string }>("SELECT table_number, name, fields FROM indexes")
      .all();
    for (const row of indexes) {
      const table = this.tablesByNumber.get(row.table_number);
      if (table) table.indexes.set(row.name, { name: row.name, fields: JSON.parse(row.fields) });
    }
  }

  private registerTable(number: number, name: string): TableInfo {
    const info: TableInfo = { number, name, indexes: new Map() };
    this.tablesByName.set(name, info);
    this.tablesByNumber.set(number, info);
    return info;
  }

  close(): void {
    this.db.close();
  }

  // ---- transactions --------------------------------------------------------------------

  get inTransaction(): boolean {
    return this.db.inTransaction;
  }

  begin(): void {
    this.db.exec("BEGIN IMMEDIATE");
    this.createdInTransaction = [[]];
  }

  commit(): void {
    if (this.creationTimeUnsaved) {
      this.setMeta("lastCreationTime", String(this.lastCreationTime));
      this.creationTimeUnsaved = false;
    }
    this.db.exec("COMMIT");
    this.createdInTransaction = [];
  }

  rollback(): void {
    if (this.db.inTransaction) this.db.exec("ROLLBACK");
    for (const level of this.createdInTransaction) this.forgetTables(level);
    this.createdInTransaction = [];
    this.writeVersion++;
  }

  savepoint(): void {
    this.db.exec("SAVEPOINT sp");
    this.createdInTransaction.push([]);
  }

  releaseSavepoint(): void {
    this.db.exec("RELEASE sp");
    const level = this.createdInTransaction.pop() ?? [];
    this.createdInTransaction[this.createdInTransaction.length - 1]?.push(...level);
  }

  rollbackToSavepoint(): void {
    this.db.exec("ROLLBACK TO sp");
    this.db.exec("RELEASE sp");
    this.forgetTables(this.createdInTransaction.pop() ?? []);
    this.writeVersion++;
  }

  private forgetTables(names: string[]): void {
    for (const name of names) {
      const info = this.tablesByName.get(name);
      if (!info) continue;
      this.tablesByName.delete(name);
      this.tablesByNumber.delete(info.number);
    }
  }

  // ---- metadata ------------------------------------------------------------------------

  getMeta(key: string): string | null {
    return this.statements.getMeta.get(key)?.value ?? null;
  }

  setMeta(key: string, value: string): void {
    this.statements.setMeta.run(key, value);
  }

  // ---- tables and indexes ----------------------------------------------------------------

  table(name: string): TableInfo | undefined {
    return this.tablesByName.get(name);
  }

  tableByNumber(number: number): TableInfo | undefined {
    return this.tablesByNumber.get(number);
  }

  tableNames(): string[] {
    return [...this.tablesByName.keys()];
  }

  tableOfId(id: string): TableInfo | null {
    const number = tableNumberOfId(id);
    if (number === null) return null;
    return this.tablesByNumber.get(number) ?? null;
  }

  /** Creates the table (with its built-in indexes) if needed; must run inside a transaction. */
  ensureTable(name: string): TableInfo {
    const existing = this.tablesByName.get(name);
    if (existing) return existing;
    const row = this.db.prepare<[], { n: number | null }>("SELECT MAX(number) AS n FROM tables").get();
    // Numbers start at 10001 (as Convex's do), leaving room for nothing in particular but
    // making ids of a fresh deployment look alike.
    const number = Math.max(row?.n ?? 10000, 10000) + 1;
    this.db.prepare("INSERT INTO tables (number, name) VALUES (?, ?)").run(number, name);
    const info = this.registerTable(number, name);
    for (const index of builtInIndexes()) this.writeIndexDefinition(info, index);
    this.createdInTransaction[this.createdInTransaction.length - 1]?.push(name);
    return info;
  }

  private writeIndexDefinition(table: TableInfo, index: IndexDefinition): void {
    this.db
      .prepare("INSERT OR REPLACE INTO indexes (table_number, name, fields) VALUES (?, ?, ?)")
      .run(table.number, index.name, JSON.stringify(index.fields));
    table.indexes.set(index.name, index);
  }

  /**
   * Makes the table's user indexes exactly `wanted` (names and fields): adds and backfills
   * new or changed ones, drops removed ones. Built-in indexes are kept. Runs in a transaction.
   */
  syncIndexes(tableName: string, wanted: IndexDefinition[]): { added: string[]; dropped: string[] } {
    const table = this.ensureTable(tableName);
    const added: string[] = [];
    const dropped: string[] = [];
    const wantedByName = new Map(wanted.map((index) => [index.name, index]));
    for (const [name, existing] of table.indexes) {
      if (name === BY_ID || name === BY_CREATION_TIME) continue;
      const next = wantedByName.get(name);
      if (!next || JSON.stringify(next.fields) !== JSON.stringify(existing.fields)) {
        this.db.prepare("DELETE FROM index_entries WHERE index_name = ?").run(`${tableName}.${name}`);
        this.db.prepare("DELETE FROM indexes WHERE table_number = ? AND name = ?").run(table.number, name);
        table.indexes.delete(name);
        dropped.push(name);
      }
    }
    for (const index of wanted) {
      if (table.indexes.has(index.name)) continue;
      this.writeIndexDefinition(table, index);
      this.backfill(table, index);
      added.push(index.name);
    }
    return { added, dropped };
  }

  private backfill(table: TableInfo, index: IndexDefinition): void {
    const rows = this.db
      .prepare<[number], { id: string; value: string }>("SELECT id, value FROM documents WHERE table_number = ?")
      .iterate(table.number);
    const indexName = `${table.name}.${index.name}`;
    const pending: [Buffer, string][] = [];
    for (const row of rows) {
      const document = jsonToConvex(JSON.parse(row.value)) as Record<string, Value>;
      pending.push([indexKey(index, document), row.id]);
    }
    for (const [key, id] of pending) this.statements.insertEntry.run(indexName, key, id);
  }

  // ---- documents -----------------------------------------------------------------------

  getDocument(id: string): StoredDocument | null {
    const row = this.statements.getDoc.get(id);
    if (!row) return null;
    const table = this.tablesByNumber.get(row.table_number);
    if (!table) return null;
    return { id, table: table.name, json: row.value };
  }

  countDocuments(tableName: string): number {
    const table = this.tablesByName.get(tableName);
    return table ? (this.statements.countTable.get(table.number)?.n ?? 0) : 0;
  }

  /** A fresh `_creationTime`: milliseconds, strictly increasing across the deployment. */
  nextCreationTime(nowMs: number): number {
    const next = nowMs > this.lastCreationTime ? nowMs : this.lastCreationTime + 1 / 1024;
    this.lastCreationTime = next;
    // Saved once per transaction, by commit(), rather than once per insert.
    this.creationTimeUnsaved = true;
    return next;
  }

  newId(table: TableInfo): string {
    return newDocumentId(table.number);
  }

  /** Inserts a complete document (with `_id` and `_creationTime`). */
  insert(table: TableInfo, document: Record<string, Value>, json: JSONValue): void {
    const id = document._id as string;
    this.statements.insertDoc.run(id, table.number, JSON.stringify(json));
    this.writeEntries(table, null, document);
  }

  replace(table: TableInfo, oldDocument: Record<string, Value>, newDocument: Record<string, Value>, json: JSONValue): void {
    this.statements.updateDoc.run(JSON.stringify(json), newDocument._id as string);
    this.writeEntries(table, oldDocument, newDocument);
  }

  delete(table: TableInfo, document: Record<string, Value>): void {
    this.statements.deleteDoc.run(document._id as string);
    this.writeEntries(table, document, null);
  }

  private writeEntries(
    table: TableInfo,
    oldDocument: Record<string, Value> | null,
    newDocument: Record<string, Value> | null,
  ): void {
    this.writeVersion++;
    const changes: IndexKeyChange[] = [];
    for (const index of table.indexes.values()) {
      const indexName = `${table.name}.${index.name}`;
      const oldKey = oldDocument ? indexKey(index, oldDocument) : null;
      const newKey = newDocument ? indexKey(index, newDocument) : null;
      if (oldKey && newKey && oldKey.equals(newKey)) {
        // Unchanged position, but the document changed: readers of this key must re-run.
        changes.push({ index: indexName, key: newKey });
        continue;
      }
      if (oldKey) {
        this.statements.deleteEntry.run(indexName, oldKey);
        changes.push({ index: indexName, key: oldKey });
      }
      if (newKey) {
        this.statements.insertEntry.run(indexName, newKey, newDocument!._id as string);
        changes.push({ index: indexName, key: newKey });
      }
    }
    if (this.documentObserver) changes.push(...this.documentObserver(table.name, oldDocument, newDocument));
    this.writeListener?.(changes);
  }

  /** Up to `limit` documents of an index with lower <= key < upper, in key order. */
  scan(index: string, lower: Buffer, upper: Buffer, order: "asc" | "desc", limit: number) {
    const statement = order === "asc" ? this.statements.scanAsc : this.statements.scanDesc;
    return statement.all(index, lower, upper, limit);
  }

  /** Every stored document of a table, for bulk reads that bypass functions (tests, export). */
  *allDocuments(tableName: string): Generator<string> {
    const table = this.tablesByName.get(tableName);
    if (!table) return;
    const rows = this.db
      .prepare<[number], { value: string }>("SELECT value FROM documents WHERE table_number = ?")
      .iterate(table.number);
    for (const row of rows) yield row.value;
  }

  getMutationOutcome(key: string): string | null {
    return (
      this.db.prepare<[string], { outcome: string }>("SELECT outcome FROM mutation_outcomes WHERE key = ?").get(key)
        ?.outcome ?? null
    );
  }

  setMutationOutcome(key: string, outcome: string, ts: bigint): void {
    this.db
      .prepare("INSERT OR REPLACE INTO mutation_outcomes (key, outcome, ts) VALUES (?, ?, ?)")
      .run(key, outcome, ts.toString());
  }

  // ---- read snapshots (queries beside the writer) -----------------------------------------
  // A second Store over the same file reads while the writer's transaction is open: in WAL
  // mode each read transaction sees the last commit before it started, nothing later.

  /** Starts a read transaction at the last committed state; returns that state's `lastTs`. */
  beginSnapshot(): string | null {
    this.db.exec("BEGIN");
    const lastTs = this.getMeta("lastTs");
    // Committed tables only ever grow: reload the registry when the writer created one.
    const tables = this.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM tables").get()?.n ?? 0;
    if (tables !== this.tablesByNumber.size) this.loadRegistry();
    return lastTs;
  }

  endSnapshot(): void {
    if (this.db.inTransaction) this.db.exec("COMMIT");
  }
}
