/**
 * The whole platform for portal tests, on free ports, over a temporary data folder:
 *   1. a fresh env file (scripts/env.ts `ensureLocalEnv`) pointing PARTYKIT_URL / PORTAL_URL at
 *      this run's ports, and SMTP_URL at this run's maildev (scripts/maildev.ts: a real SMTP
 *      catcher; `stack.inbox` reads what arrived over SMTP through its REST API);
 *   2. `partykit dev` (party/testing/dev-server.ts) with the party vars from that file;
 *   3. the local backend (`node backend/bin/backend.mjs …`) in its own process group;
 *   4. the demo data (`seed:demo` through scripts/seed.ts, with the admin key);
 *   5. the Vite dev server (web/vite.config.ts) in-process, with VITE_CONVEX_URL,
 *      VITE_PARTYKIT_HOST and the local sign-in reading this run's env file;
 *   6. Chromium (/usr/bin/chromium, headless, a fresh profile per launch).
 * `stop()` closes everything it started (process groups, the Vite server, the browser) and
 * removes the temporary folder.
 */
import { type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll } from "vitest";
import { createServer as createViteServer, type ViteDevServer } from "vite";
import { startDevServer, type DevServer } from "../../party/testing/dev-server";
import { ensureLocalEnv } from "../../scripts/env";
import { startMaildev, type Inbox } from "../../scripts/maildev";
import { spawnGroup, stopGroup } from "../../scripts/proc";
import { seedDemoData, type SeedResult } from "../../scripts/seed";

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const screenshotDir = join(repoRoot, "artifacts", "screenshots");

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

export type Stack = {
  portalUrl: string;
  convexUrl: string;
  siteUrl: string;
  partykitHost: string;
  /** What the platform mailed (and texted, to <digits>@sms.inbox.localhost) in this run. */
  inbox: Inbox;
  seed: SeedResult;
  /** This run's env file as written (DEMO_API_KEY, LOCAL_ADMIN_KEY, …). */
  env: Record<string, string>;
  browser: Browser;
  /** A fresh browser context (own storage: own sign-in). */
  context(options?: { mobile?: boolean; touch?: boolean }): Promise<BrowserContext>;
  stop(): Promise<void>;
  logs(): string;
};

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createNetServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      if (address === null || typeof address === "string") return reject(new Error("no port"));
      server.close(() => resolve(address.port));
    });
  });
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}:\n${output()}`);
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      await response.body?.cancel();
      if (response.status < 502 || response.status > 504) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms:\n${output()}`);
}

function setEnvValue(text: string, key: string, value: string): string {
  const line = `${key}=${value}`;
  const pattern = new RegExp(`^${key}=.*$`, "m");
  return pattern.test(text) ? text.replace(pattern, line) : `${text.trimEnd()}\n${line}\n`;
}


/**
 * `extraEnv`: deployment variables added to this run's env file before the backend starts.
 * A port found free can be taken by another process (an outgoing connection's local port, a
 * parallel suite) before its server binds it; such a start is retried on fresh ports.
 */
export async function startStack(extraEnv: Record<string, string> = {}): Promise<Stack> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startStackOnce(extraEnv);
    } catch (error) {
      const portTaken = /EADDRINUSE|already in use/.test(String((error as Error)?.stack ?? error));
      if (!portTaken || attempt === 3) throw error;
      console.warn(`[portal fixture] a port was taken before its server bound it; starting again (${attempt})`);
    }
  }
}

async function startStackOnce(extraEnv: Record<string, string>): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), "portal-test-"));
  const envPath = join(dir, "env.local");
  const stops: (() => Promise<void>)[] = [];
  let backendLog = "";
  const stop = async () => {
    for (const s of stops.reverse()) {
      try {
        await s();
      } catch (error) {
        console.error("[portal fixture] stop:", error);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const local = await ensureLocalEnv(envPath);
    const [port, sitePort, portalPort] = [await freePort(), await freePort(), await freePort()];
    const convexUrl = `http://127.0.0.1:${port}`;
    const siteUrl = `http://127.0.0.1:${sitePort}`;
    const portalUrl = `http://127.0.0.1:${portalPort}`;

    // PartyKit first: its port goes into the backend's env (outbox pushes).
    const party: DevServer = await startDevServer({
      PARTYKIT_PUSH_SECRET: local.env.PARTYKIT_PUSH_SECRET,
      LOCAL_AUTH_JWKS: local.env.LOCAL_AUTH_JWKS,
      LOCAL_AUTH_ISSUER: local.env.LOCAL_AUTH_ISSUER,
      LOCAL_AUTH_APPLICATION_ID: local.env.LOCAL_AUTH_APPLICATION_ID,
      // Accounts' room tokens (convex/partyTokens.ts), issued by this run's backend site.
      JWKS: local.env.JWKS,
      CONVEX_AUTH_ISSUER: siteUrl,
      CONVEX_URL: convexUrl,
    });
    stops.push(() => party.stop());

    const mail = await startMaildev({ smtpPort: await freePort(), webPort: await freePort(), mailDir: join(dir, "mail") });
    stops.push(() => mail.stop());

    let text = readFileSync(envPath, "utf8");
    text = setEnvValue(text, "PARTYKIT_URL", party.httpUrl);
    text = setEnvValue(text, "PORTAL_URL", portalUrl);
    text = setEnvValue(text, "SITE_URL", portalUrl);
    text = setEnvValue(text, "SMTP_URL", mail.smtpUrl);
    text = setEnvValue(text, "SMTP_FROM", "Booking platform <notifications@booking.localhost>");
    text = setEnvValue(text, "TEXT_MESSAGE_INBOX", "smtp");
    for (const [key, value] of Object.entries(extraEnv)) text = setEnvValue(text, key, value);
    writeFileSync(envPath, text);

    const dataDir = join(dir, "data");
    mkdirSync(dataDir);
    const backend = spawnGroup(
      process.execPath,
      [
        join(repoRoot, "backend", "bin", "backend.mjs"),
        ...["--convex-dir", "convex", "--data-dir", dataDir],
        ...["--port", String(port), "--site-port", String(sitePort)],
        ...["--env-file", envPath],
      ],
      // The admin key in the environment, not on the command line where `ps` shows it.
      {
        cwd: repoRoot,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, NO_COLOR: "1", CONVEX_SELF_HOSTED_ADMIN_KEY: local.env.LOCAL_ADMIN_KEY },
      },
    );
    backend.stdout!.on("data", (c: Buffer) => (backendLog = (backendLog + c.toString()).slice(-20_000)));
    backend.stderr!.on("data", (c: Buffer) => (backendLog = (backendLog + c.toString()).slice(-20_000)));
    stops.push(() => stopGroup(backend));
    await waitForHttp(convexUrl, backend, () => backendLog, 120_000);
    await waitForHttp(siteUrl, backend, () => backendLog, 30_000);

    const seed = await seedDemoData({ url: convexUrl, adminKey: local.env.LOCAL_ADMIN_KEY });

    // Vite in-process. The local sign-in plugin reads this run's env file.
    process.env.LOCAL_AUTH_ENV_FILE = envPath;
    process.env.VITE_CONVEX_URL = convexUrl;
    process.env.VITE_CONVEX_SITE_URL = siteUrl;
    process.env.VITE_PARTYKIT_HOST = party.host;
    delete process.env.VITE_CLERK_PUBLISHABLE_KEY;
    const vite: ViteDevServer = await createViteServer({
      configFile: join(repoRoot, "web", "vite.config.ts"),
      server: { port: portalPort, strictPort: true, host: "127.0.0.1" },
      logLevel: "warn",
      clearScreen: false,
    });
    await vite.listen();
    stops.push(() => vite.close());

    const browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS, headless: true });
    stops.push(() => browser.close());
    // Warm Vite's dependency optimizer once so the first test does not pay for it.
    {
      const ctx = await browser.newContext();
      const page = await ctx.newPage();
      await page.goto(`${portalUrl}/sign-in`);
      await page.getByRole("heading", { name: "Sign in" }).waitFor({ timeout: 90_000 });
      await ctx.close();
    }

    return {
      portalUrl,
      convexUrl,
      siteUrl,
      partykitHost: party.host,
      inbox: mail.inbox,
      seed,
      env: { ...local.env },
      browser,
      context: async (options = {}) =>
        browser.newContext({
          baseURL: portalUrl,
          viewport: options.mobile ? { width: 390, height: 844 } : { width: 1366, height: 900 },
          timezoneId: "Europe/Berlin",
          locale: "en-US",
          ...(options.mobile ? { isMobile: true, hasTouch: true, deviceScaleFactor: 2 } : options.touch ? { hasTouch: true } : {}),
        }),
      stop,
      logs: () => `--- backend ---\n${backendLog}\n--- partykit ---\n${party.output().slice(-5_000)}\n--- maildev ---\n${mail.output().slice(-2_000)}`,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/** How long a sign-in step may take on a loaded machine (each step fails at once on an error shown). */
const SIGN_IN_STEP_MS = 90_000;

/**
 * Waits until `ready` is there, or fails at once with the text of the alert the page shows
 * instead (a sign-in error, the local sign-in unreachable), so a slow machine gets time and a
 * broken sign-in still fails with its reason.
 */
async function readyOrAlert(page: Page, ready: ReturnType<Page["locator"]>, what: string): Promise<void> {
  const alert = page.locator('.alert-error[role="alert"]').first();
  // Both waits are settled (never left to reject unhandled once the other has won).
  const outcome = await Promise.race([
    ready.waitFor({ state: "attached", timeout: SIGN_IN_STEP_MS }).then(
      () => "ready" as const,
      () => "timeout" as const,
    ),
    alert.waitFor({ state: "visible", timeout: SIGN_IN_STEP_MS }).then(
      () => "alert" as const,
      () => "timeout" as const,
    ),
  ]);
  if (outcome === "timeout") throw new Error(`${what}: nothing after ${SIGN_IN_STEP_MS / 1000} s`);
  if (outcome === "alert" && (await ready.count()) === 0) {
    throw new Error(`${what}: the page shows "${((await alert.textContent()) ?? "").trim()}"`);
  }
}

/**
 * Signs in through the sign-in page as a demo subject (the dev server's demo accounts) and
 * waits for the signed-in frame. The demo list comes from the dev server, which asks the
 * backend: on a busy machine the first list or token can take a while, so each step waits
 * up to 90 s, but an error the page shows fails the step at once with its text.
 */
export async function signIn(page: Page, subject: string, next = "/"): Promise<void> {
  await page.goto(`/sign-in?next=${encodeURIComponent(next)}`);
  const account = page.locator(`[data-subject="${subject}"]`);
  await readyOrAlert(page, account, `demo account ${subject} not listed`);
  await account.click();
  await readyOrAlert(page, page.getByTestId("user-name"), `signing in as ${subject}`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(screenshotDir, { recursive: true });
  await page.screenshot({ path: join(screenshotDir, `${name}.png`), fullPage: true });
}

/** Collects page errors and console errors so a test can show them when it fails. */
export function watchConsole(page: Page, label: string): string[] {
  const lines: string[] = [];
  page.on("pageerror", (e) => lines.push(`[${label}] pageerror: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") lines.push(`[${label}] console: ${m.text().slice(0, 500)}`);
  });
  return lines;
}

export type Suite = {
  /** The stack of this test file (started before its first test). */
  stack: () => Stack;
  /** A page in a fresh context, its page errors and console errors collected in `problems`. */
  newPage: (label: string, options?: { mobile?: boolean; touch?: boolean }) => Promise<Page>;
  problems: string[];
};

/** Starts one stack for the calling test file and stops it after the file's last test. */
export function useStack(options: { env?: Record<string, string> } = {}): Suite {
  let stack: Stack | undefined;
  const problems: string[] = [];
  beforeAll(async () => {
    stack = await startStack(options.env);
  }, 300_000);
  afterAll(async () => {
    await stack?.stop();
  }, 60_000);
  const current = () => {
    if (!stack) throw new Error("the stack has not started (useStack() must be called at the top of the test file)");
    return stack;
  };
  return {
    stack: current,
    problems,
    newPage: async (label, options = {}) => {
      const context = await current().context(options);
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      const lines = watchConsole(page, label);
      page.on("close", () => problems.push(...lines));
      return page;
    },
  };
}
