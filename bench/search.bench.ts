/**
 * Text search benchmark (figures printed, never asserted): the engine's search index
 * (backend/src/engine/search.ts: postings in a WITHOUT ROWID table, Tantivy's BM25 computed in
 * JavaScript) next to SQLite FTS5 (its own inverted index and bm25() ranking) on the same
 * corpus, in the same process and run:
 * - building the index for N documents (documents per second);
 * - top-10 queries: two exact terms, a short prefix as the last term, and the same with an
 *   equality filter (median and p95).
 * FTS5 gets the engine's own tokens (space-joined, `ascii` tokenizer) and a filter token per
 * document, so both answer the same question; FTS5's bm25() is not Tantivy's, so its order
 * differs slightly, and it has no notion of "prefix matches weigh half".
 * Run: npm run bench -- search
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import type { Value } from "convex/values";
import { SearchIndexes, tokenize, type SearchIndexDefinition } from "../backend/src/engine/search.js";

const SIZES = [2_000, 20_000];
const QUERY_RUNS = 200;
const VOCABULARY = 5_000;
const CHANNELS = 50;

/** A deterministic generator, so every run indexes the same corpus. */
function generator(seed: number) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

const syllables = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "gu", "he", "ji", "bo"];
const words = Array.from({ length: VOCABULARY }, (_, i) => {
  let n = i;
  let word = "";
  do {
    word += syllables[n % syllables.length];
    n = Math.floor(n / syllables.length);
  } while (n > 0);
  return word;
});

function corpus(size: number): { _id: string; _creationTime: number; body: string; channel: string }[] {
  const random = generator(42);
  return Array.from({ length: size }, (_, i) => {
    const length = 8 + Math.floor(random() * 12);
    // Zipf-like: low word indexes are far more common, as in real text.
    const body = Array.from({ length }, () => words[Math.floor(VOCABULARY * random() ** 3)]).join(" ");
    return { _id: `doc${i.toString().padStart(6, "0")}`, _creationTime: 1_700_000_000_000 + i, body, channel: `c${i % CHANNELS}` };
  });
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))];
}

function timeRuns(run: () => unknown): { median: number; p95: number } {
  const times: number[] = [];
  for (let i = 0; i < QUERY_RUNS; i++) {
    const started = performance.now();
    run();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  return { median: percentile(times, 50), p95: percentile(times, 95) };
}

const index: SearchIndexDefinition = { table: "notes", name: "search_body", searchField: "body", filterFields: ["channel"] };

function engineIndex(docs: ReturnType<typeof corpus>, dir: string) {
  const db = new Database(path.join(dir, "engine.sqlite3"));
  db.pragma("journal_mode = WAL");
  const search = new SearchIndexes(db);
  search.sync([index], () => [], () => ({}));
  const started = performance.now();
  db.transaction(() => {
    for (const doc of docs) search.onWrite("notes", null, doc as unknown as Record<string, Value>);
  })();
  const buildMs = performance.now() - started;
  const query = (text: string, channel?: string) => {
    const filters = [
      { type: "Search" as const, fieldPath: "body", value: text },
      ...(channel ? [{ type: "Eq" as const, fieldPath: "channel", value: channel }] : []),
    ];
    const { tokens, conditions } = search.compile(index, filters, (json) => json as Value);
    return search.search(index, tokens, conditions).slice(0, 10);
  };
  return { db, buildMs, query };
}

function fts5Index(docs: ReturnType<typeof corpus>, dir: string) {
  const db = new Database(path.join(dir, "fts5.sqlite3"));
  db.pragma("journal_mode = WAL");
  db.exec("CREATE VIRTUAL TABLE notes USING fts5(body, filters, doc_id UNINDEXED, tokenize = 'ascii', prefix = '1 2 3')");
  const insert = db.prepare("INSERT INTO notes (body, filters, doc_id) VALUES (?, ?, ?)");
  const started = performance.now();
  db.transaction(() => {
    for (const doc of docs) insert.run(tokenize(doc.body).join(" "), `ch${doc.channel}`, doc._id);
  })();
  const buildMs = performance.now() - started;
  const statement = db.prepare("SELECT doc_id, bm25(notes, 1.0, 0.0) AS score FROM notes WHERE notes MATCH ? ORDER BY score LIMIT 10");
  const query = (text: string, channel?: string) => {
    const tokens = tokenize(text);
    const terms = tokens.map((token, i) => (i === tokens.length - 1 ? `body:${token}*` : `body:${token}`)).join(" OR ");
    return statement.all(channel ? `(${terms}) AND filters:ch${channel}` : terms);
  };
  return { db, buildMs, query };
}

function main(): void {
  for (const size of SIZES) {
    const docs = corpus(size);
    const dir = mkdtempSync(path.join(os.tmpdir(), "search-bench-"));
    try {
      const engine = engineIndex(docs, dir);
      const fts5 = fts5Index(docs, dir);
      console.log(`\n${size.toLocaleString("en-US")} documents`);
      const rate = (ms: number) => Math.round((size / ms) * 1000).toLocaleString("en-US");
      console.log(`  build: engine ${rate(engine.buildMs)} docs/s, FTS5 ${rate(fts5.buildMs)} docs/s (engine/FTS5 time ${(engine.buildMs / fts5.buildMs).toFixed(1)}×)`);
      const cases: [string, string, string | undefined][] = [
        ["two exact terms", `${words[3]} ${words[40]}`, undefined],
        ["short prefix last", `${words[7]} ${words[1200].slice(0, 2)}`, undefined],
        ["two terms + filter", `${words[3]} ${words[40]}`, "c7"],
        ["prefix + filter", `${words[7]} ${words[1200].slice(0, 2)}`, "c7"],
      ];
      for (const [label, text, channel] of cases) {
        const ours = timeRuns(() => engine.query(text, channel));
        const peer = timeRuns(() => fts5.query(text, channel));
        console.log(
          `  ${label.padEnd(20)} engine median ${ours.median.toFixed(2)} ms p95 ${ours.p95.toFixed(2)} ms | ` +
            `FTS5 median ${peer.median.toFixed(2)} ms p95 ${peer.p95.toFixed(2)} ms | engine/FTS5 ${(ours.median / peer.median).toFixed(1)}×`,
        );
      }
      engine.db.close();
      fts5.db.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

main();
