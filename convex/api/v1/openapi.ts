/**
 * GET /v1/openapi.json: the OpenAPI 3.1 document, generated from the route table and the
 * same zod schemas the router validates with (`z.toJSONSchema`). Named schemas (`.meta({id})`)
 * become `components.schemas`; query schemas become parameters; every operation lists its
 * success response and the errors it can answer, all in the one error format.
 *
 * Plain module: no registered functions.
 */
import { z } from "zod";
import { httpStatusForApiCode, type ApiErrorCode } from "./errors";
import { route, type Route } from "./framework";
import { apiRoutes } from "./routes";
import { apiRegistry, zError } from "./schemas";

type Json = Record<string, unknown>;

const REF = "#/components/schemas/";

function stripMeta(schema: Json): Json {
  const { $schema: _schema, $id: _id, $defs: _defs, id: _metaId, ...rest } = schema;
  return rest;
}

function refsToComponents(schema: Json): Json {
  return JSON.parse(JSON.stringify(schema).replace(/"#\/\$defs\//g, `"${REF}`)) as Json;
}

/** A route's schema: a $ref when it is a named component, else inline (named parts as $refs). */
function toSchema(schema: z.ZodType, io: "input" | "output"): Json {
  const id = apiRegistry.get(schema)?.id;
  if (id !== undefined) return { $ref: `${REF}${id}` };
  return refsToComponents(stripMeta(z.toJSONSchema(schema, { io, unrepresentable: "any", metadata: apiRegistry }) as Json));
}

/**
 * Every named schema. Request-side schemas are documented as inputs (fields with defaults
 * are optional), the rest as outputs.
 */
function componentSchemas(requestIds: Set<string>): Record<string, Json> {
  const params = { unrepresentable: "any" as const, uri: (id: string) => `${REF}${id}` };
  const inputs = (z.toJSONSchema(apiRegistry, { ...params, io: "input" }) as { schemas: Record<string, Json> }).schemas;
  const outputs = (z.toJSONSchema(apiRegistry, { ...params, io: "output" }) as { schemas: Record<string, Json> }).schemas;
  const out: Record<string, Json> = {};
  for (const id of Object.keys(outputs).sort()) out[id] = stripMeta(requestIds.has(id) ? inputs[id] : outputs[id]);
  return out;
}

/** Ids of named schemas reachable from request bodies. */
function requestSideIds(routes: Route[]): Set<string> {
  const ids = new Set<string>();
  const inputs = (z.toJSONSchema(apiRegistry, { io: "input", unrepresentable: "any", uri: (id: string) => `${REF}${id}` }) as {
    schemas: Record<string, Json>;
  }).schemas;
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (node !== null && typeof node === "object") {
      for (const [k, val] of Object.entries(node)) {
        if (k === "$ref" && typeof val === "string" && val.startsWith(REF)) {
          const id = val.slice(REF.length);
          if (!ids.has(id)) {
            ids.add(id);
            visit(inputs[id]);
          }
        } else visit(val);
      }
    }
  };
  for (const r of routes) if (r.body) visit(toSchema(r.body, "input"));
  return ids;
}

const COMMON_ERRORS: ApiErrorCode[] = ["UNAUTHENTICATED", "FORBIDDEN", "RATE_LIMITED", "INVALID_ARGUMENT", "INTERNAL"];
const BODY_ERRORS: ApiErrorCode[] = ["MALFORMED_JSON", "PAYLOAD_TOO_LARGE", "UNSUPPORTED_MEDIA_TYPE"];
const IDEMPOTENCY_ERRORS: ApiErrorCode[] = ["IDEMPOTENCY_MISMATCH", "IDEMPOTENCY_IN_FLIGHT"];

const RATE_HEADERS = {
  "RateLimit-Limit": { description: "Requests allowed per minute for this key's tier.", schema: { type: "integer" } },
  "RateLimit-Remaining": { description: "Requests left in the current window.", schema: { type: "integer" } },
  "RateLimit-Reset": { description: "Seconds until the window resets.", schema: { type: "integer" } },
  "X-RateLimit-Limit": { description: "Same as RateLimit-Limit.", schema: { type: "integer" } },
  "X-RateLimit-Remaining": { description: "Same as RateLimit-Remaining.", schema: { type: "integer" } },
  "X-RateLimit-Reset": { description: "Epoch seconds when the window resets.", schema: { type: "integer" } },
  "Request-Id": { description: "Identifies the request in logs and errors.", schema: { type: "string" } },
};

export function buildOpenApi(routes: Route[]): Json {
  const paths: Record<string, Record<string, Json>> = {};
  const errorRef = toSchema(zError, "output");
  for (const r of routes) {
    const parameters: Json[] = [];
    for (const name of [...r.path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1])) {
      parameters.push({ name, in: "path", required: true, schema: { type: "string" } });
    }
    if (r.query) {
      const q = z.toJSONSchema(r.query, { io: "input", unrepresentable: "any" }) as Json;
      const props = (q.properties ?? {}) as Record<string, Json>;
      const required = new Set((q.required as string[] | undefined) ?? []);
      for (const [name, schema] of Object.entries(props)) {
        const { description, ...rest } = schema;
        parameters.push({ name, in: "query", required: required.has(name), ...(description ? { description } : {}), schema: rest });
      }
    }
    if (r.method === "POST" && r.scope !== null) {
      parameters.push({
        name: "Idempotency-Key",
        in: "header",
        required: false,
        description: "Replays the first response for 24 h for the same key and body.",
        schema: { type: "string", maxLength: 255 },
      });
    }
    const codes = new Set<ApiErrorCode>([
      ...(r.scope === null ? ["INTERNAL" as const] : COMMON_ERRORS),
      ...(r.path.includes("{") ? ["NOT_FOUND" as const] : []),
      ...(r.body ? BODY_ERRORS : []),
      ...(r.method === "POST" && r.scope !== null ? IDEMPOTENCY_ERRORS : []),
      ...(r.errors ?? []),
    ]);
    const responses: Record<string, Json> = {
      [String(r.status ?? 200)]: {
        description: "Success.",
        headers: r.scope === null ? {} : RATE_HEADERS,
        content: { "application/json": { schema: toSchema(r.response, "output") } },
      },
    };
    const byStatus = new Map<number, ApiErrorCode[]>();
    for (const code of codes) byStatus.set(httpStatusForApiCode(code), [...(byStatus.get(httpStatusForApiCode(code)) ?? []), code]);
    for (const [status, list] of [...byStatus.entries()].sort((a, b) => a[0] - b[0])) {
      responses[String(status)] = {
        description: `Error: ${list.join(", ")}.`,
        ...(status === 429 ? { headers: { "Retry-After": { description: "Seconds to wait.", schema: { type: "integer" } } } } : {}),
        content: { "application/json": { schema: errorRef } },
      };
    }
    const operation: Json = {
      operationId: r.operationId,
      summary: r.summary,
      tags: [r.tag],
      ...(r.scope ? { security: [{ apiKey: [] }], "x-scope": `${r.scope.resource}:${r.scope.access}` } : { security: [] }),
      parameters,
      responses,
    };
    if (r.body) {
      operation.requestBody = { required: true, content: { "application/json": { schema: toSchema(r.body, "input") } } };
    }
    paths[r.path] = { ...(paths[r.path] ?? {}), [r.method.toLowerCase()]: operation };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "Booking platform REST API",
      version: "1.0.0",
      description:
        "Resource-oriented JSON API for partners. Authenticate with `Authorization: Bearer bk_test_…`. " +
        "Every error is `{error: {code, message, param?, request_id}}`. Lists use opaque cursors. See docs/API.md.",
    },
    servers: [{ url: "http://127.0.0.1:3211" }],
    // No document-wide requirement: each operation states its own (`security: []` is public).
    tags: [...new Set(routes.map((r) => r.tag))].map((name) => ({ name })),
    paths,
    components: {
      schemas: componentSchemas(requestSideIds(routes)),
      securitySchemes: { apiKey: { type: "http", scheme: "bearer", bearerFormat: "bk_test_… / bk_live_…" } },
    },
  };
}

let cached: string | null = null;

export const openApiRoute: Route = route({
  method: "GET",
  path: "/v1/openapi.json",
  operationId: "getOpenApi",
  summary: "This OpenAPI 3.1 document (no key needed).",
  tag: "Meta",
  scope: null,
  response: z.object({ openapi: z.string() }).loose(),
  handler: async () => {
    cached ??= JSON.stringify(buildOpenApi([...apiRoutes, openApiRoute]));
    return JSON.parse(cached) as unknown;
  },
});
