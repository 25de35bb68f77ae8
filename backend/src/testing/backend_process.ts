/**
 * Starting the local backend as its own process, as `npm run backend` does, and waiting for it:
 * shared by the startup tests and the cold-start benchmark, so both measure the same thing.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, Socket } from "node:net";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../../..");
/** The backend's command line (runs the compiled backend, see backend/bin/compile.mjs). */
export const backendLauncher = path.join(repoRoot, "backend", "bin", "backend.mjs");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

export interface BackendProcessOptions {
  convexDir: string;
  dataDir: string;
  envFile: string;
  /** Build cache folder (default: the backend's, in node_modules/.cache). */
  buildCache?: string;
  adminKey?: string;
  extraArgs?: string[];
  /** Added to the process's environment. */
  env?: Record<string, string>;
}

export interface BackendProcess {
  child: ChildProcess;
  port: number;
  sitePort: number;
  cloudUrl: string;
  siteUrl: string;
  /** performance.now() just before the process was spawned. */
  spawnedAt: number;
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
  /** SIGTERM, then waits for the process to exit. */
  stop(): Promise<void>;
}

/** Spawns the backend CLI on free ports; returns at once (the ports open a little later). */
export async function spawnBackend(options: BackendProcessOptions): Promise<BackendProcess> {
  const [port, sitePort] = [await freePort(), await freePort()];
  const args = [
    backendLauncher,
    ...["--convex-dir", options.convexDir, "--data-dir", options.dataDir],
    ...["--port", String(port), "--site-port", String(sitePort), "--env-file", options.envFile],
    ...(options.buildCache !== undefined ? ["--build-cache", options.buildCache] : []),
    ...(options.extraArgs ?? []),
  ];
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1", ...options.env };
  if (options.adminKey !== undefined) env.CONVEX_SELF_HOSTED_ADMIN_KEY = options.adminKey;
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, args, { cwd: repoRoot, env, stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-50_000)));
  child.stderr!.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-50_000)));
  const exited = new Promise<number | string>((resolve) => child.once("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  return {
    child,
    port,
    sitePort,
    cloudUrl: `http://127.0.0.1:${port}`,
    siteUrl: `http://127.0.0.1:${sitePort}`,
    spawnedAt,
    output: () => output,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
    socket.connect(port, "127.0.0.1");
  });
}

/** Waits until the port accepts TCP connections (the backend may still be loading). */
export async function waitForPort(backend: BackendProcess, port: number, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await connects(port))) {
    if (backend.child.exitCode !== null || backend.child.signalCode !== null) {
      throw new Error(`backend exited (${await backend.exited}) before its port opened:\n${backend.output()}`);
    }
    if (Date.now() > deadline) throw new Error(`port ${port} did not open in ${timeoutMs} ms:\n${backend.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/**
 * Waits until `POST /api/query` of `functionPath` is answered by the function (200, or 560 when
 * it throws) and returns the milliseconds since the process was spawned. Any other status is an
 * error: a backend that answers "not ready" fails here.
 */
export async function firstAnsweredQueryMs(
  backend: BackendProcess,
  functionPath: string,
  args: Record<string, unknown> = {},
  timeoutMs = 120_000,
): Promise<number> {
  await waitForPort(backend, backend.port, timeoutMs);
  const response = await fetch(`${backend.cloudUrl}/api/query`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ path: functionPath, args: [args], format: "convex_encoded_json" }),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  if (response.status !== 200 && response.status !== 560) throw new Error(`${functionPath} answered ${response.status}: ${text}`);
  return performance.now() - backend.spawnedAt;
}
