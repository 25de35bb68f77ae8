/**
 * Where the assistant's tools run: one transaction per tool call, as a person of one
 * business. The chat (signed-in person) and the MCP server (an API key with the `assistant`
 * scope, acting as the staff member who created it) both end here, so a tool behaves the same
 * through either door.
 *
 * The caller must be staff (owner, dispatcher or provider) of the business at the time of the
 * call: a person who left the business, a customer, or another business's staff get
 * NOT_FOUND, as everywhere else. What each role may do past that is decided by the portal
 * functions the tools call.
 */
import { v } from "convex/values";
import type { Doc, Id } from "../_generated/dataModel";
import { internalMutation, internalQuery, type MutationCtx, type QueryCtx } from "../_generated/server";
import { membershipOf } from "../access";
import { hasScope } from "../api/apiKeyFormat";
import { appError } from "../errors";
import { asPerson } from "./runAs";
import { parseInput, toolNamed, type Preview, type ToolContext } from "./tools";

export const vCaller = v.union(
  v.object({ kind: v.literal("user"), userId: v.id("users"), businessId: v.id("businesses") }),
  v.object({ kind: v.literal("api_key"), apiKeyId: v.id("apiKeys"), businessId: v.id("businesses") }),
);
export type AssistantCaller = { kind: "user"; userId: Id<"users">; businessId: Id<"businesses"> } | { kind: "api_key"; apiKeyId: Id<"apiKeys">; businessId: Id<"businesses"> };

const ASSISTANT_SCOPE = { resource: "assistant", access: "write" } as const;

async function personOf(ctx: QueryCtx, caller: AssistantCaller): Promise<Doc<"users">> {
  if (caller.kind === "user") {
    const user = await ctx.db.get("users", caller.userId);
    if (user === null) throw appError("UNAUTHENTICATED", "Sign in to continue.");
    return user;
  }
  // Read again in the tool's own transaction: a key revoked a moment ago no longer acts.
  const key = await ctx.db.get("apiKeys", caller.apiKeyId);
  const expired = key?.expiresAt !== undefined && key.expiresAt <= Date.now();
  if (key === null || key.businessId !== caller.businessId || key.status !== "active" || expired) {
    throw appError("UNAUTHENTICATED", "This API key is not valid (revoked, expired or unknown).");
  }
  if (!hasScope(key.scopes, ASSISTANT_SCOPE)) throw appError("FORBIDDEN", "This API key lacks the assistant:write scope.");
  const user = await ctx.db.get("users", key.createdBy);
  if (user === null) throw appError("UNAUTHENTICATED", "The person this API key belongs to no longer exists.");
  return user;
}

/** The calling person's context in the business, or NOT_FOUND when they are not its staff. */
export async function toolContext(ctx: QueryCtx, caller: AssistantCaller): Promise<ToolContext> {
  const user = await personOf(ctx, caller);
  const business = await ctx.db.get("businesses", caller.businessId);
  const membership = business === null || business.status === "DELETED" ? null : await membershipOf(ctx, business._id, user._id);
  if (business === null || membership === null) throw appError("NOT_FOUND", "Business not found.", { param: "businessId" });
  return { ctx: asPerson(ctx, user), user, business, role: membership.role, now: Date.now() };
}

const vToolCall = { caller: vCaller, tool: v.string(), input: v.any() };

/** A read tool (or, for MCP, any tool: writes are refused here and run in `write`). */
export const read = internalQuery({
  args: vToolCall,
  returns: v.any(),
  handler: async (ctx, args) => {
    const tool = toolNamed(args.tool);
    if (tool.kind !== "read") throw appError("INVALID_ARGUMENT", `${tool.name} changes data; run it as a write.`, { param: "tool" });
    const input = parseInput(tool, args.input);
    return await tool.run(await toolContext(ctx, args.caller), input);
  },
});

export const write = internalMutation({
  args: vToolCall,
  returns: v.any(),
  handler: async (ctx: MutationCtx, args) => {
    const tool = toolNamed(args.tool);
    const input = parseInput(tool, args.input);
    return await tool.run(await toolContext(ctx, args.caller), input);
  },
});

/** What a write tool would do, for the chat's confirmation card. Changes nothing. */
export const preview = internalQuery({
  args: vToolCall,
  returns: v.object({ summary: v.string(), feeMinor: v.optional(v.number()), allowed: v.optional(v.boolean()) }),
  handler: async (ctx, args): Promise<Preview> => {
    const tool = toolNamed(args.tool);
    const input = parseInput(tool, args.input);
    const tc = await toolContext(ctx, args.caller);
    if (tool.preview === undefined) return { summary: `Run ${tool.name}.` };
    return await tool.preview(tc, input);
  },
});

/**
 * For MCP: resolves an admitted API key to the business it acts for (the HTTP action has
 * admitted it through the REST gate moments before).
 */
export const keyCaller = internalQuery({
  args: { apiKeyId: v.id("apiKeys"), businessId: v.id("businesses") },
  returns: v.object({ role: v.string(), name: v.string() }),
  handler: async (ctx, args) => {
    const tc = await toolContext(ctx, { kind: "api_key", ...args });
    return { role: tc.role, name: tc.user.name };
  },
});
