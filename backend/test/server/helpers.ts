import WebSocket from "ws";
import { ConvexClient } from "convex/browser";
import { startBackendServer, type BackendServer, type BackendServerOptions } from "../../src/server/index.js";
import type { Engine } from "../../src/engine/types.js";

/** Starts the servers on free loopback ports around an already-open engine. */
export function serve(engine: Engine, options: Omit<BackendServerOptions, "openEngine"> = {}): Promise<BackendServer> {
  return startBackendServer({ ...options, openEngine: async () => engine });
}

export function syncClient(url: string): ConvexClient {
  return new ConvexClient(url, {
    webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket,
    unsavedChangesWarning: false,
    logger: false,
  });
}

/** Polls `check` until it returns a value other than undefined (or throws after `timeoutMs`). */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 10_000, what = "condition"): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${lastError ? `: ${(lastError as Error).message}` : ""}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A raw protocol connection, for frames no real client would send. */
export async function rawSocket(cloudUrl: string): Promise<{ ws: WebSocket; messages: unknown[]; closed: Promise<number> }> {
  const ws = new WebSocket(`${cloudUrl.replace(/^http/, "ws")}/api/1.48.0/sync`);
  const messages: unknown[] = [];
  ws.on("message", (data) => messages.push(JSON.parse(data.toString())));
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  return { ws, messages, closed };
}

export const CONNECT = JSON.stringify({ type: "Connect", sessionId: "raw-session", connectionCount: 0, lastCloseReason: null, clientTs: 0 });
