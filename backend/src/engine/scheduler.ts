/**
 * Scheduled functions: the `_scheduled_functions` system table, timers that start due jobs,
 * exactly-once mutations (the job's writes and its `success` state commit together) and
 * at-most-once actions (marked inProgress before they start; failed if the backend stops).
 */
import { convexToJson, jsonToConvex, type JSONValue, type Value } from "convex/values";
import { afterPrefix, encodeTuple, encodeValue } from "./keys.js";
import type { IndexDefinition } from "./store.js";
import type { LocalEngine } from "./engine.js";
import { EngineError, canonicalPath } from "./engine.js";

export const SCHEDULED_FUNCTIONS = "_scheduled_functions";
const BY_STATE = "by_state_and_time";
const DUE_BATCH = 100;

export function scheduledFunctionsIndexes(): IndexDefinition[] {
  return [{ name: BY_STATE, fields: ["state.kind", "scheduledTime", "_creationTime", "_id"] }];
}

interface Job {
  _id: string;
  name: string;
  args: Value[];
  scheduledTime: number;
  state: { kind: string };
}

export class Scheduler {
  private timer: unknown = null;
  private timerAt: number | null = null;
  private stopped = true;
  private readonly started = new Map<string, Promise<void>>();

  constructor(private readonly engine: LocalEngine) {}

  // ---- inside a mutation's transaction ---------------------------------------------------

  scheduleInTransaction(udfPath: string, argsJson: JSONValue, scheduledTime: number): string {
    const path = canonicalPath(udfPath);
    const target = this.engine.resolve(path, null, true);
    if (target.udfType === "query") throw new EngineError(`Cannot schedule ${path}: only mutations and actions can be scheduled`);
    if (!Number.isFinite(scheduledTime)) throw new EngineError(`Invalid scheduled time for ${path}`);
    const args = jsonToConvex(argsJson ?? {});
    if (typeof args !== "object" || args === null || Array.isArray(args)) {
      throw new EngineError(`The arguments of scheduled function ${path} must be an object`);
    }
    return this.engine.insertDocument(
      SCHEDULED_FUNCTIONS,
      { name: path, args: [args], scheduledTime, state: { kind: "pending" } },
      true,
    );
  }

  cancelInTransaction(id: string): void {
    const job = this.engine.readDocument(SCHEDULED_FUNCTIONS, id, null) as unknown as Job | null;
    if (job === null) throw new EngineError(`Scheduled function ${JSON.stringify(id)} does not exist`);
    if (job.state.kind !== "pending" && job.state.kind !== "inProgress") return;
    this.setState(id, { kind: "canceled" });
  }

  private setState(id: string, state: { kind: string; error?: string }): void {
    const completed = state.kind === "inProgress" || state.kind === "pending" ? {} : { completedTime: this.engine.now() };
    this.engine.patchDocument(SCHEDULED_FUNCTIONS, id, { state, ...completed } as Record<string, JSONValue>, true);
  }

  /** After a restart: actions that were running cannot have finished; mark them failed. */
  recoverInTransaction(): void {
    for (const job of this.jobsInState("inProgress", Infinity, Infinity)) {
      this.setState(job._id, { kind: "failed", error: "The backend stopped while this action was running" });
    }
  }

  private jobsInState(kind: string, upToTime: number, limit: number): Job[] {
    const index = `${SCHEDULED_FUNCTIONS}.${BY_STATE}`;
    const prefix = encodeTuple([kind]);
    const upper = Number.isFinite(upToTime)
      ? afterPrefix(Buffer.concat([prefix, encodeValue(upToTime)]))
      : afterPrefix(prefix);
    const rows = this.engine.store.scan(index, prefix, upper, "asc", Number.isFinite(limit) ? limit : 1_000_000);
    return rows.map((row) => jsonToConvex(JSON.parse(row.value)) as unknown as Job);
  }

  // ---- timers ----------------------------------------------------------------------------

  start(): void {
    this.stopped = false;
    this.rearm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.engine.timers.clearTimeout(this.timer);
    this.timer = null;
    this.timerAt = null;
  }

  /** Re-reads the earliest pending job and sets the timer for it (from outside the executor). */
  rearm(): void {
    if (this.stopped) return;
    void this.engine
      .readOutside(() => this.jobsInState("pending", Infinity, 1)[0] ?? null)
      .then((next) => this.armFor(next))
      .catch((error) => {
        if (!this.engine.isClosed) console.error("[local backend] scheduler failed to re-arm:", error);
      });
  }

  /**
   * Sets the timer from inside the executor, as part of a commit: by the time the mutation's
   * caller resumes, the timer of what it scheduled is armed (so a test's
   * `vi.runAllTimers()` right after `await t.mutation(...)` fires it).
   */
  rearmInExecutor(): void {
    if (this.stopped) return;
    this.armFor(this.jobsInState("pending", Infinity, 1)[0] ?? null);
  }

  private armFor(next: Job | null): void {
    if (this.stopped) return;
    if (next === null) {
      if (this.timer !== null) this.engine.timers.clearTimeout(this.timer);
      this.timer = null;
      this.timerAt = null;
      return;
    }
    if (this.timerAt !== null && this.timerAt <= next.scheduledTime) return;
    if (this.timer !== null) this.engine.timers.clearTimeout(this.timer);
    this.timerAt = next.scheduledTime;
    this.timer = this.engine.timers.setTimeout(() => {
      this.timer = null;
      this.timerAt = null;
      void this.runDue();
    }, Math.max(0, next.scheduledTime - this.engine.now()));
  }

  /** Starts every pending job whose time has come; resolves when they were started. */
  async runDue(): Promise<number> {
    if (this.stopped) return 0;
    const now = this.engine.now();
    const due = await this.engine.readOutside(() => this.jobsInState("pending", now, DUE_BATCH));
    let count = 0;
    for (const job of due) {
      if (this.started.has(job._id)) continue;
      count++;
      const run = this.runJob(job).finally(() => this.started.delete(job._id));
      this.started.set(job._id, run);
    }
    if (due.length === DUE_BATCH || count === 0) this.rearm();
    return count;
  }

  /** Pending jobs; call from the executor (reads the store). */
  pendingCount(): number {
    return this.jobsInState("pending", Infinity, Infinity).length;
  }

  running(): number {
    return this.started.size;
  }

  async whenIdle(): Promise<void> {
    await Promise.allSettled([...this.started.values()]);
  }

  private async runJob(job: Job): Promise<void> {
    try {
      const target = this.engine.resolve(job.name, null, true);
      if (target.udfType === "mutation") await this.runMutationJob(job);
      else await this.runActionJob(job);
    } catch (error) {
      // The function no longer exists (or the write failed): record that, don't retry forever.
      const message = error instanceof Error ? error.message : String(error);
      await this.engine
        .enqueueWrite(() => {
          const current = this.engine.readDocument(SCHEDULED_FUNCTIONS, job._id, null) as unknown as Job | null;
          if (current?.state.kind === "pending" || current?.state.kind === "inProgress") {
            this.setState(job._id, { kind: "failed", error: message });
          }
        })
        .catch((e) => console.error(`[local backend] could not record the failure of job ${job._id}:`, e));
    }
  }

  private async runMutationJob(job: Job): Promise<void> {
    await this.engine.enqueueWrite(async () => {
      const current = this.engine.readDocument(SCHEDULED_FUNCTIONS, job._id, null) as unknown as Job | null;
      if (current === null || current.state.kind !== "pending") return;
      const outcome = await this.engine.runMutationInTransaction(job.name, jobArgs(job), job._id);
      this.setState(job._id, outcome.success ? { kind: "success" } : { kind: "failed", error: outcome.errorMessage });
    });
  }

  private async runActionJob(job: Job): Promise<void> {
    const claimed = await this.engine.enqueueWrite(() => {
      const current = this.engine.readDocument(SCHEDULED_FUNCTIONS, job._id, null) as unknown as Job | null;
      if (current === null || current.state.kind !== "pending") return false;
      this.setState(job._id, { kind: "inProgress" });
      return true;
    });
    if (!claimed) return;
    const outcome = await this.engine.runAction(job.name, [jobArgs(job)], { identity: null, allowInternal: true }, job._id);
    await this.engine.enqueueWrite(() => {
      const current = this.engine.readDocument(SCHEDULED_FUNCTIONS, job._id, null) as unknown as Job | null;
      if (current === null || current.state.kind !== "inProgress") return; // canceled meanwhile
      this.setState(job._id, outcome.success ? { kind: "success" } : { kind: "failed", error: outcome.errorMessage });
    });
  }
}

function jobArgs(job: Job): JSONValue {
  return convexToJson((job.args[0] ?? {}) as Value);
}
