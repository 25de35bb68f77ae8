/**
 * While the engine opens, the ports are already bound: requests and sync connections that
 * arrive then wait for it and are answered, never refused with a 503.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { startBackendServer, type BackendServer } from "../../src/server/index.js";
import { freePort, spawnBackend, waitForPort, type BackendProcess } from "../../src/testing/backend_process.js";
import { FakeEngine } from "./fake_engine.js";
import { syncClient } from "./helpers.js";

const fixtureApp = path.resolve(import.meta.dirname, "../fixtures/app");

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

async function bound(port: number): Promise<void> {
  for (;;) {
    const ok = await fetch(`http://127.0.0.1:${port}/version`, { signal: AbortSignal.timeout(50) }).then(
      () => true,
      (error: Error) => error.name === "TimeoutError", // connected; the answer is being held
    );
    if (ok) return;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

let server: BackendServer | null = null;
let child: BackendProcess | null = null;
const scratch: string[] = [];
afterEach(async () => {
  await server?.close();
  server = null;
  await child?.stop();
  child = null;
  for (const dir of scratch.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  scratch.push(dir);
  return dir;
}

/** A backend process over the fixture app, its data folder and build cache in `dir`. */
async function spawnIn(dir: string): Promise<BackendProcess> {
  const envFile = path.join(dir, "backend.env");
  writeFileSync(envFile, "FIXTURE_FLAG=on\n");
  child = await spawnBackend({ convexDir: fixtureApp, dataDir: path.join(dir, "data"), envFile, buildCache: path.join(dir, "builds") });
  return child;
}

/** Over a fresh data folder and an empty build cache (a slow start: esbuild runs). */
const spawnFresh = () => spawnIn(tempDir("startup-process-"));

describe("startup", () => {
  it("holds HTTP calls and sync queries that arrive before the engine is ready, then answers them", async () => {
    const port = await freePort();
    const engine = new FakeEngine({ "kv:get": { kind: "query", handler: () => "ready" } });
    const opened = deferred<FakeEngine>();
    const starting = startBackendServer({ port, sitePort: 0, openEngine: () => opened.promise });
    await bound(port);

    const httpAnswer = new ConvexHttpClient(`http://127.0.0.1:${port}`).query(anyApi.kv.get, {});
    const sync = syncClient(`http://127.0.0.1:${port}`);
    const syncAnswer = sync.query(anyApi.kv.get, {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    opened.resolve(engine);
    server = await starting;

    expect(await httpAnswer).toBe("ready");
    expect(await syncAnswer).toBe("ready");
    await sync.close();
  });

  it("answers held requests with 503 and the reason when the engine fails to open", async () => {
    const port = await freePort();
    const opened = deferred<FakeEngine>();
    const starting = startBackendServer({ port, sitePort: 0, openEngine: () => opened.promise });
    await bound(port);
    const held = fetch(`http://127.0.0.1:${port}/api/query`, { method: "POST", body: "{}" });
    await new Promise((resolve) => setTimeout(resolve, 100));
    opened.reject(new Error("schema.ts is invalid"));
    await expect(starting).rejects.toThrow("schema.ts is invalid");
    const response = await held;
    expect(response.status).toBe(503);
    expect(await response.json()).toMatchObject({ code: "StartupFailed", message: "The backend failed to start: schema.ts is invalid" });
  });

  it("a backend process answers what is sent as soon as its ports open: HTTP API, sync, HTTP actions", async () => {
    const backend = await spawnFresh();
    await waitForPort(backend, backend.port);
    // Sent while the functions are still being bundled (empty build cache).
    const httpAnswer = new ConvexHttpClient(backend.cloudUrl).query(anyApi.counters.get, { name: "startup" });
    const sync = new ConvexClient(backend.cloudUrl, { unsavedChangesWarning: false });
    const syncAnswer = sync.query(anyApi.counters.get, { name: "startup" });
    const unknownStatuses = Promise.all(
      ["/api/nope", "/nope", "/api/1.48.0/nope"].map((pathname) => fetch(`${backend.cloudUrl}${pathname}`).then((response) => response.status)),
    );
    await waitForPort(backend, backend.sitePort);
    const siteAnswer = fetch(`${backend.siteUrl}/hello`).then(async (response) => [response.status, await response.text()]);
    const siteUnknown = fetch(`${backend.siteUrl}/nope`).then((response) => response.status);

    expect(await httpAnswer).toBe(0);
    expect(await syncAnswer).toBe(0);
    expect(await siteAnswer).toEqual([200, "hello"]);
    expect(await unknownStatuses).toEqual([404, 404, 404]);
    expect(await siteUnknown).toBe(404);
    await sync.close();
    expect(backend.output()).not.toContain("503");
  });

  it("unknown paths answer 404 and known endpoints with the wrong method 405, on both ports", async () => {
    const backend = await spawnFresh();
    await waitForPort(backend, backend.port);
    const status = async (url: string, init?: RequestInit) => (await fetch(url, init)).status;
    expect(await status(`${backend.cloudUrl}/api/unknown`)).toBe(404);
    expect(await status(`${backend.cloudUrl}/api/unknown`, { method: "POST", body: "{}" })).toBe(404);
    expect(await status(`${backend.cloudUrl}/api/query/extra`)).toBe(404);
    expect(await status(`${backend.cloudUrl}/api/query`)).toBe(405);
    await waitForPort(backend, backend.sitePort);
    expect(await status(`${backend.siteUrl}/unknown`, { method: "POST", body: "x" })).toBe(404);
  });

  it("a restart over a warm build cache runs no esbuild for the app or its components", async () => {
    const dir = tempDir("startup-process-");
    const first = await spawnIn(dir);
    await waitForPort(first, first.port);
    expect(await new ConvexHttpClient(first.cloudUrl).query(anyApi.counters.get, { name: "x" })).toBe(0);
    expect(first.output()).toContain("bundled with esbuild");
    await first.stop();
    const again = await spawnIn(dir);
    await waitForPort(again, again.port);
    expect(await new ConvexHttpClient(again.cloudUrl).query(anyApi.counters.get, { name: "x" })).toBe(0);
    expect(again.output()).toMatch(/functions: +the app from the build cache/);
  });
});
