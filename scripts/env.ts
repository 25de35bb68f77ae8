/**
 * The local env file (`.env.local`, git-ignored): secrets and addresses for the embedded default.
 * Created on first run with fresh secrets; later runs only add keys that are missing and never
 * change a value that is already there.
 *
 * `tsx scripts/env.ts [path]` creates or completes the file and lists what it added.
 */
import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync, appendFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { exportJWK, exportPKCS8, generateKeyPair, type JWK } from "jose";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
export const defaultEnvPath = join(repoRoot, ".env.local");

export const LOCAL_AUTH_ISSUER = "http://127.0.0.1:3210/local-auth";
export const LOCAL_AUTH_APPLICATION_ID = "convex";
const LOCAL_AUTH_KEY_ID = "local-auth-1";

/** Parses KEY=VALUE lines; blank lines and `#` comments are skipped, surrounding quotes removed. */
export function parseEnv(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const eq = line.indexOf("=");
    if (eq <= 0) continue;
    const key = line.slice(0, eq).replace(/^export\s+/, "").trim();
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && (value[0] === '"' || value[0] === "'") && value.at(-1) === value[0]) {
      value = value.slice(1, -1);
    }
    env[key] = value;
  }
  return env;
}

/** The file's variables, or an empty object when it does not exist. */
export function readEnvFile(path: string = defaultEnvPath): Record<string, string> {
  if (!existsSync(path)) return {};
  return parseEnv(readFileSync(path, "utf8"));
}

const random = (bytes: number, encoding: "base64" | "base64url") =>
  randomBytes(bytes).toString(encoding);

export function jwksDataUri(publicJwk: JWK): string {
  const json = JSON.stringify({ keys: [publicJwk] });
  return `data:application/json;base64,${Buffer.from(json).toString("base64")}`;
}

async function newSigningKeyPair(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const meta = { kid: LOCAL_AUTH_KEY_ID, alg: "ES256", use: "sig" };
  return {
    privateJwk: { ...(await exportJWK(privateKey)), ...meta },
    publicJwk: { ...(await exportJWK(publicKey)), ...meta },
  };
}

function publicPart(privateJwk: JWK): JWK {
  const { kty, crv, x, y, kid, alg, use } = privateJwk;
  return { kty, crv, x, y, kid, alg, use };
}

/**
 * Convex Auth's signing key: an RS256 PKCS#8 PEM on one line (newlines as spaces, as its
 * docs store it; jose reads it back) and the public JWKS its tokens are verified with.
 */
export async function newConvexAuthKeys(): Promise<{ JWT_PRIVATE_KEY: string; JWKS: string }> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  return {
    JWT_PRIVATE_KEY: (await exportPKCS8(privateKey)).trimEnd().replace(/\n/g, " "),
    JWKS: JSON.stringify({ keys: [{ use: "sig", ...(await exportJWK(publicKey)) }] }),
  };
}

/** Values for every key that is missing from `existing`; nothing already present is changed. */
async function missingValues(existing: Record<string, string>): Promise<Record<string, string>> {
  const add: Record<string, string> = {};
  const need = (key: string) => !(key in existing);

  if (need("STRIPE_WEBHOOK_SECRET")) add.STRIPE_WEBHOOK_SECRET = `whsec_${random(32, "base64")}`;
  if (need("PARTYKIT_PUSH_SECRET")) add.PARTYKIT_PUSH_SECRET = random(32, "base64url");

  if (need("LOCAL_AUTH_PRIVATE_JWK")) {
    if (!need("LOCAL_AUTH_JWKS")) {
      throw new Error(
        "LOCAL_AUTH_JWKS is set but LOCAL_AUTH_PRIVATE_JWK is missing, so tokens could not be signed " +
          "for the published key. Delete the LOCAL_AUTH_JWKS line to generate a fresh key pair.",
      );
    }
    const { privateJwk, publicJwk } = await newSigningKeyPair();
    add.LOCAL_AUTH_PRIVATE_JWK = JSON.stringify(privateJwk);
    add.LOCAL_AUTH_JWKS = jwksDataUri(publicJwk);
  } else if (need("LOCAL_AUTH_JWKS")) {
    let privateJwk: JWK;
    try {
      privateJwk = JSON.parse(existing.LOCAL_AUTH_PRIVATE_JWK) as JWK;
    } catch {
      throw new Error("LOCAL_AUTH_PRIVATE_JWK is not valid JSON; delete it to generate a fresh key pair.");
    }
    add.LOCAL_AUTH_JWKS = jwksDataUri(publicPart(privateJwk));
  }

  // Accounts (Convex Auth, convex/auth.ts): the deployment signs its own access tokens.
  if (need("JWT_PRIVATE_KEY") !== need("JWKS")) {
    throw new Error("JWT_PRIVATE_KEY and JWKS must be set together: delete the one that is left to generate a fresh pair.");
  }
  if (need("JWT_PRIVATE_KEY")) Object.assign(add, await newConvexAuthKeys());
  // The HMAC key of the accounts' sign-in tickets (convex/authTickets.ts, the front door).
  if (need("AUTH_TICKET_SECRET")) add.AUTH_TICKET_SECRET = random(32, "base64url");

  if (need("LOCAL_AUTH_ISSUER")) add.LOCAL_AUTH_ISSUER = LOCAL_AUTH_ISSUER;
  if (need("LOCAL_AUTH_APPLICATION_ID")) add.LOCAL_AUTH_APPLICATION_ID = LOCAL_AUTH_APPLICATION_ID;
  if (need("DEMO_API_KEY")) add.DEMO_API_KEY = `bk_test_${random(24, "base64url")}`;
  // Lets `npm start` call internal functions (the demo seed) on the local backend.
  if (need("LOCAL_ADMIN_KEY")) add.LOCAL_ADMIN_KEY = `local_admin_${random(32, "base64url")}`;
  if (need("PARTYKIT_URL")) add.PARTYKIT_URL = "http://127.0.0.1:1999";
  if (need("PORTAL_URL")) add.PORTAL_URL = "http://127.0.0.1:5173";
  // Convex Auth's name for the portal's origin (where OAuth sign-in returns to).
  if (need("SITE_URL")) add.SITE_URL = existing.PORTAL_URL ?? add.PORTAL_URL ?? "http://127.0.0.1:5173";
  return add;
}

export interface LocalEnv {
  path: string;
  /** Every variable in the file after the call. */
  env: Record<string, string>;
  /** True when the file did not exist before. */
  created: boolean;
  /** Keys this call added. */
  added: string[];
}

/** Creates the env file or adds the keys it lacks, and returns its contents. */
export async function ensureLocalEnv(path: string = defaultEnvPath): Promise<LocalEnv> {
  const created = !existsSync(path);
  const existing = readEnvFile(path);
  const add = await missingValues(existing);
  const added = Object.keys(add);
  const lines = added.map((key) => {
    if (/[\r\n]/.test(add[key])) throw new Error(`generated value for ${key} contains a newline`);
    return `${key}=${add[key]}`;
  });

  if (created) {
    const header = [
      "# Local secrets and addresses for the embedded default, generated by scripts/env.ts.",
      "# Git-ignored: never commit this file. Delete a line to have it regenerated on the next start.",
    ];
    writeFileSync(path, [...header, ...lines, ""].join("\n"), { mode: 0o600 });
  } else if (lines.length > 0) {
    const text = readFileSync(path, "utf8");
    const sep = text === "" || text.endsWith("\n") ? "" : "\n";
    appendFileSync(path, sep + lines.join("\n") + "\n");
  }
  return { path, env: { ...existing, ...add }, created, added };
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const path = resolve(process.argv[2] ?? defaultEnvPath);
  ensureLocalEnv(path).then(
    ({ created, added }) => {
      if (created) console.log(`created ${path} with ${added.join(", ")}`);
      else if (added.length > 0) console.log(`added to ${path}: ${added.join(", ")}`);
      else console.log(`${path} is complete`);
    },
    (error: unknown) => {
      console.error(`env: ${error instanceof Error ? error.message : String(error)}`);
      process.exit(1);
    },
  );
}
