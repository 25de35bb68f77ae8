/** Pure pieces of the servers: timestamps, function paths, message parsing, CLI options. */
import { describe, expect, it } from "vitest";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { decodeTs, encodeTs } from "../../src/server/timestamps.js";
import { canonicalFunctionPath, functionPathFromRunRoute } from "../../src/server/paths.js";
import { parseClientMessage } from "../../src/server/protocol.js";
import { parseCliArgs, parseEnvFile, backendEnv, UsageError } from "../../src/server/cli_options.js";
import { stableStringify, subscriptionKey } from "../../src/server/subscriptions.js";

describe("timestamps", () => {
  it("encode as base64 of 8 little-endian bytes, as the client decodes them", () => {
    expect(encodeTs(0n)).toBe("AAAAAAAAAAA=");
    expect(encodeTs(1n)).toBe("AQAAAAAAAAA=");
    expect(encodeTs(0x0102030405060708n)).toBe(Buffer.from([8, 7, 6, 5, 4, 3, 2, 1]).toString("base64"));
    for (const ts of [0n, 1n, 1_700_000_000_000_000_000n, (1n << 64n) - 1n]) expect(decodeTs(encodeTs(ts))).toBe(ts);
  });
  it("refuse values outside u64 and malformed encodings", () => {
    expect(() => encodeTs(-1n)).toThrow(RangeError);
    expect(() => encodeTs(1n << 64n)).toThrow(RangeError);
    expect(() => decodeTs("abc")).toThrow(/invalid encoded timestamp/);
  });
});

describe("function paths", () => {
  it("canonicalize as the client does", () => {
    expect(canonicalFunctionPath("messages:list")).toBe("messages:list");
    expect(canonicalFunctionPath("messages.js:list")).toBe("messages:list");
    expect(canonicalFunctionPath("api/v1/bookings:create")).toBe("api/v1/bookings:create");
    expect(canonicalFunctionPath("messages")).toBe("messages:default");
    expect(functionPathFromRunRoute("api/v1/bookings/create")).toBe("api/v1/bookings:create");
  });
  it("refuse paths that name nothing or escape the functions folder", () => {
    for (const bad of ["", ":list", "../secret:fn", "a:b-c", "mod:"]) expect(() => canonicalFunctionPath(bad), bad).toThrow(/Invalid function path/);
    expect(() => functionPathFromRunRoute("onlyone")).toThrow(/expected \/api\/run/);
  });
});

describe("client messages", () => {
  it("parse every message the client sends", () => {
    expect(parseClientMessage('{"type":"Connect","sessionId":"s","connectionCount":0,"lastCloseReason":"InitialConnect","clientTs":5}').type).toBe(
      "Connect",
    );
    const modify = parseClientMessage(
      JSON.stringify({
        type: "ModifyQuerySet",
        baseVersion: 0,
        newVersion: 1,
        modifications: [
          { type: "Add", queryId: 0, udfPath: "m:q", args: [{ a: { $integer: "AQAAAAAAAAA=" } }] },
          { type: "Remove", queryId: 3 },
        ],
      }),
    );
    expect(modify).toMatchObject({ type: "ModifyQuerySet", modifications: [{ type: "Add" }, { type: "Remove" }] });
    expect(parseClientMessage('{"type":"Authenticate","baseVersion":0,"tokenType":"None"}').type).toBe("Authenticate");
    expect(parseClientMessage('{"type":"Event","eventType":"x","event":{"a":1}}').type).toBe("Event");
  });
  it("name what is wrong with a malformed one", () => {
    expect(() => parseClientMessage("[")).toThrow(/not JSON/);
    expect(() => parseClientMessage('{"type":"Hello"}')).toThrow(/unknown message type "Hello"/);
    expect(() => parseClientMessage('{"type":"Mutation","requestId":-1,"udfPath":"a:b","args":[]}')).toThrow(/Malformed Mutation message: requestId/);
    expect(() => parseClientMessage('{"type":"Authenticate","baseVersion":0,"tokenType":"User"}')).toThrow(/Malformed Authenticate/);
    expect(() => parseClientMessage('{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1,"modifications":[{"type":"Add","queryId":0}]}')).toThrow(
      /modifications\.0\.udfPath/,
    );
  });
});

describe("subscription keys", () => {
  it("are equal for equal calls, whatever the key order, and differ by caller", () => {
    const anon = { identity: null, admin: false };
    const user = { identity: { tokenIdentifier: "i|s", subject: "s", issuer: "i" }, admin: false };
    expect(subscriptionKey("m:q", [{ a: 1, b: 2 }], anon)).toBe(subscriptionKey("m:q", [{ b: 2, a: 1 }], anon));
    expect(subscriptionKey("m:q", [{ a: 1 }], anon)).not.toBe(subscriptionKey("m:q", [{ a: 1 }], user));
    expect(stableStringify({ z: [1, { y: 2, x: 1 }], a: null })).toBe('{"a":null,"z":[1,{"x":1,"y":2}]}');
  });
});

describe("CLI options", () => {
  it("have the documented defaults and accept both flag forms", () => {
    expect(parseCliArgs([])).toEqual({
      convexDir: "convex",
      dataDir: ".data/backend",
      port: 3210,
      sitePort: 3211,
      envFile: ".env.local",
      host: "127.0.0.1",
    });
    expect(parseCliArgs(["--port", "0", "--site-port=4000", "--convex-dir", "app", "--admin-key", "k"])).toMatchObject({
      port: 0,
      sitePort: 4000,
      convexDir: "app",
      adminKey: "k",
    });
    expect(parseCliArgs(["--help"])).toBe("help");
  });
  it("refuse unknown flags, missing values and bad ports", () => {
    expect(() => parseCliArgs(["--prot", "1"])).toThrow(new UsageError('Unknown flag "--prot"'));
    expect(() => parseCliArgs(["stray"])).toThrow(/Unknown argument "stray"/);
    expect(() => parseCliArgs(["--port"])).toThrow(/--port needs a value/);
    expect(() => parseCliArgs(["--port", "70000"])).toThrow(/port number 0-65535/);
    expect(() => parseCliArgs(["--port", "12ab"])).toThrow(/port number/);
  });
  it("read KEY=VALUE env files with comments, export and quotes", () => {
    expect(
      parseEnvFile(['# comment', "", "A=1", "export B = two words", 'C="line\\nbreak"', "D='single # kept'", "E=value # trailing comment"].join("\n"), "f"),
    ).toEqual({ A: "1", B: "two words", C: "line\nbreak", D: "single # kept", E: "value" });
    expect(() => parseEnvFile("A=1\nnot a pair\n", ".env.local")).toThrow(/\.env\.local:2: expected KEY=VALUE/);
  });
  it("keep the backend's own environment and credentials out of the deployment env", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "backend-env-"));
    try {
      const file = path.join(dir, "env");
      writeFileSync(file, "APP_FLAG=1\nLOCAL_ADMIN_KEY=local_admin_x\nLOCAL_AUTH_PRIVATE_JWK={}\nCONVEX_SELF_HOSTED_ADMIN_KEY=from-file\n");
      expect(backendEnv(file, { ONLY_ENV: "x" })).toEqual({ deployment: { APP_FLAG: "1" }, adminKey: "from-file" });
      expect(backendEnv(file, { CONVEX_SELF_HOSTED_ADMIN_KEY: "from-env" }).adminKey).toBe("from-env");
      expect(backendEnv("/no/such/file", { ONLY_ENV: "x" })).toEqual({ deployment: {}, adminKey: undefined });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
