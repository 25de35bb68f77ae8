/**
 * One test API over two engines: `convexTest(schema, modules)` returns convex-test's mock, or,
 * when `CONVEX_TEST_ENGINE=local`, the same API backed by the local backend's engine running
 * in-process over a fresh temporary data folder. The platform's Convex tests run under both.
 *
 * Differences from convex-test, by design of a real backend:
 * - the functions come from the convex/ folder on disk (bundled once per content, cached in
 *   node_modules/.cache across runs), not from the `modules` glob; the glob only tells where
 *   that folder is;
 * - as with convex-test, tests may call internal functions (a test acts as an admin);
 * - scheduled functions run on the engine's scheduler, whose clock and timers follow the
 *   global `Date` and `setTimeout` (so `vi.useFakeTimers()` works as with convex-test).
 */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { convexTest as mockConvexTest } from "convex-test";
import {
  actionGeneric,
  getFunctionAddress,
  getFunctionName,
  mutationGeneric,
  queryGeneric,
  type GenericSchema,
  type SchemaDefinition,
} from "convex/server";
import { ConvexError, convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { LocalEngine, type ConvexFunction } from "../engine/engine.js";
import { defaultBuildCache, type LoadedApp } from "../engine/loader.js";
import { componentsOf, loadAppWithComponents, targetFromReference, targetString } from "../engine/components.js";
import { assertSchemaIdentifiers } from "../engine/validate.js";
import type { CallOutcome, Identity } from "../engine/types.js";
import type { TransactionLimitsConfig } from "../engine/limits.js";
import { runtime } from "../engine/runtime.js";

type Modules = Record<string, () => Promise<unknown>>;

export interface HarnessOptions {
  /** "local" or "mock"; defaults to "local" when CONVEX_TEST_ENGINE=local, else "mock". */
  engine?: "local" | "mock";
  /** The convex/ folder (local engine); otherwise derived from the modules' keys. */
  convexDir?: string;
  /** Deployment env the functions see (local engine). */
  env?: Record<string, string>;
  /**
   * Local engine: a schema used instead of the folder's schema.ts (a test's inline
   * `defineSchema(...)`, as convex-test takes one); null means no schema at all.
   */
  schema?: unknown;
  /** Local engine: tighter transaction limits, as convex-test's `transactionLimits` option. */
  transactionLimits?: Partial<TransactionLimitsConfig> | boolean;
}

type AnyFunctionReference = unknown;

/** The subset of convex-test's TestConvex both engines offer. */
export interface TestConvexLike {
  query(reference: AnyFunctionReference, args?: Record<string, unknown>): Promise<any>;
  mutation(reference: AnyFunctionReference, args?: Record<string, unknown>): Promise<any>;
  action(reference: AnyFunctionReference, args?: Record<string, unknown>): Promise<any>;
  run<T>(fn: (ctx: any) => Promise<T>): Promise<T>;
  fetch(pathQueryFragment: string, init?: RequestInit): Promise<Response>;
  withIdentity(identity: Partial<Identity> & Record<string, unknown>): TestConvexLike;
  finishInProgressScheduledFunctions(): Promise<void>;
  finishAllScheduledFunctions(advanceTimers: () => void, maxIterations?: number): Promise<void>;
  registerComponent(componentPath: string, schema: SchemaDefinition<GenericSchema, boolean>, modules: Modules): void;
}

export function convexTest<Schema extends GenericSchema>(
  schema?: SchemaDefinition<Schema, boolean>,
  modules?: Modules,
  options: HarnessOptions = {},
): ReturnType<typeof mockConvexTest<Schema>> {
  const engine = options.engine ?? (process.env.CONVEX_TEST_ENGINE === "local" ? "local" : "mock");
  if (engine === "mock") return mockConvexTest(schema, modules);
  // Convex refuses invalid table, field and index names when the schema is pushed.
  assertSchemaIdentifiers(options.schema !== undefined ? options.schema : schema);
  const convexDir = options.convexDir ?? convexDirFromModules(modules, callerDirectory());
  return new LocalTestConvex(new LazyEngine(convexDir, options.env ?? {}, options), null) as unknown as ReturnType<
    typeof mockConvexTest<Schema>
  >;
}

// ---- locating the convex/ folder -------------------------------------------------------------

/** The directory of the file that called convexTest (glob keys are relative to it). */
function callerDirectory(): string | null {
  const stack = new Error().stack?.split("\n") ?? [];
  const here = fileURLToPath(import.meta.url);
  for (const line of stack.slice(1)) {
    const match = /\(?((?:file:\/\/)?\/[^():]+):\d+:\d+\)?$/.exec(line.trim());
    if (!match) continue;
    const file = match[1].startsWith("file://") ? fileURLToPath(match[1]) : match[1];
    if (file === here || file.includes("node_modules")) continue;
    return path.dirname(file);
  }
  return null;
}

export function convexDirFromModules(modules: Modules | undefined, baseDir: string | null): string {
  if (modules) {
    const generated = Object.keys(modules).find((key) => key.includes("/_generated/"));
    if (generated) {
      const prefix = generated.split("/_generated/")[0];
      if (prefix.startsWith("/") && !prefix.startsWith(process.cwd())) {
        return path.join(process.cwd(), prefix); // vite root-relative key
      }
      if (path.isAbsolute(prefix)) return prefix;
      if (baseDir) return path.resolve(baseDir, prefix);
    }
  }
  return path.join(process.cwd(), "convex");
}

// ---- engine lifecycle ----------------------------------------------------------------------

// Builds live in the shared build cache by content hash (see loader.ts), so test files and runs
// after the first reuse them without bundling; in this process each folder and env loads once.
const sharedBuilds = new Map<string, Promise<LoadedApp>>();
const dataDirs: string[] = [];
const openEngines = new Set<LocalEngine>();
process.once("exit", () => {
  for (const engine of openEngines) engine.store.close();
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

class LazyEngine {
  private opening: Promise<LocalEngine> | null = null;

  constructor(
    readonly convexDir: string,
    private readonly env: Record<string, string>,
    private readonly overrides: Pick<HarnessOptions, "schema" | "transactionLimits"> = {},
  ) {}

  private readonly expected = new Set<string>();

  /** A component the test registered; opening the engine fails if convex.config.ts lacks it. */
  expectComponent(componentPath: string): void {
    this.expected.add(componentPath);
  }

  get(): Promise<LocalEngine> {
    if (this.opening) return this.opening.then((engine) => this.checkComponents(engine));
    const key = `${this.convexDir}\n${JSON.stringify(this.env)}`;
    let build = sharedBuilds.get(key);
    if (!build) {
      build = loadAppWithComponents(this.convexDir, defaultBuildCache(this.convexDir), this.env);
      sharedBuilds.set(key, build);
      build.catch(() => sharedBuilds.delete(key));
    }
    if (this.overrides.schema !== undefined) {
      const schema = this.overrides.schema;
      build = build.then((app) => ({ ...app, schema }));
    }
    const dataDir = mkdtempSync(path.join(os.tmpdir(), "convex-harness-data-"));
    dataDirs.push(dataDir);
    this.opening = LocalEngine.open(
      {
        convexDir: this.convexDir,
        dataDir,
        env: this.env,
        cloudUrl: "http://127.0.0.1:3210",
        siteUrl: "http://127.0.0.1:3211",
        // Follow the global clock and timers at call time, so vi fake timers drive scheduling.
        now: () => Date.now(),
        runCrons: false,
        transactionLimits: limitsOverride(this.overrides.transactionLimits),
        timers: {
          setTimeout: (callback, ms) => globalThis.setTimeout(callback, ms),
          clearTimeout: (handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>),
        },
      },
      build,
    ).then((engine) => {
      openEngines.add(engine);
      return engine;
    });
    return this.opening.then((engine) => this.checkComponents(engine));
  }

  private checkComponents(engine: LocalEngine): LocalEngine {
    const installed = componentsOf(engine.loadedApp());
    for (const componentPath of this.expected) {
      if (!installed.has(componentPath)) {
        throw new Error(`Component "${componentPath}" is not installed: add it to convex/convex.config.ts with app.use(...)`);
      }
    }
    return engine;
  }
}

/** convex-test's option: false/true/{} keep Convex's limits, an object lowers some of them. */
function limitsOverride(option: HarnessOptions["transactionLimits"]): Partial<TransactionLimitsConfig> | undefined {
  return typeof option === "object" && option !== null ? option : undefined;
}

// ---- the test API ----------------------------------------------------------------------------

function simpleHash(text: string): number {
  let hash = 0;
  for (let i = 0; i < text.length; i++) {
    hash = (hash << 5) - hash + text.charCodeAt(i);
    hash &= hash;
  }
  return hash;
}

/** The identity convex-test builds for `withIdentity` (same defaults). */
export function identityFor(partial: Partial<Identity> & Record<string, unknown>): Identity {
  const subject = (partial.subject as string | undefined) ?? "" + simpleHash(JSON.stringify(partial));
  const issuer = (partial.issuer as string | undefined) ?? "https://convex.test";
  const tokenIdentifier = (partial.tokenIdentifier as string | undefined) ?? `${issuer}|${subject}`;
  return { ...partial, subject, issuer, tokenIdentifier };
}

function toArgsJson(args: Record<string, unknown> | undefined): JSONValue {
  return convexToJson((args ?? {}) as Value);
}

function unwrap(outcome: CallOutcome): any {
  if (outcome.success) return jsonToConvex(outcome.value);
  if (outcome.errorData !== undefined) {
    const error = new ConvexError(jsonToConvex(outcome.errorData) as Value);
    throw error;
  }
  throw new Error(outcome.errorMessage);
}

type Target = string | ConvexFunction;

function targetOf(reference: unknown, engine: LocalEngine, kind: "query" | "mutation" | "action"): Target {
  if (typeof reference === "function" && !("isQuery" in reference || "isMutation" in reference || "isAction" in reference)) {
    // Registered with the test's own copy of convex (as on Convex, the handler and its ctx
    // come from one package: a ConvexError from a nested call is the test's ConvexError);
    // its syscalls reach the engine through the global `Convex` installed below.
    installGlobalConvex();
    const handler = reference as (...a: any[]) => any;
    const builder = kind === "query" ? queryGeneric : kind === "mutation" ? mutationGeneric : actionGeneric;
    return builder({ handler }) as unknown as ConvexFunction;
  }
  if (typeof reference === "string") return reference;
  const address = getFunctionAddress(reference as never);
  if (address.functionHandle !== undefined) return address.functionHandle;
  if (address.reference !== undefined) return targetString(targetFromReference(address.reference, ""));
  return getFunctionName(reference as never);
}

type SyscallTable = { syscall(op: string, args: string): string; asyncSyscall(op: string, args: string): Promise<string>; jsSyscall(op: string, args: unknown): unknown };
let ownGlobalConvex: SyscallTable | null = null;

/**
 * The global `Convex` the test's copy of convex/server calls: inside an engine execution it
 * is the engine's; elsewhere whatever was installed before (convex-test's mock in a mixed
 * run). Installed again over a global someone replaced it with since.
 */
function installGlobalConvex(): void {
  const holder = globalThis as { Convex?: SyscallTable };
  if (ownGlobalConvex !== null && holder.Convex === ownGlobalConvex) return;
  const previous = holder.Convex;
  const rt = runtime();
  const pick = (): SyscallTable => (rt.als.getStore() !== undefined || !previous ? (rt.Convex as SyscallTable) : previous);
  ownGlobalConvex = {
    syscall: (op, args) => pick().syscall(op, args),
    asyncSyscall: (op, args) => pick().asyncSyscall(op, args),
    jsSyscall: (op, args) => pick().jsSyscall(op, args),
  };
  holder.Convex = ownGlobalConvex;
}

class LocalTestConvex implements TestConvexLike {
  constructor(
    private readonly lazy: LazyEngine,
    private readonly identity: Identity | null,
  ) {
    // Test code run by `t.run` may call convex/server helpers that use the global `Convex`
    // (createFunctionHandle, e.g. inside component clients); route them to the engine.
    installGlobalConvex();
  }

  private options() {
    return { identity: this.identity, allowInternal: true };
  }

  async query(reference: unknown, args?: Record<string, unknown>) {
    const engine = await this.lazy.get();
    const target = targetOf(reference, engine, "query");
    return unwrap(await engine.runQuery(target, [toArgsJson(args)], this.options()));
  }

  async mutation(reference: unknown, args?: Record<string, unknown>) {
    const engine = await this.lazy.get();
    const target = targetOf(reference, engine, "mutation");
    return unwrap(await engine.runMutation(target, [toArgsJson(args)], this.options()));
  }

  async action(reference: unknown, args?: Record<string, unknown>) {
    const engine = await this.lazy.get();
    const target = targetOf(reference, engine, "action");
    return unwrap(await engine.runAction(target, [toArgsJson(args)], this.options()));
  }

  /** Runs `fn` as an ad hoc mutation with a real ctx (db, storage, scheduler, auth). */
  async run<T>(fn: (ctx: any) => Promise<T>): Promise<T> {
    return (await this.mutation(fn as unknown as AnyFunctionReference)) as T;
  }

  async fetch(pathQueryFragment: string, init?: RequestInit): Promise<Response> {
    if (!pathQueryFragment.startsWith("/")) throw new Error("Path given to `t.fetch` must start with a `/`");
    const engine = await this.lazy.get();
    return await engine.runHttpActionAs(new Request(`https://some.convex.site${pathQueryFragment}`, init), this.identity);
  }

  withIdentity(identity: Partial<Identity> & Record<string, unknown>): TestConvexLike {
    return new LocalTestConvex(this.lazy, identityFor(identity));
  }

  /** Waits for scheduled functions that already started (and what they start in turn). */
  async finishInProgressScheduledFunctions(): Promise<void> {
    const engine = await this.lazy.get();
    await engine.readOutside(() => undefined); // let queued timer re-arming settle
    await engine.idle();
  }

  /**
   * Runs every scheduled function, advancing (fake) timers between rounds, until none is
   * pending. Throws after `maxIterations` rounds (a function that keeps rescheduling itself).
   */
  async finishAllScheduledFunctions(advanceTimers: () => void, maxIterations = 100): Promise<void> {
    const engine = await this.lazy.get();
    for (let i = 0; i < maxIterations; i++) {
      await engine.readOutside(() => undefined);
      advanceTimers();
      await engine.scheduler.runDue();
      // As convex-test does, running functions are waited for without moving the clock: an
      // action's own timers (its fetch timeout, say) are the test's to advance, so a fetch in
      // flight is not aborted by a timer fired under it.
      await engine.idle();
      await engine.readOutside(() => undefined);
      if ((await engine.pendingJobCount()) === 0) return;
    }
    throw new Error(
      "finishAllScheduledFunctions: too many iterations. Check for infinitely recursive scheduled functions, or increase maxIterations.",
    );
  }

  /**
   * convex-test's way to install a component. The local engine installs components from
   * convex.config.ts, as Convex does; this only checks that one is installed at that path
   * (its schema and modules come from the component's own folder).
   */
  registerComponent(componentPath: string, _schema: unknown, _modules: unknown): void {
    this.lazy.expectComponent(componentPath);
  }

  /** The engine itself, for tests that need more than convex-test's API. */
  engine(): Promise<LocalEngine> {
    return this.lazy.get();
  }
}

export type { LocalTestConvex };
