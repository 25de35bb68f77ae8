/**
 * The real Convex CLI pushing an app with components: the platform's own convex/ (rate
 * limiter, workpool with its nested batch worker, two aggregates, migrations) deployed with
 * `npx convex deploy` and `dev --once` to a backend that started without components, through
 * CONVEX_SELF_HOSTED_URL and CONVEX_SELF_HOSTED_ADMIN_KEY (in the environment only).
 */
import { execFile } from "node:child_process";
import { cpSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fixtureAppDir, removeTempDirs, repoRoot, startCli, stopCli, tempDir, type ChildBackend } from "../clients/harness.js";

const ADMIN_KEY = "local-test|0123456789abcdef";
const convexBin = path.join(repoRoot, "node_modules/.bin/convex");
const CLI_TIMEOUT_MS = 180_000;

let backend: ChildBackend;
let project: string;

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function convex(args: string[]): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("CONVEX_")) env[key] = value;
  Object.assign(env, { CONVEX_SELF_HOSTED_URL: backend.cloudUrl, CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY, NO_COLOR: "1", FORCE_COLOR: "0" });
  return new Promise((resolve) => {
    execFile(convexBin, args, { cwd: project, env, timeout: CLI_TIMEOUT_MS }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

beforeAll(async () => {
  project = tempDir("convex-cli-components-");
  // A copy of the platform's functions and what they import (the CLI's codegen writes into it).
  for (const folder of ["convex", "domain", "party"]) {
    cpSync(path.join(repoRoot, folder), path.join(project, folder), {
      recursive: true,
      filter: (source) => !/\.test\.ts$|\.testkit\.ts$/.test(source),
    });
  }
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(project, "node_modules"), "dir");
  writeFileSync(path.join(project, "package.json"), readFileSync(path.join(repoRoot, "package.json")));
  writeFileSync(path.join(project, "tsconfig.json"), readFileSync(path.join(repoRoot, "tsconfig.json")));
  // The backend starts with a small app without components; the push brings them.
  const start = path.join(project, "start-app"); // resolves `convex` from the project's node_modules
  cpSync(fixtureAppDir, start, { recursive: true });
  backend = await startCli({ convexDir: start, dataDir: tempDir("convex-cli-components-data-"), env: { CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY } });
}, 60_000);

afterAll(async () => {
  await stopCli(backend);
  removeTempDirs();
});

describe("npx convex pushing an app with components", () => {
  it("deploy installs the platform's components, and their functions run through the app", async () => {
    const deployed = await convex(["deploy", "--typecheck", "disable", "--codegen", "disable", "--yes"]);
    expect(deployed.stderr + deployed.stdout).not.toMatch(/ComponentsNotSupported|Error/);
    expect(deployed.code).toBe(0);

    // The migrations component's runner, called from the app's `migrations:run`.
    const migrated = await convex(["run", "migrations:run", JSON.stringify({ fn: "migrations:clearRateLimitWindows", dryRun: false })]);
    expect(migrated.stderr).not.toMatch(/Error/);
    expect(migrated.code).toBe(0);
    expect(migrated.stdout).toMatch(/"Status": "Migration was started and finished in one batch\."/);
    // The component's own tables keep its state between calls.
    const again = await convex(["run", "migrations:run", JSON.stringify({ fn: "migrations:clearRateLimitWindows" })]);
    expect(again.stdout).toMatch(/"Status": "Migration already done\."/);

    const tables = await convex(["data"]);
    expect(tables.code).toBe(0);
    expect(tables.stdout.split("\n")).toEqual(expect.arrayContaining(["bookings", "businesses"]));
  }, 3 * CLI_TIMEOUT_MS);

  it("dev --once generates `components` from the deployment's analysis of every component", async () => {
    rmSync(path.join(project, "convex/_generated/api.d.ts"));
    const dev = await convex(["dev", "--once", "--typecheck", "disable"]);
    expect(dev.code).toBe(0);
    const api = readFileSync(path.join(project, "convex/_generated/api.d.ts"), "utf8");
    expect(api).toMatch(/webhookWorkpool: import\("@convex-dev\/workpool\/_generated\/component\.js"\)\.ComponentApi<"webhookWorkpool">/);
    expect(api).toMatch(/invoiceRevenue: import\("@convex-dev\/aggregate\/_generated\/component\.js"\)\.ComponentApi<"invoiceRevenue">/);
    expect(api).toMatch(/rateLimiter: import\("@convex-dev\/rate-limiter\/_generated\/component\.js"\)/);
    expect(api).toMatch(/migrations: import\("@convex-dev\/migrations\/_generated\/component\.js"\)/);
  }, 3 * CLI_TIMEOUT_MS);
});
