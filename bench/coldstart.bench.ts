/**
 * Cold start of the local backend with the platform's convex/ folder (printed, never asserted):
 * from spawning `node backend/bin/backend.mjs` to the first answered function call, next to a
 * floor measured in the same run: a bare Node process that opens the same SQLite file, listens
 * and answers one HTTP request.
 *
 * - warm cache: a restart over the same data folder; the compiled backend and every build
 *   (app and components) come from their caches, so neither tsx nor esbuild runs;
 * - cold cache: empty caches and data folder, as after a clean clone (esbuild runs);
 * - warm cache under tsx: the same restart through `tsx backend/src/cli.ts`, for comparison.
 *
 * Run: npm run bench -- coldstart
 */
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { ensureLocalEnv, repoRoot } from "../scripts/env.js";
import { firstAnsweredQueryMs, freePort, spawnBackend, type BackendProcessOptions } from "../backend/src/testing/backend_process.js";

const ROUNDS = 3;
const FUNCTION = "businesses:getBySlug";
const ARGS = { slug: "bench" };
const tsxCli = path.join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");

/** Bare `node`: opens the SQLite file (WAL), listens, answers; spawn to the first answer. */
async function floorMs(sqliteFile: string): Promise<number> {
  const port = await freePort();
  const script = [
    `const D = require("better-sqlite3"); const db = new D(${JSON.stringify(sqliteFile)}); db.pragma("journal_mode = WAL");`,
    `require("node:http").createServer((q, s) => s.end(JSON.stringify(db.prepare("select 1 as one").get()))).listen(${port}, "127.0.0.1");`,
  ].join("\n");
  const started = performance.now();
  const child = spawn(process.execPath, ["-e", script], { cwd: repoRoot, stdio: "ignore" });
  try {
    for (;;) {
      const answered = await fetch(`http://127.0.0.1:${port}/`).then(
        (response) => response.ok,
        () => false,
      );
      if (answered) return performance.now() - started;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    child.kill("SIGTERM");
  }
}

async function coldStartMs(options: BackendProcessOptions): Promise<number> {
  const backend = await spawnBackend(options);
  try {
    return await firstAnsweredQueryMs(backend, FUNCTION, ARGS);
  } finally {
    await backend.stop();
  }
}

/** The same restart through tsx and the TypeScript sources (what `npm start` ran before). */
async function tsxStartMs(options: BackendProcessOptions): Promise<number> {
  const [port, sitePort] = [await freePort(), await freePort()];
  const started = performance.now();
  const child = spawn(
    process.execPath,
    [tsxCli, "backend/src/cli.ts", "--convex-dir", options.convexDir, "--data-dir", options.dataDir, "--port", String(port), "--site-port", String(sitePort), "--env-file", options.envFile, "--build-cache", options.buildCache!],
    { cwd: repoRoot, stdio: "ignore" },
  );
  try {
    for (;;) {
      const status = await fetch(`http://127.0.0.1:${port}/api/query`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ path: FUNCTION, args: [ARGS], format: "convex_encoded_json" }),
      }).then(
        (response) => response.status,
        () => 0,
      );
      if (status === 200 || status === 560) return performance.now() - started;
      if (status !== 0) throw new Error(`${FUNCTION} answered ${status}`);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => (child.exitCode !== null ? resolve(null) : child.once("exit", resolve)));
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(path.join(os.tmpdir(), "bench-coldstart-"));
  const compiledScratch = mkdtempSync(path.join(repoRoot, "node_modules", ".cache", "bench-coldstart-"));
  try {
    const envFile = path.join(scratch, "bench.env");
    await ensureLocalEnv(envFile);
    const convexDir = path.join(repoRoot, "convex");
    const results = { floor: [] as number[], warm: [] as number[], cold: [] as number[], tsx: [] as number[] };
    for (let round = 0; round < ROUNDS; round++) {
      const dataDir = path.join(scratch, `data-${round}`);
      const caches = path.join(scratch, `caches-${round}`);
      const buildCache = path.join(caches, "builds");
      // The compiled backend must sit under node_modules, where it finds its packages.
      const env = { CONVEX_LOCAL_BACKEND_COMPILED_CACHE: path.join(compiledScratch, `round-${round}`) };
      results.cold.push(await coldStartMs({ convexDir, dataDir, envFile, buildCache, env }));
      results.floor.push(await floorMs(path.join(dataDir, "engine.sqlite3")));
      results.warm.push(await coldStartMs({ convexDir, dataDir, envFile, buildCache, env }));
      results.tsx.push(await tsxStartMs({ convexDir, dataDir, envFile, buildCache }));
      rmSync(caches, { recursive: true, force: true });
      rmSync(env.CONVEX_LOCAL_BACKEND_COMPILED_CACHE, { recursive: true, force: true });
    }
    const floor = median(results.floor);
    const report = (label: string, values: number[]) =>
      console.log(`${label.padEnd(52)} ${median(values).toFixed(0).padStart(6)} ms  (${(median(values) / floor).toFixed(1)}x floor)`);
    console.log(`load average ${os.loadavg().map((l) => l.toFixed(2)).join(" ")}, ${os.cpus().length} cores; medians of ${ROUNDS} rounds`);
    console.log(`${"floor: bare node, same SQLite file, listen, answer".padEnd(52)} ${floor.toFixed(0).padStart(6)} ms`);
    report("cold start, warm cache (restart, no tsx, no esbuild)", results.warm);
    report("cold start, cold cache (clean clone: esbuild runs)", results.cold);
    report("cold start, warm cache, under tsx (for comparison)", results.tsx);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    rmSync(compiledScratch, { recursive: true, force: true });
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
