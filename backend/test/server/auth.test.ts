/** JWT verification and identity mapping, against keys generated here. */
import { describe, expect, it, vi } from "vitest";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload } from "jose";
import { AuthenticationError, createAuthVerifier, identityFromClaims, parseDataUriJwks } from "../../src/server/auth.js";
import type { AuthProviderConfig } from "../../src/engine/types.js";

const ISSUER = "https://issuer.test";

async function keyPair(alg: "RS256" | "ES256", kid: string) {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg } };
}

async function sign(
  privateKey: CryptoKey,
  alg: string,
  kid: string,
  claims: JWTPayload,
  { iss = ISSUER, aud = "app", iat, exp }: { iss?: string; aud?: string | string[]; iat?: number; exp?: number } = {},
) {
  const now = Math.floor(Date.now() / 1000);
  return await new SignJWT(claims)
    .setProtectedHeader({ alg, kid })
    .setIssuer(iss)
    .setAudience(aud)
    .setIssuedAt(iat ?? now)
    .setExpirationTime(exp ?? now + 600)
    .sign(privateKey);
}

function dataUri(keys: object[], base64 = false): string {
  const json = JSON.stringify({ keys });
  return base64 ? `data:application/json;base64,${Buffer.from(json).toString("base64")}` : `data:application/json,${encodeURIComponent(json)}`;
}

describe("customJwt providers", () => {
  it("accepts RS256 and ES256 tokens signed by the configured keys", async () => {
    const rsa = await keyPair("RS256", "r1");
    const ec = await keyPair("ES256", "e1");
    const providers: AuthProviderConfig[] = [
      { type: "customJwt", issuer: ISSUER, jwks: dataUri([rsa.jwk]), algorithm: "RS256", applicationID: "app" },
      { type: "customJwt", issuer: "https://ec.test", jwks: dataUri([ec.jwk], true), algorithm: "ES256" },
    ];
    const verifier = createAuthVerifier({ providers: () => providers });
    expect(await verifier.verifyUserToken(await sign(rsa.privateKey, "RS256", "r1", { sub: "u1" }))).toEqual({
      tokenIdentifier: `${ISSUER}|u1`,
      subject: "u1",
      issuer: ISSUER,
    });
    const ecToken = await sign(ec.privateKey, "ES256", "e1", { sub: "u2" }, { iss: "https://ec.test", aud: "anything" });
    expect((await verifier.verifyUserToken(ecToken)).tokenIdentifier).toBe("https://ec.test|u2");
  });

  it("refuses wrong signatures, issuers, audiences, expired, not-yet-valid and future-issued tokens", async () => {
    const good = await keyPair("RS256", "k");
    const other = await keyPair("RS256", "k");
    const providers: AuthProviderConfig[] = [
      { type: "customJwt", issuer: ISSUER, jwks: dataUri([good.jwk]), algorithm: "RS256", applicationID: "app" },
    ];
    const verifier = createAuthVerifier({ providers: () => providers });
    const now = Math.floor(Date.now() / 1000);
    const cases: [string, Promise<string>, RegExp][] = [
      ["other key", sign(other.privateKey, "RS256", "k", { sub: "u" }), /signature verification failed/],
      ["other issuer", sign(good.privateKey, "RS256", "k", { sub: "u" }, { iss: "https://evil.test" }), /No auth provider found/],
      ["other audience", sign(good.privateKey, "RS256", "k", { sub: "u" }, { aud: "other" }), /No auth provider found/],
      ["expired", sign(good.privateKey, "RS256", "k", { sub: "u" }, { iat: now - 7200, exp: now - 3600 }), /expired/],
      ["not yet valid", sign(good.privateKey, "RS256", "k", { sub: "u", nbf: now + 3600 }), /nbf/],
      ["issued in the future", sign(good.privateKey, "RS256", "k", { sub: "u" }, { iat: now + 3600, exp: now + 7200 }), /iat/],
      ["no subject", sign(good.privateKey, "RS256", "k", {}), /sub/],
      ["not a JWT", Promise.resolve("abc.def"), /not a JWT/],
      ["garbage JWT", Promise.resolve("abc.def.ghi"), /not a valid JWT/],
    ];
    for (const [name, token, message] of cases) {
      const error = await verifier.verifyUserToken(await token).catch((e: unknown) => e);
      expect(error, name).toBeInstanceOf(AuthenticationError);
      expect((error as Error).message, name).toMatch(message);
    }
  });

  it("refuses an algorithm other than the configured one", async () => {
    const ec = await keyPair("ES256", "e");
    const providers: AuthProviderConfig[] = [{ type: "customJwt", issuer: ISSUER, jwks: dataUri([ec.jwk]), algorithm: "RS256" }];
    const verifier = createAuthVerifier({ providers: () => providers });
    await expect(verifier.verifyUserToken(await sign(ec.privateKey, "ES256", "e", { sub: "u" }))).rejects.toThrow(AuthenticationError);
  });

  it("rejects malformed data: JWKS clearly", () => {
    expect(() => parseDataUriJwks("data:application/json,notjson")).toThrow(/not JSON/);
    expect(() => parseDataUriJwks(`data:application/json,${encodeURIComponent("{}")}`)).toThrow(/no keys array/);
  });
});

describe("OIDC providers", () => {
  it("discovers the JWKS from the issuer and requires the applicationID in aud", async () => {
    const rsa = await keyPair("RS256", "oidc");
    const requested: string[] = [];
    const fakeFetch = (async (input: string | URL | Request) => {
      const url = String(input instanceof Request ? input.url : input);
      requested.push(url);
      if (url === `${ISSUER}/.well-known/openid-configuration`) return Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/keys` });
      if (url === `${ISSUER}/keys`) return Response.json({ keys: [rsa.jwk] });
      return new Response("not found", { status: 404 });
    }) as typeof fetch;
    const providers: AuthProviderConfig[] = [{ type: "oidc", issuer: `${ISSUER}/`, applicationID: "convex" }];
    const verifier = createAuthVerifier({ providers: () => providers, fetch: fakeFetch });
    const identity = await verifier.verifyUserToken(await sign(rsa.privateKey, "RS256", "oidc", { sub: "c1" }, { aud: ["convex", "other"] }));
    expect(identity.tokenIdentifier).toBe(`${ISSUER}|c1`);
    expect(requested).toEqual([`${ISSUER}/.well-known/openid-configuration`, `${ISSUER}/keys`]);
    await expect(verifier.verifyUserToken(await sign(rsa.privateKey, "RS256", "oidc", { sub: "c1" }, { aud: "other" }))).rejects.toThrow(
      /No auth provider found/,
    );
  });

  it("reports an unreachable issuer and retries discovery later", async () => {
    let up = false;
    const rsa = await keyPair("RS256", "later");
    const flakyFetch = (async (input: string | URL | Request) => {
      if (!up) throw new Error("connect ECONNREFUSED");
      const url = String(input instanceof Request ? input.url : input);
      if (url.endsWith("/.well-known/openid-configuration")) return Response.json({ issuer: ISSUER, jwks_uri: `${ISSUER}/keys` });
      return Response.json({ keys: [rsa.jwk] });
    }) as typeof fetch;
    const verifier = createAuthVerifier({ providers: () => [{ type: "oidc", issuer: ISSUER, applicationID: "app" }], fetch: flakyFetch });
    const token = await sign(rsa.privateKey, "RS256", "later", { sub: "u" });
    await expect(verifier.verifyUserToken(token)).rejects.toThrow(/ECONNREFUSED/);
    up = true;
    expect((await verifier.verifyUserToken(token)).subject).toBe("u");
  });
});

describe("OIDC providers follow Convex's rules", () => {
  /** An issuer at `iss` whose discovery document says `named` and whose keys are `keys`. */
  function provider(iss: string, named: string, keys: object[], requested: string[] = []) {
    return (async (input: string | URL | Request) => {
      const url = String(input instanceof Request ? input.url : input);
      requested.push(url);
      if (url === `${iss.replace(/\/+$/, "")}/.well-known/openid-configuration`) return Response.json({ issuer: named, jwks_uri: `${ISSUER}/jwks.json` });
      if (url === `${ISSUER}/jwks.json`) return Response.json({ keys });
      return new Response("not found", { status: 404 });
    }) as typeof fetch;
  }

  it("accepts a Convex Auth style token: discovery on the deployment's site, RS256 without kid, aud convex", async () => {
    const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
    const jwk = { ...(await exportJWK(publicKey)), use: "sig" };
    const requested: string[] = [];
    const verifier = createAuthVerifier({
      providers: () => [{ type: "oidc", issuer: ISSUER, applicationID: "convex" }],
      fetch: provider(ISSUER, ISSUER, [jwk], requested),
    });
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ sub: "user1|session1" })
      .setProtectedHeader({ alg: "RS256" })
      .setIssuer(ISSUER)
      .setAudience("convex")
      .setIssuedAt(now)
      .setExpirationTime(now + 3600)
      .sign(privateKey);
    const identity = await verifier.verifyUserToken(token);
    expect(identity).toMatchObject({ subject: "user1|session1", issuer: ISSUER, tokenIdentifier: `${ISSUER}|user1|session1` });
    expect(requested[0]).toBe(`${ISSUER}/.well-known/openid-configuration`);
  });

  it("refuses a discovery document naming another issuer", async () => {
    const rsa = await keyPair("RS256", "k");
    const verifier = createAuthVerifier({
      providers: () => [{ type: "oidc", issuer: ISSUER, applicationID: "app" }],
      fetch: provider(ISSUER, "https://elsewhere.test", [rsa.jwk]),
    });
    await expect(verifier.verifyUserToken(await sign(rsa.privateKey, "RS256", "k", { sub: "u" }))).rejects.toThrow(/names issuer "https:\/\/elsewhere.test"/);
  });

  it("discovers at the token's issuer: a trailing slash in iss must also be in the discovery document", async () => {
    const rsa = await keyPair("RS256", "k");
    const requested: string[] = [];
    const verifier = createAuthVerifier({
      providers: () => [{ type: "oidc", issuer: ISSUER, applicationID: "app" }],
      fetch: provider(`${ISSUER}/`, `${ISSUER}/`, [rsa.jwk], requested),
    });
    const identity = await verifier.verifyUserToken(await sign(rsa.privateKey, "RS256", "k", { sub: "u" }, { iss: `${ISSUER}/` }));
    expect(identity.issuer).toBe(`${ISSUER}/`);
    expect(requested[0]).toBe(`${ISSUER}/.well-known/openid-configuration`);
    // The document says "…/" but this token says "…" (no slash): refused, as openidconnect does.
    await expect(verifier.verifyUserToken(await sign(rsa.privateKey, "RS256", "k", { sub: "u" }))).rejects.toThrow(/names issuer/);
  });

  it("allows RS256 and EdDSA for OIDC, not ES256 (that is for customJwt providers only)", async () => {
    const ec = await keyPair("ES256", "ec");
    const { privateKey: edKey, publicKey: edPublic } = await generateKeyPair("EdDSA", { crv: "Ed25519", extractable: true });
    const ed = { ...(await exportJWK(edPublic)), kid: "ed", alg: "EdDSA" };
    const verifier = createAuthVerifier({
      providers: () => [{ type: "oidc", issuer: ISSUER, applicationID: "app" }],
      fetch: provider(ISSUER, ISSUER, [ec.jwk, ed]),
    });
    expect((await verifier.verifyUserToken(await sign(edKey, "EdDSA", "ed", { sub: "ed-user" }))).subject).toBe("ed-user");
    await expect(verifier.verifyUserToken(await sign(ec.privateKey, "ES256", "ec", { sub: "u" }))).rejects.toThrow(/Could not verify token/);
  });

  it("fetches the discovery document again once the cached one is older than five minutes", async () => {
    const rsa = await keyPair("RS256", "k");
    const requested: string[] = [];
    const verifier = createAuthVerifier({
      providers: () => [{ type: "oidc", issuer: ISSUER, applicationID: "app" }],
      fetch: provider(ISSUER, ISSUER, [rsa.jwk], requested),
    });
    const start = Date.now();
    const discoveries = () => requested.filter((url) => url.endsWith("openid-configuration")).length;
    await verifier.verifyUserToken(await sign(rsa.privateKey, "RS256", "k", { sub: "u" }));
    await verifier.verifyUserToken(await sign(rsa.privateKey, "RS256", "k", { sub: "u" }));
    expect(discoveries()).toBe(1);
    vi.useFakeTimers({ toFake: ["Date"] });
    try {
      vi.setSystemTime(start + 5 * 60_000 + 1_000);
      await verifier.verifyUserToken(await sign(rsa.privateKey, "RS256", "k", { sub: "u" }));
      expect(discoveries()).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe("identity", () => {
  it("renames OIDC standard claims to camelCase and keeps custom claims", () => {
    const identity = identityFromClaims({
      iss: ISSUER,
      sub: "s",
      aud: "app",
      exp: 1,
      iat: 1,
      jti: "j",
      name: "Ada Lovelace",
      given_name: "Ada",
      family_name: "Lovelace",
      nickname: "ada",
      preferred_username: "ada.l",
      profile: "https://p.test/ada",
      picture: "https://p.test/ada.png",
      email: "ada@example.test",
      email_verified: "true",
      gender: "female",
      birthdate: "1815-12-10",
      zoneinfo: "Europe/London",
      locale: "en-GB",
      phone_number: "+44",
      phone_number_verified: false,
      address: { country: "UK" },
      updated_at: 1700000000,
      business_id: "b1",
      roles: ["owner"],
    });
    expect(identity).toEqual({
      tokenIdentifier: `${ISSUER}|s`,
      subject: "s",
      issuer: ISSUER,
      name: "Ada Lovelace",
      givenName: "Ada",
      familyName: "Lovelace",
      nickname: "ada",
      preferredUsername: "ada.l",
      profileUrl: "https://p.test/ada",
      pictureUrl: "https://p.test/ada.png",
      email: "ada@example.test",
      emailVerified: true,
      gender: "female",
      birthday: "1815-12-10",
      timezone: "Europe/London",
      language: "en-GB",
      phoneNumber: "+44",
      phoneNumberVerified: false,
      address: JSON.stringify({ country: "UK" }),
      updatedAt: "2023-11-14T22:13:20.000Z",
      business_id: "b1",
      roles: ["owner"],
    });
  });
});

describe("admin keys", () => {
  it("accepts only the configured key, and refuses all when none is configured", () => {
    const withKey = createAuthVerifier({ providers: () => [], adminKey: "secret-key" });
    expect(withKey.verifyAdminKey("secret-key")).toEqual({ admin: true, identity: null });
    expect(withKey.verifyAdminKey("secret-key", { subject: "s", issuer: "i" }).identity).toMatchObject({ tokenIdentifier: "i|s" });
    expect(() => withKey.verifyAdminKey("secret-kez")).toThrow(/Invalid admin key/);
    const without = createAuthVerifier({ providers: () => [] });
    expect(() => without.verifyAdminKey("anything")).toThrow(/not enabled/);
  });
});
