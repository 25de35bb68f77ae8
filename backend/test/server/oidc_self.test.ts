/**
 * Convex Auth on the local backend, end to end over real sockets: a deployment whose
 * auth.config.ts names its own HTTP actions site as an OIDC provider
 * (`{domain: CONVEX_SITE_URL, applicationID: "convex"}`) accepts the RS256 tokens it signs,
 * discovering the keys on its own site as Convex does, over HTTP and over the sync protocol;
 * a token for another audience or signed by another key is refused.
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from "jose";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anyApi } from "convex/server";
import { spawnBackend, waitForPort, type BackendProcess } from "../../src/testing/backend_process.js";
import { eventually, syncClient } from "./helpers.js";

const fixtureApp = path.resolve(import.meta.dirname, "../fixtures/app");
let dir: string;
let backend: BackendProcess;
let key: CryptoKey;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), "oidc-self-"));
  const pair = await generateKeyPair("RS256", { extractable: true });
  key = pair.privateKey;
  const jwks = JSON.stringify({ keys: [{ use: "sig", ...(await exportJWK(pair.publicKey)) }] });
  const envFile = path.join(dir, "backend.env");
  writeFileSync(envFile, `FIXTURE_FLAG=on\nFIXTURE_SELF_JWKS=${jwks}\n`);
  backend = await spawnBackend({ convexDir: fixtureApp, dataDir: path.join(dir, "data"), envFile, buildCache: path.join(dir, "builds") });
  await waitForPort(backend, backend.port);
  await waitForPort(backend, backend.sitePort);
}, 120_000);

afterAll(async () => {
  await backend?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function token(signer: CryptoKey, { aud = "convex", iss }: { aud?: string; iss?: string } = {}): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT({ sub: "user1|session1" })
    .setProtectedHeader({ alg: "RS256" })
    .setIssuer(iss ?? backend.siteUrl)
    .setAudience(aud)
    .setIssuedAt(now)
    .setExpirationTime(now + 900)
    .sign(signer);
}

async function identityOverHttp(bearer: string) {
  const response = await fetch(`${backend.cloudUrl}/api/query`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${bearer}` },
    body: JSON.stringify({ path: "runtime:identity", args: {}, format: "json" }),
  });
  return { status: response.status, body: (await response.json()) as { status?: string; value?: Record<string, unknown>; errorMessage?: string; message?: string } };
}

describe("a deployment that is its own OIDC issuer (Convex Auth)", () => {
  it("serves the discovery document and keys on its site", async () => {
    const discovery = (await (await fetch(`${backend.siteUrl}/.well-known/openid-configuration`)).json()) as { issuer: string; jwks_uri: string };
    expect(discovery.issuer).toBe(backend.siteUrl);
    const keys = (await (await fetch(discovery.jwks_uri)).json()) as { keys: unknown[] };
    expect(keys.keys).toHaveLength(1);
  });

  it("accepts its own token over HTTP, as Convex names the identity", async () => {
    const { status, body } = await identityOverHttp(await token(key));
    expect(status).toBe(200);
    expect(body.value).toMatchObject({ issuer: backend.siteUrl, subject: "user1|session1", tokenIdentifier: `${backend.siteUrl}|user1|session1` });
  });

  it("accepts it over the sync protocol", async () => {
    const client = syncClient(backend.cloudUrl);
    try {
      const signed = await token(key);
      client.setAuth(async () => signed);
      const identity = await eventually(
        async () => ((await client.query(anyApi.runtime.identity, {})) as { subject?: string } | null) ?? undefined,
        30_000,
        "the identity over sync",
      );
      expect(identity.subject).toBe("user1|session1");
    } finally {
      await client.close();
    }
  });

  it("refuses another audience, another key and a lookalike issuer", async () => {
    const other = (await generateKeyPair("RS256", { extractable: true })).privateKey;
    for (const bad of [await token(key, { aud: "partykit" }), await token(other), await token(key, { iss: `${backend.siteUrl}/` })]) {
      const { status, body } = await identityOverHttp(bad);
      expect(status, JSON.stringify(body)).toBeGreaterThanOrEqual(400);
    }
  });
});
