/**
 * `npm start`: the whole platform on this machine.
 *
 * 1. Ensures `.env.local` (scripts/env.ts).
 * 2. Starts, each only if its entry exists yet:
 *    - Convex: the local backend (`backend/bin/backend.mjs`) on 3210/3211, or `npx convex dev` when a
 *      real deployment is configured (CONVEX_DEPLOYMENT, or a CONVEX_URL that is not local, in
 *      the environment or in .env.local);
 *    - PartyKit (`partykit.json`) on 1999, with the party vars from .env.local;
 *    - the portal (`web/vite.config.ts`) on 5173.
 * 3. Waits until each answers, seeds demo data through `seed:demo` (if `convex/seed.ts` exists),
 *    prints the URLs and the demo sign-ins.
 * Ctrl-C / SIGTERM stops every child's process group; a child that dies stops everything.
 */
import { type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { ensureLocalEnv, repoRoot } from "./env.js";
import { spawnGroup, stopGroup } from "./proc.js";
import { seedDemoData, type SeedResult } from "./seed.js";

const HOST = "127.0.0.1";
const PORTS = { backend: 3210, site: 3211, partykit: 1999, portal: 5173 };
const LOCAL_CONVEX_URL = `http://${HOST}:${PORTS.backend}`;
const READY_TIMEOUT_MS = 180_000;

/** What the parties read (party/env.ts), passed with `partykit dev --var` when set. */
const PARTY_VARS = [
  "PARTYKIT_PUSH_SECRET",
  "PARTYKIT_PUSH_SECRET_PREVIOUS",
  "LOCAL_AUTH_JWKS",
  "LOCAL_AUTH_ISSUER",
  "CLERK_JWT_ISSUER_DOMAIN",
  "PARTYKIT_AUTH_AUDIENCE",
  "PARTYKIT_HOLD_TTL_SECONDS",
];

const node = process.execPath;
const bin = (path: string) => join(repoRoot, "node_modules", path);
const exists = (path: string) => existsSync(join(repoRoot, path));

interface Service {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Only `convex dev` may need the terminal (to log in or pick a project). */
  stdin?: "inherit";
  /** Origins that must answer HTTP before the service counts as up. */
  readyUrls: string[];
}

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

/** A real Convex deployment is configured: `npx convex dev` replaces the local backend. */
function realDeployment(env: Record<string, string | undefined>): string | null {
  if (env.CONVEX_DEPLOYMENT) return `CONVEX_DEPLOYMENT=${env.CONVEX_DEPLOYMENT}`;
  if (env.CONVEX_URL) {
    const host = new URL(env.CONVEX_URL).hostname;
    if (host !== HOST && host !== "localhost") return `CONVEX_URL=${env.CONVEX_URL}`;
  }
  return null;
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
  process.on("SIGINT", () => void stopAll(0));
  process.on("SIGTERM", () => void stopAll(0));

  const local = await ensureLocalEnv();
  if (local.created) say(`created ${local.path} with fresh local secrets`);
  else if (local.added.length > 0) say(`added to ${local.path}: ${local.added.join(", ")}`);
  const env = { ...local.env, ...process.env } as Record<string, string | undefined>;

  const real = realDeployment(env);
  const convexUrl = real ? env.CONVEX_URL : LOCAL_CONVEX_URL;
  const services: Service[] = [];
  const missing: string[] = [];

  if (real) {
    say(`real Convex deployment configured (${real}): running \`npx convex dev\`, not the local backend`);
    services.push({
      name: "convex",
      command: node,
      args: [bin("convex/bin/main.js"), "dev"],
      stdin: "inherit",
      readyUrls: [],
    });
  } else if (exists("backend/bin/backend.mjs")) {
    services.push({
      name: "backend",
      command: node,
      args: [
        // Runs the compiled backend (no tsx, builds cached by content hash): ready in under a second.
        "backend/bin/backend.mjs",
        ...["--convex-dir", "convex", "--data-dir", ".data/backend"],
        ...["--port", String(PORTS.backend), "--site-port", String(PORTS.site)],
        ...["--env-file", ".env.local"],
      ],
      // In the environment rather than on the command line, where `ps` would show it.
      env: { CONVEX_SELF_HOSTED_ADMIN_KEY: local.env.LOCAL_ADMIN_KEY },
      readyUrls: [LOCAL_CONVEX_URL, `http://${HOST}:${PORTS.site}`],
    });
  } else missing.push("local backend (backend/bin/backend.mjs)");

  if (exists("partykit.json")) {
    const vars = { ...Object.fromEntries(PARTY_VARS.filter((k) => env[k]).map((k) => [k, env[k]!])) };
    if (convexUrl) vars.CONVEX_URL = convexUrl;
    services.push({
      name: "partykit",
      command: node,
      args: [
        bin("partykit/dist/bin.mjs"),
        "dev",
        "--port",
        String(PORTS.partykit),
        "--no-hotkeys",
        // Offline: otherwise it tries to fetch Cloudflare's request.cf data on every start.
        "--disable-request-cf-fetch",
        ...Object.entries(vars).flatMap(([k, v]) => ["--var", `${k}=${v}`]),
      ],
      env: { NO_UPDATE_NOTIFIER: "1" },
      readyUrls: [`http://${HOST}:${PORTS.partykit}`],
    });
  } else missing.push("PartyKit (partykit.json)");

  if (exists("web/vite.config.ts")) {
    const viteEnv: Record<string, string> = { VITE_PARTYKIT_HOST: `${HOST}:${PORTS.partykit}` };
    if (convexUrl) viteEnv.VITE_CONVEX_URL = convexUrl;
    if (env.VITE_CLERK_PUBLISHABLE_KEY) viteEnv.VITE_CLERK_PUBLISHABLE_KEY = env.VITE_CLERK_PUBLISHABLE_KEY;
    services.push({
      name: "portal",
      command: node,
      args: [
        bin("vite/bin/vite.js"),
        ...["--config", "web/vite.config.ts", "--port", String(PORTS.portal)],
        ...["--strictPort", "--host", HOST],
      ],
      env: viteEnv,
      readyUrls: [`http://${HOST}:${PORTS.portal}`],
    });
  } else missing.push("portal (web/vite.config.ts)");

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

  const hasBackend = services.some((s) => s.name === "backend");
  if (hasBackend && exists("convex/seed.ts")) {
    try {
      printSeed(await seedDemoData({ url: LOCAL_CONVEX_URL, adminKey: local.env.LOCAL_ADMIN_KEY }));
    } catch (error) {
      say(`WARNING: demo data not seeded: ${(error as Error).message}`);
    }
  } else if (hasBackend) say("convex/seed.ts not there yet: no demo data seeded");
  else if (real) say("against a real deployment, seed demo data with: npx convex run seed:demo");

  const names = new Set(services.map((s) => s.name));
  const rows: [string, string][] = [];
  if (names.has("backend")) {
    rows.push(["Convex API + sync", LOCAL_CONVEX_URL]);
    rows.push(["HTTP actions", `http://${HOST}:${PORTS.site}`]);
    rows.push(["REST API", `http://${HOST}:${PORTS.site}/v1/`]);
    rows.push(["Stripe webhook", `POST http://${HOST}:${PORTS.site}/stripe/webhook`]);
  } else if (real) rows.push(["Convex", convexUrl ?? "(see `convex dev` output)"]);
  if (names.has("partykit")) rows.push(["PartyKit", `http://${HOST}:${PORTS.partykit}`]);
  if (names.has("portal")) rows.push(["portal", `http://${HOST}:${PORTS.portal}`]);
  console.log("\nRunning:");
  for (const [what, url] of rows) console.log(`  ${what.padEnd(18)} ${url}`);
  if (env.DEMO_API_KEY && names.has("backend")) console.log(`  ${"demo API key".padEnd(18)} ${env.DEMO_API_KEY}`);
  console.log("\nCtrl-C stops everything.\n");
}

main().catch((error: unknown) => {
  console.error(`${label("start", 4)} ${error instanceof Error ? error.message : String(error)}`);
  void stopAll(1);
});
