/**
 * Verifies the JWT the portal gives Convex, so the same token opens private rooms.
 * jose on Web Crypto: runs in workerd and in Node.
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, errors as joseErrors, jwtVerify, type JWTVerifyGetKey } from "jose";
import { ACCOUNTS_ROOM_AUDIENCE, type AuthConfig } from "./env";
import { identityFromClaims, type Identity } from "./identity";

export type TokenVerification =
  | { ok: true; identity: Identity }
  | { ok: false; status: 401; code: "missing_token" | "invalid_token"; message: string };

const keySetCache = new Map<string, JWTVerifyGetKey>();

/** Parses LOCAL_AUTH_JWKS: a JWKS JSON string, or a data: URI (base64 or percent-encoded) of one. */
export function parseJwks(value: string): { keys: Record<string, unknown>[] } {
  let json = value.trim();
  if (json.startsWith("data:")) {
    const comma = json.indexOf(",");
    if (comma < 0) throw new Error("LOCAL_AUTH_JWKS data: URI has no comma");
    const meta = json.slice(5, comma);
    const payload = json.slice(comma + 1);
    json = meta.endsWith(";base64") ? atob(payload) : decodeURIComponent(payload);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error("LOCAL_AUTH_JWKS is not valid JSON");
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new Error("LOCAL_AUTH_JWKS has no keys");
  return { keys: keys as Record<string, unknown>[] };
}

function localKeySet(jwks: string): JWTVerifyGetKey {
  const cacheKey = `local:${jwks}`;
  let keySet = keySetCache.get(cacheKey);
  if (!keySet) {
    keySet = createLocalJWKSet(parseJwks(jwks) as Parameters<typeof createLocalJWKSet>[0]);
    keySetCache.set(cacheKey, keySet);
  }
  return keySet;
}

function remoteKeySet(issuer: string): JWTVerifyGetKey {
  const cacheKey = `remote:${issuer}`;
  let keySet = keySetCache.get(cacheKey);
  if (!keySet) {
    keySet = createRemoteJWKSet(new URL(`${issuer}/.well-known/jwks.json`));
    keySetCache.set(cacheKey, keySet);
  }
  return keySet;
}

type TrustedIssuer = { keySet: JWTVerifyGetKey; audience?: string };

function trustedIssuer(config: AuthConfig, issuer: unknown): TrustedIssuer | undefined {
  if (config.localIssuer !== undefined && config.localJwks !== undefined && issuer === config.localIssuer) {
    const audience = config.audience ?? config.localAudience;
    return { keySet: localKeySet(config.localJwks), ...(audience !== undefined ? { audience } : {}) };
  }
  if (config.accountsIssuer !== undefined && issuer === config.accountsIssuer) {
    // Room tokens of accounts (convex/partyTokens.ts): always their own audience, so a
    // Convex access token (aud "convex") never opens a room.
    const keySet = config.accountsJwks !== undefined ? localKeySet(config.accountsJwks) : remoteKeySet(config.accountsIssuer);
    return { keySet, audience: ACCOUNTS_ROOM_AUDIENCE };
  }
  if (config.clerkIssuer !== undefined && issuer === config.clerkIssuer) {
    return { keySet: remoteKeySet(config.clerkIssuer), ...(config.audience !== undefined ? { audience: config.audience } : {}) };
  }
  return undefined;
}

function invalid(message: string): TokenVerification {
  return { ok: false, status: 401, code: "invalid_token", message };
}

/** Verifies signature, issuer, expiry (and audience when configured), then reads the identity claims. */
export async function verifyAccessToken(token: string | null | undefined, config: AuthConfig): Promise<TokenVerification> {
  if (!token) return { ok: false, status: 401, code: "missing_token", message: "a token query parameter is required" };

  let issuer: unknown;
  try {
    issuer = decodeJwt(token).iss;
  } catch {
    return invalid("token is not a JWT");
  }
  const trusted = trustedIssuer(config, issuer);
  if (!trusted) return invalid(`token issuer ${JSON.stringify(issuer)} is not trusted`);

  try {
    const { payload } = await jwtVerify(token, trusted.keySet, {
      issuer: issuer as string,
      ...(trusted.audience !== undefined ? { audience: trusted.audience } : {}),
      clockTolerance: 5,
    });
    const identity = identityFromClaims(payload);
    return identity.ok ? { ok: true, identity: identity.identity } : invalid(identity.message);
  } catch (error) {
    if (error instanceof joseErrors.JOSEError) return invalid(`token rejected: ${error.message}`);
    throw error;
  }
}
