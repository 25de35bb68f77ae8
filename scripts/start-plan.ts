/**
 * What `npm start` (scripts/start.ts) runs and prints, as plain data so that it can be checked
 * without starting anything: secrets travel in child environments (readable only by this user),
 * never as arguments (which `ps` shows to every local user), and the summary shows a key's
 * prefix and where the full key is, never the key.
 */
import { existsSync } from "node:fs";
import { join, relative } from "node:path";
import { keyPrefix } from "../convex/api/apiKeyFormat.js";
import { maildevArgs } from "./maildev.js";

export const HOST = "127.0.0.1";
export const PORTS = { backend: 3210, site: 3211, partykit: 1999, portal: 5173, smtp: 1025, mailbox: 1080 };
export const LOCAL_CONVEX_URL = `http://${HOST}:${PORTS.backend}`;
/** maildev: the local SMTP catcher and its inbox UI (what the platform mails and texts lands there). */
export const LOCAL_SMTP_URL = `smtp://${HOST}:${PORTS.smtp}`;
export const LOCAL_MAILBOX_URL = `http://${HOST}:${PORTS.mailbox}`;

/**
 * The deployment env that points notifications at maildev, unless the env file or the
 * environment configures a real SMTP server (then nothing is overridden).
 */
export function localMailEnv(env: Record<string, string | undefined>): Record<string, string> {
  if (env.SMTP_URL) return {};
  return {
    SMTP_URL: LOCAL_SMTP_URL,
    SMTP_FROM: env.SMTP_FROM ?? "Booking platform <notifications@booking.localhost>",
    ...(env.TEXT_MESSAGE_INBOX || env.TWILIO_ACCOUNT_SID ? {} : { TEXT_MESSAGE_INBOX: "smtp" }),
  };
}

/** What the parties read (party/env.ts), handed to `partykit dev` when set. */
const PARTY_VARS = [
  "PARTYKIT_PUSH_SECRET",
  "PARTYKIT_PUSH_SECRET_PREVIOUS",
  "LOCAL_AUTH_JWKS",
  "LOCAL_AUTH_ISSUER",
  "CLERK_JWT_ISSUER_DOMAIN",
  // Accounts (Convex Auth): the public key its room tokens are checked with; the issuer
  // (CONVEX_AUTH_ISSUER, the backend's HTTP actions site) is added below.
  "JWKS",
  "PARTYKIT_AUTH_AUDIENCE",
  "PARTYKIT_HOLD_TTL_SECONDS",
];

export interface Service {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Only `convex dev` may need the terminal (to log in or pick a project). */
  stdin?: "inherit";
  /** Origins that must answer HTTP before the service counts as up. */
  readyUrls: string[];
}

export interface PlanInput {
  repoRoot: string;
  /** The env file's variables. */
  local: Record<string, string>;
  /** The env file's variables overridden by this process's environment. */
  env: Record<string, string | undefined>;
  /** Path of the env file, to say where a secret is. */
  envFile: string;
  node?: string;
}

export interface Plan {
  services: Service[];
  /** Services whose entry does not exist yet. */
  missing: string[];
  /** Set when a real Convex deployment replaces the local backend. */
  real: string | null;
  convexUrl: string | undefined;
}

/** A real Convex deployment is configured: `npx convex dev` replaces the local backend. */
export function realDeployment(env: Record<string, string | undefined>): string | null {
  if (env.CONVEX_DEPLOYMENT) return `CONVEX_DEPLOYMENT=${env.CONVEX_DEPLOYMENT}`;
  if (env.CONVEX_URL) {
    const host = new URL(env.CONVEX_URL).hostname;
    if (host !== HOST && host !== "localhost") return `CONVEX_URL=${env.CONVEX_URL}`;
  }
  return null;
}

export function planServices(input: PlanInput): Plan {
  const { repoRoot, local, env } = input;
  const node = input.node ?? process.execPath;
  const bin = (path: string) => join(repoRoot, "node_modules", path);
  const exists = (path: string) => existsSync(join(repoRoot, path));
  const real = realDeployment(env);
  const convexUrl = real ? env.CONVEX_URL : LOCAL_CONVEX_URL;
  const services: Service[] = [];
  const missing: string[] = [];

  // The mail catcher first: the backend's notifications go to it from the first one.
  const mail = !real && !env.SMTP_URL && exists("node_modules/maildev/dist/bin/maildev.js");
  if (mail) {
    services.push({
      name: "maildev",
      command: node,
      args: [bin("maildev/dist/bin/maildev.js"), ...maildevArgs({ smtpPort: PORTS.smtp, webPort: PORTS.mailbox, mailDir: ".data/maildev" })],
      readyUrls: [`${LOCAL_MAILBOX_URL}/api/healthz`],
    });
  } else if (!real && !env.SMTP_URL) missing.push("mail catcher (node_modules/maildev: run npm install)");

  if (real) {
    services.push({ name: "convex", command: node, args: [bin("convex/bin/main.js"), "dev"], stdin: "inherit", readyUrls: [] });
  } else if (exists("backend/bin/backend.mjs")) {
    services.push({
      name: "backend",
      command: node,
      args: [
        // The compiled backend (no tsx at run time; builds cached by content hash).
        "backend/bin/backend.mjs",
        ...["--convex-dir", "convex", "--data-dir", ".data/backend"],
        ...["--port", String(PORTS.backend), "--site-port", String(PORTS.site)],
        ...["--env-file", relative(repoRoot, input.envFile) || input.envFile],
      ],
      env: { CONVEX_SELF_HOSTED_ADMIN_KEY: local.LOCAL_ADMIN_KEY, ...(mail ? localMailEnv(env) : {}) },
      readyUrls: [LOCAL_CONVEX_URL, `http://${HOST}:${PORTS.site}`],
    });
  } else missing.push("local backend (backend/bin/backend.mjs)");

  if (exists("partykit.json")) {
    const vars: Record<string, string> = Object.fromEntries(PARTY_VARS.filter((k) => env[k]).map((k) => [k, env[k]!]));
    if (convexUrl) vars.CONVEX_URL = convexUrl;
    // A real deployment names its own site (CONVEX_AUTH_ISSUER in the env, its *.convex.site).
    const accountsIssuer = real ? env.CONVEX_AUTH_ISSUER : `http://${HOST}:${PORTS.site}`;
    if (vars.JWKS && accountsIssuer) vars.CONVEX_AUTH_ISSUER = accountsIssuer;
    services.push({
      name: "partykit",
      command: node,
      args: [
        // Loopback only, no inspector, vars from PARTYKIT_DEV_VARS (scripts/partykit/dev.mjs).
        join(repoRoot, "scripts", "partykit", "dev.mjs"),
        "dev",
        "--port",
        String(PORTS.partykit),
        "--no-hotkeys",
        // Offline: otherwise it tries to fetch Cloudflare's request.cf data on every start.
        "--disable-request-cf-fetch",
      ],
      env: { NO_UPDATE_NOTIFIER: "1", PARTYKIT_DEV_VARS: JSON.stringify(vars) },
      readyUrls: [`http://${HOST}:${PORTS.partykit}`],
    });
  } else missing.push("PartyKit (partykit.json)");

  if (exists("web/vite.config.ts")) {
    const viteEnv: Record<string, string> = { VITE_PARTYKIT_HOST: `${HOST}:${PORTS.partykit}` };
    if (convexUrl) viteEnv.VITE_CONVEX_URL = convexUrl;
    // The HTTP actions site (invoice PDFs, the accounts' front door POST /auth/ticket): the local
    // backend's; a real deployment's is derived from its URL by the portal (*.convex.cloud →
    // *.convex.site) unless VITE_CONVEX_SITE_URL says.
    if (!real) viteEnv.VITE_CONVEX_SITE_URL = `http://${HOST}:${PORTS.site}`;
    else if (env.VITE_CONVEX_SITE_URL) viteEnv.VITE_CONVEX_SITE_URL = env.VITE_CONVEX_SITE_URL;
    if (env.VITE_CLERK_PUBLISHABLE_KEY) viteEnv.VITE_CLERK_PUBLISHABLE_KEY = env.VITE_CLERK_PUBLISHABLE_KEY;
    services.push({
      name: "portal",
      command: node,
      args: [
        bin("vite/bin/vite.js"),
        ...["--config", "web/vite.config.ts", "--port", String(PORTS.portal)],
        ...["--strictPort", "--host", HOST],
      ],
      env: viteEnv,
      readyUrls: [`http://${HOST}:${PORTS.portal}`],
    });
  } else missing.push("portal (web/vite.config.ts)");

  return { services, missing, real, convexUrl };
}

/** "bk_test_3fa9c1…", or a fixed mask for a value that is not an API key. */
function apiKeyHint(key: string): string {
  try {
    return `${keyPrefix(key)}…`;
  } catch {
    return "(set)";
  }
}

/** The "Running:" rows: what is where, and for the demo API key only its prefix and its file. */
export function runningRows(plan: Plan, env: Record<string, string | undefined>, envFile: string): [string, string][] {
  const names = new Set(plan.services.map((s) => s.name));
  const rows: [string, string][] = [];
  if (names.has("backend")) {
    rows.push(["Convex API + sync", LOCAL_CONVEX_URL]);
    rows.push(["HTTP actions", `http://${HOST}:${PORTS.site}`]);
    rows.push(["REST API", `http://${HOST}:${PORTS.site}/v1/`]);
    rows.push(["Stripe webhook", `POST http://${HOST}:${PORTS.site}/stripe/webhook`]);
  } else if (plan.real) rows.push(["Convex", plan.convexUrl ?? "(see `convex dev` output)"]);
  if (names.has("partykit")) rows.push(["PartyKit", `http://${HOST}:${PORTS.partykit}`]);
  if (names.has("maildev")) {
    rows.push(["mail inbox", `${LOCAL_MAILBOX_URL} (everything the platform emails and texts)`]);
    rows.push(["SMTP (catcher)", LOCAL_SMTP_URL]);
  }
  if (names.has("portal")) rows.push(["portal", `http://${HOST}:${PORTS.portal}`]);
  if (env.DEMO_API_KEY && names.has("backend")) {
    rows.push(["demo API key", `${apiKeyHint(env.DEMO_API_KEY)} (the full key is DEMO_API_KEY in ${envFile})`]);
  }
  return rows;
}
