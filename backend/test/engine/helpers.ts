import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { JSONValue } from "convex/values";
import { LocalEngine } from "../../src/engine/engine.js";
import { loadApp, type LoadedApp } from "../../src/engine/loader.js";
import type { CallOutcome, EngineOptions } from "../../src/engine/types.js";

export const fixtureDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/app");

const cleanup: string[] = [];
let sharedBuild: Promise<LoadedApp> | null = null;

export function tempDir(prefix = "engine-test-"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanup.push(dir);
  return dir;
}

export function removeTempDirs(): void {
  for (const dir of cleanup.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** One build of the fixture app per test file, shared by its engines. */
export function fixtureBuild(): Promise<LoadedApp> {
  sharedBuild ??= loadApp(fixtureDir, tempDir("engine-build-"), { FIXTURE_FLAG: "on" });
  return sharedBuild;
}

export async function openFixtureEngine(overrides: Partial<EngineOptions> = {}, dataDir = tempDir()): Promise<LocalEngine> {
  return await LocalEngine.open(
    {
      convexDir: fixtureDir,
      dataDir,
      env: { FIXTURE_FLAG: "on" },
      siteUrl: "http://127.0.0.1:3211",
      cloudUrl: "http://127.0.0.1:3210",
      ...overrides,
    },
    fixtureBuild(),
  );
}

/** A manual clock with timers that fire only when the test advances it. */
export class ManualClock {
  time: number;
  private timers = new Map<number, { at: number; callback: () => void }>();
  private nextHandle = 1;

  constructor(start = Date.UTC(2030, 0, 1, 0, 0, 0)) {
    this.time = start;
  }

  now = (): number => this.time;

  timerFunctions() {
    return {
      setTimeout: (callback: () => void, ms: number) => {
        const handle = this.nextHandle++;
        this.timers.set(handle, { at: this.time + ms, callback });
        return handle;
      },
      clearTimeout: (handle: unknown) => {
        this.timers.delete(handle as number);
      },
    };
  }

  /** Moves time forward, firing due timers in time order. */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()].filter(([, t]) => t.at <= target).sort((a, b) => a[1].at - b[1].at)[0];
      if (!due) break;
      this.timers.delete(due[0]);
      this.time = Math.max(this.time, due[1].at);
      due[1].callback();
    }
    this.time = target;
  }

  pendingTimers(): number {
    return this.timers.size;
  }

  dueTimers(): number {
    return [...this.timers.values()].filter((t) => t.at <= this.time).length;
  }
}

const admin = { identity: null, allowInternal: true };
const anonymous = { identity: null };

export function value(outcome: CallOutcome): any {
  if (!outcome.success) throw new Error(`expected success, got: ${outcome.errorMessage}`);
  return outcome.value;
}

export async function q(engine: LocalEngine, path: string, args: Record<string, JSONValue> = {}) {
  return value(await engine.runQuery(path, [args], admin));
}
export async function m(engine: LocalEngine, path: string, args: Record<string, JSONValue> = {}) {
  return value(await engine.runMutation(path, [args], admin));
}
export async function a(engine: LocalEngine, path: string, args: Record<string, JSONValue> = {}) {
  return value(await engine.runAction(path, [args], admin));
}
export { admin, anonymous };

/** Lets queued engine work (timer re-arming, scheduled jobs) run to completion. */
export async function settle(engine: LocalEngine): Promise<void> {
  for (let i = 0; i < 5; i++) {
    await engine.readOutside(() => undefined);
    await engine.idle();
  }
}
