/**
 * Bundles a convex/ folder with esbuild (one ESM entry per function module, shared chunks)
 * into dataDir/.build/<n>/ and imports the result.
 */
import * as esbuild from "esbuild";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { injectSource, runtime } from "./runtime.js";

const ENTRY_EXTENSIONS = [".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx"];

export interface LoadedApp {
  /** Function modules by path without extension ("dir/module"). */
  modules: Map<string, Record<string, unknown>>;
  schema: unknown | null;
  http: unknown | null;
  crons: unknown | null;
  authConfig: unknown | null;
  /** Source files the build read (for watch mode). */
  inputs: string[];
  /**
   * The function builders of the bundled convex copy (bound to the engine's runtime), for
   * functions defined outside convex/ (the test harness's inline handlers).
   */
  builders: { queryGeneric: Builder; mutationGeneric: Builder; actionGeneric: Builder };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any user handler
type Builder = (definition: { handler: (...args: any[]) => unknown }) => unknown;

const BUILDERS_MODULE = "convex-local-backend:builders";

function isSkipped(relPath: string): boolean {
  const base = path.basename(relPath);
  const ext = path.extname(base).toLowerCase();
  if (!ENTRY_EXTENSIONS.includes(ext)) return true;
  if (relPath.startsWith(`_generated${path.sep}`) || relPath.startsWith("_generated/")) return true;
  if (base.startsWith(".") || base.startsWith("#")) return true;
  if (base === "schema.ts" || base === "schema.js") return true;
  if ((base.match(/\./g) ?? []).length > 1) return true; // *.test.ts, *.d.ts, auth.config.ts
  if (relPath.includes(" ")) return true;
  return false;
}

/** The function modules of a convex/ folder, chosen as Convex's own bundler chooses them. */
export function functionEntryPoints(convexDir: string): string[] {
  const out: string[] = [];
  const walk = (dir: string, depth: number) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
        if (depth > 0 && existsSync(path.join(full, "convex.config.ts"))) continue; // nested component
        walk(full, depth + 1);
        continue;
      }
      const rel = path.relative(convexDir, full);
      if (isSkipped(rel)) continue;
      if (/\.tsx?$/.test(entry.name) && !/^\s{0,100}(import|export)/m.test(readFileSync(full, "utf8"))) continue;
      out.push(full);
    }
  };
  walk(convexDir, 0);
  return out.sort();
}

function optionalEntry(convexDir: string, names: string[]): string | null {
  for (const name of names) {
    const file = path.join(convexDir, name);
    if (existsSync(file)) return file;
  }
  return null;
}

export function modulePathOf(convexDir: string, file: string): string {
  return path.relative(convexDir, file).replace(/\\/g, "/").replace(/\.[^./]+$/, "");
}

/**
 * Builds and imports the app. `buildRoot` is dataDir/.build; each build gets a fresh
 * numbered folder so Node's module cache never serves stale code.
 */
export async function loadApp(
  convexDir: string,
  buildRoot: string,
  env: Record<string, string | undefined>,
): Promise<LoadedApp> {
  if (!existsSync(convexDir) || !statSync(convexDir).isDirectory()) {
    throw new Error(`Convex functions folder not found: ${convexDir}`);
  }
  mkdirSync(buildRoot, { recursive: true });
  const buildNumber = nextBuildNumber(buildRoot);
  const outdir = path.join(buildRoot, String(buildNumber));
  mkdirSync(outdir, { recursive: true });
  const injectFile = path.join(outdir, "_runtime_inject.mjs");
  writeFileSync(injectFile, injectSource());

  const functionFiles = functionEntryPoints(convexDir);
  const schemaFile = optionalEntry(convexDir, ["schema.ts", "schema.js"]);
  const authFile = optionalEntry(convexDir, ["auth.config.ts", "auth.config.js"]);
  const entryPoints: Record<string, string> = {};
  for (const file of functionFiles) entryPoints[`functions/${modulePathOf(convexDir, file)}`] = file;
  if (schemaFile) entryPoints["special/schema"] = schemaFile;
  if (authFile) entryPoints["special/auth.config"] = authFile;
  entryPoints["special/builders"] = BUILDERS_MODULE;

  const result = await esbuild.build({
    entryPoints,
    outdir,
    bundle: true,
    splitting: true,
    format: "esm",
    platform: "node",
    target: "node20",
    outExtension: { ".js": ".mjs" },
    chunkNames: "_deps/[hash]",
    inject: [injectFile],
    // Some packages (@convex-dev/migrations) reach the syscalls as `globalThis.Convex`.
    define: { "globalThis.Convex": "Convex" },
    plugins: [
      {
        name: "builders",
        setup(build) {
          build.onResolve({ filter: /^convex-local-backend:builders$/ }, () => ({ path: BUILDERS_MODULE, namespace: "builders" }));
          build.onLoad({ filter: /.*/, namespace: "builders" }, () => ({
            contents: `export { queryGeneric, mutationGeneric, actionGeneric } from "convex/server";`,
            resolveDir: convexDir,
            loader: "js",
          }));
        },
      },
    ],
    sourcemap: "inline",
    metafile: true,
    logLevel: "silent",
    absWorkingDir: convexDir,
    banner: {
      // Bundled CommonJS packages may call require(); give them one.
      js: `import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);`,
    },
  });
  const inputs = Object.keys(result.metafile.inputs).map((input) => path.resolve(convexDir, input));

  const importEntry = async (name: string) =>
    (await import(pathToFileURL(path.join(outdir, `${name}.mjs`)).href)) as Record<string, unknown>;

  const modules = new Map<string, Record<string, unknown>>();
  let schema: unknown = null;
  let authConfig: unknown = null;
  // Top-level code (auth.config.ts especially) reads the deployment env while it loads.
  const rt = runtime();
  const previousEnv = rt.loadingEnv;
  rt.loadingEnv = env;
  try {
    if (authFile) authConfig = (await importEntry("special/auth.config")).default ?? null;
    if (schemaFile) schema = (await importEntry("special/schema")).default ?? null;
    for (const file of functionFiles) {
      const modulePath = modulePathOf(convexDir, file);
      modules.set(modulePath, await importEntry(`functions/${modulePath}`));
    }
  } finally {
    rt.loadingEnv = previousEnv;
  }
  const http = modules.get("http")?.default ?? null;
  const crons = modules.get("crons")?.default ?? null;
  const builders = (await importEntry("special/builders")) as unknown as LoadedApp["builders"];
  pruneOldBuilds(buildRoot, buildNumber);
  return { modules, schema, http, crons, authConfig, inputs: inputs.filter((file) => !file.includes(BUILDERS_MODULE)), builders };
}

function nextBuildNumber(buildRoot: string): number {
  const numbers = readdirSync(buildRoot)
    .map((name) => Number(name))
    .filter((n) => Number.isInteger(n));
  return numbers.length === 0 ? 1 : Math.max(...numbers) + 1;
}

/** Keeps the two newest builds (the running one may still be referenced by in-flight work). */
function pruneOldBuilds(buildRoot: string, current: number): void {
  for (const name of readdirSync(buildRoot)) {
    const n = Number(name);
    if (Number.isInteger(n) && n < current - 1) rmSync(path.join(buildRoot, name), { recursive: true, force: true });
  }
}
