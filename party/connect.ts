/**
 * onBeforeConnect for every party: checks the room id against the party's scheme and, for
 * private parties, verifies the token and the caller's right to the room, then hands the
 * verified identity to the room in a header it sets itself (any copy sent by the client is
 * dropped first). The token is removed from the URL the room sees.
 */
import type * as Party from "partykit/server";
import { verifyAccessToken } from "./auth";
import { ConfigError, readAuthConfig } from "./env";
import { errorResponse } from "./http";
import { authorizeRoom, identitySchema, type Identity } from "./identity";
import { tryParseRoomId, type PartyName } from "./rooms";

export const IDENTITY_HEADER = "x-booking-identity";

function bearerToken(authorization: string | null): string | null {
  const match = authorization ? /^Bearer\s+(\S+)$/i.exec(authorization) : null;
  return match ? match[1] : null;
}

function forwardedRequest(req: Party.Request, url: URL): Request {
  const forwarded = new Request(url.toString(), req as unknown as Request);
  forwarded.headers.delete(IDENTITY_HEADER);
  forwarded.headers.delete("authorization");
  return forwarded;
}

/**
 * The workerd Request (Party.Request) and the DOM Request describe the same runtime object;
 * the two type libraries just disagree on details, hence the cast.
 */
function asPartyRequest(request: Request): Party.Request {
  return request as unknown as Party.Request;
}

export function connectionGuard(party: PartyName) {
  return async function onBeforeConnect(req: Party.Request, lobby: Party.Lobby): Promise<Party.Request | Response> {
    const room = tryParseRoomId(party, lobby.id);
    if (!room.ok) return errorResponse(400, "invalid_room", room.message);

    const url = new URL(req.url);
    const token = url.searchParams.get("token") ?? bearerToken(req.headers.get("authorization"));
    url.searchParams.delete("token");
    const forwarded = forwardedRequest(req, url);
    if (party === "availability") return asPartyRequest(forwarded);

    let authConfig;
    try {
      authConfig = readAuthConfig(lobby.env);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(`[${party}] ${error.message}`);
      return errorResponse(500, "misconfigured", error.message);
    }
    const verification = await verifyAccessToken(token, authConfig);
    if (!verification.ok) return errorResponse(verification.status, verification.code, verification.message);

    const access = authorizeRoom(verification.identity, room.key);
    if (!access.ok) return errorResponse(403, "forbidden", access.message);

    forwarded.headers.set(IDENTITY_HEADER, encodeURIComponent(JSON.stringify(verification.identity)));
    return asPartyRequest(forwarded);
  };
}

/** The identity onBeforeConnect attached, or null when there is none (public rooms). */
export function identityFromRequest(request: { headers: { get(name: string): string | null } }): Identity | null {
  const raw = request.headers.get(IDENTITY_HEADER);
  if (raw === null) return null;
  const parsed = identitySchema.safeParse(JSON.parse(decodeURIComponent(raw)));
  if (!parsed.success) throw new Error(`${IDENTITY_HEADER} header does not hold an identity`);
  return parsed.data;
}
