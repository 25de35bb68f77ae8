/**
 * Bundles a convex/ folder with esbuild (one ESM entry per function module, shared chunks)
 * into dataDir/.build/<content hash>/ and imports the result. A build is reused as long as
 * the folder's files, the lockfile and the bundler are unchanged, so a restart skips esbuild.
 *
 * Convex's rules for runtimes are applied as the CLI and backend apply them: a module without
 * `"use node"` may not reach Node built-ins, and a `"use node"` module may export actions only.
 */
import * as esbuild from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { injectSource, runtime } from "./runtime.js";

const ENTRY_EXTENSIONS = [".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx"];
/** Bumped when the build's shape changes, so older cached builds are not reused. */
const BUILD_FORMAT = "4";
const MANIFEST = "manifest.json";
const USE_NODE_LINE = /^\s*("|')use node("|');?\s*$/m;

interface BuildManifest {
  inputs: string[];
  nodeModules: string[];
}

export interface LoadedApp {
  /** Function modules by path without extension ("dir/module"). */
  modules: Map<string, Record<string, unknown>>;
  /** The file URL of each function module's bundle (worker threads import it themselves). */
  moduleUrls: Map<string, string>;
  /** Modules with `"use node"` (they run in Node.js and hold actions only). */
  nodeModules: Set<string>;
  /** Whether esbuild ran (false: the build was found in the cache). */
  bundled: boolean;
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
 * Builds (or finds in the cache) and imports the app. `buildRoot` is dataDir/.build; a
 * build's folder is named by the hash of its sources.
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
  const functionFiles = functionEntryPoints(convexDir);
  const schemaFile = optionalEntry(convexDir, ["schema.ts", "schema.js"]);
  const authFile = optionalEntry(convexDir, ["auth.config.ts", "auth.config.js"]);
  const outdir = path.join(buildRoot, sourceHash(convexDir));
  let manifest = readManifest(outdir);
  const bundled = manifest === null;
  if (manifest === null) manifest = await bundle(convexDir, outdir, functionFiles, schemaFile, authFile);
  else touch(outdir);

  const nodeModules = new Set(manifest.nodeModules);
  const entryUrl = (name: string, runtimeDir: string) => pathToFileURL(path.join(outdir, runtimeDir, `${name}.mjs`)).href;
  const importEntry = async (name: string, runtimeDir = ISOLATE_DIR) => (await import(entryUrl(name, runtimeDir))) as Record<string, unknown>;
  const moduleUrls = new Map<string, string>();

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
      const runtimeDir = nodeModules.has(modulePath) ? NODE_DIR : ISOLATE_DIR;
      moduleUrls.set(modulePath, entryUrl(`functions/${modulePath}`, runtimeDir));
      modules.set(modulePath, await importEntry(`functions/${modulePath}`, runtimeDir));
    }
  } finally {
    rt.loadingEnv = previousEnv;
  }
  for (const modulePath of nodeModules) checkNodeModuleExports(modulePath, modules.get(modulePath) ?? {});
  const http = modules.get("http")?.default ?? null;
  const crons = modules.get("crons")?.default ?? null;
  const builders = (await importEntry("special/builders")) as unknown as LoadedApp["builders"];
  pruneOldBuilds(buildRoot, outdir);
  return { modules, moduleUrls, nodeModules, bundled, schema, http, crons, authConfig, inputs: manifest.inputs, builders };
}

async function bundle(
  convexDir: string,
  outdir: string,
  functionFiles: string[],
  schemaFile: string | null,
  authFile: string | null,
): Promise<BuildManifest> {
  const staging = `${outdir}.tmp-${process.pid}-${Date.now()}`;
  mkdirSync(staging, { recursive: true });
  try {
    const injectFile = path.join(staging, "_runtime_inject.mjs");
    writeFileSync(injectFile, injectSource());
    const nodeFiles = functionFiles.filter((file) => USE_NODE_LINE.test(readFileSync(file, "utf8")));
    const nodeModules = nodeFiles.map((file) => modulePathOf(convexDir, file));
    for (const file of [schemaFile, authFile]) {
      if (file && USE_NODE_LINE.test(readFileSync(file, "utf8"))) {
        throw new Error(`"use node" directive is not allowed for ${path.relative(convexDir, file)}.`);
      }
    }
    for (const modulePath of nodeModules) {
      if (MUST_BE_ISOLATE.includes(modulePath)) throw new Error(`"use node" directive is not allowed for ${modulePath}.js.`);
    }
    // Convex's default runtime: browser resolution, so a Node built-in does not resolve.
    const isolateEntries: Record<string, string> = {};
    for (const file of functionFiles) {
      if (!nodeFiles.includes(file)) isolateEntries[`functions/${modulePathOf(convexDir, file)}`] = file;
    }
    if (schemaFile) isolateEntries["special/schema"] = schemaFile;
    if (authFile) isolateEntries["special/auth.config"] = authFile;
    isolateEntries["special/builders"] = BUILDERS_MODULE;
    const inputs = new Set<string>();
    const isolate = await runEsbuild(convexDir, path.join(staging, ISOLATE_DIR), isolateEntries, injectFile, "browser");
    for (const input of Object.keys(isolate.metafile.inputs)) inputs.add(input);
    if (nodeFiles.length > 0) {
      const nodeEntries: Record<string, string> = {};
      for (const file of nodeFiles) nodeEntries[`functions/${modulePathOf(convexDir, file)}`] = file;
      const node = await runEsbuild(convexDir, path.join(staging, NODE_DIR), nodeEntries, injectFile, "node");
      for (const input of Object.keys(node.metafile.inputs)) inputs.add(input);
    }
    const manifest: BuildManifest = {
      inputs: [...inputs].filter((input) => !input.includes(BUILDERS_MODULE) && !input.includes(":")).map((input) => path.resolve(convexDir, input)),
      nodeModules,
    };
    writeFileSync(path.join(staging, MANIFEST), JSON.stringify(manifest));
    try {
      renameSync(staging, outdir);
    } catch {
      // Another process finished the same build first; theirs is identical.
      rmSync(staging, { recursive: true, force: true });
    }
    return manifest;
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

const ISOLATE_DIR = "isolate";
const NODE_DIR = "node";

/** The modules that must run in Convex's default runtime (what the CLI calls "isolate"). */
const MUST_BE_ISOLATE = ["http", "crons", "schema", "auth.config"];

const USE_NODE_ADVICE =
  'It looks like you are using Node APIs from a file without the "use node" directive.\n' +
  'Split out actions using Node.js APIs like this into a new file only containing actions that uses "use node" so these actions will run in a Node.js environment.\n' +
  "For more information see https://docs.convex.dev/functions/runtimes#nodejs-runtime";

async function runEsbuild(
  convexDir: string,
  outdir: string,
  entryPoints: Record<string, string>,
  injectFile: string,
  platform: "browser" | "node",
): Promise<esbuild.BuildResult & { metafile: esbuild.Metafile }> {
  try {
    return await esbuild.build({
      entryPoints,
      outdir,
      bundle: true,
      splitting: true,
      format: "esm",
      platform,
      target: "esnext",
      jsx: "automatic",
      // The CLI's conditions (bundler/debugBundle.js).
      conditions: platform === "browser" ? ["convex", "module"] : ["convex", "module", "node"],
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
        {
          // As the CLI: the default runtime has AsyncLocalStorage as a global, not node:async_hooks.
          name: "async-hooks-shim",
          setup(build) {
            if (platform !== "browser") return;
            build.onResolve({ filter: /^(node:)?async_hooks$/ }, (args) => ({ path: args.path, namespace: "async-hooks-shim" }));
            build.onLoad({ filter: /.*/, namespace: "async-hooks-shim" }, () => ({
              contents:
                "export const AsyncLocalStorage = globalThis.AsyncLocalStorage; export const AsyncResource = globalThis.AsyncResource; " +
                "export default { AsyncLocalStorage, AsyncResource };",
              loader: "js",
            }));
          },
        },
      ],
      // Linked, not inline: a 7 MB bundle of inline maps doubles the time to import it.
      sourcemap: "linked",
      metafile: true,
      logLevel: "silent",
      absWorkingDir: convexDir,
      banner: {
        // Bundled CommonJS packages may call require(); give them one.
        js: `import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);`,
      },
    });
  } catch (error) {
    const failure = error as { errors?: esbuild.Message[] };
    if (!failure.errors) throw error;
    const text = failure.errors
      .map((message) => {
        const where = message.location ? ` (${message.location.file}:${message.location.line})` : "";
        const notes = message.notes.map((note) => `\n  ${note.text}`).join("");
        return `✘ [ERROR] ${message.text}${where}${notes}`;
      })
      .join("\n");
    const nodeApi = platform === "browser" && failure.errors.some((m) => m.notes.some((n) => n.text.includes("Are you trying to bundle for node?")));
    throw new Error(nodeApi ? `${text}\n\n${USE_NODE_ADVICE}` : text);
  }
}

/** Convex's node executor: `"use node"` modules may define actions only (node_executor/src/executor.rs). */
function checkNodeModuleExports(modulePath: string, exports: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(exports)) {
    const fn = value as { isQuery?: boolean; isMutation?: boolean } | null;
    const kind = fn?.isQuery ? "Query" : fn?.isMutation ? "Mutation" : null;
    if (kind === null) continue;
    throw new Error(
      `\`${name}\` defined in \`${modulePath}.js\` is a ${kind} function. Only actions can be defined in Node.js. ` +
        "See https://docs.convex.dev/functions/actions for more details.",
    );
  }
}

/** A hash of everything a build depends on: the folder's files, the lockfile, the bundler. */
export function sourceHash(convexDir: string): string {
  const hash = createHash("sha256");
  hash.update(`format ${BUILD_FORMAT}\nesbuild ${esbuild.version}\n${injectSource()}\n`);
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) {
        hash.update(`${path.relative(convexDir, full)}\0`);
        hash.update(readFileSync(full));
        hash.update("\0");
      }
    }
  };
  walk(convexDir);
  const lockfile = nearestFile(convexDir, "package-lock.json");
  if (lockfile) hash.update(readFileSync(lockfile));
  return hash.digest("hex").slice(0, 24);
}

function nearestFile(from: string, name: string): string | null {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, name);
    if (existsSync(candidate)) return candidate;
    if (path.dirname(dir) === dir) return null;
  }
}

function readManifest(outdir: string): BuildManifest | null {
  try {
    return JSON.parse(readFileSync(path.join(outdir, MANIFEST), "utf8")) as BuildManifest;
  } catch {
    return null;
  }
}

function touch(dir: string): void {
  const now = new Date();
  try {
    utimesSync(dir, now, now);
  } catch {
    // Only used to order builds for pruning.
  }
}

/** Keeps the three most recently used builds (a running one may still be referenced). */
function pruneOldBuilds(buildRoot: string, current: string): void {
  const builds = readdirSync(buildRoot, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && !entry.name.includes(".tmp-"))
    .map((entry) => path.join(buildRoot, entry.name))
    .filter((dir) => dir !== current)
    .map((dir) => ({ dir, mtime: statSync(dir).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { dir } of builds.slice(2)) rmSync(dir, { recursive: true, force: true });
}
