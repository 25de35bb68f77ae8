/**
 * The backend as `npm run backend` runs it: a child process, restarted and killed.
 */
import { spawn } from "node:child_process";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConvexHttpClient, type ConvexClient } from "convex/browser";
import { anyApi } from "convex/server";
import { api } from "../fixtures/app/_generated/api.js";
import { eventually } from "../server/helpers.js";
import { cliPath, newSyncClient, removeTempDirs, repoRoot, startCli, stopCli, tempDir, type ChildBackend } from "./harness.js";

const clockAppDir = path.resolve(repoRoot, "backend/test/fixtures/clock_app");
const running: ChildBackend[] = [];
const clients: ConvexClient[] = [];

async function cli(args: Parameters<typeof startCli>[0]): Promise<ChildBackend> {
  const child = await startCli(args);
  running.push(child);
  return child;
}

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(running.splice(0).map(stopCli));
  removeTempDirs();
});

describe("CLI", () => {
  it("refuses an unknown flag with exit code 2 and says which", async () => {
    const child = spawn(process.execPath, ["--import", "tsx", cliPath, "--prot", "1"], { cwd: repoRoot, stdio: ["ignore", "pipe", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on("exit", resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown flag "--prot"/);
  });

  it("serves, logs each function call, and exits 0 on SIGTERM and SIGINT", async () => {
    const dataDir = tempDir();
    for (const signal of ["SIGTERM", "SIGINT"] as const) {
      const child = await cli({ dataDir });
      const http = new ConvexHttpClient(child.cloudUrl);
      expect(await http.mutation(api.counters.increment, { name: signal })).toBe(1);
      expect(await http.query(api.runtime.env, { name: "FIXTURE_FLAG" })).toBe("from-env-file");
      await eventually(() => (/mutation counters:increment [\d.]+ms ok/.test(child.output()) ? true : undefined));
      child.process.kill(signal);
      expect(await child.exited).toBe(0);
    }
  });

  it("re-arms scheduled functions and keeps crons running across a restart", async () => {
    const dataDir = tempDir();
    const first = await cli({ convexDir: clockAppDir, dataDir });
    const http = new ConvexHttpClient(first.cloudUrl);
    await eventually(async () => ((await http.query(anyApi.ticks.ticksOf, { source: "cron" })).length >= 2 ? true : undefined));
    const jobId = await http.mutation(anyApi.ticks.scheduleTick, { source: "scheduled", delayMs: 4000 });
    first.process.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const stoppedAt = Date.now();

    const second = await cli({ convexDir: clockAppDir, dataDir });
    const after = new ConvexHttpClient(second.cloudUrl);
    const cronTicksAtRestart = (await after.query(anyApi.ticks.ticksOf, { source: "cron" })).length;
    await eventually(async () => ((await after.query(anyApi.ticks.ticksOf, { source: "scheduled" })).length === 1 ? true : undefined));
    expect((await after.query(anyApi.ticks.job, { id: jobId })).state).toEqual({ kind: "success" });
    await eventually(async () =>
      (await after.query(anyApi.ticks.ticksOf, { source: "cron" })).length > cronTicksAtRestart ? true : undefined,
    );
    // It ran once, in the restarted process.
    const scheduled = await after.query(anyApi.ticks.ticksOf, { source: "scheduled" });
    expect(scheduled).toHaveLength(1);
    expect(scheduled[0]).toBeGreaterThanOrEqual(stoppedAt);
  });

  it("keeps every acknowledged write through kill -9 in the middle of a write storm", async () => {
    const dataDir = tempDir();
    const first = await cli({ dataDir });
    const acknowledged: string[] = [];
    let killed = false;
    const writers = Array.from({ length: 10 }, () => newSyncClient(first.cloudUrl));
    clients.push(...writers);
    writers.forEach((client, writer) => {
      void (async () => {
        for (let i = 0; !killed; i++) {
          const body = `w${writer}-${i}`;
          try {
            await client.mutation(api.messages.send, { channel: "storm", author: `writer-${writer}`, body });
          } catch {
            return;
          }
          if (!killed) acknowledged.push(body);
        }
      })();
    });
    await eventually(() => (acknowledged.length >= 300 ? true : undefined), 30_000, "300 acknowledged writes");
    first.process.kill("SIGKILL");
    // Writes acknowledged after the kill signal was sent are still counted until the process is gone.
    await first.exited;
    killed = true;
    const acked = [...acknowledged];

    const second = await cli({ dataDir });
    const stored = await new ConvexHttpClient(second.cloudUrl).query(api.messages.list, { channel: "storm" });
    const bodies = new Set(stored.map((message) => message.body));
    const missing = acked.filter((body) => !bodies.has(body));
    expect(missing).toEqual([]);
    expect(bodies.size).toBe(stored.length);
  });
});
