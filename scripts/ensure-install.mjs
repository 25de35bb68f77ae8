#!/usr/bin/env node
// Installs the npm dependencies when node_modules is missing or stale; a quick no-op otherwise.
// Plain Node with no dependencies: it runs before anything is installed.
//
// Staleness is decided by a stamp file written after a successful install. The stamp holds a
// hash of package-lock.json (package.json when there is no lock) and the Node ABI version, since
// native modules such as better-sqlite3 are built for one ABI.
import { createHash } from "node:crypto";
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const lockPath = join(root, "package-lock.json");
const manifestPath = join(root, "package.json");
const modulesDir = join(root, "node_modules");
// Inside node_modules, so that deleting node_modules also deletes the stamp.
const stampPath = join(modulesDir, ".install-stamp");

const log = (message) => console.log(`[install] ${message}`);

function expectedStamp() {
  const hasLock = existsSync(lockPath);
  const hash = createHash("sha256")
    .update(readFileSync(hasLock ? lockPath : manifestPath))
    .digest("hex");
  return `${hasLock ? "lock" : "manifest"}:${hash} node-abi:${process.versions.modules}\n`;
}

function readStamp() {
  try {
    return readFileSync(stampPath, "utf8");
  } catch {
    return null;
  }
}

/**
 * A node_modules installed before stamps existed (or by a plain `npm install`) is adopted when
 * npm's own record of it (node_modules/.package-lock.json) matches package-lock.json exactly:
 * every installed package at the locked version, every non-optional locked package installed.
 * This avoids a needless full reinstall.
 */
function installMatchesLock() {
  const hiddenLockPath = join(modulesDir, ".package-lock.json");
  if (!existsSync(lockPath) || !existsSync(hiddenLockPath)) return false;
  try {
    const locked = JSON.parse(readFileSync(lockPath, "utf8")).packages ?? {};
    const installed = JSON.parse(readFileSync(hiddenLockPath, "utf8")).packages ?? {};
    for (const [path, entry] of Object.entries(installed)) {
      const want = locked[path];
      if (!want || want.version !== entry.version) return false;
      if (want.integrity && entry.integrity && want.integrity !== entry.integrity) return false;
    }
    for (const [path, entry] of Object.entries(locked)) {
      if (path === "" || entry.optional || entry.peer) continue;
      if (!installed[path]) return false;
    }
    return true;
  } catch {
    return false;
  }
}

function run(command, args) {
  log(`running: ${command} ${args.join(" ")}`);
  const result = spawnSync(command, args, {
    cwd: root,
    stdio: "inherit",
    shell: process.platform === "win32",
  });
  if (result.error) {
    console.error(`[install] could not run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`[install] ${command} ${args.join(" ")} failed with exit code ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

/** The one native module: if its install script was blocked, everything later fails obscurely. */
function checkNativeModules() {
  const probe = spawnSync(
    process.execPath,
    ["-e", "new (require('better-sqlite3'))(':memory:').close()"],
    { cwd: root, encoding: "utf8" },
  );
  if (probe.status !== 0) {
    console.error(
      "[install] better-sqlite3 does not load after the install; its native build probably did not run.\n" +
        "[install] Check that package.json \"allowScripts\" allows better-sqlite3, then delete node_modules and retry.\n" +
        (probe.stderr ?? ""),
    );
    process.exit(1);
  }
}

const want = expectedStamp();
if (existsSync(modulesDir) && readStamp() === want) process.exit(0);

if (existsSync(modulesDir) && readStamp() === null && installMatchesLock()) {
  writeFileSync(stampPath, want);
  log("node_modules matches package-lock.json; recorded the install stamp");
  process.exit(0);
}

if (!existsSync(modulesDir)) log("node_modules is missing: installing dependencies");
else log("node_modules is out of date with package-lock.json (or built for another Node): reinstalling");

if (existsSync(lockPath)) run("npm", ["ci", "--no-audit", "--no-fund"]);
else run("npm", ["install", "--no-audit", "--no-fund"]);

checkNativeModules();
// Hash again: `npm install` without a lock writes one.
writeFileSync(stampPath, expectedStamp());
log("dependencies installed");
