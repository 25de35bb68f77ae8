/**
 * The staff assistant's chat in the portal: threads per person and business, 20 messages an
 * hour per person (model/abuseLimits.ts), replies by the model in `reply.ts` (scheduled).
 *
 * Read tools run during the reply; a write tool the model asks for is stored as a pending
 * card with what it would do (`tools.preview`, fee included) and runs only when the person
 * presses Confirm (`decide`), through the same tool runner as MCP (`run.ts`), as them.
 *
 * A confirmed change that can be taken back (`tools.undo`: a move, a status, a booking made)
 * keeps its inverse tool call on the card for UNDO_WINDOW_MS; `undo` runs it, as the same
 * person, only while the booking is still as the change left it and only free of any fee.
 */
import { v } from "convex/values";
import { internal } from "../_generated/api";
import type { Doc, Id } from "../_generated/dataModel";
import { requireBusinessRole, requireUser } from "../access";
import { env } from "../env";
import { appError } from "../errors";
import { mutation as rawMutation, type MutationCtx as RawMutationCtx } from "../_generated/server";
import { internalMutation, internalQuery, mutation, query, type QueryCtx } from "../functions";
import { countAssistantMessage } from "../model/abuseLimits";
import { userByTokenIdentifier } from "../model/accountIdentity";
import { requireText } from "../model/validation";
import { toolContext } from "./run";
import { parseInput, toolNamed, type AssistantTool, type ToolContext } from "./tools";

const MAX_MESSAGES = 200;
const UNDO_WINDOW_MS = 15 * 60_000;

async function ownThread(ctx: QueryCtx, threadId: Id<"assistantThreads">) {
  const user = requireUser(ctx);
  const thread = await ctx.db.get("assistantThreads", threadId);
  if (thread === null || thread.userId !== user._id) throw appError("NOT_FOUND", "Conversation not found.", { param: "threadId" });
  await requireBusinessRole(ctx, thread.businessId, "staff");
  return thread;
}

/** Whether a model is configured; without one the panel says how to connect one. */
export const status = query({
  args: { businessId: v.id("businesses") },
  returns: v.object({ configured: v.boolean(), model: v.union(v.string(), v.null()) }),
  handler: async (ctx, args) => {
    await requireBusinessRole(ctx, args.businessId, "staff");
    const model = env.assistantModel();
    return { configured: model !== undefined, model: model?.model ?? null };
  },
});

export const threads = query({
  args: { businessId: v.id("businesses") },
  returns: v.array(v.object({ threadId: v.id("assistantThreads"), title: v.string(), updatedAt: v.number() })),
  handler: async (ctx, args) => {
    const { user } = await requireBusinessRole(ctx, args.businessId, "staff");
    const rows = await ctx.db
      .query("assistantThreads")
      .withIndex("by_userId_and_businessId_and_updatedAt", (q) => q.eq("userId", user._id).eq("businessId", args.businessId))
      .order("desc")
      .take(30);
    return rows.map((t) => ({ threadId: t._id, title: t.title, updatedAt: t.updatedAt }));
  },
});

const vMessage = v.object({
  messageId: v.id("assistantMessages"),
  role: v.string(),
  text: v.string(),
  streaming: v.boolean(),
  tool: v.optional(
    v.object({
      name: v.string(),
      status: v.string(),
      summary: v.optional(v.string()),
      result: v.optional(v.any()),
      undo: v.optional(v.object({ summary: v.string(), until: v.number() })),
    }),
  ),
});

export const messages = query({
  args: { threadId: v.id("assistantThreads") },
  returns: v.array(vMessage),
  handler: async (ctx, args) => {
    await ownThread(ctx, args.threadId);
    const rows = await ctx.db.query("assistantMessages").withIndex("by_threadId", (q) => q.eq("threadId", args.threadId)).take(MAX_MESSAGES);
    return rows.map((m) => ({
      messageId: m._id,
      role: m.role,
      text: m.text,
      streaming: m.streaming === true,
      ...(m.tool
        ? {
            tool: {
              name: m.tool.name,
              status: m.tool.status,
              summary: m.tool.summary,
              result: m.tool.result,
              ...(m.tool.undo ? { undo: { summary: m.tool.undo.summary, until: m.tool.undo.until } } : {}),
            },
          }
        : {}),
    }));
  },
});

export const send = mutation({
  args: { businessId: v.id("businesses"), threadId: v.optional(v.id("assistantThreads")), text: v.string() },
  returns: v.id("assistantThreads"),
  handler: async (ctx, args) => {
    const { user } = await requireBusinessRole(ctx, args.businessId, "staff");
    const text = requireText(args.text, "text", 4000);
    if (env.assistantModel() === undefined) throw appError("UNSUPPORTED", "No assistant model is configured (set ASSISTANT_BASE_URL and ASSISTANT_MODEL).");
    await countAssistantMessage(ctx, user._id);
    const now = Date.now();
    let threadId = args.threadId;
    if (threadId === undefined) {
      threadId = await ctx.db.insert("assistantThreads", { businessId: args.businessId, userId: user._id, title: text.slice(0, 60), createdAt: now, updatedAt: now });
    } else {
      const thread = await ownThread(ctx, threadId);
      if (thread.businessId !== args.businessId) throw appError("NOT_FOUND", "Conversation not found.", { param: "threadId" });
      await ctx.db.patch("assistantThreads", threadId, { updatedAt: now });
    }
    await ctx.db.insert("assistantMessages", { threadId, role: "user", text, createdAt: now });
    await ctx.scheduler.runAfter(0, internal.assistant.reply.reply, { threadId });
    return threadId;
  },
});

/** A card of the signed-in person's own thread (NOT_FOUND otherwise, as for any other id). */
async function ownCard(ctx: RawMutationCtx, messageId: Id<"assistantMessages">) {
  const identity = await ctx.auth.getUserIdentity();
  const user =
    identity === null ? null : await userByTokenIdentifier(ctx, identity.tokenIdentifier);
  const message = await ctx.db.get("assistantMessages", messageId);
  const thread = message === null ? null : await ctx.db.get("assistantThreads", message.threadId);
  if (user === null) throw appError("UNAUTHENTICATED", "Sign in to continue.");
  if (message === null || message.tool === undefined || thread === null || thread.userId !== user._id) {
    throw appError("NOT_FOUND", "Action not found.", { param: "messageId" });
  }
  const tc = await toolContext(ctx, { kind: "user", userId: thread.userId, businessId: thread.businessId });
  return { message, tool: message.tool, thread, tc };
}

/** The booking a write tool call acts on, read before it runs (null when the call makes one). */
async function bookingBefore(ctx: RawMutationCtx, input: Record<string, unknown>): Promise<Doc<"bookings"> | null> {
  const raw = input.bookingId ?? input.holdBookingId;
  const id = typeof raw === "string" ? ctx.db.normalizeId("bookings", raw) : null;
  return id === null ? null : await ctx.db.get("bookings", id);
}

/** The person's answer to a pending card: Confirm runs the tool as them; Dismiss drops it. */
// Raw mutations: the tool calls the portal's mutation builder itself, which applies the
// triggers and loads the viewer; wrapping here too would run each trigger twice.
export const decide = rawMutation({
  args: { messageId: v.id("assistantMessages"), confirm: v.boolean() },
  returns: v.object({ status: v.string() }),
  handler: async (ctx, args) => {
    const { message, tool: card, thread, tc } = await ownCard(ctx, args.messageId);
    if (card.status !== "pending") throw appError("CONFLICT", "This action was already answered.", { param: "messageId" });
    if (!args.confirm) {
      await ctx.db.patch("assistantMessages", message._id, { tool: { ...card, status: "dismissed" }, text: "Dismissed." });
      return { status: "dismissed" };
    }
    const tool = toolNamed(card.name);
    const input = parseInput(tool, { ...card.input, ...(card.feeMinor !== undefined ? { expectedFeeMinor: card.feeMinor } : {}) });
    const before = tool.undo === undefined ? null : await bookingBefore(ctx, input);
    // Runs in this transaction: a refusal leaves the card pending and writes nothing.
    const result = await tool.run(tc, input);
    const undo = tool.undo === undefined ? undefined : await undoFor(ctx, tc, tool.undo, before, result);
    await ctx.db.patch("assistantMessages", message._id, {
      tool: { ...card, status: "confirmed", result, ...(undo ? { undo } : {}) },
      text: `Done: ${card.summary ?? tool.name}`,
    });
    await ctx.scheduler.runAfter(0, internal.assistant.reply.reply, { threadId: thread._id });
    return { status: "confirmed" };
  },
});

async function undoFor(
  ctx: RawMutationCtx,
  tc: ToolContext,
  plan: NonNullable<AssistantTool["undo"]>,
  before: Doc<"bookings"> | null,
  result: unknown,
) {
  const raw = (result as { bookingId?: unknown } | null)?.bookingId;
  const id = typeof raw === "string" ? ctx.db.normalizeId("bookings", raw) : null;
  const after = id === null ? null : await ctx.db.get("bookings", id);
  if (after === null) return undefined;
  const inverse = await plan(tc, { before, after });
  if (inverse === undefined) return undefined;
  return { ...inverse, until: tc.now + UNDO_WINDOW_MS, bookingId: after._id, start: after.start, status: after.status };
}

/** Takes back a confirmed change (the card's Undo), through the same tool runner, as the person. */
export const undo = rawMutation({
  args: { messageId: v.id("assistantMessages") },
  returns: v.object({ status: v.string() }),
  handler: async (ctx, args) => {
    const { message, tool: card, tc } = await ownCard(ctx, args.messageId);
    const plan = card.undo;
    if (card.status === "undone") throw appError("CONFLICT", "This change was already undone.", { param: "messageId" });
    if (card.status !== "confirmed" || plan === undefined) throw appError("CONFLICT", "This action cannot be undone.", { param: "messageId" });
    if (tc.now > plan.until) throw appError("CONFLICT", "It is too late to undo this change; make the change again instead.", { param: "messageId" });
    const booking = await ctx.db.get("bookings", plan.bookingId);
    if (booking === null || booking.start !== plan.start || booking.status !== plan.status) {
      throw appError("CONFLICT", "The booking has changed since, so this cannot be undone; look at it first.", { param: "messageId" });
    }
    const tool = toolNamed(plan.tool);
    await tool.run(tc, parseInput(tool, plan.input));
    await ctx.db.patch("assistantMessages", message._id, { tool: { ...card, status: "undone" }, text: `Undone: ${plan.summary}` });
    return { status: "undone" };
  },
});

// ---------------------------------------------------------------------------------------
// For the reply action
// ---------------------------------------------------------------------------------------

export const history = internalQuery({
  args: { threadId: v.id("assistantThreads") },
  returns: v.object({ businessId: v.id("businesses"), userId: v.id("users"), name: v.string(), role: v.string(), timeZone: v.string(), messages: v.array(v.object({ role: v.string(), text: v.string() })) }),
  handler: async (ctx, args) => {
    const thread = (await ctx.db.get("assistantThreads", args.threadId))!;
    const tc = await toolContext(ctx, { kind: "user", userId: thread.userId, businessId: thread.businessId });
    const rows = await ctx.db.query("assistantMessages").withIndex("by_threadId", (q) => q.eq("threadId", args.threadId)).take(MAX_MESSAGES);
    return {
      businessId: thread.businessId,
      userId: thread.userId,
      name: tc.user.name,
      role: tc.role,
      timeZone: tc.business.timeZone,
      messages: rows.map((m) => ({
        role: m.role,
        text: m.tool ? `[${m.tool.name} ${m.tool.status}] ${m.tool.summary ?? ""} ${m.tool.result === undefined ? "" : JSON.stringify(m.tool.result)}` : m.text,
      })),
    };
  },
});

export const record = internalMutation({
  args: {
    threadId: v.id("assistantThreads"),
    role: v.union(v.literal("assistant"), v.literal("tool"), v.literal("error")),
    text: v.string(),
    streaming: v.optional(v.boolean()),
    tool: v.optional(
      v.object({
        name: v.string(),
        input: v.any(),
        status: v.union(v.literal("done"), v.literal("pending"), v.literal("failed")),
        summary: v.optional(v.string()),
        feeMinor: v.optional(v.number()),
        result: v.optional(v.any()),
      }),
    ),
  },
  returns: v.id("assistantMessages"),
  handler: async (ctx, args) => {
    return await ctx.db.insert("assistantMessages", { ...args, createdAt: Date.now() });
  },
});

/** A streamed reply's text so far; `done` when its step ended. */
export const streamTo = internalMutation({
  args: { messageId: v.id("assistantMessages"), text: v.string(), done: v.boolean() },
  returns: v.null(),
  handler: async (ctx, args) => {
    await ctx.db.patch("assistantMessages", args.messageId, { text: args.text, streaming: !args.done });
    return null;
  },
});
