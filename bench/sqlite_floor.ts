/**
 * The write floor for a benchmark of the local backend: bare better-sqlite3 (WAL,
 * synchronous=FULL) writing the same rows the engine wrote, in one transaction per unit of
 * work (a booking), into tables of the engine's own shape (`documents`, `index_entries`).
 *
 *   const before = snapshotRows(engine.store.db);
 *   … N bookings through the platform …
 *   const rows = rowsSince(engine.store.db, before);
 *   const floor = sqliteFloor(rows, N);   // { perSecond, medianMs }
 *
 * "The same rows" are the documents that exist after the work and not before, with their
 * index entries, as the engine stores them (final versions: a document patched twice is
 * written once here). Plain module for bench/*.bench.ts.
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";

type DocumentRow = { id: string; table_number: number; value: string };
type IndexRow = { index_name: string; key: Buffer; doc_id: string };
export type Rows = { documents: DocumentRow[]; indexEntries: IndexRow[] };
export type Snapshot = { documentIds: Set<string> };

export function snapshotRows(db: Database.Database): Snapshot {
  const ids = db.prepare("SELECT id FROM documents").pluck().all() as string[];
  return { documentIds: new Set(ids) };
}

/** Documents created since the snapshot, and their index entries. */
export function rowsSince(db: Database.Database, before: Snapshot): Rows {
  const documents = (db.prepare("SELECT id, table_number, value FROM documents").all() as DocumentRow[]).filter((d) => !before.documentIds.has(d.id));
  const fresh = new Set(documents.map((d) => d.id));
  const indexEntries = (db.prepare("SELECT index_name, key, doc_id FROM index_entries").all() as IndexRow[]).filter((e) => fresh.has(e.doc_id));
  return { documents, indexEntries };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Writes `rows` split evenly into `units` transactions; commits per second and median commit time. */
export function sqliteFloor(rows: Rows, units: number): { perSecond: number; medianMs: number; documentsPerUnit: number; indexEntriesPerUnit: number } {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sqlite-floor-"));
  const db = new Database(path.join(dir, "floor.sqlite3"));
  try {
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = FULL");
    db.exec(`
      CREATE TABLE documents (id TEXT PRIMARY KEY, table_number INTEGER NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
      CREATE TABLE index_entries (index_name TEXT NOT NULL, key BLOB NOT NULL, doc_id TEXT NOT NULL, PRIMARY KEY (index_name, key)) WITHOUT ROWID;
    `);
    const insertDocument = db.prepare("INSERT INTO documents (id, table_number, value) VALUES (?, ?, ?)");
    const insertIndexEntry = db.prepare("INSERT INTO index_entries (index_name, key, doc_id) VALUES (?, ?, ?)");
    const unit = db.transaction((documents: DocumentRow[], entries: IndexRow[]) => {
      for (const d of documents) insertDocument.run(d.id, d.table_number, d.value);
      for (const e of entries) insertIndexEntry.run(e.index_name, e.key, e.doc_id);
    });
    const slice = <T>(list: T[], i: number) => list.slice(Math.floor((list.length * i) / units), Math.floor((list.length * (i + 1)) / units));
    const times: number[] = [];
    const started = performance.now();
    for (let i = 0; i < units; i++) {
      const t0 = performance.now();
      unit(slice(rows.documents, i), slice(rows.indexEntries, i));
      times.push(performance.now() - t0);
    }
    const wall = performance.now() - started;
    return {
      perSecond: (units / wall) * 1_000,
      medianMs: median(times),
      documentsPerUnit: rows.documents.length / units,
      indexEntriesPerUnit: rows.indexEntries.length / units,
    };
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
