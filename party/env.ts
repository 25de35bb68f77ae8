/**
 * Every environment variable the parties read, in one place. PartyKit hands vars to rooms as
 * `room.env` and to static hooks as `lobby.env` (locally from PARTYKIT_DEV_VARS through
 * scripts/partykit/dev.mjs, which turns them into `--var` options inside its own process;
 * or partykit.json `vars`).
 */
import { MIN_PUSH_SECRET_LENGTH } from "./push-signature";

export type AuthConfig = {
  /** JWKS (JSON) of the local sign-in, paired with localIssuer. */
  localJwks?: string;
  localIssuer?: string;
  /** Clerk issuer URL, e.g. https://example.clerk.accounts.dev (JWKS at /.well-known/jwks.json). */
  clerkIssuer?: string;
  /** When set, every token must carry this `aud`. */
  audience?: string;
  /** When set (and audience is not), local tokens must carry this `aud` (Convex's customJwt applicationID). */
  localAudience?: string;
  /**
   * Accounts (Convex Auth): the deployment's CONVEX_SITE_URL, which issues room tokens
   * (convex/partyTokens.ts, `aud` "partykit") signed with its Convex Auth key.
   */
  accountsIssuer?: string;
  /** That key's public JWKS (JSON); absent = fetched from `<accountsIssuer>/.well-known/jwks.json`. */
  accountsJwks?: string;
};

/** The `aud` of the room tokens accounts issue (convex/partyTokens.ts). */
export const ACCOUNTS_ROOM_AUDIENCE = "partykit";

export type HoldConfig = { ttlMs: number };

export class ConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConfigError";
  }
}

type Env = Record<string, unknown>;

function readString(env: Env, name: string): string | undefined {
  const value = env[name];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string") throw new ConfigError(`${name} must be a string`);
  return value;
}

/** The push secrets a room accepts: the current one first, then the previous one during a rotation. */
export function readPushSecrets(env: Env): string[] {
  const current = readString(env, "PARTYKIT_PUSH_SECRET");
  if (current === undefined) throw new ConfigError("PARTYKIT_PUSH_SECRET is not set");
  const previous = readString(env, "PARTYKIT_PUSH_SECRET_PREVIOUS");
  const secrets = previous === undefined ? [current] : [current, previous];
  for (const secret of secrets) {
    if (secret.length < MIN_PUSH_SECRET_LENGTH) {
      throw new ConfigError(`push secrets must be at least ${MIN_PUSH_SECRET_LENGTH} characters`);
    }
  }
  return secrets;
}

export function normalizeIssuer(domainOrUrl: string): string {
  const withScheme = /^https?:\/\//.test(domainOrUrl) ? domainOrUrl : `https://${domainOrUrl}`;
  return withScheme.replace(/\/+$/, "");
}

export function readAuthConfig(env: Env): AuthConfig {
  const localJwks = readString(env, "LOCAL_AUTH_JWKS");
  const localIssuer = readString(env, "LOCAL_AUTH_ISSUER");
  if ((localJwks === undefined) !== (localIssuer === undefined)) {
    throw new ConfigError("LOCAL_AUTH_JWKS and LOCAL_AUTH_ISSUER must be set together");
  }
  const clerkDomain = readString(env, "CLERK_JWT_ISSUER_DOMAIN");
  const config: AuthConfig = {};
  if (localJwks !== undefined && localIssuer !== undefined) Object.assign(config, { localJwks, localIssuer });
  if (clerkDomain !== undefined) config.clerkIssuer = normalizeIssuer(clerkDomain);
  const audience = readString(env, "PARTYKIT_AUTH_AUDIENCE");
  if (audience !== undefined) config.audience = audience;
  const localAudience = readString(env, "LOCAL_AUTH_APPLICATION_ID");
  if (localAudience !== undefined) config.localAudience = localAudience;
  const accountsIssuer = readString(env, "CONVEX_AUTH_ISSUER");
  if (accountsIssuer !== undefined) {
    if (!/^https?:\/\//.test(accountsIssuer)) throw new ConfigError("CONVEX_AUTH_ISSUER must be an http(s) URL (the deployment's CONVEX_SITE_URL)");
    config.accountsIssuer = accountsIssuer.replace(/\/+$/, "");
    const accountsJwks = readString(env, "JWKS");
    if (accountsJwks !== undefined) config.accountsJwks = accountsJwks;
  }
  if (config.localIssuer === undefined && config.clerkIssuer === undefined && config.accountsIssuer === undefined) {
    throw new ConfigError("no token issuer configured: set LOCAL_AUTH_JWKS + LOCAL_AUTH_ISSUER, CLERK_JWT_ISSUER_DOMAIN or CONVEX_AUTH_ISSUER");
  }
  return config;
}

export const DEFAULT_HOLD_TTL_MS = 90_000;

export function readHoldConfig(env: Env): HoldConfig {
  const raw = readString(env, "PARTYKIT_HOLD_TTL_SECONDS");
  if (raw === undefined) return { ttlMs: DEFAULT_HOLD_TTL_MS };
  const seconds = Number(raw);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 3_600) {
    throw new ConfigError("PARTYKIT_HOLD_TTL_SECONDS must be a whole number of seconds between 1 and 3600");
  }
  return { ttlMs: seconds * 1_000 };
}
