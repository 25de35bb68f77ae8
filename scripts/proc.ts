/** Child processes for the run/test/bench scripts: each in its own process group, so that
 * stopping one stops everything it started (servers, workers). */
import { spawn, type ChildProcess, type SpawnOptions } from "node:child_process";

/** Signals a child's whole process group, including members left after the leader exited. */
export function killGroup(child: ChildProcess, signal: NodeJS.Signals = "SIGTERM"): void {
  if (child.pid === undefined) return;
  try {
    if (process.platform === "win32") child.kill(signal);
    else process.kill(-child.pid, signal);
  } catch {
    // Already gone.
  }
}

/** SIGTERM, then SIGKILL after `graceMs` if the group's leader is still alive. */
export function stopGroup(child: ChildProcess, graceMs = 5_000): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) {
      killGroup(child, "SIGKILL");
      return resolve();
    }
    const timer = setTimeout(() => killGroup(child, "SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      // Grandchildren may outlive the leader; make sure none is left behind.
      killGroup(child, "SIGKILL");
      resolve();
    });
    killGroup(child, "SIGTERM");
  });
}

export function spawnGroup(command: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  return spawn(command, args, { ...options, detached: process.platform !== "win32" });
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
}

/** Runs a command with inherited output until it exits, or until `timeoutMs` passes (then stops it). */
export function runToEnd(
  command: string,
  args: string[],
  options: SpawnOptions & { timeoutMs?: number } = {},
): Promise<RunResult> {
  const { timeoutMs, ...spawnOptions } = options;
  return new Promise((resolve, reject) => {
    const child = spawnGroup(command, args, { stdio: "inherit", ...spawnOptions });
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            void stopGroup(child);
          }, timeoutMs);
    // A detached child does not get the terminal's Ctrl-C, so pass it on, then stop.
    const onSignal = (signal: NodeJS.Signals) => {
      void stopGroup(child).then(() => process.exit(signal === "SIGINT" ? 130 : 143));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
    child.once("error", (error) => {
      clearTimeout(timer);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      reject(error);
    });
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      // Leftovers (a server a test forgot to close) must not outlive the run.
      killGroup(child, "SIGKILL");
      resolve({ code, signal, timedOut });
    });
  });
}
