/**
 * ConvexHttpClient and raw HTTP against the client API, and the HTTP-actions site.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anyApi } from "convex/server";
import { ConvexError, type Value } from "convex/values";
import { ConvexHttpClient } from "convex/browser";
import { api } from "../fixtures/app/_generated/api.js";
import { createTestIssuer, fixtureEnv, removeTempDirs, startInProcess, type InProcessBackend, type TestIssuer } from "./harness.js";

let backend: InProcessBackend;
let issuer: TestIssuer;
const ADMIN_KEY = "local-admin-key-for-tests";

beforeAll(async () => {
  issuer = await createTestIssuer();
  backend = await startInProcess({ env: fixtureEnv(issuer), adminKey: ADMIN_KEY });
});
afterAll(async () => {
  await backend.close();
  removeTempDirs();
});

function post(path: string, body: string | object, headers: Record<string, string> = {}) {
  return fetch(`${backend.server.cloudUrl}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

describe("ConvexHttpClient", () => {
  it("runs queries, mutations and actions", async () => {
    const client = backend.httpClient();
    const id = await client.mutation(api.messages.send, { channel: "http", author: "h", body: "hello" });
    expect(typeof id).toBe("string");
    const messages = await client.query(api.messages.list, { channel: "http" });
    expect(messages.map((m) => m.body)).toEqual(["hello"]);
    expect(await client.action(api.actions.nested, { depth: 3 })).toBe(3);
  });

  it("rebuilds ConvexError data as error.data", async () => {
    const error = await backend.httpClient().mutation(api.messages.sendThenConvexError, { channel: "x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConvexError);
    expect((error as ConvexError<Value>).data).toEqual({ code: "SLOT_TAKEN", slot: 3, when: 1700000000000n });
  });

  it("reads consistently through query_ts / query_at_ts", async () => {
    const client = backend.httpClient();
    await client.mutation(api.counters.increment, { name: "consistent" });
    expect(await client.consistentQuery(api.counters.get, { name: "consistent" })).toBe(1);
  });

  it("authenticates with a Bearer token and refuses a bad one", async () => {
    const client = new ConvexHttpClient(backend.server.cloudUrl);
    client.setAuth(await issuer.sign({ sub: "user-1", email: "u@example.test", email_verified: true, role: "owner" }));
    const identity = await client.query(api.runtime.identity, {});
    expect(identity).toMatchObject({
      tokenIdentifier: "https://auth.fixture.test|user-1",
      subject: "user-1",
      issuer: "https://auth.fixture.test",
      email: "u@example.test",
      emailVerified: true,
      role: "owner",
    });
    client.setAuth(await issuer.sign({ sub: "user-1" }, { audience: "someone-else" }));
    await expect(client.query(api.runtime.identity, {})).rejects.toThrow(/No auth provider found matching the given token/);
  });

  it("lets the configured admin key call internal functions, and nothing else does", async () => {
    const response = await post("/api/query", { path: "messages:countInternal", args: [{}] }, { authorization: `Convex ${ADMIN_KEY}` });
    expect(response.status).toBe(200);
    expect((await response.json()).status).toBe("success");
    const wrongKey = await post("/api/query", { path: "messages:countInternal", args: [{}] }, { authorization: "Convex wrong" });
    expect(wrongKey.status).toBe(401);
    const anonymous = await post("/api/query", { path: "messages:countInternal", args: [{}] });
    expect(anonymous.status).toBe(404);
  });
});

describe("HTTP API", () => {
  it("answers success and function errors in Convex's shapes", async () => {
    const ok = await post("/api/mutation", { path: "counters:increment", format: "convex_encoded_json", args: [{ name: "shape" }] });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: "success", value: 1, logLines: [] });

    const failed = await post("/api/mutation", { path: "messages:sendThenFail", args: [{ channel: "c", body: "b" }] });
    expect(failed.status).toBe(560);
    const body = await failed.json();
    expect(body).toMatchObject({ status: "error", errorMessage: expect.stringMatching(/failed after writing/), logLines: [] });
    expect(body.errorData).toBeUndefined();
  });

  it("serves /api/run/<module>/<function> and /api/function", async () => {
    const run = await post("/api/run/counters/get", { args: { name: "shape" }, format: "json" });
    expect(await run.json()).toMatchObject({ status: "success", value: 1 });
    // ConvexHttpClient.function is internal API: it posts to /api/function without saying the kind.
    const client = backend.httpClient() as unknown as { function(ref: unknown, componentPath: undefined, args: object): Promise<unknown> };
    expect(await client.function(anyApi.counters.get, undefined, { name: "shape" })).toBe(1);
  });

  it("refuses bad requests with clear 4xx errors and stays up", async () => {
    const cases: [string, string | object, number, RegExp][] = [
      ["/api/query", "{not json", 400, /not valid JSON/],
      ["/api/query", [1, 2], 400, /must be a JSON object/],
      ["/api/query", { path: 42, args: [{}] }, 400, /Invalid function path/],
      ["/api/query", { path: "messages:list", args: "nope" }, 400, /"args" must be an object/],
      ["/api/query", { path: "messages:list", args: [{}], format: "xml" }, 400, /Unsupported format/],
      ["/api/query", { path: "nope:missing", args: [{}] }, 404, /Could not find public function for 'nope:missing'/],
      ["/api/query", { path: "counters:increment", args: [{ name: "x" }] }, 400, /is a mutation, not a query/],
      ["/api/nothing", {}, 404, /No such endpoint/],
      ["/api/query_at_ts", { path: "counters:get", args: [{ name: "x" }], ts: "garbage" }, 400, /invalid encoded timestamp/],
    ];
    for (const [path, body, status, message] of cases) {
      const response = await post(path, body);
      expect(response.status, `${path} ${JSON.stringify(body)}`).toBe(status);
      expect((await response.json()).message).toMatch(message);
    }
    const invalidArgs = await post("/api/mutation", { path: "messages:send", args: [{ channel: 1 }] });
    expect(invalidArgs.status).toBe(560);
    expect((await invalidArgs.json()).errorMessage).toMatch(/ArgumentValidationError/);
    const getMethod = await fetch(`${backend.server.cloudUrl}/api/query`);
    expect(getMethod.status).toBe(405);
    expect(await backend.httpClient().query(api.counters.get, { name: "shape" })).toBe(1);
  });

  it("refuses bodies over the 16 MiB argument limit with 413 and changes nothing", async () => {
    const huge = "x".repeat(16 * 1024 * 1024 + 1);
    const response = await post("/api/mutation", { path: "messages:send", args: [{ channel: "huge", author: "a", body: huge }] });
    expect(response.status).toBe(413);
    expect((await response.json()).message).toMatch(/too large/);
    expect(await backend.httpClient().query(api.messages.list, { channel: "huge" })).toEqual([]);
  });

  it("answers CORS preflights and sets CORS headers for the portal's origin", async () => {
    const preflight = await fetch(`${backend.server.cloudUrl}/api/query`, {
      method: "OPTIONS",
      headers: { origin: "http://127.0.0.1:5173", "access-control-request-method": "POST", "access-control-request-headers": "content-type,authorization" },
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5173");
    expect(preflight.headers.get("access-control-allow-headers")).toMatch(/authorization/);
    const actual = await post("/api/query", { path: "counters:get", args: [{ name: "cors" }] }, { origin: "http://127.0.0.1:5173" });
    expect(actual.headers.get("access-control-allow-origin")).toBe("http://127.0.0.1:5173");
  });

  it("uploads and serves stored files", async () => {
    const client = backend.httpClient();
    const stored = await client.action(api.actions.storeAndRead, { text: "file body" });
    expect(stored).toMatchObject({ text: "file body", hasUrl: true });
    const download = await fetch(`${backend.server.cloudUrl}/api/storage/${stored.storageId}`);
    expect(download.status).toBe(200);
    expect(await download.text()).toBe("file body");
    const upload = await fetch(`${backend.server.cloudUrl}/api/storage/upload?token=abc`, {
      method: "POST",
      headers: { "content-type": "image/png" },
      body: new Uint8Array([137, 80, 78, 71]),
    });
    const { storageId } = (await upload.json()) as { storageId: string };
    const back = await fetch(`${backend.server.cloudUrl}/api/storage/${storageId}`);
    expect(back.headers.get("content-type")).toBe("image/png");
    expect(new Uint8Array(await back.arrayBuffer())).toEqual(new Uint8Array([137, 80, 78, 71]));
    expect((await fetch(`${backend.server.cloudUrl}/api/storage/nope`)).status).toBe(404);
  });
});

describe("HTTP actions site", () => {
  it("appends the client's address to X-Forwarded-For, as the proxy in front of a Convex deployment does", async () => {
    expect(await (await fetch(`${backend.server.siteUrl}/forwarded`)).text()).toBe("127.0.0.1");
    const relayed = await fetch(`${backend.server.siteUrl}/forwarded`, { headers: { "X-Forwarded-For": "203.0.113.7" } });
    expect(await relayed.text()).toBe("203.0.113.7, 127.0.0.1");
  });

  it("passes the exact request bytes and headers to the action and its response back", async () => {
    // Whitespace, CRLF and multi-byte characters: any re-encoding would change these bytes.
    const bytes = new TextEncoder().encode('{ "id" : "evt_1",\r\n\t"amount":10 }  \n é€😀 ');
    const response = await fetch(`${backend.server.siteUrl}/echo`, {
      method: "POST",
      headers: { "content-type": "application/octet-stream", "x-signature": "t=1,v1=abc" },
      body: bytes,
    });
    expect(response.status).toBe(201);
    expect(response.headers.get("x-signature-seen")).toBe("t=1,v1=abc");
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
  });

  it("routes by path and prefix, runs mutations from actions, and 404s the rest", async () => {
    expect(await (await fetch(`${backend.server.siteUrl}/hello`)).text()).toBe("hello");
    expect(await (await fetch(`${backend.server.siteUrl}/files/a/b.txt`)).text()).toBe("file a/b.txt");
    const created = await fetch(`${backend.server.siteUrl}/messages`, {
      method: "POST",
      body: JSON.stringify({ channel: "site", body: "via http" }),
    });
    expect(await created.json()).toMatchObject({ count: 1 });
    expect((await fetch(`${backend.server.siteUrl}/nowhere`)).status).toBe(404);
  });

  it("refuses bodies over 20 MiB with 413", async () => {
    const response = await fetch(`${backend.server.siteUrl}/echo`, { method: "POST", body: new Uint8Array(20 * 1024 * 1024 + 1) });
    expect(response.status).toBe(413);
  });
});
