/**
 * Convex refuses values nested more than 64 levels deep. JSON the HTTP actions parse
 * themselves (REST bodies, JSON query parameters) is measured here, without recursion, before
 * validation, hashing or a function call could recurse over a hostile value nested thousands of
 * levels deep and overflow the stack.
 */
export const MAX_JSON_NESTING = 64;

/** Levels of arrays and objects: 0 for a primitive, one more per level. */
export function jsonNesting(value: unknown): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (current === null || typeof current !== "object") {
      deepest = Math.max(deepest, depth);
      continue;
    }
    deepest = Math.max(deepest, depth + 1);
    for (const child of Array.isArray(current) ? current : Object.values(current)) stack.push([child, depth + 1]);
  }
  return deepest;
}

/** Convex's message for a value nested too deep, or null when it is within the limit. */
export function tooNestedMessage(value: unknown): string | null {
  const nesting = jsonNesting(value);
  if (nesting <= MAX_JSON_NESTING) return null;
  return `Value is too nested (nested ${nesting} levels deep > maximum nesting ${MAX_JSON_NESTING})`;
}
