/**
 * One transaction per REST command: the request's admission (`gate.ts`: key, failed-auth
 * limits, rate limit, scope), its Idempotency-Key record and the command itself commit
 * together, so a booking made over REST costs one durable transaction on the request path.
 *
 *   HTTP action ──► <command mutation>(request, input) = runAdmitted(ctx, request, run)
 *                   admit → idempotency (replay / mismatch / in flight) → run → record response
 *
 * Exactly once: the response is recorded in the transaction that did the work, so a retry
 * with the same Idempotency-Key either sees the record (and replays it) or conflicts with
 * the first transaction and is retried by the engine after it, then replays. No "in flight"
 * state is needed on this path (records other paths left in flight are still honoured).
 *
 * A domain error thrown by the command rolls the whole transaction back (admission count and
 * record too): the HTTP action then calls `settleCommandError`, which counts the request and
 * records the error as the key's answer (a second transaction, on the error path only). An
 * unexpected failure records nothing, so the same key may be retried.
 *
 * Plain module, plus the one mutation of the error path.
 */
import { v, type Infer } from "convex/values";
import type { Id } from "../_generated/dataModel";
import type { MutationCtx } from "../_generated/server";
import { internalMutation } from "../functions";
import { admit } from "./gate";
import { freshIdempotencyFields, idempotencyDecision, idempotencyRecord, vPresented, vRate, vRefusal } from "./internalRequests";

const vStoredResponse = v.object({ status: v.number(), body: v.string() });

/** What the HTTP action passes to a command mutation besides the command's own input. */
export const vCommandRequest = v.object({
  ...vPresented,
  /** The route's success status, recorded with the response for replays. */
  status: v.number(),
  idempotency: v.optional(v.object({ key: v.string(), requestHash: v.string() })),
});
export type CommandRequest = Infer<typeof vCommandRequest>;

export const vCommandOutcome = v.union(
  vRefusal,
  v.object({ ok: v.literal(true), kind: v.literal("done"), response: vStoredResponse, rate: vRate }),
  v.object({ ok: v.literal(true), kind: v.literal("replay"), response: vStoredResponse, rate: vRate }),
  v.object({ ok: v.literal(true), kind: v.literal("mismatch"), rate: vRate }),
  v.object({ ok: v.literal(true), kind: v.literal("in_flight"), rate: vRate }),
);
export type CommandOutcome = Infer<typeof vCommandOutcome>;

export type Caller = { businessId: Id<"businesses">; apiKeyId: Id<"apiKeys"> };

async function recordResponse(ctx: MutationCtx, apiKeyId: Id<"apiKeys">, request: CommandRequest, response: { status: number; body: string }) {
  if (request.idempotency === undefined) return;
  const { key, requestHash } = request.idempotency;
  const fields = { ...freshIdempotencyFields(requestHash, request.now), status: "completed" as const, response };
  const existing = await idempotencyRecord(ctx, apiKeyId, key);
  if (existing === null) await ctx.db.insert("idempotencyRecords", { apiKeyId, key, ...fields });
  else await ctx.db.patch("idempotencyRecords", existing._id, fields);
}

/** Admits the request, honours its Idempotency-Key, runs the command and records its answer. */
export async function runAdmitted(ctx: MutationCtx, request: CommandRequest, run: (caller: Caller) => Promise<unknown>): Promise<CommandOutcome> {
  const admission = await admit(ctx, request);
  if (!admission.ok) return admission;
  const caller = { businessId: admission.businessId, apiKeyId: admission.apiKeyId };
  if (request.idempotency !== undefined) {
    const existing = await idempotencyRecord(ctx, caller.apiKeyId, request.idempotency.key);
    const decision = idempotencyDecision(existing, request.idempotency.requestHash, request.now);
    if (decision.kind === "replay") return { ok: true, kind: "replay", response: decision.response, rate: admission.rate };
    if (decision.kind === "mismatch" || decision.kind === "in_flight") return { ok: true, kind: decision.kind, rate: admission.rate };
  }
  const response = { status: request.status, body: JSON.stringify(await run(caller)) };
  await recordResponse(ctx, caller.apiKeyId, request, response);
  return { ok: true, kind: "done", response, rate: admission.rate };
}

/**
 * After a command failed with a domain error (its transaction rolled back): counts the
 * request and records the error as the Idempotency-Key's answer, unless another request with
 * the key got there first (then that answer is replayed).
 */
export const settleCommandError = internalMutation({
  args: { request: vCommandRequest, response: vStoredResponse },
  returns: v.union(
    v.object({ kind: v.literal("answer"), rate: v.optional(vRate) }),
    v.object({ kind: v.literal("replay"), response: vStoredResponse, rate: vRate }),
  ),
  handler: async (ctx, { request, response }) => {
    const admission = await admit(ctx, request);
    if (!admission.ok) return { kind: "answer" as const };
    const rate = admission.rate;
    if (request.idempotency === undefined) return { kind: "answer" as const, rate };
    const existing = await idempotencyRecord(ctx, admission.apiKeyId, request.idempotency.key);
    const decision = idempotencyDecision(existing, request.idempotency.requestHash, request.now);
    if (decision.kind === "replay") return { kind: "replay" as const, response: decision.response, rate };
    if (decision.kind === "proceed") await recordResponse(ctx, admission.apiKeyId, request, response);
    return { kind: "answer" as const, rate };
  },
});
