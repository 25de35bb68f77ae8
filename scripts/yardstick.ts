/**
 * `npm run yardstick [-- vitest args]`: runs the public get-convex/convex-test repository's own
 * test suite (its convex/*.test.ts) against the local backend's engine and prints how many pass.
 *
 * CONVEX_TEST_CHECKOUT names a checkout of get-convex/convex-test (any folder holding its
 * convex/ and index.ts). Without it, or when the folder is absent (CI), the run is skipped and
 * exits 0. The checkout is read in place; the only thing added to it is a `node_modules` link to
 * this repository's, so its tests and functions resolve `convex` and `vitest` from here.
 */
import { existsSync, lstatSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { repoRoot } from "./env.js";
import { runToEnd } from "./proc.js";

interface VitestJson {
  numTotalTests: number;
  numPassedTests: number;
  numFailedTests: number;
  testResults: { name: string; assertionResults: { fullName: string; status: string; failureMessages: string[] }[] }[];
}

async function main(): Promise<number> {
  const checkout = process.env.CONVEX_TEST_CHECKOUT;
  if (!checkout || !existsSync(join(checkout, "convex"))) {
    console.log("yardstick skipped: set CONVEX_TEST_CHECKOUT to a get-convex/convex-test checkout");
    return 0;
  }
  const link = join(checkout, "node_modules");
  if (!existsSync(link) && !isLink(link)) symlinkSync(join(repoRoot, "node_modules"), link, "dir");
  const report = join(mkdtempSync(join(os.tmpdir(), "yardstick-")), "report.json");
  const vitest = join(repoRoot, "node_modules", "vitest", "vitest.mjs");
  const extra = process.argv.slice(2).filter((arg) => arg !== "--");
  const result = await runToEnd(
    process.execPath,
    [vitest, "run", "--config", join(repoRoot, "backend/test/yardstick/vitest.config.ts"), "--reporter=json", `--outputFile=${report}`, ...extra],
    { cwd: repoRoot, env: { ...process.env, CONVEX_TEST_CHECKOUT: checkout }, timeoutMs: 30 * 60_000 },
  );
  if (!existsSync(report)) {
    console.error(`vitest produced no report (exit ${result.code ?? result.signal})`);
    return 1;
  }
  const json = JSON.parse(readFileSync(report, "utf8")) as VitestJson;
  for (const file of json.testResults) {
    for (const test of file.assertionResults) {
      if (test.status === "passed") continue;
      const first = (test.failureMessages[0] ?? "").split("\n")[0].slice(0, 200);
      console.log(`${test.status.toUpperCase()} ${file.name.replace(`${checkout}/`, "")} > ${test.fullName}: ${first}`);
    }
  }
  console.log(`\nconvex-test suite on the local engine: ${json.numPassedTests} of ${json.numTotalTests} passed`);
  return 0;
}

function isLink(file: string): boolean {
  try {
    return lstatSync(file).isSymbolicLink();
  } catch {
    return false;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
