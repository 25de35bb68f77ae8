/**
 * `npx convex dev` / `npx convex deploy` against this backend: the CLI's push protocol
 * (`/api/get_config_hashes`, `/api/deploy2/start_push`, `wait_for_schema`, `finish_push`,
 * `report_push_completed`), as get-convex/convex-backend's local_backend/deploy_config2.rs
 * serves it.
 *
 * start_push writes the CLI's own bundles (and schema) to a folder under the data dir,
 * loads them to analyse every function, diffs the schema's indexes against the stored ones
 * and checks every stored document against the new schema. finish_push makes the engine
 * serve that folder (`reload`): new indexes are backfilled in the same transaction and the
 * functions are live for the next call, without a restart. Until the next push or restart.
 *
 * Apps with components: the CLI sends the app's bundled convex.config.js (`appDefinition.
 * definition`) and, per component definition folder, its bundled convex.config.js, schema and
 * function modules (`componentDefinitions`, keyed by `definitionPath`, the folder relative to
 * the app's convex/). A bundled definition imports each child definition as the external
 * `./_componentDeps/<base64url(definitionPath)>`. The push lays every definition out as a
 * folder of its own (app/, components/<n>/) with those imports pointing at the child's folder,
 * so the engine installs components from it exactly as from a --convex-dir, and answers with
 * the analysis of every definition (functions, schema, child components, exports) that the
 * CLI's codegen writes `components` from.
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { jsonToConvex, type Value } from "convex/values";
import {
  Namespace,
  ROOT,
  baseTableName,
  componentOfTable,
  componentsOf,
  loadAppWithComponents,
  type AppBuild,
  type ComponentBuild,
} from "../engine/components.js";
import type { LocalEngine } from "../engine/engine.js";
import type { LoadedApp } from "../engine/loader.js";
import { checkValue, type ValidatorJson } from "../engine/validate.js";
import { httpRoutes, registeredFunctions } from "./system_functions.js";
import { HttpError } from "./http_util.js";

interface ModuleConfig {
  path: string;
  source: string;
  sourceMap?: string;
  environment: "isolate" | "node";
}

interface ModuleHash {
  path: string;
  environment: "isolate" | "node";
  sha256: string;
}

export interface StartPushRequest {
  adminKey?: string;
  dryRun: boolean;
  functions: string;
  appDefinition: {
    definition: ModuleConfig | null;
    dependencies: string[];
    schema: ModuleConfig | null;
    changedModules: ModuleConfig[];
    unchangedModuleHashes: ModuleHash[];
    udfServerVersion: string;
  };
  componentDefinitions: ComponentDefinitionConfig[];
  nodeDependencies: unknown[];
}

/** One component definition folder as the CLI sends it (cli/lib/components.js). */
interface ComponentDefinitionConfig {
  definitionPath: string;
  definition: ModuleConfig;
  dependencies: string[];
  schema: ModuleConfig | null;
  functions: ModuleConfig[];
}

interface DatabaseIndex {
  name: string;
  type: "database";
  fields: string[];
}

interface IndexDiff {
  added_indexes: DatabaseIndex[];
  removed_indexes: DatabaseIndex[];
}

type SchemaStatus =
  | { type: "complete" }
  | { type: "failed"; error: string; componentPath: string; tableName: string | null };

interface StagedPush {
  id: string;
  /** The push's folder: the app's functions in app/, component definitions in components/. */
  dir: string;
  dryRun: boolean;
  modules: ModuleConfig[];
  schemaStatus: SchemaStatus;
  /** Per component path ("" is the app). */
  indexDiffs: Record<string, IndexDiff>;
  componentPaths: string[];
  cronNames: string[];
}

interface PushedState {
  dir: string;
  modules: ModuleConfig[];
  componentPaths: string[];
  cronNames: string[];
}

interface SchemaJson {
  tables: { tableName: string; indexes: { indexDescriptor: string; fields: string[] }[]; documentType: ValidatorJson }[];
  schemaValidation: boolean;
}

/** How the CLI decides a module is unchanged (its `hash` in cli/lib/components.js). */
export function moduleHash(module: { source: string; sourceMap?: string }): string {
  return createHash("sha256").update(module.source).update(module.sourceMap ?? "").digest("hex");
}

const MAX_STAGED = 4;

export class PushService {
  private readonly staged = new Map<string, StagedPush>();
  private current: PushedState | null = null;
  private pushing: Promise<unknown> = Promise.resolve();

  constructor(private readonly engine: LocalEngine) {
    // Pushed code lives until the next push or restart; folders left by an earlier process go.
    rmSync(this.root, { recursive: true, force: true });
  }

  private get root(): string {
    return path.join(this.engine.options.dataDir, "pushes");
  }

  /** `/api/get_config_hashes`: what the deployment runs, so the CLI sends only changed modules. */
  configHashes(): unknown {
    return {
      config: { functions: "convex/", authInfo: [] },
      moduleHashes: (this.current?.modules ?? []).map((module) => ({
        path: module.path,
        environment: module.environment,
        hash: moduleHash(module),
      })),
      nodeDependencies: [],
    };
  }

  async startPush(request: StartPushRequest): Promise<unknown> {
    const run = this.pushing.then(() => this.stage(request)).catch((error: unknown) => {
      if (error instanceof HttpError) throw error;
      throw new HttpError(400, "PushFailed", `Hit an error while pushing:\n${(error as Error).message}`);
    });
    this.pushing = run.catch(() => undefined);
    return await run;
  }

  private async stage(request: StartPushRequest): Promise<unknown> {
    const app = request.appDefinition;
    if (app === undefined || app === null || !Array.isArray(app.changedModules)) {
      throw new HttpError(400, "InvalidConfig", "start_push needs an appDefinition with changedModules");
    }
    const definitions = checkComponentDefinitions(request.componentDefinitions ?? []);
    const modules = this.resolveModules(app.changedModules, app.unchangedModuleHashes ?? []);
    const id = randomUUID();
    const dir = path.join(this.root, id);
    const appDir = path.join(dir, "app");
    let loaded: AppBuild;
    let folders: Map<string, string>;
    let schemas: Map<string, SchemaJson | null>;
    let indexDiffs: Record<string, IndexDiff>;
    let schemaStatus: SchemaStatus;
    try {
      folders = definitionFolders(dir, definitions);
      writePushFolder(appDir, modules, app.schema);
      if (app.definition !== null && app.definition !== undefined) writeDefinition(appDir, app.definition, folders);
      for (const definition of definitions) {
        const folder = folders.get(definition.definitionPath)!;
        writePushFolder(folder, definition.functions, definition.schema);
        writeDefinition(folder, definition.definition, folders);
      }
      try {
        loaded = await loadAppWithComponents(appDir, path.join(this.root, `${id}.build`), this.engine.options.env);
      } catch (error) {
        throw new HttpError(400, "InvalidModules", `Hit an error while pushing:\n${(error as Error).message}`);
      } finally {
        rmSync(path.join(this.root, `${id}.build`), { recursive: true, force: true });
      }
      schemas = new Map([[ROOT, exportedSchema(loaded.schema)]]);
      for (const [componentPath, component] of componentsOf(loaded)) schemas.set(componentPath, exportedSchema(component.app.schema));
      indexDiffs = {};
      schemaStatus = { type: "complete" };
      for (const [componentPath, schema] of schemas) {
        indexDiffs[componentPath] = await this.indexDiff(componentPath, schema);
        if (schemaStatus.type === "complete") schemaStatus = await this.validateDocuments(componentPath, schema);
      }
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const cronNames = Object.keys(((loaded.crons as { crons?: Record<string, unknown> } | null)?.crons) ?? {});
    const componentPaths = [...componentsOf(loaded).keys()];
    this.staged.set(id, { id, dir, dryRun: request.dryRun, modules, schemaStatus, indexDiffs, componentPaths, cronNames });
    // `npx convex codegen` starts pushes it never finishes: keep only the newest few.
    for (const old of [...this.staged.values()].slice(0, -MAX_STAGED)) {
      this.staged.delete(old.id);
      rmSync(old.dir, { recursive: true, force: true });
    }
    const udfConfig = {
      serverVersion: app.udfServerVersion,
      importPhaseRngSeed: { $bytes: randomBytes(32).toString("base64") },
      importPhaseUnixTimestamp: { $integer: int64Base64(BigInt(Date.now())) },
    };
    const tree = new ComponentTree(loaded, folders);
    const analysis: Record<string, unknown> = {
      "": {
        definition: {
          path: "",
          definitionType: { type: "app" },
          childComponents: tree.instantiations(ROOT),
          httpMounts: {},
          exports: { type: "branch", branch: [] },
          envVars: null,
        },
        schema: schemas.get(ROOT) ?? null,
        functions: analyzeModules(loaded),
        udfConfig,
      },
    };
    for (const [definitionPath, component] of tree.byDefinition()) {
      analysis[definitionPath] = {
        definition: {
          path: definitionPath,
          definitionType: { type: "childComponent", name: component.definitionName, args: [] },
          childComponents: tree.instantiations(component.path),
          httpMounts: {},
          exports: exportTree(component.app),
          envVars: null,
        },
        schema: schemas.get(component.path) ?? null,
        functions: analyzeModules(component.app),
        udfConfig,
      };
    }
    return {
      environmentVariables: {},
      externalDepsId: null,
      componentDefinitionPackages: {},
      appAuth: appAuth(loaded.authConfig),
      analysis,
      app: {
        definitionPath: "",
        componentPath: "",
        args: {},
        childComponents: tree.checked(ROOT),
        httpRoutes: { httpModuleRoutes: loaded.http === null ? null : httpRoutes(loaded.http), mounts: [] },
        exports: {},
      },
      schemaChange: { allocatedComponentIds: null, schemaIds: { "": id }, indexDiffs },
    };
  }

  private resolveModules(changed: ModuleConfig[], unchanged: ModuleHash[]): ModuleConfig[] {
    const previous = new Map((this.current?.modules ?? []).map((module) => [module.path, module]));
    const modules: ModuleConfig[] = [];
    for (const module of changed) {
      if (typeof module?.path !== "string" || typeof module.source !== "string") {
        throw new HttpError(400, "InvalidModules", "Every changed module needs a path and a source");
      }
      checkModulePath(module.path);
      modules.push({ path: module.path, source: module.source, sourceMap: module.sourceMap, environment: module.environment });
    }
    for (const hash of unchanged) {
      const known = previous.get(hash.path);
      if (known === undefined || moduleHash(known) !== hash.sha256 || known.environment !== hash.environment) {
        throw new HttpError(400, "ModuleNotFound", `Module ${hash.path} was sent as unchanged but this deployment does not have it; push again`);
      }
      modules.push(known);
    }
    return modules;
  }

  /** Schema indexes of one component added and removed, as the CLI prints them ("table.index"). */
  private async indexDiff(componentPath: string, schema: SchemaJson | null): Promise<IndexDiff> {
    const wanted = new Map<string, DatabaseIndex>();
    for (const table of schema?.tables ?? []) {
      for (const index of table.indexes) {
        const name = `${table.tableName}.${index.indexDescriptor}`;
        wanted.set(name, { name, type: "database", fields: index.fields });
      }
    }
    const existing = await this.engine.readOutside(() => {
      const found = new Map<string, DatabaseIndex>();
      for (const physical of this.engine.store.tableNames()) {
        const tableName = baseTableName(physical);
        if (tableName.startsWith("_") || componentOfTable(physical) !== componentPath) continue;
        for (const index of this.engine.store.table(physical)?.indexes.values() ?? []) {
          if (index.name === "by_id" || index.name === "by_creation_time") continue;
          const name = `${tableName}.${index.name}`;
          found.set(name, { name, type: "database", fields: index.fields.filter((f) => f !== "_creationTime" && f !== "_id") });
        }
      }
      return found;
    });
    const same = (a: DatabaseIndex, b: DatabaseIndex) => JSON.stringify(a.fields) === JSON.stringify(b.fields);
    return {
      added_indexes: [...wanted.values()].filter((index) => !existing.has(index.name) || !same(existing.get(index.name)!, index)),
      removed_indexes: [...existing.values()].filter((index) => !wanted.has(index.name) || !same(wanted.get(index.name)!, index)),
    };
  }

  /** Checks every stored document of every declared table against the new schema. */
  private async validateDocuments(componentPath: string, schema: SchemaJson | null): Promise<SchemaStatus> {
    if (schema === null || !schema.schemaValidation) return { type: "complete" };
    const namespace = new Namespace(componentPath);
    return await this.engine.readOutside(() => {
      const store = this.engine.store;
      const tableOf = (id: string) => {
        const physical = store.tableOfId(id)?.name;
        return physical === undefined ? null : namespace.logical(physical);
      };
      for (const table of schema.tables) {
        for (const json of store.allDocuments(namespace.physical(table.tableName))) {
          const document = jsonToConvex(JSON.parse(json)) as Record<string, Value>;
          const { _id, _creationTime, ...fields } = document;
          void _creationTime;
          const problem = checkValue(table.documentType, fields as Value, tableOf);
          if (problem !== null) {
            return {
              type: "failed" as const,
              error: `Schema validation failed.\nDocument with ID "${String(_id)}" in table "${table.tableName}" does not match the schema: ${problem}`,
              componentPath,
              tableName: table.tableName,
            };
          }
        }
      }
      return { type: "complete" as const };
    });
  }

  /** `/api/deploy2/wait_for_schema`: validation ran in start_push, so this answers at once. */
  schemaStatus(schemaChange: unknown): SchemaStatus | { type: "raceDetected" } {
    const id = (schemaChange as { schemaIds?: Record<string, unknown> } | null)?.schemaIds?.[""];
    const staged = typeof id === "string" ? this.staged.get(id) : undefined;
    if (staged === undefined) return { type: "raceDetected" };
    return staged.schemaStatus;
  }

  async finishPush(startPush: unknown, dryRun: boolean): Promise<unknown> {
    const id = (startPush as { schemaChange?: { schemaIds?: Record<string, unknown> } } | null)?.schemaChange?.schemaIds?.[""];
    const staged = typeof id === "string" ? this.staged.get(id) : undefined;
    if (staged === undefined) throw new HttpError(400, "PushNotFound", "No push in progress for this finish_push; run the push again");
    this.staged.delete(staged.id);
    const empty = { authDiff: { added: [], removed: [] }, definitionDiffs: {}, componentDiffs: {} };
    if (dryRun || staged.dryRun) {
      rmSync(staged.dir, { recursive: true, force: true });
      return empty;
    }
    if (staged.schemaStatus.type === "failed") {
      rmSync(staged.dir, { recursive: true, force: true });
      throw new HttpError(400, "SchemaValidationFailed", staged.schemaStatus.error);
    }
    const previous = this.current;
    const result = await this.engine.reload(path.join(staged.dir, "app"));
    if (!result.ok) {
      rmSync(staged.dir, { recursive: true, force: true });
      throw new HttpError(400, "InvalidModules", `Hit an error while pushing:\n${result.error}`);
    }
    this.current = { dir: staged.dir, modules: staged.modules, componentPaths: staged.componentPaths, cronNames: staged.cronNames };
    if (previous !== null) rmSync(previous.dir, { recursive: true, force: true });
    const before = new Set((previous?.modules ?? []).map((module) => module.path));
    const after = new Set(staged.modules.map((module) => module.path));
    const beforeCrons = new Set(previous?.cronNames ?? []);
    return {
      ...empty,
      componentDiffs: {
        "": {
          diffType: { type: previous === null ? "create" : "modify" },
          moduleDiff: { added: [...after].filter((p) => !before.has(p)), removed: [...before].filter((p) => !after.has(p)) },
          udfConfigDiff: null,
          cronDiff: {
            added: staged.cronNames.filter((name) => !beforeCrons.has(name)),
            updated: [],
            deleted: [...beforeCrons].filter((name) => !staged.cronNames.includes(name)),
          },
          indexDiff: staged.indexDiffs[ROOT],
          schemaDiff: null,
        },
        ...Object.fromEntries(
          staged.componentPaths.map((componentPath) => [
            componentPath,
            {
              diffType: { type: previous?.componentPaths.includes(componentPath) ? "modify" : "create" },
              moduleDiff: { added: [], removed: [] },
              udfConfigDiff: null,
              cronDiff: { added: [], updated: [], deleted: [] },
              indexDiff: staged.indexDiffs[componentPath],
              schemaDiff: null,
            },
          ]),
        ),
      },
    };
  }

  /** Removes folders of pushes that never finished. */
  close(): void {
    for (const staged of this.staged.values()) rmSync(staged.dir, { recursive: true, force: true });
    this.staged.clear();
  }
}

function checkComponentDefinitions(definitions: unknown): ComponentDefinitionConfig[] {
  if (!Array.isArray(definitions)) throw new HttpError(400, "InvalidConfig", "componentDefinitions must be an array");
  const seen = new Set<string>();
  for (const definition of definitions as Partial<ComponentDefinitionConfig>[]) {
    const where = `Component definition ${JSON.stringify(definition?.definitionPath)}`;
    if (typeof definition?.definitionPath !== "string" || definition.definitionPath === "") {
      throw new HttpError(400, "InvalidConfig", "Every component definition needs a definitionPath");
    }
    if (seen.has(definition.definitionPath)) throw new HttpError(400, "InvalidConfig", `${where} is sent twice`);
    seen.add(definition.definitionPath);
    if (typeof definition.definition?.source !== "string") throw new HttpError(400, "InvalidConfig", `${where} has no convex.config bundle`);
    if (!Array.isArray(definition.functions)) throw new HttpError(400, "InvalidConfig", `${where} has no functions`);
    for (const module of definition.functions) {
      if (typeof module?.path !== "string" || typeof module.source !== "string") {
        throw new HttpError(400, "InvalidModules", `${where}: every module needs a path and a source`);
      }
      checkModulePath(module.path);
    }
  }
  return definitions as ComponentDefinitionConfig[];
}

/** A folder per component definition, under the push's components/. */
function definitionFolders(dir: string, definitions: ComponentDefinitionConfig[]): Map<string, string> {
  return new Map(definitions.map((definition, i) => [definition.definitionPath, path.join(dir, "components", String(i))]));
}

const COMPONENT_DEP_IMPORT = /(["'])\.\/_componentDeps\/([A-Za-z0-9_-]+)\1/g;

/**
 * Writes a bundled convex.config.js into `folder`, its `./_componentDeps/<base64url(path)>`
 * imports pointing at the convex.config.js of that definition's folder.
 */
function writeDefinition(folder: string, definition: ModuleConfig, folders: Map<string, string>): void {
  const source = definition.source.replace(COMPONENT_DEP_IMPORT, (_match, _quote, encoded: string) => {
    const definitionPath = Buffer.from(encoded, "base64url").toString("utf8");
    const child = folders.get(definitionPath);
    if (child === undefined) {
      throw new HttpError(400, "InvalidConfig", `A convex.config imports component definition ${JSON.stringify(definitionPath)}, which the push does not include`);
    }
    return JSON.stringify(path.join(child, "convex.config.js"));
  });
  mkdirSync(folder, { recursive: true });
  writeFileSync(path.join(folder, "convex.config.js"), source);
}

/** The installed components of a loaded push, seen by definition path (as the CLI names them). */
class ComponentTree {
  private readonly definitionPathOf = new Map<string, string>();

  constructor(
    private readonly app: AppBuild,
    folders: Map<string, string>,
  ) {
    for (const [definitionPath, folder] of folders) this.definitionPathOf.set(realFolder(folder), definitionPath);
  }

  private definitionPath(component: ComponentBuild): string {
    const found = this.definitionPathOf.get(realFolder(component.directory));
    if (found === undefined) throw new HttpError(400, "InvalidConfig", `Component ${component.path} comes from a folder the push did not send`);
    return found;
  }

  private childrenOf(componentPath: string): ComponentBuild[] {
    const paths = componentPath === ROOT ? [...componentsOf(this.app).values()].filter((c) => !c.path.includes("/")).map((c) => c.path) : (componentsOf(this.app).get(componentPath)?.children ?? []);
    return paths.map((p) => componentsOf(this.app).get(p)!);
  }

  /** One loaded instance per definition (an installed-twice definition has one analysis). */
  byDefinition(): Map<string, ComponentBuild> {
    const out = new Map<string, ComponentBuild>();
    for (const component of componentsOf(this.app).values()) {
      const definitionPath = this.definitionPath(component);
      if (!out.has(definitionPath)) out.set(definitionPath, component);
    }
    return out;
  }

  /** A definition's `childComponents` (what it installs, under which names). */
  instantiations(componentPath: string): unknown[] {
    return this.childrenOf(componentPath).map((child) => ({
      name: child.name,
      path: this.definitionPath(child),
      args: [],
      env: Object.entries(child.env).map(([name, value]) => [name, { type: "value", value }]),
    }));
  }

  /** The `app` tree of checked components. */
  checked(componentPath: string): Record<string, unknown> {
    return Object.fromEntries(
      this.childrenOf(componentPath).map((child) => [
        child.name,
        {
          definitionPath: this.definitionPath(child),
          componentPath: child.path,
          args: {},
          childComponents: this.checked(child.path),
          httpRoutes: { httpModuleRoutes: null, mounts: [] },
          exports: {},
        },
      ]),
    );
  }
}

function realFolder(folder: string): string {
  return realpathSync(path.resolve(folder));
}

type ExportNode = { type: "leaf"; leaf: string } | { type: "branch"; branch: [string, ExportNode][] };

/** A component's exports: its public functions, by module path ("lib:fn" → lib.fn). */
function exportTree(app: LoadedApp): ExportNode {
  const root: ExportNode = { type: "branch", branch: [] };
  const branchAt = (node: ExportNode & { type: "branch" }, name: string) => {
    let child = node.branch.find(([key]) => key === name)?.[1];
    if (child === undefined) {
      child = { type: "branch", branch: [] };
      node.branch.push([name, child]);
    }
    return child as ExportNode & { type: "branch" };
  };
  for (const [modulePath, exports] of app.modules) {
    const functions = registeredFunctions(exports).filter((fn) => fn.visibility.kind === "public");
    if (functions.length === 0) continue;
    let node = root;
    for (const part of modulePath.split("/")) node = branchAt(node, part);
    for (const fn of functions) node.branch.push([fn.name, { type: "leaf", leaf: `_reference/function/${modulePath}:${fn.name}` }]);
  }
  return root;
}

function checkModulePath(modulePath: string): void {
  if (path.isAbsolute(modulePath) || modulePath.split(/[\\/]/).includes("..") || !/\.(js|mjs|cjs)$/.test(modulePath)) {
    throw new HttpError(400, "InvalidModules", `Invalid module path ${JSON.stringify(modulePath)}`);
  }
}

/**
 * Writes the bundles as a functions folder the engine's loader can read: each module at its
 * path ("use node" kept for Node modules), the schema as schema.js, and `convex` resolvable.
 */
function writePushFolder(dir: string, modules: ModuleConfig[], schema: ModuleConfig | null): void {
  mkdirSync(dir, { recursive: true });
  for (const module of modules) {
    const file = path.join(dir, module.path);
    mkdirSync(path.dirname(file), { recursive: true });
    const source = module.environment === "node" && !/^\s*["']use node["']/.test(module.source) ? `"use node";\n${module.source}` : module.source;
    writeFileSync(file, source);
  }
  if (schema !== null && schema !== undefined) {
    checkModulePath(schema.path);
    writeFileSync(path.join(dir, "schema.js"), schema.source);
  }
  const nodeModules = path.join(dir, "node_modules");
  mkdirSync(nodeModules, { recursive: true });
  const convexLink = path.join(nodeModules, "convex");
  if (!existsSync(convexLink)) symlinkSync(convexPackageDir(), convexLink, "dir");
}

function convexPackageDir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve("convex/package.json"));
}

function exportedSchema(schema: unknown): SchemaJson | null {
  if (schema === null || schema === undefined) return null;
  const exported = (schema as { export?: () => string }).export;
  if (typeof exported !== "function") throw new HttpError(400, "InvalidSchema", "schema.js must default-export defineSchema(...)");
  return JSON.parse(exported.call(schema)) as SchemaJson;
}

/** What `start_push` reports per module: every registered function with its validators. */
function analyzeModules(app: LoadedApp): Record<string, unknown> {
  const analyzed: Record<string, unknown> = {};
  for (const [modulePath, exports] of app.modules) {
    const functions = registeredFunctions(exports).map((fn) => ({ ...fn, pos: null }));
    analyzed[`${modulePath}.js`] = {
      functions,
      httpRoutes: modulePath === "http" && app.http !== null ? httpRoutes(app.http).map((route) => ({ route, pos: null })) : null,
      cronSpecs: null,
      sourceMapped: null,
    };
  }
  return analyzed;
}

function appAuth(config: unknown): unknown[] {
  const providers = (config as { providers?: Record<string, unknown>[] } | null)?.providers;
  if (!Array.isArray(providers)) return [];
  return providers.map((provider) =>
    provider.type === "customJwt"
      ? { applicationID: null, algorithm: "RS256", ...provider }
      : { applicationID: provider.applicationID ?? "", domain: provider.domain },
  );
}

function int64Base64(value: bigint): string {
  const bytes = Buffer.alloc(8);
  bytes.writeBigInt64LE(value);
  return bytes.toString("base64");
}
