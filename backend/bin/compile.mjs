// Compiles backend/src (TypeScript) to JavaScript once per content, so the backend runs on
// plain Node instead of paying tsx's loader at every start. The output mirrors backend/src
// file for file (imports already name `.js` files; `new URL("./x.js", import.meta.url)` keeps
// working) in node_modules/.cache/convex-local-backend/backend/<hash of the sources>/, and the
// packages it imports are bundled into _packages/ there (loading jose, ws, zod and convex file
// by file cost more than the rest of the start).
//
// Plain JavaScript with no dependency loaded up front: esbuild is imported only on a miss.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

/** Bumped when the compiled layout changes. */
const FORMAT = "2";
/** Compiled versions kept besides the current one (a running backend may use an older one). */
const KEPT = 3;

const backendDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const sourceDir = path.join(backendDir, "src");
const repoRoot = path.dirname(backendDir);

/**
 * CONVEX_LOCAL_BACKEND_COMPILED_CACHE overrides where (the cold-start benchmark starts empty); it
 * must lie under the repository's node_modules, where the compiled files find their packages.
 */
export function compiledBackendCache() {
  if (process.env.CONVEX_LOCAL_BACKEND_COMPILED_CACHE) return path.resolve(process.env.CONVEX_LOCAL_BACKEND_COMPILED_CACHE);
  return path.join(repoRoot, "node_modules", ".cache", "convex-local-backend", "backend");
}

function sourceFiles(dir = sourceDir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    // The test harness runs under vitest from the sources; the command line never loads it.
    if (entry.isDirectory() && full === path.join(sourceDir, "testing")) continue;
    if (entry.isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|js|mjs|json)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(full);
  }
  return out.sort();
}

function esbuildVersion() {
  return createRequire(import.meta.url)("esbuild/package.json").version;
}

/** A hash of the sources, the packages (lockfile), the compiler and the layout. */
export function backendSourceHash(files = sourceFiles()) {
  const hash = createHash("sha256").update(`format ${FORMAT}\nesbuild ${esbuildVersion()}\nnode ${process.versions.modules}\n`);
  hash.update(readFileSync(fileURLToPath(import.meta.url))); // how it is compiled
  for (const file of files) {
    hash.update(`${path.relative(sourceDir, file)}\0`);
    hash.update(readFileSync(file));
    hash.update("\0");
  }
  // The bundled packages: their versions are the lockfile's.
  const lockfile = path.join(repoRoot, "package-lock.json");
  if (existsSync(lockfile)) hash.update(readFileSync(lockfile));
  return hash.digest("hex").slice(0, 20);
}

/**
 * The compiled folder for today's sources, compiling them first when the cache has no such
 * version. Returns `{ dir, compiled }` (compiled: whether esbuild ran).
 */
export async function compiledBackend({ cache = compiledBackendCache() } = {}) {
  const files = sourceFiles();
  const dir = path.join(cache, backendSourceHash(files));
  if (existsSync(path.join(dir, "package.json"))) return { dir, compiled: false };
  mkdirSync(cache, { recursive: true });
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  try {
    const esbuild = await import("esbuild");
    const packages = new Set();
    await esbuild.build({
      entryPoints: files.filter((file) => !file.endsWith(".json")),
      outdir: staging,
      outbase: sourceDir,
      bundle: true,
      format: "esm",
      platform: "node",
      target: "node20",
      sourcemap: "linked",
      logLevel: "silent",
      plugins: [sourcesOnly(packages)],
    });
    // The packages, bundled into shared chunks: one parse instead of hundreds of small files.
    if (packages.size > 0) {
      await esbuild.build({
        entryPoints: Object.fromEntries([...packages].map((name) => [vendorName(name), name])),
        outdir: path.join(staging, VENDOR_DIR),
        bundle: true,
        splitting: true,
        format: "esm",
        platform: "node",
        target: "node20",
        external: UNBUNDLED_PACKAGES,
        logLevel: "silent",
        absWorkingDir: repoRoot,
        // Bundled CommonJS packages may call require() (optional native helpers); give them one.
        banner: { js: 'import { createRequire as __createRequire } from "node:module"; const require = __createRequire(import.meta.url);' },
      });
    }
    // node_modules/.cache has no package.json saying "module"; the compiled files need one.
    writeFileSync(path.join(staging, "package.json"), `${JSON.stringify({ type: "module", private: true })}\n`);
    try {
      renameSync(staging, dir);
    } catch {
      rmSync(staging, { recursive: true, force: true }); // another process compiled it first
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  pruneOld(cache, dir);
  return { dir, compiled: true };
}

const VENDOR_DIR = "_packages";
/** Native or loaded-on-demand packages stay in node_modules. */
const UNBUNDLED_PACKAGES = ["better-sqlite3", "esbuild", "bufferutil", "utf-8-validate"];

function vendorName(specifier) {
  return specifier.replace(/[^A-Za-z0-9_-]/g, "_");
}

/**
 * esbuild plugin: each source file is compiled on its own (relative imports stay imports of
 * the mirrored .js files) and a package import points at its bundle in _packages/.
 */
function sourcesOnly(packages) {
  return {
    name: "sources-only",
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.kind === "entry-point" || args.pluginData?.probing) return undefined;
        if (args.path.startsWith(".") || path.isAbsolute(args.path)) return { path: args.path, external: true };
        if (args.path.startsWith("node:") || UNBUNDLED_PACKAGES.some((name) => args.path === name || args.path.startsWith(`${name}/`))) {
          return { path: args.path, external: true };
        }
        // A CommonJS package keeps Node's own import (its named exports come from Node's lexer).
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { probing: true } });
        if (resolved.errors.length > 0 || !isEsm(resolved.path)) return { path: args.path, external: true };
        packages.add(args.path);
        const fromDir = path.dirname(path.relative(sourceDir, args.importer));
        const target = path.posix.join(path.relative(fromDir, VENDOR_DIR).split(path.sep).join("/") || ".", `${vendorName(args.path)}.js`);
        return { path: target.startsWith(".") ? target : `./${target}`, external: true };
      });
    },
  };
}

function isEsm(file) {
  if (file.endsWith(".mjs")) return true;
  if (file.endsWith(".cjs")) return false;
  for (let dir = path.dirname(file); path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest)) return JSON.parse(readFileSync(manifest, "utf8")).type === "module";
  }
  return false;
}

function pruneOld(cache, current) {
  const versions = readdirSync(cache, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && path.join(cache, entry.name) !== current)
    .map((entry) => path.join(cache, entry.name))
    .map((dir) => ({ dir, mtime: statSync(dir).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const { dir } of versions.slice(KEPT)) rmSync(dir, { recursive: true, force: true });
}
