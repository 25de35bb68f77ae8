/**
 * The local backend's servers: the client origin (sync WebSocket + HTTP API) and the
 * HTTP-actions origin, on top of an Engine (see ../engine/types.ts).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { createRequire } from "node:module";
import { WebSocketServer, type WebSocket } from "ws";
import type { Engine, UdfType } from "../engine/types.js";
import { createAuthVerifier } from "./auth.js";
import { CommitHistory } from "./commit_history.js";
import { createHttpApi, type FunctionTypeLookup } from "./http_api.js";
import { corsHeaders, sendJson } from "./http_util.js";
import { createSiteHandler } from "./site.js";
import { SubscriptionHub, type SubscriptionStats } from "./subscriptions.js";
import { SyncSession } from "./sync_session.js";

/** Convex's limit on one call's arguments. */
export const DEFAULT_MAX_ARGS_BYTES = 16 * 1024 * 1024;
/** Convex's limit on an HTTP action's request body. */
export const DEFAULT_MAX_HTTP_ACTION_BODY_BYTES = 20 * 1024 * 1024;
export const DEFAULT_PING_INTERVAL_MS = 15_000;
/** Frames beyond this close the socket outright; smaller oversized calls get a clear error. */
const MAX_FRAME_BYTES = 64 * 1024 * 1024;
const SYNC_PATH = /^\/api\/[^/]+\/sync$/;

export interface BackendUrls {
  /** Client origin: HTTP API and sync WebSocket, e.g. http://127.0.0.1:3210 */
  cloudUrl: string;
  /** HTTP-actions origin, e.g. http://127.0.0.1:3211 */
  siteUrl: string;
}

export interface BackendServerOptions {
  /** Opens the engine once the ports are bound, so it knows its own URLs. */
  openEngine: (urls: BackendUrls) => Promise<Engine>;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  sitePort?: number;
  /** Accepted as `Authorization: Convex <key>` and sync `Authenticate {tokenType: "Admin"}`. */
  adminKey?: string;
  /** For OIDC discovery and remote JWKS (tests serve them without a network). */
  authFetch?: typeof fetch;
  maxArgsBytes?: number;
  maxHttpActionBodyBytes?: number;
  pingIntervalMs?: number;
  log?: (line: string) => void;
}

export interface BackendServer extends BackendUrls {
  engine: Engine;
  port: number;
  sitePort: number;
  /** Open sync connections. */
  connectionCount(): number;
  subscriptionStats(): SubscriptionStats;
  /** Cuts every sync connection without a close handshake, as a network failure would. */
  dropConnections(): void;
  /** Closes sockets and servers, then the engine. */
  close(): Promise<void>;
}

export async function startBackendServer(options: BackendServerOptions): Promise<BackendServer> {
  const host = options.host ?? "127.0.0.1";
  const log = options.log ?? (() => undefined);
  const maxArgsBytes = options.maxArgsBytes ?? DEFAULT_MAX_ARGS_BYTES;

  // The ports are bound before the engine opens (it needs its own URLs); until it is ready,
  // requests and WebSocket upgrades wait for it instead of being refused.
  const startup = startupGate();
  let handleClient: (request: IncomingMessage, response: ServerResponse) => void = startup.hold((r, s) => handleClient(r, s));
  let handleSite: (request: IncomingMessage, response: ServerResponse) => void = startup.hold((r, s) => handleSite(r, s));
  let handleUpgrade: (request: IncomingMessage, socket: Socket, head: Buffer) => void = (request, socket, head) => {
    startup.ready.then(
      () => handleUpgrade(request, socket, head),
      () => socket.destroy(),
    );
  };
  const clientServer = createServer((request, response) => handleClient(request, response));
  const siteServer = createServer((request, response) => handleSite(request, response));
  clientServer.on("upgrade", (request: IncomingMessage, socket: Socket, head: Buffer) => handleUpgrade(request, socket, head));
  const sockets = new Set<Socket>();
  for (const server of [clientServer, siteServer]) {
    server.on("connection", (socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    });
  }

  const port = await listen(clientServer, host, options.port ?? 0);
  let sitePort: number;
  try {
    sitePort = await listen(siteServer, host, options.sitePort ?? 0);
  } catch (error) {
    await closeServer(clientServer);
    throw error;
  }
  const urlHost = host.includes(":") ? `[${host}]` : host;
  const urls: BackendUrls = { cloudUrl: `http://${urlHost}:${port}`, siteUrl: `http://${urlHost}:${sitePort}` };

  let engine: Engine;
  try {
    engine = await options.openEngine(urls);
  } catch (error) {
    startup.fail(error);
    await Promise.all([closeServer(clientServer), closeServer(siteServer)]);
    throw error;
  }

  const hub = new SubscriptionHub(engine);
  const history = new CommitHistory(engine);
  const auth = createAuthVerifier({ providers: () => engine.authProviders(), adminKey: options.adminKey, fetch: options.authFetch });
  const api = createHttpApi({ engine, auth, history, maxArgsBytes, convexVersion: convexVersion(), functionType: functionTypeOf(engine) });
  const site = createSiteHandler({
    engine,
    siteUrl: urls.siteUrl,
    maxBodyBytes: options.maxHttpActionBodyBytes ?? DEFAULT_MAX_HTTP_ACTION_BODY_BYTES,
    log,
    auth,
  });

  handleClient = (request, response) => {
    const cors = corsHeaders(request);
    if (request.method === "OPTIONS") {
      response.writeHead(204, cors);
      response.end();
      return;
    }
    api(request, response, cors).catch((error: unknown) => failRequest(response, error, log));
  };
  handleSite = (request, response) => {
    site(request, response).catch((error: unknown) => failRequest(response, error, log));
  };

  const webSockets = new WebSocketServer({ noServer: true, maxPayload: MAX_FRAME_BYTES });
  const sessions = new Map<WebSocket, SyncSession>();
  handleUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const pathname = new URL(request.url ?? "/", "http://localhost").pathname;
    if (!SYNC_PATH.test(pathname)) {
      socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
      return;
    }
    webSockets.handleUpgrade(request, socket, head, (ws) => {
      const session = new SyncSession({
        engine,
        hub,
        auth,
        maxArgsBytes,
        pingIntervalMs: options.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS,
        log,
        transport: {
          send: (text) => {
            if (ws.readyState === ws.OPEN) ws.send(text);
          },
          close: (code, reason) => ws.close(code, reason),
        },
      });
      sessions.set(ws, session);
      ws.on("message", (data, isBinary) => {
        session.handleFrame(isBinary ? "<binary frame>" : data.toString());
      });
      ws.on("close", () => {
        sessions.delete(ws);
        session.close();
      });
      ws.on("error", (error) => log(`sync: socket error: ${error.message}`));
    });
  };
  startup.open();

  let closing: Promise<void> | undefined;
  return {
    ...urls,
    engine,
    port,
    sitePort,
    connectionCount: () => sessions.size,
    subscriptionStats: () => hub.stats(),
    dropConnections() {
      for (const ws of sessions.keys()) ws.terminate();
    },
    close() {
      closing ??= (async () => {
        for (const [ws, session] of sessions) {
          session.close();
          ws.terminate();
        }
        sessions.clear();
        webSockets.close();
        hub.close();
        history.close();
        const closed = Promise.all([closeServer(clientServer), closeServer(siteServer)]);
        for (const socket of sockets) socket.destroy();
        await closed;
        await engine.close();
      })();
      return closing;
    },
  };
}

/**
 * The engine contract cannot say what kind a function is; the local engine can, through
 * `resolve` (which throws when the caller may not call it).
 */
function functionTypeOf(engine: Engine): FunctionTypeLookup | undefined {
  const resolve = (engine as { resolve?: (path: string, expected: null, allowInternal: boolean) => { udfType: UdfType } }).resolve;
  if (typeof resolve !== "function") return undefined;
  return (path, allowInternal) => {
    try {
      return resolve.call(engine, path, null, allowInternal).udfType;
    } catch {
      return null;
    }
  };
}

type RequestHandler = (request: IncomingMessage, response: ServerResponse) => void;

/** Holds requests that arrive while the engine opens; a failed start answers them 503. */
function startupGate() {
  let open!: () => void;
  let fail!: (error: unknown) => void;
  const ready = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  ready.catch(() => undefined); // observed by whoever was waiting
  return {
    ready,
    open: () => open(),
    fail: (error: unknown) => fail(error),
    hold(next: RequestHandler): RequestHandler {
      return (request, response) => {
        ready.then(
          () => next(request, response),
          (error: unknown) =>
            sendJson(response, 503, { code: "StartupFailed", message: `The backend failed to start: ${(error as Error).message}` }),
        );
      };
    },
  };
}

function failRequest(response: ServerResponse, error: unknown, log: (line: string) => void): void {
  log(`http: request failed: ${(error as Error).message}`);
  if (!response.headersSent) sendJson(response, 500, { code: "InternalServerError", message: (error as Error).message });
  else response.destroy();
}

function listen(server: Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

function convexVersion(): string {
  const require = createRequire(import.meta.url);
  return (require("convex/package.json") as { version: string }).version;
}
