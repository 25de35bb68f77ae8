/** A throwaway ES256 issuer for tests and benchmarks: JWKS for the parties, tokens for clients. */
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from "jose";

export type TestIssuer = {
  issuer: string;
  jwks: string;
  jwksDataUri: string;
  token(claims: JWTPayload & Record<string, unknown>, options?: { expiresIn?: string | number; issuer?: string; audience?: string }): Promise<string>;
};

export async function createTestIssuer(issuer = "http://127.0.0.1/test-auth"): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("ES256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid: "test-1", alg: "ES256", use: "sig" };
  const jwks = JSON.stringify({ keys: [jwk] });
  return {
    issuer,
    jwks,
    jwksDataUri: `data:application/json;base64,${Buffer.from(jwks).toString("base64")}`,
    token: (claims, options = {}) => signToken(privateKey, claims, { issuer, ...options }),
  };
}

async function signToken(
  key: CryptoKey,
  claims: JWTPayload & Record<string, unknown>,
  options: { issuer: string; expiresIn?: string | number; audience?: string },
): Promise<string> {
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: "ES256", kid: "test-1" })
    .setIssuer(options.issuer)
    .setIssuedAt()
    .setExpirationTime(options.expiresIn ?? "10m");
  if (options.audience !== undefined) jwt = jwt.setAudience(options.audience);
  return jwt.sign(key);
}
