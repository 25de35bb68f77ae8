/**
 * The project's clients across a backend restart: while the backend is down (connections
 * refused) or not ready (503), the seeding client and the Stripe event sender retry with
 * backoff, and the portal's Convex client (ConvexReactClient) reconnects and gets its answer.
 */
import { createServer, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { ConvexReactClient } from "convex/react";
import { anyApi } from "convex/server";
import { seedDemoData, SeedError } from "../../../scripts/seed.js";
import { fetchWithRetry, retryAfterMs } from "../../../scripts/retry.js";
import { startBackendServer, type BackendServer } from "../../src/server/index.js";
import { freePort } from "../../src/testing/backend_process.js";
import { FakeEngine } from "../server/fake_engine.js";

const closers: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

/** Answers the first `notReady` requests 503, then a successful seed:demo result. */
async function seedServer(port: number, notReady: number, headers: Record<string, string> = {}): Promise<{ requests: () => number }> {
  let requests = 0;
  const server: Server = createServer((request, response) => {
    requests++;
    request.resume();
    if (requests <= notReady) {
      response.writeHead(503, { "content-type": "application/json", ...headers });
      response.end(JSON.stringify({ code: "Starting", message: "The backend is still starting" }));
      return;
    }
    response.writeHead(200, { "content-type": "application/json" });
    response.end(JSON.stringify({ status: "success", value: { created: true }, logLines: [] }));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  closers.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { requests: () => requests };
}

describe("clients across a restart", () => {
  it("seeding retries a 503 with backoff until the backend answers", async () => {
    const port = await freePort();
    const server = await seedServer(port, 3);
    const result = await seedDemoData({ url: `http://127.0.0.1:${port}`, adminKey: "k", retry: { initialDelayMs: 10 } });
    expect(result).toEqual({ created: true });
    expect(server.requests()).toBe(4);
  });

  it("seeding waits while the backend refuses connections (restarting), then seeds", async () => {
    const port = await freePort();
    const seeding = seedDemoData({ url: `http://127.0.0.1:${port}`, adminKey: "k", retry: { initialDelayMs: 20 } });
    await new Promise((resolve) => setTimeout(resolve, 300));
    const server = await seedServer(port, 0);
    expect(await seeding).toEqual({ created: true });
    expect(server.requests()).toBe(1);
  });

  it("gives up at the deadline with the last answer", async () => {
    const port = await freePort();
    await seedServer(port, 1_000);
    await expect(
      seedDemoData({ url: `http://127.0.0.1:${port}`, adminKey: "k", retry: { initialDelayMs: 10, deadlineMs: 200 } }),
    ).rejects.toThrow(new SeedError("seed:demo failed (HTTP 503): The backend is still starting"));
  });

  it("honours Retry-After and never retries other failures", async () => {
    const port = await freePort();
    await seedServer(port, 1, { "retry-after": "1" });
    const delays: number[] = [];
    const response = await fetchWithRetry(`http://127.0.0.1:${port}/`, {}, { initialDelayMs: 10, sleep: async (ms) => void delays.push(ms) });
    expect(response.status).toBe(200);
    expect(delays).toEqual([1_000]);
    expect(retryAfterMs("Wed, 02 Dec 2026 04:00:10 GMT", Date.parse("Wed, 02 Dec 2026 04:00:00 GMT"))).toBe(10_000);

    const rejecting = createServer((_request, response) => {
      response.writeHead(400);
      response.end("bad");
    });
    const other = await freePort();
    await new Promise<void>((resolve) => rejecting.listen(other, "127.0.0.1", resolve));
    closers.push(() => new Promise<void>((resolve) => rejecting.close(() => resolve())));
    const retried: string[] = [];
    expect((await fetchWithRetry(`http://127.0.0.1:${other}/`, {}, { onRetry: (reason) => void retried.push(reason) })).status).toBe(400);
    expect(retried).toEqual([]);
  });

  it("the portal's Convex client started while the backend is down gets its query answered once it is up", async () => {
    const port = await freePort();
    const client = new ConvexReactClient(`http://127.0.0.1:${port}`, {
      webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket,
      unsavedChangesWarning: false,
      logger: false,
    });
    closers.push(() => client.close());
    const answer = client.query(anyApi.kv.get, {});
    await new Promise((resolve) => setTimeout(resolve, 500));
    const engine = new FakeEngine({ "kv:get": { kind: "query", handler: () => "up" } });
    const server: BackendServer = await startBackendServer({ port, sitePort: 0, openEngine: async () => engine });
    closers.push(() => server.close());
    expect(await answer).toBe("up");
  });
});
