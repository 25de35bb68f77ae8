/** The HTTP-actions site hands a verified bearer JWT's user to the action, as Convex does. */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import type { Engine, Identity } from "../../src/engine/types.js";
import type { AuthVerifier } from "../../src/server/auth.js";
import { createSiteHandler } from "../../src/server/site.js";

const JWT = "eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2ln";
const ADA: Identity = { tokenIdentifier: "https://issuer.test|u1", subject: "u1", issuer: "https://issuer.test" };

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

async function site(verify: (token: string) => Promise<Identity>) {
  const seen: (Identity | null)[] = [];
  const engine = {
    runHttpAction: async (_request: Request, identity?: Identity | null) => {
      seen.push(identity ?? null);
      return new Response("ok");
    },
  } as unknown as Engine;
  const auth: AuthVerifier = { verifyUserToken: verify, verifyAdminKey: () => ({ identity: null, admin: false }) };
  const handle = createSiteHandler({ engine, siteUrl: "http://127.0.0.1:3211", maxBodyBytes: 1024, log: () => undefined, auth });
  server = createServer((req, res) => void handle(req, res));
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/invoices/pdf`;
  return { seen, get: async (authorization?: string) => (await fetch(url, { headers: authorization ? { Authorization: authorization } : {} })).text() };
}

describe("the site's bearer tokens", () => {
  it("a verified JWT names the caller; none, an API key or a token that fails verification leave it empty", async () => {
    const { seen, get } = await site(async (token) => {
      if (token === JWT) return ADA;
      throw new Error("bad signature");
    });
    await get(`Bearer ${JWT}`);
    await get();
    await get("Bearer bk_test_0123456789abcdef");
    await get(`Bearer ${JWT.replace("c2ln", "eA")}`);
    await get(`Basic ${JWT}`);
    expect(seen).toEqual([ADA, null, null, null, null]);
  });
});
