/**
 * The build cache: builds are named by the content they were built from (the app, each
 * component, and the files outside convex/ that the functions import), and a warm start runs
 * no esbuild at all — neither for the functions nor for convex.config.ts.
 */
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeEach, describe, expect, it, vi } from "vitest";
import { loadAppWithComponents } from "../../src/engine/components.js";
import { loadApp } from "../../src/engine/loader.js";
import { removeTempDirs, tempDir } from "./helpers.js";

const esbuildRuns = vi.hoisted(() => ({ count: 0 }));
vi.mock("esbuild", async (importOriginal) => {
  const real = await importOriginal<typeof import("esbuild")>();
  return {
    ...real,
    build: (...args: Parameters<typeof real.build>) => {
      esbuildRuns.count++;
      return real.build(...args);
    },
  };
});

const here = path.dirname(fileURLToPath(import.meta.url));
const componentsApp = path.resolve(here, "../fixtures/components_app");
const repoModules = path.resolve(here, "../../../node_modules");

beforeEach(() => {
  esbuildRuns.count = 0;
});
afterAll(() => removeTempDirs());

describe("build cache", () => {
  it("a warm start over the cache runs no esbuild, for the app, its components or convex.config.ts", async () => {
    const cache = tempDir("loader-cache-");
    const cold = await loadAppWithComponents(componentsApp, cache, { FIXTURE_FLAG: "cold" });
    expect(esbuildRuns.count).toBeGreaterThan(0);
    expect(cold.bundled).toBe(true);

    esbuildRuns.count = 0;
    // Another env: the modules are evaluated afresh (they read the env at load), the build is reused.
    const warm = await loadAppWithComponents(componentsApp, cache, { FIXTURE_FLAG: "warm" });
    expect(esbuildRuns.count).toBe(0);
    expect(warm.bundled).toBe(false);
    expect([...warm.components.keys()].sort()).toEqual([...cold.components.keys()].sort());
    for (const component of warm.components.values()) expect(component.app.bundled).toBe(false);
    // Two instances of one component share a build but not their module state.
    expect(warm.components.get("ledger")!.app.buildDir).toBe(warm.components.get("ledger2")!.app.buildDir);
    expect(warm.components.get("ledger")!.app.modules.get("entries")).not.toBe(warm.components.get("ledger2")!.app.modules.get("entries"));
  });

  it("rebuilds when a file outside convex/ that the functions import changes", async () => {
    const root = tempDir("loader-app-");
    mkdirSync(path.join(root, "convex"));
    mkdirSync(path.join(root, "node_modules"));
    symlinkSync(path.join(repoModules, "convex"), path.join(root, "node_modules", "convex"));
    writeFileSync(path.join(root, "shared.ts"), "export const ANSWER = 1;\n");
    writeFileSync(
      path.join(root, "convex", "values.ts"),
      'import { queryGeneric } from "convex/server";\nimport { ANSWER } from "../shared";\n' +
        "export const answer = ANSWER;\nexport const get = queryGeneric({ args: {}, handler: async () => ANSWER });\n",
    );
    const cache = tempDir("loader-cache-");
    const first = await loadApp(path.join(root, "convex"), cache, {});
    expect(first.modules.get("values")!.answer).toBe(1);

    const unchanged = await loadApp(path.join(root, "convex"), cache, {});
    expect(unchanged.bundled).toBe(false);

    writeFileSync(path.join(root, "shared.ts"), "export const ANSWER = 2;\n");
    esbuildRuns.count = 0;
    const changed = await loadApp(path.join(root, "convex"), cache, {});
    expect(changed.bundled).toBe(true);
    expect(esbuildRuns.count).toBeGreaterThan(0);
    expect(changed.modules.get("values")!.answer).toBe(2);
    expect(changed.buildDir).not.toBe(first.buildDir);
  });
});
