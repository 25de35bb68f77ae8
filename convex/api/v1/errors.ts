/**
 * The REST API's one error format: `{ error: { code, message, param?, request_id } }`.
 *
 * Domain errors (`ConvexError` with an `AppErrorData` code from `convex/errors.ts`) keep their
 * code and take their HTTP status from `httpStatusForCode`, the platform's one table. The few
 * failures that only exist at the HTTP layer (wrong method, body too large, wrong content
 * type, malformed JSON, unexpected failure) have their own codes here. Anything else thrown
 * is a 500 `INTERNAL` whose message names the request id and nothing of the internals.
 *
 * Plain module: no registered functions.
 */
import { ConvexError } from "convex/values";
import { errorCodes, httpStatusForCode, isAppErrorData, type ErrorCode } from "../../errors";

/** Codes that only the HTTP layer produces. */
export const transportErrorCodes = {
  MALFORMED_JSON: 400,
  METHOD_NOT_ALLOWED: 405,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INTERNAL: 500,
} as const;

export type TransportErrorCode = keyof typeof transportErrorCodes;
export type ApiErrorCode = ErrorCode | TransportErrorCode;

export const apiErrorCodes = [...Object.keys(errorCodes), ...Object.keys(transportErrorCodes)] as ApiErrorCode[];

export function httpStatusForApiCode(code: ApiErrorCode): number {
  if (code in transportErrorCodes) return transportErrorCodes[code as TransportErrorCode];
  return httpStatusForCode(code as ErrorCode);
}

/** A failure the HTTP layer answers directly (before or instead of calling a function). */
export class ApiError extends Error {
  constructor(
    readonly code: ApiErrorCode,
    message: string,
    readonly param?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = "ApiError";
  }
  get status(): number {
    return httpStatusForApiCode(this.code);
  }
}

export type ErrorBody = { error: { code: ApiErrorCode; message: string; param?: string; request_id: string } };

export type ClassifiedError = { status: number; body: ErrorBody; headers: Record<string, string>; unexpected: boolean };

/**
 * Turns anything thrown while serving a request into the status and body to answer with.
 * `unexpected` is true for 500s, which the caller logs (with the request id) server-side.
 */
export function classifyError(error: unknown, requestId: string): ClassifiedError {
  if (error instanceof ApiError) {
    return {
      status: error.status,
      body: errorBody(error.code, error.message, requestId, error.param),
      headers: error.headers,
      unexpected: error.code === "INTERNAL",
    };
  }
  if (error instanceof ConvexError && isAppErrorData(error.data)) {
    const data = error.data;
    return {
      status: httpStatusForCode(data.code),
      body: errorBody(data.code, data.message, requestId, data.param),
      headers: {},
      unexpected: false,
    };
  }
  return {
    status: 500,
    body: errorBody("INTERNAL", `Something went wrong on our side. Quote request id ${requestId} to support.`, requestId),
    headers: {},
    unexpected: true,
  };
}

export function errorBody(code: ApiErrorCode, message: string, requestId: string, param?: string): ErrorBody {
  return { error: { code, message, ...(param !== undefined ? { param } : {}), request_id: requestId } };
}
