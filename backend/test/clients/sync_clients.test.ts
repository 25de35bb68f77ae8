/**
 * convex/browser ConvexClient and convex/react ConvexReactClient against the local backend
 * running the fixture app.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvexError, type Value } from "convex/values";
import { anyApi } from "convex/server";
import { api } from "../fixtures/app/_generated/api.js";
import { eventually } from "../server/helpers.js";
import { removeTempDirs, startInProcess, type InProcessBackend } from "./harness.js";

let backend: InProcessBackend;

beforeAll(async () => {
  backend = await startInProcess();
});
afterAll(async () => {
  await backend.close();
  removeTempDirs();
});

describe("ConvexClient", () => {
  it("delivers the initial result, then every change, in order", async () => {
    const reader = backend.syncClient();
    const writer = backend.syncClient();
    const lengths: number[] = [];
    reader.onUpdate(api.messages.list, { channel: "ordered" }, (messages) => lengths.push(messages.length));
    await eventually(() => (lengths.length > 0 ? true : undefined));
    for (let i = 0; i < 10; i++) await writer.mutation(api.messages.send, { channel: "ordered", author: "w", body: `m${i}` });
    await eventually(() => (lengths.at(-1) === 10 ? true : undefined));
    expect(lengths[0]).toBe(0);
    expect(lengths).toEqual([...lengths].sort((a, b) => a - b));
  });

  it("shows a mutation's effect in the caller's subscriptions when the mutation resolves", async () => {
    const client = backend.syncClient();
    const watch = client.onUpdate(api.counters.get, { name: "visible" }, () => undefined);
    await eventually(() => (watch.getCurrentValue() === 0 ? true : undefined));
    for (let i = 1; i <= 5; i++) {
      expect(await client.mutation(api.counters.increment, { name: "visible" })).toBe(i);
      expect(watch.getCurrentValue()).toBe(i);
    }
  });

  it("re-runs a query watched by 100 connections once per change", async () => {
    const watchers = Array.from({ length: 100 }, () => backend.syncClient());
    const watches = watchers.map((client) => client.onUpdate(api.counters.get, { name: "popular" }, () => undefined));
    await eventually(() => (watches.every((w) => w.getCurrentValue() === 0) ? true : undefined));
    const before = backend.server.subscriptionStats();
    await backend.syncClient().mutation(api.counters.increment, { name: "popular" });
    await eventually(() => (watches.every((w) => w.getCurrentValue() === 1) ? true : undefined));
    expect(backend.server.subscriptionStats().reruns - before.reruns).toBe(1);
    await Promise.all(watchers.map((client) => client.close()));
  });

  it("rebuilds ConvexError data (bigints included) as error.data, and rolls the write back", async () => {
    const client = backend.syncClient();
    const error = await client.mutation(api.messages.sendThenConvexError, { channel: "errors" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as ConvexError<Value>).data).toEqual({ code: "SLOT_TAKEN", slot: 3, when: 1700000000000n });
    expect(await client.query(api.messages.list, { channel: "errors" })).toEqual([]);

    const actionError = await client.action(api.actions.fails, {}).catch((e: unknown) => e);
    expect((actionError as ConvexError<Value>).data).toEqual({ code: "ACTION_FAILED" });
  });

  it("reports a failing query to onUpdate's error callback", async () => {
    const client = backend.syncClient();
    const error = await new Promise<Error>((resolve) => {
      client.onUpdate(api.validation.badReturn, {}, () => undefined, resolve);
    });
    expect(error.message).toMatch(/ReturnsValidationError|return value|ok/i);
  });

  it("runs actions that call queries and mutations", async () => {
    const client = backend.syncClient();
    expect(await client.action(api.actions.sendAndCount, { channel: "via-action", body: "hi" })).toBe(2);
  });

  it("refuses internal and unknown functions and invalid arguments with clear errors", async () => {
    const client = backend.syncClient();
    await expect(client.action(anyApi.actions.secret, {})).rejects.toThrow(/Could not find public function for 'actions:secret'/);
    await expect(client.mutation(anyApi.nope.missing, {})).rejects.toThrow(/Could not find public function for 'nope:missing'/);
    await expect(client.mutation(api.messages.send, { channel: 1 } as never)).rejects.toThrow(/channel|ArgumentValidationError/);
    // The connection still works.
    expect(await client.mutation(api.counters.increment, { name: "after-errors" })).toBe(1);
  });

  it("replays a mutation after the connection drops mid-flight, applying it once", async () => {
    const client = backend.syncClient();
    const watch = client.onUpdate(api.counters.get, { name: "replay" }, () => undefined);
    await eventually(() => (watch.getCurrentValue() === 0 ? true : undefined));
    const stop = backend.server.engine.onCommit(() => {
      stop();
      backend.server.dropConnections();
    });
    expect(await client.mutation(api.counters.increment, { name: "replay" })).toBe(1);
    expect(watch.getCurrentValue()).toBe(1);
    expect(await backend.httpClient().query(api.counters.get, { name: "replay" })).toBe(1);
  });
});

describe("ConvexReactClient", () => {
  it("notifies watchQuery subscribers of changes and reflects mutations on resolve", async () => {
    const client = backend.reactClient();
    const watch = client.watchQuery(api.messages.list, { channel: "react" });
    let notifications = 0;
    const unsubscribe = watch.onUpdate(() => notifications++);
    await eventually(() => (watch.localQueryResult() !== undefined ? true : undefined));
    expect(watch.localQueryResult()).toEqual([]);

    await client.mutation(api.messages.send, { channel: "react", author: "r", body: "first" });
    expect(watch.localQueryResult()?.map((m) => m.body)).toEqual(["first"]);
    await client.mutation(api.messages.send, { channel: "react", author: "r", body: "second" });
    expect(watch.localQueryResult()?.map((m) => m.body)).toEqual(["first", "second"]);
    expect(notifications).toBeGreaterThanOrEqual(3);
    unsubscribe();
  });

  it("applies an optimistic update, then the server's result", async () => {
    const client = backend.reactClient();
    const watch = client.watchQuery(api.counters.get, { name: "optimistic" });
    const seen: unknown[] = [];
    watch.onUpdate(() => seen.push(watch.localQueryResult()));
    await eventually(() => (watch.localQueryResult() === 0 ? true : undefined));
    await client.mutation(api.counters.increment, { name: "optimistic", by: 5 }, {
      optimisticUpdate: (store, { name }) => store.setQuery(api.counters.get, { name }, 100),
    });
    expect(seen).toContain(100);
    expect(watch.localQueryResult()).toBe(5);
  });
});
