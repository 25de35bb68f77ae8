/**
 * The self-hosted admin API the Convex CLI (convex 1.48, CONVEX_SELF_HOSTED_URL +
 * CONVEX_SELF_HOSTED_ADMIN_KEY) calls, on the client port. Every route needs the admin key.
 * Routes and shapes follow get-convex/convex-backend's crates/local_backend.
 *
 *   GET  /api/v1/get_canonical_urls           dev, deploy
 *   POST /api/get_config_hashes                dev, deploy (which modules changed)
 *   POST /api/deploy2/start_push|evaluate_push|wait_for_schema|finish_push|report_push_completed
 *   POST /api/update_environment_variables     env set / remove
 *   GET  /api/list_environment_variables
 *   GET  /api/stream_function_logs?cursor=     logs, dev (long poll)
 *   POST /api/export/request/zip, GET /api/export/zip/<ts>             export
 *   POST /api/import/start_upload|upload_part|finish_upload, /api/perform_import   import
 */
import { createReadStream } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { LocalEngine } from "../engine/engine.js";
import type { Engine } from "../engine/types.js";
import type { Caller } from "./auth.js";
import { DeploymentEnv, parseEnvChanges } from "./deployment_env.js";
import { FunctionLogStream, LONG_POLL_MS } from "./function_logs.js";
import { HttpError, readBody, sendJson } from "./http_util.js";
import { PushService, type StartPushRequest } from "./push.js";
import { SnapshotService } from "./snapshots.js";
import { registerSystemFunctions } from "./system_functions.js";

const MAX_PUSH_BYTES = 256 * 1024 * 1024;
const MAX_PART_BYTES = 64 * 1024 * 1024;

export interface AdminApi {
  /** Handles the request when it is an admin route (true), else leaves it (false). */
  handle(request: IncomingMessage, response: ServerResponse, url: URL, cors: Record<string, string>): Promise<boolean>;
  close(): void;
}

type Route = (context: {
  request: IncomingMessage;
  response: ServerResponse;
  url: URL;
  cors: Record<string, string>;
  match: RegExpExecArray;
}) => Promise<unknown>;

const NO_BODY = Symbol("noBody");

/** Null when the engine is not the local engine (the admin API needs its internals). */
export function createAdminApi(engine: Engine, requireAdmin: (request: IncomingMessage) => Promise<Caller>): AdminApi | null {
  if (!(engine instanceof LocalEngine)) return null;
  const local = engine;
  const env = new DeploymentEnv(local.options.dataDir, local.options.env, (next) => local.setEnvironment(next));
  registerSystemFunctions(local, env);
  const logs = new FunctionLogStream();
  const stopLogs = local.onFunctionLog((entry) => logs.push(entry));
  const push = new PushService(local);
  const snapshots = new SnapshotService(local);
  const ready = snapshots.init();
  ready.catch((error: unknown) => console.error(`[local backend] admin API setup failed: ${(error as Error).message}`));

  const routes: [string, RegExp, Route][] = [
    ["GET", /^\/api\/v1\/get_canonical_urls$/, async () => ({ convexCloudUrl: local.cloudUrl, convexSiteUrl: local.siteUrl })],
    ["POST", /^\/api\/get_config_hashes$/, async () => push.configHashes()],
    ["POST", /^\/api\/deploy2\/start_push$/, async ({ request }) => await push.startPush(await pushBody(request))],
    [
      "POST",
      /^\/api\/deploy2\/evaluate_push$/,
      async ({ request }) => {
        const staged = (await push.startPush({ ...(await pushBody(request)), dryRun: true })) as { schemaChange: unknown };
        await push.finishPush(staged, true);
        return { schemaChange: staged.schemaChange };
      },
    ],
    ["POST", /^\/api\/deploy2\/wait_for_schema$/, async ({ request }) => push.schemaStatus(((await jsonBody(request)) as { schemaChange?: unknown }).schemaChange)],
    [
      "POST",
      /^\/api\/deploy2\/finish_push$/,
      async ({ request }) => {
        const body = (await jsonBody(request, MAX_PUSH_BYTES)) as { startPush?: unknown; dryRun?: boolean };
        return await push.finishPush(body.startPush, body.dryRun === true);
      },
    ],
    ["POST", /^\/api\/deploy2\/report_push_completed$/, async () => null],
    [
      "POST",
      /^\/api\/update_environment_variables$/,
      async ({ request }) => {
        env.update(parseEnvChanges(await jsonBody(request)));
        return {};
      },
    ],
    [
      "GET",
      /^\/api\/list_environment_variables$/,
      async () => ({ environmentVariables: Object.fromEntries(env.list().map(({ name, value }) => [name, value])) }),
    ],
    [
      "GET",
      /^\/api\/(stream_function_logs|stream_udf_execution)$/,
      async ({ request, url }) => {
        const cursor = Number(url.searchParams.get("cursor") ?? "0");
        if (!Number.isFinite(cursor)) throw new HttpError(400, "InvalidCursor", "cursor must be a number of milliseconds");
        const abort = new AbortController();
        request.on("close", () => abort.abort());
        return await logs.poll(cursor, LONG_POLL_MS, abort.signal);
      },
    ],
    [
      "POST",
      /^\/api\/export\/request\/zip$/,
      async ({ url }) => {
        await ready;
        await snapshots.requestExport(url.searchParams.get("includeStorage") === "true");
        return {};
      },
    ],
    [
      "GET",
      /^\/api\/export\/zip\/([^/]+)$/,
      async ({ response, match, cors }) => {
        const file = snapshots.exportFile(decodeURIComponent(match[1]));
        if (file === null) throw new HttpError(404, "ExportNotFound", `No snapshot export at timestamp ${match[1]}`);
        response.writeHead(200, {
          ...cors,
          "content-type": "application/zip",
          "content-disposition": `attachment; filename="snapshot_${match[1]}.zip"`,
        });
        await new Promise<void>((resolve, reject) => {
          createReadStream(file).on("error", reject).on("end", resolve).pipe(response);
        });
        return NO_BODY;
      },
    ],
    ["POST", /^\/api\/import\/start_upload$/, async () => (await ready, snapshots.startUpload())],
    [
      "POST",
      /^\/api\/import\/upload_part$/,
      async ({ request, url }) =>
        snapshots.uploadPart(url.searchParams.get("uploadToken"), url.searchParams.get("partNumber"), await readBody(request, MAX_PART_BYTES)),
    ],
    ["POST", /^\/api\/import\/finish_upload$/, async ({ request }) => await snapshots.finishUpload(await jsonBody(request))],
    [
      "POST",
      /^\/api\/perform_import$/,
      async ({ request }) => {
        await snapshots.performImport(((await jsonBody(request)) as { importId?: unknown }).importId);
        return {};
      },
    ],
  ];

  return {
    async handle(request, response, url, cors) {
      const matching = routes.filter(([, pattern]) => pattern.test(url.pathname));
      if (matching.length === 0) return false;
      const route = matching.find(([method]) => method === request.method);
      if (route === undefined) {
        throw new HttpError(405, "MethodNotAllowed", `${request.method} ${url.pathname} is not supported; use ${matching[0][0]}`);
      }
      const caller = await requireAdmin(request);
      if (!caller.admin) throw new HttpError(403, "Unauthorized", `${url.pathname} needs the deployment's admin key (Authorization: Convex <key>)`);
      const match = route[1].exec(url.pathname) as RegExpExecArray;
      const result = await route[2]({ request, response, url, cors, match });
      if (result !== NO_BODY) sendJson(response, 200, result ?? null, cors);
      return true;
    },
    close() {
      stopLogs();
      logs.close();
      push.close();
    },
  };
}

async function decodedBody(request: IncomingMessage, limit: number): Promise<Buffer> {
  const raw = await readBody(request, limit);
  const encoding = request.headers["content-encoding"];
  try {
    if (encoding === "br") return brotliDecompressSync(raw);
    if (encoding === "gzip") return gunzipSync(raw);
  } catch (error) {
    throw new HttpError(400, "BadBody", `Request body is not valid ${encoding}: ${(error as Error).message}`);
  }
  return raw;
}

async function jsonBody(request: IncomingMessage, limit = 16 * 1024 * 1024): Promise<unknown> {
  const body = await decodedBody(request, limit);
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString("utf8"));
  } catch {
    throw new HttpError(400, "BadJsonBody", "Request body is not valid JSON");
  }
}

async function pushBody(request: IncomingMessage): Promise<StartPushRequest> {
  const body = await jsonBody(request, MAX_PUSH_BYTES);
  if (typeof body !== "object" || body === null) throw new HttpError(400, "InvalidConfig", "start_push needs a JSON object");
  return body as StartPushRequest;
}
