/**
 * Fan-out of one commit to many connections: a query shared by every connection asking for the
 * same (path, args, caller) re-runs once, and each connection still receives its own caller's
 * result exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ConvexClient } from "convex/browser";
import { anyApi } from "convex/server";
import { api } from "../fixtures/app/_generated/api.js";
import { eventually } from "../server/helpers.js";
import { createTestIssuer, fixtureEnv, removeTempDirs, startInProcess, type InProcessBackend, type TestIssuer } from "./harness.js";

let backend: InProcessBackend;
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer();
  backend = await startInProcess({ env: fixtureEnv(issuer) });
});
afterAll(async () => {
  await backend.close();
  removeTempDirs();
});

interface Watcher {
  who: string | null;
  client: ConvexClient;
  seen: { who: string | null; value: number }[];
}

async function watcher(who: string | null): Promise<Watcher> {
  const client = backend.syncClient();
  if (who !== null) {
    const token = await issuer.sign({ sub: who });
    client.setAuth(async () => token);
  }
  const entry: Watcher = { who, client, seen: [] };
  client.onUpdate(anyApi.counters.getAsCaller, { name: "fanout" }, (result: { who: string | null; value: number }) => entry.seen.push(result));
  return entry;
}

describe("fan-out to many connections", () => {
  it("re-runs once per distinct caller and gives every connection its own caller's result, once per commit", async () => {
    const callers = ["ada", "grace", "linus", null];
    const watchers = await Promise.all(callers.flatMap((who) => Array.from({ length: 10 }, () => watcher(who))));
    await eventually(() => (watchers.every((w) => w.seen.some((r) => r.value === 0 && r.who === w.who)) ? true : undefined), 15_000);
    const before = backend.server.subscriptionStats().reruns;

    const writer = backend.syncClient();
    await writer.mutation(api.counters.increment, { name: "fanout" });
    await eventually(() => (watchers.every((w) => w.seen.some((r) => r.value === 1)) ? true : undefined), 15_000);
    await writer.mutation(api.counters.increment, { name: "fanout" });
    await eventually(() => (watchers.every((w) => w.seen.some((r) => r.value === 2)) ? true : undefined), 15_000);

    // Two commits, four distinct callers: eight re-runs for forty connections.
    expect(backend.server.subscriptionStats().reruns - before).toBe(2 * callers.length);
    for (const w of watchers) {
      const updates = w.seen.filter((r) => r.value > 0);
      expect(updates).toEqual([
        { who: w.who, value: 1 },
        { who: w.who, value: 2 },
      ]);
    }
    await Promise.all([writer, ...watchers.map((w) => w.client)].map((client) => client.close()));
  });
});
