/**
 * The HTTP-actions origin: every request goes to convex/http.ts as a standard Request whose
 * body is exactly the bytes received (signature checks hash them). CORS is the app's business.
 *
 * As on Convex, `Authorization: Bearer <JWT>` from one of convex/auth.config.ts's providers
 * makes the action's `ctx.auth.getUserIdentity()` that user. A bearer credential that is not
 * a valid JWT (an API key, an expired token) leaves the identity empty and the request goes
 * through unchanged: the route decides (the REST API reads its own keys from the header).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { Engine, Identity } from "../engine/types.js";
import type { AuthVerifier } from "./auth.js";
import { HttpError, readBody, sendJson, sendText } from "./http_util.js";

export interface SiteOptions {
  engine: Engine;
  siteUrl: string;
  maxBodyBytes: number;
  log: (line: string) => void;
  /** Verifies bearer JWTs; without it HTTP actions run with no identity. */
  auth?: AuthVerifier;
}

const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The user a bearer JWT names, or null (no header, another scheme, not a JWT, not verified). */
async function identityOf(request: IncomingMessage, auth: AuthVerifier | undefined): Promise<Identity | null> {
  const header = request.headers.authorization;
  if (auth === undefined || header === undefined || !header.startsWith("Bearer ")) return null;
  const token = header.slice("Bearer ".length).trim();
  if (!JWT_SHAPE.test(token)) return null;
  try {
    return await auth.verifyUserToken(token);
  } catch {
    return null;
  }
}

export function createSiteHandler(options: SiteOptions) {
  return async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    let body: Buffer | undefined;
    try {
      body = request.method === "GET" || request.method === "HEAD" ? undefined : await readBody(request, options.maxBodyBytes);
    } catch (error) {
      if (error instanceof HttpError) {
        sendJson(response, error.status, { code: error.code, message: error.message }, { connection: "close" });
      } else {
        sendText(response, 400, `Could not read request body: ${(error as Error).message}`);
      }
      return;
    }
    const fetchRequest = new Request(new URL(request.url ?? "/", options.siteUrl), {
      method: request.method,
      headers: requestHeaders(request),
      body: body !== undefined && body.length > 0 ? new Uint8Array(body) : undefined,
    });
    let fetchResponse: Response;
    try {
      fetchResponse = await options.engine.runHttpAction(fetchRequest, await identityOf(request, options.auth));
    } catch (error) {
      options.log(`http action ${request.method} ${request.url} failed: ${(error as Error).message}`);
      sendText(response, 500, "Internal server error");
      return;
    }
    await writeResponse(fetchResponse, response, request.method === "HEAD");
  };
}

function requestHeaders(request: IncomingMessage): Headers {
  const headers = new Headers();
  const raw = request.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase();
    // Hop-by-hop and framing headers describe this connection, not the request.
    if (name === "connection" || name === "keep-alive" || name === "transfer-encoding" || name === "upgrade") continue;
    headers.append(raw[i], raw[i + 1]);
  }
  // The deployment's edge records the peer as the last hop of X-Forwarded-For (where Convex's
  // own backend reads the client's address, crates/common/src/http ExtractRequestMetadata).
  const peer = request.socket.remoteAddress?.replace(/^::ffff:/, "");
  if (peer) {
    const forwarded = headers.get("x-forwarded-for");
    headers.set("x-forwarded-for", forwarded ? `${forwarded}, ${peer}` : peer);
  }
  return headers;
}

async function writeResponse(fetchResponse: Response, response: ServerResponse, headOnly: boolean): Promise<void> {
  const body = Buffer.from(await fetchResponse.arrayBuffer());
  const headers: Record<string, string | string[]> = {};
  fetchResponse.headers.forEach((value, name) => {
    if (name === "set-cookie" || name === "content-length" || name === "transfer-encoding") return;
    headers[name] = value;
  });
  const cookies = fetchResponse.headers.getSetCookie();
  if (cookies.length > 0) headers["set-cookie"] = cookies;
  headers["content-length"] = String(body.length);
  response.writeHead(fetchResponse.status, fetchResponse.statusText || undefined, headers);
  response.end(headOnly ? undefined : body);
}
