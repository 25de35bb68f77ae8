import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { LocalEngine } from "../../src/engine/engine.js";
import { a, admin, anonymous, m, openFixtureEngine, q, removeTempDirs, tempDir } from "./helpers.js";

let engine: LocalEngine;

beforeAll(async () => {
  engine = await openFixtureEngine();
});
afterAll(async () => {
  await engine.close();
  removeTempDirs();
});

describe("documents and indexes", () => {
  it("inserts, reads by index, patches, replaces and deletes", async () => {
    const id = await m(engine, "messages:send", { channel: "crud", author: "ann", body: "one" });
    expect(await q(engine, "messages:get", { id })).toMatchObject({ _id: id, body: "one", author: "ann" });
    await m(engine, "messages:like", { id });
    await m(engine, "messages:like", { id });
    expect((await q(engine, "messages:get", { id })).likes).toBe(2);
    await m(engine, "messages:edit", { id, body: "two" });
    const replaced = await q(engine, "messages:get", { id });
    expect(replaced.body).toBe("two");
    expect(replaced.likes).toBeUndefined();
    await m(engine, "messages:remove", { id });
    expect(await q(engine, "messages:get", { id })).toBeNull();
    expect(await q(engine, "messages:list", { channel: "crud" })).toEqual([]);
  });

  it("serves index ranges in order, both directions", async () => {
    await m(engine, "items:addMany", { category: "r", ranks: [5, 1, 9, 3, 7, 3] });
    const asc = (await q(engine, "items:between", { category: "r", low: 3, high: 8 })).map((i: any) => i.rank);
    expect(asc).toEqual([3, 3, 5, 7]);
    const desc = (await q(engine, "items:between", { category: "r", low: 3, high: 8, order: "desc" })).map((i: any) => i.rank);
    expect(desc).toEqual([7, 5, 3, 3]);
    expect(await q(engine, "items:topRanks", { category: "r", count: 2 })).toEqual([9, 7]);
  });

  it("evaluates filter expressions with Convex's value order", async () => {
    await m(engine, "items:addMany", { category: "f", ranks: [0, 1, 2, 3, 4, 7, 8, 9, 10] });
    await m(engine, "items:add", { category: "f", rank: 11, label: "skip" });
    // rank < 2 or rank*2 > 15, label != "skip", rank % 3 != 1
    expect((await q(engine, "items:filterExpressions", { category: "f" })).sort((x: number, y: number) => x - y)).toEqual([0, 8, 9]);
  });

  it("supports take, first, unique and full scans with order", async () => {
    await m(engine, "messages:send", { channel: "tf", author: "a", body: "1" });
    await m(engine, "messages:send", { channel: "tf", author: "b", body: "2" });
    await m(engine, "messages:send", { channel: "tf", author: "b", body: "3" });
    expect((await q(engine, "messages:firstInChannel", { channel: "tf" })).body).toBe("1");
    expect((await q(engine, "messages:listLatest", { channel: "tf", count: 2 })).map((x: any) => x.body)).toEqual(["3", "2"]);
    expect((await q(engine, "messages:uniqueByAuthor", { channel: "tf", author: "a" })).body).toBe("1");
    const dup = await engine.runQuery("messages:uniqueByAuthor", [{ channel: "tf", author: "b" }], admin);
    expect(dup.success).toBe(false);
    expect(!dup.success && dup.errorMessage).toContain("unique() query returned more than one result");
    await m(engine, "items:addMany", { category: "scan", ranks: [100, 101] });
    const all = await q(engine, "items:scanAll", { order: "desc" });
    expect(all.slice(0, 2)).toEqual([101, 100]);
  });

  it("counts documents and normalizes ids per table", async () => {
    const before = await q(engine, "messages:countAll");
    const id = await m(engine, "messages:send", { channel: "n", author: "a", body: "x" });
    expect(await q(engine, "messages:countAll")).toBe(before + 1);
    expect(await q(engine, "messages:normalize", { table: "messages", id })).toBe(id);
    expect(await q(engine, "messages:normalize", { table: "counters", id })).toBeNull();
    expect(await q(engine, "messages:normalize", { table: "messages", id: "garbage" })).toBeNull();
  });
});

describe("pagination", () => {
  it("pages with stable cursors while documents are inserted concurrently", async () => {
    for (let i = 0; i < 10; i++) await m(engine, "items:add", { category: "p", rank: i * 10 });
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    for (;;) {
      const result: any = await q(engine, "items:page", { category: "p", paginationOpts: { numItems: 3, cursor } });
      seen.push(...result.page.map((x: any) => x.rank));
      // Inserted behind the cursor: must not appear; ahead of it: must appear exactly once.
      await m(engine, "items:add", { category: "p", rank: -1 - pages });
      if (pages === 0) await m(engine, "items:add", { category: "p", rank: 95 });
      pages++;
      if (result.isDone) break;
      cursor = result.continueCursor;
    }
    expect(seen).toEqual([0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95]);
  });

  it("re-runs a page up to its endCursor, including items inserted inside it", async () => {
    for (const rank of [1, 2, 3, 4, 5, 6]) await m(engine, "items:add", { category: "e", rank });
    const first: any = await q(engine, "items:page", { category: "e", paginationOpts: { numItems: 3, cursor: null } });
    expect(first.page.map((x: any) => x.rank)).toEqual([1, 2, 3]);
    await m(engine, "items:add", { category: "e", rank: 2.5 });
    const again: any = await q(engine, "items:page", {
      category: "e",
      paginationOpts: { numItems: 3, cursor: null, endCursor: first.continueCursor },
    });
    expect(again.page.map((x: any) => x.rank)).toEqual([1, 2, 2.5, 3]);
    expect(again.continueCursor).toBe(first.continueCursor);
    const rest: any = await q(engine, "items:page", { category: "e", paginationOpts: { numItems: 10, cursor: first.continueCursor } });
    expect(rest.page.map((x: any) => x.rank)).toEqual([4, 5, 6]);
    expect(rest.isDone).toBe(true);
  });

  it("stops at maximumRowsRead with SplitRequired and a split cursor", async () => {
    for (const rank of [1, 2, 3, 4, 5]) await m(engine, "items:add", { category: "max", rank });
    const page: any = await q(engine, "items:page", {
      category: "max",
      paginationOpts: { numItems: 10, cursor: null, maximumRowsRead: 4 },
    });
    expect(page.pageStatus).toBe("SplitRequired");
    expect(page.page).toHaveLength(4);
    expect(page.isDone).toBe(false);
    expect(typeof page.splitCursor).toBe("string");
  });

  it("rejects a cursor it did not issue", async () => {
    const outcome = await engine.runQuery("items:page", [{ category: "x", paginationOpts: { numItems: 1, cursor: "nope" } }], admin);
    expect(!outcome.success && outcome.errorMessage).toContain("Failed to parse cursor");
  });
});

describe("validation and errors", () => {
  it("rejects invalid arguments naming the path and expected type, running nothing", async () => {
    const before = await q(engine, "messages:countAll");
    const outcome = await engine.runMutation("messages:send", [{ channel: "v", author: "a", body: 42 }], anonymous);
    expect(outcome.success).toBe(false);
    expect(!outcome.success && outcome.errorMessage).toMatch(/ArgumentValidationError[\s\S]*Path: \.body[\s\S]*v\.string\(\)/);
    expect(await q(engine, "messages:countAll")).toBe(before);
    const missing = await engine.runQuery("validation:shapes", [{ name: "x" }], anonymous);
    expect(!missing.success && missing.errorMessage).toContain("missing the required field `count`");
    const nested = await engine.runQuery(
      "validation:shapes",
      [{ name: "x", count: { $integer: "AQAAAAAAAAA=" }, ratio: 1, flags: [true, "no"], kind: "a", nested: { tags: {} }, nothing: null, anything: 1 }],
      anonymous,
    );
    expect(!nested.success && nested.errorMessage).toContain("Path: .flags[1]");
    const extra = await engine.runMutation("messages:send", [{ channel: "v", author: "a", body: "b", extra: 1 }], anonymous);
    expect(!extra.success && extra.errorMessage).toContain("extra field `extra`");
  });

  it("accepts every validator kind and checks return values", async () => {
    const ok = await engine.runQuery(
      "validation:shapes",
      [{ name: "x", count: { $integer: "AQAAAAAAAAA=" }, ratio: 1.5, flags: [true], kind: "b", nested: { inner: "i", tags: { a: 1 } }, raw: { $bytes: "AAE=" }, nothing: null, anything: [1, "two"] }],
      anonymous,
    );
    expect(ok.success).toBe(true);
    const bad = await engine.runQuery("validation:badReturn", [{}], anonymous);
    expect(!bad.success && bad.errorMessage).toContain("ReturnsValidationError");
  });

  it("validates written documents against the schema and refuses unknown tables", async () => {
    const invalid = await engine.runMutation("messages:writeInvalidDocument", [{}], anonymous);
    expect(!invalid.success && invalid.errorMessage).toContain("does not match the schema");
    const unknown = await engine.runMutation("messages:writeUnknownTable", [{}], anonymous);
    expect(!unknown.success && unknown.errorMessage).toContain('table "nope" is not declared in the schema');
  });

  it("returns ConvexError data, Convex-JSON encoded, and rolls the mutation back", async () => {
    const outcome = await engine.runMutation("messages:sendThenConvexError", [{ channel: "ce" }], anonymous);
    expect(outcome.success).toBe(false);
    expect(!outcome.success && outcome.errorData).toEqual({ code: "SLOT_TAKEN", slot: 3, when: { $integer: "AGjlz4sBAAA=" } });
    expect(await q(engine, "messages:list", { channel: "ce" })).toEqual([]);
  });

  it("reports plain errors as Uncaught Error and keeps nothing of a failed mutation", async () => {
    const outcome = await engine.runMutation("messages:sendThenFail", [{ channel: "fail", body: "x" }], anonymous);
    expect(!outcome.success && outcome.errorMessage).toBe("Uncaught Error: failed after writing");
    expect(await q(engine, "messages:list", { channel: "fail" })).toEqual([]);
  });

  it("refuses internal functions to outside callers and unknown functions", async () => {
    const refused = await engine.runMutation("messages:sendInternal", [{ channel: "i", author: "a", body: "b" }], anonymous);
    expect(!refused.success && refused.errorMessage).toContain("Could not find public function for 'messages:sendInternal'");
    expect((await engine.runMutation("messages:sendInternal", [{ channel: "i", author: "a", body: "b" }], admin)).success).toBe(true);
    const missing = await engine.runQuery("messages:nope", [{}], anonymous);
    expect(!missing.success && missing.errorMessage).toContain("Could not find public function");
    const wrongKind = await engine.runQuery("messages:send", [{}], anonymous);
    expect(!wrongKind.success && wrongKind.errorMessage).toContain("defined as mutation");
  });
});

describe("execution", () => {
  it("serializes concurrent increments (no lost updates)", async () => {
    await Promise.all(Array.from({ length: 50 }, () => engine.runMutation("counters:increment", [{ name: "c" }], anonymous)));
    expect(await q(engine, "counters:get", { name: "c" })).toBe(50);
  });

  it("runs actions that call queries, mutations, internal functions and actions", async () => {
    expect(await a(engine, "actions:sendAndCount", { channel: "act", body: "x" })).toBe(2);
    expect(await a(engine, "actions:nested", { depth: 3 })).toBe(3);
    expect(await a(engine, "actions:catchesConvexError", { channel: "act2" })).toMatchObject({ code: "SLOT_TAKEN" });
    expect(await a(engine, "actions:concurrentIncrements", { name: "ac", times: 20 })).toBe(20);
    const failed = await engine.runAction("actions:fails", [{}], anonymous);
    expect(!failed.success && failed.errorData).toEqual({ code: "ACTION_FAILED" });
  });

  it("freezes Date.now within a query and captures console output as log lines", async () => {
    const clock = await q(engine, "runtime:clock");
    expect(clock.first).toBe(clock.second);
    expect(clock.date).toBe(clock.first);
    const logs = await engine.runQuery("runtime:logs", [{ text: "hello" }], anonymous);
    expect(logs.logLines).toEqual(["[LOG] 'hello'", "[WARN] 'careful' { n: 1 }", "[ERROR] 'bad'"]);
  });

  it("gives functions the deployment env and the identity of the caller", async () => {
    expect(await q(engine, "runtime:env", { name: "FIXTURE_FLAG" })).toBe("on");
    expect(await q(engine, "runtime:env", { name: "CONVEX_SITE_URL" })).toBe("http://127.0.0.1:3211");
    expect(await q(engine, "runtime:env", { name: "PATH" })).toBeNull();
    const identity = { tokenIdentifier: "iss|sub", subject: "sub", issuer: "iss", email: "a@b.c" };
    expect(value(await engine.runQuery("runtime:identity", [{}], { identity }))).toEqual(identity);
    expect(value(await engine.runAction("runtime:identityInAction", [{}], { identity }))).toEqual(identity);
  });

  it("stops a mutation that runs past the time limit and keeps none of its writes", async () => {
    const quick = await openFixtureEngine({ transactionTimeoutMs: 100 });
    try {
      const outcome = await quick.runMutation("runtime:spin", [{}], anonymous);
      expect(!outcome.success && outcome.errorMessage).toContain("timed out");
      expect(value(await quick.runQuery("counters:get", [{ name: "spin" }], anonymous))).toBe(0);
      expect((await quick.runMutation("counters:increment", [{ name: "after" }], anonymous)).success).toBe(true);
    } finally {
      await quick.close();
    }
  });

  it("replays a mutation with the same idempotency key without running it again", async () => {
    const options = { identity: null, idempotencyKey: "session-1:7" };
    const first = await engine.runMutation("counters:increment", [{ name: "idem" }], options);
    const second = await engine.runMutation("counters:increment", [{ name: "idem" }], options);
    expect(second).toEqual(first);
    expect(await q(engine, "counters:get", { name: "idem" })).toBe(1);
  });

  it("serves HTTP actions with the raw request and 404 for unknown routes", async () => {
    const hello = await engine.runHttpAction(new Request("http://127.0.0.1:3211/hello"));
    expect(await hello.text()).toBe("hello");
    const echo = await engine.runHttpAction(
      new Request("http://127.0.0.1:3211/echo", { method: "POST", body: '{"raw": true }', headers: { "x-signature": "s1" } }),
    );
    expect(echo.status).toBe(201);
    expect(await echo.text()).toBe('{"raw": true }');
    expect(echo.headers.get("x-signature-seen")).toBe("s1");
    const viaMutation = await engine.runHttpAction(
      new Request("http://127.0.0.1:3211/messages", { method: "POST", body: JSON.stringify({ channel: "http", body: "b" }) }),
    );
    expect(await viaMutation.json()).toMatchObject({ count: 1 });
    const prefixed = await engine.runHttpAction(new Request("http://127.0.0.1:3211/files/a/b.txt"));
    expect(await prefixed.text()).toBe("file a/b.txt");
    expect((await engine.runHttpAction(new Request("http://127.0.0.1:3211/nope"))).status).toBe(404);
  });

  it("stores files from actions", async () => {
    const stored = await a(engine, "actions:storeAndRead", { text: "file body" });
    expect(stored).toMatchObject({ text: "file body", hasUrl: true });
    const file = await engine.getStoredFile(stored.storageId);
    expect(file).toMatchObject({ size: 9, contentType: "text/plain" });
  });

  it("normalizes auth providers from auth.config.ts with the deployment env", () => {
    expect(engine.authProviders()).toEqual([
      { type: "customJwt", issuer: "http://127.0.0.1:3210", jwks: "data:application/json,%7B%22keys%22%3A%5B%5D%7D", algorithm: "RS256", applicationID: "fixture" },
      { type: "oidc", issuer: "https://issuer.example.test", applicationID: "convex" },
    ]);
  });

  it("announces commits in order with strictly increasing timestamps", async () => {
    const seen: bigint[] = [];
    const stop = engine.onCommit((commit) => seen.push(commit.ts));
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, (_, i) => engine.runMutation("messages:send", [{ channel: "ts", author: "a", body: String(i) }], anonymous)),
    );
    stop();
    expect(seen).toHaveLength(20);
    for (let i = 1; i < seen.length; i++) expect(seen[i] > seen[i - 1]).toBe(true);
    expect(outcomes.map((o) => o.ts).sort()).toEqual([...seen].sort());
    expect(engine.latestTs()).toBe(seen[seen.length - 1]);
  });
});

describe("durability across reopen", () => {
  it("keeps data, timestamps and table numbers after close and reopen", async () => {
    const dataDir = tempDir();
    const first = await openFixtureEngine({}, dataDir);
    const id = value(await first.runMutation("messages:send", [{ channel: "dur", author: "a", body: "kept" }], anonymous));
    const ts = first.latestTs();
    await first.close();
    const second = await openFixtureEngine({}, dataDir);
    try {
      expect(second.latestTs()).toBe(ts);
      expect(value(await second.runQuery("messages:get", [{ id }], anonymous)).body).toBe("kept");
      const next = await second.runMutation("messages:send", [{ channel: "dur", author: "a", body: "more" }], anonymous);
      expect(next.ts > ts).toBe(true);
    } finally {
      await second.close();
    }
  });
});

function value(outcome: { success: boolean; value?: unknown; errorMessage?: string }): any {
  if (!outcome.success) throw new Error(outcome.errorMessage);
  return outcome.value;
}
