/**
 * Crons from convex/crons.ts. Each cron's next run time is stored durably; a tick inserts
 * the scheduled job and advances the next run time in one transaction, so a restart never
 * runs one tick twice, and ticks missed while stopped run once.
 */
import { CronExpressionParser } from "cron-parser";
import type { JSONValue } from "convex/values";
import type { LocalEngine } from "./engine.js";

type CronSchedule =
  | { type: "interval"; seconds?: number; minutes?: number; hours?: number }
  | { type: "hourly"; minuteUTC?: number }
  | { type: "daily"; hourUTC: number; minuteUTC?: number }
  | { type: "weekly"; dayOfWeek: string; hourUTC: number; minuteUTC?: number }
  | { type: "monthly"; day: number; hourUTC: number; minuteUTC?: number }
  | { type: "cron"; cron: string };

interface CronSpec {
  name: string;
  args: JSONValue[];
  schedule: CronSchedule;
}

const DAYS = ["sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"];

export function cronExpressionOf(schedule: Exclude<CronSchedule, { type: "interval" }>): string {
  switch (schedule.type) {
    case "hourly":
      return `${schedule.minuteUTC ?? 0} * * * *`;
    case "daily":
      return `${schedule.minuteUTC ?? 0} ${schedule.hourUTC} * * *`;
    case "weekly": {
      const day = DAYS.indexOf(schedule.dayOfWeek);
      if (day < 0) throw new Error(`Invalid day of week ${JSON.stringify(schedule.dayOfWeek)}`);
      return `${schedule.minuteUTC ?? 0} ${schedule.hourUTC} * * ${day}`;
    }
    case "monthly":
      return `${schedule.minuteUTC ?? 0} ${schedule.hourUTC} ${schedule.day} * *`;
    case "cron":
      return schedule.cron;
  }
}

/** The first run time strictly after `afterMs`. */
export function nextRunAfter(schedule: CronSchedule, afterMs: number): number {
  if (schedule.type === "interval") {
    const seconds = (schedule.seconds ?? 0) + (schedule.minutes ?? 0) * 60 + (schedule.hours ?? 0) * 3600;
    if (!(seconds > 0)) throw new Error(`Invalid interval schedule ${JSON.stringify(schedule)}`);
    return afterMs + seconds * 1000;
  }
  const expression = CronExpressionParser.parse(cronExpressionOf(schedule), {
    currentDate: new Date(afterMs),
    tz: "UTC",
  });
  return expression.next().getTime();
}

interface CronRow {
  spec: string;
  nextRun: number;
}

export class Crons {
  private rows = new Map<string, CronRow>();
  private timer: unknown = null;
  private stopped = true;

  constructor(private readonly engine: LocalEngine) {}

  private wanted(): Map<string, CronSpec> {
    const crontab = this.engine.crontab() as { crons?: Record<string, CronSpec> } | null;
    return new Map(Object.entries(crontab?.crons ?? {}));
  }

  /** Makes the stored crons match crons.ts: new or changed ones get a fresh next run time. */
  syncInTransaction(): void {
    const db = this.engine.store.db;
    const stored = new Map(
      db
        .prepare<[], { name: string; spec: string; next_run: number }>("SELECT name, spec, next_run FROM cron_jobs")
        .all()
        .map((row) => [row.name, { spec: row.spec, nextRun: row.next_run }]),
    );
    const wanted = this.wanted();
    const now = this.engine.now();
    const rows = new Map<string, CronRow>();
    for (const [name, spec] of wanted) {
      const text = JSON.stringify(spec);
      const existing = stored.get(name);
      if (existing && existing.spec === text) {
        rows.set(name, existing);
        continue;
      }
      this.engine.resolve(spec.name, null, true); // fails loudly on a cron naming no function
      const nextRun = nextRunAfter(spec.schedule, now);
      db.prepare("INSERT OR REPLACE INTO cron_jobs (name, spec, next_run) VALUES (?, ?, ?)").run(name, text, nextRun);
      rows.set(name, { spec: text, nextRun });
    }
    for (const name of stored.keys()) {
      if (!wanted.has(name)) db.prepare("DELETE FROM cron_jobs WHERE name = ?").run(name);
    }
    this.rows = rows;
  }

  start(): void {
    this.engine.store.begin();
    try {
      this.syncInTransaction();
      this.engine.store.commit();
    } catch (error) {
      this.engine.store.rollback();
      throw error;
    }
    this.stopped = false;
    this.rearm();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.engine.timers.clearTimeout(this.timer);
    this.timer = null;
  }

  rearm(): void {
    if (this.stopped) return;
    if (this.timer !== null) this.engine.timers.clearTimeout(this.timer);
    this.timer = null;
    let earliest = Infinity;
    for (const row of this.rows.values()) earliest = Math.min(earliest, row.nextRun);
    if (earliest === Infinity) return;
    this.timer = this.engine.timers.setTimeout(() => {
      this.timer = null;
      void this.tick().catch((error) => {
        if (!this.engine.isClosed) console.error("[local backend] cron tick failed:", error);
      });
    }, Math.max(0, earliest - this.engine.now()));
  }

  /** Schedules every due cron once and advances its next run time, in one transaction. */
  async tick(): Promise<number> {
    if (this.stopped) return 0;
    const ran = await this.engine.enqueueWrite(() => {
      const now = this.engine.now();
      const wanted = this.wanted();
      const db = this.engine.store.db;
      const rows = db
        .prepare<[number], { name: string; spec: string; next_run: number }>(
          "SELECT name, spec, next_run FROM cron_jobs WHERE next_run <= ?",
        )
        .all(now);
      const updates: [string, CronRow][] = [];
      for (const row of rows) {
        const spec = wanted.get(row.name);
        if (!spec) continue;
        this.engine.scheduler.scheduleInTransaction(spec.name, spec.args[0] ?? {}, row.next_run);
        const nextRun = nextRunAfter(spec.schedule, now);
        db.prepare("UPDATE cron_jobs SET next_run = ? WHERE name = ?").run(nextRun, row.name);
        updates.push([row.name, { spec: row.spec, nextRun }]);
      }
      return updates;
    });
    for (const [name, row] of ran) this.rows.set(name, row);
    this.rearm();
    return ran.length;
  }

  /** Stored next run times, for tests and diagnostics. */
  nextRuns(): Map<string, number> {
    return new Map([...this.rows].map(([name, row]) => [name, row.nextRun]));
  }
}
