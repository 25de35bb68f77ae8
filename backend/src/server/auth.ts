/**
 * Verifies the JWTs clients present (sync `Authenticate` and HTTP `Authorization: Bearer`)
 * against the providers in convex/auth.config.ts, and turns verified claims into the identity
 * functions see, the way Convex does.
 */
import { timingSafeEqual } from "node:crypto";
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  customFetch,
  decodeJwt,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from "jose";
import type { AuthProviderConfig, Identity } from "../engine/types.js";

export class AuthenticationError extends Error {}

/** Who is calling: a verified user (or nobody), and whether it holds the admin key. */
export interface Caller {
  identity: Identity | null;
  admin: boolean;
}

export const ANONYMOUS: Caller = Object.freeze({ identity: null, admin: false });

export interface AuthVerifierOptions {
  providers: () => AuthProviderConfig[];
  /** The only admin key accepted; without one, admin authentication is refused. */
  adminKey?: string;
  /** Used for OIDC discovery and remote JWKS; defaults to the global fetch. */
  fetch?: typeof fetch;
  /** Leeway for exp / nbf / iat, in seconds. */
  clockToleranceSeconds?: number;
}

export interface AuthVerifier {
  verifyUserToken(token: string): Promise<Identity>;
  verifyAdminKey(key: string, impersonating?: Record<string, unknown>): Caller;
}

const DEFAULT_CLOCK_TOLERANCE_SECONDS = 5;
/**
 * What Convex accepts for an OIDC provider (`{domain, applicationID}`): RS256 and EdDSA
 * (convex-backend crates/authentication, `set_allowed_algs`). customJwt providers name their
 * own algorithm, RS256 or ES256.
 */
const OIDC_ALGORITHMS = ["RS256", "EdDSA"] as const;
/**
 * Convex fetches an OIDC provider's discovery document for every token it verifies; here a
 * discovered key set is kept this long, so a provider that rotates its keys (or a deployment
 * whose JWKS variable changed) is picked up without a restart.
 */
const OIDC_DISCOVERY_TTL_MS = 5 * 60_000;

export function createAuthVerifier(options: AuthVerifierOptions): AuthVerifier {
  const fetchImpl = options.fetch ?? fetch;
  const tolerance = options.clockToleranceSeconds ?? DEFAULT_CLOCK_TOLERANCE_SECONDS;
  const keySets = new Map<string, { loadedAt: number; keySet: Promise<LoadedKeySet> }>();

  /** customJwt: the configured JWKS. OIDC: discovery at the token's own issuer, as Convex does. */
  function keySetFor(provider: AuthProviderConfig, tokenIssuer: string): Promise<LoadedKeySet> {
    const cacheKey = JSON.stringify([provider, provider.type === "oidc" ? tokenIssuer : null]);
    const cached = keySets.get(cacheKey);
    if (cached !== undefined && (provider.type === "customJwt" || Date.now() - cached.loadedAt < OIDC_DISCOVERY_TTL_MS)) {
      return cached.keySet;
    }
    const keySet = provider.type === "customJwt" ? loadCustomJwtKeySet(provider, fetchImpl) : discoverKeySet(tokenIssuer, fetchImpl);
    keySets.set(cacheKey, { loadedAt: Date.now(), keySet });
    // A failed discovery must not stick: the issuer may come back.
    keySet.catch(() => keySets.delete(cacheKey));
    return keySet;
  }

  async function verifyWith(provider: AuthProviderConfig, token: string, tokenIssuer: string): Promise<JWTPayload> {
    const { keySet, issuer } = await keySetFor(provider, tokenIssuer);
    const { payload } = await jwtVerify(token, keySet, {
      // OIDC: `iss` must be exactly the issuer of the discovery document (openidconnect's
      // `require_issuer_match`); customJwt: the configured issuer, with or without a slash.
      issuer: issuer ?? issuerVariants(provider.issuer),
      audience: provider.applicationID,
      algorithms: provider.type === "customJwt" ? [provider.algorithm ?? "RS256"] : [...OIDC_ALGORITHMS],
      clockTolerance: tolerance,
      requiredClaims: ["exp", "sub"],
    });
    if (typeof payload.iat === "number" && payload.iat > Date.now() / 1000 + tolerance) {
      throw new AuthenticationError(`Token "iat" claim is in the future`);
    }
    return payload;
  }

  return {
    async verifyUserToken(token) {
      const unverified = decodeUnverified(token);
      const candidates = options
        .providers()
        .filter((provider) => sameIssuer(provider.issuer, unverified.iss))
        .filter((provider) => provider.applicationID === undefined || audienceIncludes(unverified.aud, provider.applicationID));
      if (candidates.length === 0) {
        throw new AuthenticationError(
          `No auth provider found matching the given token (issuer ${JSON.stringify(unverified.iss ?? null)}, ` +
            `audience ${JSON.stringify(unverified.aud ?? null)}). Check convex/auth.config.ts.`,
        );
      }
      let lastError: unknown;
      for (const provider of candidates) {
        try {
          return identityFromClaims(await verifyWith(provider, token, unverified.iss as string));
        } catch (error) {
          lastError = error;
        }
      }
      throw new AuthenticationError(`Could not verify token: ${describeVerificationError(lastError)}`);
    },

    verifyAdminKey(key, impersonating) {
      if (options.adminKey === undefined || options.adminKey.length === 0) {
        throw new AuthenticationError("Admin authentication is not enabled on this backend (no admin key configured)");
      }
      if (!constantTimeEquals(key, options.adminKey)) {
        throw new AuthenticationError("Invalid admin key");
      }
      return { admin: true, identity: impersonating === undefined ? null : impersonatedIdentity(impersonating) };
    },
  };
}

/** A key set, and for OIDC the issuer its discovery document names (tokens must carry exactly it). */
type LoadedKeySet = { keySet: JWTVerifyGetKey; issuer?: string };

async function loadCustomJwtKeySet(provider: AuthProviderConfig, fetchImpl: typeof fetch): Promise<LoadedKeySet> {
  if (!provider.jwks) throw new AuthenticationError(`customJwt provider ${provider.issuer} has no jwks`);
  if (provider.jwks.startsWith("data:")) return { keySet: createLocalJWKSet(parseDataUriJwks(provider.jwks)) };
  return { keySet: createRemoteJWKSet(new URL(provider.jwks), { [customFetch]: fetchImpl }) };
}

/**
 * OpenID Connect discovery the way Convex does it (openidconnect's `discover_async` on the
 * token's issuer): `<iss>/.well-known/openid-configuration`, whose `issuer` must equal `iss`
 * exactly, then its `jwks_uri`. Convex Auth serves both from the deployment's own HTTP
 * actions site (`auth.addHttpRoutes`), so locally this fetches the site of this backend.
 */
async function discoverKeySet(tokenIssuer: string, fetchImpl: typeof fetch): Promise<LoadedKeySet> {
  const discoveryUrl = `${tokenIssuer.replace(/\/+$/, "")}/.well-known/openid-configuration`;
  let response: Response;
  try {
    response = await fetchImpl(discoveryUrl);
  } catch (error) {
    throw new AuthenticationError(`Could not fetch ${discoveryUrl}: ${(error as Error).message}`);
  }
  if (!response.ok) throw new AuthenticationError(`Could not fetch ${discoveryUrl}: HTTP ${response.status}`);
  let configuration: { issuer?: unknown; jwks_uri?: unknown };
  try {
    configuration = (await response.json()) as typeof configuration;
  } catch {
    throw new AuthenticationError(`${discoveryUrl} is not JSON`);
  }
  if (typeof configuration.jwks_uri !== "string") {
    throw new AuthenticationError(`${discoveryUrl} has no jwks_uri`);
  }
  if (configuration.issuer !== tokenIssuer) {
    throw new AuthenticationError(
      `${discoveryUrl} names issuer ${JSON.stringify(configuration.issuer ?? null)}, not the token's ${JSON.stringify(tokenIssuer)}`,
    );
  }
  return { keySet: createRemoteJWKSet(new URL(configuration.jwks_uri), { [customFetch]: fetchImpl }), issuer: tokenIssuer };
}

/** `data:application/json,<percent-encoded JSON>` or `data:application/json;base64,<base64>`. */
export function parseDataUriJwks(uri: string): JSONWebKeySet {
  const comma = uri.indexOf(",");
  if (comma === -1) throw new AuthenticationError("Invalid data: URI for jwks (no comma)");
  const meta = uri.slice("data:".length, comma);
  const data = uri.slice(comma + 1);
  const text = meta.endsWith(";base64") ? Buffer.from(data, "base64").toString("utf8") : decodeURIComponent(data);
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch {
    throw new AuthenticationError("Invalid data: URI for jwks (not JSON)");
  }
  if (typeof jwks !== "object" || jwks === null || !Array.isArray((jwks as { keys?: unknown }).keys)) {
    throw new AuthenticationError("Invalid data: URI for jwks (no keys array)");
  }
  return jwks as JSONWebKeySet;
}

function decodeUnverified(token: string): JWTPayload {
  if (typeof token !== "string" || token.split(".").length !== 3) {
    throw new AuthenticationError("Token is not a JWT (expected three dot-separated parts)");
  }
  try {
    decodeProtectedHeader(token);
    return decodeJwt(token);
  } catch (error) {
    throw new AuthenticationError(`Token is not a valid JWT: ${(error as Error).message}`);
  }
}

function issuerVariants(issuer: string): string[] {
  const bare = issuer.replace(/\/+$/, "");
  return [bare, `${bare}/`];
}

function sameIssuer(configured: string, claimed: unknown): boolean {
  return typeof claimed === "string" && configured.replace(/\/+$/, "") === claimed.replace(/\/+$/, "");
}

function audienceIncludes(aud: unknown, applicationID: string): boolean {
  return aud === applicationID || (Array.isArray(aud) && aud.includes(applicationID));
}

function describeVerificationError(error: unknown): string {
  if (error instanceof joseErrors.JWTExpired) return "token expired";
  if (error instanceof joseErrors.JWSSignatureVerificationFailed) return "signature verification failed";
  if (error instanceof joseErrors.JWKSNoMatchingKey) return "no key in the provider's JWKS matches the token";
  if (error instanceof Error) return error.message;
  return String(error);
}

function constantTimeEquals(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** OIDC standard claims, renamed as Convex's UserIdentity names them. */
const STANDARD_CLAIMS: Record<string, string> = {
  name: "name",
  given_name: "givenName",
  family_name: "familyName",
  nickname: "nickname",
  preferred_username: "preferredUsername",
  profile: "profileUrl",
  picture: "pictureUrl",
  email: "email",
  email_verified: "emailVerified",
  gender: "gender",
  birthdate: "birthday",
  zoneinfo: "timezone",
  locale: "language",
  phone_number: "phoneNumber",
  phone_number_verified: "phoneNumberVerified",
  address: "address",
  updated_at: "updatedAt",
};

/** Registered claims that describe the token, not the user. */
const TOKEN_CLAIMS = new Set(["iss", "sub", "aud", "exp", "iat", "nbf", "jti"]);

export function identityFromClaims(payload: JWTPayload): Identity {
  if (typeof payload.iss !== "string" || typeof payload.sub !== "string") {
    throw new AuthenticationError("Token must carry string iss and sub claims");
  }
  const identity: Identity = {
    tokenIdentifier: `${payload.iss}|${payload.sub}`,
    subject: payload.sub,
    issuer: payload.iss,
  };
  for (const [claim, value] of Object.entries(payload)) {
    if (TOKEN_CLAIMS.has(claim) || value === undefined) continue;
    const renamed = STANDARD_CLAIMS[claim];
    if (renamed === undefined) identity[claim] = value;
    else identity[renamed] = normalizeStandardClaim(renamed, value);
  }
  return identity;
}

function normalizeStandardClaim(name: string, value: unknown): unknown {
  if ((name === "emailVerified" || name === "phoneNumberVerified") && typeof value === "string") {
    return value === "true";
  }
  if (name === "updatedAt" && typeof value === "number") return new Date(value * 1000).toISOString();
  if (name === "address" && typeof value === "object" && value !== null) return JSON.stringify(value);
  return value;
}

function impersonatedIdentity(attributes: Record<string, unknown>): Identity {
  const { tokenIdentifier, subject, issuer } = attributes;
  // Convex's rule for acting-as identities: a tokenIdentifier, or an issuer and a subject.
  if (typeof tokenIdentifier === "string") return { ...attributes, tokenIdentifier } as Identity;
  if (typeof subject !== "string" || typeof issuer !== "string") {
    throw new AuthenticationError('Either "tokenIdentifier" or "issuer" and "subject" must be set');
  }
  return { ...attributes, subject, issuer, tokenIdentifier: `${issuer}|${subject}` };
}
