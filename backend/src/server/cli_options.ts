/** Command-line and env-file parsing for the backend CLI (backend/src/cli.ts). */
import { existsSync, readFileSync } from "node:fs";
import type { FunctionLogEntry } from "../engine/types.js";

export interface CliOptions {
  convexDir: string;
  dataDir: string;
  port: number;
  sitePort: number;
  envFile: string;
  host: string;
  adminKey?: string;
}

export const USAGE = `Usage: npm run backend -- [options]
  --convex-dir <dir>   folder of Convex functions (default: convex)
  --data-dir <dir>     durable data folder (default: .data/backend)
  --port <n>           client API and sync WebSocket port (default: 3210; 0 picks one)
  --site-port <n>      HTTP actions port (default: 3211; 0 picks one)
  --env-file <file>    KEY=VALUE lines of the deployment env, if the file exists (default: .env.local); functions
                       see these and \`npx convex env set\` ones, never the backend's own environment
  --host <address>     address to bind (default: 127.0.0.1)
  --admin-key <key>    accept this admin key (Authorization: Convex <key>); default: $CONVEX_SELF_HOSTED_ADMIN_KEY
                       (prefer it: a command line is visible to every local user); admin access (and the
                       \`npx convex\` CLI) is refused without one
  --help               show this help`;

export class UsageError extends Error {}

const FLAGS: Record<string, keyof CliOptions> = {
  "--convex-dir": "convexDir",
  "--data-dir": "dataDir",
  "--port": "port",
  "--site-port": "sitePort",
  "--env-file": "envFile",
  "--host": "host",
  "--admin-key": "adminKey",
};

export function parseCliArgs(argv: string[]): CliOptions | "help" {
  const options: CliOptions = {
    convexDir: "convex",
    dataDir: ".data/backend",
    port: 3210,
    sitePort: 3211,
    envFile: ".env.local",
    host: "127.0.0.1",
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === "--help" || arg === "-h") return "help";
    const equals = arg.indexOf("=");
    const flag = equals === -1 ? arg : arg.slice(0, equals);
    const key = FLAGS[flag];
    if (key === undefined) throw new UsageError(`Unknown ${arg.startsWith("-") ? "flag" : "argument"} ${JSON.stringify(arg)}`);
    const value = equals === -1 ? argv[++i] : arg.slice(equals + 1);
    if (value === undefined || value === "") throw new UsageError(`Flag ${flag} needs a value`);
    if (key === "port" || key === "sitePort") options[key] = parsePort(flag, value);
    else options[key] = value;
  }
  return options;
}

function parsePort(flag: string, value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`Flag ${flag} needs a port number 0-65535, got ${JSON.stringify(value)}`);
  return port;
}

/** KEY=VALUE lines; blank lines and # comments ignored; optional `export ` and quotes. */
export function parseEnvFile(text: string, fileName: string): Record<string, string> {
  const env: Record<string, string> = {};
  text.split(/\r?\n/).forEach((rawLine, index) => {
    const line = rawLine.trim();
    if (line === "" || line.startsWith("#")) return;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (match === null) throw new UsageError(`${fileName}:${index + 1}: expected KEY=VALUE, got ${JSON.stringify(rawLine)}`);
    env[match[1]] = unquote(match[2]);
  });
  return env;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\n/g, "\n").replace(/\\"/g, '"').replace(/\\\\/g, "\\");
  }
  if (value.length >= 2 && value.startsWith("'") && value.endsWith("'")) return value.slice(1, -1);
  const comment = value.search(/\s#/);
  return (comment === -1 ? value : value.slice(0, comment)).trim();
}

/** The variable the Convex CLI reads the self-hosted admin key from. */
export const ADMIN_KEY_ENV = "CONVEX_SELF_HOSTED_ADMIN_KEY";

/**
 * Credentials an env file may hold for the backend or for other local processes (the admin key
 * for scripts, the local sign-in's private key for the portal): never part of the functions' env.
 */
export const NOT_DEPLOYMENT_ENV = [ADMIN_KEY_ENV, "LOCAL_ADMIN_KEY", "LOCAL_AUTH_PRIVATE_JWK"];

export interface BackendEnv {
  /** What functions see as process.env (before `npx convex env set` variables are added). */
  deployment: Record<string, string>;
  /** From the environment, else from the env file. */
  adminKey?: string;
}

/**
 * The deployment env is the env file's lines, less the credentials above. The backend's own
 * process environment is not part of it: as on Convex, functions see only their deployment's
 * variables (set in the env file or with `npx convex env set`), never the host's environment.
 */
export function backendEnv(envFile: string, processEnv: NodeJS.ProcessEnv): BackendEnv {
  const fromFile = existsSync(envFile) ? parseEnvFile(readFileSync(envFile, "utf8"), envFile) : {};
  const adminKey = processEnv[ADMIN_KEY_ENV] || fromFile[ADMIN_KEY_ENV] || undefined;
  const deployment = { ...fromFile };
  for (const name of NOT_DEPLOYMENT_ENV) delete deployment[name];
  return { deployment, adminKey };
}

export function formatLogEntry(entry: FunctionLogEntry): string {
  const outcome = entry.outcome === "success" ? "ok" : `error: ${entry.error ?? "failed"}`;
  const lines = [`${new Date().toISOString()} ${entry.udfType} ${entry.path} ${entry.durationMs.toFixed(1)}ms ${outcome}`];
  for (const line of entry.logLines) lines.push(`    ${line}`);
  return lines.join("\n");
}

