/**
 * Components, as Convex runs them: `convex/convex.config.ts` default-exports `defineApp()`,
 * `app.use(definition, { name })` installs a component (a `defineComponent(...)` folder with
 * its own function modules and schema, usually from an npm package), and components may use
 * components of their own (`rateLimiter/batchWorker`).
 *
 * Each installed component is an instance with a path ("" is the app itself). An instance has
 * its own modules (bundled separately, so module state is its own), its own tables and its own
 * `_scheduled_functions`, and sees only the env its parent passed to it. The engine stores an
 * instance's tables under physical names `<componentPath>/<table>`; functions only ever see
 * their own names, and ids of another instance's tables are not ids of theirs.
 *
 * Function addresses carry the component as Convex does: `_reference/childComponent/<name>/...`
 * references (relative to the calling component) and handles `function://<componentPath>;<udfPath>`.
 * The engine passes a target around as one string: `module:fn` for the app, the handle form
 * for a component.
 */
import * as esbuild from "esbuild";
import { existsSync, mkdirSync } from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { loadApp, type LoadedApp } from "./loader.js";

export const ROOT = "";
const SCHEDULED = "_scheduled_functions";
/** System tables every instance shares (none: each has its own files and scheduled functions). */
const SHARED_SYSTEM_TABLES = new Set<string>();
const CONFIG_FILES = ["convex.config.ts", "convex.config.js", "convex.config.mts", "convex.config.mjs"];
const DEFINITION_NAMESPACE = "component-definition";

/** One installed component (or the app, at path ""). */
export interface ComponentInstance {
  path: string;
  name: string;
  /** Folder holding the component's convex.config, modules and schema. */
  directory: string;
  /** How the app imports the definition, e.g. "@convex-dev/rate-limiter" (for codegen). */
  importSpecifier: string | null;
  /** The definition's own name (`defineComponent("workpool")`), whatever it is installed as. */
  definitionName: string;
  env: Record<string, string>;
  children: string[];
}

export interface ComponentBuild extends ComponentInstance {
  app: LoadedApp;
}

export type AppBuild = LoadedApp & { components: Map<string, ComponentBuild> };

// ---- addresses ---------------------------------------------------------------------------

export interface Target {
  componentPath: string;
  udfPath: string;
}

export function handleFor(target: Target): string {
  return `function://${target.componentPath};${target.udfPath}`;
}

/** The engine's one-string form of a target: plain for the app, a handle for a component. */
export function targetString(target: Target): string {
  return target.componentPath === ROOT ? target.udfPath : handleFor(target);
}

export function parseTarget(text: string): Target {
  if (!text.startsWith("function://")) return { componentPath: ROOT, udfPath: text };
  const rest = text.slice("function://".length);
  const semicolon = rest.indexOf(";");
  if (semicolon < 0) throw new Error(`Invalid function handle ${JSON.stringify(text)}`);
  return { componentPath: rest.slice(0, semicolon), udfPath: rest.slice(semicolon + 1) };
}

/** `_reference/childComponent/<name>/<module parts>/<fn>`, seen from `current`. */
export function targetFromReference(reference: string, current: string): Target {
  const parts = reference.split("/");
  if (parts[0] !== "_reference" || parts[1] !== "childComponent" || parts.length < 4) {
    throw new Error(`Unsupported function reference ${JSON.stringify(reference)}`);
  }
  const child = parts[2];
  const functionName = parts[parts.length - 1];
  const modulePath = parts.slice(3, -1).join("/");
  return {
    componentPath: current === ROOT ? child : `${current}/${child}`,
    udfPath: `${modulePath}:${functionName}`,
  };
}

// ---- tables ------------------------------------------------------------------------------

/** Maps a component's table names to the engine's physical names and back. */
export class Namespace {
  constructor(readonly componentPath: string) {}

  physical(table: string): string {
    if (this.componentPath === ROOT || SHARED_SYSTEM_TABLES.has(table)) return table;
    return `${this.componentPath}/${table}`;
  }

  /** The name this component knows a physical table by, or null if not one of its tables. */
  logical(physical: string): string | null {
    if (SHARED_SYSTEM_TABLES.has(physical)) return physical;
    const slash = physical.lastIndexOf("/");
    const owner = slash < 0 ? ROOT : physical.slice(0, slash);
    return owner === this.componentPath ? physical.slice(slash + 1) : null;
  }

  /** Rewrites a serialized query (`1.0/queryStream`, `1.0/queryPage`) to physical names. */
  query<Q>(query: Q): Q {
    if (this.componentPath === ROOT) return query;
    const json = query as { source?: Record<string, unknown> };
    const source = { ...json.source };
    if (typeof source.tableName === "string") source.tableName = this.physical(source.tableName);
    if (typeof source.indexName === "string") {
      const dot = source.indexName.indexOf(".");
      source.indexName = dot < 0 ? source.indexName : `${this.physical(source.indexName.slice(0, dot))}${source.indexName.slice(dot)}`;
    }
    return { ...json, source } as Q;
  }
}

/** The table name without its component prefix. */
export function baseTableName(physical: string): string {
  return physical.slice(physical.lastIndexOf("/") + 1);
}

export function scheduledFunctionsTable(componentPath: string): string {
  return new Namespace(componentPath).physical(SCHEDULED);
}

export function isScheduledFunctionsTable(physical: string): boolean {
  return baseTableName(physical) === SCHEDULED;
}

export function componentOfTable(physical: string): string {
  if (SHARED_SYSTEM_TABLES.has(physical)) return ROOT;
  const slash = physical.lastIndexOf("/");
  return slash < 0 ? ROOT : physical.slice(0, slash);
}

// ---- loading -------------------------------------------------------------------------------

export function configFile(directory: string): string | null {
  for (const name of CONFIG_FILES) {
    const file = path.join(directory, name);
    if (existsSync(file)) return file;
  }
  return null;
}

interface DefinitionObject {
  _isRoot?: boolean;
  _name?: string;
  _childComponents: [string, DefinitionObject, Record<string, unknown>, string | undefined][];
  componentDefinitionPath?: string;
  importSpecifier?: string;
}

/**
 * Evaluates convex.config.ts as the CLI does: the bundler marks every imported component
 * definition with the folder it came from (`componentDefinitionPath`), then the app's
 * `_childComponents` tree says what is installed under which name and env.
 */
export async function readComponentTree(convexDir: string, buildDir: string): Promise<ComponentInstance[]> {
  const config = configFile(convexDir);
  if (config === null) return [];
  mkdirSync(buildDir, { recursive: true });
  const outfile = path.join(buildDir, `convex.config.${Date.now()}.${Math.random().toString(36).slice(2)}.mjs`);
  await esbuild.build({
    entryPoints: [config],
    outfile,
    bundle: true,
    format: "esm",
    platform: "node",
    target: "node20",
    logLevel: "silent",
    absWorkingDir: convexDir,
    conditions: ["convex", "module"],
    plugins: [definitionMarker()],
  });
  const app = ((await import(pathToFileURL(outfile).href)) as { default?: DefinitionObject }).default;
  if (!app || app._isRoot !== true || !Array.isArray(app._childComponents)) {
    throw new Error(`${path.basename(config)} must default-export defineApp()`);
  }
  const instances: ComponentInstance[] = [];
  const rootEnv: Record<string, string> = {};
  collect(app, ROOT, rootEnv, instances);
  return instances;
}

function collect(definition: DefinitionObject, parentPath: string, parentEnv: Record<string, string>, out: ComponentInstance[]): string[] {
  const names = new Set<string>();
  const children: string[] = [];
  for (const [name, child, envValues] of definition._childComponents) {
    if (!/^[A-Za-z][A-Za-z0-9_]*$/.test(name)) {
      throw new Error(`Component name ${JSON.stringify(name)} must start with a letter and hold only letters, digits and underscores`);
    }
    if (names.has(name)) throw new Error(`Component name ${JSON.stringify(name)} is used twice`);
    names.add(name);
    if (typeof child.componentDefinitionPath !== "string") {
      throw new Error(`Component ${name} is not a component definition (import its convex.config)`);
    }
    const componentPath = parentPath === ROOT ? name : `${parentPath}/${name}`;
    const env: Record<string, string> = {};
    for (const [key, value] of Object.entries(envValues ?? {})) {
      if (typeof value === "string") env[key] = value;
      else if (value && typeof value === "object" && typeof (value as { __envVarRef?: unknown }).__envVarRef === "string") {
        const fromParent = parentEnv[(value as { __envVarRef: string }).__envVarRef];
        if (fromParent !== undefined) env[key] = fromParent;
      }
    }
    const instance: ComponentInstance = {
      path: componentPath,
      name,
      directory: child.componentDefinitionPath,
      importSpecifier: child.importSpecifier ?? null,
      definitionName: child._name ?? name,
      env,
      children: [],
    };
    out.push(instance);
    instance.children = collect(child, componentPath, env, out);
    children.push(componentPath);
  }
  return children;
}

/** esbuild plugin: an imported `convex.config` learns the folder it lives in. */
function definitionMarker(): esbuild.Plugin {
  return {
    name: "component-definitions",
    setup(build) {
      build.onResolve({ filter: /convex\.config/ }, async (args) => {
        if (args.kind === "entry-point" || args.namespace === DEFINITION_NAMESPACE || args.pluginData?.real) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, pluginData: { real: true } });
        if (resolved.errors.length > 0 || !resolved.path) return undefined;
        const directory = path.dirname(resolved.path);
        if (configFile(directory) === null) return undefined;
        const specifier = args.path.startsWith(".") || path.isAbsolute(args.path) ? null : args.path.replace(/\/convex\.config(\.[a-z]+)?$/, "");
        return { path: resolved.path, namespace: DEFINITION_NAMESPACE, pluginData: { directory, specifier } };
      });
      build.onLoad({ filter: /.*/, namespace: DEFINITION_NAMESPACE }, (args) => {
        const { directory, specifier } = args.pluginData as { directory: string; specifier: string | null };
        return {
          contents: [
            `import definition from ${JSON.stringify(args.path)};`,
            `definition.componentDefinitionPath = ${JSON.stringify(directory)};`,
            `definition.defaultName = definition._name;`,
            `definition.importSpecifier = ${JSON.stringify(specifier)} ?? undefined;`,
            `export default definition;`,
          ].join("\n"),
          resolveDir: directory,
          loader: "js",
        };
      });
    },
  };
}

/** Builds the app and every installed component instance (each bundled on its own). */
export async function loadAppWithComponents(
  convexDir: string,
  buildRoot: string,
  env: Record<string, string | undefined>,
): Promise<AppBuild> {
  const app = await loadApp(convexDir, buildRoot, env);
  const instances = await readComponentTree(convexDir, path.join(buildRoot, "components"));
  const components = new Map<string, ComponentBuild>();
  // One at a time: module top-level code reads the env of the instance being imported.
  for (const instance of instances) {
    const dir = path.join(buildRoot, "components", instance.path.replace(/\//g, "__"));
    components.set(instance.path, { ...instance, app: await loadApp(instance.directory, dir, instance.env) });
  }
  return Object.assign(app, { components });
}

export function componentsOf(app: LoadedApp): Map<string, ComponentBuild> {
  return (app as Partial<AppBuild>).components ?? new Map();
}
