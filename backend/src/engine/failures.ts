/**
 * How a function's failure becomes the outcome a caller sees: the message (with Convex's
 * "Uncaught" prefix where Convex adds it) and a ConvexError's data. Shared by the engine and
 * the worker threads that run function code, so both report a failure the same way.
 */
import { convexToJson, type JSONValue, type Value } from "convex/values";
import { EngineError } from "./errors.js";
import type { CallOutcome } from "./types.js";

export type Failure = Extract<CallOutcome, { success: false }>;

/** The failure of a nested call, rethrown into the calling function. */
export interface NestedFailure extends Error {
  data?: JSONValue;
}

/** A failure already reported as an outcome (by a worker thread): passed on unchanged. */
export class ReportedFailure extends Error {
  constructor(
    readonly errorMessage: string,
    readonly errorData: JSONValue | undefined,
  ) {
    super(errorMessage);
    this.name = "ReportedFailure";
  }
}

export function isConvexErrorLike(error: unknown): error is { message: string; data: unknown } {
  return (
    typeof error === "object" &&
    error !== null &&
    ((error as { name?: string }).name === "ConvexError" || Symbol.for("ConvexError") in error) &&
    "data" in error
  );
}

export function failureFrom(error: unknown, logLines: string[]): Failure {
  if (error instanceof ReportedFailure) {
    const failure: Failure = { success: false, errorMessage: error.errorMessage, logLines };
    if (error.errorData !== undefined) failure.errorData = error.errorData;
    return failure;
  }
  if (isConvexErrorLike(error)) {
    let errorData: JSONValue;
    if (typeof error.data === "string" && (error as Record<symbol | string, unknown>).ConvexErrorSymbol !== undefined) {
      errorData = JSON.parse(error.data) as JSONValue; // serialized by convex's invokeFunction
    } else {
      errorData = convexToJson((error.data ?? null) as Value);
    }
    return { success: false, errorMessage: `Uncaught ConvexError: ${error.message}`, errorData, logLines };
  }
  if (error instanceof EngineError) return { success: false, errorMessage: error.message, logLines };
  if (isNestedFailure(error)) {
    const failure: Failure = { success: false, errorMessage: error.message, logLines };
    if (error.data !== undefined) failure.errorData = error.data;
    return failure;
  }
  if (error instanceof Error) {
    return { success: false, errorMessage: `Uncaught ${error.name || "Error"}: ${error.message}`, logLines };
  }
  return { success: false, errorMessage: `Uncaught ${String(error)}`, logLines };
}

const NESTED = Symbol("nestedFailure");
export function nestedFailure(failure: Failure): NestedFailure {
  // convex's performAsyncSyscall rethrows it as a new Error(message) (a ConvexError(message)
  // when it has `data`), which the caller reports as uncaught again: drop the first prefix.
  const message = failure.errorMessage.replace(/^Uncaught (ConvexError|Error): /, "");
  const error = new Error(message) as NestedFailure & { [NESTED]: true };
  if (failure.errorData !== undefined) error.data = failure.errorData;
  error[NESTED] = true;
  return error;
}

export function isNestedFailure(error: unknown): error is NestedFailure {
  return typeof error === "object" && error !== null && NESTED in error;
}

/** Convex's message for a function stopped at its time limit (isolate/src/termination.rs). */
export function timedOutMessage(limitMs: number): string {
  return `Function execution timed out (maximum duration: ${durationText(limitMs)})`;
}

/** A duration as Rust's `Duration` Debug prints it: "1s", "1.5s", "100ms". */
function durationText(ms: number): string {
  if (ms >= 1000) return `${ms / 1000}s`;
  return `${ms}ms`;
}
