/**
 * Hostile input to the client API (issue 13): arguments nested far beyond Convex's 64 levels
 * are refused with Convex's message before anything recurses over them, over HTTP and over the
 * sync protocol; CORS never offers credentials.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { JSONValue } from "convex/values";
import { FakeEngine } from "./fake_engine.js";
import { CONNECT, eventually, rawSocket, serve } from "./helpers.js";
import type { BackendServer } from "../../src/server/index.js";
import { valueNesting } from "../../src/server/value_nesting.js";

/** JSON text of `{"a":{"a":…1…}}`, `depth` objects deep, built as text (building the value would recurse). */
function nestedObjectText(depth: number): string {
  return '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

const DEEP = 50_000;

describe("arguments nested too deep", () => {
  let engine: FakeEngine;
  let server: BackendServer;
  let calls = 0;

  beforeEach(async () => {
    calls = 0;
    engine = new FakeEngine({
      "kv:echo": { kind: "query", handler: (_ctx, args) => ((calls += 1), args as JSONValue) },
      "kv:set": { kind: "mutation", handler: (ctx, { key }) => ((calls += 1), ctx.write(String(key), 1)) },
    });
    server = await serve(engine);
  });
  afterEach(async () => {
    await server.close();
  });

  async function post(path: string, body: string) {
    const response = await fetch(`${server.cloudUrl}${path}`, { method: "POST", headers: { "content-type": "application/json" }, body });
    return { status: response.status, body: (await response.json()) as { code?: string; message?: string; status?: string } };
  }

  it("are refused over HTTP with 400 TooNestedError and Convex's message, nothing run", async () => {
    for (const [path, fn] of [["/api/query", "kv:echo"], ["/api/mutation", "kv:set"], ["/api/function", "kv:echo"]]) {
      const deep = await post(path, `{"path":"${fn}","format":"convex_encoded_json","args":[${nestedObjectText(DEEP)}]}`);
      expect(deep.status, path).toBe(400);
      expect(deep.body).toEqual({
        code: "TooNestedError",
        message: `Value is too nested (nested ${DEEP + 1} levels deep > maximum nesting 64)`,
      });
    }
    // Just beyond the limit, as the engine counts it: the positional array plus 64 objects.
    const beyond = await post("/api/query", `{"path":"kv:echo","args":[${nestedObjectText(64)}]}`);
    expect(beyond.status).toBe(400);
    expect(beyond.body.message).toBe("Value is too nested (nested 65 levels deep > maximum nesting 64)");
    expect(calls).toBe(0);

    const within = await post("/api/query", `{"path":"kv:echo","args":[${nestedObjectText(63)}]}`);
    expect(within.status).toBe(200);
    expect(calls).toBe(1);
  });

  it("fail the query or mutation over the sync protocol, and the connection goes on", async () => {
    const raw = await rawSocket(server.cloudUrl);
    raw.ws.send(CONNECT);
    raw.ws.send(
      `{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1,"modifications":[{"type":"Add","queryId":0,"udfPath":"kv:echo","args":[${nestedObjectText(DEEP)}]}]}`,
    );
    const failed = await eventually(
      () => raw.messages.find((m) => (m as { type: string }).type === "Transition") as { modifications: { type: string; errorMessage?: string }[] } | undefined,
      10_000,
      "Transition",
    );
    expect(failed.modifications[0]).toMatchObject({ type: "QueryFailed", errorMessage: expect.stringMatching(/^Value is too nested \(nested 50001 levels deep > maximum nesting 64\)/) });

    raw.ws.send(`{"type":"Mutation","requestId":0,"udfPath":"kv:set","args":[${nestedObjectText(DEEP)}]}`);
    const response = await eventually(
      () => raw.messages.find((m) => (m as { type: string }).type === "MutationResponse") as { success: boolean; result: string } | undefined,
      10_000,
      "MutationResponse",
    );
    expect(response).toMatchObject({ success: false, result: expect.stringMatching(/Value is too nested/) });
    expect(calls).toBe(0);
    expect(raw.ws.readyState).toBe(raw.ws.OPEN);
    raw.ws.close();
  });

  it("are measured without recursion", () => {
    const deep = JSON.parse("[".repeat(DEEP) + "]".repeat(DEEP)) as JSONValue;
    expect(valueNesting(deep)).toBe(DEEP);
    expect(valueNesting({ a: [1, { $integer: "AQAAAAAAAAA=" }], b: "x" })).toBe(2);
    expect(valueNesting(7)).toBe(0);
  });
});

describe("CORS on the client API", () => {
  let server: BackendServer;
  beforeEach(async () => {
    server = await serve(new FakeEngine({ "kv:get": { kind: "query", handler: () => 1 } }));
  });
  afterEach(async () => {
    await server.close();
  });

  it("lets any origin call with a bearer header but never offers credentials", async () => {
    const origin = "https://evil.example";
    const preflight = await fetch(`${server.cloudUrl}/api/query`, {
      method: "OPTIONS",
      headers: { origin, "access-control-request-method": "POST", "access-control-request-headers": "authorization, content-type" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe(origin);
    expect(preflight.headers.get("access-control-allow-credentials")).toBeNull();

    const call = await fetch(`${server.cloudUrl}/api/query`, {
      method: "POST",
      headers: { origin, "content-type": "application/json" },
      body: JSON.stringify({ path: "kv:get", args: [{}] }),
    });
    expect(call.status).toBe(200);
    expect(call.headers.get("access-control-allow-credentials")).toBeNull();
  });
});
