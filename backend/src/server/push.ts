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
 */
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { mkdirSync, rmSync, symlinkSync, writeFileSync, existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { jsonToConvex, type Value } from "convex/values";
import type { LocalEngine } from "../engine/engine.js";
import { loadApp, type LoadedApp } from "../engine/loader.js";
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
  componentDefinitions: unknown[];
  nodeDependencies: unknown[];
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
  dir: string;
  dryRun: boolean;
  modules: ModuleConfig[];
  schemaStatus: SchemaStatus;
  indexDiff: IndexDiff;
  cronNames: string[];
}

interface PushedState {
  dir: string;
  modules: ModuleConfig[];
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
    if (Array.isArray(request.componentDefinitions) && request.componentDefinitions.length > 0) {
      throw new HttpError(
        400,
        "ComponentsNotSupported",
        "This local backend does not accept pushes of apps with components (convex.config.ts) yet",
      );
    }
    const modules = this.resolveModules(app.changedModules, app.unchangedModuleHashes ?? []);
    const id = randomUUID();
    const dir = path.join(this.root, id);
    let loaded: LoadedApp;
    let schema: SchemaJson | null;
    let indexDiff: IndexDiff;
    let schemaStatus: SchemaStatus;
    try {
      writePushFolder(dir, modules, app.schema);
      try {
        loaded = await loadApp(dir, path.join(this.root, `${id}.build`), this.engine.options.env);
      } catch (error) {
        throw new HttpError(400, "InvalidModules", `Hit an error while pushing:\n${(error as Error).message}`);
      } finally {
        rmSync(path.join(this.root, `${id}.build`), { recursive: true, force: true });
      }
      schema = exportedSchema(loaded.schema);
      indexDiff = await this.indexDiff(schema);
      schemaStatus = await this.validateDocuments(schema);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      throw error;
    }
    const cronNames = Object.keys(((loaded.crons as { crons?: Record<string, unknown> } | null)?.crons) ?? {});
    this.staged.set(id, { id, dir, dryRun: request.dryRun, modules, schemaStatus, indexDiff, cronNames });
    // `npx convex codegen` starts pushes it never finishes: keep only the newest few.
    for (const old of [...this.staged.values()].slice(0, -MAX_STAGED)) {
      this.staged.delete(old.id);
      rmSync(old.dir, { recursive: true, force: true });
    }
    return {
      environmentVariables: {},
      externalDepsId: null,
      componentDefinitionPackages: {},
      appAuth: appAuth(loaded.authConfig),
      analysis: {
        "": {
          definition: {
            path: "",
            definitionType: { type: "app" },
            childComponents: [],
            httpMounts: {},
            exports: { type: "branch", branch: [] },
            envVars: null,
          },
          schema: schema ?? null,
          functions: analyzeModules(loaded),
          udfConfig: {
            serverVersion: app.udfServerVersion,
            importPhaseRngSeed: { $bytes: randomBytes(32).toString("base64") },
            importPhaseUnixTimestamp: { $integer: int64Base64(BigInt(Date.now())) },
          },
        },
      },
      app: {
        definitionPath: "",
        componentPath: "",
        args: {},
        childComponents: {},
        httpRoutes: { httpModuleRoutes: loaded.http === null ? null : httpRoutes(loaded.http), mounts: [] },
        exports: {},
      },
      schemaChange: { allocatedComponentIds: null, schemaIds: { "": id }, indexDiffs: { "": indexDiff } },
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

  /** Schema indexes added and removed, as the CLI prints them ("table.index"). */
  private async indexDiff(schema: SchemaJson | null): Promise<IndexDiff> {
    const wanted = new Map<string, DatabaseIndex>();
    for (const table of schema?.tables ?? []) {
      for (const index of table.indexes) {
        const name = `${table.tableName}.${index.indexDescriptor}`;
        wanted.set(name, { name, type: "database", fields: index.fields });
      }
    }
    const existing = await this.engine.readOutside(() => {
      const found = new Map<string, DatabaseIndex>();
      for (const tableName of this.engine.store.tableNames()) {
        if (tableName.startsWith("_")) continue;
        for (const index of this.engine.store.table(tableName)?.indexes.values() ?? []) {
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
  private async validateDocuments(schema: SchemaJson | null): Promise<SchemaStatus> {
    if (schema === null || !schema.schemaValidation) return { type: "complete" };
    return await this.engine.readOutside(() => {
      const store = this.engine.store;
      const tableOf = (id: string) => store.tableOfId(id)?.name ?? null;
      for (const table of schema.tables) {
        for (const json of store.allDocuments(table.tableName)) {
          const document = jsonToConvex(JSON.parse(json)) as Record<string, Value>;
          const { _id, _creationTime, ...fields } = document;
          void _creationTime;
          const problem = checkValue(table.documentType, fields as Value, tableOf);
          if (problem !== null) {
            return {
              type: "failed" as const,
              error: `Schema validation failed.\nDocument with ID "${String(_id)}" in table "${table.tableName}" does not match the schema: ${problem}`,
              componentPath: "",
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
    const result = await this.engine.reload(staged.dir);
    if (!result.ok) {
      rmSync(staged.dir, { recursive: true, force: true });
      throw new HttpError(400, "InvalidModules", `Hit an error while pushing:\n${result.error}`);
    }
    this.current = { dir: staged.dir, modules: staged.modules, cronNames: staged.cronNames };
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
          indexDiff: staged.indexDiff,
          schemaDiff: null,
        },
      },
    };
  }

  /** Removes folders of pushes that never finished. */
  close(): void {
    for (const staged of this.staged.values()) rmSync(staged.dir, { recursive: true, force: true });
    this.staged.clear();
  }
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
