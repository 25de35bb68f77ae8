/**
 * Standard Webhooks (https://www.standardwebhooks.com) signing for partner deliveries:
 *
 *   webhook-id:        the message id (stable across retries and replays of one event)
 *   webhook-timestamp: integer seconds since the epoch
 *   webhook-signature: "v1,<base64 HMAC-SHA256(key, `${id}.${timestamp}.${body}`)>", one per
 *                      valid secret, space-separated (two while a secret rotates)
 *
 * Secrets are "whsec_" + base64 of 24 random bytes; the HMAC key is the base64-decoded part.
 * SubtleCrypto only: runs in Convex's default runtime.
 */

const SECRET_PREFIX = "whsec_";

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function generateWebhookSecret(): string {
  const bytes = new Uint8Array(24);
  crypto.getRandomValues(bytes);
  return SECRET_PREFIX + toBase64(bytes);
}

/** A hint that identifies a secret without revealing it ("whsec_ab12…"). */
export function secretHint(secret: string): string {
  return `${secret.slice(0, SECRET_PREFIX.length + 4)}…`;
}

function keyBytes(secret: string): Uint8Array {
  if (!secret.startsWith(SECRET_PREFIX)) throw new Error("Webhook secrets start with whsec_");
  return fromBase64(secret.slice(SECRET_PREFIX.length));
}

export async function signWebhook(secret: string, msgId: string, timestampSeconds: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey("raw", keyBytes(secret) as BufferSource, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  const mac = await crypto.subtle.sign("HMAC", key, new TextEncoder().encode(`${msgId}.${timestampSeconds}.${body}`));
  return `v1,${toBase64(new Uint8Array(mac))}`;
}

/** The three Standard Webhooks headers for `body`, signed with every given secret. */
export async function webhookHeaders(
  secrets: string[],
  msgId: string,
  timestampSeconds: number,
  body: string,
): Promise<Record<string, string>> {
  if (secrets.length === 0) throw new Error("No valid secret to sign with");
  const signatures = await Promise.all(secrets.map((s) => signWebhook(s, msgId, timestampSeconds, body)));
  return {
    "webhook-id": msgId,
    "webhook-timestamp": String(timestampSeconds),
    "webhook-signature": signatures.join(" "),
  };
}
