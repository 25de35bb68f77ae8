/**
 * `npm run bench [-- filter ...]`: runs every bench/*.bench.ts with tsx, one after another, each
 * under a heading. A benchmark that fails is reported and makes the exit code 1; the rest still
 * run. Filters keep the benchmarks whose file name contains any of them.
 *
 * BENCH_TIMEOUT_MIN (default 20) bounds each benchmark's wall-clock time.
 */
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "./env.js";
import { runToEnd } from "./proc.js";

const benchDir = join(repoRoot, "bench");
const timeoutMs = Number(process.env.BENCH_TIMEOUT_MIN ?? 20) * 60_000;
const tsxCli = join(repoRoot, "node_modules", "tsx", "dist", "cli.mjs");

async function main(): Promise<number> {
  const filters = process.argv.slice(2).filter((arg) => arg !== "--");
  const all = existsSync(benchDir)
    ? readdirSync(benchDir).filter((name) => name.endsWith(".bench.ts")).sort()
    : [];
  if (all.length === 0) {
    console.log("no benchmarks yet (bench/*.bench.ts)");
    return 0;
  }
  const selected = filters.length > 0 ? all.filter((name) => filters.some((f) => name.includes(f))) : all;
  if (selected.length === 0) {
    console.error(`no benchmark matches ${filters.join(", ")}; benchmarks are ${all.join(", ")}`);
    return 2;
  }

  const failures: string[] = [];
  for (const name of selected) {
    console.log(`\n=== ${name}`);
    const started = Date.now();
    const result = await runToEnd(process.execPath, [tsxCli, join(benchDir, name)], {
      cwd: repoRoot,
      timeoutMs,
    });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.timedOut) failures.push(`${name}: timed out after ${timeoutMs / 60_000} min`);
    else if (result.code !== 0) failures.push(`${name}: exited with ${result.code ?? result.signal}`);
    else console.log(`=== ${name}: done in ${seconds}s`);
  }

  console.log(`\n=== ${selected.length - failures.length} of ${selected.length} benchmark(s) succeeded`);
  for (const failure of failures) console.error(`FAILED ${failure}`);
  return failures.length > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
