/**
 * Sign-in tickets of the accounts' front door (authTickets.ts, docs/ACCOUNTS.md): what they
 * are and how `auth:signIn`'s providers (auth.ts) check them.
 *
 * A ticket is `<payload>.<signature>`, both base64url: the payload is JSON
 * `{ id, p: purpose, exp }` (a random 128-bit id, "sign-in" or "send-code", expiry in epoch
 * ms, SIGN_IN_TICKET_TTL_MS after issue), the signature its HMAC-SHA256 with
 * AUTH_TICKET_SECRET. It is good for one call: `requireSignInTicket` checks signature, expiry
 * and purpose without reading anything, then records its id as used (`authTickets.consume`)
 * before the flow writes anything; a used id is refused.
 *
 * Plain module: no registered functions.
 */
import type { GenericActionCtx } from "convex/server";
import { SIGN_IN_TICKET_TTL_MS, signInTicketPurpose, type SignInTicketPurpose } from "../../domain/signInTickets";
import { internal } from "../_generated/api";
import type { DataModel } from "../_generated/dataModel";
import { env } from "../env";
import { appError } from "../errors";

export type TicketClaims = { id: string; purpose: SignInTicketPurpose; expiresAt: number };

const encoder = new TextEncoder();

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64url(text: string): Uint8Array<ArrayBuffer> | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) return null;
  try {
    const binary = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  } catch {
    return null;
  }
}

async function hmacKey(secret: string): Promise<CryptoKey> {
  return await crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, ["sign", "verify"]);
}

function ticketSecret(): string {
  const secret = env.authTicketSecret();
  if (secret === undefined) throw appError("UNSUPPORTED", "Accounts are not enabled on this deployment.");
  return secret;
}

/** A fresh ticket for `purpose`, valid SIGN_IN_TICKET_TTL_MS from `now`. */
export async function signTicket(purpose: SignInTicketPurpose, now: number, secret = ticketSecret()): Promise<{ ticket: string; expiresAt: number }> {
  const id = new Uint8Array(16);
  crypto.getRandomValues(id);
  const expiresAt = now + SIGN_IN_TICKET_TTL_MS;
  const payload = base64url(encoder.encode(JSON.stringify({ id: base64url(id), p: purpose, exp: expiresAt })));
  const signature = new Uint8Array(await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(payload)));
  return { ticket: `${payload}.${base64url(signature)}`, expiresAt };
}

/** The ticket's claims when its signature is this deployment's, else null (malformed, forged). */
export async function readTicket(ticket: unknown, secret = ticketSecret()): Promise<TicketClaims | null> {
  if (typeof ticket !== "string" || ticket.length > 512) return null;
  const [payload, signatureText, extra] = ticket.split(".");
  if (payload === undefined || signatureText === undefined || extra !== undefined) return null;
  const signature = fromBase64url(signatureText);
  if (signature === null || signature.length !== 32) return null;
  const valid = await crypto.subtle.verify("HMAC", await hmacKey(secret), signature, encoder.encode(payload));
  if (!valid) return null;
  const json = fromBase64url(payload);
  if (json === null) return null;
  try {
    const claims = JSON.parse(new TextDecoder().decode(json)) as { id?: unknown; p?: unknown; exp?: unknown };
    if (typeof claims.id !== "string" || (claims.p !== "sign-in" && claims.p !== "send-code") || typeof claims.exp !== "number") return null;
    return { id: claims.id, purpose: claims.p, expiresAt: claims.exp };
  } catch {
    return null;
  }
}

const ASK_AGAIN = "Ask the sign-in page for a new one (POST /auth/ticket) and try again.";

/**
 * Refuses the call unless `params.ticket` is a valid, unexpired, unused ticket for what the
 * call does (`signInTicketPurpose`), and uses it up. Called first in the providers of
 * auth.ts, before the flow reads or writes anything of the account; a refusal writes nothing.
 */
export async function requireSignInTicket(ctx: GenericActionCtx<DataModel>, provider: string, params: Record<string, unknown>): Promise<void> {
  const purpose = signInTicketPurpose(provider, params);
  if (purpose === null) return;
  if (params.ticket === undefined) {
    throw appError("INVALID_ARGUMENT", `A sign-in ticket is required for this step. ${ASK_AGAIN}`, { param: "ticket" });
  }
  const claims = await readTicket(params.ticket);
  if (claims === null) throw appError("INVALID_ARGUMENT", `The sign-in ticket is not valid. ${ASK_AGAIN}`, { param: "ticket" });
  if (claims.expiresAt <= Date.now()) throw appError("EXPIRED", `The sign-in ticket has expired. ${ASK_AGAIN}`, { param: "ticket" });
  if (claims.purpose !== purpose) {
    throw appError("INVALID_ARGUMENT", `This sign-in ticket is for ${claims.purpose === "sign-in" ? "signing in" : "sending a code"}, not for this step. ${ASK_AGAIN}`, {
      param: "ticket",
    });
  }
  const fresh = await ctx.runMutation(internal.authTickets.consume, { ticketId: claims.id, expiresAt: claims.expiresAt });
  if (!fresh) throw appError("CONFLICT", `This sign-in ticket was already used: each one is good for one step. ${ASK_AGAIN}`, { param: "ticket" });
}
