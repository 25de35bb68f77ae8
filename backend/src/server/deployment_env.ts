/**
 * Deployment environment variables set through the admin API (`npx convex env set/remove`),
 * kept in `<dataDir>/deployment_env.json` so they survive a restart. Functions see the
 * backend's base env (--env-file and its own environment) overlaid by these.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { HttpError } from "./http_util.js";

const FILE_NAME = "deployment_env.json";
// Convex's rules for deployment env vars.
const NAME = /^[a-zA-Z_][a-zA-Z0-9_]{0,39}$/;
const MAX_VALUE_BYTES = 8 * 1024;

export function storedEnvFile(dataDir: string): string {
  return path.join(dataDir, FILE_NAME);
}

/** The variables set through the CLI ({} when none). */
export function readStoredEnv(dataDir: string): Record<string, string> {
  const file = storedEnvFile(dataDir);
  if (!existsSync(file)) return {};
  const parsed = JSON.parse(readFileSync(file, "utf8")) as unknown;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file} must hold a JSON object of environment variables`);
  }
  const env: Record<string, string> = {};
  for (const [name, value] of Object.entries(parsed)) if (typeof value === "string") env[name] = value;
  return env;
}

function writeStoredEnv(dataDir: string, env: Record<string, string>): void {
  const file = storedEnvFile(dataDir);
  const temporary = `${file}.tmp`;
  writeFileSync(temporary, JSON.stringify(env, null, 2), { flush: true });
  renameSync(temporary, file);
}

export interface EnvChange {
  name: string;
  /** null or absent removes the variable. */
  value?: string | null;
}

export function parseEnvChanges(body: unknown): EnvChange[] {
  const changes = (body as { changes?: unknown } | null)?.changes;
  if (!Array.isArray(changes)) throw new HttpError(400, "InvalidEnvVarChanges", `Expected {"changes": [{"name", "value"}]}`);
  return changes.map((change: unknown) => {
    const { name, value } = (change ?? {}) as { name?: unknown; value?: unknown };
    if (typeof name !== "string" || !NAME.test(name)) {
      throw new HttpError(
        400,
        "InvalidEnvVarName",
        `Invalid environment variable name ${JSON.stringify(name)}: use letters, digits and underscores, at most 40 characters, not starting with a digit`,
      );
    }
    if (value !== undefined && value !== null && typeof value !== "string") {
      throw new HttpError(400, "InvalidEnvVarValue", `The value of ${name} must be a string`);
    }
    if (typeof value === "string" && Buffer.byteLength(value) > MAX_VALUE_BYTES) {
      throw new HttpError(400, "InvalidEnvVarValue", `The value of ${name} is longer than ${MAX_VALUE_BYTES} bytes`);
    }
    return { name, value: value as string | null | undefined };
  });
}

/** The env vars set through the CLI over the backend's base env, applied to the engine. */
export class DeploymentEnv {
  private stored: Record<string, string>;
  private readonly base: Record<string, string>;

  constructor(
    private readonly dataDir: string,
    /** What the engine was opened with (which may already include the stored variables). */
    openedWith: Record<string, string>,
    private readonly apply: (env: Record<string, string>) => void,
  ) {
    this.stored = readStoredEnv(dataDir);
    this.base = { ...openedWith };
    for (const name of Object.keys(this.stored)) {
      if (this.base[name] === this.stored[name]) delete this.base[name];
    }
    if (Object.keys(this.stored).length > 0) this.apply(this.effective());
  }

  effective(): Record<string, string> {
    return { ...this.base, ...this.stored };
  }

  /** The variables set through the CLI, by name (what `npx convex env list` shows). */
  list(): { name: string; value: string }[] {
    return Object.keys(this.stored)
      .sort()
      .map((name) => ({ name, value: this.stored[name] }));
  }

  get(name: string): string | null {
    return this.effective()[name] ?? null;
  }

  /** Applies all changes or none (a bad change is refused before anything is written). */
  update(changes: EnvChange[]): void {
    const next = { ...this.stored };
    for (const change of changes) {
      if (typeof change.value === "string") {
        next[change.name] = change.value;
        continue;
      }
      if (!(change.name in next) && change.name in this.base) {
        throw new HttpError(
          400,
          "EnvVarNotRemovable",
          `${change.name} comes from the backend's --env-file or its own environment, not from \`npx convex env set\`; remove it there`,
        );
      }
      delete next[change.name];
    }
    writeStoredEnv(this.dataDir, next);
    this.stored = next;
    this.apply(this.effective());
  }
}
