/**
 * A production build of the portal (`vite build`) offers no demo sign-in: none of the demo
 * sign-in's code or words are in the output, and the built sign-in page, served as a
 * production server would, shows the account forms and no demo account. (The dev server of
 * `npm start` shows both: every other web test signs in through its demo accounts.)
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { build, preview, type PreviewServer } from "vite";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHROMIUM_ARGS, freePort, repoRoot } from "./fixture";

const outDir = mkdtempSync(join(tmpdir(), "portal-build-"));
let server: PreviewServer | undefined;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

beforeAll(async () => {
  delete process.env.VITE_CLERK_PUBLISHABLE_KEY;
  // As `npx vite build` runs it: vitest's NODE_ENV=test would make a development build.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    await build({
      configFile: join(repoRoot, "web", "vite.config.ts"),
      mode: "production",
      build: { outDir, emptyOutDir: true },
      logLevel: "error",
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}, 180_000);

afterAll(async () => {
  await server?.close();
  rmSync(outDir, { recursive: true, force: true });
});

describe("the production build", () => {
  test("contains no demo sign-in", () => {
    const text = files(outDir)
      .filter((f) => /\.(js|html|css)$/.test(f))
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    expect(text).toContain("Create an account");
    for (const needle of ["/local-auth", "bp.localAuth", "data-subject", "Demo accounts", "Continue as a new customer", "demo-customer"]) {
      expect(text, needle).not.toContain(needle);
    }
  });

  test("its sign-in page, served, offers accounts and no demo account", async () => {
    const port = await freePort();
    server = await preview({
      configFile: join(repoRoot, "web", "vite.config.ts"),
      build: { outDir },
      preview: { port, strictPort: true, host: "127.0.0.1" },
      logLevel: "warn",
    });
    // The booking widget's bundle is served next to the portal, where the snippet points.
    const widget = await fetch(`http://127.0.0.1:${port}/widget.js`);
    expect(widget.status).toBe(200);
    expect(widget.headers.get("content-type") ?? "").toMatch(/javascript/);
    expect(await widget.text()).toContain("data-business");
    // The dev server's token endpoint does not exist there.
    const tokenResponse = await fetch(`http://127.0.0.1:${port}/local-auth/token`, { method: "POST", body: "{}" });
    expect(tokenResponse.headers.get("content-type") ?? "").not.toContain("application/json");

    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, headless: true });
    try {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${port}/sign-in`);
      await page.getByRole("heading", { name: "Sign in", exact: true }).waitFor({ timeout: 60_000 });
      await expect(page.getByLabel("Email", { exact: true }).isVisible()).resolves.toBe(true);
      await expect(page.getByRole("button", { name: "Sign in", exact: true }).isVisible()).resolves.toBe(true);
      await page.getByRole("button", { name: "Create an account" }).click();
      await page.getByRole("button", { name: "Create account" }).waitFor();
      expect(await page.locator("[data-subject]").count()).toBe(0);
      expect(await page.getByTestId("demo-accounts").count()).toBe(0);
      expect(await page.getByText(/demo/i).count()).toBe(0);
    } finally {
      await browser.close();
    }
  });
});
