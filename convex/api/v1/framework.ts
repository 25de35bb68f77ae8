/**
 * How a REST route is declared: method, path template, scope, zod schemas of its query
 * string and body, the zod schema of its response, and a handler that calls the internal
 * Convex functions with the API key's business. The router validates everything the schema
 * describes before the handler runs; the OpenAPI document is generated from the same table.
 *
 * Plain module: no registered functions.
 */
import type { FunctionReference } from "convex/server";
import type { z } from "zod";
import type { Id } from "../../_generated/dataModel";
import type { ActionCtx } from "../../_generated/server";
import type { ApiScope } from "../apiKeyFormat";
import type { CommandOutcome, CommandRequest } from "../commands";
import { ApiError, type ApiErrorCode } from "./errors";

export type Method = "GET" | "POST" | "PATCH" | "DELETE";

export type Call<Q, B> = {
  ctx: ActionCtx;
  businessId: Id<"businesses">;
  apiKeyId: Id<"apiKeys">;
  params: Record<string, string>;
  query: Q;
  body: B;
  requestId: string;
};

export type Route<Q = unknown, B = unknown> = {
  method: Method;
  /** Template with `{name}` segments, e.g. "/v1/customers/{customerId}". */
  path: string;
  operationId: string;
  summary: string;
  tag: string;
  /** null: public (no key needed). */
  scope: ApiScope | null;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  response: z.ZodType;
  /** Success status (default 200). */
  status?: number;
  /** Domain errors worth documenting besides the ones every route can answer. */
  errors?: ApiErrorCode[];
  /** Routes whose work is a query or several calls, after the key was admitted. */
  handler?: (call: Call<Q, B>) => Promise<unknown>;
  /**
   * Routes whose work is one command: the admission, the Idempotency-Key record and the
   * command commit in one mutation (`api/commands.ts`), given `input` of the request.
   */
  command?: Command<Q, B>;
};

export type CommandMutation = FunctionReference<"mutation", "internal", { request: CommandRequest; input: never }, CommandOutcome>;

export type Command<Q, B> = {
  mutation: CommandMutation;
  input: (call: { params: Record<string, string>; query: Q; body: B }) => unknown;
};

/** A route's command: `mutation` (built on `runAdmitted`) and how the request becomes its input. */
export function command<I, Q = unknown, B = unknown>(
  mutation: FunctionReference<"mutation", "internal", { request: CommandRequest; input: I }, CommandOutcome>,
  input: (call: { params: Record<string, string>; query: Q; body: B }) => I,
): Command<Q, B> {
  return { mutation: mutation as unknown as CommandMutation, input };
}

/** Declares a route with its query and body types inferred from the schemas. */
export function route<QS extends z.ZodType = z.ZodType<Record<string, never>>, BS extends z.ZodType = z.ZodType<undefined>>(
  spec: Omit<Route<z.output<QS>, z.output<BS>>, "query" | "body"> & { query?: QS; body?: BS },
): Route {
  return spec as unknown as Route;
}

export function read(resource: ApiScope["resource"]): ApiScope {
  return { resource, access: "read" };
}

export function write(resource: ApiScope["resource"]): ApiScope {
  return { resource, access: "write" };
}

// ---------------------------------------------------------------------------------------
// Validation
// ---------------------------------------------------------------------------------------

/** "cart[0].productId" from zod's ["cart", 0, "productId"]. */
function paramOf(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}

export function validate<T>(schema: z.ZodType<T>, value: unknown, where: "query" | "body"): T {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  let param = paramOf(issue.path);
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0];
    param = param === "" ? key : `${param}.${key}`;
    throw new ApiError("INVALID_ARGUMENT", `Unknown ${where === "query" ? "query parameter" : "field"} "${param}".`, param);
  }
  if (param === "") throw new ApiError("INVALID_ARGUMENT", `The ${where === "query" ? "query string" : "request body"} is invalid: ${issue.message}`);
  throw new ApiError("INVALID_ARGUMENT", `${param}: ${issue.message}`, param);
}

// ---------------------------------------------------------------------------------------
// Matching
// ---------------------------------------------------------------------------------------

type Compiled = { route: Route; segments: string[] };

export type Match =
  | { kind: "route"; route: Route; params: Record<string, string> }
  | { kind: "wrong_method"; allowed: Method[] }
  | { kind: "none" };

const SEGMENT = /^[A-Za-z0-9_.-]{1,100}$/;

export function compileRoutes(routes: Route[]): Compiled[] {
  // Static segments win over parameters ("/v1/zones/resolve" before "/v1/zones/{zoneId}").
  const compiled = routes.map((route) => ({ route, segments: route.path.split("/").filter(Boolean) }));
  const weight = (c: Compiled) => c.segments.map((s) => (s.startsWith("{") ? "1" : "0")).join("");
  return compiled.sort((a, b) => weight(a).localeCompare(weight(b)));
}

function matchSegments(template: string[], actual: string[]): Record<string, string> | null {
  if (template.length !== actual.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < template.length; i++) {
    const t = template[i];
    if (t.startsWith("{")) {
      if (!SEGMENT.test(actual[i])) return null;
      params[t.slice(1, -1)] = actual[i];
    } else if (t !== actual[i]) return null;
  }
  return params;
}

export function matchRoute(compiled: Compiled[], method: string, pathname: string): Match {
  let actual: string[];
  try {
    actual = pathname.split("/").filter(Boolean).map(decodeURIComponent);
  } catch {
    return { kind: "none" };
  }
  const allowed: Method[] = [];
  let found: { route: Route; params: Record<string, string> } | null = null;
  let foundTemplate: string | null = null;
  for (const c of compiled) {
    const params = matchSegments(c.segments, actual);
    if (params === null) continue;
    // Only routes of the most specific template that matched count (static before params).
    const template = c.segments.map((s) => (s.startsWith("{") ? "{}" : s)).join("/");
    if (foundTemplate !== null && template !== foundTemplate) continue;
    foundTemplate = template;
    allowed.push(c.route.method);
    if (c.route.method === method && found === null) found = { route: c.route, params };
  }
  if (found !== null) return { kind: "route", ...found };
  if (allowed.length > 0) return { kind: "wrong_method", allowed };
  return { kind: "none" };
}
