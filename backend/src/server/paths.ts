/**
 * Function paths as clients send them ("messages:list", "messages.js:list", "dir/mod:fn",
 * "mod" for a default export), brought to the one form the engine knows: "module:function".
 */
const MODULE_PATH = /^[A-Za-z0-9_][A-Za-z0-9_\-./]*$/;
const FUNCTION_NAME = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

export class InvalidFunctionPathError extends Error {}

export function canonicalFunctionPath(udfPath: unknown): string {
  if (typeof udfPath !== "string" || udfPath.length === 0) {
    throw new InvalidFunctionPathError(`Invalid function path ${JSON.stringify(udfPath)}: expected "module:function"`);
  }
  const colon = udfPath.lastIndexOf(":");
  let modulePath = colon === -1 ? udfPath : udfPath.slice(0, colon);
  const functionName = colon === -1 ? "default" : udfPath.slice(colon + 1);
  if (modulePath.endsWith(".js")) modulePath = modulePath.slice(0, -3);
  if (!MODULE_PATH.test(modulePath) || modulePath.includes("..") || !FUNCTION_NAME.test(functionName)) {
    throw new InvalidFunctionPathError(`Invalid function path ${JSON.stringify(udfPath)}: expected "module:function"`);
  }
  return `${modulePath}:${functionName}`;
}

/** `/api/run/messages/list` names "messages:list"; the last segment is the function. */
export function functionPathFromRunRoute(route: string): string {
  const segments = route.split("/").filter((segment) => segment.length > 0);
  if (segments.length < 2) {
    throw new InvalidFunctionPathError(`Invalid function route "/api/run/${route}": expected /api/run/<module>/<function>`);
  }
  const functionName = segments.pop() as string;
  return canonicalFunctionPath(`${segments.join("/")}:${functionName}`);
}
