/** JSON responses with one error shape for every refusal: `{ "error": { "code", "message", "issues"? } }`. */

export type ErrorBody = { error: { code: string; message: string; issues?: { path: string; message: string }[] } };

export function jsonResponse(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store", ...headers },
  });
}

export function errorResponse(
  status: number,
  code: string,
  message: string,
  extra: { issues?: { path: string; message: string }[]; headers?: Record<string, string> } = {},
): Response {
  const body: ErrorBody = { error: { code, message, ...(extra.issues ? { issues: extra.issues } : {}) } };
  return jsonResponse(status, body, extra.headers);
}
