/**
 * The process-wide runtime that bundled Convex functions see instead of some globals.
 *
 * Each function bundle is built with an esbuild `inject` file that binds `Convex`, `Date`,
 * `Math`, `console` and `process` to this runtime. Calls are routed to the execution that
 * is running (AsyncLocalStorage), so concurrent actions, several engines in one process and
 * convex-test's own global `Convex` never see each other. A build is therefore independent of
 * the engine that loads it and can be shared by several engines (the test harness does).
 */
import { AsyncLocalStorage, AsyncResource } from "node:async_hooks";
import { inspect } from "node:util";

/** One running function (query, mutation, action or HTTP action). */
export interface Execution {
  /** The engine's id (selects `process.env`). */
  engineId: string;
  syscall(op: string, args: string): string;
  asyncSyscall(op: string, args: string): Promise<string>;
  jsSyscall(op: string, args: unknown): unknown;
  /** Frozen clock of queries and mutations; null where time flows (actions). */
  frozenNow: number | null;
  /** Seeded generator of queries and mutations; null for actions. */
  random: (() => number) | null;
  logLines: string[];
  /** The engine's clock, for actions. */
  now(): number;
}

interface Runtime {
  als: AsyncLocalStorage<Execution>;
  /** Deployment env of each engine, by engine id. */
  envs: Map<string, Record<string, string | undefined>>;
  /** The env that module top-level code sees while an engine imports its functions. */
  loadingEnv: Record<string, string | undefined> | null;
  Convex: object;
  Date: DateConstructor;
  Math: Math;
  console: Console;
  processFor(): object;
  /** `setTimeout`, `setInterval` and `fetch` as bundles see them: refused in queries and mutations. */
  setTimeout: typeof setTimeout;
  setInterval: typeof setInterval;
  fetch: typeof fetch;
  /** What `globalThis` is inside a bundle: the process's, plus `Convex` and the guarded globals. */
  globalThis: typeof globalThis;
}

/** Convex's message for an API that only actions may use (isolate/src/environment/udf/mod.rs). */
export function notAllowedInQueriesAndMutations(description: string): string {
  return (
    `Can't use ${description} in queries and mutations. Please consider using an action. ` +
    "See https://docs.convex.dev/functions/actions for more details."
  );
}

const RUNTIME_KEY = "__convexLocalBackendRuntime";

function createRuntime(): Runtime {
  const als = new AsyncLocalStorage<Execution>();
  const envs = new Map<string, Record<string, string | undefined>>();
  const RealDate = globalThis.Date;
  const realMath = globalThis.Math;
  const realConsole = globalThis.console;

  function current(op: string): Execution {
    const execution = als.getStore();
    if (!execution) {
      throw new Error(
        `Convex syscall ${op} outside of a function execution (e.g. at module load or after the function returned)`,
      );
    }
    return execution;
  }

  const Convex = {
    syscall: (op: string, args: string) => current(op).syscall(op, args),
    asyncSyscall: (op: string, args: string) => current(op).asyncSyscall(op, args),
    jsSyscall: (op: string, args: unknown) => current(op).jsSyscall(op, args),
  };

  const currentNow = (): number => {
    const execution = als.getStore();
    if (!execution) return RealDate.now();
    return execution.frozenNow ?? execution.now();
  };

  // A Date whose "now" is the execution's (frozen in queries and mutations).
  const PatchedDate = function (this: unknown, ...args: unknown[]) {
    if (!new.target) return new RealDate(currentNow()).toString();
    return Reflect.construct(RealDate, args.length === 0 ? [currentNow()] : args, new.target);
  } as unknown as DateConstructor;
  Object.defineProperties(PatchedDate, {
    now: { value: currentNow },
    parse: { value: RealDate.parse },
    UTC: { value: RealDate.UTC },
    prototype: { value: RealDate.prototype },
  });

  const PatchedMath = Object.create(realMath, {
    random: {
      value: () => {
        const execution = als.getStore();
        return execution?.random ? execution.random() : realMath.random();
      },
    },
  }) as Math;

  const levels: Record<string, string> = { log: "LOG", info: "INFO", warn: "WARN", error: "ERROR", debug: "DEBUG" };
  const patchedConsole = new Proxy(realConsole, {
    get(target, property, receiver) {
      const level = typeof property === "string" ? levels[property] : undefined;
      if (level === undefined) return Reflect.get(target, property, receiver);
      return (...args: unknown[]) => {
        const execution = als.getStore();
        if (!execution) return (target as unknown as Record<string, (...a: unknown[]) => void>)[property as string](...args);
        execution.logLines.push(formatLogLine(level, args));
      };
    },
  });

  /** Runs `real()` unless a query or mutation is executing. */
  const actionsOnly = <F extends (...args: never[]) => unknown>(description: string, real: () => F): F =>
    ((...args: Parameters<F>) => {
      const execution = als.getStore();
      if (execution && execution.frozenNow !== null) throw new Error(notAllowedInQueriesAndMutations(description));
      // Looked up at call time, so test fake timers (vi.useFakeTimers) apply.
      return real()(...args);
    }) as unknown as F;
  const guardedSetTimeout = actionsOnly("setTimeout", () => globalThis.setTimeout);
  const guardedSetInterval = actionsOnly("setInterval", () => globalThis.setInterval);
  const guardedFetch = actionsOnly("fetch()", () => globalThis.fetch);
  const overrides: Record<string | symbol, unknown> = {
    Convex,
    // Globals of Convex's default runtime that Node keeps in node:async_hooks.
    AsyncLocalStorage,
    AsyncResource,
    setTimeout: guardedSetTimeout,
    setInterval: guardedSetInterval,
    fetch: guardedFetch,
  };
  const bundleGlobal = new Proxy(globalThis, {
    get(target, property) {
      if (Object.prototype.hasOwnProperty.call(overrides, property)) return overrides[property];
      return Reflect.get(target, property);
    },
  });

  const runtimeObject: Runtime = {
    setTimeout: guardedSetTimeout,
    setInterval: guardedSetInterval,
    fetch: guardedFetch,
    globalThis: bundleGlobal,
    als,
    envs,
    loadingEnv: null,
    Convex,
    Date: PatchedDate,
    Math: PatchedMath,
    console: patchedConsole,
    processFor() {
      return new Proxy(process, {
        get(target, property, receiver) {
          if (property === "env") {
            const execution = als.getStore();
            if (execution) return envs.get(execution.engineId) ?? {};
            return runtimeObject.loadingEnv ?? {};
          }
          return Reflect.get(target, property, receiver);
        },
      });
    },
  };
  return runtimeObject;
}

export function formatLogLine(level: string, args: unknown[]): string {
  return `[${level}] ${args.map((arg) => inspect(arg, { depth: 6, breakLength: Infinity })).join(" ")}`;
}

export function runtime(): Runtime {
  const holder = globalThis as unknown as Record<string, Runtime | undefined>;
  return (holder[RUNTIME_KEY] ??= createRuntime());
}

export function runInExecution<T>(execution: Execution, fn: () => T): T {
  return runtime().als.run(execution, fn);
}

/** Runs `fn` outside any execution (engine bookkeeping started from inside a function). */
export function runOutsideExecution<T>(fn: () => T): T {
  return runtime().als.exit(fn);
}

/** The source of the esbuild inject file binding a bundle's globals to the runtime. */
export function injectSource(): string {
  return [
    `const runtime = globalThis[${JSON.stringify(RUNTIME_KEY)}];`,
    `if (!runtime) throw new Error("The local backend runtime is not installed");`,
    `const Convex = runtime.Convex;`,
    `const Date = runtime.Date;`,
    `const Math = runtime.Math;`,
    `const console = runtime.console;`,
    `const process = runtime.processFor();`,
    `const setTimeout = runtime.setTimeout;`,
    `const setInterval = runtime.setInterval;`,
    `const fetch = runtime.fetch;`,
    `const bundleGlobal = runtime.globalThis;`,
    `export { Convex, Date, Math, console, process, setTimeout, setInterval, fetch, bundleGlobal as globalThis };`,
    "",
  ].join("\n");
}

/** A small seeded generator (mulberry32) for Math.random inside queries and mutations. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
