import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LocalEngine } from "../../src/engine/engine.js";
import { loadAppWithComponents } from "../../src/engine/components.js";
import { admin, anonymous, m, q, a, removeTempDirs, settle, tempDir, value } from "./helpers.js";

const appDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../fixtures/components_app");
const env = { FIXTURE_FLAG: "app-only" };

let engine: LocalEngine;
let build: ReturnType<typeof loadAppWithComponents> | null = null;

async function openEngine(dataDir = tempDir()): Promise<LocalEngine> {
  build ??= loadAppWithComponents(appDir, tempDir("components-build-"), env);
  return await LocalEngine.open(
    { convexDir: appDir, dataDir, env, siteUrl: "http://127.0.0.1:3211", cloudUrl: "http://127.0.0.1:3210" },
    build,
  );
}

const ledger = (fn: string) => `function://ledger;entries:${fn}`;

beforeAll(async () => {
  engine = await openEngine();
});
afterAll(async () => {
  await engine.close();
  removeTempDirs();
});

describe("components", () => {
  it("runs a component's mutation inside the app's transaction", async () => {
    await m(engine, "app:noteAndAdd", { account: "tx", amount: 10 });
    const failed = await engine.runMutation("app:noteAndAdd", [{ account: "tx", amount: 5, failAfter: true }], admin);
    expect(!failed.success && failed.errorMessage).toContain("the app failed after the component wrote");
    // Neither the app's note nor the component's entry of the failed mutation committed.
    expect(await q(engine, "app:balances", { account: "tx" })).toEqual({ ledger: 10, ledger2: 0, appEntries: 1 });
  });

  it("rolls back a failing component mutation alone when the app catches it", async () => {
    const message = await m(engine, "app:catchComponentFailure", { account: "caught" });
    expect(message).toContain("ledger refused");
    const balances = await q(engine, "app:balances", { account: "caught" });
    expect(balances.ledger).toBe(0);
    expect(balances.appEntries).toBe(2); // "before" kept, plus the earlier test's note
  });

  it("keeps each instance's tables and ids its own", async () => {
    const id = await m(engine, ledger("add"), { account: "iso", amount: 3 });
    expect(await q(engine, "app:probeComponentId", { id })).toEqual({ normalized: null, got: null });
    const hijack = await engine.runMutation("app:patchComponentDocument", [{ id }], admin);
    expect(hijack.success).toBe(false);
    expect(await q(engine, "function://ledger2;entries:balance", { account: "iso" })).toBe(0);
    expect(await q(engine, ledger("balance"), { account: "iso" })).toBe(3);
  });

  it("calls through function handles carrying the component path", async () => {
    const handle = await q(engine, "app:handle");
    expect(handle).toBe("function://ledger;entries:add");
    await m(engine, "app:callHandle", { handle, account: "handle", amount: 4 });
    expect(await q(engine, ledger("balance"), { account: "handle" })).toBe(4);
  });

  it("schedules into the component's own _scheduled_functions", async () => {
    const appJobs = await m(engine, "app:scheduleInComponent", { account: "sched" });
    expect(appJobs).toBe(0);
    expect(await engine.pendingJobCount()).toBe(1);
    await engine.scheduler.runDue();
    await settle(engine);
    expect(await q(engine, ledger("balance"), { account: "sched" })).toBe(7);
    expect(await q(engine, ledger("scheduled"))).toEqual(["success"]);
  });

  it("does not pass the caller's identity across the component boundary", async () => {
    const identity = { tokenIdentifier: "https://auth.test|u1", subject: "u1", issuer: "https://auth.test" };
    const seen = value(await engine.runQuery("app:identityInComponent", [{}], { identity }));
    expect(seen).toEqual({ app: "u1", component: null });
    // Called directly (an admin acting as the user), the component sees the identity.
    expect(value(await engine.runQuery(ledger("whoami"), [{}], { identity, allowInternal: true }))).toBe("u1");
  });

  it("refuses clients calling a component function directly", async () => {
    const outcome = await engine.runQuery(ledger("balance"), [{ account: "x" }], anonymous);
    expect(!outcome.success && outcome.errorMessage).toContain("Could not find public function");
  });

  it("runs actions that call components, and component actions", async () => {
    expect(await a(engine, "app:actionThroughComponent", { account: "act" })).toBe(4);
  });

  it("gives nested components their own tables and only the env their parent passed", async () => {
    const first = await m(engine, "app:audited", { account: "n" });
    expect(first).toEqual({ label: "from-ledger", seesAppEnv: null, count: 1 });
    expect(await q(engine, ledger("metadata"))).toMatchObject({ name: "entries:metadata", componentPath: "ledger" });
  });

  it("runs a stock component unchanged (@convex-dev/rate-limiter)", async () => {
    expect(await m(engine, "app:limited", { key: "k" })).toMatchObject({ ok: true });
    expect(await m(engine, "app:limited", { key: "k" })).toMatchObject({ ok: true });
    const third = await m(engine, "app:limited", { key: "k" });
    expect(third.ok).toBe(false);
    expect(third.retryAfter).toBeGreaterThan(0);
    expect(await m(engine, "app:limited", { key: "other" })).toMatchObject({ ok: true });
  });

  it("keeps component data across a restart", async () => {
    const dataDir = tempDir();
    const first = await openEngine(dataDir);
    await m(first, ledger("add"), { account: "durable", amount: 9 });
    await first.close();
    const second = await openEngine(dataDir);
    expect(await q(second, ledger("balance"), { account: "durable" })).toBe(9);
    await second.close();
  });

  it("gives every component its own file storage", async () => {
    const componentFile = await a(engine, ledger("storeFile"), { text: "ledger's" });
    const appFile = await a(engine, "app:storeAppFile");
    expect(await q(engine, ledger("files"))).toEqual([componentFile]);
    expect(await q(engine, "function://ledger2;entries:files")).toEqual([]);
    // The app neither lists nor resolves the component's file, and vice versa.
    expect(await q(engine, "app:appFiles", { probe: componentFile })).toEqual({ files: [appFile], probe: null });
    expect(await q(engine, ledger("fileUrl"), { id: appFile })).toBeNull();
    // The component's URL serves its file.
    const url = await q(engine, ledger("fileUrl"), { id: componentFile });
    expect(url).toBe(`http://127.0.0.1:3210/api/storage/${componentFile}`);
    const stored = await engine.getStoredFile(componentFile);
    expect(stored).toMatchObject({ contentType: "text/plain", size: "ledger's".length });
    // An upload to a component's upload URL lands in that component's storage.
    const uploadUrl = new URL(await m(engine, ledger("uploadUrl")));
    const uploaded = await engine.storeFile(new TextEncoder().encode("up"), null, uploadUrl.searchParams.get("token"));
    expect(await q(engine, ledger("files"))).toEqual([componentFile, uploaded]);
    expect((await q(engine, "app:appFiles")).files).toEqual([appFile]);
  });

  it("refuses references to a child component's internal functions, as Convex does", async () => {
    for (const path of ["app:callLedgerInternal", "app:scheduleLedgerInternal"]) {
      const refused = await engine.runMutation(path, [{}], admin);
      expect(!refused.success && refused.errorMessage).toContain('Child component "ledger" does not export ["entries","internalAdd"]');
    }
    expect(await q(engine, ledger("balance"), { account: "x" })).toBe(0);
  });

  it("runs vector search inside a component, over its own table", async () => {
    await m(engine, ledger("addDoc"), { topic: "a", embedding: [1, 0, 0] });
    await m(engine, ledger("addDoc"), { topic: "b", embedding: [0.9, 0.1, 0] });
    await m(engine, ledger("addDoc"), { topic: "a", embedding: [0, 1, 0] });
    const best = await a(engine, ledger("similar"), { embedding: [1, 0, 0] });
    expect(best).toHaveLength(2);
    expect(best[0]._score).toBeCloseTo(1);
    const filtered = await a(engine, ledger("similar"), { embedding: [1, 0, 0], topic: "b" });
    expect(filtered).toHaveLength(1);
    // The other instance has its own (empty) table.
    expect(await a(engine, "function://ledger2;entries:similar", { embedding: [1, 0, 0] })).toEqual([]);
  });
});
