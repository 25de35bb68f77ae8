/**
 * Text and vector search semantics of the engine, checked against Convex's behaviour
 * (docs.convex.dev "Full Text Search" and get-convex/convex-backend crates/search).
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import type { LocalEngine } from "../../src/engine/engine.js";
import { loadApp, type LoadedApp } from "../../src/engine/loader.js";
import { tokenize } from "../../src/engine/search.js";
import type { Commit, ReadSet } from "../../src/engine/types.js";
import { a, admin, m, q, removeTempDirs, tempDir } from "./helpers.js";
import { LocalEngine as Engine } from "../../src/engine/engine.js";

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/search_app");
let build: Promise<LoadedApp> | null = null;

async function open(dataDir = tempDir()): Promise<LocalEngine> {
  build ??= loadApp(appDir, tempDir("search-build-"), {});
  return await Engine.open(
    { convexDir: appDir, dataDir, env: {}, siteUrl: "http://127.0.0.1:3211", cloudUrl: "http://127.0.0.1:3210", runCrons: false },
    build,
  );
}

let engine: LocalEngine;
beforeEach(async () => {
  engine = await open();
});
afterEach(async () => {
  await engine.close();
});
afterAll(() => removeTempDirs());

async function add(body: string, channel = "c", extra: Record<string, unknown> = {}): Promise<string> {
  return await m(engine, "notes:add", { body, channel, ...extra } as never);
}
const search = (text: string, extra: Record<string, unknown> = {}) => q(engine, "notes:search", { text, ...extra } as never);

async function failure(promise: Promise<{ success: boolean; errorMessage?: string }>): Promise<string> {
  const outcome = await promise;
  if (outcome.success) throw new Error("expected the call to fail");
  return outcome.errorMessage!;
}

describe("tokenizing", () => {
  it("splits on anything but letters and digits, lowercases, drops terms of 32 bytes or more", () => {
    expect(tokenize("Hello, World! foo-bar_baz 42x")).toEqual(["hello", "world", "foo", "bar", "baz", "42x"]);
    expect(tokenize("jane.doe@example.com +44 7700 900123")).toEqual(["jane", "doe", "example", "com", "44", "7700", "900123"]);
    expect(tokenize("Crème BRÛLÉE")).toEqual(["crème", "brûlée"]);
    expect(tokenize(`${"a".repeat(31)} ${"b".repeat(32)} ok`)).toEqual(["a".repeat(31), "ok"]);
    // Character-wise lowercasing, as Tantivy's LowerCaser: no final-sigma rule.
    expect(tokenize("ΟΔΟΣ")).toEqual(["οδοσ"]);
  });
});

describe("matching", () => {
  it("ignores case and punctuation and does not fold accents", async () => {
    await add("Hello, World!");
    await add("Crème brûlée");
    expect(await search("WORLD")).toEqual(["Hello, World!"]);
    expect(await search("brûlée")).toEqual(["Crème brûlée"]);
    expect(await search("brulee")).toEqual([]);
  });

  it("matches the last term as a prefix and earlier terms only exactly, with no fuzzy matches", async () => {
    await add("rabbit");
    await add("send request");
    await add("snake");
    expect((await search("r")).sort()).toEqual(["rabbit", "send request"]);
    expect(await search("rab zzz")).toEqual([]);
    expect(await search("zzz rab")).toEqual(["rabbit"]);
    expect(await search("stake")).toEqual([]);
  });

  it("returns documents holding any term (OR), best match first", async () => {
    await add("Foo Bar Baz");
    await add("Hello World");
    await add("Foo");
    expect(await search("foo missing")).toEqual(["Foo", "Foo Bar Baz"]);
    expect((await search("foo bar"))[0]).toBe("Foo Bar Baz");
    expect(await search("   ")).toEqual([]);
  });

  it("uses only the first 16 terms of the query", async () => {
    await add("needle");
    const fillers = Array.from({ length: 16 }, (_, i) => `w${i}`).join(" ");
    expect(await search(`${fillers} needle`)).toEqual([]);
    expect(await search(`${Array.from({ length: 15 }, (_, i) => `w${i}`).join(" ")} needle`)).toEqual(["needle"]);
  });

  it("searches a nested search field", async () => {
    await m(engine, "notes:addTitled", { body: "b1", title: "Quarterly Report" });
    expect(await q(engine, "notes:searchTitle", { text: "quart" })).toEqual(["b1"]);
  });
});

describe("relevance order", () => {
  it("ranks by BM25: frequency, field length and exact over prefix matches", async () => {
    await add("apple banana cherry date elderberry apple");
    await add("apple apple apple");
    await add("one apple among many other words in a long sentence");
    expect(await search("apple")).toEqual([
      "apple apple apple",
      "apple banana cherry date elderberry apple",
      "one apple among many other words in a long sentence",
    ]);
    await add("car");
    await add("cart");
    expect(await search("car")).toEqual(["car", "cart"]);
  });

  it("breaks ties newest first", async () => {
    await add("hello convex");
    await add("hello next");
    await add("hello base");
    expect(await search("hello")).toEqual(["hello base", "hello next", "hello convex"]);
  });
});

describe("filters, limits and pagination", () => {
  it("filters on filterFields, including a missing field as undefined", async () => {
    await add("world one", "c1", { author: "alice" });
    await add("world two", "c2", { author: "bob" });
    await add("world three", "c1");
    expect((await search("world", { channel: "c1" })).sort()).toEqual(["world one", "world three"]);
    expect(await search("world", { channel: "c1", author: "alice" })).toEqual(["world one"]);
    expect(await search("world", { author: null })).toEqual(["world three"]);
    expect(await search("world", { channel: "nowhere" })).toEqual([]);
  });

  it("applies .filter after the search, then the limit", async () => {
    await add("tea green", "c", { author: "x" });
    await add("tea black", "c", { author: "y" });
    await add("tea white", "c", { author: "x" });
    await add("tea oolong", "c", { author: "x" });
    expect(await q(engine, "notes:searchFiltered", { text: "tea", author: "x" })).toEqual(["tea oolong", "tea white"]);
  });

  it("paginates in relevance order without repeats", async () => {
    for (const body of ["kiwi", "kiwi kiwi", "kiwi fruit salad", "kiwi tart", "kiwi jam on toast today"]) await add(body, "pg");
    const all = await search("kiwi", { channel: "pg" });
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const page: { page: string[]; isDone: boolean; continueCursor: string } = await q(engine, "notes:page", {
        text: "kiwi",
        channel: "pg",
        paginationOpts: { numItems: 2, cursor },
      });
      seen.push(...page.page);
      cursor = page.continueCursor;
      if (page.isDone) break;
    }
    expect(seen).toEqual(all);
    expect(seen).toHaveLength(5);
  });

  it("fails past 1024 candidates as Convex does, while take(1024) succeeds", async () => {
    await m(engine, "notes:addMany", { notes: Array.from({ length: 1025 }, (_, i) => ({ body: `bulk ${i}`, channel: "bulk" })) });
    expect(await search("bulk", { limit: 1024 })).toHaveLength(1024);
    expect(await failure(engine.runQuery("notes:collectAll", [{ text: "bulk" }], admin))).toContain(
      "Search query scanned too many documents (fetched 1024)",
    );
  });

  it("rejects malformed search queries with Convex's messages", async () => {
    const misuse = (kind: string) => failure(engine.runQuery("notes:misuse", [{ kind }], admin));
    expect(await misuse("wrongSearchField")).toContain(
      'Search query against notes.search_body contains a search filter against "channel", which doesn\'t match the indexed `searchField` "body".',
    );
    expect(await misuse("wrongFilterField")).toContain(
      'Search query against notes.search_body contains an equality filter on "body" but that field isn\'t indexed for filtering in `filterFields`.',
    );
    expect(await misuse("noSearch")).toContain("Search query against notes.search_body does not contain any search filters.");
    expect(await misuse("databaseIndex")).toContain("Index notes.by_channel is not a search index");
    expect(await misuse("missingIndex")).toContain("Index notes.nope not found.");
    expect(await misuse("tooManyFilters")).toContain("has too many filter conditions. Max: 8 Actual: 9");
  });
});

describe("transactions and durability", () => {
  it("keeps the index in step with insert, patch, replace and delete", async () => {
    const id = await add("original words");
    expect(await search("original")).toEqual(["original words"]);
    await m(engine, "notes:setBody", { id, body: "patched text" });
    expect(await search("original")).toEqual([]);
    expect(await search("patched")).toEqual(["patched text"]);
    await m(engine, "notes:replaceNote", { id, body: "replaced text", channel: "r" });
    expect(await search("patched")).toEqual([]);
    expect(await search("replaced", { channel: "r" })).toEqual(["replaced text"]);
    await m(engine, "notes:remove", { id });
    expect(await search("replaced")).toEqual([]);
  });

  it("sees the transaction's own writes and forgets rolled-back ones", async () => {
    expect(await m(engine, "notes:addThenSearch", { body: "fresh note", text: "fresh" })).toEqual(["fresh note"]);
    await failure(engine.runMutation("notes:failingAddThenSearch", [{ body: "ghost note" }], admin));
    expect(await search("ghost")).toEqual([]);
  });

  it("survives a restart and rebuilds an index that is missing", async () => {
    const dataDir = tempDir();
    await engine.close();
    engine = await open(dataDir);
    await add("persistent memory");
    await engine.close();
    engine = await open(dataDir);
    expect(await search("persistent")).toEqual(["persistent memory"]);
    engine.store.db.exec("DELETE FROM search_indexes; DELETE FROM search_postings; DELETE FROM search_terms; DELETE FROM search_stats");
    await engine.close();
    engine = await open(dataDir);
    expect(await search("persist")).toEqual(["persistent memory"]);
  });
});

describe("reactivity", () => {
  async function readSetOf(args: Record<string, unknown>): Promise<ReadSet> {
    const outcome = await engine.runQuery("notes:search", [args as never], admin);
    if (!outcome.success) throw new Error(outcome.errorMessage);
    return outcome.readSet;
  }
  async function writes(pathName: string, args: Record<string, unknown>) {
    let commit: Commit | null = null;
    const stop = engine.onCommit((c) => (commit = c));
    const outcome = await engine.runMutation(pathName, [args as never], admin);
    stop();
    if (!outcome.success) throw new Error(outcome.errorMessage);
    return (commit as Commit | null)!.writes;
  }

  it("re-runs a search only when a written document holds a matching term under its filter", async () => {
    const hit = await add("apple pie", "r1");
    const reads = await readSetOf({ text: "apple", channel: "r1" });
    expect(engine.overlaps(reads, await writes("notes:add", { body: "apple crumble", channel: "r1" }))).toBe(true);
    expect(engine.overlaps(reads, await writes("notes:add", { body: "applesauce", channel: "r1" }))).toBe(true);
    expect(engine.overlaps(reads, await writes("notes:add", { body: "apple tart", channel: "r2" }))).toBe(false);
    expect(engine.overlaps(reads, await writes("notes:add", { body: "pineapple", channel: "r1" }))).toBe(false);
    const other = await add("banana", "r1");
    // A document gaining the term, and a result changing elsewhere, both re-run it.
    expect(engine.overlaps(reads, await writes("notes:setBody", { id: other, body: "banana apple" }))).toBe(true);
    expect(engine.overlaps(reads, await writes("notes:setChannel", { id: hit, channel: "r3" }))).toBe(true);
  });

  it("tracks earlier query terms exactly", async () => {
    const reads = await readSetOf({ text: "red apple" });
    expect(engine.overlaps(reads, await writes("notes:add", { body: "red", channel: "x" }))).toBe(true);
    expect(engine.overlaps(reads, await writes("notes:add", { body: "reddish", channel: "x" }))).toBe(false);
  });
});

describe("vector search", () => {
  it("ranks by cosine similarity, filters with q.or over filter fields, honours the limit", async () => {
    await add("convex", "v", { author: "sarah", embedding: [1, 1, 1] });
    await add("next", "w", { author: "michal", embedding: [0, 0, 1] });
    await add("base", "v", { author: "sarah", embedding: [1, 1, 0] });
    await add("wrong size", "v", { embedding: [1, 1] });
    await add("no vector", "v");
    const all: { _id: string; _score: number }[] = await a(engine, "notes:vector", { vector: [1, 1, 1] });
    expect(all).toHaveLength(3);
    expect(all[0]._score).toBeCloseTo(1, 5);
    expect(all[1]._score).toBeCloseTo(2 / Math.sqrt(6), 5);
    expect(all[2]._score).toBeCloseTo(1 / Math.sqrt(3), 5);
    expect(await a(engine, "notes:vector", { vector: [1, 1, 1], limit: 1 })).toHaveLength(1);
    expect(await a(engine, "notes:vector", { vector: [1, 1, 1], channel: "w" })).toHaveLength(1);
    expect(await a(engine, "notes:vector", { vector: [1, 1, 1], channel: "sarah" })).toHaveLength(2);
  });

  it("rejects bad queries with Convex's messages", async () => {
    const call = (args: Record<string, unknown>) => failure(engine.runAction("notes:vector", [args as never], admin));
    expect(await call({ vector: [1, 1] })).toContain("Expected a vector with dimensions 3, received 2.");
    expect(await call({ vector: [1, 1, 1], limit: 300 })).toContain("Vector queries can fetch at most 256 results, requested 300.");
    expect(await call({ vector: [1, 1, 1], wrongField: true })).toContain(
      'Vector query against notes.by_embedding contains a filter on "body" but that field isn\'t indexed for filtering in `filterFields`.',
    );
  });
});
