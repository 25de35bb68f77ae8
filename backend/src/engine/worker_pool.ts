/**
 * Worker threads that run function code, so a function can be stopped at its time limit
 * (a worker is terminated mid-loop, where code on the engine's own thread could only be
 * refused after it returned) and function code runs beside the engine's thread.
 *
 * One process-wide pool, shared by every engine in the process (the test harness opens
 * many): a worker runs one top-level execution at a time (plus the nested calls it makes,
 * which share its transaction and its fate), and is terminated and replaced when that
 * execution passes its limit. The transaction itself (read set, writes, limits) stays with
 * the engine: the worker only forwards syscalls.
 */
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from "node:worker_threads";
import * as esbuild from "esbuild";
import { ReportedFailure } from "./failures.js";
import { epochNow, monotonicNow } from "./clock.js";
import {
  FLAG_ANSWERED,
  errorJson,
  type AsyncReplyMessage,
  type FetchChunkMessage,
  type CallMessage,
  type FromWorker,
  type RunMessage,
  type SyncReply,
} from "./worker_protocol.js";

/** What a worker's execution calls on the engine's side (the engine's FunctionExecution). */
export interface WorkerHost {
  syscall(op: string, args: string): string;
  asyncSyscall(op: string, args: string): Promise<string>;
  /** The same, answered at once (a string) when the op needs no waiting (database calls). */
  asyncSyscallNow(op: string, args: string): string | Promise<string>;
  storeBlob(bytes: Uint8Array, contentType: string | null): Promise<string>;
  /** An action's `fetch`, made by the engine's thread (its `fetch`, looked up at call time). */
  fetch(url: string, init: RequestInit): Promise<Response>;
  /** An action's `setTimeout`, armed on the engine's thread (its timers, so test fake timers apply); returns the cancel. */
  setTimer(ms: number, fire: () => void): () => void;
  getBlob(storageId: string): Promise<{ bytes: Uint8Array; contentType: string | null } | null>;
  now(): number;
  logLines: string[];
  /** Time spent before the function started (module import), not counted against its limit. */
  started(loadMs: number): void;
}

interface ActiveRun {
  host: WorkerHost;
  /** Aborts of the run's fetches in flight, by call id. */
  fetches: Map<number, AbortController>;
  /** The run's armed timers, by call id: cancel them and answer the worker at once. */
  timers: Map<number, () => void>;
  resolve(result: string): void;
  reject(error: unknown): void;
  sentAt: number;
}

/** The worker's entry, built from worker_main.ts once per process (or shipped prebuilt as .js). */
let entryFile: string | null = null;
function workerEntry(): string {
  if (entryFile) return entryFile;
  const here = path.dirname(fileURLToPath(import.meta.url));
  const prebuilt = path.join(here, "worker_main.js");
  if (existsSync(prebuilt)) return (entryFile = prebuilt);
  const source = path.join(here, "worker_main.ts");
  const result = esbuild.buildSync({
    entryPoints: [source],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    write: false,
    logLevel: "silent",
    // convex/values is the only package the runtime needs; bundled so the entry stands alone.
    banner: { js: `import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);` },
  });
  const code = result.outputFiles[0].text;
  const dir = path.join(tmpdir(), "convex-local-backend-workers");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `worker-${createHash("sha256").update(code).digest("hex").slice(0, 16)}.mjs`);
  if (!existsSync(file) || readFileSync(file, "utf8") !== code) writeFileSync(file, code);
  return (entryFile = file);
}

/**
 * Rung by every worker after each message it sends (a counter in shared memory): while a
 * function is making database calls, the engine's thread waits on it for the next call
 * instead of returning to its event loop between calls (see `serve`).
 */
const doorbell = new Int32Array(new SharedArrayBuffer(4));
/** Workers running something, whose call ports `serve` polls. */
const busyWorkers = new Set<FunctionWorker>();
/** How long the engine's thread waits for a function's next call before returning to its loop. */
const NEXT_CALL_WAIT_MS = 0.5;
/** The most the engine's thread serves calls in a row before its event loop gets a turn. */
const SERVE_SLICE_MS = 8;
let serving = false;

/**
 * Answers the calls of running functions one after the other on this thread while they
 * come quickly: a function blocked on a database call gets its answer at once, and the
 * next call is taken off its port without a turn of the event loop (a few microseconds
 * instead of an event-loop wake-up per call). Returns when no call came within
 * NEXT_CALL_WAIT_MS, when an answer has to wait (a nested call, an action's await), or after
 * SERVE_SLICE_MS so timers and I/O are not held up.
 */
function serve(first: Handled): void {
  if (serving || first !== "answered") return;
  serving = true;
  try {
    const sliceEnd = monotonicNow() + SERVE_SLICE_MS;
    for (;;) {
      if (monotonicNow() >= sliceEnd) return;
      const rung = Atomics.load(doorbell, 0);
      if (Atomics.wait(doorbell, 0, rung, NEXT_CALL_WAIT_MS) === "timed-out") return;
      let answered = false;
      let received = false;
      for (const worker of busyWorkers) {
        for (;;) {
          const message = worker.takeMessage();
          if (message === undefined) break;
          received = true;
          const outcome = worker.handle(message);
          if (outcome === "pending") return;
          if (outcome === "answered") answered = true;
        }
      }
      // Keep serving while the calls are answered at once; a worker that finished or waits
      // on something else hands control back to the event loop.
      if (received && !answered) return;
    }
  } finally {
    serving = false;
  }
}

type Handled = "answered" | "pending" | "other";

export class FunctionWorker {
  private readonly worker: Worker;
  private readonly flag: Int32Array;
  /** Where the worker's messages arrive (all of them, in the order it sent them). */
  private readonly callPort: MessagePort;
  /**
   * [total ms blocked on the engine, when the current blocking call started or 0, the
   * thread's kernel id or 0 until it has started], written by the worker.
   */
  private readonly paused: Float64Array;
  /** When the thread was created, for its off-CPU time (see pausedMs). */
  private readonly createdAt = absoluteNow();
  private cpuClock: ThreadCpuClock | null = null;
  /** The last off-CPU figure and when it was read. */
  private offCpu = { at: Number.NEGATIVE_INFINITY, ms: 0 };
  private readonly syncPort: MessagePort;
  private readonly runs = new Map<number, ActiveRun>();
  private dead = false;
  private deathReason: unknown = null;

  constructor(private readonly onExit: (worker: FunctionWorker) => void) {
    const flagBuffer = new SharedArrayBuffer(4);
    this.flag = new Int32Array(flagBuffer);
    const pausedBuffer = new SharedArrayBuffer(24);
    this.paused = new Float64Array(pausedBuffer);
    const { port1, port2 } = new MessageChannel();
    this.syncPort = port1;
    const calls = new MessageChannel();
    this.callPort = calls.port1;
    this.worker = new Worker(pathToFileURL(workerEntry()), {
      workerData: { flagBuffer, pausedBuffer, syncPort: port2, callPort: calls.port2, doorbellBuffer: doorbell.buffer },
      transferList: [port2, calls.port2],
      // The engine's thread decides what a function may do; the worker needs no extra flags.
      execArgv: [],
      stdout: false,
      stderr: false,
    });
    this.callPort.on("message", (message: FromWorker) => serve(this.handle(message)));
    this.callPort.unref();
    this.worker.on("error", (error) => this.die(error));
    this.worker.on("exit", () => this.die(new Error("The function's worker thread exited")));
    this.worker.unref();
  }

  /** The worker's next message, if one is waiting (taken ahead of the event loop by `serve`). */
  takeMessage(): FromWorker | undefined {
    if (this.dead) return undefined;
    return receiveMessageOnPort(this.callPort)?.message as FromWorker | undefined;
  }

  /**
   * Time that was not this worker's own, in all (ms, growing while it waits): where the
   * kernel reports the thread's CPU time (Linux), everything off its CPU since it was created
   * (blocked on the engine, idle in the pool, or runnable but not scheduled on a machine
   * busier than its cores), so a function's limit counts the time it ran, as on a dedicated
   * Convex isolate; elsewhere, the time it reported blocked on the engine.
   */
  pausedMs(): number {
    if (PROC_THREADS && !this.dead) {
      const tid = this.paused[2];
      // Before its thread has started a worker has run nothing: all of its time is off-CPU.
      if (tid === 0) return absoluteNow() - this.createdAt;
      if (tid > 0) {
        const now = absoluteNow();
        // Every database call asks: read the kernel's figure at most every CPU_READ_EVERY_MS
        // (it moves in 10 ms steps anyway); in between, the last figure stands.
        if (now - this.offCpu.at < CPU_READ_EVERY_MS) return this.offCpu.ms;
        this.cpuClock ??= ThreadCpuClock.open(tid);
        const cpuMs = this.cpuClock?.read() ?? null;
        if (cpuMs !== null) {
          this.offCpu = { at: now, ms: Math.max(this.offCpu.ms, now - this.createdAt - cpuMs) };
          return this.offCpu.ms;
        }
      }
    }
    const since = this.paused[1];
    return this.paused[0] + (since > 0 ? Math.max(0, absoluteNow() - since) : 0);
  }

  get alive(): boolean {
    return !this.dead;
  }

  get busy(): boolean {
    return this.runs.size > 0;
  }

  run(host: WorkerHost, message: Omit<RunMessage, "t" | "runId">): Promise<string> {
    if (this.dead) return Promise.reject(this.deathReason);
    const runId = nextRunId++;
    return new Promise<string>((resolve, reject) => {
      this.runs.set(runId, { host, resolve, reject, sentAt: monotonicNow(), fetches: new Map(), timers: new Map() });
      if (this.runs.size === 1) {
        this.worker.ref();
        this.callPort.ref();
        busyWorkers.add(this);
      }
      this.worker.postMessage({ ...message, t: "run", runId } satisfies RunMessage);
    });
  }

  /** Stops the worker at once (a function passed its limit); its runs fail with `reason`. */
  kill(reason: unknown): void {
    this.die(reason);
    void this.worker.terminate();
  }

  private die(reason: unknown): void {
    this.cpuClock?.close();
    this.cpuClock = null;
    if (this.dead) return;
    this.dead = true;
    this.deathReason = reason;
    for (const run of this.runs.values()) {
      for (const cancel of run.timers.values()) cancel();
      run.reject(reason);
    }
    this.runs.clear();
    busyWorkers.delete(this);
    this.callPort.close();
    this.onExit(this);
  }

  private finish(runId: number): ActiveRun | undefined {
    const run = this.runs.get(runId);
    this.runs.delete(runId);
    // Timers still armed when the function returned never fire (the execution has ended), and
    // response bodies still streaming stop.
    for (const cancel of run?.timers.values() ?? []) cancel();
    for (const controller of run?.fetches.values() ?? []) controller.abort();
    if (this.runs.size === 0) {
      this.worker.unref();
      this.callPort.unref();
      busyWorkers.delete(this);
    }
    return run;
  }

  /** Handles one message of the worker: "answered" when a blocking call got its answer at once. */
  handle(message: FromWorker): Handled {
    if (message.t === "started") {
      const run = this.runs.get(message.runId);
      run?.host.started(monotonicNow() - run.sentAt);
      return "other";
    }
    if (message.t === "done") {
      const run = this.finish(message.runId);
      if (!run) return "other";
      run.host.logLines.push(...message.logs);
      if (message.ok) run.resolve(message.result!);
      else run.reject(new ReportedFailure(message.errorMessage!, message.errorData));
      return "other";
    }
    const run = this.runs.get(message.runId);
    // Notices that expect no answer (an action's timer cleared or fetch aborted), also after
    // their execution ended: answering them would leave an answer no call waits for.
    if (message.kind === "abortFetch" || message.kind === "clearTimer") {
      if (run === undefined) return "other";
      run.host.logLines.push(...message.logs);
      if (message.kind === "abortFetch") run.fetches.get(message.abortCallId!)?.abort();
      else run.timers.get(message.abortCallId!)?.();
      return "other";
    }
    if (!run) {
      // A call of a run that already ended (stray continuation): refuse it.
      return this.answer(message, { ok: false, error: errorJson(new Error("This function execution has ended")) });
    }
    run.host.logLines.push(...message.logs);
    let reply: Partial<AsyncReplyMessage> | Promise<Partial<AsyncReplyMessage>>;
    try {
      reply = this.performNow(run, message);
    } catch (error) {
      return this.answer(message, { ok: false, error: errorJson(error) });
    }
    if (!(reply instanceof Promise)) return this.answer(message, { ok: true, ...reply });
    reply.then(
      (value) => this.answer(message, { ok: true, ...value }),
      (error: unknown) => this.answer(message, { ok: false, error: errorJson(error) }),
    );
    return message.callId === undefined && message.noReply !== true ? "pending" : "other";
  }

  /** A call's answer: at once for the syscalls that need no waiting, else a promise. */
  private performNow(run: ActiveRun, call: CallMessage): Partial<AsyncReplyMessage> | Promise<Partial<AsyncReplyMessage>> {
    const host = run.host;
    switch (call.kind) {
      case "sync":
        return { result: host.syscall(call.op, call.args) };
      case "now":
        return { result: String(host.now()) };
      case "async": {
        const result = host.asyncSyscallNow(call.op, call.args);
        return typeof result === "string" ? { result } : result.then((value) => ({ result: value }));
      }
      default:
        return this.perform(run, call);
    }
  }

  private async perform(run: ActiveRun, call: CallMessage): Promise<Partial<AsyncReplyMessage>> {
    const host = run.host;
    switch (call.kind) {
      case "abortFetch":
      case "clearTimer":
        return {};
      case "timer": {
        const callId = call.callId!;
        const outcome = await new Promise<"fired" | "cancelled">((resolve) => {
          const cancel = host.setTimer(call.ms ?? 0, () => {
            run.timers.delete(callId);
            resolve("fired");
          });
          run.timers.set(callId, () => {
            run.timers.delete(callId);
            cancel();
            resolve("cancelled");
          });
        });
        return { result: outcome };
      }
      case "fetch": {
        const controller = new AbortController();
        run.fetches.set(call.callId!, controller);
        try {
          const { url, method, headers, redirect, textBody } = call.request!;
          const body = textBody ?? (call.bytes as Uint8Array<ArrayBuffer> | undefined);
          const answered: unknown = await host.fetch(url, { method, headers, redirect, body, signal: controller.signal });
          const response = answered instanceof Response ? answered : await responseFromStub(answered as Record<string, unknown>);
          const responseHeaders: [string, string][] = [];
          response.headers.forEach((value, name) => responseHeaders.push([name, value]));
          const head = { status: response.status, statusText: response.statusText, headers: responseHeaders, url: response.url };
          if (response.body === null) {
            run.fetches.delete(call.callId!);
            return { bytes: null, response: head };
          }
          // The body streams to the action as it arrives (a model's reply, server-sent events),
          // as fetch does in Convex's runtime; the call stays abortable until its body ends.
          this.pumpBody(call.callId!, response.body, () => run.fetches.delete(call.callId!));
          return { response: head, streamed: true };
        } catch (error) {
          run.fetches.delete(call.callId!);
          throw error;
        }
      }
      case "sync":
      case "now":
      case "async":
        return this.performNow(run, call);
      case "storeBlob":
        return { result: await host.storeBlob(call.bytes!, call.contentType ?? null) };
      case "getBlob": {
        const blob = await host.getBlob(JSON.parse(call.args) as string);
        return { bytes: blob?.bytes ?? null, contentType: blob?.contentType ?? null };
      }
    }
  }

  private pumpBody(callId: number, body: ReadableStream<Uint8Array>, settled: () => void): void {
    const send = (chunk: Omit<FetchChunkMessage, "t" | "callId">) => {
      if (!this.dead) this.worker.postMessage({ t: "fetchChunk", callId, ...chunk } satisfies FetchChunkMessage);
    };
    const reader = body.getReader();
    void (async () => {
      try {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) break;
          send({ bytes: value });
        }
        send({ done: true });
      } catch (error) {
        send({ error: errorJson(error) });
      } finally {
        settled();
      }
    })();
  }

  private answer(call: CallMessage, answer: SyncReply & Partial<AsyncReplyMessage>): Handled {
    if (this.dead || call.noReply === true) return "other";
    if (call.callId === undefined) {
      this.syncPort.postMessage({ ...answer, seq: call.seq } satisfies SyncReply);
      Atomics.store(this.flag, 0, FLAG_ANSWERED);
      Atomics.notify(this.flag, 0);
      return "answered";
    }
    this.worker.postMessage({ ...answer, t: "asyncReply", callId: call.callId } satisfies AsyncReplyMessage);
    return "other";
  }
}

/** Whether this system reports each thread's CPU time under /proc (Linux). */
const PROC_THREADS = existsSync("/proc/thread-self/stat");
/** The unit of /proc's CPU times: USER_HZ, 100 on Linux whatever the kernel's own tick. */
const PROC_TICK_MS = 10;
const CPU_READ_EVERY_MS = 2;

/** A thread's CPU time (user + system), read from /proc through one open descriptor. */
class ThreadCpuClock {
  private readonly buffer = Buffer.alloc(1024);
  private constructor(private fd: number | null) {}

  static open(tid: number): ThreadCpuClock | null {
    try {
      return new ThreadCpuClock(openSync(`/proc/self/task/${tid}/stat`, "r"));
    } catch {
      return null;
    }
  }

  read(): number | null {
    if (this.fd === null) return null;
    try {
      const text = this.buffer.toString("latin1", 0, readSync(this.fd, this.buffer, 0, this.buffer.length, 0));
      // After the name in parentheses: state, ppid, …; utime and stime are the 12th and 13th.
      const fields = text.slice(text.lastIndexOf(")") + 2).split(" ");
      const ticks = Number(fields[11]) + Number(fields[12]);
      return Number.isFinite(ticks) ? ticks * PROC_TICK_MS : null;
    } catch {
      // The thread is gone (its worker exited): no more CPU time to read.
      this.close();
      return null;
    }
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}

let nextRunId = 1;

/**
 * What a stubbed `fetch` answered, as a Response the worker can rebuild. Tests stub fetch
 * with partial objects (`{ text: async () => "..." }`), which in-process code would read as
 * they are; their status, headers and body are taken for what they offer.
 */
async function responseFromStub(stub: Record<string, unknown>): Promise<Response> {
  const read = async (): Promise<BodyInit | null> => {
    if (typeof stub.arrayBuffer === "function") return (await (stub.arrayBuffer as () => Promise<ArrayBuffer>)()) as ArrayBuffer;
    if (typeof stub.text === "function") return await (stub.text as () => Promise<string>)();
    if (typeof stub.json === "function") return JSON.stringify(await (stub.json as () => Promise<unknown>)());
    return null;
  };
  const status = typeof stub.status === "number" ? stub.status : 200;
  const headers = stub.headers instanceof Headers || Array.isArray(stub.headers) ? (stub.headers as HeadersInit) : undefined;
  return new Response([101, 103, 204, 205, 304].includes(status) ? null : await read(), { status, headers });
}

/** Milliseconds on a clock every thread shares. */
export function absoluteNow(): number {
  return epochNow();
}

/** Workers started ahead of the first call, and the most kept idle afterwards. */
const WARM_WORKERS = 2;
const IDLE_WORKERS = 4;

/** Queries and mutations share one budget of workers, actions another (they wait on I/O). */
export type WorkerKind = "transaction" | "action";
/** How many functions of each kind run on workers at once; the others wait their turn. */
export const DEFAULT_WORKER_LIMITS: Record<WorkerKind, number> = { transaction: 16, action: 64 };

class WorkerPool {
  /** Idle workers, the most recently used last: it has the modules loaded and compiled. */
  private idle: FunctionWorker[] = [];
  private limits: Record<WorkerKind, number> = { ...DEFAULT_WORKER_LIMITS };
  private readonly inUse: Record<WorkerKind, number> = { transaction: 0, action: 0 };
  /** Waiting acquirers, first come first served; a released slot passes straight to the first. */
  private readonly waiting: Record<WorkerKind, (() => void)[]> = { transaction: [], action: [] };
  private readonly peaks: Record<WorkerKind, number> = { transaction: 0, action: 0 };
  /** Workers taken outside the budget (see `acquire`). */
  private readonly exempt: Record<WorkerKind, number> = { transaction: 0, action: 0 };

  /**
   * A worker for one top-level execution. When `kind`'s budget is used up the call waits for a
   * slot (never fails); `exempt` takes one regardless: an action called by a running action,
   * which would otherwise wait on the slot its own caller holds.
   */
  async acquire(kind: WorkerKind, exempt = false): Promise<FunctionWorker> {
    if (exempt) this.exempt[kind] += 1;
    else if (this.inUse[kind] >= this.limits[kind]) await new Promise<void>((resolve) => this.waiting[kind].push(resolve));
    else this.inUse[kind] += 1;
    this.peaks[kind] = Math.max(this.peaks[kind], this.inUse[kind] + this.exempt[kind]);
    while (this.idle.length > 0) {
      const worker = this.idle.pop()!;
      if (worker.alive) return worker;
    }
    return this.spawn();
  }

  /** Hands back a worker from `acquire` (alive or killed at its limit) and its slot. */
  release(worker: FunctionWorker, kind: WorkerKind, exempt = false): void {
    if (exempt) {
      this.exempt[kind] -= 1;
    } else {
      const next = this.waiting[kind].shift();
      if (next) next();
      else this.inUse[kind] -= 1;
    }
    if (!worker.alive || worker.busy) return;
    if (this.idle.length < IDLE_WORKERS) this.idle.push(worker);
    else worker.kill(new Error("The worker pool is full"));
  }

  /** Sets the budgets (tests); 0 or less keeps the current one. */
  configure(limits: Partial<Record<WorkerKind, number>>): void {
    for (const kind of ["transaction", "action"] as const) {
      const limit = limits[kind];
      if (limit !== undefined && limit > 0) this.limits[kind] = limit;
    }
  }

  /** Executions on workers now, the most at once since the last reset, and how many wait. */
  stats(): Record<WorkerKind, { running: number; peak: number; waiting: number; limit: number }> {
    const of = (kind: WorkerKind) => ({ running: this.inUse[kind] + this.exempt[kind], peak: this.peaks[kind], waiting: this.waiting[kind].length, limit: this.limits[kind] });
    return { transaction: of("transaction"), action: of("action") };
  }

  resetPeaks(): void {
    this.peaks.transaction = this.inUse.transaction + this.exempt.transaction;
    this.peaks.action = this.inUse.action + this.exempt.action;
  }

  /** Starts workers ahead of the first call (thread start-up is not a function's time). */
  warm(): void {
    while (this.idle.length < WARM_WORKERS) this.idle.unshift(this.spawn());
  }

  private spawn(): FunctionWorker {
    return new FunctionWorker((dead) => {
      this.idle = this.idle.filter((worker) => worker !== dead);
    });
  }
}

export const workerPool = new WorkerPool();
