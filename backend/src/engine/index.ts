/**
 * The local backend's engine. Servers use `openEngine(options)` and the `Engine` contract
 * in types.ts; tests and the harness may use the richer `LocalEngine` it returns.
 */
import type { EngineOptions } from "./types.js";
import { LocalEngine } from "./engine.js";

export type * from "./types.js";
export { LocalEngine } from "./engine.js";

export async function openEngine(options: EngineOptions): Promise<LocalEngine> {
  return await LocalEngine.open(options);
}
