/**
 * Bundles a convex/ folder with esbuild (each runtime's function modules into one ESM file)
 * into <build cache>/<content hash>/ and imports the result. A build is reused as long as the
 * files it was built from, the lockfile and the bundler are unchanged, so a restart skips
 * esbuild (which is then not even loaded).
 *
 * Convex's rules for runtimes are applied as the CLI and backend apply them: a module without
 * `"use node"` may not reach Node built-ins, and a `"use node"` module may export actions only.
 */
import type * as esbuildTypes from "esbuild";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import os from "node:os";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { injectSource, runtime } from "./runtime.js";

const ENTRY_EXTENSIONS = [".js", ".mjs", ".cjs", ".ts", ".tsx", ".jsx"];
/** Bumped when the build's shape changes, so older cached builds are not reused. */
const BUILD_FORMAT = "5";
const MANIFEST = "manifest.json";
const USE_NODE_LINE = /^\s*("|')use node("|');?\s*$/m;

interface BuildManifest {
  inputs: string[];
  /** Each runtime's modules, in the order of their `m<i>` exports in its app.mjs. */
  isolateModules: string[];
  nodeModules: string[];
}

const APP_FILE = "app.mjs";

export interface LoadedApp {
  /** Function modules by path without extension ("dir/module"). */
  modules: Map<string, Record<string, unknown>>;
  /** The file URL of each function module's bundle (worker threads import it themselves). */
  moduleUrls: Map<string, string>;
  /** Modules with `"use node"` (they run in Node.js and hold actions only). */
  nodeModules: Set<string>;
  /** Whether esbuild ran (false: the build was found in the cache). */
  bundled: boolean;
  /** The build's folder in the cache (named by content hash; other build products may join it). */
  buildDir: string;
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
const APP_MODULE = "convex-local-backend:app";

function isSkipped(relPath: string): boolean {
  const base = path.basename(relPath);
  const ext = path.extname(base).toLowerCase();
  if (!ENTRY_EXTENSIONS.includes(ext)) return true;
  if (relPath.startsWith(`_generated${path.sep}`) || relPath.startsWith("_generated/")) return true;
  // The CLI's shared chunks (`_deps/node/…`): dependencies of function modules, never
  // function modules themselves (Convex's ModulePath::is_deps).
  if (relPath.startsWith(`_deps${path.sep}`) || relPath.startsWith("_deps/")) return true;
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
 * The default build cache: next to the app's packages (node_modules/.cache), shared by the
 * CLI, the test harness and the benchmarks, so a build made by one is reused by the others.
 */
export function defaultBuildCache(convexDir: string): string {
  const lockfile = nearestFile(convexDir, "package-lock.json") ?? nearestFile(convexDir, "package.json");
  const root = lockfile ? path.dirname(lockfile) : null;
  if (root && existsSync(path.join(root, "node_modules"))) return path.join(root, "node_modules", ".cache", "convex-local-backend", "builds");
  return path.join(os.tmpdir(), "convex-local-backend-builds");
}

export interface LoadOptions {
  /**
   * Which instance of the code this is (a component path, ""). With the env it names the
   * module instances: loading the same build for another instance or env evaluates it afresh.
   */
  instance?: string;
}

/**
 * Builds (or finds in the cache) and imports the app. `buildCache` holds builds named by the
 * hash of everything they were built from: the folder's files, the files outside it that the
 * functions import (../domain/...), the lockfile and the bundler. A warm start does not load
 * esbuild at all.
 */
export async function loadApp(
  convexDir: string,
  buildCache: string,
  env: Record<string, string | undefined>,
  options: LoadOptions = {},
): Promise<LoadedApp> {
  if (!existsSync(convexDir) || !statSync(convexDir).isDirectory()) {
    throw new Error(`Convex functions folder not found: ${convexDir}`);
  }
  mkdirSync(buildCache, { recursive: true });
  const functionFiles = functionEntryPoints(convexDir);
  const schemaFile = optionalEntry(convexDir, ["schema.ts", "schema.js"]);
  const authFile = optionalEntry(convexDir, ["auth.config.ts", "auth.config.js"]);
  const folderKey = sourceHash(convexDir);
  let outdir = path.join(buildCache, buildKey(folderKey, readExternalInputs(buildCache, folderKey)));
  let manifest = readManifest(outdir);
  const bundled = manifest === null;
  if (manifest === null) {
    const built = await bundle(convexDir, buildCache, folderKey, functionFiles, schemaFile, authFile);
    ({ outdir, manifest } = built);
  } else touch(outdir);

  // The query names the module instance: another instance or env gets its own module state.
  const instanceKey = createHash("sha256").update(`${options.instance ?? ""}\n${JSON.stringify(env)}`).digest("hex").slice(0, 16);
  const fileUrl = (file: string) => `${pathToFileURL(path.join(outdir, file)).href}?instance=${instanceKey}`;
  const importFile = async (file: string) => (await import(fileUrl(file))) as Record<string, Record<string, unknown>>;
  const moduleUrls = new Map<string, string>();

  const modules = new Map<string, Record<string, unknown>>();
  let app: Record<string, Record<string, unknown>>;
  // Top-level code (auth.config.ts especially) reads the deployment env while it loads.
  const rt = runtime();
  const previousEnv = rt.loadingEnv;
  rt.loadingEnv = env;
  try {
    // Each runtime's modules are one file: one parse, no module graph to walk.
    app = await importFile(`${ISOLATE_DIR}/${APP_FILE}`);
    manifest.isolateModules.forEach((modulePath, i) => modules.set(modulePath, app[`m${i}`] ?? {}));
    manifest.isolateModules.forEach((modulePath, i) => moduleUrls.set(modulePath, moduleShimUrl(fileUrl(`${ISOLATE_DIR}/${APP_FILE}`), `m${i}`, modules.get(modulePath)!)));
    if (manifest.nodeModules.length > 0) {
      const node = await importFile(`${NODE_DIR}/${APP_FILE}`);
      manifest.nodeModules.forEach((modulePath, i) => modules.set(modulePath, node[`m${i}`] ?? {}));
      manifest.nodeModules.forEach((modulePath, i) => moduleUrls.set(modulePath, moduleShimUrl(fileUrl(`${NODE_DIR}/${APP_FILE}`), `m${i}`, modules.get(modulePath)!)));
    }
  } finally {
    rt.loadingEnv = previousEnv;
  }
  const nodeModules = new Set(manifest.nodeModules);
  for (const modulePath of nodeModules) checkNodeModuleExports(modulePath, modules.get(modulePath) ?? {});
  const schema = schemaFile ? (app.schema?.default ?? null) : null;
  const authConfig = authFile ? (app.authConfig?.default ?? null) : null;
  const http = modules.get("http")?.default ?? null;
  const crons = modules.get("crons")?.default ?? null;
  const builders = app.builders as unknown as LoadedApp["builders"];
  pruneOldBuilds(buildCache, outdir);
  return { modules, moduleUrls, nodeModules, bundled, buildDir: outdir, schema, http, crons, authConfig, inputs: manifest.inputs, builders };
}

/**
 * A module of its own for one function module of a runtime's single file (worker threads
 * import function modules by URL): re-exports namespace `name` of `appUrl`.
 */
function moduleShimUrl(appUrl: string, name: string, exports: Record<string, unknown>): string {
  const lines = [`import { ${name} as m } from ${JSON.stringify(appUrl)};`];
  Object.keys(exports).forEach((exported, i) => lines.push(`const e${i} = m[${JSON.stringify(exported)}];`, `export { e${i} as ${JSON.stringify(exported)} };`));
  return `data:text/javascript,${encodeURIComponent(lines.join("\n"))}`;
}

/** The re-exports of one runtime's single entry: `m<i>` is the i-th module. */
function appEntrySource(files: string[], specials: { authFile?: string | null; schemaFile?: string | null; builders?: boolean }): string {
  return [
    ...(specials.authFile ? [`export * as authConfig from ${JSON.stringify(specials.authFile)};`] : []),
    ...(specials.schemaFile ? [`export * as schema from ${JSON.stringify(specials.schemaFile)};`] : []),
    ...files.map((file, i) => `export * as m${i} from ${JSON.stringify(file)};`),
    ...(specials.builders ? [`export * as builders from ${JSON.stringify(BUILDERS_MODULE)};`] : []),
  ].join("\n");
}

async function bundle(
  convexDir: string,
  buildCache: string,
  folderKey: string,
  functionFiles: string[],
  schemaFile: string | null,
  authFile: string | null,
): Promise<{ outdir: string; manifest: BuildManifest }> {
  const staging = path.join(buildCache, `${folderKey}.tmp-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`);
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
    const isolateFiles = functionFiles.filter((file) => !nodeFiles.includes(file));
    const inputs = new Set<string>();
    const isolateSource = appEntrySource(isolateFiles, { authFile, schemaFile, builders: true });
    const isolate = await runEsbuild(convexDir, path.join(staging, ISOLATE_DIR), isolateSource, injectFile, "browser");
    for (const input of Object.keys(isolate.metafile.inputs)) inputs.add(input);
    if (nodeFiles.length > 0) {
      const node = await runEsbuild(convexDir, path.join(staging, NODE_DIR), appEntrySource(nodeFiles, {}), injectFile, "node");
      for (const input of Object.keys(node.metafile.inputs)) inputs.add(input);
    }
    rmSync(injectFile);
    const manifest: BuildManifest = {
      inputs: [...inputs]
        .filter((input) => !input.includes(":"))
        .map((input) => path.resolve(convexDir, input))
        .filter((input) => input !== injectFile),
      nodeModules,
      isolateModules: isolateFiles.map((file) => modulePathOf(convexDir, file)),
    };
    writeFileSync(path.join(staging, MANIFEST), JSON.stringify(manifest));
    // Files outside the folder (and outside packages, which the lockfile covers) join the key.
    const externals = manifest.inputs.filter((input) => isExternalInput(convexDir, input)).sort();
    const outdir = path.join(buildCache, buildKey(folderKey, externals));
    try {
      renameSync(staging, outdir);
    } catch {
      // Another process finished the same build first; theirs is identical.
      rmSync(staging, { recursive: true, force: true });
    }
    writeAtomically(externalInputsFile(buildCache, folderKey), JSON.stringify(externals));
    return { outdir, manifest };
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
}

function isExternalInput(convexDir: string, input: string): boolean {
  const relative = path.relative(convexDir, input);
  const inside = !relative.startsWith("..") && !path.isAbsolute(relative);
  return !inside && !input.split(path.sep).includes("node_modules");
}

function externalInputsFile(buildCache: string, folderKey: string): string {
  return path.join(buildCache, `${folderKey}.inputs.json`);
}

/** The files outside the folder that its last build read (an empty list before any build). */
function readExternalInputs(buildCache: string, folderKey: string): string[] {
  try {
    return JSON.parse(readFileSync(externalInputsFile(buildCache, folderKey), "utf8")) as string[];
  } catch {
    return [];
  }
}

/** The folder's key combined with the contents of the files outside it that it imports. */
function buildKey(folderKey: string, externals: string[]): string {
  if (externals.length === 0) return folderKey;
  const hash = createHash("sha256").update(folderKey);
  for (const file of externals) {
    hash.update(`\n${file}\0`);
    try {
      hash.update(readFileSync(file));
    } catch {
      hash.update("<missing>");
    }
  }
  return hash.digest("hex").slice(0, 24);
}

function writeAtomically(file: string, text: string): void {
  const temporary = `${file}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(temporary, text);
  renameSync(temporary, file);
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
  /** Source of the runtime's one entry (see appEntrySource). */
  appSource: string,
  injectFile: string,
  platform: "browser" | "node",
): Promise<esbuildTypes.BuildResult & { metafile: esbuildTypes.Metafile }> {
  const esbuild = await import("esbuild");
  try {
    return await esbuild.build({
      entryPoints: { app: APP_MODULE },
      outdir,
      bundle: true,
      format: "esm",
      platform,
      target: "esnext",
      jsx: "automatic",
      // The CLI's conditions (bundler/debugBundle.js).
      conditions: platform === "browser" ? ["convex", "module"] : ["convex", "module", "node"],
      outExtension: { ".js": ".mjs" },
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
          name: "app",
          setup(build) {
            build.onResolve({ filter: /^convex-local-backend:app$/ }, () => ({ path: APP_MODULE, namespace: "app" }));
            build.onLoad({ filter: /.*/, namespace: "app" }, () => ({ contents: appSource, resolveDir: convexDir, loader: "js" }));
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
    const failure = error as { errors?: esbuildTypes.Message[] };
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

/** esbuild's version, read without loading esbuild (a warm start does not need it). */
function esbuildVersion(): string {
  return (createRequire(import.meta.url)("esbuild/package.json") as { version: string }).version;
}

/**
 * A hash of what a build depends on inside its folder: the folder (where it is and its files),
 * the lockfile, the bundler. Files outside the folder are added by `buildKey`.
 */
export function sourceHash(convexDir: string): string {
  const hash = createHash("sha256");
  hash.update(`format ${BUILD_FORMAT}\nesbuild ${esbuildVersion()}\n${path.resolve(convexDir)}\n${injectSource()}\n`);
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

/** How many builds the cache keeps beyond those used recently (several apps share it). */
const KEPT_BUILDS = 40;
/** A build used this recently may still be loading in another process: never pruned. */
const RECENT_MS = 60 * 60 * 1000;

/**
 * Removes the least recently used builds beyond KEPT_BUILDS (a load touches its build), and
 * staging folders that a crashed build left behind.
 */
function pruneOldBuilds(buildCache: string, current: string): void {
  const now = Date.now();
  const entries = readdirSync(buildCache, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.join(buildCache, entry.name))
    .filter((dir) => dir !== current)
    .map((dir) => {
      try {
        return { dir, mtime: statSync(dir).mtimeMs };
      } catch {
        return null; // removed meanwhile by another process
      }
    })
    .filter((entry): entry is { dir: string; mtime: number } => entry !== null)
    .sort((a, b) => b.mtime - a.mtime);
  const staging = entries.filter(({ dir }) => path.basename(dir).includes(".tmp-"));
  const builds = entries.filter(({ dir }) => !path.basename(dir).includes(".tmp-"));
  const stale = [...builds.slice(KEPT_BUILDS), ...staging].filter(({ mtime }) => now - mtime > RECENT_MS);
  for (const { dir } of stale) rmSync(dir, { recursive: true, force: true });
}
