/**
 * The security audit (docs/SECURITY.md): the platform's servers as `npm start` runs them, sent
 * hostile input. Never a 5xx, never a write, never a listener beyond loopback.
 *
 * `npm test` runs it with a small fixed number of fuzzing runs (fixed seed: deterministic);
 * `npm run audit:security` sets AUDIT_RUNS for many more.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isLoopback } from "../scripts/listeners.js";
import { signStripePayload } from "../convex/model/stripeSignature.js";
import { startAuditStack, type AuditStack } from "./stack.js";

const RUNS = Number(process.env.AUDIT_RUNS ?? 25);
const SEED = Number(process.env.AUDIT_SEED ?? 1313);
const fuzz = { numRuns: RUNS, seed: SEED };

/** Tables a refused request must not change. */
const DOMAIN_TABLES = [
  "customers",
  "customerAddresses",
  "bookings",
  "bookingAssignments",
  "bookingStatusHistory",
  "invoices",
  "payments",
  "stripeEvents",
  "events",
  "outbox",
  "resources",
  "zones",
  "apiKeys",
] as const;

let stack: AuditStack;
let demoKey: string;

beforeAll(async () => {
  stack = await startAuditStack();
  demoKey = stack.env.DEMO_API_KEY;
}, 300_000);

afterAll(async () => {
  await stack?.stop();
});

type Answer = { status: number; text: string; headers: Headers };

async function send(url: string, init: RequestInit = {}): Promise<Answer> {
  const response = await fetch(url, { ...init, signal: AbortSignal.timeout(30_000) });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

function expectNo5xx(answer: Answer, what: string) {
  // 560 is Convex's "the function threw" (the function's own error, not a crash): only on the Convex API.
  expect(answer.status >= 500 && answer.status !== 560, `${what} → ${answer.status} ${answer.text.slice(0, 300)}`).toBe(false);
}

const nested = (depth: number) => '{"a":'.repeat(depth) + "1" + "}".repeat(depth);

const hostileJson = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }),
  fc.string({ maxLength: 40 }),
  fc.constantFrom("", "{", "[]", "null", '{"__proto__":{"admin":true}}', "\u0000", "\uD800", nested(100), nested(20_000)),
  fc.integer().map(String),
);

describe("listeners", () => {
  it("are all on loopback, with no V8 inspector among them", async () => {
    const listeners = stack.listeners();
    expect(listeners.length).toBeGreaterThanOrEqual(3);
    expect(listeners.filter((l) => !isLoopback(l.address))).toEqual([]);
    for (const listener of listeners) {
      const answer = await send(`http://127.0.0.1:${listener.port}/json/list`).catch(() => null);
      expect(answer?.text ?? "", `port ${listener.port}`).not.toMatch(/webSocketDebuggerUrl/);
    }
  });
});

describe("the Convex HTTP API", () => {
  it("answers hostile bodies on every endpoint without a 5xx or a write", async () => {
    const before = await stack.tableCounts(DOMAIN_TABLES);
    const endpoints = ["/api/query", "/api/mutation", "/api/action", "/api/function", "/api/query_at_ts", "/api/run/seed/demo"];
    const paths = fc.constantFrom("seed:demo", "bookings:create", "customers:list", "_system/cli/tables", "nope:nope", "../x", "", "a".repeat(500));
    const body = fc.oneof(
      hostileJson.map((json) => (typeof json === "string" ? json : JSON.stringify(json))),
      fc.record({ path: paths, args: fc.jsonValue({ maxDepth: 3 }), format: fc.constantFrom(undefined, "json", "x") }).map((b) => JSON.stringify(b)),
      paths.map((path) => `{"path":${JSON.stringify(path)},"args":[${nested(50_000)}]}`),
    );
    const auth = fc.constantFrom(undefined, "Bearer x.y.z", "Convex not-the-admin-key", "Convex ", "Basic Zm9vOmJhcg==");
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...endpoints), body, auth, async (endpoint, text, authorization) => {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (authorization) headers.authorization = authorization;
        expectNo5xx(await send(`${stack.cloudUrl}${endpoint}`, { method: "POST", headers, body: text }), `${endpoint} ${text.slice(0, 80)}`);
      }),
      fuzz,
    );
    expect(await stack.tableCounts(DOMAIN_TABLES)).toEqual(before);
  });

  it("refuses arguments nested 50,000 deep with 400 and Convex's message", async () => {
    const answer = await send(`${stack.cloudUrl}/api/query`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: `{"path":"bookings:get","args":[${nested(50_000)}]}`,
    });
    expect(answer.status).toBe(400);
    expect(JSON.parse(answer.text)).toEqual({ code: "TooNestedError", message: "Value is too nested (nested 50001 levels deep > maximum nesting 64)" });
  });
});

interface Operation {
  method: string;
  path: string;
  operationId: string;
  hasBody: boolean;
  query: string[];
}

async function operations(): Promise<Operation[]> {
  const answer = await send(`${stack.siteUrl}/v1/openapi.json`);
  expect(answer.status).toBe(200);
  const doc = JSON.parse(answer.text) as {
    paths: Record<string, Record<string, { operationId: string; requestBody?: unknown; parameters?: { name: string; in: string }[] }>>;
  };
  const ops: Operation[] = [];
  for (const [path, methods] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      ops.push({
        method: method.toUpperCase(),
        path,
        operationId: op.operationId,
        hasBody: op.requestBody !== undefined,
        query: (op.parameters ?? []).filter((p) => p.in === "query").map((p) => p.name),
      });
    }
  }
  return ops;
}

const pathValue = fc.oneof(
  fc.constantFrom("x", "0", "-1", "%00", "..%2F..", "a".repeat(300), "k57" + "0".repeat(29), "null", "%F0%9F%98%80"),
  fc.string({ minLength: 1, maxLength: 20 }).map(encodeURIComponent),
);
const queryValue = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("-1", "1e309", "[]", "{}", "true", "2030-02-30", nested(40)));

describe("the REST API", () => {
  it("answers hostile input to every operation without a 5xx, and refused requests write nothing", async () => {
    const ops = await operations();
    expect(ops.length).toBeGreaterThan(10);
    const before = await stack.tableCounts(DOMAIN_TABLES);
    let writesAllowed = false;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ops),
        fc.array(pathValue, { minLength: 4, maxLength: 4 }),
        fc.dictionary(fc.string({ maxLength: 8 }), queryValue, { maxKeys: 3 }),
        fc.array(queryValue, { minLength: 6, maxLength: 6 }),
        hostileJson,
        async (op, pathValues, extraQuery, knownQueryValues, body) => {
          let i = 0;
          const path = op.path.replace(/\{[^}]+\}/g, () => pathValues[i++ % pathValues.length]);
          const query = new URLSearchParams();
          op.query.forEach((name, index) => index < knownQueryValues.length && query.set(name, knownQueryValues[index]));
          for (const [k, v] of Object.entries(extraQuery)) query.set(k, v);
          const headers: Record<string, string> = { authorization: `Bearer ${demoKey}` };
          let text: string | undefined;
          if (op.hasBody || op.method === "POST") {
            headers["content-type"] = "application/json";
            text = typeof body === "string" ? body : JSON.stringify(body);
          }
          const answer = await send(`${stack.siteUrl}${path}?${query}`, { method: op.method, headers, body: text });
          expectNo5xx(answer, `${op.method} ${path}?${query} ${String(text).slice(0, 80)}`);
          expect(answer.status, `${op.operationId} ${answer.text.slice(0, 200)}`).not.toBe(560);
          // A hostile request that nonetheless succeeded (say, a valid body by chance) may write.
          if (answer.status < 300 && op.method !== "GET") writesAllowed = true;
        },
      ),
      fuzz,
    );
    if (!writesAllowed) expect(await stack.tableCounts(DOMAIN_TABLES)).toEqual(before);
  });

  it("refuses request bodies nested 50,000 deep with 400, writing nothing", async () => {
    const before = await stack.tableCounts(DOMAIN_TABLES);
    for (const path of ["/v1/customers", "/v1/bookings"]) {
      const answer = await send(`${stack.siteUrl}${path}`, {
        method: "POST",
        headers: { authorization: `Bearer ${demoKey}`, "content-type": "application/json", "idempotency-key": `deep-${path}` },
        body: nested(50_000),
      });
      expect(answer.status, answer.text.slice(0, 200)).toBe(400);
      expect(JSON.parse(answer.text).error.message).toMatch(/^Value is too nested/);
    }
    expect(await stack.tableCounts(DOMAIN_TABLES)).toEqual(before);
  });

  it("answers tampered cursors with 400 INVALID_CURSOR on every list", async () => {
    const ops = (await operations()).filter((op) => op.method === "GET" && op.query.includes("cursor"));
    expect(ops.length).toBeGreaterThan(0);
    const tampered = ["garbage", "", "{}", Buffer.from('{"c":"x","f":"y"}').toString("base64url"), "A".repeat(1_400), "%00", "eyJ"];
    const failures: string[] = [];
    for (const op of ops) {
      if (/\{/.test(op.path)) continue; // lists below an id need a real parent; the top-level lists cover the decoder
      for (const cursor of tampered) {
        const answer = await send(`${stack.siteUrl}${op.path}?cursor=${encodeURIComponent(cursor)}`, { headers: { authorization: `Bearer ${demoKey}` } });
        expectNo5xx(answer, `${op.path} cursor=${cursor.slice(0, 20)}`);
        if (cursor === "") continue; // an empty cursor is the first page
        const code = answer.status === 400 ? JSON.parse(answer.text).error.code : `${answer.status}`;
        if (code !== "INVALID_CURSOR") failures.push(`${op.path} cursor=${cursor.slice(0, 20)} → ${code}`);
      }
    }
    expect(failures).toEqual([]);
  });

  it("refuses well-formed unknown keys without a write, and limits failed authentications", async () => {
    const before = await stack.tableCounts(DOMAIN_TABLES);
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 60; i++) {
      const key = `bk_test_${"unknownkey".repeat(3)}${String(i).padStart(2, "0")}`;
      const answer = await send(`${stack.siteUrl}/v1/customers`, { headers: { authorization: `Bearer ${key}` } });
      expectNo5xx(answer, `unknown key ${i}`);
      statuses.push(answer.status);
      if (answer.status === 429) {
        retryAfter = answer.headers.get("retry-after");
        break;
      }
    }
    expect(statuses.every((s) => s === 401 || s === 429), statuses.join(",")).toBe(true);
    expect(statuses.at(-1), "failed authentications are never rate limited").toBe(429);
    expect(Number(retryAfter)).toBeGreaterThan(0);
    expect(await stack.tableCounts(DOMAIN_TABLES)).toEqual(before);
  });
});

describe("the Stripe webhook", () => {
  it("refuses old, future, forged and missing signatures with 400 and records nothing", async () => {
    const before = await stack.tableCounts(DOMAIN_TABLES);
    const secret = stack.env.STRIPE_WEBHOOK_SECRET;
    const now = Math.floor(Date.now() / 1000);
    const event = JSON.stringify({
      id: "evt_audit_1",
      object: "event",
      type: "payment_intent.succeeded",
      created: now,
      data: { object: { id: "pi_audit", object: "payment_intent", amount: 100, currency: "usd", status: "succeeded", metadata: {} } },
    });
    const cases: [string, string | null][] = [
      ["301 s old", await signStripePayload(event, secret, now - 301)],
      ["a day old", await signStripePayload(event, secret, now - 86_400)],
      ["400 s ahead", await signStripePayload(event, secret, now + 400)],
      ["an hour ahead", await signStripePayload(event, secret, now + 3_600)],
      ["another secret", await signStripePayload(event, "whsec_not_the_secret", now)],
      ["garbage", "t=1,v1=deadbeef"],
      ["empty", ""],
      ["missing", null],
    ];
    for (const [what, header] of cases) {
      const headers: Record<string, string> = { "content-type": "application/json" };
      if (header !== null) headers["stripe-signature"] = header;
      const answer = await send(`${stack.siteUrl}/stripe/webhook`, { method: "POST", headers, body: event });
      expect(answer.status, `${what}: ${answer.text}`).toBe(400);
    }
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 200 }), hostileJson, async (header, body) => {
        const text = typeof body === "string" ? body : JSON.stringify(body);
        const answer = await send(`${stack.siteUrl}/stripe/webhook`, { method: "POST", headers: { "stripe-signature": header }, body: text });
        expectNo5xx(answer, `stripe ${header.slice(0, 40)}`);
        expect(answer.status).toBe(400);
      }),
      fuzz,
    );
    expect(await stack.tableCounts(DOMAIN_TABLES)).toEqual(before);
  });
});
