/**
 * The client's address as the platform's front proxy recorded it: one rule for every HTTP
 * action that limits by address (the REST API's failed authentications, api/v1/router.ts;
 * the accounts' front door, authTickets.ts).
 *
 * Plain module: no registered functions.
 */

/**
 * The last hop of X-Forwarded-For (earlier entries are whatever the client sent), else
 * X-Real-IP; "unknown" when neither is there (then all such requests share one address).
 */
export function clientAddressOf(request: Request): string {
  const forwarded = request.headers.get("x-forwarded-for");
  const last = forwarded?.split(",").map((s) => s.trim()).filter(Boolean).pop();
  const address = last ?? request.headers.get("x-real-ip")?.trim() ?? "";
  return address === "" ? "unknown" : address.slice(0, 64);
}
