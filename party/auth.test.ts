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
