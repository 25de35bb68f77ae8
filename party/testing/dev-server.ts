/**
 * Starts `partykit dev` for tests and benchmarks on a free port with the given vars, waits
 * until it answers, and stops its whole process group (partykit spawns workerd children).
 * It runs through scripts/partykit/dev.mjs: vars travel in the environment (not on the command
 * line), nothing listens beyond loopback and no inspector is open; a listener beyond loopback
 * fails the start.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { exposedListenersProblem, listenersOfTree, type OwnedListener } from "../../scripts/listeners.js";

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const partykitLauncher = join(repoRoot, "scripts", "partykit", "dev.mjs");

export type DevServer = {
  port: number;
  httpUrl: string;
  /** host:port, as partysocket wants it */
  host: string;
  /** The CLI's process id (its workerd children are in its process tree). */
  pid: number;
  /** What the CLI and its children listen on now. */
  listeners(): OwnedListener[];
  output(): string;
  stop(): Promise<void>;
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      server.close(() => resolve(address.port));
    });
  });
}

function stripAnsi(text: string): string {
  return text.replace(/\u001b\[[0-9;]*[A-Za-z]/g, "");
}

async function waitForHealth(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`partykit dev exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(`${url}/health`);
      if (response.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`partykit dev did not answer within ${timeoutMs} ms:\n${output()}`);
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}

export type DevServerOptions = {
  /** Keep room storage in this folder (survives restarts); in memory when omitted. */
  persistDir?: string;
  timeoutMs?: number;
};

export async function startDevServer(vars: Record<string, string>, options: DevServerOptions = {}): Promise<DevServer> {
  const timeoutMs = options.timeoutMs ?? 60_000;
  const requestedPort = await freePort();
  const args = [
    partykitLauncher,
    "dev",
    "--port",
    String(requestedPort),
    "--persist",
    options.persistDir ?? "false",
    "--no-hotkeys",
    "--disable-request-cf-fetch",
  ];
  const child = spawn(process.execPath, args, {
    cwd: repoRoot,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, NO_UPDATE_NOTIFIER: "1", FORCE_COLOR: "0", PARTYKIT_DEV_VARS: JSON.stringify(vars) },
  });
  let log = "";
  child.stdout!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (log += chunk.toString()));
  const output = () => stripAnsi(log);

  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    killGroup(child, "SIGTERM");
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), 5_000);
    await exited;
    clearTimeout(timer);
    killGroup(child, "SIGKILL"); // workerd children that outlived the CLI
  };

  try {
    // partykit silently picks another port when the requested one was taken meanwhile.
    const deadline = Date.now() + timeoutMs;
    let port: number | undefined;
    while (port === undefined && Date.now() < deadline) {
      const match = /Ready on http:\/\/[\d.]+:(\d+)/.exec(output());
      if (match) port = Number(match[1]);
      else if (child.exitCode !== null) throw new Error(`partykit dev exited with ${child.exitCode}:\n${output()}`);
      else await new Promise((resolve) => setTimeout(resolve, 100));
    }
    if (port === undefined) throw new Error(`partykit dev did not start within ${timeoutMs} ms:\n${output()}`);
    const httpUrl = `http://127.0.0.1:${port}`;
    await waitForHealth(httpUrl, child, output, Math.max(1_000, deadline - Date.now()));
    const listeners = () => listenersOfTree(child.pid!);
    const exposed = exposedListenersProblem(listeners());
    if (exposed !== null) throw new Error(`partykit dev is ${exposed}`);
    return { port, httpUrl, host: `127.0.0.1:${port}`, pid: child.pid!, listeners, output, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
