/**
 * Convex's wire encoding of u64 timestamps: base64 of the 8 little-endian bytes.
 */

const U64_MAX = (1n << 64n) - 1n;

export function encodeTs(ts: bigint): string {
  if (ts < 0n || ts > U64_MAX) throw new RangeError(`timestamp out of u64 range: ${ts}`);
  const bytes = Buffer.alloc(8);
  bytes.writeBigUInt64LE(ts);
  return bytes.toString("base64");
}

export function decodeTs(encoded: string): bigint {
  if (typeof encoded !== "string" || !/^[A-Za-z0-9+/]{11}=$/.test(encoded)) {
    throw new TypeError(`invalid encoded timestamp ${JSON.stringify(encoded)}: expected base64 of 8 bytes`);
  }
  return Buffer.from(encoded, "base64").readBigUInt64LE();
}
