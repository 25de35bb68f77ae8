/**
 * The data folder holds personal data and key hashes: only its owner may read it. New files
 * get 0600 and folders 0700 through the process umask; a folder created by an older version
 * (0755 folders, 0644 files) is tightened when the backend opens it.
 */
import { chmodSync, lstatSync, mkdirSync, readdirSync } from "node:fs";
import path from "node:path";

export const PRIVATE_UMASK = 0o077;
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

/** Creates `dir` if needed and makes it and everything in it private to this user. */
export function securePrivateDir(dir: string): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  restrict(dir);
}

function restrict(target: string): void {
  const stat = lstatSync(target);
  if (stat.isSymbolicLink()) return; // chmod would follow it to a file outside the folder
  if (stat.isDirectory()) {
    if ((stat.mode & 0o777) !== DIR_MODE) chmodSync(target, DIR_MODE);
    for (const entry of readdirSync(target)) restrict(path.join(target, entry));
  } else if ((stat.mode & 0o077) !== 0) {
    chmodSync(target, FILE_MODE);
  }
}
