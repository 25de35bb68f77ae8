/**
 * `npm test [-- project ...]`: runs the vitest projects of vitest.config.ts one after another
 * (the machines have 2 cores), each with a readable reporter on the console and a JSON report in
 * artifacts/test-results/<project>.json. The last line printed is the summary
 * `N passed, N failed[, N skipped]`, counting individual tests across all projects.
 *
 * Exit code 1 if any test failed or any project crashed. A file that fails to load, a project
 * that crashes or times out, and a web project without Chromium count as failures too (one per
 * test file affected), so the summary never says "0 failed" for a broken run.
 *
 * TEST_PROJECT_TIMEOUT_MIN (default 30) bounds each project's wall-clock time, and
 * TEST_TOTAL_TIMEOUT_MIN (default none; CI sets one) the whole run: a project still running when
 * the budget ends is stopped, and projects not started are counted as failed.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative, sep } from "node:path";
import { repoRoot } from "./env.js";
import { runToEnd } from "./proc.js";

const CHROMIUM = "/usr/bin/chromium";
const resultsDir = join(repoRoot, "artifacts", "test-results");
const projectTimeoutMs = Number(process.env.TEST_PROJECT_TIMEOUT_MIN ?? 30) * 60_000;
const totalTimeoutMs = process.env.TEST_TOTAL_TIMEOUT_MIN
  ? Number(process.env.TEST_TOTAL_TIMEOUT_MIN) * 60_000
  : Infinity;
const runStarted = Date.now();

interface Project {
  name: string;
  include: string[];
  exclude: string[];
}

interface Outcome {
  name: string;
  passed: number;
  failed: number;
  skipped: number;
  note: string;
}

async function loadProjects(): Promise<Project[]> {
  const { default: config } = (await import("../vitest.config.js")) as {
    default: { test?: { projects?: unknown[] } };
  };
  const projects: Project[] = [];
  for (const entry of config.test?.projects ?? []) {
    const test = (entry as { test?: { name?: unknown; include?: string[]; exclude?: string[] } }).test;
    if (typeof test?.name !== "string") {
      throw new Error("every project in vitest.config.ts needs an inline test.name");
    }
    projects.push({ name: test.name, include: test.include ?? [], exclude: test.exclude ?? [] });
  }
  return projects;
}

/** Glob subset vitest's include patterns use here: `**`, `*`, `?`, `{a,b}`. */
function globToRegExp(glob: string): RegExp {
  let re = "";
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" && glob[i + 1] === "*") {
      i++;
      if (glob[i + 1] === "/") {
        i++;
        re += "(?:.*/)?";
      } else re += ".*";
    } else if (c === "*") re += "[^/]*";
    else if (c === "?") re += "[^/]";
    else if (c === "{") {
      braces++;
      re += "(?:";
    } else if (c === "}" && braces > 0) {
      braces--;
      re += ")";
    } else if (c === "," && braces > 0) re += "|";
    else re += c.replace(/[.+^$()|[\]\\]/g, "\\$&");
  }
  return new RegExp(`^${re}$`);
}

const skipDirs = new Set(["node_modules", ".git", ".data", "dist", "_generated", "artifacts"]);

function walk(dir: string, out: string[]): void {
  if (!existsSync(dir)) return;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!skipDirs.has(entry.name)) walk(join(dir, entry.name), out);
    } else if (entry.isFile()) out.push(join(dir, entry.name));
  }
}

function testFiles(project: Project): string[] {
  const include = project.include.map(globToRegExp);
  const exclude = project.exclude.map(globToRegExp);
  const files = new Set<string>();
  for (const pattern of project.include) {
    const parts = pattern.split("/");
    const firstGlob = parts.findIndex((part) => /[*?{]/.test(part));
    const base = parts.slice(0, firstGlob === -1 ? -1 : firstGlob);
    const found: string[] = [];
    walk(join(repoRoot, ...base), found);
    for (const file of found) {
      const rel = relative(repoRoot, file).split(sep).join("/");
      if (include.some((r) => r.test(rel)) && !exclude.some((r) => r.test(rel))) files.add(rel);
    }
  }
  return [...files].sort();
}

interface JsonReport {
  numPassedTests?: number;
  numFailedTests?: number;
  numPendingTests?: number;
  numTodoTests?: number;
  testResults?: { status?: string; assertionResults?: { status?: string }[] }[];
}

function readReport(path: string): JsonReport | null {
  try {
    return JSON.parse(readFileSync(path, "utf8")) as JsonReport;
  } catch {
    return null;
  }
}

async function runProject(project: Project): Promise<Outcome> {
  const files = testFiles(project);
  const outcome: Outcome = { name: project.name, passed: 0, failed: 0, skipped: 0, note: "" };
  const remainingMs = totalTimeoutMs - (Date.now() - runStarted);
  const timeoutMs = Math.min(projectTimeoutMs, remainingMs);
  if (files.length > 0 && remainingMs < 10_000) {
    outcome.failed = files.length;
    outcome.note = `FAILED: not run, the run's time budget (TEST_TOTAL_TIMEOUT_MIN) is used up`;
    console.error(`\n=== ${project.name}: ${outcome.note}`);
    return outcome;
  }
  if (files.length === 0) {
    outcome.note = "skipped: no test files yet";
    console.log(`\n=== ${project.name}: no test files yet (${project.include.join(", ")}), skipped`);
    return outcome;
  }
  if (project.name === "web" && !existsSync(CHROMIUM)) {
    outcome.failed = files.length;
    outcome.note = `FAILED: Chromium not found at ${CHROMIUM} (install it: apt-get install -y chromium)`;
    console.error(`\n=== web: ${outcome.note}; ${files.length} test file(s) not run`);
    return outcome;
  }

  console.log(`\n=== ${project.name}: ${files.length} test file(s)`);
  const reportPath = join(resultsDir, `${project.name}.json`);
  rmSync(reportPath, { force: true });
  const started = Date.now();
  const result = await runToEnd(
    process.execPath,
    [
      join(repoRoot, "node_modules", "vitest", "vitest.mjs"),
      "run",
      "--project",
      project.name,
      "--reporter=default",
      "--reporter=json",
      `--outputFile.json=${reportPath}`,
    ],
    { cwd: repoRoot, timeoutMs },
  );
  const seconds = ((Date.now() - started) / 1000).toFixed(1);

  const report = readReport(reportPath);
  if (report) {
    outcome.passed = report.numPassedTests ?? 0;
    outcome.failed = report.numFailedTests ?? 0;
    outcome.skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    // A file that fails to import has no failed test of its own.
    for (const file of report.testResults ?? []) {
      const failedTests = (file.assertionResults ?? []).filter((t) => t.status === "failed").length;
      if (file.status === "failed" && failedTests === 0) outcome.failed++;
    }
  }
  if (result.timedOut) {
    outcome.note = `CRASHED: timed out after ${(timeoutMs / 60_000).toFixed(1)} min and was stopped`;
  } else if (result.code !== 0) {
    if (!report) outcome.note = `CRASHED: vitest exited with ${result.code ?? result.signal} and wrote no report`;
    else if (outcome.failed === 0) outcome.note = `CRASHED: vitest exited with ${result.code ?? result.signal} (unhandled error?)`;
  }
  if (outcome.note.startsWith("CRASHED") && outcome.failed === 0) {
    outcome.failed = report ? 1 : files.length;
  }
  if (!outcome.note) outcome.note = `${seconds}s`;
  return outcome;
}

async function main(): Promise<number> {
  const projects = await loadProjects();
  const wanted = process.argv.slice(2).filter((arg) => arg !== "--");
  const unknown = wanted.filter((name) => !projects.some((p) => p.name === name));
  if (unknown.length > 0) {
    console.error(
      `unknown test project(s): ${unknown.join(", ")}; projects are ${projects.map((p) => p.name).join(", ")}`,
    );
    return 2;
  }
  const selected = wanted.length > 0 ? projects.filter((p) => wanted.includes(p.name)) : projects;
  mkdirSync(resultsDir, { recursive: true });

  const outcomes: Outcome[] = [];
  for (const project of selected) outcomes.push(await runProject(project));

  console.log("\n=== summary");
  for (const o of outcomes) {
    const counts = o.note.startsWith("skipped") ? "" : `${o.passed} passed, ${o.failed} failed` +
      (o.skipped ? `, ${o.skipped} skipped` : "") + "  ";
    console.log(`${o.name.padEnd(13)} ${counts}${o.note}`);
  }
  const total = (key: "passed" | "failed" | "skipped") => outcomes.reduce((n, o) => n + o[key], 0);
  const skipped = total("skipped");
  console.log(`${total("passed")} passed, ${total("failed")} failed${skipped ? `, ${skipped} skipped` : ""}`);
  return total("failed") > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    console.log("0 passed, 1 failed");
    process.exit(1);
  },
);
