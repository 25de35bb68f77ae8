/**
 * Starts the local backend against the fixture app for real-client tests: in-process through
 * the server factory, or as a child process through the CLI (restart and kill -9 tests).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import WebSocket from "ws";
import { exportJWK, generateKeyPair, SignJWT, type JWTPayload, type CryptoKey } from "jose";
import { ConvexClient, ConvexHttpClient } from "convex/browser";
import { ConvexReactClient } from "convex/react";
import { openEngine } from "../../src/engine/index.js";
import { startBackendServer, type BackendServer, type BackendServerOptions } from "../../src/server/index.js";

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, "../../..");
export const fixtureAppDir = path.resolve(here, "../fixtures/app");
/** `npm run backend`'s entry point (runs the compiled backend/src). */
export const cliPath = path.resolve(repoRoot, "backend/bin/backend.mjs");

export const JWT_ISSUER = "https://auth.fixture.test";
export const JWT_AUDIENCE = "fixture";

const tempDirs: string[] = [];
export function tempDir(prefix = "backend-clients-"): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** An RSA key whose public half the fixture's customJwt provider trusts (via a data: JWKS). */
export interface TestIssuer {
  privateKey: CryptoKey;
  jwksDataUri: string;
  sign(claims: JWTPayload, options?: { expiresInSeconds?: number; issuer?: string; audience?: string; key?: CryptoKey }): Promise<string>;
}

export async function createTestIssuer(kid = "fixture-key"): Promise<TestIssuer> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: "RS256", use: "sig" };
  const jwksDataUri = `data:application/json,${encodeURIComponent(JSON.stringify({ keys: [jwk] }))}`;
  return {
    privateKey,
    jwksDataUri,
    async sign(claims, options = {}) {
      const now = Math.floor(Date.now() / 1000);
      return await new SignJWT(claims)
        .setProtectedHeader({ alg: "RS256", kid, typ: "JWT" })
        .setIssuer(options.issuer ?? JWT_ISSUER)
        .setAudience(options.audience ?? JWT_AUDIENCE)
        .setIssuedAt(now)
        .setExpirationTime(now + (options.expiresInSeconds ?? 3600))
        .sign(options.key ?? privateKey);
    },
  };
}

export function fixtureEnv(issuer: TestIssuer): Record<string, string> {
  return { FIXTURE_JWT_ISSUER: JWT_ISSUER, FIXTURE_JWKS: issuer.jwksDataUri, FIXTURE_FLAG: "on" };
}

export interface InProcessBackend {
  server: BackendServer;
  dataDir: string;
  syncClient(): ConvexClient;
  reactClient(): ConvexReactClient;
  httpClient(): ConvexHttpClient;
  close(): Promise<void>;
}

/** The servers and the engine in this process, on free ports, over a fresh data folder. */
export async function startInProcess(
  options: { env?: Record<string, string>; dataDir?: string; runCrons?: boolean } & Omit<BackendServerOptions, "openEngine"> = {},
): Promise<InProcessBackend> {
  const dataDir = options.dataDir ?? tempDir();
  const server = await startBackendServer({
    ...options,
    openEngine: (urls) =>
      openEngine({
        convexDir: fixtureAppDir,
        dataDir,
        env: options.env ?? {},
        siteUrl: urls.siteUrl,
        cloudUrl: urls.cloudUrl,
        runCrons: options.runCrons ?? false,
      }),
  });
  const closers: (() => Promise<void> | void)[] = [];
  return {
    server,
    dataDir,
    syncClient() {
      const client = newSyncClient(server.cloudUrl);
      closers.push(() => client.close());
      return client;
    },
    reactClient() {
      const client = new ConvexReactClient(server.cloudUrl, {
        webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket,
        unsavedChangesWarning: false,
    logger: false,
      });
      closers.push(() => client.close());
      return client;
    },
    httpClient() {
      return new ConvexHttpClient(server.cloudUrl);
    },
    async close() {
      await Promise.all(closers.splice(0).map((close) => close()));
      await server.close();
    },
  };
}

export function newSyncClient(cloudUrl: string): ConvexClient {
  return new ConvexClient(cloudUrl, {
    webSocketConstructor: WebSocket as unknown as typeof globalThis.WebSocket,
    unsavedChangesWarning: false,
    logger: false,
  });
}

export interface ChildBackend {
  process: ChildProcess;
  cloudUrl: string;
  siteUrl: string;
  output(): string;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** Runs `npm run backend`'s entry point as a child process on free ports. */
export async function startCli(args: { convexDir?: string; dataDir: string; env?: Record<string, string>; extraArgs?: string[] }): Promise<ChildBackend> {
  // Node 20 itself reads `--env-file` wherever it appears, so the file must exist.
  const envFile = path.join(args.dataDir, "backend.env");
  if (!existsSync(envFile)) writeFileSync(envFile, "# deployment env for this test backend\nFIXTURE_FLAG=from-env-file\n");
  const child = spawn(
    process.execPath,
    [
      cliPath,
      "--convex-dir",
      args.convexDir ?? fixtureAppDir,
      "--data-dir",
      args.dataDir,
      "--port",
      "0",
      "--site-port",
      "0",
      "--env-file",
      envFile,
      ...(args.extraArgs ?? []),
    ],
    { cwd: repoRoot, env: { ...process.env, ...args.env }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let output = "";
  child.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.on("exit", (code, signal) => resolve(code ?? signal ?? "unknown")));
  const urls = await new Promise<{ cloudUrl: string; siteUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`backend did not start in time:\n${output}`)), 30_000);
    const check = () => {
      const cloud = /client API and sync: (http:\/\/\S+)/.exec(output);
      const site = /HTTP actions: +(http:\/\/\S+)/.exec(output);
      if (cloud && site) {
        clearTimeout(timer);
        resolve({ cloudUrl: cloud[1], siteUrl: site[1] });
      }
    };
    child.stdout!.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`backend exited (${code}) before it was ready:\n${output}`));
    });
  });
  return { process: child, ...urls, output: () => output, exited };
}

/** Stops a child backend if it still runs (used in afterEach so no process outlives a test). */
export async function stopCli(child: ChildBackend | undefined): Promise<void> {
  if (child === undefined || child.process.exitCode !== null || child.process.signalCode !== null) return;
  child.process.kill("SIGKILL");
  await child.exited;
}
