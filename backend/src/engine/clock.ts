/**
 * The engine's monotonic clock, captured when the engine loads: test suites that fake
 * timers (vitest fakes `performance` too) move their own clock, but a function's time limit
 * is real execution time, as on Convex.
 */
export const monotonicNow: () => number = performance.now.bind(performance);

const timeOrigin = performance.timeOrigin;

/** Milliseconds since the epoch on the same real clock (comparable across threads). */
export function epochNow(): number {
  return timeOrigin + monotonicNow();
}
