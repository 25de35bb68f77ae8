"use node";
/**
 * The model's turn in a chat thread: any OpenAI-compatible endpoint (ASSISTANT_BASE_URL,
 * ASSISTANT_MODEL, ASSISTANT_API_KEY) through the `ai` SDK. Read tools run as the person
 * (run.ts); a write tool becomes a pending card with its preview and waits for Confirm
 * (chat.decide). Up to 5 model steps per turn.
 *
 * The reply streams: each step's text is one message, written as it arrives (at most every
 * STREAM_FLUSH_MS) and marked `streaming` until its step ends, so the panel's subscription
 * shows the words as the model writes them.
 */
import { createOpenAICompatible } from "@ai-sdk/openai-compatible";
import { stepCountIs, streamText, tool, type ModelMessage, type ToolSet } from "ai";
import { v } from "convex/values";
import { ConvexError } from "convex/values";
import { internal } from "../_generated/api";
import type { Id } from "../_generated/dataModel";
import { internalAction, type ActionCtx } from "../_generated/server";
import { env } from "../env";
import { isAppErrorData } from "../errors";
import type { AssistantCaller } from "./run";
import { TOOLS } from "./tools";

const STREAM_FLUSH_MS = 150;

function errorText(error: unknown): string {
  if (error instanceof ConvexError && isAppErrorData(error.data)) return `${error.data.code}: ${error.data.message}`;
  return error instanceof Error ? error.message : String(error);
}

function toolsFor(ctx: ActionCtx, threadId: Id<"assistantThreads">, caller: AssistantCaller): ToolSet {
  const set: ToolSet = {};
  for (const t of TOOLS) {
    set[t.name] = tool({
      description: t.description,
      inputSchema: t.input,
      execute: async (input: Record<string, unknown>) => {
        const args = { caller, tool: t.name, input };
        try {
          if (t.kind === "read") {
            const result: unknown = await ctx.runQuery(internal.assistant.run.read, args);
            await ctx.runMutation(internal.assistant.chat.record, { threadId, role: "tool", text: t.name, tool: { name: t.name, input, status: "done", result } });
            return result;
          }
          const preview = await ctx.runQuery(internal.assistant.run.preview, args);
          await ctx.runMutation(internal.assistant.chat.record, {
            threadId,
            role: "tool",
            text: preview.summary,
            tool: { name: t.name, input, status: "pending", summary: preview.summary, ...(preview.feeMinor !== undefined ? { feeMinor: preview.feeMinor } : {}) },
          });
          return { awaitingConfirmation: true, summary: preview.summary, note: "Nothing changed yet: the person confirms or dismisses this on a card." };
        } catch (error) {
          const text = errorText(error);
          await ctx.runMutation(internal.assistant.chat.record, { threadId, role: "tool", text, tool: { name: t.name, input, status: "failed", summary: text } });
          return { error: text };
        }
      },
    });
  }
  return set;
}

export const reply = internalAction({
  args: { threadId: v.id("assistantThreads") },
  returns: v.null(),
  handler: async (ctx, args) => {
    const config = env.assistantModel();
    if (config === undefined) return null;
    const history = await ctx.runQuery(internal.assistant.chat.history, { threadId: args.threadId });
    const caller: AssistantCaller = { kind: "user", userId: history.userId, businessId: history.businessId };
    const provider = createOpenAICompatible({ name: "assistant", baseURL: config.baseUrl, ...(config.apiKey ? { apiKey: config.apiKey } : {}) });
    const messages: ModelMessage[] = history.messages
      .filter((m) => m.role !== "error")
      .map((m) => (m.role === "user" ? { role: "user" as const, content: m.text } : { role: "assistant" as const, content: m.text }));
    // The step's text so far and the message it is written into (created on its first words).
    let text = "";
    let messageId: Id<"assistantMessages"> | null = null;
    let flushedAt = 0;
    const flush = async (done: boolean) => {
      if (text.trim() === "" && messageId === null) return;
      if (messageId === null) messageId = await ctx.runMutation(internal.assistant.chat.record, { threadId: args.threadId, role: "assistant", text, streaming: !done });
      else await ctx.runMutation(internal.assistant.chat.streamTo, { messageId, text, done });
      flushedAt = Date.now();
    };
    try {
      const result = streamText({
        model: provider.chatModel(config.model),
        system:
          `You are the booking platform's assistant for ${history.name} (${history.role}). Times are in ${history.timeZone}. ` +
          "Use the tools; never invent bookings or customers. Tools that change data are shown to the person as a card to confirm.",
        messages,
        tools: toolsFor(ctx, args.threadId, caller),
        stopWhen: stepCountIs(5),
      });
      for await (const part of result.fullStream) {
        if (part.type === "text-delta") {
          text += part.text;
          if (Date.now() - flushedAt >= STREAM_FLUSH_MS) await flush(false);
        } else if (part.type === "finish-step") {
          await flush(true);
          text = "";
          messageId = null;
        } else if (part.type === "error") {
          throw part.error;
        }
      }
    } catch (error) {
      if (messageId !== null) await ctx.runMutation(internal.assistant.chat.streamTo, { messageId, text, done: true });
      await ctx.runMutation(internal.assistant.chat.record, { threadId: args.threadId, role: "error", text: `The assistant could not answer: ${errorText(error)}` });
    }
    return null;
  },
});
