import { describe, expect, test } from "vitest";
import { authProviders, env, EnvError, envProblems } from "./env";

const complete = {
  LOCAL_AUTH_ISSUER: "http://127.0.0.1:3210/local-auth",
  LOCAL_AUTH_JWKS: "data:text/plain;charset=utf-8;base64,eyJrZXlzIjpbXX0=",
  LOCAL_AUTH_APPLICATION_ID: "convex",
  PARTYKIT_URL: "http://127.0.0.1:1999/",
  PARTYKIT_PUSH_SECRET: "0123456789abcdef0123",
  STRIPE_WEBHOOK_SECRET: "whsec_0123456789abcdef",
  PORTAL_URL: "http://127.0.0.1:5173",
};

describe("env", () => {
  test("a complete local configuration has no problems", () => {
    expect(envProblems(complete)).toEqual([]);
    expect(env.partykitUrl(complete)).toBe("http://127.0.0.1:1999");
    expect(env.stripeSecretKey(complete)).toBeUndefined();
  });

  test("missing required variables are named, with how to set them", () => {
    const problems = envProblems({});
    for (const name of ["PARTYKIT_URL", "PARTYKIT_PUSH_SECRET", "STRIPE_WEBHOOK_SECRET", "PORTAL_URL"]) {
      expect(problems.some((p) => p.startsWith(`${name}:`) && p.includes("npx convex env set"))).toBe(true);
    }
    expect(() => env.portalUrl({})).toThrow(EnvError);
  });

  test.each([
    ["PORTAL_URL", "ftp://x", "portalUrl"],
    ["PARTYKIT_URL", "not a url", "partykitUrl"],
    ["PARTYKIT_PUSH_SECRET", "short", "partykitPushSecret"],
    ["STRIPE_WEBHOOK_SECRET", "0123456789abcdef", "stripeWebhookSecret"],
    ["STRIPE_SECRET_KEY", "pk_test_123", "stripeSecretKey"],
    ["LOCAL_AUTH_JWKS", "https://example.com/jwks.json", "localAuthJwks"],
  ] as const)("%s=%s is rejected", (name, value, reader) => {
    expect(() => env[reader]({ ...complete, [name]: value })).toThrow(new RegExp(`^${name}:`));
  });

  test("auth providers follow the variables that are set", () => {
    expect(authProviders({})).toEqual([]);
    expect(authProviders(complete)).toEqual([
      { type: "customJwt", issuer: complete.LOCAL_AUTH_ISSUER, jwks: complete.LOCAL_AUTH_JWKS, algorithm: "ES256", applicationID: "convex" },
    ]);
    expect(authProviders({ CLERK_JWT_ISSUER_DOMAIN: "https://clerk.example.com" })).toEqual([
      { domain: "https://clerk.example.com", applicationID: "convex" },
    ]);
    expect(() => authProviders({ LOCAL_AUTH_JWKS: complete.LOCAL_AUTH_JWKS })).toThrow(/^LOCAL_AUTH_ISSUER:/);
    expect(() => authProviders({ ...complete, LOCAL_AUTH_APPLICATION_ID: undefined })).toThrow(/^LOCAL_AUTH_APPLICATION_ID:/);
  });
});
