/**
 * The entry of a worker thread that runs function code (see worker_pool.ts).
 *
 * It installs the same runtime the bundles expect (runtime.ts), imports a function's bundle on
 * first use and runs the function. Its syscalls go to the engine: the database calls of queries
 * and mutations block this thread until the engine answers (a few microseconds), everything
 * that may wait (nested function calls, the calls of actions) is an ordinary message.
 */
import { readlinkSync } from "node:fs";
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from "node:worker_threads";
import { EngineError } from "./errors.js";
import { failureFrom } from "./failures.js";
import { runInExecution, runtime, seededRandom, type Execution } from "./runtime.js";
import {
  FLAG_WAITING,
  convexJsonFromResponse,
  requestFromConvexJson,
  type AsyncReplyMessage,
  type FetchChunkMessage,
  type CallKind,
  type CallMessage,
  type ErrorJson,
  type FromWorker,
  type HttpRequestJson,
  type HttpResponseJson,
  type RunMessage,
  type SyncReply,
  type ToWorker,
} from "./worker_protocol.js";

interface FunctionObject {
  invokeQuery?: (args: string) => Promise<string>;
  invokeMutation?: (args: string) => Promise<string>;
  invokeAction?: (requestId: string, args: string) => Promise<string>;
}

const port = parentPort!;
const { flagBuffer, pausedBuffer, syncPort, callPort, doorbellBuffer } = workerData as {
  flagBuffer: SharedArrayBuffer;
  pausedBuffer: SharedArrayBuffer;
  syncPort: MessagePort;
  callPort: MessagePort;
  doorbellBuffer: SharedArrayBuffer;
};
const flag = new Int32Array(flagBuffer);
/** Rung after every message, so an engine thread waiting for this worker's next call wakes. */
const doorbell = new Int32Array(doorbellBuffer);
/** What the engine reads to leave blocked time out of a function's limit (see FunctionWorker.pausedMs). */
const paused = new Float64Array(pausedBuffer);
// The thread's kernel id, for the engine to read its CPU time ("<pid>/task/<tid>"); -1: none.
try {
  paused[2] = Number(readlinkSync("/proc/thread-self").split("/").pop()) || -1;
} catch {
  paused[2] = -1;
}
const rt = runtime();
const modules = new Map<string, Promise<Record<string, unknown>>>();
const pending = new Map<number, { resolve: (reply: AsyncReplyMessage) => void }>();
let nextCallId = 1;

/** Calls whose answer nobody waits for (queryCleanup), sent in order ahead of the next message. */
const deferred: CallMessage[] = [];

function post(message: FromWorker): void {
  for (const earlier of deferred.splice(0, deferred.length)) callPort.postMessage(earlier);
  callPort.postMessage(message);
  Atomics.add(doorbell, 0, 1);
  Atomics.notify(doorbell, 0);
}

/** How many times a blocking call looks for its answer before the thread sleeps on the flag. */
const SPIN_CHECKS = 200;

/** Rebuilds a syscall's error as the function would see it from the engine in-process. */
function errorFrom(json: ErrorJson | undefined): Error {
  const error = json?.name === "EngineError" ? new EngineError(json.message) : new Error(json?.message ?? "Unknown error");
  if (json && json.name !== "EngineError" && json.name !== "Error") error.name = json.name;
  if (json?.data !== undefined) (error as Error & { data?: unknown }).data = json.data;
  return error;
}

let lastBlockingSeq = 0;

/**
 * Blocks until the engine answered (the engine never needs this thread to answer). Each call
 * is numbered and takes only the answer with its number: an answer meant for no one (sent
 * for a message of an execution that had ended) must never become the next call's result.
 */
function blockingCall(message: CallMessage): string {
  const since = performance.timeOrigin + performance.now();
  paused[1] = since;
  const seq = ++lastBlockingSeq;
  Atomics.store(flag, 0, FLAG_WAITING);
  post({ ...message, seq });
  let reply: SyncReply | undefined;
  // The engine usually answers within microseconds: look a few times before sleeping.
  for (let i = 0; i < SPIN_CHECKS && Atomics.load(flag, 0) === FLAG_WAITING; i++);
  while (reply === undefined) {
    Atomics.wait(flag, 0, FLAG_WAITING, 1000);
    for (let received = receiveMessageOnPort(syncPort); received; received = receiveMessageOnPort(syncPort)) {
      const answer = received.message as SyncReply;
      if (answer.seq === seq) {
        reply = answer;
        break;
      }
    }
    // Only stray answers so far: sleep again until ours is posted (it is posted before the
    // flag is set, so re-arming the flag here cannot miss it).
    if (reply === undefined) Atomics.store(flag, 0, FLAG_WAITING);
  }
  paused[0] += performance.timeOrigin + performance.now() - since;
  paused[1] = 0;
  if (!reply.ok) throw errorFrom(reply.error);
  return reply.result!;
}

function asyncCall(message: CallMessage, callId = nextCallId++): Promise<AsyncReplyMessage> {
  return new Promise((resolve) => {
    pending.set(callId, { resolve });
    post({ ...message, callId });
  });
}

class WorkerExecution implements Execution {
  readonly logLines: string[] = [];
  readonly random: (() => number) | null;
  readonly frozenNow: number | null;
  readonly engineId: string;

  constructor(readonly run: RunMessage) {
    this.engineId = run.engineId;
    this.frozenNow = run.frozenNow;
    this.random = run.seed === null ? null : seededRandom(run.seed);
  }

  /** Log lines not yet handed to the engine. */
  takeLogs(): string[] {
    return this.logLines.splice(0, this.logLines.length);
  }

  private message(kind: CallKind, op: string, args: string): CallMessage {
    return { t: "call", runId: this.run.runId, kind, op, args, logs: this.takeLogs() };
  }

  /** A call of the runtime's own (timers) for this execution. */
  callMessage(kind: CallKind): CallMessage {
    return this.message(kind, "", "");
  }

  syscall(op: string, args: string): string {
    if (op === "1.0/queryCleanup") {
      // Its answer is always {}: it goes ahead of the next call instead of a round trip of its own.
      deferred.push({ ...this.message("sync", op, args), noReply: true });
      return "{}";
    }
    return blockingCall(this.message("sync", op, args));
  }

  asyncSyscall(op: string, args: string): Promise<string> {
    // Database calls of queries and mutations are answered at once: waiting for them costs
    // less than a round of the event loops. A nested call may run here, so it must not block.
    if ((this.run.udfType === "query" || this.run.udfType === "mutation") && op !== "1.0/runUdf") {
      try {
        return Promise.resolve(blockingCall(this.message("async", op, args)));
      } catch (error) {
        return Promise.reject(error as Error);
      }
    }
    return asyncCall(this.message("async", op, args)).then((reply) => {
      if (!reply.ok) throw errorFrom(reply.error);
      return reply.result!;
    });
  }

  jsSyscall(op: string, args: unknown): unknown {
    const input = args as Record<string, unknown>;
    switch (op) {
      case "storage/storeBlob":
        return (async () => {
          const blob = input.blob as Blob;
          const bytes = new Uint8Array(await blob.arrayBuffer());
          const reply = await asyncCall({ ...this.message("storeBlob", op, ""), bytes, contentType: blob.type || null });
          if (!reply.ok) throw errorFrom(reply.error);
          return reply.result!;
        })();
      case "storage/getBlob":
        return (async () => {
          const reply = await asyncCall(this.message("getBlob", op, JSON.stringify(input.storageId)));
          if (!reply.ok) throw errorFrom(reply.error);
          if (!reply.bytes) return null;
          return new Blob([reply.bytes as Uint8Array<ArrayBuffer>], { type: reply.contentType ?? "" });
        })();
      case "requestFromConvexJson":
        return requestFromConvexJson(input);
      case "convexJsonFromResponse":
        return convexJsonFromResponse(input);
      default:
        throw new EngineError(`Unknown js operation ${op}`);
    }
  }

  now(): number {
    return Number(blockingCall(this.message("now", "now", "")));
  }

  /** An action's fetch goes out from the engine's thread, as it would in-process. */
  async fetch(request: Request, textBody: string | undefined): Promise<Response> {
    const signal = request.signal;
    if (signal.aborted) throw signal.reason ?? new DOMException("This operation was aborted", "AbortError");
    const body = textBody !== undefined || request.body === null ? undefined : new Uint8Array(await request.arrayBuffer());
    const headers: [string, string][] = [];
    request.headers.forEach((value, name) => headers.push([name, value]));
    const callId = nextCallId++;
    const onAbort = () => post({ ...this.message("abortFetch", "", ""), abortCallId: callId });
    signal.addEventListener("abort", onAbort, { once: true });
    try {
      const reply = await asyncCall(
        {
          ...this.message("fetch", "", ""),
          bytes: body,
          request: { url: request.url, method: request.method, headers, redirect: request.redirect, ...(textBody !== undefined ? { textBody } : {}) },
        },
        callId,
      );
      if (!reply.ok) throw errorFrom(reply.error);
      const meta = reply.response!;
      const nullBody = [101, 103, 204, 205, 304].includes(meta.status);
      const responseBody = reply.streamed ? streamedBody(callId) : (reply.bytes as Uint8Array<ArrayBuffer> | null);
      const response = new Response(nullBody ? null : responseBody, {
        status: meta.status,
        statusText: meta.statusText,
        headers: meta.headers,
      });
      Object.defineProperty(response, "url", { value: meta.url });
      return response;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
  }
}

/**
 * Response bodies streaming in from the engine's thread, by fetch call id. A chunk may arrive
 * before the body's stream is made (it follows the head on the same port), so it waits here.
 */
const bodies = new Map<number, { controller?: ReadableStreamDefaultController<Uint8Array>; early: FetchChunkMessage[] }>();

function feedBody(chunk: FetchChunkMessage): void {
  let body = bodies.get(chunk.callId);
  if (body === undefined) bodies.set(chunk.callId, (body = { early: [] }));
  if (body.controller === undefined) {
    body.early.push(chunk);
    return;
  }
  if (chunk.bytes !== undefined) body.controller.enqueue(chunk.bytes);
  if (chunk.done || chunk.error) {
    bodies.delete(chunk.callId);
    if (chunk.error) body.controller.error(errorFrom(chunk.error));
    else body.controller.close();
  }
}

function streamedBody(callId: number): ReadableStream<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const early = bodies.get(callId)?.early ?? [];
      bodies.set(callId, { controller, early: [] });
      for (const chunk of early) feedBody(chunk);
    },
  });
}

// Function code's fetch is the engine thread's (where tests stub it); outside a function, this thread's.
const ownFetch = globalThis.fetch;
globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
  const execution = rt.als.getStore();
  if (!(execution instanceof WorkerExecution)) return ownFetch(input, init);
  // A string body stays a string, as the engine thread's fetch would have been handed it.
  return execution.fetch(new Request(input, init), typeof init?.body === "string" ? init.body : undefined);
};

/**
 * An action's timer: armed on the engine's thread, whose timers are the ones a test fakes
 * (`vi.useFakeTimers()`), as they would be for an action running in-process. It has the
 * methods Node code expects of a Timeout.
 */
class EngineTimer {
  private static readonly byId = new Map<number, EngineTimer>();
  private static nextId = 1;
  readonly id = EngineTimer.nextId++;
  private cleared = false;
  private callId = 0;

  constructor(
    private readonly execution: WorkerExecution,
    private readonly callback: (...args: unknown[]) => void,
    private readonly ms: number,
    private readonly args: unknown[],
    private readonly repeat: boolean,
  ) {
    EngineTimer.byId.set(this.id, this);
    this.arm();
  }

  static find(handle: unknown): EngineTimer | undefined {
    if (handle instanceof EngineTimer) return handle;
    return typeof handle === "number" ? EngineTimer.byId.get(handle) : undefined;
  }

  private arm(): void {
    const callId = (this.callId = nextCallId++);
    void asyncCall({ ...this.execution.callMessage("timer"), ms: this.ms }, callId).then((reply) => {
      if (this.cleared || callId !== this.callId || reply.result !== "fired") return;
      if (this.repeat) this.arm();
      else EngineTimer.byId.delete(this.id);
      this.callback(...this.args);
    });
  }

  clear(): void {
    if (this.cleared) return;
    this.cleared = true;
    EngineTimer.byId.delete(this.id);
    post({ ...this.execution.callMessage("clearTimer"), abortCallId: this.callId });
  }

  refresh(): this {
    if (!this.cleared) {
      post({ ...this.execution.callMessage("clearTimer"), abortCallId: this.callId });
      this.arm();
    }
    return this;
  }

  ref(): this {
    return this;
  }

  unref(): this {
    return this;
  }

  hasRef(): boolean {
    return true;
  }

  [Symbol.toPrimitive](): number {
    return this.id;
  }
}

// An action's timers are the engine thread's (see EngineTimer); outside a function, this thread's.
const own = { setTimeout: globalThis.setTimeout, setInterval: globalThis.setInterval, clearTimeout: globalThis.clearTimeout, clearInterval: globalThis.clearInterval };
function engineTimer(repeat: boolean, callback: unknown, ms: unknown, args: unknown[]): EngineTimer | null {
  const execution = rt.als.getStore();
  if (!(execution instanceof WorkerExecution) || typeof callback !== "function") return null;
  const delay = Math.max(0, Number(ms) || 0);
  return new EngineTimer(execution, callback as (...a: unknown[]) => void, delay, args, repeat);
}
globalThis.setTimeout = ((callback: unknown, ms?: unknown, ...args: unknown[]) =>
  engineTimer(false, callback, ms, args) ?? own.setTimeout(callback as () => void, ms as number, ...args)) as typeof setTimeout;
globalThis.setInterval = ((callback: unknown, ms?: unknown, ...args: unknown[]) =>
  engineTimer(true, callback, ms, args) ?? own.setInterval(callback as () => void, ms as number, ...args)) as typeof setInterval;
globalThis.clearTimeout = ((handle: unknown) => {
  const timer = EngineTimer.find(handle);
  if (timer) timer.clear();
  else own.clearTimeout(handle as NodeJS.Timeout);
}) as typeof clearTimeout;
globalThis.clearInterval = ((handle: unknown) => {
  const timer = EngineTimer.find(handle);
  if (timer) timer.clear();
  else own.clearInterval(handle as NodeJS.Timeout);
}) as typeof clearInterval;

async function importModule(run: RunMessage): Promise<Record<string, unknown>> {
  let loading = modules.get(run.url);
  if (!loading) {
    // Top-level code reads the deployment env of the app or component it belongs to.
    loading = (async () => {
      rt.loadingEnv = run.env;
      try {
        return (await import(run.url)) as Record<string, unknown>;
      } finally {
        rt.loadingEnv = null;
      }
    })();
    modules.set(run.url, loading);
  }
  return await loading;
}

interface HttpRouterObject {
  lookup?: (path: string, method: string) => [{ invokeHttpAction: (request: Request) => Promise<Response> }, string, string] | null;
}

/** Routes an HTTP action's request through the app's router (`http.ts`) and runs its handler. */
async function serveHttpAction(execution: WorkerExecution, router: HttpRouterObject, run: RunMessage): Promise<string> {
  const input = JSON.parse(run.argsText) as HttpRequestJson;
  const request = new Request(input.url, { method: input.method, headers: input.headers, body: (run.bytes as Uint8Array<ArrayBuffer> | null | undefined) ?? undefined });
  const match = router.lookup?.(new URL(input.url).pathname, input.method) ?? null;
  if (!match) throw new EngineError(`No HttpAction routed for ${new URL(input.url).pathname}`);
  const response = await runInExecution(execution, () => match[0].invokeHttpAction(request));
  const headers: [string, string][] = [];
  response.headers.forEach((value, name) => headers.push([name, value]));
  const body = Buffer.from(await response.arrayBuffer()).toString("base64");
  return JSON.stringify({ status: response.status, statusText: response.statusText, headers, body } satisfies HttpResponseJson);
}

async function execute(run: RunMessage): Promise<void> {
  const execution = new WorkerExecution(run);
  try {
    const fn = (await importModule(run))[run.exportName] as FunctionObject | undefined;
    if (!fn) throw new EngineError(`Could not find function ${run.exportName} in ${run.url}`);
    rt.envs.set(run.engineId, run.env);
    post({ t: "started", runId: run.runId });
    if (run.udfType === "httpAction") {
      const result = await serveHttpAction(execution, fn as HttpRouterObject, run);
      post({ t: "done", runId: run.runId, ok: true, result, logs: execution.takeLogs() });
      return;
    }
    const result = await runInExecution(execution, () => {
      if (run.udfType === "query") return fn.invokeQuery!(run.argsText);
      if (run.udfType === "mutation") return fn.invokeMutation!(run.argsText);
      return fn.invokeAction!(run.requestId, run.argsText);
    });
    post({ t: "done", runId: run.runId, ok: true, result, logs: execution.takeLogs() });
  } catch (error) {
    const failure = failureFrom(error, []);
    post({
      t: "done", runId: run.runId, ok: false, errorMessage: failure.errorMessage,
      ...(failure.errorData !== undefined ? { errorData: failure.errorData } : {}), logs: execution.takeLogs(),
    });
  }
}

port.on("message", (message: ToWorker) => {
  if (message.t === "run") {
    void execute(message);
    return;
  }
  if (message.t === "fetchChunk") {
    feedBody(message);
    return;
  }
  const call = pending.get(message.callId);
  pending.delete(message.callId);
  call?.resolve(message);
});
