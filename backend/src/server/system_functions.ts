/**
 * The `_system/cli/*` queries the Convex CLI calls (`data`, `env get/list`, `function-spec`,
 * `import`, `export`), served by the engine as admin-only functions: they run as ordinary
 * queries (same transaction, read tracking and subscriptions), so `npx convex export` can
 * subscribe to its export's state and `data <table>` paginates as any query does.
 * Shapes follow get-convex/convex-backend's npm-packages/system-udfs/convex/_system/cli.
 */
import { jsonToConvex, type JSONValue } from "convex/values";
import type { LocalEngine } from "../engine/engine.js";
import type { DeploymentEnv } from "./deployment_env.js";

export const EXPORTS_TABLE = "_exports";
export const IMPORTS_TABLE = "_snapshot_imports";

// Handlers receive Convex's ctx; its types belong to the bundled convex copy.
/* eslint-disable @typescript-eslint/no-explicit-any */
type Handler = (ctx: any, args: any) => Promise<unknown> | unknown;

interface FunctionSpec {
  identifier?: string;
  functionType: "Query" | "Mutation" | "Action" | "HttpAction";
  visibility?: { kind: "public" | "internal" };
  args?: unknown;
  returns?: unknown;
  method?: string;
  path?: string;
}

const DEFAULT_VALIDATOR = '{ "type": "any" }';

export interface RegisteredFunction {
  name: string;
  udfType: "Query" | "Mutation" | "Action";
  visibility: { kind: "public" | "internal" };
  /** Validator JSON text, or null when the function declares none. */
  args: string | null;
  returns: string | null;
}

/** The registered Convex functions among a module's exports. */
export function registeredFunctions(exports: Record<string, unknown>): RegisteredFunction[] {
  const functions: RegisteredFunction[] = [];
  for (const [name, value] of Object.entries(exports)) {
    const fn = value as {
      isQuery?: boolean;
      isMutation?: boolean;
      isAction?: boolean;
      isInternal?: boolean;
      exportArgs?: () => string;
      exportReturns?: () => string;
    } | null;
    if (fn === null || (typeof fn !== "object" && typeof fn !== "function")) continue;
    const udfType = fn.isQuery ? "Query" : fn.isMutation ? "Mutation" : fn.isAction ? "Action" : null;
    if (udfType === null) continue;
    functions.push({
      name,
      udfType,
      visibility: { kind: fn.isInternal ? "internal" : "public" },
      args: typeof fn.exportArgs === "function" ? fn.exportArgs() : null,
      returns: typeof fn.exportReturns === "function" ? fn.exportReturns() : null,
    });
  }
  return functions;
}

/** Every function and HTTP route of the loaded app, as `_system/cli/modules:apiSpec` lists them. */
export function apiSpec(engine: LocalEngine): FunctionSpec[] {
  const { modules, http } = engine.loadedModules();
  const specs: FunctionSpec[] = [];
  for (const [modulePath, exports] of [...modules].sort(([a], [b]) => a.localeCompare(b))) {
    for (const fn of registeredFunctions(exports)) {
      specs.push({
        identifier: `${modulePath}.js:${fn.name}`,
        functionType: fn.udfType,
        visibility: fn.visibility,
        args: jsonToConvex(JSON.parse(fn.args ?? DEFAULT_VALIDATOR) as JSONValue),
        returns: jsonToConvex(JSON.parse(fn.returns ?? "null") ?? JSON.parse(DEFAULT_VALIDATOR)),
      });
    }
  }
  for (const route of httpRoutes(http)) specs.push({ functionType: "HttpAction", method: route.method, path: route.path });
  return specs;
}

export function httpRoutes(http: unknown): { method: string; path: string }[] {
  const getRoutes = (http as { getRoutes?: () => [string, string, unknown][] } | null)?.getRoutes;
  if (typeof getRoutes !== "function") return [];
  return getRoutes.call(http).map(([routePath, method]) => ({ method, path: routePath }));
}

function adminOnly(engine: LocalEngine, handler: Handler): unknown {
  const fn = engine.inlineFunction("query", handler) as unknown as Record<string, unknown>;
  // Convex's system functions need an admin caller; the engine refuses internal ones to others.
  fn.isInternal = true;
  fn.isPublic = false;
  return fn;
}

/** Registers the `_system/cli/*` modules with the engine. */
export function registerSystemFunctions(engine: LocalEngine, env: DeploymentEnv): void {
  engine.registerSystemModule("_system/cli/tables", {
    default: adminOnly(engine, () => ({
      page: engine.store
        .tableNames()
        .filter((name) => !name.startsWith("_"))
        .sort()
        .map((name) => ({ name })),
      isDone: true,
      continueCursor: "end",
    })),
  });
  engine.registerSystemModule("_system/cli/tableData", {
    default: adminOnly(engine, async ({ db }, { table, order, paginationOpts }) => {
      if (typeof table !== "string") throw new Error("`table` must be a table name");
      if (engine.store.table(table) === undefined) return { page: [], isDone: true, continueCursor: "end" };
      const reader = table.startsWith("_") ? db.system : db;
      return await reader.query(table).order(order === "asc" ? "asc" : "desc").paginate(paginationOpts);
    }),
  });
  engine.registerSystemModule("_system/cli/tableSize", {
    default: adminOnly(engine, async ({ db }, { tableName }) => {
      if (engine.store.table(tableName) === undefined) return 0;
      return await (tableName.startsWith("_") ? db.system : db).query(tableName).count();
    }),
  });
  engine.registerSystemModule("_system/cli/modules", {
    apiSpec: adminOnly(engine, () => apiSpec(engine)),
  });
  engine.registerSystemModule("_system/cli/convexUrl", {
    cloudUrl: adminOnly(engine, () => engine.cloudUrl),
  });
  engine.registerSystemModule("_system/cli/queryEnvironmentVariables", {
    default: adminOnly(engine, () => env.list()),
    get: adminOnly(engine, (_ctx, { name }) => {
      const value = typeof name === "string" ? env.get(name) : null;
      return value === null ? null : { name, value };
    }),
  });
  engine.registerSystemModule("_system/cli/queryImport", {
    default: adminOnly(engine, async ({ db }, { importId }) => {
      if (engine.store.table(IMPORTS_TABLE) === undefined) return null;
      return await db.system.get(importId);
    }),
    list: adminOnly(engine, async ({ db }) => {
      if (engine.store.table(IMPORTS_TABLE) === undefined) return [];
      return await db.system.query(IMPORTS_TABLE).order("desc").take(20);
    }),
  });
  engine.registerSystemModule("_system/cli/exports", {
    getLatest: adminOnly(engine, async ({ db }) => {
      if (engine.store.table(EXPORTS_TABLE) === undefined) return null;
      return await db.system.query(EXPORTS_TABLE).order("desc").first();
    }),
  });
}
