/**
 * The booking-shaped commit benchmark of bench/engine.bench.ts: one mutation writing 30 documents
 * (24 inserts across three tables, 6 patches) and 80 index entries, committed serially by the
 * engine, next to bare better-sqlite3 (WAL, synchronous=FULL) writing the same rows in one
 * transaction per booking. Both print commits/s, SQLite statements per transaction and, under
 * strace, pwrite64 and fsync calls per transaction (measured as the difference between a short and
 * a long run in child processes, so opening and loading cancel out).
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { convexToJson, type Value } from "convex/values";
import type { LocalEngine } from "../backend/src/engine/engine.js";
import { newDocumentId } from "../backend/src/engine/ids.js";
import { encodeTuple } from "../backend/src/engine/keys.js";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const BOOKINGS = 300;
const CHILD_FLAG = "--syscall-child";

type OpenEngine = (dataDir: string) => Promise<LocalEngine>;

/** The fixture tables a booking writes, with the fields of their indexes after the built-in two. */
const TABLES = {
  messages: { number: 10001, indexes: [["channel"], ["channel", "author"]] },
  counters: { number: 10002, indexes: [["name"]] },
  runs: { number: 10003, indexes: [["source"]] },
} as const;

function bookingDocuments(round: number) {
  return {
    messages: Array.from({ length: 8 }, (_, i) => ({ channel: `b${round}`, author: `a${i}`, body: `line ${i} of booking ${round}` })),
    counters: Array.from({ length: 10 }, (_, i) => ({ name: `r${round}-${i}`, value: i })),
    runs: Array.from({ length: 6 }, (_, i) => ({ source: `s${round}`, at: round * 10 + i })),
  };
}

function bookingMutation(engine: LocalEngine) {
  return engine.inlineFunction("mutation", async (ctx: any, { round }: { round: number }) => {
    const documents = bookingDocuments(round);
    for (const message of documents.messages) await ctx.db.insert("messages", message);
    const counters = [];
    for (const counter of documents.counters) counters.push(await ctx.db.insert("counters", counter));
    for (const run of documents.runs) await ctx.db.insert("runs", run);
    for (let i = 0; i < 6; i++) await ctx.db.patch(counters[i], { value: 100 + i });
  });
}

async function engineBookings(engine: LocalEngine, from: number, count: number): Promise<void> {
  const mutation = bookingMutation(engine);
  for (let round = from; round < from + count; round++) {
    const outcome = await engine.runMutation(mutation, [{ round }], { identity: null });
    if (!outcome.success) throw new Error(outcome.errorMessage);
  }
}

interface FloorRow {
  documents: { id: string; table: number; json: string }[];
  patches: { id: string; json: string }[];
  entries: { index: string; key: Buffer; id: string }[];
}

/** The rows one booking writes, with ids, JSON and index keys computed ahead (not timed). */
function floorRows(round: number): FloorRow {
  const row: FloorRow = { documents: [], patches: [], entries: [] };
  let creationTime = Date.now() + round;
  const counters: Record<string, Value>[] = [];
  for (const [table, documents] of Object.entries(bookingDocuments(round))) {
    const spec = TABLES[table as keyof typeof TABLES];
    for (const fields of documents) {
      const document: Record<string, Value> = { _id: newDocumentId(spec.number), _creationTime: (creationTime += 0.001), ...fields };
      row.documents.push({ id: document._id as string, table: spec.number, json: JSON.stringify(convexToJson(document)) });
      const indexes = [["_id"], ["_creationTime", "_id"], ...spec.indexes.map((f) => [...f, "_creationTime", "_id"])];
      indexes.forEach((fieldList, i) =>
        row.entries.push({ index: `${table}.i${i}`, key: encodeTuple(fieldList.map((f) => document[f])), id: document._id as string }),
      );
      if (table === "counters") counters.push(document);
    }
  }
  for (let i = 0; i < 6; i++) {
    row.patches.push({ id: counters[i]._id as string, json: JSON.stringify(convexToJson({ ...counters[i], value: 100 + i })) });
  }
  return row;
}

function openFloor(file: string) {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.exec(`CREATE TABLE documents (id TEXT PRIMARY KEY, table_number INTEGER NOT NULL, value TEXT NOT NULL) WITHOUT ROWID;
    CREATE TABLE index_entries (index_name TEXT NOT NULL, key BLOB NOT NULL, doc_id TEXT NOT NULL, PRIMARY KEY (index_name, key)) WITHOUT ROWID;`);
  const insertDoc = db.prepare("INSERT INTO documents (id, table_number, value) VALUES (?, ?, ?)");
  const updateDoc = db.prepare("UPDATE documents SET value = ? WHERE id = ?");
  const insertEntry = db.prepare("INSERT INTO index_entries (index_name, key, doc_id) VALUES (?, ?, ?)");
  const write = db.transaction((row: FloorRow) => {
    for (const d of row.documents) insertDoc.run(d.id, d.table, d.json);
    for (const e of row.entries) insertEntry.run(e.index, e.key, e.id);
    for (const p of row.patches) updateDoc.run(p.json, p.id);
  });
  return { db, write };
}

function floorBookings(file: string, from: number, count: number): { seconds: number } {
  const rows = Array.from({ length: count }, (_, i) => floorRows(from + i));
  const floor = openFloor(file);
  const started = performance.now();
  for (const row of rows) floor.write(row);
  const seconds = (performance.now() - started) / 1000;
  floor.db.close();
  return { seconds };
}

/** Milliseconds the engine's store spends in COMMIT (the fsync), summed, while `work` runs. */
async function timeCommits(engine: LocalEngine, work: () => Promise<void>): Promise<number> {
  const store = (engine as unknown as { store: { commit(): void } }).store;
  const commit = store.commit;
  let ms = 0;
  store.commit = function (this: unknown) {
    const started = performance.now();
    try {
      commit.call(this);
    } finally {
      ms += performance.now() - started;
    }
  };
  try {
    await work();
  } finally {
    store.commit = commit;
  }
  return ms;
}

/** Counts statements better-sqlite3 runs (prepared-statement calls and exec) while `work` runs. */
async function countStatements(work: () => Promise<void>): Promise<number> {
  const probe = new Database(":memory:");
  const statementProto = Object.getPrototypeOf(probe.prepare("SELECT 1"));
  const databaseProto = Object.getPrototypeOf(probe);
  probe.close();
  let count = 0;
  const originals = ["run", "get", "all", "iterate"].map((name) => [name, statementProto[name]] as const);
  const originalExec = databaseProto.exec;
  for (const [name, original] of originals) {
    statementProto[name] = function (this: unknown, ...args: unknown[]) {
      count++;
      return original.apply(this, args);
    };
  }
  databaseProto.exec = function (this: unknown, ...args: unknown[]) {
    count++;
    return originalExec.apply(this, args);
  };
  try {
    await work();
  } finally {
    for (const [name, original] of originals) statementProto[name] = original;
    databaseProto.exec = originalExec;
  }
  return count;
}

export function isSyscallChild(): boolean {
  return process.argv.includes(CHILD_FLAG);
}

/** In a child under strace: writes `count` bookings with the engine or the floor, then exits. */
export async function runSyscallChild(openEngine: OpenEngine): Promise<void> {
  const [kind, countText, dataDir] = process.argv.slice(process.argv.indexOf(CHILD_FLAG) + 1);
  const count = Number(countText);
  if (kind === "floor") {
    floorBookings(path.join(dataDir, "floor.sqlite3"), 0, count);
    return;
  }
  const engine = await openEngine(dataDir);
  await engineBookings(engine, 0, count);
  await engine.close();
}

interface SyscallCounts {
  pwrite64: number;
  fsync: number;
}

function straceRun(kind: "engine" | "floor", count: number): SyscallCounts | null {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "engine-bench-strace-"));
  const out = path.join(dataDir, "strace.txt");
  try {
    const result = spawnSync(
      "strace",
      ["-f", "-qq", "-c", "-e", "trace=pwrite64,fsync,fdatasync", "-o", out, process.execPath,
        path.join(root, "node_modules/tsx/dist/cli.mjs"), path.join(root, "bench/engine.bench.ts"), CHILD_FLAG, kind, String(count), dataDir],
      { cwd: root, stdio: ["ignore", "ignore", "pipe"], encoding: "utf8" },
    );
    if (result.error || result.status !== 0) return null;
    const counts: SyscallCounts = { pwrite64: 0, fsync: 0 };
    for (const line of readFileSync(out, "utf8").split("\n")) {
      const columns = line.trim().split(/\s+/);
      const name = columns[columns.length - 1];
      const calls = Number(columns[3]);
      if (name === "pwrite64") counts.pwrite64 += calls;
      if (name === "fsync" || name === "fdatasync") counts.fsync += calls;
    }
    return counts;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function syscallsPerTransaction(kind: "engine" | "floor"): string {
  const short = straceRun(kind, 20);
  const long = straceRun(kind, 80);
  if (short === null || long === null) return "strace unavailable";
  const per = (name: keyof SyscallCounts) => ((long[name] - short[name]) / 60).toFixed(1);
  return `${per("pwrite64")} pwrite64, ${per("fsync")} fsync`;
}

export async function benchBookingCommits(openEngine: OpenEngine): Promise<void> {
  console.log("Booking-shaped mutation (30 document writes, 80 index entries), serial, synchronous=FULL:");
  const dataDir = mkdtempSync(path.join(os.tmpdir(), "engine-bench-"));
  try {
    const engine = await openEngine(path.join(dataDir, "engine"));
    await engineBookings(engine, 0, 20); // warm up
    const floor = openFloor(path.join(dataDir, "floor.sqlite3"));
    let engineMs = 0;
    let floorMs = 0;
    let commitMs = 0;
    let engineStatements = 0;
    let floorStatements = 0;
    // Alternate slices so both see the same disk and CPU contention from the rest of the machine.
    const slices = 6;
    const perSlice = BOOKINGS / slices;
    for (let slice = 0; slice < slices; slice++) {
      const from = 20 + slice * perSlice;
      engineStatements += await countStatements(async () => {
        commitMs += await timeCommits(engine, async () => {
          const started = performance.now();
          await engineBookings(engine, from, perSlice);
          engineMs += performance.now() - started;
        });
      });
      const rows = Array.from({ length: perSlice }, (_, i) => floorRows(from + i));
      floorStatements += await countStatements(async () => {
        const started = performance.now();
        for (const row of rows) floor.write(row);
        floorMs += performance.now() - started;
      });
    }
    floor.db.close();
    await engine.close();
    const engineRate = (BOOKINGS / engineMs) * 1000;
    const floorRate = (BOOKINGS / floorMs) * 1000;
    console.log(
      `  local engine:           ${engineRate.toFixed(0).padStart(5)} commits/s  (${(engineRate / floorRate).toFixed(2)}x floor), ` +
        `${(engineStatements / BOOKINGS).toFixed(1)} SQLite statements, ${syscallsPerTransaction("engine")} per transaction`,
    );
    console.log(
      `    of ${(engineMs / BOOKINGS).toFixed(2)} ms per booking: ${(commitMs / BOOKINGS).toFixed(2)} ms in COMMIT (fsync), ` +
        `${((engineMs - commitMs) / BOOKINGS).toFixed(2)} ms running the mutation and writing its rows`,
    );
    console.log(
      `  floor (better-sqlite3): ${floorRate.toFixed(0).padStart(5)} commits/s,  ` +
        `${(floorStatements / BOOKINGS).toFixed(1)} SQLite statements, ${syscallsPerTransaction("floor")} per transaction, ` +
        `${(floorMs / BOOKINGS).toFixed(2)} ms per booking`,
    );
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
