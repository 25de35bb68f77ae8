/**
 * Convex refuses values nested more than 64 levels deep. Requests are checked here, without
 * recursion, before anything that recurses over a value (JSON.stringify, jsonToConvex,
 * validators) can overflow the stack on a hostile body nested thousands of levels deep.
 */
import type { JSONValue } from "convex/values";
import { MAX_VALUE_NESTING } from "../engine/limits.js";

/** Convex's nesting of a value (0 for primitives, one more per array or object level), counted iteratively. */
export function valueNesting(json: JSONValue | undefined): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[json, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (value === null || typeof value !== "object") {
      deepest = Math.max(deepest, depth);
      continue;
    }
    const children = Array.isArray(value) ? value : isEncodedScalar(value) ? null : Object.values(value);
    if (children === null) {
      deepest = Math.max(deepest, depth);
      continue;
    }
    deepest = Math.max(deepest, depth + 1);
    for (const child of children) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** `{$integer}`, `{$float}` and `{$bytes}` are scalars in Convex's JSON. */
function isEncodedScalar(value: object): boolean {
  const keys = Object.keys(value);
  return keys.length === 1 && (keys[0] === "$integer" || keys[0] === "$float" || keys[0] === "$bytes");
}

/** Convex's message for a value nested `nesting` levels deep, or null when that is within the limit. */
export function tooNestedMessageFor(nesting: number): string | null {
  if (nesting <= MAX_VALUE_NESTING) return null;
  return `Value is too nested (nested ${nesting} levels deep > maximum nesting ${MAX_VALUE_NESTING})`;
}

/** Convex's message for a value nested too deep, or null when it is within the limit. */
export function tooNestedMessage(json: JSONValue | undefined): string | null {
  return tooNestedMessageFor(valueNesting(json));
}
