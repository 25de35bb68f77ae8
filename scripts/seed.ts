/**
 * Seeds demo data by running the internal action `seed:demo` (a few small mutations) through the
 * local backend's HTTP API, authenticated with the local admin key (`Authorization: Convex <LOCAL_ADMIN_KEY>`), which
 * is what lets an outside caller run an internal function.
 *
 * `seed:demo` is expected to be idempotent: it creates the demo data only when the database has
 * none, and in both cases returns a `SeedResult`.
 */
import { convexToJson, jsonToConvex, type Value } from "convex/values";
import { fetchWithRetry, type RetryOptions } from "./retry.js";

export interface DemoSignIn {
  role: string;
  name?: string;
  email: string;
  password?: string;
}

export interface SeedResult {
  /** False when demo data was already there and nothing was written. */
  created?: boolean;
  signIns?: DemoSignIn[];
  [key: string]: unknown;
}

export interface SeedOptions {
  /** Client API origin of the backend. */
  url?: string;
  adminKey: string;
  /** A backend that is (re)starting is waited for: refused connections and 503s are retried. */
  retry?: RetryOptions;
}

export class SeedError extends Error {}

interface ApiResponse {
  status?: string;
  value?: unknown;
  errorMessage?: string;
  /** Errors outside a function (bad admin key, bad request) come as `{code, message}`. */
  message?: string;
}

export async function seedDemoData({ url = "http://127.0.0.1:3210", adminKey, retry }: SeedOptions): Promise<SeedResult> {
  let response: Response;
  try {
    // seed:demo is idempotent, so sending it again after a refused connection or a 503 is safe.
    response = await fetchWithRetry(new URL("/api/action", url), {
      method: "POST",
      headers: { "Content-Type": "application/json", Authorization: `Convex ${adminKey}` },
      body: JSON.stringify({
        path: "seed:demo",
        format: "convex_encoded_json",
        args: [convexToJson({})],
      }),
    }, retry);
  } catch (error) {
    throw new SeedError(`could not reach the backend at ${url}: ${(error as Error).message}`);
  }
  const text = await response.text();
  let body: ApiResponse | null = null;
  try {
    body = JSON.parse(text) as ApiResponse;
  } catch {
    // Reported below with the raw text.
  }
  if (response.ok && body?.status === "success") {
    const value = jsonToConvex(body.value as Parameters<typeof jsonToConvex>[0]) as Value;
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? (value as SeedResult)
      : { value };
  }
  const reason = body?.errorMessage ?? body?.message ?? (text.slice(0, 500) || response.statusText);
  throw new SeedError(`seed:demo failed (HTTP ${response.status}): ${reason}`);
}
