/**
 * API key format, hashing and scope rules. Pure (Web Crypto only), used by the key
 * management functions, the request authorizer and the tests.
 *
 * A key is `bk_test_` or `bk_live_` followed by 32 base64url characters (24 random bytes).
 * Only its SHA-256 (hex) is stored; the visible `prefix` (mode + 6 characters) identifies it
 * in lists. The full key is shown once, when created or rotated.
 */
import type { Infer } from "convex/values";
import { apiScopeResources, type vApiScope } from "../schema";

export type ApiScope = Infer<typeof vApiScope>;
export type ApiScopeResource = (typeof apiScopeResources)[number];
export type KeyMode = "test" | "live";

export const KEY_PATTERN = /^bk_(test|live)_[A-Za-z0-9_-]{16,128}$/;
const PREFIX_RANDOM_CHARS = 6;

function base64Url(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

export function generateApiKey(mode: KeyMode): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return `bk_${mode}_${base64Url(bytes)}`;
}

export function modeOfKey(key: string): KeyMode | null {
  const match = KEY_PATTERN.exec(key);
  return match ? (match[1] as KeyMode) : null;
}

/** "bk_test_3fa9c1": enough to recognise a key in a list, useless to an attacker. */
export function keyPrefix(key: string): string {
  const mode = modeOfKey(key);
  if (mode === null) throw new Error("keyPrefix: not an API key");
  return key.slice(0, `bk_${mode}_`.length + PREFIX_RANDOM_CHARS);
}

export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

export async function hashApiKey(key: string): Promise<string> {
  return await sha256Hex(key);
}

/** Every scope: read and write on every resource type (the demo key, "full access" keys). */
export function allScopes(): ApiScope[] {
  return apiScopeResources.flatMap((resource) => [
    { resource, access: "read" as const },
    { resource, access: "write" as const },
  ]);
}

/** Write access to a resource type includes reading it. */
export function hasScope(scopes: ApiScope[], needed: ApiScope): boolean {
  return scopes.some((s) => s.resource === needed.resource && (s.access === needed.access || s.access === "write"));
}

/** Scopes without duplicates, in a stable order. */
export function normalizeScopes(scopes: ApiScope[]): ApiScope[] {
  const seen = new Set<string>();
  const out: ApiScope[] = [];
  for (const resource of apiScopeResources) {
    for (const access of ["read", "write"] as const) {
      if (scopes.some((s) => s.resource === resource && s.access === access) && !seen.has(`${resource}:${access}`)) {
        seen.add(`${resource}:${access}`);
        out.push({ resource, access });
      }
    }
  }
  return out;
}
