/**
 * `npm run backend -- [--convex-dir convex] [--data-dir .data/backend] [--port 3210]
 *  [--site-port 3211] [--env-file .env.local] [--host 127.0.0.1] [--admin-key KEY]`
 *
 * Runs the local Convex backend until SIGINT / SIGTERM.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { openEngine } from "./engine/index.js";
import { readStoredEnv } from "./server/deployment_env.js";
import { backendEnv, formatLogEntry, parseCliArgs, USAGE, UsageError, type CliOptions } from "./server/cli_options.js";
import { PRIVATE_UMASK, securePrivateDir } from "./server/data_dir.js";
import { startBackendServer, type BackendServer } from "./server/index.js";

async function main(): Promise<void> {
  let options: CliOptions | "help";
  let env: Record<string, string>;
  let envAdminKey: string | undefined;
  try {
    options = parseCliArgs(process.argv.slice(2));
    if (options === "help") {
      console.log(USAGE);
      return;
    }
    ({ deployment: env, adminKey: envAdminKey } = backendEnv(options.envFile, process.env));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    process.exit(2);
  }
  const { convexDir, dataDir, host, port, sitePort } = options;
  // The admin key may come from the environment or the env file (the variable the Convex CLI
  // reads), so it never has to appear on a command line; it is not part of the functions' env.
  const adminKey = options.adminKey ?? envAdminKey;
  // Everything the backend writes (database, blobs, exports, env) is private to this user.
  process.umask(PRIVATE_UMASK);
  securePrivateDir(path.resolve(dataDir));
  // Variables set with `npx convex env set` win over the env file and the environment.
  Object.assign(env, readStoredEnv(path.resolve(dataDir)));
  if (!existsSync(convexDir)) {
    console.error(`Convex folder ${path.resolve(convexDir)} does not exist`);
    process.exit(2);
  }

  const server: BackendServer = await startBackendServer({
    host,
    port,
    sitePort,
    adminKey,
    log: (line) => console.error(line),
    openEngine: (urls) =>
      openEngine({
        convexDir: path.resolve(convexDir),
        dataDir: path.resolve(dataDir),
        env,
        siteUrl: urls.siteUrl,
        cloudUrl: urls.cloudUrl,
        watch: true,
        onLog: (entry) => console.log(formatLogEntry(entry)),
      }),
  });
  console.log(`Local Convex backend ready (data in ${path.resolve(dataDir)})`);
  console.log(`  client API and sync: ${server.cloudUrl}`);
  console.log(`  HTTP actions:        ${server.siteUrl}`);

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      console.error(`${signal} again: exiting without a clean shutdown`);
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: stopping`);
    server.close().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Shutdown failed: ${(error as Error).message}`);
        process.exit(1);
      },
    );
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
}

main().catch((error: unknown) => {
  console.error(`Backend failed to start: ${(error as Error).stack ?? error}`);
  process.exit(1);
});
