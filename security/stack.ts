/**
 * The platform's servers for the security audit: the local backend (as `npm start` runs it,
 * through its CLI, with the platform's convex/) and `partykit dev` (through the same launcher),
 * on free loopback ports over a throw-away env file and data folder, seeded with the demo
 * business. Secrets go through environments only, as in scripts/start-plan.ts.
 */
import { type ChildProcess } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureLocalEnv, repoRoot } from "../scripts/env.js";
import { listenersOfTree, type OwnedListener } from "../scripts/listeners.js";
import { spawnGroup, stopGroup } from "../scripts/proc.js";
import { seedDemoData } from "../scripts/seed.js";
import { freePort, startDevServer, type DevServer } from "../party/testing/dev-server.js";

export interface AuditStack {
  cloudUrl: string;
  siteUrl: string;
  party: DevServer;
  env: Record<string, string>;
  backendPid: number;
  /** Everything the backend and partykit trees listen on now. */
  listeners(): OwnedListener[];
  backendOutput(): string;
  /** Rows in each table (admin API), to prove a hostile request wrote nothing. */
  tableCounts(tables: readonly string[]): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

function setEnvValue(text: string, key: string, value: string): string {
  const line = `${key}=${value}`;
  return new RegExp(`^${key}=.*$`, "m").test(text) ? text.replace(new RegExp(`^${key}=.*$`, "m"), line) : `${text}\n${line}\n`;
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`backend exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.status < 500) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`backend did not answer at ${url} within ${timeoutMs} ms:\n${output()}`);
}


export async function startAuditStack(): Promise<AuditStack> {
  const dir = mkdtempSync(join(tmpdir(), "security-audit-"));
  const envPath = join(dir, "env.local");
  const stops: (() => Promise<void>)[] = [];
  const stop = async () => {
    for (const s of stops.reverse()) await s().catch((error: unknown) => console.error("[audit stack] stop:", error));
    rmSync(dir, { recursive: true, force: true });
  };
  let log = "";
  try {
    const local = await ensureLocalEnv(envPath);
    const [port, sitePort] = [await freePort(), await freePort()];
    const cloudUrl = `http://127.0.0.1:${port}`;
    const siteUrl = `http://127.0.0.1:${sitePort}`;

    const party = await startDevServer({
      PARTYKIT_PUSH_SECRET: local.env.PARTYKIT_PUSH_SECRET,
      LOCAL_AUTH_JWKS: local.env.LOCAL_AUTH_JWKS,
      LOCAL_AUTH_ISSUER: local.env.LOCAL_AUTH_ISSUER,
      LOCAL_AUTH_APPLICATION_ID: local.env.LOCAL_AUTH_APPLICATION_ID,
      CONVEX_URL: cloudUrl,
    });
    stops.push(() => party.stop());
    writeFileSync(envPath, setEnvValue(readFileSync(envPath, "utf8"), "PARTYKIT_URL", party.httpUrl));

    const backend = spawnGroup(
      process.execPath,
      [
        join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs"),
        "backend/src/cli.ts",
        ...["--convex-dir", "convex", "--data-dir", join(dir, "data")],
        ...["--port", String(port), "--site-port", String(sitePort), "--env-file", envPath],
      ],
      {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1", CONVEX_SELF_HOSTED_ADMIN_KEY: local.env.LOCAL_ADMIN_KEY },
      },
    );
    backend.stdout!.on("data", (c: Buffer) => (log = (log + c.toString()).slice(-200_000)));
    backend.stderr!.on("data", (c: Buffer) => (log = (log + c.toString()).slice(-200_000)));
    stops.push(() => stopGroup(backend));
    await waitForHttp(cloudUrl, backend, () => log, 120_000);
    await waitForHttp(siteUrl, backend, () => log, 30_000);
    await seedDemoData({ url: cloudUrl, adminKey: local.env.LOCAL_ADMIN_KEY });

    const adminQuery = async (path: string, args: Record<string, unknown>) => {
      const response = await fetch(`${cloudUrl}/api/query`, {
        method: "POST",
        headers: { "content-type": "application/json", authorization: `Convex ${local.env.LOCAL_ADMIN_KEY}` },
        body: JSON.stringify({ path, args: [args], format: "convex_encoded_json" }),
      });
      const body = (await response.json()) as { status?: string; value?: unknown; errorMessage?: string };
      if (body.status !== "success") throw new Error(`${path}: ${response.status} ${JSON.stringify(body)}`);
      return body.value;
    };

    return {
      cloudUrl,
      siteUrl,
      party,
      env: { ...local.env, PARTYKIT_URL: party.httpUrl },
      backendPid: backend.pid!,
      listeners: () => [...listenersOfTree(backend.pid!), ...party.listeners()],
      backendOutput: () => log,
      async tableCounts(tables) {
        const counts: Record<string, number> = {};
        for (const tableName of tables) counts[tableName] = Number(await adminQuery("_system/cli/tableSize", { tableName }));
        return counts;
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
