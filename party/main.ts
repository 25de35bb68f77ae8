/**
 * The project's main party. It has no rooms of its own: it answers the health check at
 * GET /health (used by start scripts and tests to know the server is up) and refuses
 * everything else with a JSON 404, so the only live endpoints are the entity parties.
 */
import type * as Party from "partykit/server";
import { errorResponse, jsonResponse } from "./http";
import { PARTY_NAMES } from "./rooms";

function notFound(): Response {
  return errorResponse(404, "not_found", `no such endpoint; rooms live under /parties/<${PARTY_NAMES.join("|")}>/<room>`);
}

export default class MainParty implements Party.Server {
  static onFetch(req: Party.Request): Response {
    const url = new URL(req.url);
    if (url.pathname === "/health" && req.method === "GET") return jsonResponse(200, { ok: true, parties: PARTY_NAMES });
    return notFound();
  }

  static onBeforeConnect(): Response {
    return notFound();
  }

  static onBeforeRequest(): Response {
    return notFound();
  }

  constructor(readonly room: Party.Room) {}

  onRequest(): Response {
    return notFound();
  }
}

MainParty satisfies Party.Worker;
