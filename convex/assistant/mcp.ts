/**
 * The assistant's tools over the Model Context Protocol, at `/mcp` on the HTTP-actions site,
 * with the official SDK's web-standard Streamable HTTP transport, stateless (one server per
 * request, JSON responses; no session to keep between Convex HTTP actions).
 *
 * Authentication: `Authorization: Bearer bk_…`, an API key with the `assistant` scope,
 * admitted by the REST API's gate (same failed-authentication and per-key rate limits). The
 * key acts as the staff member who created it, with their current role in its business.
 * docs/ASSISTANT.md says how to connect a client.
 */
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { WebStandardStreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/webStandardStreamableHttp.js";
import type { HttpRouter } from "convex/server";
import { ConvexError } from "convex/values";
import { internal } from "../_generated/api";
import { httpAction, type ActionCtx } from "../_generated/server";
import { presentedOf } from "../api/v1/router";
import { isAppErrorData } from "../errors";
import { TOOLS } from "./tools";
import type { AssistantCaller } from "./run";

const SCOPE = { resource: "assistant", access: "write" } as const;

function jsonRpcError(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ jsonrpc: "2.0", error: { code: -32001, message }, id: null }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

function errorText(error: unknown): string {
  if (error instanceof ConvexError && isAppErrorData(error.data)) {
    return `${error.data.code}: ${error.data.message}${error.data.param ? ` (${error.data.param})` : ""}`;
  }
  throw error;
}

function serverFor(ctx: ActionCtx, caller: AssistantCaller, who: { name: string; role: string }): McpServer {
  const server = new McpServer(
    { name: "booking-assistant", version: "1.0.0" },
    { instructions: `You act as ${who.name} (${who.role}). Tools that change data show fees first; confirm with the person before the second call.` },
  );
  for (const tool of TOOLS) {
    server.registerTool(
      tool.name,
      {
        description: tool.description,
        inputSchema: tool.input.shape,
        annotations: { readOnlyHint: tool.kind === "read", destructiveHint: tool.kind === "write", openWorldHint: false },
      },
      async (input: Record<string, unknown>) => {
        try {
          const args = { caller, tool: tool.name, input };
          const result: unknown =
            tool.kind === "read" ? await ctx.runQuery(internal.assistant.run.read, args) : await ctx.runMutation(internal.assistant.run.write, args);
          return { content: [{ type: "text" as const, text: JSON.stringify(result, null, 2) }] };
        } catch (error) {
          return { isError: true, content: [{ type: "text" as const, text: errorText(error) }] };
        }
      },
    );
  }
  return server;
}

const mcp = httpAction(async (ctx, request) => {
  const now = Date.now();
  let presented;
  try {
    presented = await presentedOf(request, SCOPE, now);
  } catch {
    return jsonRpcError(401, "Authenticate with an API key that has the assistant scope: Authorization: Bearer bk_test_… .", {
      "WWW-Authenticate": 'Bearer realm="mcp"',
    });
  }
  const admission = await ctx.runMutation(internal.api.internalRequests.authorize, presented);
  if (!admission.ok) {
    const status = { UNAUTHENTICATED: 401, FORBIDDEN: 403, BUSINESS_NOT_ACTIVE: 403, RATE_LIMITED: 429 }[admission.code];
    const retry: Record<string, string> = admission.retryAfterMs === undefined ? {} : { "Retry-After": String(Math.max(1, Math.ceil(admission.retryAfterMs / 1000))) };
    return jsonRpcError(status, admission.message, retry);
  }
  const caller: AssistantCaller = { kind: "api_key", apiKeyId: admission.apiKeyId, businessId: admission.businessId };
  let who;
  try {
    who = await ctx.runQuery(internal.assistant.run.keyCaller, { apiKeyId: admission.apiKeyId, businessId: admission.businessId });
  } catch (error) {
    return jsonRpcError(403, errorText(error));
  }
  const server = serverFor(ctx, caller, who);
  const transport = new WebStandardStreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: true });
  await server.connect(transport);
  return await transport.handleRequest(request);
});

export function registerMcpRoutes(http: HttpRouter) {
  for (const method of ["POST", "GET", "DELETE"] as const) http.route({ path: "/mcp", method, handler: mcp });
}
