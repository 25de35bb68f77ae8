/** Many clients racing for one slot: capacity is never exceeded and losers get a clear conflict. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { ConvexError, type Value } from "convex/values";
import { api } from "../fixtures/app/_generated/api.js";
import { removeTempDirs, startInProcess, type InProcessBackend } from "./harness.js";

let backend: InProcessBackend;

beforeAll(async () => {
  backend = await startInProcess();
});
afterAll(async () => {
  await backend.close();
  removeTempDirs();
});

it("lets exactly k of 200 simultaneous attempts from 40 clients claim a slot of capacity k", async () => {
  const capacity = 7;
  const clients = Array.from({ length: 40 }, () => backend.syncClient());
  const http = backend.httpClient();
  // Half over WebSockets, a few over HTTP: both paths race through the same transactions.
  const attempts = Array.from({ length: 200 }, (_, i) => {
    const args = { slot: "2030-01-01T09:00", capacity, who: `attempt-${i}` };
    return i % 10 === 9 ? http.mutation(api.slots.claim, args) : clients[i % clients.length].mutation(api.slots.claim, args);
  });
  const outcomes = await Promise.allSettled(attempts);
  const won = outcomes.filter((o) => o.status === "fulfilled");
  const lost = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
  expect(won).toHaveLength(capacity);
  expect(lost).toHaveLength(200 - capacity);
  for (const failure of lost) {
    expect(failure.reason).toBeInstanceOf(ConvexError);
    expect((failure.reason as ConvexError<Record<string, Value>>).data.code).toBe("CONFLICT");
  }
  const claimants = await http.query(api.slots.claimants, { slot: "2030-01-01T09:00" });
  expect(claimants).toHaveLength(capacity);
  expect(new Set(claimants).size).toBe(capacity);
});
