/** Sign-in over the sync protocol with the real ConvexClient. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { anyApi } from "convex/server";
import { api } from "../fixtures/app/_generated/api.js";
import { eventually } from "../server/helpers.js";
import { createTestIssuer, fixtureEnv, removeTempDirs, startInProcess, type InProcessBackend, type TestIssuer } from "./harness.js";

let backend: InProcessBackend;
let issuer: TestIssuer;
const ADMIN_KEY = "sync-admin-key";

beforeAll(async () => {
  issuer = await createTestIssuer();
  backend = await startInProcess({ env: fixtureEnv(issuer), adminKey: ADMIN_KEY });
});
afterAll(async () => {
  await backend.close();
  removeTempDirs();
});

describe("auth over the sync protocol", () => {
  it("runs subscriptions, mutations and actions as the verified user", async () => {
    const client = backend.syncClient();
    const token = await issuer.sign({ sub: "user-7", name: "Grace", given_name: "Grace", business: "b-1" });
    const authChanges: boolean[] = [];
    client.setAuth(async () => token, (isAuthenticated) => authChanges.push(isAuthenticated));
    const watch = client.onUpdate(api.runtime.identity, {}, () => undefined);
    await eventually(() => (authChanges.includes(true) ? true : undefined), 10_000, "auth confirmation");
    const identity = await eventually(() => watch.getCurrentValue() ?? undefined);
    expect(identity).toMatchObject({
      tokenIdentifier: "https://auth.fixture.test|user-7",
      subject: "user-7",
      issuer: "https://auth.fixture.test",
      name: "Grace",
      givenName: "Grace",
      business: "b-1",
    });
    expect(await client.action(api.runtime.identityInAction, {})).toMatchObject({ subject: "user-7" });
  });

  it("switches every subscription to the new identity when the user signs out", async () => {
    const client = backend.syncClient();
    const token = await issuer.sign({ sub: "leaving" });
    let tokenFetches = 0;
    client.setAuth(async () => {
      tokenFetches++;
      return token;
    });
    const watch = client.onUpdate(api.runtime.identity, {}, () => undefined);
    // Once the server confirms the first token, ConvexClient fetches a fresh one and
    // authenticates again; sign out only after that, or the late re-authentication wins.
    await eventually(() =>
      (watch.getCurrentValue() as { subject?: string } | null | undefined)?.subject === "leaving" && tokenFetches >= 2 ? true : undefined,
    );
    client.client.clearAuth();
    await eventually(() => (watch.getCurrentValue() === null ? true : undefined), 10_000, "signed-out result");
  });

  it("refuses a bad token with AuthError, never an identity, and carries on unauthenticated", async () => {
    const client = backend.syncClient();
    const stranger = await createTestIssuer("fixture-key");
    const forged = await stranger.sign({ sub: "mallory" });
    const authChanges: boolean[] = [];
    client.setAuth(async () => forged, (isAuthenticated) => authChanges.push(isAuthenticated));
    await eventually(() => (authChanges.includes(false) ? true : undefined), 20_000, "auth refusal");
    expect(authChanges).not.toContain(true);
    expect(await client.query(api.runtime.identity, {})).toBeNull();
  });

  it("accepts the configured admin key for internal functions", async () => {
    const client = backend.syncClient();
    // setAdminAuth is internal API of the client, used by Convex tooling.
    (client as unknown as { setAdminAuth(key: string): void }).setAdminAuth(ADMIN_KEY);
    expect(await client.query(anyApi.messages.countInternal, {})).toEqual(expect.any(Number));
  });
});
