/** Units under the admin API: snapshot JSON, acting-as credentials, env var rules, log polling. */
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createAuthVerifier } from "../../src/server/auth.js";
import { DeploymentEnv, parseEnvChanges } from "../../src/server/deployment_env.js";
import { FunctionLogStream } from "../../src/server/function_logs.js";
import { adminCaller } from "../../src/server/http_api.js";
import { HttpError } from "../../src/server/http_util.js";
import { exportJson, parseExportJson } from "../../src/server/snapshot_zip.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("ConvexExportJSON", () => {
  it("keeps int64, float64 and bytes apart through a round trip", () => {
    const bytes = new Uint8Array([1, 2, 255]).buffer;
    const value = { count: 3n, price: 3, ratio: 0.5, big: 1e300, tags: ["a"], blob: bytes, nothing: null, inf: Infinity };
    const text = exportJson(value);
    expect(text).toContain(`"count":3,`);
    expect(text).toContain(`"price":3.0`);
    const back = parseExportJson(text) as Record<string, unknown>;
    expect(back.count).toBe(3n);
    expect(back.price).toBe(3);
    expect(back.ratio).toBe(0.5);
    expect(back.big).toBe(1e300);
    expect(back.inf).toBe(Infinity);
    expect(new Uint8Array(back.blob as ArrayBuffer)).toEqual(new Uint8Array([1, 2, 255]));
  });

  it("refuses malformed lines with the position", () => {
    expect(() => parseExportJson(`{"a": 1,}`)).toThrow(/position/);
    expect(() => parseExportJson(`{"a": 1} x`)).toThrow(/trailing/);
  });
});

describe("acting-as admin credentials", () => {
  const auth = createAuthVerifier({ providers: () => [], adminKey: "key|abc" });
  const encode = (identity: object) => Buffer.from(JSON.stringify(identity)).toString("base64");

  it("accepts the key alone and the key with a base64 identity, as ConvexHttpClient sends them", () => {
    expect(adminCaller("key|abc", auth)).toEqual({ admin: true, identity: null });
    const caller = adminCaller(`key|abc:${encode({ subject: "s", issuer: "https://i", email: "a@b.c" })}`, auth);
    expect(caller.identity).toMatchObject({ subject: "s", issuer: "https://i", email: "a@b.c", tokenIdentifier: "https://i|s" });
    expect(adminCaller(`key|abc:${encode({ tokenIdentifier: "custom" })}`, auth).identity?.tokenIdentifier).toBe("custom");
  });

  it("refuses a wrong key, a non-JSON identity and one without tokenIdentifier or issuer+subject", () => {
    expect(() => adminCaller(`other:${encode({ subject: "s", issuer: "i" })}`, auth)).toThrow(/Invalid admin key/);
    expect(() => adminCaller("key|abc:%%%", auth)).toThrow(/base64-encoded JSON/);
    expect(() => adminCaller(`key|abc:${encode({ name: "x" })}`, auth)).toThrow(/tokenIdentifier/);
  });
});

describe("deployment env vars", () => {
  it("validates names and values, and cannot remove what the env file sets", () => {
    expect(() => parseEnvChanges({ changes: [{ name: "9LIVES", value: "x" }] })).toThrow(HttpError);
    expect(() => parseEnvChanges({ changes: [{ name: "OK", value: "x".repeat(9000) }] })).toThrow(/longer than/);
    expect(() => parseEnvChanges({})).toThrow(/changes/);

    const dataDir = mkdtempSync(path.join(os.tmpdir(), "deployment-env-"));
    dirs.push(dataDir);
    const applied: Record<string, string>[] = [];
    const env = new DeploymentEnv(dataDir, { FROM_FILE: "1" }, (next) => applied.push(next));
    env.update(parseEnvChanges({ changes: [{ name: "SET", value: "2" }] }));
    expect(applied.at(-1)).toEqual({ FROM_FILE: "1", SET: "2" });
    expect(env.list()).toEqual([{ name: "SET", value: "2" }]);
    expect(() => env.update([{ name: "FROM_FILE", value: null }])).toThrow(/--env-file/);

    const reopened = new DeploymentEnv(dataDir, { FROM_FILE: "1", SET: "2" }, () => undefined);
    expect(reopened.get("SET")).toBe("2");
    reopened.update([{ name: "SET", value: null }]);
    expect(reopened.get("SET")).toBeNull();
    expect(reopened.get("FROM_FILE")).toBe("1");
  });
});

describe("function log stream", () => {
  it("answers a poll as soon as an entry newer than the cursor exists, never twice", async () => {
    const stream = new FunctionLogStream();
    const waiting = stream.poll(0, 10_000);
    stream.push({ udfType: "query", path: "a:b", durationMs: 2, outcome: "success", logLines: ["[LOG] 'x'"] });
    const first = await waiting;
    expect(first.entries).toHaveLength(1);
    expect(first.entries[0]).toMatchObject({ kind: "Completion", udfType: "Query", identifier: "a:b", logLines: ["[LOG] 'x'"], error: null });
    const idle = await stream.poll(first.newCursor, 20);
    expect(idle).toEqual({ entries: [], newCursor: first.newCursor });
    stream.push({ udfType: "mutation", path: "a:c", durationMs: 1, outcome: "error", error: "boom", logLines: [] });
    const second = await stream.poll(first.newCursor, 10_000);
    expect(second.entries.map((entry) => entry.error)).toEqual(["boom"]);
  });
});
