/**
 * The REST API's HTTP action: every request under /v1/ goes through `serve`, which in order
 *
 *  1. matches the route (unknown path → 404, known path with another method → 405 + Allow);
 *  2. admits the `Authorization: Bearer bk_…` key (`api/gate.ts`): malformed keys are refused
 *     reading nothing; the key by its SHA-256, failed authentications limited per client
 *     address and key prefix, the request counted in the key's rate-limit window (429 +
 *     Retry-After when over; RateLimit-* and X-RateLimit-* headers on every authenticated
 *     response), the route's scope (403 naming the missing scope);
 *  3. validates the query string and, for bodies, size (413 over 1 MB), content type (415
 *     unless JSON), JSON syntax (400) and the zod schema (422 naming the field);
 *  4. on POST with `Idempotency-Key`: replays the stored response (`Idempotent-Replayed:
 *     true`), or refuses (409 in flight, 422 other body), or goes on;
 *  5. runs the route: a command route (`route.command`, e.g. POST /v1/bookings) admits,
 *     honours the Idempotency-Key and runs its command in ONE mutation (`api/commands.ts`);
 *     other routes are admitted by `authorize`, record their Idempotency-Key as in flight and
 *     run their handler. Domain errors keep their code and take their status from
 *     `httpStatusForCode`; anything unexpected is a 500 with the request id only (the
 *     details go to the log).
 *
 * Every answer carries `X-Content-Type-Options: nosniff` and `Cache-Control: no-store`.
 *
 * `registerApiRoutes(http)` mounts it on every method under /v1/.
 */
import type { HttpRouter, RouteSpecWithPathPrefix } from "convex/server";
import { internal } from "../../_generated/api";
import type { Id } from "../../_generated/dataModel";
import { httpAction, type ActionCtx } from "../../_generated/server";
import { hashApiKey, KEY_PATTERN, keyPrefix, sha256Hex, type ApiScope } from "../apiKeyFormat";
import type { Caller, CommandOutcome, CommandRequest } from "../commands";
import type { Admission, Presented, Rate } from "../gate";
import { ApiError, classifyError, type ClassifiedError } from "./errors";
import { clientAddressOf } from "../../model/clientAddress";
import { tooNestedMessage } from "../../model/jsonNesting";
import { compileRoutes, matchRoute, validate, type Command, type Route } from "./framework";
import { openApiRoute } from "./openapi";
import { apiRoutes } from "./routes";
import { zPlainListQuery } from "./schemas";

export const MAX_BODY_BYTES = 1_048_576;
const EMPTY_QUERY = zPlainListQuery.pick({});

const compiled = compileRoutes([...apiRoutes, openApiRoute]);

/** On every answer: never sniff a JSON body as something else, never cache one (personal data). */
export const SECURITY_HEADERS = { "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store" } as const;

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

function unauthenticated(message: string): ApiError {
  return new ApiError("UNAUTHENTICATED", message, undefined, { "WWW-Authenticate": 'Bearer realm="api"' });
}

/** A well-formed key from `Authorization: Bearer …`; a missing or malformed one is refused here, reading nothing. */
function bearerKey(request: Request): string {
  const header = request.headers.get("authorization");
  const match = header === null ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (match === null) throw unauthenticated("Authenticate with an API key: Authorization: Bearer bk_test_… .");
  if (!KEY_PATTERN.test(match[1])) throw unauthenticated("The API key is invalid, revoked or expired.");
  return match[1];
}

/** The client address rule is shared with the accounts' front door (model/clientAddress.ts). */
export { clientAddressOf };

export async function presentedOf(request: Request, scope: ApiScope, now: number): Promise<Presented> {
  const key = bearerKey(request);
  return { keyHash: await hashApiKey(key), keyPrefix: keyPrefix(key), clientAddress: clientAddressOf(request), scope, now };
}

/** The refusal of an admission as the API's error, with its headers. */
function refusalError(refusal: Extract<Admission, { ok: false }>, headers: Record<string, string>, now: number): ApiError {
  if (refusal.rate !== undefined) Object.assign(headers, rateHeaders(refusal.rate, now));
  if (refusal.code === "UNAUTHENTICATED") return unauthenticated(refusal.message);
  if (refusal.code === "RATE_LIMITED") {
    const retryAfter = Math.max(1, Math.ceil((refusal.retryAfterMs ?? 1_000) / 1_000));
    return new ApiError("RATE_LIMITED", refusal.message, undefined, { "Retry-After": String(retryAfter) });
  }
  return new ApiError(refusal.code, refusal.message);
}

async function admitted(ctx: ActionCtx, presented: Presented, headers: Record<string, string>): Promise<Caller> {
  const admission = await ctx.runMutation(internal.api.internalRequests.authorize, presented);
  if (!admission.ok) throw refusalError(admission, headers, presented.now);
  Object.assign(headers, rateHeaders(admission.rate, presented.now));
  return { businessId: admission.businessId, apiKeyId: admission.apiKeyId };
}

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;

type Parsed = { query: unknown; body: unknown; idempotency: { key: string; requestHash: string } | null };

/** The query string, the body and the Idempotency-Key (POST), validated. */
async function parseRequest(route: Route, request: Request, url: URL, method: string, authenticated: boolean): Promise<Parsed> {
  const query = validate(route.query ?? EMPTY_QUERY, Object.fromEntries(url.searchParams), "query");
  if (method !== "POST" && method !== "PATCH") return { query, body: undefined, idempotency: null };
  const raw = await readJsonBody(request);
  const body = validate(route.body ?? EMPTY_QUERY, raw, "body");
  const key = request.headers.get("idempotency-key");
  if (method !== "POST" || key === null || !authenticated) return { query, body, idempotency: null };
  if (!IDEMPOTENCY_KEY.test(key)) throw new ApiError("INVALID_ARGUMENT", "Idempotency-Key must be 1–255 visible ASCII characters.", "Idempotency-Key");
  return { query, body, idempotency: { key, requestHash: await requestHashOf(method, url.pathname, raw) } };
}

const IDEMPOTENCY_MISMATCH = "This Idempotency-Key was used with a different request; use a new key.";
const IDEMPOTENCY_IN_FLIGHT = "A request with this Idempotency-Key is still being processed; retry shortly.";

/** A command route: admission, Idempotency-Key and the command in one transaction. */
async function serveCommand(
  ctx: ActionCtx,
  route: Route & { command: Command<unknown, unknown> },
  presented: Presented,
  parsed: Parsed,
  params: Record<string, string>,
  headers: Record<string, string>,
  requestId: string,
): Promise<Response> {
  const request: CommandRequest = {
    ...presented,
    status: route.status ?? 200,
    ...(parsed.idempotency !== null ? { idempotency: parsed.idempotency } : {}),
  };
  let outcome: CommandOutcome;
  try {
    outcome = await ctx.runMutation(route.command.mutation, { request, input: route.command.input({ params, query: parsed.query, body: parsed.body }) as never });
  } catch (error) {
    const failure = classifyError(error, requestId);
    if (failure.unexpected) throw error;
    // A domain error rolled the command back: count the request and record the error as the
    // key's answer (or replay what a concurrent request with the key recorded first).
    const response = { status: failure.status, body: JSON.stringify(failure.body) };
    const settled = await settle(ctx, requestId, () => ctx.runMutation(internal.api.commands.settleCommandError, { request, response }));
    if (settled?.rate !== undefined) Object.assign(headers, rateHeaders(settled.rate, presented.now));
    if (settled?.kind === "replay") return jsonResponse(settled.response.status, settled.response.body, { ...headers, "Idempotent-Replayed": "true" });
    throw error;
  }
  if (!outcome.ok) throw refusalError(outcome, headers, presented.now);
  Object.assign(headers, rateHeaders(outcome.rate, presented.now));
  if (outcome.kind === "mismatch") throw new ApiError("IDEMPOTENCY_MISMATCH", IDEMPOTENCY_MISMATCH, "Idempotency-Key");
  if (outcome.kind === "in_flight") throw new ApiError("IDEMPOTENCY_IN_FLIGHT", IDEMPOTENCY_IN_FLIGHT, "Idempotency-Key");
  const replayed: Record<string, string> = outcome.kind === "replay" ? { "Idempotent-Replayed": "true" } : {};
  return jsonResponse(outcome.response.status, outcome.response.body, { ...headers, ...replayed });
}

/** Bookkeeping after the answer is known: a failure here is logged, not answered. */
async function settle<T>(_ctx: ActionCtx, requestId: string, write: () => Promise<T>): Promise<T | null> {
  try {
    return await write();
  } catch (error) {
    console.error(`[api] ${requestId} could not record the request's outcome`, error);
    return null;
  }
}

type Idempotency = { apiKeyId: Id<"apiKeys">; key: string; requestHash: string };

export async function serve(ctx: ActionCtx, request: Request): Promise<Response> {
  const requestId = newRequestId();
  const now = Date.now();
  const headers: Record<string, string> = { "Request-Id": requestId, ...SECURITY_HEADERS };
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
    const presented = route.scope === null ? null : await presentedOf(request, route.scope, now);

    if (route.command !== undefined && presented !== null) {
      let parsed: Parsed;
      try {
        parsed = await parseRequest(route, request, url, method, true);
      } catch (error) {
        // Who is asking comes first (401/403/429 before 4xx about the request), as on other routes.
        await admitted(ctx, presented, headers);
        throw error;
      }
      return await serveCommand(ctx, { ...route, command: route.command }, presented, parsed, match.params, headers, requestId);
    }

    const caller = presented === null ? null : await admitted(ctx, presented, headers);
    const parsed = await parseRequest(route, request, url, method, caller !== null);
    if (parsed.idempotency !== null && caller !== null) {
      const begun = await ctx.runMutation(internal.api.internalRequests.beginIdempotency, {
        apiKeyId: caller.apiKeyId,
        ...parsed.idempotency,
        now,
      });
      if (begun.kind === "replay") {
        return jsonResponse(begun.response.status, begun.response.body, { ...headers, "Idempotent-Replayed": "true" });
      }
      if (begun.kind === "mismatch") throw new ApiError("IDEMPOTENCY_MISMATCH", IDEMPOTENCY_MISMATCH, "Idempotency-Key");
      if (begun.kind === "in_flight") throw new ApiError("IDEMPOTENCY_IN_FLIGHT", IDEMPOTENCY_IN_FLIGHT, "Idempotency-Key");
      idempotency = { apiKeyId: caller.apiKeyId, ...parsed.idempotency };
    }
    if (route.handler === undefined) throw new Error(`route ${route.operationId} has neither a handler nor a command`);

    const result = await route.handler({
      ctx,
      businessId: caller?.businessId as Id<"businesses">,
      apiKeyId: caller?.apiKeyId as Id<"apiKeys">,
      params: match.params,
      query: parsed.query,
      body: parsed.body,
      requestId,
    });
    const status = route.status ?? 200;
    const text = JSON.stringify(result);
    if (idempotency !== null) {
      const done = idempotency;
      idempotency = null;
      // The operation has committed: its response stands even if recording it fails (the
      // record then stays "in flight" until its lease ends; the failure is logged).
      await settle(ctx, requestId, () =>
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
      await settle(ctx, requestId, () =>
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
