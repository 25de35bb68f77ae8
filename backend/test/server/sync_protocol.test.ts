/**
 * The sync protocol against the real convex/browser client, over an in-memory engine whose
 * read and write sets are exact, so the tests can count re-runs and control timing.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { anyApi } from "convex/server";
import { ConvexError, type JSONValue } from "convex/values";
import type { ConvexClient } from "convex/browser";
import { FakeEngine, FunctionError } from "./fake_engine.js";
import { CONNECT, eventually, rawSocket, serve, syncClient } from "./helpers.js";
import type { BackendServer } from "../../src/server/index.js";
import { decodeTs } from "../../src/server/timestamps.js";

const api = anyApi;

function kvEngine(): FakeEngine {
  return new FakeEngine({
    "kv:get": { kind: "query", handler: (ctx, { key }) => ctx.read(key as string) },
    "kv:sum": {
      kind: "query",
      handler: (ctx, { keys }) => (keys as string[]).reduce((sum, key) => sum + Number(ctx.read(key) ?? 0), 0),
    },
    "kv:set": { kind: "mutation", handler: (ctx, { key, value }) => ctx.write(key as string, value as JSONValue) },
    "kv:increment": {
      kind: "mutation",
      handler: (ctx, { key }) => {
        const next = Number(ctx.read(key as string) ?? 0) + 1;
        ctx.write(key as string, next);
        return next;
      },
    },
    "kv:noop": { kind: "mutation", handler: () => "nothing written" },
    "kv:conflict": {
      kind: "mutation",
      handler: () => {
        throw new FunctionError("slot taken", { code: "CONFLICT", slot: 3 });
      },
    },
    "kv:whoami": { kind: "query", handler: (ctx) => (ctx.identity?.tokenIdentifier as string | undefined) ?? null },
    "kv:echo": { kind: "action", handler: (_ctx, { text }) => `echo ${text}` },
    "kv:secret": { kind: "query", internal: true, handler: () => "secret" },
  });
}

describe("sync protocol with ConvexClient (in-memory engine)", () => {
  let engine: FakeEngine;
  let server: BackendServer;
  const clients: ConvexClient[] = [];
  const client = () => {
    const created = syncClient(server.cloudUrl);
    clients.push(created);
    return created;
  };

  beforeEach(async () => {
    engine = kvEngine();
    server = await serve(engine, { pingIntervalMs: 300 });
  });
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((c) => c.close()));
    await server.close();
  });

  it("pushes updates to subscribers, and a mutation resolves only once its effect is visible", async () => {
    const convex = client();
    const seen: unknown[] = [];
    const watch = convex.onUpdate(api.kv.get, { key: "a" }, (value) => seen.push(value));
    await eventually(() => (seen.length > 0 ? true : undefined));
    expect(seen).toEqual([null]);

    for (const value of ["one", "two", "three"]) {
      await convex.mutation(api.kv.set, { key: "a", value });
      // Resolved only after the Transition carrying the new value arrived.
      expect(watch.getCurrentValue()).toBe(value);
    }
    expect(seen).toEqual([null, "one", "two", "three"]);
  });

  it("resolves a mutation that changed none of the caller's queries, and one that wrote nothing", async () => {
    const convex = client();
    const watch = convex.onUpdate(api.kv.get, { key: "watched" }, () => undefined);
    await eventually(() => (watch.getCurrentValue() === null ? true : undefined));
    expect(await convex.mutation(api.kv.increment, { key: "elsewhere" })).toBe(1);
    expect(await convex.mutation(api.kv.noop, {})).toBe("nothing written");
    expect(await convex.mutation(api.kv.increment, { key: "elsewhere" })).toBe(2);
  });

  it("shares one re-run among many connections watching the same query", async () => {
    const watchers = Array.from({ length: 20 }, () => client());
    const values = watchers.map((watcher) => {
      let latest: unknown;
      watcher.onUpdate(api.kv.get, { key: "shared" }, (value) => (latest = value));
      return () => latest;
    });
    await eventually(() => (values.every((v) => v() === null) ? true : undefined));
    expect(server.subscriptionStats().sharedQueries).toBe(1);
    const runsBefore = engine.queryRuns;

    await client().mutation(api.kv.set, { key: "shared", value: 42 });
    await eventually(() => (values.every((v) => v() === 42) ? true : undefined));
    expect(engine.queryRuns - runsBefore).toBe(1);
  });

  it("re-runs only the queries whose reads a commit touched", async () => {
    const convex = client();
    const a = convex.onUpdate(api.kv.get, { key: "a" }, () => undefined);
    const b = convex.onUpdate(api.kv.get, { key: "b" }, () => undefined);
    await eventually(() => (a.getCurrentValue() === null && b.getCurrentValue() === null ? true : undefined));
    const runsBefore = engine.queryRuns;
    await convex.mutation(api.kv.set, { key: "a", value: 1 });
    expect(a.getCurrentValue()).toBe(1);
    expect(engine.queryRuns - runsBefore).toBe(1);
  });

  it("delivers updates in commit order to every subscriber", async () => {
    const writer = client();
    const readers = [client(), client(), client()];
    const histories = readers.map((reader) => {
      const history: number[] = [];
      reader.onUpdate(api.kv.get, { key: "n" }, (value) => history.push(Number(value ?? 0)));
      return history;
    });
    await eventually(() => (histories.every((h) => h.length > 0) ? true : undefined));
    for (let i = 0; i < 30; i++) await writer.mutation(api.kv.increment, { key: "n" });
    await eventually(() => (histories.every((h) => h.at(-1) === 30) ? true : undefined));
    for (const history of histories) {
      const sorted = [...history].sort((x, y) => x - y);
      expect(history).toEqual(sorted);
    }
  });

  it("runs one connection's mutations one at a time, in order", async () => {
    const convex = client();
    const results = await Promise.all(Array.from({ length: 25 }, () => convex.mutation(api.kv.increment, { key: "seq" })));
    expect(results).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it("passes ConvexError data to the client as error.data", async () => {
    const convex = client();
    const error = await convex.mutation(api.kv.conflict, {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as ConvexError<{ code: string; slot: number }>).data).toEqual({ code: "CONFLICT", slot: 3 });
  });

  it("answers actions and refuses internal and unknown functions", async () => {
    const convex = client();
    expect(await convex.action(api.kv.echo, { text: "hi" })).toBe("echo hi");
    await expect(convex.query(api.kv.secret, {})).rejects.toThrow(/Could not find public function/);
    await expect(convex.mutation(api.nope.missing, {})).rejects.toThrow(/Could not find public function/);
  });

  it("replays a mutation cut off by a dropped connection exactly once", async () => {
    const convex = client();
    const watch = convex.onUpdate(api.kv.get, { key: "replayed" }, () => undefined);
    await eventually(() => (watch.getCurrentValue() === null ? true : undefined));
    // Drop every socket the moment the commit lands, before the response can be sent.
    const stop = engine.onCommit(() => {
      stop();
      server.dropConnections();
    });
    const result = await convex.mutation(api.kv.increment, { key: "replayed" });
    expect(result).toBe(1);
    expect(engine.data.get("replayed")).toBe(1);
    expect(engine.mutationRuns).toBe(1);
    expect(watch.getCurrentValue()).toBe(1);
  });

  it("sends Ping after silence and answers malformed frames with FatalError, staying up", async () => {
    const raw = await rawSocket(server.cloudUrl);
    raw.ws.send(CONNECT);
    await eventually(() => (raw.messages.some((m) => (m as { type: string }).type === "Ping") ? true : undefined), 5000, "Ping");

    raw.ws.send("{not json");
    expect(await raw.closed).toBe(1011);
    expect(raw.messages.at(-1)).toEqual({ type: "FatalError", error: expect.stringMatching(/not JSON/) });

    const wrongVersion = await rawSocket(server.cloudUrl);
    wrongVersion.ws.send(CONNECT);
    wrongVersion.ws.send(JSON.stringify({ type: "ModifyQuerySet", baseVersion: 3, newVersion: 4, modifications: [] }));
    await wrongVersion.closed;
    expect(wrongVersion.messages.at(-1)).toEqual({ type: "FatalError", error: expect.stringMatching(/query set is at version 0/) });

    const badShape = await rawSocket(server.cloudUrl);
    badShape.ws.send(CONNECT);
    badShape.ws.send(JSON.stringify({ type: "Mutation", requestId: "x", udfPath: "kv:set", args: [] }));
    await badShape.closed;
    expect(badShape.messages.at(-1)).toEqual({ type: "FatalError", error: expect.stringMatching(/Malformed Mutation message: requestId/) });

    // The server still serves everyone else.
    expect(await client().mutation(api.kv.increment, { key: "alive" })).toBe(1);
  });

  it("keeps each connection's versions consecutive (raw protocol)", async () => {
    const raw = await rawSocket(server.cloudUrl);
    raw.ws.send(CONNECT);
    raw.ws.send(
      JSON.stringify({
        type: "ModifyQuerySet",
        baseVersion: 0,
        newVersion: 1,
        modifications: [{ type: "Add", queryId: 0, udfPath: "kv:get", args: [{ key: "v" }] }],
      }),
    );
    raw.ws.send(JSON.stringify({ type: "Mutation", requestId: 0, udfPath: "kv:set", args: [{ key: "v", value: 7 }] }));
    raw.ws.send(
      JSON.stringify({ type: "ModifyQuerySet", baseVersion: 1, newVersion: 2, modifications: [{ type: "Remove", queryId: 0 }] }),
    );
    const response = await eventually(() => raw.messages.find((m) => (m as { type: string }).type === "MutationResponse") as
      | { ts: string }
      | undefined);
    await eventually(() => {
      const transitions = raw.messages.filter((m) => (m as { type: string }).type === "Transition") as {
        endVersion: { ts: string; querySet: number };
      }[];
      return transitions.some((t) => t.endVersion.querySet === 2) &&
        transitions.some((t) => decodeTs(t.endVersion.ts) >= decodeTs(response.ts))
        ? true
        : undefined;
    });
    const transitions = raw.messages.filter((m) => (m as { type: string }).type === "Transition") as {
      startVersion: { ts: string; querySet: number; identity: number };
      endVersion: { ts: string; querySet: number; identity: number };
    }[];
    for (let i = 1; i < transitions.length; i++) expect(transitions[i].startVersion).toEqual(transitions[i - 1].endVersion);
    expect(transitions[0].startVersion).toEqual({ querySet: 0, ts: "AAAAAAAAAAA=", identity: 0 });
    raw.ws.close();
  });

  it("re-runs every subscription after the functions are reloaded", async () => {
    const convex = client();
    const watch = convex.onUpdate(api.kv.get, { key: "reloaded" }, () => undefined);
    await eventually(() => (watch.getCurrentValue() === null ? true : undefined));
    // As if new code computed a different result from the same data.
    engine.data.set("reloaded", "new code");
    engine.reload();
    await eventually(() => (watch.getCurrentValue() === "new code" ? true : undefined));
  });

  it("answers an oversized mutation with a clear error and keeps the connection", async () => {
    await server.close();
    server = await serve(engine, { maxArgsBytes: 1024 });
    const convex = client();
    await expect(convex.mutation(api.kv.set, { key: "big", value: "x".repeat(4096) })).rejects.toThrow(/too large: \d+ bytes, the limit is 1024/);
    expect(await convex.mutation(api.kv.increment, { key: "small" })).toBe(1);
    expect(engine.data.has("big")).toBe(false);
  });
});
