/**
 * HMAC-SHA256 signatures for pushes from Convex to PartyKit rooms.
 *
 *   x-push-timestamp: <unix epoch milliseconds>
 *   x-push-signature: v1=<lowercase hex HMAC-SHA256(secret, timestamp + "." + body)>
 *
 * Web Crypto only (crypto.subtle, TextEncoder): runs unchanged in PartyKit's workerd runtime,
 * in Convex's default runtime (the delivery worker imports signPush) and in Node.
 */

export const PUSH_TIMESTAMP_HEADER = "x-push-timestamp";
export const PUSH_SIGNATURE_HEADER = "x-push-signature";
export const PUSH_SIGNATURE_VERSION = "v1";
/** How far a push's timestamp may be from the room's clock, either way. */
export const DEFAULT_PUSH_TOLERANCE_MS = 5 * 60 * 1_000;
export const MIN_PUSH_SECRET_LENGTH = 16;

export type PushHeaders = {
  [PUSH_TIMESTAMP_HEADER]: string;
  [PUSH_SIGNATURE_HEADER]: string;
};

export type PushVerificationFailure =
  | "missing_timestamp"
  | "invalid_timestamp"
  | "stale_timestamp"
  | "missing_signature"
  | "malformed_signature"
  | "signature_mismatch";

export type PushVerification =
  | { ok: true }
  | { ok: false; reason: PushVerificationFailure; message: string };

/** Anything headers can be read from: a Headers object, or a plain record (lower-case keys). */
export type HeaderSource = Headers | Record<string, string | undefined>;

const encoder = new TextEncoder();
const SIGNATURE_PATTERN = /^v1=([0-9a-f]{64})$/;

function requireSecret(secret: string): void {
  if (typeof secret !== "string" || secret.length < MIN_PUSH_SECRET_LENGTH) {
    throw new Error(`push secret must be a string of at least ${MIN_PUSH_SECRET_LENGTH} characters`);
  }
}

/** Imported keys by usage and secret; a room sees one or two secrets, so this stays tiny. */
const keyCache = new Map<string, Promise<CryptoKey>>();
const MAX_CACHED_KEYS = 8;

function importHmacKey(secret: string, usage: "sign" | "verify"): Promise<CryptoKey> {
  const cacheKey = `${usage}:${secret}`;
  let key = keyCache.get(cacheKey);
  if (!key) {
    if (keyCache.size >= MAX_CACHED_KEYS) keyCache.clear();
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [usage]);
    keyCache.set(cacheKey, key);
    key.catch(() => keyCache.delete(cacheKey));
  }
  return key;
}

function signedPayload(timestamp: number, body: string): Uint8Array<ArrayBuffer> {
  return encoder.encode(`${timestamp}.${body}`);
}

function toHex(bytes: ArrayBuffer): string {
  return Array.from(new Uint8Array(bytes), (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return bytes;
}

/** The `v1=<hex>` signature of a body at a timestamp (ms). */
export async function computePushSignature(secret: string, body: string, timestamp: number): Promise<string> {
  requireSecret(secret);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) {
    throw new Error(`push timestamp must be a non-negative integer of epoch milliseconds, got ${timestamp}`);
  }
  const key = await importHmacKey(secret, "sign");
  const mac = await crypto.subtle.sign("HMAC", key, signedPayload(timestamp, body));
  return `${PUSH_SIGNATURE_VERSION}=${toHex(mac)}`;
}

/** Headers to send with a push body: `fetch(url, { method: "POST", body, headers: { ...(await signPush(...)), "content-type": "application/json" } })`. */
export async function signPush(secret: string, body: string, timestamp: number = Date.now()): Promise<PushHeaders> {
  return {
    [PUSH_TIMESTAMP_HEADER]: String(timestamp),
    [PUSH_SIGNATURE_HEADER]: await computePushSignature(secret, body, timestamp),
  };
}

function readHeader(headers: HeaderSource, name: string): string | undefined {
  if (typeof (headers as Headers).get === "function") return (headers as Headers).get(name) ?? undefined;
  return (headers as Record<string, string | undefined>)[name];
}

function failure(reason: PushVerificationFailure, message: string): PushVerification {
  return { ok: false, reason, message };
}

/**
 * Verifies a push. `secrets` may list several secrets so the shared secret can be rotated
 * without downtime (sign with the new one once every room accepts both). The HMAC comparison
 * is crypto.subtle.verify, which compares in constant time.
 */
export async function verifyPush(
  secrets: string | readonly string[],
  body: string,
  headers: HeaderSource,
  now: number = Date.now(),
  toleranceMs: number = DEFAULT_PUSH_TOLERANCE_MS,
): Promise<PushVerification> {
  const secretList = typeof secrets === "string" ? [secrets] : secrets;
  if (secretList.length === 0) throw new Error("verifyPush needs at least one secret");
  secretList.forEach(requireSecret);

  const rawTimestamp = readHeader(headers, PUSH_TIMESTAMP_HEADER);
  if (rawTimestamp === undefined || rawTimestamp === "") {
    return failure("missing_timestamp", `missing ${PUSH_TIMESTAMP_HEADER} header`);
  }
  if (!/^\d{1,16}$/.test(rawTimestamp)) {
    return failure("invalid_timestamp", `${PUSH_TIMESTAMP_HEADER} must be epoch milliseconds`);
  }
  const timestamp = Number(rawTimestamp);
  if (Math.abs(now - timestamp) > toleranceMs) {
    return failure(
      "stale_timestamp",
      `${PUSH_TIMESTAMP_HEADER} is ${Math.round((now - timestamp) / 1_000)} s away from the room's clock (tolerance ${toleranceMs / 1_000} s)`,
    );
  }

  const rawSignature = readHeader(headers, PUSH_SIGNATURE_HEADER);
  if (rawSignature === undefined || rawSignature === "") {
    return failure("missing_signature", `missing ${PUSH_SIGNATURE_HEADER} header`);
  }
  const match = SIGNATURE_PATTERN.exec(rawSignature);
  if (!match) {
    return failure("malformed_signature", `${PUSH_SIGNATURE_HEADER} must be v1=<64 lowercase hex digits>`);
  }
  const provided = fromHex(match[1]);
  const payload = signedPayload(timestamp, body);
  for (const secret of secretList) {
    const key = await importHmacKey(secret, "verify");
    if (await crypto.subtle.verify("HMAC", key, provided, payload)) return { ok: true };
  }
  return failure("signature_mismatch", "signature does not match the body and timestamp");
}
