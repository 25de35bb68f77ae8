import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { beforeAll, describe, expect, it } from "vitest";
import { parseJwks, verifyAccessToken } from "./auth";
import { ConfigError, readAuthConfig, readHoldConfig, readPushSecrets, type AuthConfig } from "./env";
import { createTestIssuer, type TestIssuer } from "./testing/tokens";

let issuer: TestIssuer;
let config: AuthConfig;

beforeAll(async () => {
  issuer = await createTestIssuer("http://127.0.0.1:3210/local-auth");
  config = readAuthConfig({ LOCAL_AUTH_JWKS: issuer.jwksDataUri, LOCAL_AUTH_ISSUER: issuer.issuer });
});

const ownerClaims = { sub: "u1", role: "owner", businessId: "b1", name: "Olga" };

describe("access tokens", () => {
  it("verifies a token and reads its identity", async () => {
    const result = await verifyAccessToken(await issuer.token(ownerClaims), config);
    expect(result).toEqual({ ok: true, identity: { userId: "u1", role: "owner", businessId: "b1", name: "Olga" } });
  });

  it("accepts the JWKS as plain JSON too", async () => {
    const plain = readAuthConfig({ LOCAL_AUTH_JWKS: issuer.jwks, LOCAL_AUTH_ISSUER: issuer.issuer });
    expect((await verifyAccessToken(await issuer.token(ownerClaims), plain)).ok).toBe(true);
  });

  it("refuses a missing token", async () => {
    expect(await verifyAccessToken(null, config)).toMatchObject({ ok: false, code: "missing_token", status: 401 });
  });

  it("refuses garbage, expired, foreign and forged tokens", async () => {
    const expired = await issuer.token(ownerClaims, { expiresIn: Math.floor(Date.now() / 1000) - 60 });
    const foreignIssuer = await issuer.token(ownerClaims, { issuer: "https://evil.example" });
    const other = await createTestIssuer(issuer.issuer);
    const forged = await other.token(ownerClaims);
    expect(await verifyAccessToken("not.a.jwt", config)).toMatchObject({ ok: false, code: "invalid_token" });
    expect(await verifyAccessToken(expired, config)).toMatchObject({ ok: false, message: /exp/ });
    expect(await verifyAccessToken(foreignIssuer, config)).toMatchObject({ ok: false, message: /not trusted/ });
    expect(await verifyAccessToken(forged, config)).toMatchObject({ ok: false, code: "invalid_token" });
  });

  it("refuses tokens whose claims lack the business", async () => {
    const result = await verifyAccessToken(await issuer.token({ sub: "u1", role: "manager" }), config);
    expect(result).toMatchObject({ ok: false, message: /businessId/ });
  });

  it("checks the audience when Convex's application id is configured", async () => {
    const withAudience = { ...config, localAudience: "convex" };
    expect((await verifyAccessToken(await issuer.token(ownerClaims, { audience: "convex" }), withAudience)).ok).toBe(true);
    expect(await verifyAccessToken(await issuer.token(ownerClaims, { audience: "other" }), withAudience)).toMatchObject({
      ok: false,
      message: /aud/,
    });
  });
});

describe("environment", () => {
  it("needs a push secret of useful length", () => {
    expect(() => readPushSecrets({})).toThrow(ConfigError);
    expect(() => readPushSecrets({ PARTYKIT_PUSH_SECRET: "short" })).toThrow(/at least 16/);
    expect(readPushSecrets({ PARTYKIT_PUSH_SECRET: "a".repeat(16), PARTYKIT_PUSH_SECRET_PREVIOUS: "b".repeat(16) })).toEqual([
      "a".repeat(16),
      "b".repeat(16),
    ]);
  });

  it("needs an issuer, and local JWKS and issuer together", () => {
    expect(() => readAuthConfig({})).toThrow(/no token issuer/);
    expect(() => readAuthConfig({ LOCAL_AUTH_JWKS: "{}" })).toThrow(/together/);
    expect(readAuthConfig({ CLERK_JWT_ISSUER_DOMAIN: "example.clerk.accounts.dev/" })).toEqual({
      clerkIssuer: "https://example.clerk.accounts.dev",
    });
  });

  it("reads the hold time-to-live", () => {
    expect(readHoldConfig({})).toEqual({ ttlMs: 90_000 });
    expect(readHoldConfig({ PARTYKIT_HOLD_TTL_SECONDS: "5" })).toEqual({ ttlMs: 5_000 });
    expect(() => readHoldConfig({ PARTYKIT_HOLD_TTL_SECONDS: "0.5" })).toThrow(/whole number/);
  });

  it("parses JWKS data URIs and refuses bad ones", () => {
    const json = JSON.stringify({ keys: [{ kty: "EC" }] });
    expect(parseJwks(`data:application/json,${encodeURIComponent(json)}`).keys).toHaveLength(1);
    expect(() => parseJwks("data:application/json;base64")).toThrow(/no comma/);
    expect(() => parseJwks("{")).toThrow(/not valid JSON/);
    expect(() => parseJwks('{"keys":[]}')).toThrow(/no keys/);
  });
});

describe("room tokens of accounts (Convex Auth, convex/partyTokens.ts)", () => {
  const SITE = "http://127.0.0.1:3211";
  let sign: (claims: Record<string, unknown>, options?: { aud?: string; iss?: string; exp?: number }) => Promise<string>;
  let accounts: AuthConfig;
  let otherKeySign: typeof sign;

  async function signer() {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    // As scripts/env.ts publishes it: no kid, "use": "sig".
    const jwks = JSON.stringify({ keys: [{ use: "sig", ...(await exportJWK(publicKey)) }] });
    const signWith: typeof sign = (claims, options = {}) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", typ: "JWT" })
        .setIssuer(options.iss ?? SITE)
        .setAudience(options.aud ?? "partykit")
        .setIssuedAt()
        .setExpirationTime(options.exp ?? Math.floor(Date.now() / 1000) + 600)
        .sign(privateKey);
    return { jwks, sign: signWith };
  }

  beforeAll(async () => {
    const mine = await signer();
    sign = mine.sign;
    otherKeySign = (await signer()).sign;
    accounts = readAuthConfig({ CONVEX_AUTH_ISSUER: `${SITE}/`, JWKS: mine.jwks });
  });

  it("accepts a room token of the deployment and reads its claims", async () => {
    const token = await sign({ sub: "k17abc", role: "customer", businessId: "b1", customerId: "c1", name: "Robin" });
    expect(await verifyAccessToken(token, accounts)).toEqual({
      ok: true,
      identity: { userId: "k17abc", role: "customer", businessId: "b1", customerId: "c1", name: "Robin" },
    });
  });

  it("is enough on its own: accounts alone is a valid configuration", () => {
    expect(readAuthConfig({ CONVEX_AUTH_ISSUER: SITE })).toEqual({ accountsIssuer: SITE });
    expect(() => readAuthConfig({ CONVEX_AUTH_ISSUER: "127.0.0.1:3211" })).toThrow(ConfigError);
  });

  it("refuses a Convex access token (aud convex), another key, another issuer, an expired token and claims without a role", async () => {
    const claims = { sub: "k17abc", role: "owner", businessId: "b1" };
    expect(await verifyAccessToken(await sign(claims, { aud: "convex" }), accounts)).toMatchObject({ ok: false, code: "invalid_token", message: /aud/ });
    expect(await verifyAccessToken(await otherKeySign(claims), accounts)).toMatchObject({ ok: false, code: "invalid_token" });
    expect(await verifyAccessToken(await sign(claims, { iss: "http://127.0.0.1:9999" }), accounts)).toMatchObject({ ok: false, message: /not trusted/ });
    expect(await verifyAccessToken(await sign(claims, { exp: Math.floor(Date.now() / 1000) - 60 }), accounts)).toMatchObject({ ok: false, message: /exp/ });
    // A Convex Auth access token carries no role claims at all.
    expect(await verifyAccessToken(await sign({ sub: "k17abc|session1" }), accounts)).toMatchObject({ ok: false, message: /claims are invalid/ });
  });
});
