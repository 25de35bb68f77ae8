/**
 * The accounts' front door (docs/ACCOUNTS.md): `POST /auth/ticket` on the deployment's HTTP
 * actions site. Convex functions never see the client's address, so `auth:signIn` cannot
 * limit by it; this HTTP action can. It takes `{"purpose": "sign-in" | "send-code"}`, counts
 * the attempt for the client address (model/clientAddress.ts: the last hop of
 * X-Forwarded-For, as the REST API reads it) on the rate limiter (model/abuseLimits.ts: 20
 * sign-in attempts per 10 minutes, 10 sign-ups / code emails per hour) and answers
 *
 * - 200 `{ticket, expiresAt}`: a signed single-use ticket valid 2 minutes (model/authTickets.ts),
 *   which every abusable `auth:signIn` flow requires in `params.ticket` (auth.ts);
 * - 429 `{error: {code: "RATE_LIMITED", message, retryAfterMs}}` with `Retry-After` (seconds);
 * - 400 for a body that names no purpose, 404 when accounts are off.
 *
 * It answers CORS for the portal's origin (SITE_URL) only. Used ticket ids are kept until
 * they expire (`consume`), then purged hourly (`purgeUsed`).
 */
import type { HttpRouter } from "convex/server";
import { v } from "convex/values";
import { SIGN_IN_TICKET_PATH, SIGN_IN_TICKET_PURPOSES, type SignInTicketPurpose } from "../domain/signInTickets";
import { internal } from "./_generated/api";
import { httpAction } from "./_generated/server";
import { env } from "./env";
import { internalMutation } from "./functions";
import { countFrontDoorTicket } from "./model/abuseLimits";
import { signTicket } from "./model/authTickets";
import { clientAddressOf } from "./model/clientAddress";

const vPurpose = v.union(v.literal("sign-in"), v.literal("send-code"));

/** Counts one ticket for the address; the refusal (with the wait) when over the limit. */
export const admit = internalMutation({
  args: { purpose: vPurpose, clientAddress: v.string() },
  returns: v.union(v.object({ ok: v.literal(true) }), v.object({ ok: v.literal(false), message: v.string(), retryAfterMs: v.number() })),
  handler: async (ctx, args) => await countFrontDoorTicket(ctx, args.purpose, args.clientAddress),
});

/** Records a ticket as used; false when it already was (then nothing is written). */
export const consume = internalMutation({
  args: { ticketId: v.string(), expiresAt: v.number() },
  returns: v.boolean(),
  handler: async (ctx, args) => {
    const used = await ctx.db
      .query("authTicketsUsed")
      .withIndex("by_ticketId", (q) => q.eq("ticketId", args.ticketId))
      .first();
    if (used !== null) return false;
    await ctx.db.insert("authTicketsUsed", { ticketId: args.ticketId, expiresAt: args.expiresAt });
    return true;
  },
});

/** Deletes the records of used tickets past their expiry (hourly cron), a batch at a time. */
export const purgeUsed = internalMutation({
  args: {},
  returns: v.number(),
  handler: async (ctx) => {
    const expired = await ctx.db
      .query("authTicketsUsed")
      .withIndex("by_expiresAt", (q) => q.lt("expiresAt", Date.now()))
      .take(500);
    for (const row of expired) await ctx.db.delete("authTicketsUsed", row._id);
    if (expired.length === 500) await ctx.scheduler.runAfter(0, internal.authTickets.purgeUsed, {});
    return expired.length;
  },
});

/** CORS headers for the portal's origin (nothing for any other origin). */
function corsHeaders(request: Request): Record<string, string> {
  const origin = request.headers.get("origin");
  const allowed = env.siteUrl();
  if (origin === null || allowed === undefined || origin !== allowed) return { Vary: "Origin" };
  return {
    "Access-Control-Allow-Origin": origin,
    "Access-Control-Expose-Headers": "Retry-After",
    Vary: "Origin",
  };
}

function json(request: Request, status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "Content-Type": "application/json; charset=utf-8", "Cache-Control": "no-store", ...corsHeaders(request), ...headers },
  });
}

function refusal(request: Request, status: number, code: string, message: string, headers: Record<string, string> = {}, extra: Record<string, unknown> = {}) {
  return json(request, status, { error: { code, message, ...extra } }, headers);
}

async function purposeOf(request: Request): Promise<SignInTicketPurpose | null> {
  const text = await request.text();
  if (text.length > 1024) return null;
  try {
    const purpose = (JSON.parse(text) as { purpose?: unknown }).purpose;
    return SIGN_IN_TICKET_PURPOSES.find((p) => p === purpose) ?? null;
  } catch {
    return null;
  }
}

const issue = httpAction(async (ctx, request) => {
  if (env.convexAuthJwks() === undefined) return refusal(request, 404, "NOT_FOUND", "Accounts are not enabled on this deployment.");
  const purpose = await purposeOf(request);
  if (purpose === null) {
    return refusal(request, 400, "INVALID_ARGUMENT", 'Send {"purpose": "sign-in"} or {"purpose": "send-code"} as JSON.', {}, { param: "purpose" });
  }
  const admitted = await ctx.runMutation(internal.authTickets.admit, { purpose, clientAddress: clientAddressOf(request) });
  if (!admitted.ok) {
    return refusal(request, 429, "RATE_LIMITED", admitted.message, { "Retry-After": String(Math.max(1, Math.ceil(admitted.retryAfterMs / 1000))) }, {
      retryAfterMs: admitted.retryAfterMs,
    });
  }
  return json(request, 200, await signTicket(purpose, Date.now()));
});

const preflight = httpAction(async (_ctx, request) => {
  const cors = corsHeaders(request);
  if (cors["Access-Control-Allow-Origin"] === undefined) return new Response(null, { status: 204, headers: cors });
  return new Response(null, {
    status: 204,
    headers: { ...cors, "Access-Control-Allow-Methods": "POST", "Access-Control-Allow-Headers": "Content-Type", "Access-Control-Max-Age": "600" },
  });
});

export function registerAuthTicketRoutes(http: HttpRouter) {
  http.route({ path: SIGN_IN_TICKET_PATH, method: "POST", handler: issue });
  http.route({ path: SIGN_IN_TICKET_PATH, method: "OPTIONS", handler: preflight });
}
