/**
 * The REST API's HTTP action: every request under /v1/ goes through `serve`, which in order
 *
 *  1. matches the route (unknown path → 404, known path with another method → 405 + Allow);
 *  2. authenticates the `Authorization: Bearer bk_…` key by its SHA-256 and counts the request
 *     in the key's rate-limit window (429 + Retry-After when over; RateLimit-* and
 *     X-RateLimit-* headers on every authenticated response);
 *  3. checks the route's scope (403 naming the missing scope);
 *  4. validates the query string and, for bodies, size (413 over 1 MB), content type (415
 *     unless JSON), JSON syntax (400) and the zod schema (422 naming the field);
 *  5. on POST with `Idempotency-Key`: records the key as in flight, or replays the stored
 *     response (`Idempotent-Replayed: true`), or refuses (409 in flight, 422 other body);
 *  6. runs the route's handler, which calls internal functions with the key's business;
 *     domain errors keep their code and take their status from `httpStatusForCode`;
 *     anything unexpected is a 500 with the request id only (the details go to the log).
 *
 * `registerApiRoutes(http)` mounts it on every method under /v1/.
 */
import type { HttpRouter, RouteSpecWithPathPrefix } from "convex/server";
import { internal } from "../../_generated/api";
import type { Id } from "../../_generated/dataModel";
import { httpAction, type ActionCtx } from "../../_generated/server";
import { hasScope, hashApiKey, KEY_PATTERN, sha256Hex } from "../apiKeyFormat";
import { ApiError, classifyError, type ClassifiedError } from "./errors";
import { tooNestedMessage } from "../../model/jsonNesting";
import { compileRoutes, matchRoute, validate, type Route } from "./framework";
import { openApiRoute } from "./openapi";
import { apiRoutes } from "./routes";
import { zPlainListQuery } from "./schemas";

export const MAX_BODY_BYTES = 1_048_576;
const EMPTY_QUERY = zPlainListQuery.pick({});

const compiled = compileRoutes([...apiRoutes, openApiRoute]);

type Rate = { limit: number; remaining: number; resetAt: number };

function newRequestId(): string {
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `req_${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}

function rateHeaders(rate: Rate, now: number): Record<string, string> {
  const resetSeconds = Math.max(0, Math.ceil((rate.resetAt - now) / 1000));
  return {
    "RateLimit-Limit": String(rate.limit),
    "RateLimit-Remaining": String(rate.remaining),
    "RateLimit-Reset": String(resetSeconds),
    "X-RateLimit-Limit": String(rate.limit),
    "X-RateLimit-Remaining": String(rate.remaining),
    "X-RateLimit-Reset": String(Math.ceil(rate.resetAt / 1000)),
  };
}

function jsonResponse(status: number, body: string, headers: Record<string, string>): Response {
  return new Response(body, { status, headers: { "Content-Type": "application/json; charset=utf-8", ...headers } });
}

/** JSON with object keys sorted, so the same body hashes the same however it was formatted. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const entries = Object.keys(value as Record<string, unknown>)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
    return `{${entries.join(",")}}`;
  }
  return JSON.stringify(value);
}

/** What an Idempotency-Key is bound to: method, path and the body's canonical JSON. */
export async function requestHashOf(method: string, pathname: string, body: unknown): Promise<string> {
  return await sha256Hex(`${method} ${pathname}\n${canonicalJson(body)}`);
}

async function readJsonBody(request: Request): Promise<unknown> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > MAX_BODY_BYTES) {
    throw new ApiError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
  }
  const bytes = new Uint8Array(await request.arrayBuffer());
  if (bytes.byteLength > MAX_BODY_BYTES) throw new ApiError("PAYLOAD_TOO_LARGE", `Request bodies are limited to ${MAX_BODY_BYTES} bytes.`);
  if (bytes.byteLength === 0) return {};
  const contentType = (request.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  if (!/^application\/([a-z0-9.+-]+\+)?json$/.test(contentType)) {
    throw new ApiError("UNSUPPORTED_MEDIA_TYPE", "Send request bodies as JSON with Content-Type: application/json.");
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new ApiError("MALFORMED_JSON", "The request body is not valid UTF-8.");
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new ApiError("MALFORMED_JSON", "The request body is not valid JSON.");
  }
  const tooNested = tooNestedMessage(body);
  if (tooNested !== null) throw new ApiError("MALFORMED_JSON", tooNested);
  return body;
}

function bearerKey(request: Request): string {
  const header = request.headers.get("authorization");
  const match = header === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) {
    throw new ApiError("UNAUTHENTICATED", "Authenticate with an API key: Authorization: Bearer bk_test_… .", undefined, {
      "WWW-Authenticate": 'Bearer realm="api"',
    });
  }
  if (!KEY_PATTERN.test(match[1])) {
    throw new ApiError("UNAUTHENTICATED", "The API key is invalid, revoked or expired.", undefined, { "WWW-Authenticate": 'Bearer realm="api"' });
  }
  return match[1];
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

type Idempotency = { apiKeyId: Id<"apiKeys">; key: string; requestHash: string };

/** Idempotency bookkeeping after the answer is known: a failure here is logged, not answered. */
async function recordOutcome(_ctx: ActionCtx, requestId: string, write: () => Promise<unknown>) {
  try {
    await write();
  } catch (error) {
    console.error(`[api] ${requestId} could not record the Idempotency-Key outcome`, error);
  }
}

export async function serve(ctx: ActionCtx, request: Request): Promise<Response> {
  const requestId = newRequestId();
  const now = Date.now();
  const headers: Record<string, string> = { "Request-Id": requestId };
  let idempotency: Idempotency | null = null;
  const url = new URL(request.url);
  const method = request.method.toUpperCase();
  try {
    const match = matchRoute(compiled, method, url.pathname);
    if (match.kind === "none") throw new ApiError("NOT_FOUND", `No route ${url.pathname}. See GET /v1/openapi.json.`);
    if (match.kind === "wrong_method") {
      const allow = match.allowed.join(", ");
      if (method === "OPTIONS") return new Response(null, { status: 204, headers: { ...headers, Allow: `${allow}, OPTIONS` } });
      throw new ApiError("METHOD_NOT_ALLOWED", `${method} is not allowed on ${url.pathname}; use ${allow}.`, undefined, { Allow: allow });
    }
    const route: Route = match.route;

    let caller: { businessId: Id<"businesses">; apiKeyId: Id<"apiKeys"> } | null = null;
    if (route.scope !== null) {
      const key = bearerKey(request);
      const auth = await ctx.runMutation(internal.api.internalRequests.authorize, { keyHash: await hashApiKey(key), now });
      if (!auth.ok) throw new ApiError(auth.code, auth.message, undefined, auth.code === "UNAUTHENTICATED" ? { "WWW-Authenticate": 'Bearer realm="api"' } : {});
      Object.assign(headers, rateHeaders(auth.rate, now));
      if (auth.limited) {
        const retryAfter = Math.max(1, Math.ceil((auth.rate.resetAt - now) / 1000));
        throw new ApiError("RATE_LIMITED", `Rate limit of ${auth.rate.limit} requests per minute reached; retry in ${retryAfter} s.`, undefined, {
          "Retry-After": String(retryAfter),
        });
      }
      if (!hasScope(auth.scopes, route.scope)) {
        throw new ApiError("FORBIDDEN", `This API key lacks the ${route.scope.resource}:${route.scope.access} scope.`);
      }
      caller = { businessId: auth.businessId, apiKeyId: auth.apiKeyId };
    }

    const query = validate(route.query ?? EMPTY_QUERY, Object.fromEntries(url.searchParams), "query");
    let body: unknown = undefined;
    if (method === "POST" || method === "PATCH") {
      const raw = await readJsonBody(request);
      body = validate(route.body ?? EMPTY_QUERY, raw, "body");
      const idempotencyKey = request.headers.get("idempotency-key");
      if (method === "POST" && idempotencyKey !== null && caller !== null) {
        if (!IDEMPOTENCY_KEY.test(idempotencyKey)) {
          throw new ApiError("INVALID_ARGUMENT", "Idempotency-Key must be 1–255 visible ASCII characters.", "Idempotency-Key");
        }
        const requestHash = await requestHashOf(method, url.pathname, raw);
        const begun = await ctx.runMutation(internal.api.internalRequests.beginIdempotency, {
          apiKeyId: caller.apiKeyId,
          key: idempotencyKey,
          requestHash,
          now,
        });
        if (begun.kind === "replay") {
          return jsonResponse(begun.response.status, begun.response.body, { ...headers, "Idempotent-Replayed": "true" });
        }
        if (begun.kind === "mismatch") {
          throw new ApiError("IDEMPOTENCY_MISMATCH", "This Idempotency-Key was used with a different request; use a new key.", "Idempotency-Key");
        }
        if (begun.kind === "in_flight") {
          throw new ApiError("IDEMPOTENCY_IN_FLIGHT", "A request with this Idempotency-Key is still being processed; retry shortly.", "Idempotency-Key");
        }
        idempotency = { apiKeyId: caller.apiKeyId, key: idempotencyKey, requestHash };
      }
    }

    const result = await route.handler({
      ctx,
      businessId: caller?.businessId as Id<"businesses">,
      apiKeyId: caller?.apiKeyId as Id<"apiKeys">,
      params: match.params,
      query,
      body,
      requestId,
    });
    const status = route.status ?? 200;
    const text = JSON.stringify(result);
    if (idempotency !== null) {
      const done = idempotency;
      idempotency = null;
      // The operation has committed: its response stands even if recording it fails (the
      // record then stays "in flight" until its lease ends; the failure is logged).
      await recordOutcome(ctx, requestId, () =>
        ctx.runMutation(internal.api.internalRequests.completeIdempotency, { ...done, response: { status, body: text } }),
      );
    }
    return jsonResponse(status, text, headers);
  } catch (error) {
    const failure: ClassifiedError = classifyError(error, requestId);
    if (failure.unexpected) console.error(`[api] ${requestId} ${method} ${url.pathname} failed`, error);
    const text = JSON.stringify(failure.body);
    if (idempotency !== null) {
      // A domain error committed nothing and is the request's answer: replay it. An
      // unexpected failure is released so that the client can retry with the same key.
      const held = idempotency;
      await recordOutcome(ctx, requestId, () =>
        failure.unexpected
          ? ctx.runMutation(internal.api.internalRequests.releaseIdempotency, held)
          : ctx.runMutation(internal.api.internalRequests.completeIdempotency, { ...held, response: { status: failure.status, body: text } }),
      );
    }
    return jsonResponse(failure.status, text, { ...headers, ...failure.headers });
  }
}

export const handleApiRequest = httpAction(async (ctx, request) => await serve(ctx, request));

export const API_PATH_PREFIX = "/v1/";
const METHODS: RouteSpecWithPathPrefix["method"][] = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/** Mounts the REST API on every method under /v1/ (one line in convex/http.ts). */
export function registerApiRoutes(http: HttpRouter): void {
  for (const method of METHODS) http.route({ pathPrefix: API_PATH_PREFIX, method, handler: handleApiRequest });
}
