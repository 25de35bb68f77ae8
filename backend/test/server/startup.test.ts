/**
 * While the engine opens, the ports are already bound: requests and sync connections that
 * arrive then wait for it and are answered, never refused with a 503.
 */
import { createServer } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { startBackendServer, type BackendServer } from "../../src/server/index.js";
import { FakeEngine } from "./fake_engine.js";
import { syncClient } from "./helpers.js";

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

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
afterEach(async () => {
  await server?.close();
  server = null;
});

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
});
