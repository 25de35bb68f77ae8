/**
 * `partykit dev` as the platform starts it: every listener on loopback, no V8 inspector, and
 * the vars (secrets among them) nowhere on its command line (issue 13, findings 1 and 5).
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLoopback, processTree } from "../scripts/listeners";
import { startDevServer, type DevServer } from "./testing/dev-server";

const SECRET = "listeners-test-push-secret-0123456789abcdef";
let server: DevServer;

beforeAll(async () => {
  server = await startDevServer({ PARTYKIT_PUSH_SECRET: SECRET, PARTYKIT_PUSH_SECRET_PREVIOUS: "" });
});

afterAll(async () => {
  await server?.stop();
});

/** An unauthenticated inspector answers GET /json/list (or /json) with its debug targets. */
async function inspectorTargets(port: number): Promise<unknown> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/json/list`, { signal: AbortSignal.timeout(2_000) });
    const text = await response.text();
    return /webSocketDebuggerUrl/.test(text) ? text : null;
  } catch {
    return null;
  }
}

describe("partykit dev", () => {
  it("listens on loopback only", () => {
    const listeners = server.listeners();
    expect(listeners.map((l) => l.port)).toContain(server.port);
    expect(listeners.filter((l) => !isLoopback(l.address))).toEqual([]);
  });

  it("opens no V8 inspector", async () => {
    const found: { port: number; targets: unknown }[] = [];
    for (const listener of server.listeners()) {
      if (listener.port === server.port) continue;
      const targets = await inspectorTargets(listener.port);
      if (targets !== null) found.push({ port: listener.port, targets });
    }
    expect(found).toEqual([]);
  });

  it("has no var on any command line of its process tree", () => {
    const commandLines = processTree(server.pid).map((pid) => {
      try {
        return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      } catch {
        return "";
      }
    });
    expect(commandLines.length).toBeGreaterThan(0);
    for (const line of commandLines) expect(line).not.toContain(SECRET);
  });
});
