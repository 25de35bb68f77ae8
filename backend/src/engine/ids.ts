/**
 * Document ids in Convex's style: base32 text over
 * `varint(tableNumber) ++ 16 random bytes ++ 2-byte Fletcher-16 checksum`.
 * The table is recoverable from the id alone, and garbage fails the checksum.
 */
import { randomFillSync } from "node:crypto";

const ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const DECODE = new Map([...ALPHABET].map((c, i) => [c, i]));
const RANDOM_BYTES = 16;

function base32Encode(bytes: Uint8Array): string {
  let out = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 31];
  return out;
}

function base32Decode(text: string): Uint8Array | null {
  const out: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const c of text) {
    const value = DECODE.get(c);
    if (value === undefined) return null;
    buffer = (buffer << 5) | value;
    bits += 5;
    if (bits >= 8) {
      out.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
    buffer &= (1 << bits) - 1;
  }
  if (buffer !== 0) return null; // non-canonical padding bits
  return Uint8Array.from(out);
}

function fletcher16(bytes: Uint8Array): [number, number] {
  let a = 0;
  let b = 0;
  for (const byte of bytes) {
    a = (a + byte) % 255;
    b = (b + a) % 255;
  }
  return [a, b];
}

function encodeVarint(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return out;
}

function decodeVarint(bytes: Uint8Array): { value: number; length: number } | null {
  let value = 0;
  for (let i = 0; i < Math.min(bytes.length, 5); i++) {
    value |= (bytes[i] & 0x7f) << (7 * i);
    if ((bytes[i] & 0x80) === 0) return { value: value >>> 0, length: i + 1 };
  }
  return null;
}

/** Random bytes drawn 16 at a time from a pool filled in bulk (one system call per 256 ids). */
const randomPool = Buffer.alloc(RANDOM_BYTES * 256);
let randomPoolOffset = randomPool.length;

function nextRandomBytes(): Uint8Array {
  if (randomPoolOffset === randomPool.length) {
    randomFillSync(randomPool);
    randomPoolOffset = 0;
  }
  const bytes = randomPool.subarray(randomPoolOffset, randomPoolOffset + RANDOM_BYTES);
  randomPoolOffset += RANDOM_BYTES;
  return bytes;
}

export function newDocumentId(tableNumber: number): string {
  const varint = encodeVarint(tableNumber);
  const bytes = new Uint8Array(varint.length + RANDOM_BYTES + 2);
  bytes.set(varint, 0);
  bytes.set(nextRandomBytes(), varint.length);
  const [a, b] = fletcher16(bytes.subarray(0, bytes.length - 2));
  bytes[bytes.length - 2] = a;
  bytes[bytes.length - 1] = b;
  return base32Encode(bytes);
}

/** The table number an id belongs to, or null when the text is not a well-formed id. */
export function tableNumberOfId(id: string): number | null {
  if (typeof id !== "string" || id.length < 30 || id.length > 40) return null;
  const bytes = base32Decode(id);
  if (bytes === null || bytes.length < RANDOM_BYTES + 3) return null;
  const body = bytes.subarray(0, bytes.length - 2);
  const [a, b] = fletcher16(body);
  if (a !== bytes[bytes.length - 2] || b !== bytes[bytes.length - 1]) return null;
  const varint = decodeVarint(body);
  if (varint === null || varint.length + RANDOM_BYTES !== body.length) return null;
  return varint.value;
}
