/**
 * Convex's HTTP API on the client port: what ConvexHttpClient calls (`/api/query`,
 * `/api/mutation`, `/api/action`, `/api/function`, `/api/query_ts`, `/api/query_at_ts`) and
 * the public `/api/run/<module>/<function>` route.
 */
import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { JSONValue } from "convex/values";
import type { CallOutcome, Engine, QueryOutcome, UdfType } from "../engine/types.js";
import { ANONYMOUS, type AuthVerifier, type Caller } from "./auth.js";
import type { CommitHistory } from "./commit_history.js";
import { createAdminApi } from "./admin_api.js";
import { HttpError, readBody, sendJson, sendText } from "./http_util.js";
import { canonicalFunctionPath, functionPathFromRunRoute, InvalidFunctionPathError } from "./paths.js";
import { decodeTs, encodeTs } from "./timestamps.js";
import { tooNestedMessageFor, valueNesting } from "./value_nesting.js";

/** Status Convex uses for "the function ran and threw". */
export const STATUS_FUNCTION_FAILED = 560;

/** The kind of a function callable by this caller, or null when there is none. */
export type FunctionTypeLookup = (path: string, allowInternal: boolean) => UdfType | null;

/** Uploads are held in memory while stored. */
const MAX_UPLOAD_BYTES = 64 * 1024 * 1024;

export interface HttpApiOptions {
  engine: Engine;
  /** Without it, /api/function and /api/run answer 501 and unknown functions surface as function errors. */
  functionType?: FunctionTypeLookup;
  auth: AuthVerifier;
  history: CommitHistory;
  maxArgsBytes: number;
  convexVersion: string;
}

interface CallRequest {
  path: string;
  args: JSONValue[];
  ts?: string;
}

export function createHttpApi(options: HttpApiOptions) {
  const { engine } = options;
  // JSON framing around the arguments is small; the arguments themselves are what is limited.
  const bodyLimit = options.maxArgsBytes + 64 * 1024;
  const admin = createAdminApi(engine, (request) => callerOf(request, options.auth));

  async function call(kind: UdfType, request: CallRequest, caller: Caller): Promise<CallOutcome> {
    const callOptions = { identity: caller.identity, allowInternal: caller.admin };
    if (kind === "query") return engine.runQuery(request.path, request.args, callOptions);
    if (kind === "mutation") return engine.runMutation(request.path, request.args, callOptions);
    return engine.runAction(request.path, request.args, callOptions);
  }

  async function route(request: IncomingMessage, url: URL): Promise<{ status: number; body: unknown }> {
    const pathname = url.pathname;
    const kind = fixedKind(pathname);
    const isRun = pathname.startsWith("/api/run/");
    const known = kind !== undefined || isRun || ["/api/function", "/api/query_at_ts", "/api/query_ts"].includes(pathname);
    if (!known) throw new HttpError(404, "NotFound", `No such endpoint: ${request.method} ${pathname}`);
    if (request.method !== "POST") {
      throw new HttpError(405, "MethodNotAllowed", `${request.method} ${pathname} is not supported; use POST`);
    }
    if (pathname === "/api/query_ts") {
      return { status: 200, body: { ts: encodeTs(engine.latestTs()) } };
    }
    const caller = await callerOf(request, options.auth);
    const body = parseJsonBody(await readBody(request, bodyLimit));
    refuseDeepNesting(body);
    const callRequest = parseCallRequest(body, isRun ? functionPathFromRunRoute(pathname.slice("/api/run/".length)) : undefined);
    checkArgsSize(callRequest, options.maxArgsBytes);

    const resolvedKind = functionKind(callRequest.path, caller, pathname === "/api/query_at_ts" ? "query" : kind);
    if (pathname === "/api/query_at_ts") return queryAtTs(callRequest, caller);
    return respond(await call(resolvedKind, callRequest, caller));
  }

  /** Checks the function exists (404) and is of the endpoint's kind (400), when the engine can tell. */
  function functionKind(path: string, caller: Caller, expected: UdfType | undefined): UdfType {
    if (options.functionType === undefined) {
      if (expected !== undefined) return expected;
      throw new HttpError(
        501,
        "NotImplemented",
        `This backend cannot tell what kind of function ${path} is; call /api/query, /api/mutation or /api/action instead`,
      );
    }
    const actual = options.functionType(path, caller.admin);
    if (actual === null) {
      throw new HttpError(404, "FunctionNotFound", `Could not find ${caller.admin ? "" : "public "}function for '${path}'`);
    }
    if (expected !== undefined && actual !== expected) {
      throw new HttpError(400, "WrongFunctionKind", `${path} is a ${actual}, not a ${expected}; call /api/${actual}`);
    }
    return actual;
  }

  async function storage(request: IncomingMessage, response: ServerResponse, url: URL, cors: Record<string, string>): Promise<boolean> {
    if (request.method === "POST" && url.pathname === "/api/storage/upload") {
      if (typeof engine.storeFile !== "function") throw new HttpError(501, "NotImplemented", "This backend does not store files");
      if (!url.searchParams.get("token")) throw new HttpError(400, "BadRequest", "Upload URL is missing its token");
      const bytes = await readBody(request, MAX_UPLOAD_BYTES);
      const contentType = request.headers["content-type"] ?? null;
      const storageId = await engine.storeFile(new Uint8Array(bytes), contentType, url.searchParams.get("token"));
      sendJson(response, 200, { storageId }, cors);
      return true;
    }
    const match = /^\/api\/storage\/([^/]+)$/.exec(url.pathname);
    if ((request.method === "GET" || request.method === "HEAD") && match !== null) {
      const file = typeof engine.getStoredFile === "function" ? await engine.getStoredFile(decodeURIComponent(match[1])) : null;
      if (file === null) throw new HttpError(404, "FileNotFound", `No stored file ${match[1]}`);
      response.writeHead(200, {
        ...cors,
        "content-type": file.contentType ?? "application/octet-stream",
        "content-length": String(file.size),
        etag: `"${file.sha256}"`,
        "cache-control": "private, max-age=2592000",
      });
      if (request.method === "HEAD") response.end();
      else createReadStream(file.path).on("error", () => response.destroy()).pipe(response);
      return true;
    }
    return false;
  }

  /**
   * Reads at `ts` by running at the latest snapshot and proving no later commit touched
   * what the query read; otherwise the snapshot is refused rather than faked.
   */
  async function queryAtTs(request: CallRequest, caller: Caller): Promise<{ status: number; body: unknown }> {
    if (request.ts === undefined) throw new HttpError(400, "BadRequest", `/api/query_at_ts needs a "ts" field`);
    let ts: bigint;
    try {
      ts = decodeTs(request.ts);
    } catch (error) {
      throw new HttpError(400, "BadRequest", (error as Error).message);
    }
    if (ts > engine.latestTs()) throw new HttpError(400, "BadRequest", `Timestamp ${ts} is in the future`);
    const outcome: QueryOutcome = await engine.runQuery(request.path, request.args, {
      identity: caller.identity,
      allowInternal: caller.admin,
    });
    const verdict = options.history.unchangedSince(ts, outcome.ts, outcome.readSet);
    if (verdict !== "unchanged") {
      throw new HttpError(
        409,
        "SnapshotUnavailable",
        verdict === "too-old"
          ? `Timestamp ${ts} is older than the snapshots this backend keeps; retry with a fresh timestamp`
          : `Data read by ${request.path} changed after timestamp ${ts}; retry with a fresh timestamp`,
      );
    }
    return respond(outcome);
  }

  return async function handle(request: IncomingMessage, response: ServerResponse, cors: Record<string, string>): Promise<void> {
    const url = new URL(request.url ?? "/", "http://localhost");
    if (request.method === "GET" && url.pathname === "/version") {
      return sendText(response, 200, `local-backend (convex ${options.convexVersion})`, cors);
    }
    if (request.method === "GET" && url.pathname === "/") {
      return sendText(response, 200, "This Convex deployment is running (local backend).", cors);
    }
    try {
      // The function-call endpoints are the hot path and no storage or admin route shares them.
      const isCall = request.method === "POST" && fixedKind(url.pathname) !== undefined;
      if (!isCall && url.pathname.startsWith("/api/storage/") && (await storage(request, response, url, cors))) return;
      if (!isCall && admin !== null && (await admin.handle(request, response, url, cors))) return;
      const { status, body } = await route(request, url);
      sendJson(response, status, body, cors);
    } catch (error) {
      if (error instanceof HttpError) {
        const headers = error.status === 413 ? { ...cors, connection: "close" } : cors;
        sendJson(response, error.status, { code: error.code, message: error.message }, headers);
        return;
      }
      if (error instanceof InvalidFunctionPathError) {
        sendJson(response, 400, { code: "BadFunctionPath", message: error.message }, cors);
        return;
      }
      sendJson(response, 500, { code: "InternalServerError", message: (error as Error).message }, cors);
    }
  };
}

function fixedKind(pathname: string): UdfType | undefined {
  if (pathname === "/api/query") return "query";
  if (pathname === "/api/mutation") return "mutation";
  if (pathname === "/api/action") return "action";
  return undefined;
}

function respond(outcome: CallOutcome): { status: number; body: unknown } {
  if (outcome.success) {
    return { status: 200, body: { status: "success", value: outcome.value ?? null, logLines: outcome.logLines } };
  }
  return {
    status: STATUS_FUNCTION_FAILED,
    body: {
      status: "error",
      errorMessage: outcome.errorMessage,
      ...(outcome.errorData !== undefined ? { errorData: outcome.errorData } : {}),
      logLines: outcome.logLines,
    },
  };
}

async function callerOf(request: IncomingMessage, auth: AuthVerifier): Promise<Caller> {
  const header = request.headers.authorization;
  if (header === undefined || header === "") return ANONYMOUS;
  const space = header.indexOf(" ");
  const scheme = space === -1 ? header : header.slice(0, space);
  const credential = space === -1 ? "" : header.slice(space + 1).trim();
  try {
    if (scheme === "Bearer" && credential !== "") {
      return { identity: await auth.verifyUserToken(credential), admin: false };
    }
    if (scheme === "Convex" && credential !== "") return adminCaller(credential, auth);
  } catch (error) {
    throw new HttpError(401, "Unauthenticated", (error as Error).message);
  }
  throw new HttpError(401, "InvalidAuthHeader", `Authorization header must be "Bearer <token>" or "Convex <admin key>"`);
}

/**
 * `Convex <admin key>` or, acting as a user, `Convex <admin key>:<base64 of the identity's
 * JSON>` (what ConvexHttpClient.setAdminAuth(key, identity) and `convex run --identity` send).
 */
export function adminCaller(credential: string, auth: AuthVerifier): Caller {
  const colon = credential.lastIndexOf(":");
  if (colon === -1) return auth.verifyAdminKey(credential);
  try {
    return auth.verifyAdminKey(credential);
  } catch {
    // Not the whole credential: the part after the last colon is the acting-as identity.
  }
  const encoded = credential.slice(colon + 1);
  let attributes: unknown;
  try {
    attributes = JSON.parse(Buffer.from(encoded, "base64").toString("utf8"));
  } catch {
    throw new Error("The acting-as identity after the admin key is not base64-encoded JSON");
  }
  if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
    throw new Error("The acting-as identity after the admin key must be a JSON object");
  }
  return auth.verifyAdminKey(credential.slice(0, colon), attributes as Record<string, unknown>);
}

function parseJsonBody(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "BadJsonBody", "Request body is not valid JSON");
  }
}

/**
 * Before anything recurses over the body (Convex answers 400 TooNestedError). The arguments
 * are measured as the engine measures them, as the positional array: the body is one level
 * more (the `{path, args}` envelope).
 */
function refuseDeepNesting(body: unknown): void {
  const message = tooNestedMessageFor(valueNesting(body as JSONValue) - 1);
  if (message !== null) throw new HttpError(400, "TooNestedError", message);
}

function parseCallRequest(body: unknown, pathFromRoute: string | undefined): CallRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new HttpError(400, "BadRequest", "Request body must be a JSON object");
  }
  const { path, args, format, ts } = body as Record<string, unknown>;
  if (format !== undefined && format !== "convex_encoded_json" && format !== "json") {
    throw new HttpError(400, "BadRequest", `Unsupported format ${JSON.stringify(format)}: use "convex_encoded_json" or "json"`);
  }
  const resolvedPath = pathFromRoute ?? canonicalFunctionPath(path);
  let argList: JSONValue[];
  if (args === undefined) argList = [{}];
  else if (Array.isArray(args)) argList = args as JSONValue[];
  else if (typeof args === "object" && args !== null) argList = [args as JSONValue];
  else throw new HttpError(400, "BadRequest", `"args" must be an object or an array holding one object`);
  if (argList.length !== 1 || typeof argList[0] !== "object" || argList[0] === null || Array.isArray(argList[0])) {
    throw new HttpError(400, "BadRequest", `"args" must be an object or an array holding one object`);
  }
  if (ts !== undefined && typeof ts !== "string") throw new HttpError(400, "BadRequest", `"ts" must be an encoded timestamp string`);
  return { path: resolvedPath, args: argList, ts: ts as string | undefined };
}

function checkArgsSize(request: CallRequest, limit: number): void {
  const size = Buffer.byteLength(JSON.stringify(request.args));
  if (size > limit) {
    throw new HttpError(413, "ArgumentsTooLarge", `Arguments for ${request.path} are too large: ${size} bytes, the limit is ${limit} bytes`);
  }
}
