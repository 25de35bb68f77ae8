/**
 * `npm start`: the whole platform on this machine.
 *
 * 1. Ensures `.env.local` (scripts/env.ts).
 * 2. Starts, each only if its entry exists yet:
 *    - maildev, the local SMTP catcher (SMTP on 1025, inbox UI on 1080, loopback only), unless
 *      SMTP_URL configures a real mail server: the backend's notifications (email, and SMS /
 *      WhatsApp without Twilio) are mailed to it;
 *    - Convex: the local backend (`backend/bin/backend.mjs`) on 3210/3211, or `npx convex dev` when a
 *      real deployment is configured (CONVEX_DEPLOYMENT, or a CONVEX_URL that is not local, in
 *      the environment or in .env.local);
 *    - PartyKit (`partykit.json`) on 1999, with the party vars from .env.local;
 *    - the portal (`web/vite.config.ts`) on 5173.
 * 3. Waits until each answers, then checks what its processes listen on (/proc, see
 *    scripts/listeners.ts) and stops everything if any listener is beyond loopback.
 * 4. Seeds demo data through `seed:demo` (if `convex/seed.ts` exists), prints the URLs, the demo
 *    sign-ins and the demo API key's prefix (the key itself stays in .env.local).
 * Secrets reach the children through their environments, never their command lines
 * (scripts/start-plan.ts); everything they write is private to this user (umask 077).
 * Ctrl-C / SIGTERM stops every child's process group; a child that dies stops everything.
 */
import { type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ensureLocalEnv, repoRoot } from "./env.js";
import { exposedListenersProblem, listenersOfTree } from "./listeners.js";
import { spawnGroup, stopGroup } from "./proc.js";
import { seedDemoData, type SeedResult } from "./seed.js";
import { HOST, LOCAL_CONVEX_URL, planServices, runningRows, type Service } from "./start-plan.js";

const READY_TIMEOUT_MS = 180_000;
/** Files and folders the children create (database, room storage, logs) are private to this user. */
const PRIVATE_UMASK = 0o077;

const exists = (path: string) => existsSync(join(repoRoot, path));

/** Terminal escape sequences other than colours (cursor moves, line erases from spinners). */
const CURSOR_CONTROL = /\x1b\[[0-9;?]*[A-LN-Za-ln-z]/g;
const colors = [36, 35, 33, 32, 34];
const useColor = process.stdout.isTTY && !process.env.NO_COLOR;
function label(name: string, index: number): string {
  const text = `[${name}]`.padEnd(11);
  return useColor ? `\x1b[${colors[index % colors.length]}m${text}\x1b[0m` : text;
}
const say = (message: string) => console.log(`${label("start", 4)} ${message}`);

const children: { service: Service; child: ChildProcess }[] = [];
let stopping = false;

async function stopAll(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    await Promise.all(children.map(({ child }) => stopGroup(child)));
  }
  process.exit(code);
}

function launch(service: Service, index: number): ChildProcess {
  const child = spawnGroup(service.command, service.args, {
    cwd: repoRoot,
    env: { ...process.env, ...service.env },
    stdio: [service.stdin ?? "ignore", "pipe", "pipe"],
  });
  const prefix = label(service.name, index);
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on("line", (line) => {
      const out = stream === child.stderr ? process.stderr : process.stdout;
      out.write(`${prefix} ${line.replace(CURSOR_CONTROL, "")}\n`);
    });
  }
  child.on("error", (error) => {
    if (stopping) return;
    console.error(`${label("start", 4)} could not start ${service.name}: ${error.message}`);
    void stopAll(1);
  });
  child.on("exit", (code, signal) => {
    if (stopping) return;
    console.error(
      `${label("start", 4)} ${service.name} exited (${signal ?? `code ${code}`}); stopping everything`,
    );
    void stopAll(1);
  });
  children.push({ service, child });
  return child;
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", () => resolve(false));
    server.listen(port, HOST, () => server.close(() => resolve(true)));
  });
}

async function answers(url: string): Promise<boolean> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await response.body?.cancel();
    // Any answer, even a 404, means it is up; 502-504 mean not up yet (the local backend holds
    // requests until its functions are loaded, so it answers them only when ready).
    return response.status < 502 || response.status > 504;
  } catch {
    return false;
  }
}

async function waitReady(service: Service, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  for (const url of service.readyUrls) {
    while (!(await answers(url))) {
      if (child.exitCode !== null || child.signalCode !== null || stopping) {
        throw new Error(`${service.name} exited before it was reachable`);
      }
      if (Date.now() > deadline) {
        throw new Error(`${service.name} did not answer at ${url} within ${READY_TIMEOUT_MS / 1000}s`);
      }
      await new Promise((r) => setTimeout(r, 300));
    }
  }
}

function printSeed(result: SeedResult): void {
  say(result.created === false ? "demo data already present" : "demo data seeded");
  const signIns = Array.isArray(result.signIns) ? result.signIns : [];
  if (signIns.length === 0) {
    say(`seed result: ${JSON.stringify(result)}`);
    return;
  }
  console.log("\nDemo sign-ins:");
  for (const s of signIns) {
    const who = [String(s.role ?? "").padEnd(16), s.email, s.password ? `password ${s.password}` : "", s.name ? `(${s.name})` : ""];
    console.log(`  ${who.filter(Boolean).join("  ")}`);
  }
}

async function main(): Promise<void> {
  process.umask(PRIVATE_UMASK);
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  const local = await ensureLocalEnv();
  if (local.created) say(`created ${local.path} with fresh local secrets`);
  else if (local.added.length > 0) say(`added to ${local.path}: ${local.added.join(", ")}`);
  const env = { ...local.env, ...process.env } as Record<string, string | undefined>;

  const plan = planServices({ repoRoot, local: local.env, env, envFile: local.path });
  const { services, missing, real } = plan;
  if (real) say(`real Convex deployment configured (${real}): running \`npx convex dev\`, not the local backend`);

  for (const what of missing) say(`not there yet, not started: ${what}`);
  if (services.length === 0) {
    say("nothing to start yet");
    process.exit(1);
  }

  const busy: string[] = [];
  for (const service of services) {
    for (const url of service.readyUrls) {
      const port = Number(new URL(url).port);
      if (!(await portFree(port))) busy.push(`${port} (${service.name})`);
    }
  }
  if (busy.length > 0) {
    console.error(`${label("start", 4)} port(s) already in use: ${busy.join(", ")}. Is another \`npm start\` running?`);
    process.exit(1);
  }

  const launched = services.map((service, i) => ({ service, child: launch(service, i) }));
  try {
    await Promise.all(launched.map(({ service, child }) => waitReady(service, child)));
  } catch (error) {
    console.error(`${label("start", 4)} ${(error as Error).message}; stopping everything`);
    await stopAll(1);
  }

  // partykit, workerd and vite choose their own addresses: check what actually listens.
  const exposed = exposedListenersProblem(listenersOfTree(process.pid));
  if (exposed !== null) {
    console.error(`${label("start", 4)} refusing to run: ${exposed}; stopping everything`);
    await stopAll(1);
  }

  const hasBackend = services.some((s) => s.name === "backend");
  if (hasBackend && exists("convex/seed.ts")) {
    try {
      printSeed(await seedDemoData({ url: LOCAL_CONVEX_URL, adminKey: local.env.LOCAL_ADMIN_KEY }));
    } catch (error) {
      say(`WARNING: demo data not seeded: ${(error as Error).message}`);
    }
  } else if (hasBackend) say("convex/seed.ts not there yet: no demo data seeded");
  else if (real) say("against a real deployment, seed demo data with: npx convex run seed:demo");

  console.log("\nRunning:");
  for (const [what, where] of runningRows(plan, env, local.path)) {
    console.log(`  ${what.padEnd(18)} ${where}`);
  }
  console.log("\nCtrl-C stops everything.\n");
}

main().catch((error: unknown) => {
  console.error(`${label("start", 4)} ${error instanceof Error ? error.message : String(error)}`);
  void stopAll(1);
});
