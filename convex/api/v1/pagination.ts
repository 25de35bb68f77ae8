/**
 * Cursor pagination for every list.
 *
 * A list reads one index range of the API key's business with Convex `paginate`, whose
 * cursor is a position in that index (the sort key, then `_creationTime` and `_id`), so a
 * walk neither skips nor repeats documents when others are inserted between pages: inserts
 * behind the cursor are not seen, inserts ahead of it are seen once.
 *
 * The API wraps that cursor opaquely together with a fingerprint of the list's filters and
 * order, so a cursor cannot be replayed against a different query. Any cursor the API did
 * not issue for this list (garbage, truncated, another list's, a tampered inner cursor that
 * the engine refuses) is 400 INVALID_CURSOR on `cursor`, never a 500.
 *
 * Plain module: no registered functions.
 */
import type { PaginationOptions, PaginationResult } from "convex/server";
import { ConvexError } from "convex/values";
import { appError } from "../../errors";

export const DEFAULT_LIMIT = 20;
export const MAX_LIMIT = 100;

export type ListPage<T> = { object: "list"; data: T[]; has_more: boolean; next_cursor: string | null };

/** What the internal list functions receive: Convex pagination options. */
export type PageRequest = { numItems: number; cursor: string | null };

function toBase64Url(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function fromBase64Url(text: string): string {
  const padded = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
  const binary = atob(padded);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
}

/** FNV-1a of the list's shape (not a security measure: it only catches mixed-up cursors). */
export function listFingerprint(shape: Record<string, unknown>): string {
  const text = JSON.stringify(Object.keys(shape).sort().map((k) => [k, shape[k] ?? null]));
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36);
}

export function encodeCursor(convexCursor: string, fingerprint: string): string {
  return toBase64Url(JSON.stringify({ v: 1, c: convexCursor, f: fingerprint }));
}

function invalidCursor(message = "cursor is not a cursor this API returned; start again without it.") {
  return appError("INVALID_CURSOR", message, { param: "cursor" });
}

/** The Convex cursor inside an API cursor, after checking that it belongs to this list. */
export function decodeCursor(cursor: string | undefined, fingerprint: string): string | null {
  if (cursor === undefined || cursor === "") return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(fromBase64Url(cursor));
  } catch {
    throw invalidCursor();
  }
  const p = parsed as { v?: unknown; c?: unknown; f?: unknown };
  if (typeof parsed !== "object" || parsed === null || p.v !== 1 || typeof p.c !== "string" || p.c === "" || typeof p.f !== "string") {
    throw invalidCursor();
  }
  if (p.f !== fingerprint) throw invalidCursor("cursor belongs to a list with other filters or another order.");
  return p.c;
}

/**
 * Whether `paginate` failed because of the cursor it was given, as each engine reports it:
 * Convex (and the local backend) answer "Failed to parse cursor" for a cursor they cannot
 * decode and a ConvexError `{ paginationError: "InvalidCursor" }` for a cursor of another
 * query; convex-test's mock parses its cursors as JSON, so its refusal is the parser's
 * message ("... is not valid JSON", "JSON.parse(...).map is not a function").
 */
function isCursorError(error: unknown): boolean {
  if (error instanceof ConvexError) {
    const data = error.data as { paginationError?: unknown } | null;
    return typeof data === "object" && data !== null && data.paginationError === "InvalidCursor";
  }
  if (!(error instanceof Error)) return false;
  // convex-test rethrows its JSON.parse failure as a plain Error with the parser's message.
  return /Failed to parse cursor|^InvalidCursor\b|\bJSON\b/.test(error.message);
}

/**
 * `query.paginate` from a decoded cursor. The inner cursor is the engine's and opaque here:
 * one that was tampered with inside a well-formed wrapper is refused by the engine, which is
 * the client's fault (INVALID_CURSOR), not ours. Any other failure stays what it is.
 */
export async function paginateFrom<T>(
  query: { paginate(options: PaginationOptions): Promise<PaginationResult<T>> },
  numItems: number,
  cursor: string | null,
): Promise<PaginationResult<T>> {
  if (cursor === null) return await query.paginate({ numItems, cursor });
  try {
    return await query.paginate({ numItems, cursor });
  } catch (error) {
    if (isCursorError(error)) throw invalidCursor();
    throw error;
  }
}

/** Builds the API page from a Convex pagination result. */
export function toListPage<T, D>(
  result: { page: D[]; isDone: boolean; continueCursor: string },
  present: (doc: D) => T | null,
  fingerprint: string,
): ListPage<T> {
  const data: T[] = [];
  for (const doc of result.page) {
    const item = present(doc);
    if (item !== null) data.push(item);
  }
  return {
    object: "list",
    data,
    has_more: !result.isDone,
    next_cursor: result.isDone ? null : encodeCursor(result.continueCursor, fingerprint),
  };
}
