/**
 * The messages between the engine and the worker threads that run function code.
 *
 * The engine sends `run`; the worker imports the function's bundle, runs it and answers
 * `done`. In between, every syscall of the function goes to the engine: synchronous ones
 * (and the database calls of queries and mutations, which the engine answers at once) block
 * the worker on a shared flag until the engine's reply is on the sync port; the others are
 * plain messages answered by `asyncReply`. Everything the worker sends goes on its call port,
 * in order, and rings the pool's doorbell (worker_pool.ts `serve`).
 */
import type { JSONValue } from "convex/values";

export type WorkerUdfType = "query" | "mutation" | "action" | "httpAction";

export interface RunMessage {
  t: "run";
  runId: number;
  url: string;
  exportName: string;
  udfType: WorkerUdfType;
  argsText: string;
  requestId: string;
  engineId: string;
  env: Record<string, string | undefined>;
  frozenNow: number | null;
  seed: number | null;
  /** An HTTP action's request body (`argsText` holds its url, method and headers). */
  bytes?: Uint8Array | null;
}

/** An HTTP action's request as `RunMessage.argsText` carries it (the body in `bytes`). */
export interface HttpRequestJson {
  url: string;
  method: string;
  headers: [string, string][];
}

/** An HTTP action's response as the worker returns it (`done.result`). */
export interface HttpResponseJson {
  status: number;
  statusText: string;
  headers: [string, string][];
  /** The body, base64. */
  body: string;
}

export interface AsyncReplyMessage {
  t: "asyncReply";
  callId: number;
  ok: boolean;
  result?: string;
  bytes?: Uint8Array | null;
  contentType?: string | null;
  response?: FetchResponseJson;
  /** A fetch whose response body follows as `fetchChunk` messages of the same callId. */
  streamed?: boolean;
  error?: ErrorJson;
}

/** A piece of a fetch's response body, as the engine's thread reads it: bytes, the end, or an error. */
export interface FetchChunkMessage {
  t: "fetchChunk";
  callId: number;
  bytes?: Uint8Array;
  done?: boolean;
  error?: ErrorJson;
}

export interface FetchRequestJson {
  url: string;
  method: string;
  headers: [string, string][];
  redirect: RequestRedirect;
  /** The body when the function passed a string (otherwise the body is in `bytes`). */
  textBody?: string;
}

export interface FetchResponseJson {
  status: number;
  statusText: string;
  headers: [string, string][];
  url: string;
}

export type ToWorker = RunMessage | AsyncReplyMessage | FetchChunkMessage;

/** What the worker calls: a Convex syscall (`sync`/`async`), or engine help for the runtime. */
export type CallKind = "sync" | "async" | "now" | "storeBlob" | "getBlob" | "fetch" | "abortFetch" | "timer" | "clearTimer";

export interface CallMessage {
  t: "call";
  runId: number;
  /** Set when the call is asynchronous (answered by asyncReply), absent when the worker blocks. */
  callId?: number;
  kind: CallKind;
  op: string;
  args: string;
  bytes?: Uint8Array;
  contentType?: string | null;
  /** A `fetch` of an action: the request (body in `bytes`), or the call id of the fetch to abort. */
  request?: FetchRequestJson;
  abortCallId?: number;
  /** A `timer`'s delay (its reply comes when it fires); `clearTimer` names the timer in abortCallId. */
  ms?: number;
  /** Log lines printed since the last message. */
  logs: string[];
  /** A blocking call whose answer the function does not need (queryCleanup): sent ahead of the next call, not answered. */
  noReply?: boolean;
  /** A blocking call's number on its worker, echoed by its SyncReply. */
  seq?: number;
}

export interface StartedMessage {
  t: "started";
  runId: number;
}

export interface DoneMessage {
  t: "done";
  runId: number;
  ok: boolean;
  result?: string;
  errorMessage?: string;
  errorData?: JSONValue;
  logs: string[];
}

export type FromWorker = CallMessage | StartedMessage | DoneMessage;

/** A syscall's error as the function sees it (EngineError keeps its name: no "Uncaught"). */
export interface ErrorJson {
  name: string;
  message: string;
  data?: JSONValue;
}

export interface SyncReply {
  /** The `seq` of the blocking call this answers: a worker takes no other call's answer for its own. */
  seq?: number;
  ok: boolean;
  result?: string;
  error?: ErrorJson;
}

/** Shared-memory slot the worker waits on while a blocking call is answered. */
export const FLAG_WAITING = 0;
export const FLAG_ANSWERED = 1;

export function errorJson(error: unknown): ErrorJson {
  if (error instanceof Error) {
    const data = (error as { data?: JSONValue }).data;
    return { name: error.name, message: error.message, ...(data !== undefined ? { data } : {}) };
  }
  return { name: "Error", message: String(error) };
}

/** The Request an HTTP action receives, from its Convex JSON form. */
export function requestFromConvexJson(input: Record<string, unknown>): Request {
  const json = (input.convexJson ?? {}) as { url: string; method: string; headers: [string, string][]; body?: string };
  return new Request(json.url, {
    method: json.method,
    headers: json.headers,
    body: json.body === undefined || json.body === null ? undefined : Buffer.from(json.body, "base64"),
  });
}

/** An HTTP action's Response in Convex JSON form. */
export async function convexJsonFromResponse(input: Record<string, unknown>): Promise<{ status: number; headers: [string, string][]; body: string }> {
  const response = input.response as Response;
  const body = Buffer.from(await response.arrayBuffer()).toString("base64");
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => headers.push([name, value]));
  return { status: response.status, headers, body };
}
