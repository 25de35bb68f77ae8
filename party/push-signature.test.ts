import { describe, expect, it } from "vitest";
import {
  computePushSignature,
  PUSH_SIGNATURE_HEADER,
  PUSH_TIMESTAMP_HEADER,
  signPush,
  verifyPush,
} from "./push-signature";

const secret = "s3cret-s3cret-s3cret-s3cret";
const body = JSON.stringify({ hello: "world" });
const now = 1_790_000_000_000;

describe("push signatures", () => {
  it("signs timestamp.body with HMAC-SHA256 (known vector)", async () => {
    // echo -n '1790000000000.{"hello":"world"}' | openssl dgst -sha256 -hmac s3cret-s3cret-s3cret-s3cret
    const { createHmac } = await import("node:crypto");
    const expected = createHmac("sha256", secret).update(`${now}.${body}`).digest("hex");
    expect(await computePushSignature(secret, body, now)).toBe(`v1=${expected}`);
  });

  it("accepts a valid signature, as Headers or as a plain record", async () => {
    const headers = await signPush(secret, body, now);
    expect(headers[PUSH_TIMESTAMP_HEADER]).toBe(String(now));
    expect(await verifyPush(secret, body, headers, now)).toEqual({ ok: true });
    expect(await verifyPush(secret, body, new Headers(headers), now + 60_000)).toEqual({ ok: true });
  });

  it("refuses a forged body", async () => {
    const headers = await signPush(secret, body, now);
    const result = await verifyPush(secret, body.replace("world", "w0rld"), headers, now);
    expect(result).toMatchObject({ ok: false, reason: "signature_mismatch" });
  });

  it("refuses a signature made with another secret", async () => {
    const headers = await signPush("another-secret-another", body, now);
    expect(await verifyPush(secret, body, headers, now)).toMatchObject({ ok: false, reason: "signature_mismatch" });
  });

  it("refuses a re-stamped timestamp (the timestamp is signed)", async () => {
    const headers = await signPush(secret, body, now - 10 * 60_000);
    const restamped = { ...headers, [PUSH_TIMESTAMP_HEADER]: String(now) };
    expect(await verifyPush(secret, body, restamped, now)).toMatchObject({ ok: false, reason: "signature_mismatch" });
  });

  it.each([
    ["old", now - 5 * 60_000 - 1],
    ["from the future", now + 5 * 60_000 + 1],
  ])("refuses a timestamp too %s", async (_label, timestamp) => {
    const headers = await signPush(secret, body, timestamp);
    expect(await verifyPush(secret, body, headers, now)).toMatchObject({ ok: false, reason: "stale_timestamp" });
  });

  it("accepts a timestamp right at the tolerance edge", async () => {
    const headers = await signPush(secret, body, now - 5 * 60_000);
    expect(await verifyPush(secret, body, headers, now)).toEqual({ ok: true });
  });

  it("names missing and malformed headers", async () => {
    const headers = await signPush(secret, body, now);
    expect(await verifyPush(secret, body, {}, now)).toMatchObject({ reason: "missing_timestamp" });
    expect(await verifyPush(secret, body, { [PUSH_TIMESTAMP_HEADER]: String(now) }, now)).toMatchObject({
      reason: "missing_signature",
    });
    expect(await verifyPush(secret, body, { ...headers, [PUSH_TIMESTAMP_HEADER]: "soon" }, now)).toMatchObject({
      reason: "invalid_timestamp",
    });
    for (const bad of ["abc", "v2=" + "0".repeat(64), "v1=" + "0".repeat(63), "v1=" + "G".repeat(64)]) {
      expect(await verifyPush(secret, body, { ...headers, [PUSH_SIGNATURE_HEADER]: bad }, now)).toMatchObject({
        reason: "malformed_signature",
      });
    }
  });

  it("accepts the previous secret during a rotation", async () => {
    const headers = await signPush("old-secret-old-secret", body, now);
    expect(await verifyPush([secret, "old-secret-old-secret"], body, headers, now)).toEqual({ ok: true });
    expect(await verifyPush([secret], body, headers, now)).toMatchObject({ ok: false });
  });

  it("refuses short secrets and bad timestamps when signing", async () => {
    await expect(signPush("short", body, now)).rejects.toThrow(/at least 16/);
    await expect(signPush(secret, body, -1)).rejects.toThrow(/epoch milliseconds/);
    await expect(signPush(secret, body, 1.5)).rejects.toThrow(/epoch milliseconds/);
  });
});
