/**
 * Cold start of the local backend with the platform's convex/ folder (printed, never asserted):
 * process start to the first answered call, first with an empty data folder (esbuild bundles
 * the functions) and then restarted over the same folder (the build is reused by content
 * hash), next to a floor measured in the same run: a bare Node process that opens SQLite.
 * Run: npx tsx bench/coldstart.bench.ts
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ensureLocalEnv, repoRoot } from "../scripts/env.js";

const ROUNDS = 3;
const tsxCli = path.join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => (child.exitCode !== null ? resolve() : child.once("exit", () => resolve())));
}

/** Bare `node` that opens the SQLite database and exits: what any backend pays at least. */
async function floorMs(dataDir: string): Promise<number> {
  const started = performance.now();
  const child = spawn(
    process.execPath,
    ["-e", `const D = require("better-sqlite3"); const db = new D(${JSON.stringify(path.join(dataDir, "floor.sqlite3"))}); db.pragma("journal_mode = WAL"); db.close();`],
    { cwd: repoRoot, stdio: "ignore" },
  );
  await exited(child);
  return performance.now() - started;
}

/** Starts the backend and returns the time until a function call is answered. */
async function startMs(dataDir: string, envFile: string): Promise<{ ms: number; child: ChildProcess }> {
  const [port, sitePort] = [await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [tsxCli, "backend/src/cli.ts", "--convex-dir", "convex", "--data-dir", dataDir, "--port", String(port), "--site-port", String(sitePort), "--env-file", envFile],
    { cwd: repoRoot, stdio: "ignore" },
  );
  for (;;) {
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/query`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ path: "businesses:getBySlug", args: [{ slug: "bench" }], format: "convex_encoded_json" }),
      });
      if (response.status === 200 || response.status === 560) return { ms: performance.now() - started, child };
      throw new Error(`unexpected status ${response.status}: ${await response.text()}`);
    } catch (error) {
      if ((error as Error).message.startsWith("unexpected status")) throw error;
      if (child.exitCode !== null) throw new Error(`backend exited with ${child.exitCode}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

async function stop(child: ChildProcess): Promise<void> {
  child.kill("SIGTERM");
  await exited(child);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "bench-coldstart-"));
  try {
    const envFile = path.join(scratch, "bench.env");
    await ensureLocalEnv(envFile);
    const floors: number[] = [];
    const firsts: number[] = [];
    const restarts: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const dataDir = path.join(scratch, `data-${round}`);
      floors.push(await floorMs(scratch));
      const first = await startMs(dataDir, envFile);
      firsts.push(first.ms);
      await stop(first.child);
      const again = await startMs(dataDir, envFile);
      restarts.push(again.ms);
      await stop(again.child);
    }
    const floor = median(floors);
    const report = (label: string, ms: number) =>
      console.log(`${label.padEnd(44)} ${ms.toFixed(0).padStart(6)} ms  (${(ms / floor).toFixed(1)}x floor)`);
    console.log(`floor: bare node process + SQLite open          ${floor.toFixed(0).padStart(6)} ms  (median of ${ROUNDS})`);
    report("cold start, build cached (restart)", median(restarts));
    report("first start, empty data folder (esbuild)", median(firsts));
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
