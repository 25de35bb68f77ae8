/**
 * The backend as `npm run backend` runs it (issue 13): its data folder is private to its user,
 * and functions see the deployment's env vars only, never the backend's own environment or the
 * admin key.
 */
import { chmodSync, readdirSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ConvexHttpClient } from "convex/browser";
import { api } from "../fixtures/app/_generated/api.js";
import { removeTempDirs, startCli, stopCli, tempDir, type ChildBackend } from "./harness.js";

const running: ChildBackend[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map(stopCli));
  removeTempDirs();
});

function modesUnder(dir: string): { path: string; mode: string; directory: boolean }[] {
  const found: { path: string; mode: string; directory: boolean }[] = [];
  const walk = (target: string) => {
    const stat = statSync(target);
    found.push({ path: path.relative(dir, target) || ".", mode: (stat.mode & 0o777).toString(8), directory: stat.isDirectory() });
    if (stat.isDirectory()) for (const entry of readdirSync(target)) walk(path.join(target, entry));
  };
  walk(dir);
  return found;
}

describe("the backend CLI", () => {
  it("creates its data folder 0700 and its files 0600, and tightens an older folder", async () => {
    // A folder as an older version left it: 0755, with a 0644 file.
    const old = tempDir();
    chmodSync(old, 0o755);
    writeFileSync(path.join(old, "leftover.json"), "{}", { mode: 0o644 });
    chmodSync(path.join(old, "leftover.json"), 0o644);
    // A data folder the backend creates itself, below it (the last --data-dir wins).
    const fresh = path.join(old, "fresh", "backend");
    const child = await startCli({ dataDir: old, extraArgs: ["--data-dir", fresh] });
    running.push(child);
    const http = new ConvexHttpClient(child.cloudUrl);
    await http.mutation(api.counters.increment, { name: "modes" });
    const created = modesUnder(path.join(old, "fresh"));
    expect(created.some((e) => e.path.startsWith("backend/") && !e.directory), JSON.stringify(created)).toBe(true);
    expect(created.filter((e) => e.mode !== (e.directory ? "700" : "600"))).toEqual([]);
    await stopCli(running.pop());

    const reopened = await startCli({ dataDir: old });
    running.push(reopened);
    expect(modesUnder(old).filter((e) => e.mode !== (e.directory ? "700" : "600"))).toEqual([]);
  });

  it("lets functions see the env file's variables, not its own environment or the admin key", async () => {
    const dataDir = tempDir();
    writeFileSync(
      path.join(dataDir, "backend.env"),
      "FIXTURE_FLAG=from-env-file\nLOCAL_ADMIN_KEY=local_admin_in_file\nLOCAL_AUTH_PRIVATE_JWK={\"d\":\"secret\"}\n",
    );
    const child = await startCli({
      dataDir,
      env: { CONVEX_SELF_HOSTED_ADMIN_KEY: "admin-key-in-environment", HOST_ONLY_SECRET: "from-the-host" },
    });
    running.push(child);
    const http = new ConvexHttpClient(child.cloudUrl);
    const read = (name: string) => http.query(api.runtime.env, { name });
    expect(await read("FIXTURE_FLAG")).toBe("from-env-file");
    for (const name of ["HOST_ONLY_SECRET", "CONVEX_SELF_HOSTED_ADMIN_KEY", "LOCAL_ADMIN_KEY", "LOCAL_AUTH_PRIVATE_JWK", "PATH", "HOME"]) {
      expect(await read(name), name).toBeNull();
    }
    // The admin key from the environment still works, for the admin API.
    const admin = await fetch(`${child.cloudUrl}/api/query`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: "Convex admin-key-in-environment" },
      body: JSON.stringify({ path: "runtime:env", args: [{ name: "FIXTURE_FLAG" }] }),
    });
    expect(admin.status).toBe(200);
  });
});
