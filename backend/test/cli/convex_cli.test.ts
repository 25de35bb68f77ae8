/**
 * The real Convex CLI (node_modules/.bin/convex, convex 1.48) against the backend as
 * `npm run backend` runs it, through the self-hosted variables CONVEX_SELF_HOSTED_URL and
 * CONVEX_SELF_HOSTED_ADMIN_KEY (both passed in the environment, never on a command line).
 */
import { execFile, spawn, type ChildProcess } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { anyApi } from "convex/server";
import { strFromU8, unzipSync } from "fflate";
import { eventually } from "../server/helpers.js";
import { fixtureAppDir, removeTempDirs, repoRoot, startCli, stopCli, tempDir, type ChildBackend } from "../clients/harness.js";

const ADMIN_KEY = "local-test|0123456789abcdef";
const convexBin = path.join(repoRoot, "node_modules/.bin/convex");
const CLI_TIMEOUT_MS = 120_000;

let backend: ChildBackend;
let project: string;
const children: ChildProcess[] = [];

interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

function cliEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith("CONVEX_")) env[key] = value;
  return { ...env, CONVEX_SELF_HOSTED_URL: backend.cloudUrl, CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY, NO_COLOR: "1", FORCE_COLOR: "0" };
}

function convex(args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(convexBin, args, { cwd: project, env: cliEnv(), timeout: CLI_TIMEOUT_MS }, (error, stdout, stderr) => {
      const code = error === null ? 0 : typeof error.code === "number" ? error.code : 1;
      resolve({ code, stdout: stdout.toString(), stderr: stderr.toString() });
    });
  });
}

function writeModule(name: string, source: string): void {
  writeFileSync(path.join(project, "convex", name), source);
}

/** ConvexHttpClient's admin auth (internal in its types; what the CLI itself uses). */
function setAdminAuth(client: ConvexHttpClient, key: string, actingAs?: Record<string, unknown>): void {
  (client as unknown as { setAdminAuth(key: string, actingAs?: Record<string, unknown>): void }).setAdminAuth(key, actingAs);
}

function admin(): ConvexHttpClient {
  const client = new ConvexHttpClient(backend.cloudUrl, { logger: false });
  setAdminAuth(client, ADMIN_KEY);
  return client;
}

beforeAll(async () => {
  project = tempDir("convex-cli-project-");
  cpSync(fixtureAppDir, path.join(project, "convex"), { recursive: true });
  symlinkSync(path.join(repoRoot, "node_modules"), path.join(project, "node_modules"), "dir");
  writeFileSync(path.join(project, "package.json"), JSON.stringify({ name: "cli-fixture", private: true, type: "module", dependencies: { convex: "1.48.0" } }));
  backend = await startCli({
    convexDir: path.join(project, "convex"),
    dataDir: tempDir("convex-cli-data-"),
    env: { CONVEX_SELF_HOSTED_ADMIN_KEY: ADMIN_KEY },
  });
}, 60_000);

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await stopCli(backend);
  removeTempDirs();
});

describe("npx convex against the local backend", () => {
  it("answers unknown paths with 404, whatever the method", async () => {
    for (const method of ["GET", "POST"]) {
      const response = await fetch(`${backend.cloudUrl}/api/no_such_endpoint`, { method });
      expect(response.status).toBe(404);
    }
    const noKey = await fetch(`${backend.cloudUrl}/api/v1/get_canonical_urls`);
    expect(noKey.status).toBe(403);
  });

  it("dev --once pushes the CLI's bundles and they are live without a restart", async () => {
    writeModule("pushed.ts", `import { query } from "./_generated/server";\nexport const version = query({ args: {}, handler: async () => "v1" });\n`);
    const first = await convex(["dev", "--once", "--typecheck", "disable"]);
    expect(first.stderr).toMatch(/Convex functions ready/);
    expect(first.code).toBe(0);
    const client = new ConvexHttpClient(backend.cloudUrl, { logger: false });
    expect(await client.query(anyApi.pushed.version, {})).toBe("v1");

    writeModule("pushed.ts", `import { query } from "./_generated/server";\nexport const version = query({ args: {}, handler: async () => "v2" });\n`);
    expect((await convex(["dev", "--once", "--typecheck", "disable"])).code).toBe(0);
    expect(await client.query(anyApi.pushed.version, {})).toBe("v2");
    // dev's codegen saw the deployment's functions.
    expect(readFileSync(path.join(project, "convex/_generated/api.d.ts"), "utf8")).toMatch(/pushed/);
  }, 300_000);

  it("deploy backfills a new index and refuses a schema the stored documents break", async () => {
    const client = new ConvexHttpClient(backend.cloudUrl, { logger: false });
    await client.mutation(anyApi.counters.increment, { name: "deployed" });
    const schemaFile = path.join(project, "convex/schema.ts");
    const original = readFileSync(schemaFile, "utf8");
    writeFileSync(schemaFile, original.replace(`.index("by_name", ["name"])`, `.index("by_name", ["name"]).index("by_value", ["value"])`));
    writeModule(
      "byValue.ts",
      `import { v } from "convex/values";\nimport { query } from "./_generated/server";\n` +
        `export const names = query({ args: { value: v.number() }, handler: async (ctx, { value }) =>\n` +
        `  (await ctx.db.query("counters").withIndex("by_value", (q) => q.eq("value", value)).collect()).map((c) => c.name) });\n`,
    );
    const deployed = await convex(["deploy", "--typecheck", "disable", "--yes"]);
    expect(deployed.code).toBe(0);
    expect(deployed.stderr).toMatch(/\[\+\] counters\.by_value/);
    expect(await client.query(anyApi.byValue.names, { value: 1 })).toContain("deployed");

    // A required field the stored counters lack: the push is refused and nothing changes.
    writeFileSync(schemaFile, original.replace(`counters: defineTable({ name: v.string(), value: v.number() })`, `counters: defineTable({ name: v.string(), value: v.number(), owner: v.string() })`));
    writeModule("byValue.ts", `import { query } from "./_generated/server";\nexport const names = query({ args: {}, handler: async () => "replaced" });\n`);
    const refused = await convex(["deploy", "--typecheck", "disable", "--yes"]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/Schema validation failed/);
    expect(refused.stderr).toMatch(/counters/);
    expect(await client.query(anyApi.byValue.names, { value: 1 })).toContain("deployed");
    writeFileSync(schemaFile, original);
  }, 300_000);

  it("codegen generates the API of the deployment's functions", async () => {
    writeModule("codegenOnly.ts", `import { query } from "./_generated/server";\nexport const ping = query({ args: {}, handler: async () => "pong" });\n`);
    const result = await convex(["codegen", "--typecheck", "disable"]);
    expect(result.code).toBe(0);
    expect(readFileSync(path.join(project, "convex/_generated/api.d.ts"), "utf8")).toMatch(/codegenOnly/);
  }, 300_000);

  it("run --identity acts as that user, and so does ConvexHttpClient's acting-as admin auth", async () => {
    const identity = { subject: "user-1", issuer: "https://issuer.test", name: "Ada" };
    const result = await convex(["run", "runtime:identity", "{}", "--identity", JSON.stringify(identity)]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ...identity, tokenIdentifier: "https://issuer.test|user-1" });

    const client = new ConvexHttpClient(backend.cloudUrl, { logger: false });
    setAdminAuth(client, ADMIN_KEY, { subject: "user-2", issuer: "https://issuer.test" });
    expect(await client.query(anyApi.runtime.identity, {})).toMatchObject({ subject: "user-2", tokenIdentifier: "https://issuer.test|user-2" });
    setAdminAuth(client, "wrong-key", { subject: "user-2", issuer: "https://issuer.test" });
    await expect(client.query(anyApi.runtime.identity, {})).rejects.toThrow(/Invalid admin key/);
  }, 120_000);

  it("env set/get/list/remove change what functions see in process.env, and persist", async () => {
    const client = new ConvexHttpClient(backend.cloudUrl, { logger: false });
    expect((await convex(["env", "set", "CLI_FLAG", "from-cli"])).code).toBe(0);
    expect(await client.query(anyApi.runtime.env, { name: "CLI_FLAG" })).toBe("from-cli");
    expect((await convex(["env", "get", "CLI_FLAG"])).stdout.trim()).toBe("from-cli");
    expect((await convex(["env", "list"])).stdout).toMatch(/^CLI_FLAG=from-cli$/m);
    const stored = JSON.parse(readFileSync(path.join(backendDataDir(), "deployment_env.json"), "utf8")) as Record<string, string>;
    expect(stored.CLI_FLAG).toBe("from-cli");

    expect((await convex(["env", "remove", "CLI_FLAG"])).code).toBe(0);
    expect(await client.query(anyApi.runtime.env, { name: "CLI_FLAG" })).toBeNull();
    expect((await convex(["env", "list"])).stdout).not.toMatch(/CLI_FLAG/);
    const invalid = await convex(["env", "set", "1BAD", "x"]);
    expect(invalid.code).not.toBe(0);
    expect(invalid.stderr).toMatch(/Invalid environment variable name/);
  }, 180_000);

  it("data lists the tables and a table's documents", async () => {
    await admin().mutation(anyApi.counters.increment, { name: "listed" });
    const tables = await convex(["data"]);
    expect(tables.code).toBe(0);
    expect(tables.stdout.split("\n")).toEqual(expect.arrayContaining(["counters", "messages"]));
    const rows = await convex(["data", "counters"]);
    expect(rows.code).toBe(0);
    expect(rows.stdout).toMatch(/"listed"/);
  }, 120_000);

  it("function-spec lists functions with their validators and the HTTP routes", async () => {
    const result = await convex(["function-spec"]);
    expect(result.code).toBe(0);
    const spec = JSON.parse(result.stdout) as { url: string; functions: { identifier?: string; functionType: string; args?: unknown }[] };
    expect(spec.url).toBe(backend.cloudUrl);
    const increment = spec.functions.find((fn) => fn.identifier === "counters.js:increment");
    expect(increment).toMatchObject({ functionType: "Mutation", visibility: { kind: "public" } });
    expect(spec.functions.some((fn) => fn.functionType === "HttpAction")).toBe(true);
  }, 120_000);

  it("export writes Convex's snapshot ZIP and import --replace brings it back with the same ids", async () => {
    const client = admin();
    await client.mutation(anyApi.counters.increment, { name: "exported" });
    const zipPath = path.join(project, "snapshot.zip");
    const exported = await convex(["export", "--path", zipPath]);
    expect(exported.code).toBe(0);
    const entries = unzipSync(readFileSync(zipPath));
    expect(Object.keys(entries)).toEqual(expect.arrayContaining(["README.md", "_tables/documents.jsonl", "counters/documents.jsonl", "counters/generated_schema.jsonl"]));
    const lines = strFromU8(entries["counters/documents.jsonl"]).trim().split("\n");
    const exportedCounter = lines.map((line) => JSON.parse(line) as { _id: string; name: string }).find((doc) => doc.name === "exported")!;
    expect(lines.some((line) => /"value":\d+\.0\b/.test(line))).toBe(true); // floats keep their dot

    await client.mutation(anyApi.counters.increment, { name: "after-export" });
    const refused = await convex(["import", "--yes", zipPath]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/already has \d+ documents/);

    const imported = await convex(["import", "--replace", "--yes", zipPath]);
    expect(imported.code).toBe(0);
    expect(imported.stderr).toMatch(/Added \d+ documents/);
    const rows = await convex(["data", "counters"]);
    expect(rows.stdout).toContain(exportedCounter._id);
    expect(rows.stdout).not.toMatch(/after-export/);
  }, 240_000);

  it("logs streams function log lines as they happen", async () => {
    const logs = spawn(convexBin, ["logs"], { cwd: project, env: cliEnv(), stdio: ["ignore", "pipe", "pipe"] });
    children.push(logs);
    let output = "";
    logs.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    logs.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const client = new ConvexHttpClient(backend.cloudUrl, { logger: false });
    await eventually(
      async () => {
        await client.query(anyApi.runtime.logs, { text: "streamed-line" });
        return /\[CONVEX Q\(runtime:logs\)\] \[LOG\] 'streamed-line'/.test(output) ? true : undefined;
      },
      60_000,
      "the log line in `convex logs`",
    );
    expect(output).toMatch(/\[CONVEX Q\(runtime:logs\)\] \[ERROR\] 'bad'/);
    logs.kill("SIGKILL");
  }, 120_000);
});

function backendDataDir(): string {
  const match = /data in (\S+)\)/.exec(backend.output());
  if (match === null || !existsSync(match[1])) throw new Error("backend data folder not found in its output");
  mkdirSync(match[1], { recursive: true });
  return match[1];
}
