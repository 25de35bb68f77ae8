#!/usr/bin/env node
/**
 * `partykit dev` as the platform runs it (npm start, party/testing/dev-server.ts):
 *   node scripts/partykit/dev.mjs dev --port 1999 ...   (the same arguments as partykit's bin)
 *
 * partykit 0.0.115 has no option for any of these, so its CLI is loaded through a module hook
 * (./hooks.mjs) that edits four lines of its bundle as it loads:
 *  - the worker runtime and Miniflare's helper server bind 127.0.0.1, not 0.0.0.0;
 *  - no V8 inspector (neither workerd's nor partykit's unauthenticated proxy on 9229) unless
 *    PARTYKIT_INSPECTOR=1, and then on 127.0.0.1 only;
 *  - the repository's `.env.local` is not read into every room's env (it holds the backend's
 *    admin key and the local signing key); rooms get exactly the vars they are given.
 * Each edit must match exactly once, or the launcher refuses to start (a partykit upgrade must
 * be looked at, not silently reopen the network).
 *
 * Vars come from the environment, never the command line (`ps` shows every argument):
 * PARTYKIT_DEV_VARS holds a JSON object of them; it is removed from the environment before
 * partykit starts, and turned into `--var` options inside this process only.
 */
import { register } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const VARS_ENV = "PARTYKIT_DEV_VARS";
const here = dirname(fileURLToPath(import.meta.url));
const partykitBin = join(here, "..", "..", "node_modules", "partykit", "dist", "bin.mjs");

function varsFromEnvironment() {
  const text = process.env[VARS_ENV];
  delete process.env[VARS_ENV];
  if (text === undefined || text === "") return {};
  const vars = JSON.parse(text);
  if (typeof vars !== "object" || vars === null || Array.isArray(vars)) {
    throw new Error(`${VARS_ENV} must be a JSON object of KEY: "value" pairs`);
  }
  for (const [key, value] of Object.entries(vars)) {
    if (typeof value !== "string") throw new Error(`${VARS_ENV}: the value of ${key} must be a string`);
  }
  return vars;
}

const vars = varsFromEnvironment();
// Only this process's copy of argv changes; /proc/<pid>/cmdline keeps what was exec'd.
for (const [key, value] of Object.entries(vars)) process.argv.push("--var", `${key}=${value}`);

register("./hooks.mjs", import.meta.url, {
  data: { target: pathToFileURL(partykitBin).href, inspector: process.env.PARTYKIT_INSPECTOR === "1" },
});
await import(pathToFileURL(partykitBin).href);
