/**
 * A search query subscribed through the real ConvexClient updates when a matching document
 * is written, and is not re-run for writes that cannot change it.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, expect, it } from "vitest";
import { anyApi } from "convex/server";
import { openEngine } from "../../src/engine/index.js";
import { startBackendServer, type BackendServer } from "../../src/server/index.js";
import { eventually } from "../server/helpers.js";
import { newSyncClient, removeTempDirs, tempDir } from "./harness.js";

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/search_app");
let server: BackendServer;

beforeAll(async () => {
  const dataDir = tempDir();
  server = await startBackendServer({
    openEngine: (urls) => openEngine({ convexDir: appDir, dataDir, env: {}, siteUrl: urls.siteUrl, cloudUrl: urls.cloudUrl, runCrons: false }),
  });
});
afterAll(async () => {
  await server.close();
  removeTempDirs();
});

it("pushes a new result when a matching document is inserted or changed, and only then", async () => {
  const reader = newSyncClient(server.cloudUrl);
  const writer = newSyncClient(server.cloudUrl);
  const results: string[][] = [];
  reader.onUpdate(anyApi.notes.search, { text: "apple", channel: "live" }, (bodies: string[]) => results.push(bodies));
  await eventually(() => (results.length === 1 ? true : undefined), 30_000, "the first result");
  expect(results[0]).toEqual([]);

  await writer.mutation(anyApi.notes.add, { body: "apple pie", channel: "live" });
  await eventually(() => (results.at(-1)?.includes("apple pie") ? true : undefined), 10_000, "the inserted match");

  const before = server.subscriptionStats().reruns;
  await writer.mutation(anyApi.notes.add, { body: "pear tart", channel: "live" });
  await writer.mutation(anyApi.notes.add, { body: "apple crumble", channel: "elsewhere" });
  const pear: string = await writer.mutation(anyApi.notes.add, { body: "pear", channel: "live" });
  expect(server.subscriptionStats().reruns - before).toBe(0);

  await writer.mutation(anyApi.notes.setBody, { id: pear, body: "pear and apple" });
  await eventually(() => (results.at(-1)?.includes("pear and apple") ? true : undefined), 10_000, "the changed match");
  expect(results.at(-1)).toHaveLength(2);
  await reader.close();
  await writer.close();
});
