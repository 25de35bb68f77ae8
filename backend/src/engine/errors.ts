/** An error whose message is shown to the caller as is (no "Uncaught" prefix). */
export class EngineError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "EngineError";
  }
}

/**
 * A value as Convex's error messages print it (`Display` of `ConvexValue` in
 * crates/value): strings quoted, floats always with a fraction, int64 bare.
 */
export function displayValue(value: unknown): string {
  if (value === undefined) return "undefined";
  if (value === null) return "null";
  if (typeof value === "string") return JSON.stringify(value);
  if (typeof value === "bigint") return String(value);
  if (typeof value === "number") return Number.isInteger(value) ? value.toFixed(1) : String(value);
  if (typeof value === "boolean") return String(value);
  if (value instanceof ArrayBuffer) return `b${JSON.stringify(Buffer.from(value).toString("base64"))}`;
  if (Array.isArray(value)) return `[${value.map(displayValue).join(", ")}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, field]) => field !== undefined);
  return `{${entries.map(([key, field]) => `${key}: ${displayValue(field)}`).join(", ")}}`;
}
