/**
 * Order-preserving byte encoding of Convex values: for any two values a and b,
 * `Buffer.compare(encodeValue(a), encodeValue(b))` has the sign of `compareValues(a, b)`
 * from convex/values. Index keys are concatenations of encoded values, so SQLite's
 * memcmp order on a BLOB column is Convex's index order.
 *
 * Every encoding starts with a type tag whose order follows Convex's type order
 * (undefined < null < int64 < float64 < boolean < string < bytes < array < object)
 * and is self-delimiting, so a concatenation compares as a tuple.
 */
import type { Value } from "convex/values";

const TAG_UNDEFINED = 0x10;
const TAG_NULL = 0x20;
const TAG_INT64 = 0x30;
const TAG_FLOAT64 = 0x40;
const TAG_BOOLEAN = 0x50;
const TAG_STRING = 0x60;
const TAG_BYTES = 0x70;
const TAG_ARRAY = 0x80;
const TAG_OBJECT = 0x90;
/** Ends an array or object; smaller than every tag, so a prefix sorts first. */
const END = 0x00;
/** Appended to a key to form the smallest key greater than every key with that prefix. */
export const AFTER_PREFIX = 0xff;

// Float sub-classes: Convex orders negative NaNs first and positive NaNs last.
const FLOAT_NEGATIVE_NAN = 0x00;
const FLOAT_ORDINARY = 0x01;
const FLOAT_POSITIVE_NAN = 0x02;

class ByteWriter {
  private buffer = Buffer.allocUnsafe(64);
  private length = 0;

  private ensure(extra: number): void {
    if (this.length + extra <= this.buffer.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + extra));
    this.buffer.copy(next, 0, 0, this.length);
    this.buffer = next;
  }

  reset(): void {
    this.length = 0;
  }

  byte(b: number): void {
    this.ensure(1);
    this.buffer[this.length++] = b;
  }

  bytes(source: Uint8Array): void {
    this.ensure(source.length);
    this.buffer.set(source, this.length);
    this.length += source.length;
  }

  /** Bytes with 0x00 escaped as 0x00 0xFF and a 0x00 0x01 terminator (order-preserving). */
  escaped(source: Uint8Array): void {
    this.ensure(source.length * 2 + 2);
    for (let i = 0; i < source.length; i++) {
      const b = source[i];
      this.buffer[this.length++] = b;
      if (b === 0x00) this.buffer[this.length++] = 0xff;
    }
    this.buffer[this.length++] = 0x00;
    this.buffer[this.length++] = 0x01;
  }

  result(): Buffer {
    return Buffer.from(this.buffer.subarray(0, this.length));
  }
}

/**
 * UTF-8 bytes of a string, encoding lone surrogates as their own 3-byte sequences
 * (as convex/values' compareUTF8 does) instead of replacing them.
 */
export function utf8Bytes(text: string): Uint8Array {
  if (!/[\uD800-\uDFFF]/.test(text)) return Buffer.from(text, "utf8");
  const out: number[] = [];
  for (let i = 0; i < text.length; ) {
    const cp = text.codePointAt(i)!;
    i += cp > 0xffff ? 2 : 1;
    if (cp < 0x80) out.push(cp);
    else if (cp < 0x800) out.push(0xc0 | (cp >> 6), 0x80 | (cp & 63));
    else if (cp < 0x10000) out.push(0xe0 | (cp >> 12), 0x80 | ((cp >> 6) & 63), 0x80 | (cp & 63));
    else
      out.push(
        0xf0 | (cp >> 18),
        0x80 | ((cp >> 12) & 63),
        0x80 | ((cp >> 6) & 63),
        0x80 | (cp & 63),
      );
  }
  return Uint8Array.from(out);
}

const floatScratch = new DataView(new ArrayBuffer(8));
/** The scratch's bytes, copied into the key by ByteWriter.bytes. */
const floatScratchBytes = new Uint8Array(floatScratch.buffer);

function writeFloat(writer: ByteWriter, n: number): void {
  floatScratch.setFloat64(0, n);
  const bits = floatScratch.getBigUint64(0);
  const negative = (bits & 0x8000_0000_0000_0000n) !== 0n;
  if (Number.isNaN(n)) {
    // Convex compares NaNs of one sign by their signed 64-bit pattern, which for a
    // fixed sign is the unsigned order of the raw bits.
    writer.byte(negative ? FLOAT_NEGATIVE_NAN : FLOAT_POSITIVE_NAN);
    floatScratch.setBigUint64(0, bits);
  } else {
    writer.byte(FLOAT_ORDINARY);
    // IEEE total order: flip every bit of negatives, only the sign bit of positives.
    floatScratch.setBigUint64(0, negative ? ~bits & 0xffff_ffff_ffff_ffffn : bits | 0x8000_0000_0000_0000n);
  }
  writer.bytes(floatScratchBytes);
}

function writeInt64(writer: ByteWriter, n: bigint): void {
  floatScratch.setBigInt64(0, BigInt.asIntN(64, n));
  floatScratch.setUint8(0, floatScratch.getUint8(0) ^ 0x80);
  writer.bytes(floatScratchBytes);
}

function writeValue(writer: ByteWriter, value: Value | undefined): void {
  if (value === undefined) {
    writer.byte(TAG_UNDEFINED);
  } else if (value === null) {
    writer.byte(TAG_NULL);
  } else if (typeof value === "bigint") {
    writer.byte(TAG_INT64);
    writeInt64(writer, value);
  } else if (typeof value === "number") {
    writer.byte(TAG_FLOAT64);
    writeFloat(writer, value);
  } else if (typeof value === "boolean") {
    writer.byte(TAG_BOOLEAN);
    writer.byte(value ? 1 : 0);
  } else if (typeof value === "string") {
    writer.byte(TAG_STRING);
    writer.escaped(utf8Bytes(value));
  } else if (value instanceof ArrayBuffer) {
    writer.byte(TAG_BYTES);
    writer.escaped(new Uint8Array(value));
  } else if (Array.isArray(value)) {
    writer.byte(TAG_ARRAY);
    for (const element of value) writeValue(writer, element);
    writer.byte(END);
  } else if (typeof value === "object") {
    // Convex compares objects as the list of [key, value] pairs in sorted key order.
    writer.byte(TAG_OBJECT);
    for (const key of Object.keys(value).sort()) {
      const field = (value as Record<string, Value | undefined>)[key];
      writer.byte(TAG_ARRAY);
      writeValue(writer, key);
      writeValue(writer, field);
      writer.byte(END);
    }
    writer.byte(END);
  } else {
    throw new Error(`Cannot encode a ${typeof value} as an index key`);
  }
}

/** Encoding never re-enters itself, so one growable writer serves every key (result() copies). */
const sharedWriter = new ByteWriter();

export function encodeValue(value: Value | undefined): Buffer {
  sharedWriter.reset();
  writeValue(sharedWriter, value);
  return sharedWriter.result();
}

/** Encodes a tuple of values (an index key or a prefix of one). */
export function encodeTuple(values: (Value | undefined)[]): Buffer {
  sharedWriter.reset();
  for (const value of values) writeValue(sharedWriter, value);
  return sharedWriter.result();
}

/** The smallest byte string greater than every key that starts with `prefix`. */
export function afterPrefix(prefix: Buffer): Buffer {
  return Buffer.concat([prefix, Buffer.from([AFTER_PREFIX])]);
}

/** The smallest byte string greater than `key` itself. */
export function justAfter(key: Buffer): Buffer {
  return Buffer.concat([key, Buffer.from([0x00])]);
}
